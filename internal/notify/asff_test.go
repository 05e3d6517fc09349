package notify_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"

	"github.com/trailguard/trailguard/internal/notify"
	"github.com/trailguard/trailguard/internal/respond"
	"github.com/trailguard/trailguard/internal/samples"
	"github.com/trailguard/trailguard/internal/testworld"
)

// validASFF checks a finding with the same validation the Security Hub
// double applies to BatchImportFindings (required fields, limits, size).
func validASFF(t *testing.T, label string, f notify.Finding) {
	t.Helper()
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := testworld.ValidateFinding(b); err != nil {
		t.Errorf("%s: Security Hub would reject the finding: %v\n%s", label, err, b)
	}
}

// Every sample, with every outcome, renders to a finding Security Hub
// accepts.
func TestASFFValidForEverySample(t *testing.T) {
	for _, name := range samples.Names() {
		for _, st := range []respond.Status{respond.StatusDone, respond.StatusFailed, respond.StatusDryRun} {
			validASFF(t, name+"/"+string(st), notify.ASFF(report(t, name, st), "us-east-1", now.Add(time.Minute)))
		}
	}
}

func TestASFFResponseFinding(t *testing.T) {
	r := report(t, "stoplogging-iamuser", respond.StatusDone)
	f := notify.ASFF(r, "eu-west-1", now.Add(time.Minute))
	if f.ProductARN != "arn:aws:securityhub:eu-west-1:123456789012:product/123456789012/default" || f.AwsAccountID != "123456789012" {
		t.Errorf("product %s account %s", f.ProductARN, f.AwsAccountID)
	}
	if f.Severity.Label != "CRITICAL" || f.Workflow.Status != notify.WorkflowResolved || f.SchemaVersion != "2018-10-08" {
		t.Errorf("severity %+v workflow %+v schema %s", f.Severity, f.Workflow, f.SchemaVersion)
	}
	if f.CreatedAt != notify.Stamp(r.Event.Record.EventTime) || f.UpdatedAt != notify.Stamp(now.Add(time.Minute)) || f.FirstObservedAt != f.CreatedAt {
		t.Errorf("times: created %s updated %s first %s", f.CreatedAt, f.UpdatedAt, f.FirstObservedAt)
	}
	var kinds []string
	for _, res := range f.Resources {
		kinds = append(kinds, res.Type)
	}
	if strings.Join(kinds, ",") != "AwsCloudTrailTrail,AwsIamUser" {
		t.Errorf("resources %v", kinds)
	}
	if !strings.Contains(f.ProductFields["trailguard/Action/01"], "[done] restore: start-logging") ||
		!strings.Contains(f.ProductFields["trailguard/Action/02"], "[done] contain: attach-user-policy") {
		t.Errorf("product fields %v", f.ProductFields)
	}
	if f.Remediation == nil || !strings.Contains(f.Remediation.Recommendation.Text, "detach-user-policy") {
		t.Errorf("remediation %+v", f.Remediation)
	}
	// The Id depends on the event only: a retry (later, other outcomes)
	// updates the same finding.
	again := notify.ASFF(report(t, "stoplogging-iamuser", respond.StatusFailed), "eu-west-1", now.Add(time.Hour))
	if again.ID != f.ID || again.ID != notify.FindingID("123456789012", "us-east-1", r.Event.Record.EventID) {
		t.Errorf("Id changed on retry: %s vs %s", f.ID, again.ID)
	}
}

func TestASFFWorkflowSaysWhetherTrailguardFixedIt(t *testing.T) {
	for _, tc := range []struct {
		sample string
		status respond.Status
		want   string
	}{
		{"stoplogging-iamuser", respond.StatusDone, notify.WorkflowResolved},
		{"stoplogging-iamuser", respond.StatusFailed, notify.WorkflowNew},
		{"stoplogging-iamuser", respond.StatusDryRun, notify.WorkflowNew},
		{"stoplogging-failed", respond.StatusDone, notify.WorkflowNotified},      // nothing changed: review
		{"stoplogging-root", respond.StatusDone, notify.WorkflowNotified},        // restored, root needs a person
		{"kms-putkeypolicy", respond.StatusDone, notify.WorkflowNotified},        // alert only: the fix is manual
		{"createtrail", respond.StatusDone, notify.WorkflowNotified},             // informational
		{"stoplogging-assumedrole", respond.StatusDone, notify.WorkflowResolved}, // restored, sessions revoked
	} {
		f := notify.ASFF(report(t, tc.sample, tc.status), "us-east-1", now)
		if f.Workflow.Status != tc.want {
			t.Errorf("%s with %s: workflow %s, want %s", tc.sample, tc.status, f.Workflow.Status, tc.want)
		}
	}
}

// Names at the limits of what AWS allows, and far more actions than
// ProductFields can hold, still give a finding within every limit.
func TestASFFLimitsHoldForHugeInput(t *testing.T) {
	r := report(t, "stoplogging-iamuser", respond.StatusFailed)
	long := strings.Repeat("é", 3000)
	r.Plan.Classification.Actor.Display = long
	r.Plan.Classification.Target.ID = long
	r.Event.Record.EventName = "StopLogging" + long
	for i := range 80 {
		o := r.Outcomes[0]
		o.Error = long + string(rune('a'+i%26))
		r.Outcomes = append(r.Outcomes, o)
	}
	f := notify.ASFF(r, "us-east-1", now)
	validASFF(t, "huge", f)
	if len(f.ProductFields) != notify.MaxProductFields {
		t.Errorf("%d product fields, want exactly the %d allowed", len(f.ProductFields), notify.MaxProductFields)
	}
}

