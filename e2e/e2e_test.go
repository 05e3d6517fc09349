package e2e_test

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/trailguard/trailguard/internal/notify"
	"github.com/trailguard/trailguard/internal/respond"
)

// received is one alert as the SQS subscriber got it: SNS's notification
// envelope around the message's "sqs" variant, the alert document.
type received struct {
	Subject string
	Alert   notify.Alert
}

// alert waits for exactly one alert on the world's subscriber queue.
func (w world) alert() received {
	w.T.Helper()
	ns := w.Notifications(1, handleWait)
	if len(ns) != 1 {
		visible, inFlight, err := w.Srv.QueueDepth(context.WithoutCancel(w.Ctx), w.QueueURL)
		w.T.Fatalf("subscriber got %d messages, want 1: %q (the queue holds %s visible, %s in flight; %v)", len(ns), ns, visible, inFlight, err)
	}
	r := received{Subject: ns[0].Subject}
	if err := json.Unmarshal([]byte(ns[0].Message), &r.Alert); err != nil {
		w.T.Fatalf("alert document: %v\n%s", err, ns[0].Message)
	}
	return r
}

// checkSubject applies SNS's subject rules and trailguard's own: it names
// the severity, the event and the actor.
func checkSubject(t *testing.T, subject string, want ...string) {
	t.Helper()
	if subject == "" || len(subject) >= 100 {
		t.Errorf("subject %q: length %d, want 1..99", subject, len(subject))
	}
	for _, r := range subject {
		if r < 0x20 || r > 0x7e {
			t.Errorf("subject %q: character %q is not printable ASCII", subject, r)
		}
	}
	for _, s := range want {
		if !strings.Contains(subject, s) {
			t.Errorf("subject %q does not name %q", subject, s)
		}
	}
}

// kindStatus is one action of an alert: its kind and how it ended.
type kindStatus struct {
	Kind   respond.Kind
	Status respond.Status
}

// checkActions asserts the alert's actions, kind and status, in order.
func checkActions(t *testing.T, a notify.Alert, want ...kindStatus) {
	t.Helper()
	var got []kindStatus
	for _, x := range a.Actions {
		got = append(got, kindStatus{x.Kind, x.Status})
	}
	if !slices.Equal(got, want) {
		t.Errorf("actions = %v, want in this order %v (alert actions: %+v)", got, want, a.Actions)
	}
}

