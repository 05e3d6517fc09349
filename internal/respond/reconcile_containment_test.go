package respond_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"

	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/respond"
)

const (
	malloryARN = "arn:aws:iam::123456789012:user/mallory"
	deployer   = "arn:aws:iam::123456789012:role/ci-deployer"
)

// containIAM is fakeAWS with the IAM state reconciliation reads: the users
// and their attached policies, the roles.
type containIAM struct {
	*fakeAWS
	users    map[string][]string // user → attached policy ARNs
	roles    map[string]bool
	readErr  error
	attached sync.Mutex
}

func newContainIAM() *containIAM {
	return &containIAM{fakeAWS: newFake(), users: map[string][]string{"mallory": nil}, roles: map[string]bool{"ci-deployer": true}}
}

func (f *containIAM) AttachUserPolicy(ctx context.Context, in *iam.AttachUserPolicyInput, o ...func(*iam.Options)) (*iam.AttachUserPolicyOutput, error) {
	out, err := f.fakeAWS.AttachUserPolicy(ctx, in, o...)
	if err == nil {
		f.attached.Lock()
		f.users[aws.ToString(in.UserName)] = append(f.users[aws.ToString(in.UserName)], aws.ToString(in.PolicyArn))
		f.attached.Unlock()
	}
	return out, err
}

func (f *containIAM) detach(user string) {
	f.attached.Lock()
	defer f.attached.Unlock()
	f.users[user] = nil
}

func (f *containIAM) ListAttachedUserPolicies(_ context.Context, in *iam.ListAttachedUserPoliciesInput, _ ...func(*iam.Options)) (*iam.ListAttachedUserPoliciesOutput, error) {
	if err := f.record("ListAttachedUserPolicies", aws.ToString(in.UserName)); err != nil {
		return nil, err
	}
	if f.readErr != nil {
		return nil, f.readErr
	}
	f.attached.Lock()
	defer f.attached.Unlock()
	ps, ok := f.users[aws.ToString(in.UserName)]
	if !ok {
		return nil, noSuchEntity("cannot be found")
	}
	out := &iam.ListAttachedUserPoliciesOutput{AttachedPolicies: []iamtypes.AttachedPolicy{{PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")}}}
	for _, p := range ps {
		out.AttachedPolicies = append(out.AttachedPolicies, iamtypes.AttachedPolicy{PolicyArn: aws.String(p)})
	}
	return out, nil
}

func (f *containIAM) GetRole(_ context.Context, in *iam.GetRoleInput, _ ...func(*iam.Options)) (*iam.GetRoleOutput, error) {
	if err := f.record("GetRole", aws.ToString(in.RoleName)); err != nil {
		return nil, err
	}
	if !f.roles[aws.ToString(in.RoleName)] {
		return nil, noSuchEntity("cannot be found")
	}
	return &iam.GetRoleOutput{Role: &iamtypes.Role{RoleName: in.RoleName}}, nil
}

func (f *containIAM) count(op string) int {
	n := 0
	for _, c := range f.ops() {
		if strings.HasPrefix(c, op+" ") {
			n++
		}
	}
	return n
}

// driftSink receives drift alerts.
type driftSink struct {
	mu      sync.Mutex
	reports []respond.ReconcileReport
}

func (d *driftSink) NotifyDrift(_ context.Context, r respond.ReconcileReport) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.reports = append(d.reports, r)
	return nil
}

func (d *driftSink) alerts() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.reports)
}

// containEngine is an engine with no trails to reconcile, so that only
// containment is checked.
func containEngine(t *testing.T, f *containIAM, sink *driftSink, env map[string]string, opts ...respond.Option) *respond.Engine {
	t.Helper()
	e := map[string]string{config.EnvTrails: ""}
	for k, v := range env {
		e[k] = v
	}
	opts = append([]respond.Option{respond.WithClock(func() time.Time { return now }), respond.WithDriftNotifier(sink)}, opts...)
	return respond.New(settings(t, e), f, f, f, opts...)
}

