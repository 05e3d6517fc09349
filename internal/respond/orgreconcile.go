package respond

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/trailguard/trailguard/internal/catalog"
	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/parallel"
	"github.com/trailguard/trailguard/internal/trail"
)

// Organization reconciliation: what single-account reconciliation does for
// one account, done for every account of the organization, a few accounts
// at a time. In each account it checks that the hub can still act there
// (the member role can be assumed), that the spoke rules are there, enabled
// and forwarding to the hub's bus in every region, and the protected trails
// that account holds (an organization trail is held by the management
// account, or CloudTrail's delegated administrator). An account the hub
// cannot enter, or whose spoke was removed or changed, is tampering: an
// intruder who cannot stop the trail may try to blind the hub instead.

// OrgAccount is one account of the organization.
type OrgAccount struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// AccountLister lists the organization's accounts.
type AccountLister interface {
	Accounts(ctx context.Context) ([]OrgAccount, error)
}

// AccountReport is what reconciliation found in one account.
type AccountReport struct {
	Account OrgAccount    `json:"account"`
	Scope   config.Scope  `json:"scope"`
	Checked []string      `json:"checked"`
	Drifts  []Drift       `json:"drifts"`
	Errors  []string      `json:"errors,omitempty"`
	Took    time.Duration `json:"durationNs"`
}

// OrgReport is the account of one organization-wide reconciliation.
type OrgReport struct {
	Started  time.Time       `json:"started"`
	Duration time.Duration   `json:"durationNs"`
	Accounts []AccountReport `json:"accounts"`
	// Drifts and outcomes of every account, as one report for the alert:
	// each drift's resource names its account.
	Reconcile ReconcileReport `json:"reconcile"`
}

// ReconcileOrg reconciles every account the lister gives, concurrency at a
// time. The error is non-nil when the accounts could not be listed, an
// account could not be read, or a repair failed.
func (e *Engine) ReconcileOrg(ctx context.Context, lister AccountLister, concurrency int) (OrgReport, error) {
	rep := OrgReport{Started: e.now()}
	rep.Reconcile = ReconcileReport{Started: rep.Started, Mode: e.settings.Mode}
	accounts, err := lister.Accounts(ctx)
	if err != nil {
		rep.Reconcile.Errors = append(rep.Reconcile.Errors, "list accounts: "+describeErr(err))
		return rep, fmt.Errorf("reconcile organization: list accounts: %w", err)
	}
	sort.Slice(accounts, func(i, j int) bool { return accounts[i].ID < accounts[j].ID })
	if concurrency < 1 {
		concurrency = config.DefaultOrgConcurrency
	}
	rep.Accounts = make([]AccountReport, len(accounts))
	outcomes := make([][]Outcome, len(accounts))
	parallel.Each(len(accounts), concurrency, func(i int) {
		rep.Accounts[i], outcomes[i] = e.reconcileAccount(ctx, accounts[i])
	})

	var errs []error
	all := &rep.Reconcile
	for i, ar := range rep.Accounts {
		label := accountLabel(ar.Account)
		for _, d := range ar.Drifts {
			d.Resource = label + ": " + d.Resource
			all.Drifts = append(all.Drifts, d)
		}
		for _, c := range ar.Checked {
			all.Checked = append(all.Checked, label+": "+c)
		}
		for _, x := range ar.Errors {
			all.Errors = append(all.Errors, label+": "+x)
			errs = append(errs, errors.New(label+": "+x))
		}
		for _, o := range outcomes[i] {
			all.Outcomes = append(all.Outcomes, o)
			if o.Status == StatusFailed {
				errs = append(errs, fmt.Errorf("%s: %s: %s", label, o.Action, o.Error))
			}
		}
	}
	if len(all.NewDrifts()) > 0 {
		all.Duration = e.now().Sub(rep.Started)
		if err := e.notifyDrift(ctx, *all); err != nil {
			errs = append(errs, fmt.Errorf("drift alert: %w", err))
		} else {
			all.Alerted = true
		}
	}
	rep.Duration = e.now().Sub(rep.Started)
	all.Duration = rep.Duration
	if len(errs) > 0 {
		return rep, fmt.Errorf("reconcile organization: %w", errors.Join(errs...))
	}
	return rep, nil
}

func accountLabel(a OrgAccount) string {
	if a.Name != "" {
		return "account " + a.ID + " (" + a.Name + ")"
	}
	return "account " + a.ID
}

