package posture_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard/internal/posture"
	"github.com/trailguard/trailguard/internal/testworld"
)

// Only failures become findings, each valid for Security Hub and mapped to
// the controls its check names.
func TestASFFImportsFailuresOnly(t *testing.T) {
	rep := &posture.Report{Account: "123456789012", Findings: []posture.Finding{
		{ID: "trail.logging", Status: posture.Fail, Severity: posture.Critical, Region: "us-east-1", Resource: "legacy",
			ARN: "arn:aws:cloudtrail:us-east-1:123456789012:trail/legacy", Title: "Trail is logging", Detail: "IsLogging is false",
			Why: "a stopped trail records nothing", Fix: "aws cloudtrail start-logging --name legacy",
			Controls: []posture.Control{{SecurityHub: "CloudTrail.3"}}},
		{ID: "bucket.public-access-block", Status: posture.Fail, Severity: posture.Critical, Region: "us-east-1", Resource: "legacy-logs",
			Title: "Trail bucket blocks all public access", Why: strings.Repeat("w", 2000), Fix: strings.Repeat("f", 900),
			Controls: []posture.Control{{SecurityHub: "CloudTrail.6", CIS: "CIS v1.2.0 2.3"}, {SecurityHub: "S3.8", CIS: "CIS v3.0.0 2.1.4"}}},
		{ID: "account.regions", Status: posture.Error, Severity: posture.Medium, Resource: "account", Title: "Enabled regions could be listed"},
		{ID: "trail.multi-region", Status: posture.Pass, Severity: posture.High, Region: "us-east-1", Resource: "legacy", Title: "Trail is multi-region"},
	}}
	fs := posture.ASFF(rep, "us-east-1", time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC))
	if len(fs) != 2 {
		t.Fatalf("%d findings, want the 2 failures (no error, no pass)", len(fs))
	}
	for _, f := range fs {
		b, _ := json.Marshal(f)
		if err := testworld.ValidateFinding(b); err != nil {
			t.Errorf("%s: %v", f.ID, err)
		}
		if f.Compliance == nil || f.Compliance.Status != "FAILED" {
			t.Errorf("%s: compliance %+v", f.ID, f.Compliance)
		}
	}
	if c := fs[0].Compliance; c.SecurityControlID != "CloudTrail.3" || fs[0].Resources[0].Type != "AwsCloudTrailTrail" || fs[0].Severity.Label != "CRITICAL" {
		t.Errorf("trail.logging: %+v %+v %+v", c, fs[0].Resources, fs[0].Severity)
	}
	if c := fs[1].Compliance; c.SecurityControlID != "CloudTrail.6" || strings.Join(c.RelatedRequirements, "|") != "AWS Foundational Security Best Practices CloudTrail.6|CIS v1.2.0 2.3|AWS Foundational Security Best Practices S3.8|CIS v3.0.0 2.1.4" {
		t.Errorf("bucket: compliance %+v", c)
	}
	if again := posture.ASFF(rep, "us-east-1", time.Now()); again[0].ID != fs[0].ID {
		t.Error("a later run does not update the same finding")
	}
}
