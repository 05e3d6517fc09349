package awsx_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/trailguard/trailguard/internal/awsx"
	"github.com/trailguard/trailguard/internal/catalog"
	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/respond"
	"github.com/trailguard/trailguard/internal/testworld/orgemu"
)

type driftInbox struct {
	mu  sync.Mutex
	got []respond.ReconcileReport
}

func (d *driftInbox) NotifyDrift(_ context.Context, r respond.ReconcileReport) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.got = append(d.got, r)
	return nil
}

// hubOn builds the hub's engine as NewHandler does, against an organization.
func hubOn(t *testing.T, w *orgemu.World, inbox *driftInbox) (*respond.Engine, awsx.OrgAccounts) {
	t.Helper()
	env := w.Settings("arn:aws:sns:us-east-1:" + w.Hub + ":trailguard-alerts")
	s, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	cfg := w.Org.Config(w.HubCreds)
	hub := awsx.NewClients(cfg)
	orgs := organizations.NewFromConfig(cfg)
	e := awsx.NewEngine(s, hub, respond.WithClients(awsx.NewMemberClients(s, cfg, sts.NewFromConfig(cfg), orgs, hub)), respond.WithDriftNotifier(inbox))
	return e, awsx.OrgAccounts{API: orgs}
}

func TestReconcileOrganization(t *testing.T) {
	ctx := context.Background()
	const mgmt, locked, tampered, clean = "123456789012", "444444444444", "333333333333", "111111111111"
	w, err := orgemu.NewWorld(ctx, orgemu.WorldSpec{Management: mgmt, Hub: "222222222222",
		Members: []string{clean, tampered, locked}, Regions: []string{"us-east-1", "eu-west-1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	// The intruders' work: a member role that no longer trusts the hub, a
	// spoke rule deleted, the organization trail stopped.
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.Org.Do(locked, func(a *orgemu.Account) {
		a.PutRole(config.DefaultMemberRoleName, orgemu.MemberTrust("arn:aws:iam::"+locked+":role/intruder", w.Org.ID, ""))
	}))
	must(w.Org.Do(tampered, func(a *orgemu.Account) { delete(a.Rules["eu-west-1"], "trailguard-spoke-cloudtrail") }))
	must(w.Org.Do(mgmt, func(a *orgemu.Account) { a.Trails["us-east-1"]["org-trail"].Logging = false }))

	inbox := &driftInbox{}
	e, lister := hubOn(t, w, inbox)
	rep, err := e.ReconcileOrg(ctx, lister, 2)
	if err != nil {
		t.Fatalf("reconcile: %v", err)
	}
	if len(rep.Accounts) != 5 {
		t.Fatalf("%d accounts reconciled, want 5 (management, hub, 3 members)", len(rep.Accounts))
	}
	drifts := map[string][]string{}
	for _, a := range rep.Accounts {
		for _, d := range a.Drifts {
			drifts[a.Account.ID] = append(drifts[a.Account.ID], d.Resource+" "+d.Field+": "+d.Got)
		}
	}
	want := map[string]string{
		locked:   "member role TrailguardMember access: refused: AccessDenied",
		tampered: "spoke rule trailguard-spoke-cloudtrail (eu-west-1) rule: deleted",
		mgmt:     "trail org-trail logging: off",
	}
	for id, w := range want {
		if len(drifts[id]) != 1 || !strings.HasPrefix(drifts[id][0], w) {
			t.Errorf("account %s drifts %q, want one %q", id, drifts[id], w)
		}
	}
	if len(drifts[clean]) != 0 {
		t.Errorf("clean account %s drifts %q", clean, drifts[clean])
	}
	// The organization trail is restored in the management account.
	must(w.Org.Do(mgmt, func(a *orgemu.Account) {
		if !a.Trails["us-east-1"]["org-trail"].Logging {
			t.Error("the organization trail was not restarted")
		}
	}))
	// One alert for the run, each drift naming its account and name.
	if len(inbox.got) != 1 || len(inbox.got[0].NewDrifts()) != 3 {
		t.Fatalf("drift alerts %d, want 1 with 3 new drifts", len(inbox.got))
	}
	for _, d := range inbox.got[0].Drifts {
		if !strings.HasPrefix(d.Resource, "account ") || !strings.Contains(d.Resource, "(") {
			t.Errorf("drift %q does not name its account", d.Resource)
		}
	}
	// Every region's spoke rules were checked in the members.
	var checked int
	for _, a := range rep.Accounts {
		if a.Account.ID == clean {
			checked = len(a.Checked)
		}
	}
	if n := len(catalog.SpokeRulesIn("us-east-1")) + len(catalog.SpokeRulesIn("eu-west-1")) + 1; checked != n {
		t.Errorf("clean member: %d checks, want %d (member role + every spoke rule)", checked, n)
	}

	// The next run alerts nothing new: the unrepairable drifts are known.
	if _, err := e.ReconcileOrg(ctx, lister, 2); err != nil {
		t.Fatal(err)
	}
	if len(inbox.got) != 1 {
		t.Errorf("a second run alerted again about known drifts")
	}
}