// reconcileAccount checks one account; drifts are repaired by the account's
// own engine, whose memory of seen drifts lasts across runs.
func (e *Engine) reconcileAccount(ctx context.Context, a OrgAccount) (AccountReport, []Outcome) {
	t0 := time.Now()
	ar := AccountReport{Account: a, Scope: config.ScopeEnforce}
	sub, set, err := e.reconcilerFor(ctx, a.ID)
	switch {
	case errors.Is(err, errSkipped):
		ar.Scope = config.ScopeSkip
		return ar, nil
	case err != nil:
		ar.Errors = append(ar.Errors, describeErr(err))
		return ar, nil
	}
	ar.Scope = config.Scope(sub.settings.Mode)
	var drifts []Drift
	if set.Access != nil {
		ar.Checked = append(ar.Checked, "member role "+e.settings.Org.MemberRoleName)
		if err := set.Access(ctx); err != nil {
			drifts = append(drifts, Drift{Resource: "member role " + e.settings.Org.MemberRoleName, Field: "access",
				Want: "assumable by the hub", Got: "refused: " + describeErr(err),
				Actions: []Action{manual(StepRestore, e.settings.Org.MemberRoleName,
					"the hub cannot act in this account: check the member role and its trust (redeploy the spoke: the StackSet instance, or the management account's spoke stack) and find out who changed it")}})
			ar.Drifts = e.accounts.markNew(a.ID, drifts)
			ar.Took = time.Since(t0)
			return ar, nil
		}
	}
	if set.Resources.Events != nil && e.hubAccount() != a.ID {
		for _, region := range e.orgRegions() {
			ds, checked, err := e.spokeDrift(ctx, set.Resources.Events, region)
			drifts = append(drifts, ds...)
			ar.Checked = append(ar.Checked, checked...)
			if err != nil {
				ar.Errors = append(ar.Errors, describeErr(err))
			}
		}
	}
	// The trails this account holds, by the reconciliation of one account.
	trails, err := sub.Reconcile(ctx)
	ar.Checked = append(ar.Checked, trails.Checked...)
	drifts = append(drifts, trails.Drifts...)
	ar.Errors = append(ar.Errors, trails.Errors...)
	var outcomes []Outcome
	outcomes = append(outcomes, trails.Outcomes...)
	_ = err // the trails' errors are in trails.Errors and their outcomes

	// The spoke's and the access drifts are remembered with the trails'
	// (Reconcile marked its own already).
	spoke := e.accounts.markNew(a.ID, drifts[:len(drifts)-len(trails.Drifts)])
	for _, d := range spoke {
		for _, act := range d.Actions {
			outcomes = append(outcomes, sub.run(ctx, act))
		}
	}
	ar.Drifts = append(spoke, trails.Drifts...)
	ar.Took = time.Since(t0)
	return ar, outcomes
}

// reconcilerFor returns the engine that reconciles one account: its clients,
// its scope, and only the baselines of the trails it holds (a trail named by
// ARN is held by the ARN's account; a trail named by name is the hub's own).
func (e *Engine) reconcilerFor(ctx context.Context, account string) (*Engine, Set, error) {
	if e.accounts == nil {
		return nil, Set{}, errors.New("organization reconciliation needs per-account clients (hub mode)")
	}
	x := e.accounts
	x.mu.Lock()
	sub, ok := x.reconcilers[account]
	set := x.sets[account]
	x.mu.Unlock()
	if ok {
		return sub, set, nil
	}
	set, err := x.p.Clients(ctx, account)
	if err != nil {
		return nil, Set{}, fmt.Errorf("no access to account %s: %w", account, err)
	}
	s := e.settings
	switch s.ScopeOf(account, set.OUs) {
	case config.ScopeSkip:
		return nil, Set{}, errSkipped
	case config.ScopeDryRun:
		s.Mode = config.DryRun
	}
	s.Trails = nil
	for _, t := range e.settings.Trails {
		holder := trail.ParseTrailRef(t.Name).Account
		if holder == account || (holder == "" && account == e.hubAccount()) {
			s.Trails = append(s.Trails, t)
		}
	}
	if account != e.hubAccount() {
		// The hub's own rules, log group and alarms live in the hub.
		s.Rules, s.LogGroupName, s.Alarms = nil, "", nil
	}
	sub = e.derived(set, s)
	// The organization's run sends one alert for every account.
	sub.drift = laterDrift{}
	// The containments the hub made in this account (reconcile_containment.go).
	sub.contained, sub.account = e.contained, account
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.reconcilers == nil {
		x.reconcilers, x.sets = map[string]*Engine{}, map[string]Set{}
	}
	if prev, ok := x.reconcilers[account]; ok {
		return prev, x.sets[account], nil
	}
	x.reconcilers[account], x.sets[account] = sub, set
	return sub, set, nil
}

