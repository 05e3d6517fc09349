package e2e_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/trailguard/trailguard/internal/catalog"
	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/testworld"
	"github.com/trailguard/trailguard/internal/testworld/orgemu"
)

// TestOrganizationHub plays organization mode end to end: the hub is the
// real bootstrap served by the emulator's Lambda runtime API (kumo: the hub
// account, its topic, subscriber and bus rule); the member accounts are the
// organization emulator, which every SDK call of the responder reaches
// first (AWS_ENDPOINT_URL) and which passes the hub's own calls on to kumo.
// A member's admin stops the member's trail; the member's spoke rule
// forwards the event to the hub's bus (kumo's bus stands in for it); the
// hub's responder assumes the member role, restores the trail and contains
// the admin in that account, and alerts naming the account. Then a member
// role that no longer trusts the hub and a deleted spoke rule are both
// reported by the hub's scheduled reconciliation.
func TestOrganizationHub(t *testing.T) {
	ctx := context.Background()
	const (
		hubAccount = testworld.AccountID // kumo's account is the hub's
		mgmt       = "123456789012"
		member     = "111111111111"
		other      = "222222222222"
		name       = "trailguard-hub-e2e"
	)
	srv, err := testworld.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	w, err := orgemu.NewWorld(ctx, orgemu.WorldSpec{Management: mgmt, Hub: hubAccount, Members: []string{member, other},
		Fallback: orgemu.WithFallback(srv)})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	// The hub's function signs with the emulator's key: to the organization
	// that key is a session of the hub's responder role.
	w.Org.HubIdentity(testworld.AccessKeyID, hubAccount, orgemu.HubResponderRole, name)
	w.Org.Forward = srv.PutCloudTrailEvent
	if err := w.Org.Do(member, func(a *orgemu.Account) {
		a.PutTrail("us-east-1", orgemu.Trail{Name: "member-trail", Bucket: "member-logs", MultiRegion: true, Global: true, Validated: true, Logging: true, ManagementEvents: true})
	}); err != nil {
		t.Fatal(err)
	}
	admin, err := w.Org.CreateUser(member, "admin")
	if err != nil {
		t.Fatal(err)
	}

	// The hub: topic and subscriber, the responder, the catalog's rules on its bus.
	topicARN, queueURL, err := srv.CreateTopicWithQueue(ctx, name+"-alerts", true)
	if err != nil {
		t.Fatal(err)
	}
	// kumo names its IAM roles in another account than its other services:
	// the function's role is the one the members trust, in the hub's account.
	fnARN, err := srv.CreateFunction(ctx, name, w.HubRoleARN, nil)
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"AWS_LAMBDA_LOG_FORMAT=JSON", "AWS_ENDPOINT_URL=" + w.Org.URL}
	settings := w.Settings(topicARN)
	// The hub protects the organization trail and this member's own trail,
	// each named by ARN with the account that holds it.
	settings[config.EnvTrails] = strings.Replace(settings[config.EnvTrails], "[", `[{"name":"arn:aws:cloudtrail:us-east-1:`+member+`:trail/member-trail","isMultiRegionTrail":true,"homeRegion":"us-east-1"},`, 1)
	for k, v := range settings {
		env = append(env, k+"="+v)
	}
	fn, err := srv.StartFunction(ctx, name, bootstrapBin, env)
	if err != nil {
		t.Fatal(err)
	}
	var rules []string
	for _, r := range catalog.Rules() {
		rn := name + "-" + r.ID
		if _, err := srv.CreateRule(ctx, rn, r.Pattern.JSON(), fnARN); err != nil {
			t.Fatal(err)
		}
		rules = append(rules, rn)
	}
	defer func() {
		eb := eventbridge.NewFromConfig(srv.Config(ctx))
		for _, rn := range rules { // kumo's rules outlive the server
			_, _ = eb.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{Rule: aws.String(rn), Ids: []string{"target"}})
			_, _ = eb.DeleteRule(ctx, &eventbridge.DeleteRuleInput{Name: aws.String(rn)})
		}
		_ = fn.Stop()
	}()
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(handleWait)
		for !cond() {
			if fn.Exited() {
				t.Fatalf("the responder exited while waiting for %s:\n%s", what, fn.Output())
			}
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s; responder output:\n%s", what, fn.Output())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	var logging bool
	var keyStatus string
	var attached []string
	state := func() {
		_ = w.Org.Do(member, func(a *orgemu.Account) {
			logging = a.Trails["us-east-1"]["member-trail"].Logging
			keyStatus = a.Users["admin"].Keys[admin.AccessKeyID]
			attached = append([]string(nil), a.Users["admin"].Attached...)
		})
	}

	// The attack, in the member account.
	if _, err := cloudtrail.NewFromConfig(w.Org.Config(admin)).StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String("member-trail")}); err != nil {
		t.Fatal(err)
	}
	waitFor("the member's trail to log again", func() bool { state(); return logging })
	waitFor("the admin to be contained", func() bool { state(); return keyStatus == "Inactive" && len(attached) == 1 })
	if attached[0] != config.DefaultQuarantinePolicyARN {
		t.Errorf("attached %q to the member's admin", attached)
	}
	msgs, err := srv.ReceiveMessages(ctx, queueURL, 1, handleWait)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("alerts %d (%v), want 1", len(msgs), err)
	}
	for _, want := range []string{member, "member-001", "StopLogging", "admin"} {
		if !strings.Contains(msgs[0], want) {
			t.Errorf("the alert does not name %q:\n%s", want, msgs[0])
		}
	}
	// The hub's own StartLogging in the member came back as an event and
	// stayed quiet: no second alert, no containment of the member role.
	waitFor("the hub's own restore to come back", func() bool {
		return strings.Count(fn.Output(), `"event handled`) >= 2
	})
	if !strings.Contains(fn.Output(), `"quiet":true`) {
		t.Errorf("the hub's own restore was not recognised as its own:\n%s", fn.Output())
	}
	if more, _ := srv.ReceiveMessages(ctx, queueURL, 1, 300*time.Millisecond); len(more) != 0 {
		t.Errorf("a second alert: %s", more[0])
	}

	// Blinding the hub instead: a member role that no longer trusts it, a
	// spoke rule deleted by the member's admin.
	if err := w.Org.Do(other, func(a *orgemu.Account) {
		a.PutRole(config.DefaultMemberRoleName, orgemu.MemberTrust("arn:aws:iam::"+other+":role/intruder", w.Org.ID, ""))
	}); err != nil {
		t.Fatal(err)
	}
	// The first admin's key is inactive now: a second admin goes on.
	if _, err := cloudtrail.NewFromConfig(w.Org.Config(admin)).StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String("member-trail")}); err == nil {
		t.Error("the contained admin's key still works")
	}
	admin2, err := w.Org.CreateUser(member, "admin2")
	if err != nil {
		t.Fatal(err)
	}
	// The hub contains admin2 as soon as it sees the RemoveTargets, which may
	// be before admin2's next call: a third admin deletes the rule, so the
	// test does not race the containment it is there to prove.
	admin3, err := w.Org.CreateUser(member, "admin3")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eventbridge.NewFromConfig(w.Org.Config(admin2)).RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{Rule: aws.String("trailguard-spoke-iam"), Ids: []string{"t0"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := eventbridge.NewFromConfig(w.Org.Config(admin3)).DeleteRule(ctx, &eventbridge.DeleteRuleInput{Name: aws.String("trailguard-spoke-iam")}); err != nil {
		t.Fatal(err)
	}
	// The spoke rule's removal is itself tampering the hub sees (the
	// member's events rule forwards it): two alerts, RemoveTargets and
	// DeleteRule, each naming the rule.
	removal, err := srv.ReceiveMessages(ctx, queueURL, 2, handleWait)
	if err != nil || len(removal) != 2 {
		t.Fatalf("alerts on the spoke rule's removal: %d (%v), want 2", len(removal), err)
	}
	for _, m := range removal {
		if !strings.Contains(m, "trailguard-spoke-iam") || !strings.Contains(m, member) {
			t.Errorf("alert does not name the spoke rule and the account:\n%s", m)
		}
	}
	// The schedule's payload, as EventBridge sends it.
	if _, err := lambda.NewFromConfig(srv.Config(ctx)).Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(name),
		InvocationType: lambdatypes.InvocationTypeEvent,
		Payload:        []byte(`{"source":"aws.events","detail-type":"Scheduled Event","detail":{}}`)}); err != nil {
		t.Fatal(err)
	}
	waitFor("the organization's reconciliation", func() bool { return strings.Contains(fn.Output(), `"reconciled`) })
	drift, err := srv.ReceiveMessages(ctx, queueURL, 1, handleWait)
	if err != nil || len(drift) != 1 {
		t.Fatalf("drift alerts %d (%v), want 1; responder output:\n%s", len(drift), err, fn.Output())
	}
	for _, want := range []string{"account " + other, "member role", "account " + member, "trailguard-spoke-iam"} {
		if !strings.Contains(drift[0], want) {
			t.Errorf("the drift alert does not name %q:\n%s", want, drift[0])
		}
	}
}