func TestDriftASFF(t *testing.T) {
	start := respond.Action{Step: respond.StepRestore, Kind: respond.KindStartLogging, Target: "management-trail", Reason: "logging was stopped"}
	manual := respond.Action{Step: respond.StepRestore, Kind: respond.KindManual, Reason: "put CloudTrail's grant back in the key policy"}
	rep := respond.ReconcileReport{Started: now, Mode: "enforce",
		Drifts: []respond.Drift{
			{Resource: "trail management-trail", Field: "logging", Want: "on", Got: "off", Actions: []respond.Action{start}, New: true},
			{Resource: "key 1234abcd", Field: "keyPolicy", Want: "grants CloudTrail", Got: "no grant", Actions: []respond.Action{manual}, New: true},
		},
		Outcomes: []respond.Outcome{{Action: start, Status: respond.StatusDone}, {Action: manual, Status: respond.StatusManual}},
	}
	fs := notify.DriftASFF(rep, "123456789012", "us-east-1", now)
	if len(fs) != 2 {
		t.Fatalf("%d findings, want one per drift", len(fs))
	}
	for _, f := range fs {
		validASFF(t, f.Title, f)
	}
	if fs[0].Workflow.Status != notify.WorkflowResolved || fs[1].Workflow.Status != notify.WorkflowNotified {
		t.Errorf("workflows %s %s", fs[0].Workflow.Status, fs[1].Workflow.Status)
	}
	if fs[0].Resources[0].Type != "AwsCloudTrailTrail" || fs[1].Resources[0].Type != "AwsKmsKey" {
		t.Errorf("resources %+v %+v", fs[0].Resources, fs[1].Resources)
	}
	if !strings.Contains(fs[0].ProductFields["trailguard/Action/01"], "[done] restore: start-logging") {
		t.Errorf("drift outcome not carried: %v", fs[0].ProductFields)
	}
	// Organization reconciliation names each drift's account: the finding
	// is that account's.
	org := rep
	org.Drifts = []respond.Drift{rep.Drifts[0]}
	org.Drifts[0].Resource = "account 222222222222 (prod): trail management-trail"
	if f := notify.DriftASFF(org, "111111111111", "us-east-1", now)[0]; f.AwsAccountID != "222222222222" ||
		f.ProductARN != notify.ProductARN("us-east-1", "222222222222") || f.Resources[0].ID != "arn:aws:cloudtrail:us-east-1:222222222222:trail/management-trail" {
		t.Errorf("organization drift: account %s product %s resource %s", f.AwsAccountID, f.ProductARN, f.Resources[0].ID)
	}
	// The same drift seen again is the same finding.
	if again := notify.DriftASFF(rep, "123456789012", "us-east-1", now.Add(time.Hour)); again[0].ID != fs[0].ID || again[0].ID == fs[1].ID {
		t.Errorf("drift Ids not stable per drift: %s %s %s", fs[0].ID, again[0].ID, fs[1].ID)
	}
}

// importer records what it was asked to import.
type importer struct{ got []string }

func (i *importer) BatchImportFindings(_ context.Context, in *securityhub.BatchImportFindingsInput, _ ...func(*securityhub.Options)) (*securityhub.BatchImportFindingsOutput, error) {
	for _, f := range in.Findings {
		i.got = append(i.got, aws.ToString(f.AwsAccountId))
	}
	return &securityhub.BatchImportFindingsOutput{SuccessCount: aws.Int32(int32(len(in.Findings))), FailedCount: aws.Int32(0)}, nil
}

// Organization mode: each finding is imported by its own account's client
// (with the default product the caller must be the finding's account).
func TestSecurityHubImportsEachAccountsFindingsThroughItsClient(t *testing.T) {
	clients := map[string]*importer{"111111111111": {}, "222222222222": {}}
	h := notify.SecurityHub{Region: "us-east-1", ClientFor: func(_ context.Context, account string) (notify.FindingsImporter, error) {
		c, ok := clients[account]
		if !ok {
			return nil, errors.New("no access")
		}
		return c, nil
	}}
	var fs []notify.Finding
	for _, account := range []string{"111111111111", "222222222222", "111111111111", "333333333333"} {
		r := report(t, "stoplogging-iamuser", respond.StatusDone)
		r.Event.Record.RecipientAccountID = account
		fs = append(fs, notify.ASFF(r, "us-east-1", now))
	}
	res, err := h.Import(context.Background(), fs)
	if res.Imported != 3 || err == nil || !strings.Contains(err.Error(), "333333333333") {
		t.Errorf("result %+v, error %v: want 3 imported and the account without access named", res, err)
	}
	if g := clients["111111111111"].got; len(g) != 2 || g[0] != "111111111111" || g[1] != "111111111111" {
		t.Errorf("account 111111111111's client imported %v", g)
	}
	if g := clients["222222222222"].got; len(g) != 1 || g[0] != "222222222222" {
		t.Errorf("account 222222222222's client imported %v", g)
	}
}
