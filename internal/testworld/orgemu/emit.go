package orgemu

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// emit builds the CloudTrail record of a successful write and sends it
// through the account's rules in the event's region.
func (o *Org) emit(ctx context.Context, p *Principal, q request, ev *emitted) {
	o.mu.Lock()
	o.seq++
	id := fmt.Sprintf("0e000000-0000-4000-8000-%012d", o.seq)
	identity := map[string]any{"type": p.Type, "arn": p.ARN, "accountId": p.Account, "accessKeyId": p.AccessKeyID,
		"principalId": "AIDA" + strings.TrimPrefix(strings.TrimPrefix(p.AccessKeyID, "AKIA"), "ASIA")}
	switch p.Type {
	case "IAMUser":
		identity["userName"] = p.UserName
	case "AssumedRole":
		identity["sessionContext"] = map[string]any{
			"sessionIssuer": map[string]any{"type": "Role", "arn": "arn:aws:iam::" + p.Account + ":role/" + p.RoleName,
				"accountId": p.Account, "userName": p.RoleName},
			"attributes": map[string]any{"mfaAuthenticated": "false", "creationDate": time.Now().UTC().Format(time.RFC3339)},
		}
	}
	now := time.Now().UTC().Format(time.RFC3339)
	record := map[string]any{
		"eventVersion": "1.11", "userIdentity": identity, "eventTime": now, "eventSource": ev.source, "eventName": ev.name,
		"awsRegion": ev.region, "sourceIPAddress": "203.0.113.50", "userAgent": "aws-sdk-go-v2",
		"requestParameters": q.params(), "responseElements": nil, "requestID": id, "eventID": id,
		"readOnly": false, "eventType": "AwsApiCall", "managementEvent": true, "recipientAccountId": p.Account,
		"eventCategory": "Management",
	}
	envelope := map[string]any{"version": "0", "id": id, "detail-type": "AWS API Call via CloudTrail",
		"source": "aws." + strings.TrimSuffix(ev.source, ".amazonaws.com"), "account": p.Account, "time": now,
		"region": ev.region, "resources": []any{}, "detail": record}
	var targets []string
	if a := o.accounts[p.Account]; a != nil {
		for _, r := range a.Rules[ev.region] {
			if r.State == "ENABLED" && matches(r.Pattern, envelope) {
				for _, t := range r.Targets {
					if strings.Contains(t, ":event-bus/") {
						targets = append(targets, t)
					}
				}
			}
		}
	}
	forward := o.Forward
	o.mu.Unlock()
	if forward == nil || len(targets) == 0 {
		return
	}
	raw, _ := json.Marshal(envelope)
	for range targets {
		if err := forward(ctx, raw); err != nil {
			o.mu.Lock()
			o.forwards = append(o.forwards, err)
			o.mu.Unlock()
		}
	}
}

// matches evaluates an EventBridge pattern of exact values (lists of strings
// at any depth), the only kind trailguard's catalog produces.
func matches(pattern string, event map[string]any) bool {
	var p map[string]any
	if json.Unmarshal([]byte(pattern), &p) != nil {
		return false
	}
	return matchObj(p, event)
}

func matchObj(p, ev map[string]any) bool {
	for k, want := range p {
		got := ev[k]
		switch w := want.(type) {
		case map[string]any:
			sub, ok := got.(map[string]any)
			if !ok || !matchObj(w, sub) {
				return false
			}
		case []any:
			s, ok := got.(string)
			if !ok || !anyOf(w, s) {
				return false
			}
		default:
			return false
		}
	}
	return true
}