func TestStopLoggingByIAMUser(t *testing.T) {
	w := deploy(t, "")
	w.stopLogging()

	// Outside the pattern: another CloudTrail call, and the very event
	// forged under a source that is not AWS's.
	other, otherID := w.Event("stoplogging-iamuser", func(env map[string]any) {
		env["detail"].(map[string]any)["eventName"] = "DescribeTrails"
	})
	forged, forgedID := w.Event("stoplogging-iamuser", func(env map[string]any) { env["source"] = "custom.cloudtrail" })
	w.Put(other)
	w.Put(forged)

	raw, id := w.Event("stoplogging-iamuser", nil)
	w.Put(raw)
	line := w.waitHandled(id)

	if !w.Logging() {
		t.Error("trail does not log after the response")
	}
	if got := w.AttachedPolicies(); !slices.Contains(got, w.PolicyARN) {
		t.Errorf("attached policies = %v, want the deny-all %s", got, w.PolicyARN)
	}
	if got := w.KeyStatus(); got != iamtypes.StatusTypeInactive {
		t.Errorf("access key status = %s, want Inactive", got)
	}
	if line["level"] != "INFO" {
		t.Errorf("responder log level = %v, want INFO: %v", line["level"], line)
	}
	// Restore, two containment steps and the alert, each reported.
	if outcomes, _ := line["outcomes"].([]any); len(outcomes) != 4 {
		t.Errorf("responder logged %d outcomes, want restore, 2 containment, notify: %v", len(outcomes), line["outcomes"])
	}

	r := w.alert()
	checkSubject(t, r.Subject, "CRITICAL", "StopLogging", "mallory")
	if want := "CRITICAL StopLogging by mallory: restored, contained"; r.Subject != want {
		t.Errorf("subject %q, want %q", r.Subject, want)
	}
	a := r.Alert
	// The SQS subscriber receives the machine-readable variant.
	if a.Schema != "trailguard.alert/v1" {
		t.Errorf("alert schema %q, want trailguard.alert/v1", a.Schema)
	}
	if a.Actor.ARN != "arn:aws:iam::123456789012:user/mallory" || a.Actor.AccessKeyID != w.KeyID {
		t.Errorf("alert actor = %+v", a.Actor)
	}
	if a.Event.Name != "StopLogging" || a.Event.ID != id || !a.Tamper {
		t.Errorf("alert event = %+v, tamper %v", a.Event, a.Tamper)
	}
	checkActions(t, a,
		kindStatus{respond.KindStartLogging, respond.StatusDone},
		kindStatus{respond.KindAttachUserPolicy, respond.StatusDone},
		kindStatus{respond.KindDeactivateAccessKey, respond.StatusDone})
	if !strings.Contains(string(a.RawEvent), id) || !strings.Contains(a.Summary, "mallory") {
		t.Errorf("alert lacks the raw event or a summary: summary %q, raw %s", a.Summary, a.RawEvent)
	}

	// The ignored events: kumo never matched them, the function never saw them.
	delivered, err := w.Srv.DeliveredEvents(w.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	matched := 0
	for _, d := range delivered {
		if d.RuleName != w.RuleName {
			continue
		}
		matched++
		if strings.Contains(d.Detail, otherID) || strings.Contains(d.Detail, forgedID) {
			t.Errorf("rule matched an event outside the pattern: %s", d.Detail)
		}
	}
	if matched != 1 {
		t.Errorf("rule matched %d events, want 1", matched)
	}
	if out := w.Fn.Output(); strings.Contains(out, otherID) || strings.Contains(out, forgedID) {
		t.Errorf("an event outside the pattern reached the function:\n%s", out)
	}
}

func TestFailedAttemptAlertsAndChangesNothing(t *testing.T) {
	w := deploy(t, "failed")
	// Stopped by someone else; the failed attempt must not restart it.
	w.stopLogging()

	raw, id := w.Event("stoplogging-failed", nil)
	w.Put(raw)
	w.waitHandled(id)

	r := w.alert()
	checkSubject(t, r.Subject, "StopLogging", w.User)
	if !strings.HasPrefix(r.Subject, "MEDIUM StopLogging") {
		t.Errorf("subject %q, want a MEDIUM alert: an attempt AWS refused", r.Subject)
	}
	if r.Alert.Event.ErrorCode != "AccessDenied" || r.Alert.Event.ID != id {
		t.Errorf("alert event = %+v", r.Alert.Event)
	}
	for _, a := range r.Alert.Actions {
		if a.Status != respond.StatusManual {
			t.Errorf("failed attempt took action %s (%s)", a.Kind, a.Status)
		}
	}
	if w.Logging() {
		t.Error("failed attempt restarted logging")
	}
	if got := w.AttachedPolicies(); len(got) != 0 {
		t.Errorf("failed attempt attached %v", got)
	}
	if got := w.KeyStatus(); got != iamtypes.StatusTypeActive {
		t.Errorf("failed attempt set the key %s", got)
	}
}

func TestAssumedRoleSessionsRevoked(t *testing.T) {
	w := deploy(t, "role")
	w.stopLogging()

	raw, id := w.Event("stoplogging-assumedrole", nil)
	w.Put(raw)
	w.waitHandled(id)

	if !w.Logging() {
		t.Error("trail does not log after the response")
	}
	out, err := w.IAM.GetRolePolicy(w.Ctx, &iam.GetRolePolicyInput{RoleName: aws.String(w.Role), PolicyName: aws.String(respond.RevokePolicyName)})
	if err != nil {
		t.Fatalf("revocation policy: %v", err)
	}
	doc := aws.ToString(out.PolicyDocument)
	if dec, err := url.QueryUnescape(doc); err == nil {
		doc = dec
	}
	if !strings.Contains(doc, "aws:TokenIssueTime") || !strings.Contains(doc, `"Deny"`) {
		t.Errorf("revocation policy = %s", doc)
	}

	r := w.alert()
	checkSubject(t, r.Subject, "StopLogging", w.Role)
	checkActions(t, r.Alert,
		kindStatus{respond.KindStartLogging, respond.StatusDone},
		kindStatus{respond.KindRevokeRoleSessions, respond.StatusDone})
}

func TestDeletedTrailRecreatedFromBaseline(t *testing.T) {
	w := deploy(t, "deleted")
	if _, err := w.CloudTrail.DeleteTrail(w.Ctx, &cloudtrail.DeleteTrailInput{Name: aws.String(w.Trail)}); err != nil {
		t.Fatal(err)
	}

	raw, id := w.Event("deletetrail-iamuser", nil)
	w.Put(raw)
	w.waitHandled(id)

	got, err := w.CloudTrail.GetTrail(w.Ctx, &cloudtrail.GetTrailInput{Name: aws.String(w.Trail)})
	if err != nil {
		t.Fatalf("trail not recreated: %v", err)
	}
	tr := got.Trail
	if aws.ToString(tr.S3BucketName) != w.Bucket || !aws.ToBool(tr.IsMultiRegionTrail) || !aws.ToBool(tr.LogFileValidationEnabled) || !aws.ToBool(tr.IncludeGlobalServiceEvents) {
		t.Errorf("recreated trail differs from the baseline: %+v", tr)
	}
	if !w.Logging() {
		t.Error("recreated trail does not log")
	}
	if got := w.AttachedPolicies(); !slices.Contains(got, w.PolicyARN) {
		t.Errorf("attached policies = %v", got)
	}
	r := w.alert()
	checkSubject(t, r.Subject, "DeleteTrail", w.User)
}

func TestBlindingSelectorsRestored(t *testing.T) {
	w := deploy(t, "selectors")
	no := false
	if _, err := w.CloudTrail.PutEventSelectors(w.Ctx, &cloudtrail.PutEventSelectorsInput{
		TrailName: aws.String(w.Trail),
		EventSelectors: []cttypes.EventSelector{{
			ReadWriteType: cttypes.ReadWriteTypeAll, IncludeManagementEvents: &no,
			DataResources: []cttypes.DataResource{{Type: aws.String("AWS::S3::Object"), Values: []string{}}},
		}},
	}); err != nil {
		t.Fatal(err)
	}

	raw, id := w.Event("puteventselectors-no-management", nil)
	w.Put(raw)
	w.waitHandled(id)

	sel, err := w.CloudTrail.GetEventSelectors(w.Ctx, &cloudtrail.GetEventSelectorsInput{TrailName: aws.String(w.Trail)})
	if err != nil {
		t.Fatal(err)
	}
	// The baseline's selectors replace the attacker's: exactly its one.
	if len(sel.EventSelectors) != 1 || !aws.ToBool(sel.EventSelectors[0].IncludeManagementEvents) || sel.EventSelectors[0].ReadWriteType != cttypes.ReadWriteTypeAll {
		t.Errorf("management events not restored as the baseline has them: %+v", sel.EventSelectors)
	}
	r := w.alert()
	checkSubject(t, r.Subject, "PutEventSelectors", w.User)
	if got := w.KeyStatus(); got != iamtypes.StatusTypeInactive {
		t.Errorf("access key status = %s, want Inactive", got)
	}
}
