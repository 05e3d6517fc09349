package respond_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/respond"
	"github.com/trailguard/trailguard/internal/samples"
	"github.com/trailguard/trailguard/internal/trail"
)

const member = "111111111111"

// fakeAccounts gives one fakeAWS per account and counts the lookups.
type fakeAccounts struct {
	mu      sync.Mutex
	byID    map[string]*fakeAWS
	names   map[string]string
	ous     map[string][]string
	fail    map[string]error
	lookups int
}

func (f *fakeAccounts) Clients(_ context.Context, account string) (respond.Set, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lookups++
	if err := f.fail[account]; err != nil {
		return respond.Set{}, err
	}
	c, ok := f.byID[account]
	if !ok {
		c = newFake()
		f.byID[account] = c
	}
	name := f.names[account]
	return respond.Set{CloudTrail: c, IAM: c, OUs: f.ous[account], Name: func(context.Context) string { return name }}, nil
}

func (f *fakeAccounts) account(id string) *fakeAWS {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.byID[id]
}

// memberEvent is a sample event moved into another account, as the hub's bus
// receives it from that account's spoke rule.
func memberEvent(t *testing.T, name, account string, replace ...string) trail.Event {
	t.Helper()
	b, err := samples.Event(name)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.ReplaceAll(string(b), "123456789012", account)
	for i := 0; i+1 < len(replace); i += 2 {
		s = strings.ReplaceAll(s, replace[i], replace[i+1])
	}
	ev, err := trail.Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func hubEngine(t *testing.T, env map[string]string) (*respond.Engine, *fakeAWS, *fakeAccounts) {
	t.Helper()
	base := map[string]string{config.EnvHub: "true"}
	for k, v := range env {
		base[k] = v
	}
	hub := newFake()
	accts := &fakeAccounts{byID: map[string]*fakeAWS{}, names: map[string]string{member: "payments-prod"}, ous: map[string][]string{}, fail: map[string]error{}}
	e := respond.New(settings(t, base), hub, hub, hub, respond.WithClock(func() time.Time { return now }), respond.WithClients(accts))
	return e, hub, accts
}

func TestHubActsInTheEventsAccount(t *testing.T) {
	e, hub, accts := hubEngine(t, nil)
	rep, err := e.Respond(context.Background(), memberEvent(t, "stoplogging-iamuser", member))
	if err != nil {
		t.Fatal(err)
	}
	m := accts.account(member)
	if m == nil {
		t.Fatal("no clients asked for the member account")
	}
	got := strings.Join(m.ops(), "; ")
	for _, want := range []string{"StartLogging arn:aws:cloudtrail:us-east-1:" + member + ":trail/management-trail@us-east-1", "AttachUserPolicy mallory", "UpdateAccessKey"} {
		if !strings.Contains(got, want) {
			t.Errorf("member calls %q lack %q", got, want)
		}
	}
	// The hub's own clients only notify: nothing is restored in the wrong account.
	if ops := hub.ops(); len(ops) != 1 || ops[0] != "Notify" {
		t.Errorf("hub calls %q, want only the alert", ops)
	}
	if rep.AccountAlias != "payments-prod" || rep.Event.Record.RecipientAccountID != member {
		t.Errorf("report names account %q (%q), want %s (payments-prod)", rep.Event.Record.RecipientAccountID, rep.AccountAlias, member)
	}
	// A second event from the account reuses its clients.
	if _, err := e.Respond(context.Background(), memberEvent(t, "stoplogging-iamuser", member)); err != nil {
		t.Fatal(err)
	}
	if accts.lookups != 1 {
		t.Errorf("clients looked up %d times for two events, want 1", accts.lookups)
	}
}

func TestHubWithoutAccessFailsEveryActionAndStillAlerts(t *testing.T) {
	e, hub, accts := hubEngine(t, nil)
	accts.fail[member] = errors.New("AccessDenied: not authorized to perform sts:AssumeRole")
	rep, err := e.Respond(context.Background(), memberEvent(t, "stoplogging-iamuser", member))
	if err == nil {
		t.Fatal("no error although nothing could be done")
	}
	var notified bool
	for _, o := range rep.Outcomes {
		switch o.Action.Step {
		case respond.StepNotify:
			notified = o.Status == respond.StatusDone
		default:
			if o.Status != respond.StatusFailed || !strings.Contains(o.Error, "no access to account "+member) || !strings.Contains(o.Error, "AssumeRole") {
				t.Errorf("%s: %s %q, want failed naming the account and the cause", o.Action, o.Status, o.Error)
			}
		}
	}
	if !notified || len(hub.notified) != 1 {
		t.Errorf("the alert was not sent through the hub")
	}
	// The failure is not remembered: the next event tries again.
	delete(accts.fail, member)
	if _, err := e.Respond(context.Background(), memberEvent(t, "stoplogging-iamuser", member)); err != nil {
		t.Errorf("after access came back: %v", err)
	}
}

func TestHubScopes(t *testing.T) {
	const sandbox, skipped = "222222222222", "333333333333"
	e, hub, accts := hubEngine(t, map[string]string{
		config.EnvDryRunAccounts: "ou-ab12-sandbox1",
		config.EnvSkipAccounts:   skipped,
	})
	accts.ous[sandbox] = []string{"ou-ab12-sandbox1"}

	rep, err := e.Respond(context.Background(), memberEvent(t, "stoplogging-iamuser", sandbox))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Mode != config.DryRun {
		t.Errorf("account in a dry-run OU answered in %s", rep.Mode)
	}
	if ops := accts.account(sandbox).ops(); len(ops) != 0 {
		t.Errorf("dry-run account changed: %q", ops)
	}

	rep, err = e.Respond(context.Background(), memberEvent(t, "stoplogging-iamuser", skipped))
	if err != nil || !rep.OutOfScope || len(rep.Outcomes) != 0 {
		t.Errorf("skipped account: out of scope %v, outcomes %d, err %v", rep.OutOfScope, len(rep.Outcomes), err)
	}
	if n := len(hub.notified); n != 1 {
		t.Errorf("%d alerts, want 1 (the dry-run account's; none for the skipped one)", n)
	}
}

func TestHubsOwnSessionsInMembersAreSelf(t *testing.T) {
	e, hub, _ := hubEngine(t, nil)
	own := memberEvent(t, "startlogging", member,
		"platform-admin/ops-session", "TrailguardMember/"+config.MemberSessionName,
		"role/platform-admin", "role/TrailguardMember", `"userName": "platform-admin"`, `"userName": "TrailguardMember"`)
	rep, err := e.Respond(context.Background(), own)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Plan.Classification.Self || !rep.Plan.Quiet || len(hub.notified) != 0 {
		t.Errorf("the hub's own restore in a member: self %v, quiet %v, alerts %d; want a quiet self event", rep.Plan.Classification.Self, rep.Plan.Quiet, len(hub.notified))
	}
	// Another session of the member role is not the hub.
	other := memberEvent(t, "stoplogging-assumedrole", member, "ci-deployer/mallory-session", "TrailguardMember/mallory", "role/ci-deployer", "role/TrailguardMember")
	if c := e.Plan(other).Classification; c.Self {
		t.Errorf("session %s counted as the hub", c.Actor.ARN)
	}
}

func TestDeploymentPrincipalsAreNotFoughtInHubMode(t *testing.T) {
	ev := memberEvent(t, "stoplogging-assumedrole", member, "ci-deployer", "stacksets-exec-0123456789abcdef")
	for _, hub := range []string{"true", "false"} {
		s := settings(t, map[string]string{config.EnvHub: hub})
		p := respond.NewPlan(respond.Classify(ev, s), s, now)
		var acts []string
		for _, a := range p.Actions {
			if a.Step != respond.StepNotify {
				acts = append(acts, string(a.Kind))
			}
		}
		if hub == "true" && len(acts) != 0 {
			t.Errorf("hub mode: the StackSets execution role's change is fought: %q", acts)
		}
		if hub == "false" && len(acts) == 0 {
			t.Errorf("single-account mode changed: the StackSets role's StopLogging is no longer restored")
		}
	}
}

func TestSpokeRulesAreProtectedInHubMode(t *testing.T) {
	e, hub, accts := hubEngine(t, nil)
	ev := memberEvent(t, "events-disablerule", member, "trailguard-cloudtrail-tamper", "trailguard-spoke-cloudtrail")
	rep, err := e.Respond(context.Background(), ev)
	// The fake member has no EventBridge client: the restore fails there
	// (not in the hub), and the failure is the response's error.
	if err == nil || !strings.Contains(err.Error(), "enable-rule trailguard-spoke-cloudtrail") {
		t.Fatalf("error %v, want the member's enable-rule failing", err)
	}
	var kinds []string
	for _, o := range rep.Outcomes {
		kinds = append(kinds, string(o.Action.Kind)+":"+string(o.Status))
	}
	if !rep.Plan.Classification.Target.Protected || len(hub.notified) != 1 {
		t.Errorf("disabling a member's spoke rule: protected %v, alerts %d, outcomes %q", rep.Plan.Classification.Target.Protected, len(hub.notified), kinds)
	}
	if accts.account(member) == nil || !strings.Contains(strings.Join(kinds, " "), "enable-rule:failed") {
		t.Errorf("no enable-rule in the member: %q", kinds)
	}
	// In single-account mode another account's rule of that name is not ours.
	s := settings(t, nil)
	if respond.Classify(ev, s).Target.Protected {
		t.Error("single-account mode protects a spoke rule name")
	}
}