func (e *Engine) hubAccount() string { return accountOf(e.settings.SelfRoleARN, e.settings.TopicARN) }

func (e *Engine) orgRegions() []string {
	if len(e.settings.Org.Regions) > 0 {
		return e.settings.Org.Regions
	}
	if a, ok := trail.ParseARN(e.settings.TopicARN); ok && a.Region != "" {
		return []string{a.Region}
	}
	return []string{catalog.GlobalRegion}
}

// spokeDrift checks the spoke's rules in one region: each exists, is
// enabled and forwards to the hub's bus.
func (e *Engine) spokeDrift(ctx context.Context, api EventsAPI, region string) ([]Drift, []string, error) {
	inR := func(o *eventbridge.Options) { setRegion(&o.Region, region) }
	var ds []Drift
	var checked []string
	var errs []error
	for _, r := range catalog.SpokeRulesIn(region) {
		name := catalog.SpokeRuleName(r)
		res := "spoke rule " + name + " (" + region + ")"
		checked = append(checked, res)
		redeploy := "the spoke's rule " + name + " in " + region + " %s: the hub no longer sees " + r.EventSource +
			" tampering in this account; redeploy the spoke (the StackSet instance) and find out who changed it"
		out, err := api.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String(name)}, inR)
		if errorCode(err) == "ResourceNotFoundException" {
			ds = append(ds, Drift{Resource: res, Field: "rule", Want: "exists", Got: "deleted",
				Actions: []Action{manual(StepRestore, name, fmt.Sprintf(redeploy, "is gone"))}})
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("read %s: %w", res, err))
			continue
		}
		if out.State == ebtypes.RuleStateDisabled {
			ds = append(ds, Drift{Resource: res, Field: "state", Want: "ENABLED", Got: "DISABLED",
				Actions: []Action{{Step: StepRestore, Kind: KindEnableRule, Target: name, Region: region, Reason: "the spoke rule was disabled"}}})
		}
		if p := aws.ToString(out.EventPattern); p != "" && !samePattern(p, r.Pattern.JSON()) {
			ds = append(ds, Drift{Resource: res, Field: "pattern", Want: "the catalog's", Got: "changed",
				Actions: []Action{manual(StepRestore, name, fmt.Sprintf(redeploy, "has another pattern"))}})
		}
		ts, err := api.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String(name)}, inR)
		if err != nil {
			errs = append(errs, fmt.Errorf("read targets of %s: %w", res, err))
			continue
		}
		var toHub bool
		for _, t := range ts.Targets {
			if e.isHubBus(aws.ToString(t.Arn)) {
				toHub = true
			}
		}
		if !toHub {
			ds = append(ds, Drift{Resource: res, Field: "targets", Want: "the hub's bus", Got: fmt.Sprintf("%d other target(s)", len(ts.Targets)),
				Actions: []Action{manual(StepRestore, name, fmt.Sprintf(redeploy, "no longer forwards to the hub"))}})
		}
	}
	return ds, checked, errors.Join(errs...)
}

func (e *Engine) isHubBus(arn string) bool {
	a, ok := trail.ParseARN(arn)
	return ok && a.Service == "events" && a.Resource == "event-bus/"+config.HubBusName && a.Account == e.hubAccount()
}

// samePattern compares two event patterns ignoring key order and spacing.
func samePattern(a, b string) bool {
	return canonicalJSON(a) == canonicalJSON(b)
}

// markNew flags an account's access and spoke drifts not seen by its
// previous run (Reconcile keeps the trails' memory itself).
func (x *accountEngines) markNew(account string, ds []Drift) []Drift {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.seen == nil {
		x.seen = map[string]map[string]bool{}
	}
	seen := make(map[string]bool, len(ds))
	for i := range ds {
		k := ds[i].key()
		ds[i].New = !x.seen[account][k]
		seen[k] = true
	}
	x.seen[account] = seen
	return ds
}

func canonicalJSON(s string) string {
	var v any
	if json.Unmarshal([]byte(s), &v) != nil {
		return s
	}
	b, _ := json.Marshal(v) // maps marshal with sorted keys
	return string(b)
}

// laterDrift takes an account's drift alert and sends nothing: the
// organization's run alerts once for every account (ReconcileOrg).
type laterDrift struct{}

func (laterDrift) NotifyDrift(context.Context, ReconcileReport) error { return nil }
