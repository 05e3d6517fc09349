package posture

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/trailguard/trailguard/internal/catalog"
)

// ruleMatch says how far an EventBridge rule's pattern delivers what
// trailguard's catalog rule for CloudTrail must see.
type ruleMatch struct {
	// relevant: the pattern is about CloudTrail API calls at all.
	relevant bool
	// missing lists catalog event names the pattern would not deliver.
	missing []string
}

// cloudTrailRule is the catalog's rule for CloudTrail's own API calls, the
// one that must be deployed in every region.
func cloudTrailRule() catalog.Rule {
	for _, r := range catalog.Rules() {
		if r.EventSource == "cloudtrail.amazonaws.com" {
			return r
		}
	}
	panic("catalog has no cloudtrail rule")
}

// matchPattern compares a rule's pattern with want by content. Absent keys
// match everything, as in EventBridge; only exact string values count, so a
// prefix or anything-but filter is treated as not delivering the name.
func matchPattern(pattern string, want catalog.Pattern) ruleMatch {
	var p map[string]any
	if err := json.Unmarshal([]byte(pattern), &p); err != nil {
		return ruleMatch{}
	}
	if !allows(p["source"], want.Source[0]) || !allows(p["detail-type"], want.DetailType[0]) {
		return ruleMatch{}
	}
	detail, _ := p["detail"].(map[string]any)
	if detail != nil && !allows(detail["eventSource"], want.Detail.EventSource[0]) {
		return ruleMatch{}
	}
	var names any
	if detail != nil {
		names = detail["eventName"]
	}
	m := ruleMatch{relevant: true}
	for _, n := range want.Detail.EventName {
		if !allows(names, n) {
			m.missing = append(m.missing, n)
		}
	}
	return m
}

// allows reports whether a pattern field (nil, or a list of values) matches s.
func allows(field any, s string) bool {
	if field == nil {
		return true
	}
	list, ok := field.([]any)
	if !ok {
		return false
	}
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// ruleFinding judges whether trailguard's CloudTrail rule protects region.
func ruleFinding(region string, rules []ebtypes.Rule, err error) Finding {
	want := cloudTrailRule()
	f := Finding{
		ID: "region.responder-rule", Severity: High, Region: region, Resource: region,
		Title: "trailguard's EventBridge rule for CloudTrail is deployed and enabled",
		Why:   "without an enabled rule matching CloudTrail's tamper calls in this region, StopLogging, DeleteTrail or PutEventSelectors here reach no responder: nobody restores the trail or is told",
		Fix:   "deploy trailguard's stack to this region (npx aws-cdk@2 deploy with the region in the stack's regions), or re-enable the rule: aws events enable-rule --name <rule> --region " + region,
	}
	if err != nil {
		f.Status, f.Detail = Error, errorDetail(err)
		f.Fix = errorAdvice(err, "events:ListRules")
		return f
	}
	var best *ebtypes.Rule
	var bestMissing []string
	for i := range rules {
		r := &rules[i]
		m := matchPattern(aws.ToString(r.EventPattern), want.Pattern)
		if !m.relevant {
			continue
		}
		better := best == nil ||
			len(m.missing) < len(bestMissing) ||
			(len(m.missing) == len(bestMissing) && r.State == ebtypes.RuleStateEnabled && best.State != ebtypes.RuleStateEnabled)
		if better {
			best, bestMissing = r, m.missing
		}
	}
	switch {
	case best == nil:
		f.Status, f.Detail = Fail, "no rule on the default event bus matches CloudTrail's API calls"
	case len(bestMissing) > 0:
		f.Status, f.Resource = Fail, aws.ToString(best.Name)
		f.ARN = aws.ToString(best.Arn)
		f.Detail = fmt.Sprintf("rule %s misses %s", aws.ToString(best.Name), strings.Join(bestMissing, ", "))
		f.Fix = "update the rule to trailguard's current pattern by redeploying the stack; the pattern is: " + want.Pattern.JSON()
	case best.State != ebtypes.RuleStateEnabled:
		f.Status, f.Resource = Fail, aws.ToString(best.Name)
		f.ARN = aws.ToString(best.Arn)
		f.Detail = fmt.Sprintf("rule %s is %s", aws.ToString(best.Name), best.State)
		f.Fix = "aws events enable-rule --name " + aws.ToString(best.Name) + " --region " + region
	default:
		f.Status, f.Resource = Pass, aws.ToString(best.Name)
		f.ARN = aws.ToString(best.Arn)
		f.Detail = "rule " + aws.ToString(best.Name) + " is enabled and matches every catalog event"
	}
	return f
}