func stored(t *testing.T, s respond.ContainmentStore) []string {
	t.Helper()
	ps, err := s.Contained(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func checked(rep respond.ReconcileReport, what string) bool {
	return slices.ContainsFunc(rep.Checked, func(c string) bool { return strings.HasPrefix(c, what) })
}

// A user contained by the event path stays contained: a quarantine lifted
// with no event seen is attached again by reconciliation, and alerted once.
func TestReconcileKeepsUserContained(t *testing.T) {
	ctx := context.Background()
	f, sink := newContainIAM(), &driftSink{}
	e := containEngine(t, f, sink, nil)
	if _, err := e.Respond(ctx, event(t, "stoplogging-iamuser")); err != nil {
		t.Fatal(err)
	}

	rep, err := e.Reconcile(ctx)
	if err != nil || len(rep.Drifts) != 0 || !checked(rep, "containment of user mallory") {
		t.Fatalf("contained: err %v drifts %+v checked %q", err, rep.Drifts, rep.Checked)
	}

	f.detach("mallory") // no event delivered
	rep, err = e.Reconcile(ctx)
	if err != nil || len(rep.Drifts) != 1 || rep.Drifts[0].Resource != "user mallory" || !rep.Alerted {
		t.Fatalf("lifted: err %v drifts %+v alerted %v", err, rep.Drifts, rep.Alerted)
	}
	if got := f.count("AttachUserPolicy"); got != 2 {
		t.Errorf("AttachUserPolicy made %d times, want 2 (containment, repair)", got)
	}
	if o := rep.Outcomes; len(o) != 1 || o[0].Action.Kind != respond.KindAttachUserPolicy || o[0].Action.PolicyARN != denyAll || o[0].Status != respond.StatusDone {
		t.Errorf("repair outcomes %+v", o)
	}

	rep, err = e.Reconcile(ctx)
	if err != nil || len(rep.Drifts) != 0 || sink.alerts() != 1 {
		t.Errorf("repaired: err %v drifts %+v, %d alerts (want 1 in all)", err, rep.Drifts, sink.alerts())
	}
}

// A role's revocation removed with no event seen is written again, revoking
// what was issued until the repair.
func TestReconcileKeepsRoleContained(t *testing.T) {
	ctx := context.Background()
	f, sink := newContainIAM(), &driftSink{}
	e := containEngine(t, f, sink, nil)
	if _, err := e.Respond(ctx, event(t, "stoplogging-assumedrole")); err != nil {
		t.Fatal(err)
	}
	if rep, err := e.Reconcile(ctx); err != nil || len(rep.Drifts) != 0 || !checked(rep, "containment of role ci-deployer") {
		t.Fatalf("contained: err %v drifts %+v checked %q", err, rep.Drifts, rep.Checked)
	}

	f.mu.Lock()
	delete(f.rolePol, "ci-deployer")
	f.mu.Unlock()
	rep, err := e.Reconcile(ctx)
	if err != nil || len(rep.Drifts) != 1 || rep.Drifts[0].Resource != "role ci-deployer" || !rep.Alerted {
		t.Fatalf("lifted: err %v drifts %+v alerted %v", err, rep.Drifts, rep.Alerted)
	}
	if o := rep.Outcomes; len(o) != 1 || o[0].Action.Kind != respond.KindRevokeRoleSessions || o[0].Status != respond.StatusDone ||
		!o[0].Action.IssuedBefore.Equal(now.Add(time.Second)) {
		t.Errorf("repair outcomes %+v", o)
	}
	if rep, err := e.Reconcile(ctx); err != nil || len(rep.Drifts) != 0 {
		t.Errorf("repaired: err %v drifts %+v", err, rep.Drifts)
	}
}

// The ends of a containment that are no drift: the owners lifted it (the
// principal is allow-listed), or the principal is gone. Either drops the
// record, changes nothing and alerts no one. A principal that cannot be read
// is an error, neither drift nor success, and its record stays.
func TestReconcileContainmentEnds(t *testing.T) {
	accessDenied := &smithy.GenericAPIError{Code: "AccessDenied", Message: "not authorized"}
	for _, tc := range []struct {
		name     string
		env      map[string]string
		prepare  func(*containIAM)
		wantErr  string
		wantKept []string
	}{
		{name: "allow-listed", env: map[string]string{config.EnvAllow: malloryARN + "," + deployer}},
		{name: "gone", prepare: func(f *containIAM) { delete(f.users, "mallory"); delete(f.roles, "ci-deployer") }},
		{name: "read error", prepare: func(f *containIAM) { f.readErr = accessDenied; f.fail["GetRolePolicy"] = accessDenied },
			wantErr: "AccessDenied", wantKept: []string{deployer, malloryARN}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			f, sink, store := newContainIAM(), &driftSink{}, &respond.MemoryContainments{}
			if err := store.RecordContained(ctx, []string{malloryARN, deployer}); err != nil {
				t.Fatal(err)
			}
			if tc.prepare != nil {
				tc.prepare(f)
			}
			e := containEngine(t, f, sink, tc.env, respond.WithContainmentStore(store))
			rep, err := e.Reconcile(ctx)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || len(rep.Errors) != 2 || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("err %v, report errors %q, want %q", err, rep.Errors, tc.wantErr)
			}
			if len(rep.Drifts) != 0 || len(rep.Outcomes) != 0 || sink.alerts() != 0 {
				t.Errorf("drifts %+v outcomes %+v alerts %d, want none", rep.Drifts, rep.Outcomes, sink.alerts())
			}
			if got := stored(t, store); !slices.Equal(got, tc.wantKept) {
				t.Errorf("records left %q, want %q", got, tc.wantKept)
			}
			if !checked(rep, "containment of user mallory") || !checked(rep, "containment of role ci-deployer") {
				t.Errorf("checked %q", rep.Checked)
			}
		})
	}
}

