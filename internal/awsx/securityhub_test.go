package awsx_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/trailguard/trailguard/internal/awsx"
	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/notify"
	"github.com/trailguard/trailguard/internal/respond"
)

// findings reads back the findings with an Id from the Security Hub double.
func findings(t *testing.T, c *securityhub.Client, id string) []shtypes.AwsSecurityFinding {
	t.Helper()
	out, err := c.GetFindings(context.Background(), &securityhub.GetFindingsInput{Filters: &shtypes.AwsSecurityFindingFilters{
		Id: []shtypes.StringFilter{{Value: aws.String(id), Comparison: shtypes.StringFilterComparisonEquals}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Findings
}

// A response creates one finding in Security Hub; its retry (the same event
// handled again) updates that finding instead of adding a second one.
func TestSecurityHubFindingCreatedOnceAndUpdatedOnRetry(t *testing.T) {
	w := newWorld(t)
	w.stop(t)
	var logs bytes.Buffer
	s := w.settings(t, map[string]string{config.EnvSecurityHub: "true"})
	clock := shNow
	e := respond.New(s, w.clients.CloudTrail, w.clients.IAM, awsx.Notifier(s, w.clients, slog.New(slog.NewJSONHandler(&logs, nil)), nil),
		respond.WithClock(func() time.Time { return clock }))
	ev := w.event(t, "stoplogging-iamuser")
	ev.Record.EventID = "sh-" + w.trailName

	if _, err := e.Respond(context.Background(), ev); err != nil {
		t.Fatalf("respond: %v", err)
	}
	if len(w.alerts(t, 1)) != 1 {
		t.Error("the SNS alert did not arrive")
	}
	id := notify.FindingID("123456789012", "us-east-1", ev.Record.EventID)
	got := findings(t, w.clients.SecurityHub, id)
	if len(got) != 1 {
		t.Fatalf("%d findings with Id %s, want 1; log:\n%s", len(got), id, logs.String())
	}
	first := got[0]
	if first.Workflow == nil || first.Workflow.Status != shtypes.WorkflowStatusResolved {
		t.Errorf("workflow %+v, want RESOLVED: trailguard restored the trail", first.Workflow)
	}
	if first.Severity == nil || first.Severity.Label != shtypes.SeverityLabelCritical {
		t.Errorf("severity %+v, want the catalog's critical", first.Severity)
	}
	if aws.ToString(first.ProductArn) != "arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default" {
		t.Errorf("product %s", aws.ToString(first.ProductArn))
	}
	var types []string
	for _, r := range first.Resources {
		types = append(types, aws.ToString(r.Type)+" "+aws.ToString(r.Id))
	}
	for _, want := range []string{"AwsCloudTrailTrail " + w.trailARN, "AwsS3Bucket arn:aws:s3:::" + w.bucket, "AwsIamUser arn:aws:iam::123456789012:user/" + w.user} {
		if !strings.Contains(strings.Join(types, "\n"), want) {
			t.Errorf("resources %q lack %q", types, want)
		}
	}
	if !strings.Contains(first.ProductFields["trailguard/Action/01"], "[done] restore: start-logging") {
		t.Errorf("product fields do not carry the restore's outcome: %v", first.ProductFields)
	}

	// The retry: the same event, later.
	clock = clock.Add(time.Minute)
	if _, err := e.Respond(context.Background(), ev); err != nil {
		t.Fatalf("retry: %v", err)
	}
	got = findings(t, w.clients.SecurityHub, id)
	if len(got) != 1 {
		t.Fatalf("%d findings after the retry, want the same one updated", len(got))
	}
	if aws.ToString(got[0].CreatedAt) != aws.ToString(first.CreatedAt) || aws.ToString(got[0].UpdatedAt) == aws.ToString(first.UpdatedAt) {
		t.Errorf("retry: CreatedAt %s → %s, UpdatedAt %s → %s; want CreatedAt kept, UpdatedAt changed",
			aws.ToString(first.CreatedAt), aws.ToString(got[0].CreatedAt), aws.ToString(first.UpdatedAt), aws.ToString(got[0].UpdatedAt))
	}
	if strings.Contains(logs.String(), "rejected") || strings.Contains(logs.String(), "import failed") {
		t.Errorf("import logged a failure:\n%s", logs.String())
	}
}

// Security Hub failing (disabled, throttled, down) is logged with the reason
// and changes nothing else: the trail is restored, the alert sent, and the
// invocation does not fail.
func TestSecurityHubFailureNeverFailsTheResponse(t *testing.T) {
	w := newWorld(t)
	w.stop(t)
	var logs bytes.Buffer
	s := w.settings(t, map[string]string{config.EnvSecurityHub: "true"})
	e := respond.New(s, w.clients.CloudTrail, w.clients.IAM, awsx.Notifier(s, w.clients, slog.New(slog.NewJSONHandler(&logs, nil)), nil))
	srv.FailOperation("securityhub", "*", 500, 3)
	if _, err := e.Respond(context.Background(), w.event(t, "stoplogging-iamuser")); err != nil {
		t.Fatalf("a Security Hub failure failed the response: %v", err)
	}
	if !w.logging(t) || len(w.alerts(t, 1)) != 1 {
		t.Error("restore or alert missing")
	}
	if !strings.Contains(logs.String(), "security hub import failed") || !strings.Contains(logs.String(), "500") {
		t.Errorf("the failure is not logged with its reason:\n%s", logs.String())
	}
}

// A finding Security Hub rejects comes back in FailedFindings: it is logged
// with Security Hub's reason, and the others of the batch are imported.
func TestSecurityHubRejectedFindingLoggedWithReason(t *testing.T) {
	var logs bytes.Buffer
	client := awsx.NewClients(srv.Config(context.Background())).SecurityHub
	h := notify.SecurityHub{Client: client, Region: "us-east-1", Log: slog.New(slog.NewJSONHandler(&logs, nil))}
	good := notify.DriftASFF(respond.ReconcileReport{Started: shNow, Drifts: []respond.Drift{{Resource: "trail rejected-test", Field: "logging", Want: "on", Got: "off"}}}, "123456789012", "us-east-1", shNow)[0]
	bad := good
	bad.ID += "-bad"
	bad.ProductARN = notify.ProductARN("us-east-1", "111111111111") // another account's product
	res, err := h.Import(context.Background(), []notify.Finding{good, bad})
	if err != nil {
		t.Fatal(err)
	}
	if res.Imported != 1 || len(res.Failed) != 1 || !strings.Contains(res.Failed[0], "default product") {
		t.Fatalf("import result %+v", res)
	}
	if len(findings(t, client, good.ID)) != 1 || len(findings(t, client, bad.ID)) != 0 {
		t.Error("the double did not import exactly the valid finding")
	}
}

// More than 100 findings go in batches of at most 100.
func TestSecurityHubImportsInBatchesOf100(t *testing.T) {
	client := awsx.NewClients(srv.Config(context.Background())).SecurityHub
	h := notify.SecurityHub{Client: client, Region: "us-east-1"}
	var drifts []respond.Drift
	for i := range 250 {
		drifts = append(drifts, respond.Drift{Resource: fmt.Sprintf("trail batch-%d", i), Field: "logging", Want: "on", Got: "off"})
	}
	before := srv.SecurityHubImports()
	res, err := h.Import(context.Background(), notify.DriftASFF(respond.ReconcileReport{Started: shNow, Drifts: drifts}, "123456789012", "us-east-1", shNow))
	if err != nil || res.Imported != 250 || len(res.Failed) != 0 {
		t.Fatalf("import: %+v %v", res, err)
	}
	if calls := srv.SecurityHubImports() - before; calls != 3 {
		t.Errorf("%d BatchImportFindings calls for 250 findings, want 3", calls)
	}
}

var shNow = time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
