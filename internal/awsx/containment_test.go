package awsx_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/trailguard/trailguard/internal/awsx"
	"github.com/trailguard/trailguard/internal/trail"
)

// An un-quarantine by a second principal: mallory was quarantined, trent
// detaches the quarantine policy; the policy goes back on mallory and trent
// is quarantined in turn.
func TestUnquarantineBySecondPrincipalUndone(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	e := awsx.NewEngine(w.settings(t, nil), w.clients)
	if _, err := e.Respond(ctx, w.event(t, "stoplogging-iamuser")); err != nil {
		t.Fatal(err)
	}
	if !w.quarantined(t) {
		t.Fatal("mallory not quarantined by the first event")
	}
	trent := "comp-trent-" + strings.TrimPrefix(w.user, "comp-mallory-")
	_, trentKey, err := srv.CreateUserWithKey(ctx, trent)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.clients.IAM.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String(w.user), PolicyArn: aws.String(w.policyARN)}); err != nil {
		t.Fatal(err)
	}
	if w.quarantined(t) {
		t.Fatal("the detach did not take")
	}
	raw := string(w.event(t, "iam-detachuserpolicy-quarantine").Raw)
	raw = strings.NewReplacer(`"userName": "mallory"`, fmt.Sprintf(`"userName": %q`, w.user),
		"arn:aws:iam::aws:policy/AWSDenyAll", w.policyARN,
		"user/trent", "user/"+trent, `"userName": "trent"`, fmt.Sprintf(`"userName": %q`, trent),
		"AKIAI44QH8DHBEXAMPLE", trentKey).Replace(raw)
	ev, err := trail.Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := e.Respond(ctx, ev)
	if err != nil {
		t.Fatalf("respond: %v (%+v)", err, rep.Outcomes)
	}
	if !w.quarantined(t) {
		t.Error("mallory's quarantine not restored")
	}
	out, err := w.clients.IAM.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String(trent)})
	if err != nil || len(out.AttachedPolicies) != 1 || aws.ToString(out.AttachedPolicies[0].PolicyArn) != w.policyARN {
		t.Errorf("trent not quarantined: %v %+v", err, out)
	}
	keys, err := w.clients.IAM.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(trent)})
	if err != nil || len(keys.AccessKeyMetadata) != 1 || keys.AccessKeyMetadata[0].Status != "Inactive" {
		t.Errorf("trent's key not deactivated: %v %+v", err, keys)
	}
	// Two alerts, in either order (SQS does not keep it): the first
	// containment's and the un-quarantine's.
	alerts := w.alerts(t, 2)
	if len(alerts) != 2 || !slices.ContainsFunc(alerts, func(a struct{ Subject, Message string }) bool { return strings.Contains(a.Subject, "DetachUserPolicy") }) {
		t.Errorf("alerts %+v, want two, one of them on the DetachUserPolicy", alerts)
	}
}