// Without a table the memory of the execution environment is all there is:
// the engine that contained keeps the containment in place, a new one (a
// cold start) knows nothing of it. The responder says so when it starts
// (awsx.NewHandler).
func TestContainmentInMemoryOnlyWithoutTable(t *testing.T) {
	ctx := context.Background()
	f, sink := newContainIAM(), &driftSink{}
	e := containEngine(t, f, sink, nil)
	if _, err := e.Respond(ctx, event(t, "stoplogging-iamuser")); err != nil {
		t.Fatal(err)
	}
	f.detach("mallory")
	cold := containEngine(t, f, sink, nil)
	if rep, err := cold.Reconcile(ctx); err != nil || len(rep.Drifts) != 0 || checked(rep, "containment") {
		t.Errorf("cold start knows of a containment: err %v drifts %+v checked %q", err, rep.Drifts, rep.Checked)
	}
	if rep, err := e.Reconcile(ctx); err != nil || len(rep.Drifts) != 1 {
		t.Errorf("warm engine: err %v drifts %+v", err, rep.Drifts)
	}
}

// durableStore is a store outside the engine's memory (a table), which can
// fail.
type durableStore struct {
	respond.MemoryContainments
	err error
}

func (d *durableStore) RecordContained(ctx context.Context, ps []string) error {
	if d.err != nil {
		return d.err
	}
	return d.MemoryContainments.RecordContained(ctx, ps)
}

func (d *durableStore) Contained(ctx context.Context) ([]string, error) {
	if d.err != nil {
		return nil, d.err
	}
	return d.MemoryContainments.Contained(ctx)
}

func (d *durableStore) Where() string { return "table test" }

