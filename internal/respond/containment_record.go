package respond

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/trailguard/trailguard/internal/trail"
)

// Containment is remembered. An intruder who lifts a containment while the
// event is lost, or while the rule is off, would otherwise keep the freedom
// for good: the event path never sees the lift, and reconciliation does not
// know whom trailguard contained. So each containment (the quarantine
// attached to a user, the sessions of a role revoked) is recorded in a
// ContainmentStore, and reconciliation checks every recorded principal
// (reconcile_containment.go). The store must outlive the execution
// environment: the DynamoDB table events are claimed in (internal/dedup) is
// one. Without a table, the engine remembers in memory, which a cold start
// forgets; the responder says so once when it starts.
//
// The record is written alongside containment, never before the restore and
// never instead of the alert: it is one more contain-step outcome, reported
// like the others (a failed record is a failed outcome, so the event is
// retried and the alert says so). It names the principals trailguard set out
// to contain, so a containment that failed is found missing by the next
// reconciliation and tried again.

// ContainmentStore remembers the principals trailguard contained, by ARN
// (arn:aws:iam::<account>:user/<name> or :role/<name>).
type ContainmentStore interface {
	// RecordContained adds principals to the record (idempotent).
	RecordContained(ctx context.Context, principals []string) error
	// Contained returns every recorded principal.
	Contained(ctx context.Context) ([]string, error)
	// ForgetContained drops a principal from the record (idempotent).
	ForgetContained(ctx context.Context, principal string) error
	// Where names the store for people ("DynamoDB table x").
	Where() string
}

// WithContainmentStore sets where containments are remembered. Without it
// the engine remembers them in memory (MemoryContainments).
func WithContainmentStore(s ContainmentStore) Option { return func(e *Engine) { e.contained = s } }

// KindRecordContainment records the principals an event's actions contain
// (Action.Principals) in the ContainmentStore.
const KindRecordContainment Kind = "record-containment"

// recordTimeout bounds the record, so that a store that does not answer
// cannot hold the alert back (it waits for the contain step).
const recordTimeout = 5 * time.Second

// MemoryContainments is a ContainmentStore in the execution environment's
// memory: what an engine has without a table. A cold start forgets it.
type MemoryContainments struct {
	mu  sync.Mutex
	set map[string]bool
}

// RecordContained implements ContainmentStore.
func (m *MemoryContainments) RecordContained(_ context.Context, principals []string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.set == nil {
		m.set = map[string]bool{}
	}
	for _, p := range principals {
		m.set[p] = true
	}
	return nil
}

// Contained implements ContainmentStore.
func (m *MemoryContainments) Contained(context.Context) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]string, 0, len(m.set))
	for p := range m.set {
		out = append(out, p)
	}
	slices.Sort(out)
	return out, nil
}

// ForgetContained implements ContainmentStore.
func (m *MemoryContainments) ForgetContained(_ context.Context, principal string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.set, principal)
	return nil
}

// Where implements ContainmentStore.
func (m *MemoryContainments) Where() string {
	return "this execution environment's memory only (no table: a cold start forgets it)"
}

// recordAction plans the record of the principals the actions contain: the
// quarantine attached to a user, a role's sessions revoked, whether as
// containment of the actor or as the restore of a lifted containment. ok is
// false when there is none to record.
func recordAction(actions []Action, quarantine, account string, store ContainmentStore) (Action, bool) {
	var ps []string
	for _, a := range actions {
		switch {
		case a.Kind == KindAttachUserPolicy && a.PolicyARN == quarantine && a.UserName != "":
			ps = append(ps, PrincipalARN(account, "user", a.UserName))
		case a.Kind == KindRevokeRoleSessions && a.RoleName != "":
			ps = append(ps, PrincipalARN(account, "role", a.RoleName))
		}
	}
	if len(ps) == 0 || store == nil {
		return Action{}, false
	}
	slices.Sort(ps)
	ps = slices.Compact(ps)
	return Action{Step: StepContain, Kind: KindRecordContainment, Target: strings.Join(ps, ", "), Principals: ps,
		Reason: "remember the containment in " + store.Where() + ", so that reconciliation keeps it in place"}, true
}

// PrincipalARN is how a contained principal is recorded (and matched
// against the allow list): arn:aws:iam::<account>:<kind>/<name>.
func PrincipalARN(account, kind, name string) string {
	return "arn:aws:iam::" + account + ":" + kind + "/" + name
}

// recordContained makes the record of a KindRecordContainment action.
func (e *Engine) recordContained(ctx context.Context, a Action) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, recordTimeout)
	defer cancel()
	return "", e.contained.RecordContained(ctx, a.Principals)
}

// parsePrincipal splits a recorded principal's ARN into account, kind
// ("user" or "role") and name; ok is false for anything else.
func parsePrincipal(arn string) (account, kind, name string, ok bool) {
	a, ok := trail.ParseARN(arn)
	if !ok || a.Service != "iam" {
		return "", "", "", false
	}
	kind, name, ok = strings.Cut(a.Resource, "/")
	if !ok || name == "" || (kind != "user" && kind != "role") {
		return "", "", "", false
	}
	return a.Account, kind, name[strings.LastIndexByte(name, '/')+1:], true
}
