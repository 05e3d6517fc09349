package respond

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/trailguard/trailguard/internal/catalog"
	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/trail"
)

// In organization mode one engine answers events from many accounts, and
// each action must run in the account the event came from. The engine asks
// a ClientProvider for that account's clients: the single-account engine has
// none and uses its own; the hub's provider assumes the member role there
// (internal/awsx). Everything else — classification, plan, the restore-first
// order, the alert — is the same code for every account.

// Set is the clients of one account.
type Set struct {
	CloudTrail CloudTrailAPI
	IAM        IAMAPI
	Resources  Resources
	// Name returns the account's name for alerts ("" when unknown); it is
	// called alongside the actions, never before the restore.
	Name func(context.Context) string
	// OUs are the organizational units the account sits in, when the
	// settings scope by OU (nil otherwise).
	OUs []string
	// Access checks that the account can be acted in (the member role can
	// be assumed); nil means always. It makes no call while cached
	// credentials are valid.
	Access func(context.Context) error
}

// ClientProvider gives the clients for an account. It is called once per
// event before any action, so it must not make a network call on a warm
// path: credentials are fetched lazily and cached by the clients.
type ClientProvider interface {
	Clients(ctx context.Context, account string) (Set, error)
}

// WithClients makes the engine act in each event's own account through p.
func WithClients(p ClientProvider) Option {
	return func(e *Engine) { e.accounts = &accountEngines{p: p} }
}

// accountEngines keeps one engine per account, so each keeps its own
// reconciliation memory and alias lookup.
type accountEngines struct {
	p  ClientProvider
	mu sync.Mutex
	m  map[string]*Engine
	// reconcilers and sets serve organization reconciliation; seen is its
	// memory of access and spoke drifts per account (orgreconcile.go).
	reconcilers map[string]*Engine
	sets        map[string]Set
	seen        map[string]map[string]bool
}

// errSkipped means the account is out of scope (TRAILGUARD_SKIP_ACCOUNTS).
var errSkipped = errors.New("the account is out of trailguard's scope")

// forAccount returns the engine that acts in account. When the account's
// clients cannot be had, it returns an engine whose every action fails with
// that reason, so the alert still goes (through the hub's notifier) and says
// why nothing was done.
func (e *Engine) forAccount(ctx context.Context, account string) (*Engine, error) {
	if e.accounts == nil {
		return e, nil
	}
	x := e.accounts
	x.mu.Lock()
	sub, ok := x.m[account]
	x.mu.Unlock()
	if ok {
		return sub, nil
	}
	set, err := x.p.Clients(ctx, account)
	if err != nil {
		sub := e.derived(Set{}, e.settings)
		sub.blocked = fmt.Errorf("no access to account %s: %w", account, err)
		return sub, nil
	}
	s := e.settings
	switch s.ScopeOf(account, set.OUs) {
	case config.ScopeSkip:
		return nil, errSkipped
	case config.ScopeDryRun:
		s.Mode = config.DryRun
	}
	sub = e.derived(set, s)
	// Containments are remembered in the hub's store, each under its
	// account; this engine checks its own account's only.
	sub.contained, sub.account = e.contained, account
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.m == nil {
		x.m = map[string]*Engine{}
	}
	if prev, ok := x.m[account]; ok {
		return prev, nil
	}
	x.m[account] = sub
	return sub, nil
}

func (e *Engine) derived(set Set, s config.Settings) *Engine {
	sub := New(s, set.CloudTrail, set.IAM, e.notifier, WithClock(e.now), WithResources(set.Resources), WithDriftNotifier(e.drift))
	if set.Name != nil {
		sub.alias = set.Name
	}
	return sub
}

// ScopedOut reports whether an error from Respond means the event's account
// is out of scope, so nothing was done on purpose.
func ScopedOut(err error) bool { return errors.Is(err, errSkipped) }

// eventAccount is the account an event happened in.
func eventAccount(ev trail.Event) string {
	return firstNonEmpty(ev.Record.RecipientAccountID, ev.Account)
}

// isMemberSelf reports whether the identity is the hub acting in a member
// account: a session of the member role that the hub named as its own. Only
// the hub's responder can assume that role (its trust names nothing else).
func isMemberSelf(id trail.Identity, s config.Settings) bool {
	if !s.Org.Hub || id.Type != "AssumedRole" {
		return false
	}
	role := firstNonEmpty(trail.RoleName(id.Issuer().ARN), trail.RoleName(id.ARN))
	return role == s.Org.MemberRoleName && lastSegment(id.ARN) == config.MemberSessionName
}

// isSpokeRule reports whether a rule name or ARN is one of the spoke's
// rules (catalog.SpokeRuleName), which forward a member's events to the hub.
func isSpokeRule(id string) bool {
	name := id
	if i := strings.LastIndex(id, "/"); i >= 0 {
		name = id[i+1:]
	}
	for _, r := range catalog.Rules() {
		if name == catalog.SpokeRuleName(r) {
			return true
		}
	}
	return false
}
