package posture

import (
	"fmt"
	"strings"
	"time"

	"github.com/trailguard/trailguard/internal/notify"
)

// ASFF renders the report's failures as Security Hub findings of the
// report's account, to import in region (`trailguard check --securityhub`).
// Only failures become findings: an error means the check could not look,
// which is not evidence of a failing control, and a pass needs no triage.
// Each finding is mapped to the controls the check names (Security Hub
// control ID and CIS recommendations), and its Id depends only on the check
// and the resource, so a later run updates the same finding.
func ASFF(rep *Report, region string, now time.Time) []notify.Finding {
	var out []notify.Finding
	for _, f := range rep.Findings {
		if f.Status != Fail {
			continue
		}
		where := f.Region
		if where == "" {
			where = region
		}
		sev := notify.Severity{Label: asffLabel(f.Severity), Original: f.Severity.String()}
		types := []string{"Software and Configuration Checks/AWS Security Best Practices/CloudTrail Posture"}
		comp := &notify.Compliance{Status: "FAILED"}
		for _, c := range f.Controls {
			if c.SecurityHub != "" {
				if comp.SecurityControlID == "" {
					comp.SecurityControlID = c.SecurityHub
				}
				comp.RelatedRequirements = append(comp.RelatedRequirements, "AWS Foundational Security Best Practices "+c.SecurityHub)
			}
			if c.CIS != "" {
				comp.RelatedRequirements = append(comp.RelatedRequirements, c.CIS)
				if !strings.Contains(strings.Join(types, "|"), "CIS") {
					types = append(types, "Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark")
				}
			}
		}
		if len(comp.RelatedRequirements) > notify.MaxRequirements {
			comp.RelatedRequirements = comp.RelatedRequirements[:notify.MaxRequirements]
		}
		desc := strings.TrimSpace(f.Detail + " Why it matters: " + f.Why)
		if f.Detail != "" {
			desc = f.Detail + ". Why it matters: " + f.Why
		}
		x := notify.Finding{
			SchemaVersion: notify.SchemaVersion,
			ID:            notify.Clip(fmt.Sprintf("trailguard/%s/%s/check/%s/%s", rep.Account, where, f.ID, f.Resource), notify.MaxID),
			ProductARN:    notify.ProductARN(region, rep.Account),
			GeneratorID:   "trailguard/check/" + f.ID,
			AwsAccountID:  rep.Account,
			Region:        region,
			Types:         types,
			CreatedAt:     notify.Stamp(now), UpdatedAt: notify.Stamp(now),
			FirstObservedAt: notify.Stamp(now), LastObservedAt: notify.Stamp(now),
			Severity:              sev,
			Title:                 notify.Clip(f.Title+": failed for "+f.Resource, notify.MaxTitle),
			Description:           notify.Clip(desc, notify.MaxDescription),
			Resources:             []notify.Resource{checkResource(f, rep.Account, where)},
			Compliance:            comp,
			RecordState:           "ACTIVE",
			Workflow:              &notify.Workflow{Status: notify.WorkflowNew},
			FindingProviderFields: &notify.FindingProviderFields{Severity: &sev, Types: types},
			ProductFields:         map[string]string{"trailguard/Check": f.ID, "trailguard/Resource": notify.Clip(f.Resource, notify.MaxFieldValue)},
		}
		if f.Fix != "" {
			x.Remediation = &notify.Remediation{Recommendation: notify.Recommendation{Text: notify.Clip(f.Fix, notify.MaxRecommendation)}}
		}
		out = append(out, x)
	}
	return out
}

func asffLabel(s Severity) string {
	switch s {
	case Low:
		return "LOW"
	case Medium:
		return "MEDIUM"
	case High:
		return "HIGH"
	case Critical:
		return "CRITICAL"
	}
	return "INFORMATIONAL"
}

// checkResource names what a check looked at, by the check's family.
func checkResource(f Finding, account, region string) notify.Resource {
	p := notify.Partition(region)
	family, _, _ := strings.Cut(f.ID, ".")
	r := notify.Resource{Type: "Other", ID: notify.Clip(f.Resource, notify.MaxID), Partition: p, Region: region}
	switch family {
	case "trail":
		r.Type, r.ID = "AwsCloudTrailTrail", f.ARN
		if r.ID == "" {
			r.ID = fmt.Sprintf("arn:%s:cloudtrail:%s:%s:trail/%s", p, region, account, f.Resource)
		}
	case "bucket":
		r.Type, r.ID = "AwsS3Bucket", "arn:"+p+":s3:::"+f.Resource
	case "account":
		r.Type, r.ID = "AwsAccount", "AWS::::Account:"+account
	}
	return r
}