// With a table, the record is a contain-step outcome: reported, and a
// failure is a failed outcome (the event is retried) that neither stops the
// restore nor the alert. Dry-run records nothing.
func TestContainmentRecordIsAnOutcome(t *testing.T) {
	ctx := context.Background()
	recordOutcome := func(rep respond.Report) (respond.Outcome, bool) {
		for _, o := range rep.Outcomes {
			if o.Action.Kind == respond.KindRecordContainment {
				return o, true
			}
		}
		return respond.Outcome{}, false
	}

	f, store := newContainIAM(), &durableStore{}
	rep, err := containEngine(t, f, &driftSink{}, nil, respond.WithContainmentStore(store)).Respond(ctx, event(t, "stoplogging-iamuser"))
	o, ok := recordOutcome(rep)
	if err != nil || !ok || o.Status != respond.StatusDone || o.Action.Step != respond.StepContain || !slices.Equal(o.Action.Principals, []string{malloryARN}) {
		t.Fatalf("recorded: err %v outcome %+v", err, o)
	}
	if got := stored(t, &store.MemoryContainments); !slices.Equal(got, []string{malloryARN}) {
		t.Errorf("store holds %q", got)
	}
	if n := len(f.notified[0].Outcomes); n != 4 {
		t.Errorf("the alert saw %d outcomes, want 4 (restore, quarantine, key, record)", n)
	}

	f, store = newContainIAM(), &durableStore{err: errors.New("ProvisionedThroughputExceededException")}
	rep, err = containEngine(t, f, &driftSink{}, nil, respond.WithContainmentStore(store)).Respond(ctx, event(t, "stoplogging-iamuser"))
	o, ok = recordOutcome(rep)
	if err == nil || !ok || o.Status != respond.StatusFailed || !strings.Contains(o.Error, "ProvisionedThroughput") {
		t.Fatalf("failed record: err %v outcome %+v", err, o)
	}
	if f.count("AttachUserPolicy") != 1 || len(f.notified) != 1 {
		t.Errorf("a failed record stopped containment or the alert: %q", f.ops())
	}
	if _, ok := recordOutcome(f.notified[0]); !ok {
		t.Error("the alert does not say the record failed")
	}

	f, store = newContainIAM(), &durableStore{}
	rep, _ = containEngine(t, f, &driftSink{}, map[string]string{config.EnvMode: "dry-run"}, respond.WithContainmentStore(store)).Respond(ctx, event(t, "stoplogging-iamuser"))
	if o, _ := recordOutcome(rep); o.Status != respond.StatusDryRun || len(stored(t, &store.MemoryContainments)) != 0 {
		t.Errorf("dry-run: outcome %+v, store %q", o, stored(t, &store.MemoryContainments))
	}
}

// A store that cannot be read makes the run incomplete, said as an error.
func TestReconcileContainmentStoreUnreadable(t *testing.T) {
	store := &durableStore{err: errors.New("ResourceNotFoundException: table gone")}
	rep, err := containEngine(t, newContainIAM(), &driftSink{}, nil, respond.WithContainmentStore(store)).Reconcile(context.Background())
	if err == nil || len(rep.Errors) != 1 || !strings.Contains(rep.Errors[0], "table test") {
		t.Errorf("err %v, errors %q", err, rep.Errors)
	}
}

// containAccounts gives one containIAM per account (organization mode).
type containAccounts struct {
	mu   sync.Mutex
	byID map[string]*containIAM
}

func (c *containAccounts) Clients(_ context.Context, account string) (respond.Set, error) {
	return respond.Set{CloudTrail: c.account(account), IAM: c.account(account)}, nil
}

func (c *containAccounts) account(id string) *containIAM {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byID[id] == nil {
		c.byID[id] = newContainIAM()
	}
	return c.byID[id]
}

type listAccounts []respond.OrgAccount

func (l listAccounts) Accounts(context.Context) ([]respond.OrgAccount, error) { return l, nil }

// In organization mode the hub remembers the containments it made in each
// member, and the organization's reconciliation checks each in its own
// account, with that account's clients.
func TestOrgReconcileKeepsMembersContained(t *testing.T) {
	ctx := context.Background()
	const other = "222222222222"
	accts, sink := &containAccounts{byID: map[string]*containIAM{}}, &driftSink{}
	hub := newContainIAM()
	e := respond.New(settings(t, map[string]string{config.EnvHub: "true", config.EnvTrails: ""}), hub, hub, hub,
		respond.WithClock(func() time.Time { return now }), respond.WithClients(accts), respond.WithDriftNotifier(sink))
	if _, err := e.Respond(ctx, memberEvent(t, "stoplogging-iamuser", member)); err != nil {
		t.Fatal(err)
	}
	accts.account(member).detach("mallory")

	rep, err := e.ReconcileOrg(ctx, listAccounts{{ID: member}, {ID: other}}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if d := rep.Reconcile.Drifts; len(d) != 1 || !strings.Contains(d[0].Resource, "user mallory") {
		t.Fatalf("drifts %+v", d)
	}
	if n := accts.account(member).count("AttachUserPolicy"); n != 2 {
		t.Errorf("AttachUserPolicy in the member %d times, want 2 (containment, repair)", n)
	}
	if n := accts.account(other).count("ListAttachedUserPolicies"); n != 0 {
		t.Errorf("the member's containment was looked for in another account %d times", n)
	}
	if sink.alerts() != 1 {
		t.Errorf("%d drift alerts, want 1", sink.alerts())
	}
}
