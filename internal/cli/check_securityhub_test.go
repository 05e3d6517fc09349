package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/trailguard/trailguard/internal/posture"
)

// check --securityhub imports exactly the failures (never the errors or
// passes) as findings mapped to the controls the check names; a second run
// updates the same findings.
func TestCheckSecurityHubImportsFailures(t *testing.T) {
	srv := useEmulator(t)
	ctx := t.Context()
	if _, err := srv.CreateLoggingTrail(ctx, "cli-sh", "cli-sh-logs"); err != nil {
		t.Fatal(err)
	}
	ct := cloudtrail.NewFromConfig(srv.Config(ctx))
	if _, err := ct.StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String("cli-sh")}); err != nil {
		t.Fatal(err)
	}
	hub := securityhub.NewFromConfig(srv.Config(ctx))
	for pass := 1; pass <= 2; pass++ {
		e, out, errb := testEnv(false, nil)
		code := run(ctx, []string{"check", "--output", "json", "--fail-on", "critical", "--securityhub"}, e)
		var rep posture.Report
		if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
			t.Fatalf("exit %d, not a JSON report: %v\n%s\nstderr: %s", code, err, out, errb)
		}
		if code != ExitFindings {
			t.Fatalf("pass %d: exit %d, want %d (a critical failure); stderr: %s", pass, code, ExitFindings, errb)
		}
		fails, errs := map[string]posture.Finding{}, 0
		for _, f := range rep.Findings {
			switch f.Status {
			case posture.Fail:
				fails["trailguard/check/"+f.ID+"|"+f.Resource] = f
			case posture.Error:
				errs++
			}
		}
		if errs == 0 {
			t.Log("no errored check in this run: the test cannot show errors are left out")
		}
		got, err := hub.GetFindings(ctx, &securityhub.GetFindingsInput{Filters: &shtypes.AwsSecurityFindingFilters{
			GeneratorId: []shtypes.StringFilter{{Value: aws.String("trailguard/check/"), Comparison: shtypes.StringFilterComparisonPrefix}},
		}})
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Findings) != len(fails) {
			t.Fatalf("pass %d: %d findings in Security Hub for %d failures (%d errors left out); stderr: %s", pass, len(got.Findings), len(fails), errs, errb)
		}
		if !strings.Contains(errb.String(), "security hub: imported") {
			t.Errorf("stderr does not say what was imported: %s", errb)
		}
		for _, f := range got.Findings {
			productFields := f.ProductFields
			key := aws.ToString(f.GeneratorId) + "|" + productFields["trailguard/Resource"]
			pf, ok := fails[key]
			if !ok {
				t.Errorf("finding %s is not a failure of the report", key)
				continue
			}
			if f.Compliance == nil || f.Compliance.Status != shtypes.ComplianceStatusFailed {
				t.Errorf("%s: compliance %+v", key, f.Compliance)
				continue
			}
			for _, c := range pf.Controls {
				if c.SecurityHub != "" && aws.ToString(f.Compliance.SecurityControlId) == "" {
					t.Errorf("%s: no SecurityControlId although the check names %s", key, c.SecurityHub)
				}
				for _, want := range []string{c.SecurityHub, c.CIS} {
					if want != "" && !strings.Contains(strings.Join(f.Compliance.RelatedRequirements, "|"), want) {
						t.Errorf("%s: related requirements %v lack %s", key, f.Compliance.RelatedRequirements, want)
					}
				}
			}
		}
	}
}
