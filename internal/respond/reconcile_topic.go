package respond

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/trailguard/trailguard/internal/catalog"
	"github.com/trailguard/trailguard/internal/policy"
	"github.com/trailguard/trailguard/internal/trail"
)

// TopicAPI is the part of SNS reconciliation reads on the alert topic (the
// SDK's SNS client satisfies it).
type TopicAPI interface {
	GetTopicAttributes(context.Context, *sns.GetTopicAttributesInput, ...func(*sns.Options)) (*sns.GetTopicAttributesOutput, error)
	ListSubscriptionsByTopic(context.Context, *sns.ListSubscriptionsByTopicInput, ...func(*sns.Options)) (*sns.ListSubscriptionsByTopicOutput, error)
}

const snsSource = "sns.amazonaws.com"

// subscriptionPages bounds the subscriptions read: the first confirmed one
// ends the search, so only a topic with thousands pending reaches it.
const subscriptionPages = 20

// topicDrift compares the alert topic (TRAILGUARD_TOPIC_ARN) with what was
// deployed: it exists, its policy still lets EventBridge publish for the
// owners' direct rules, and someone is subscribed. None of it is repaired:
// a topic's policy and subscriptions are the owners' (emails they confirm),
// so each drift is alerted with the step from the catalog's row for the
// call that causes it (DeleteTopic, SetTopicAttributes, Unsubscribe). A
// deleted topic's alert cannot go through the topic: it reaches the
// function's log and, with TRAILGUARD_SECURITYHUB, Security Hub.
func (e *Engine) topicDrift(ctx context.Context) ([]Drift, error) {
	arn := e.settings.TopicARN
	res := "topic " + arn
	a, _ := trail.ParseARN(arn)
	in := func(o *sns.Options) { setRegion(&o.Region, a.Region) }
	t := Target{Kind: catalog.Topic, ID: arn, Region: a.Region, Protected: true, Account: a.Account}
	out, err := e.res.Topic.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(arn)}, in)
	switch {
	case errorCode(err) == "NotFound":
		return []Drift{{Resource: res, Field: "topic", Want: "exists", Got: "deleted",
			Actions: e.asIf(snsSource, "DeleteTopic", t, nil, trail.Config{})}}, nil
	case err != nil:
		return nil, fmt.Errorf("read %s: %w", res, err)
	}
	var ds []Drift
	if got, ok := e.ownersMayPublish(out.Attributes["Policy"]); !ok {
		ds = append(ds, Drift{Resource: res, Field: "policy", Want: "lets events.amazonaws.com sns:Publish for the owners' rules", Got: got,
			Actions: e.asIf(snsSource, "SetTopicAttributes", t, nil, trail.Config{})})
	}
	got, err := e.confirmedSubscriptions(ctx, arn, in)
	if err != nil {
		return ds, fmt.Errorf("read the subscriptions of %s: %w", res, err)
	}
	if got != "" {
		ds = append(ds, Drift{Resource: res, Field: "subscriptions", Want: "at least one confirmed", Got: got,
			Actions: e.asIf(snsSource, "Unsubscribe", t, nil, trail.Config{})})
	}
	return ds, nil
}

// confirmedSubscriptions returns "" when the topic has a confirmed
// subscription, otherwise what it has instead.
func (e *Engine) confirmedSubscriptions(ctx context.Context, arn string, opt func(*sns.Options)) (string, error) {
	in := &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(arn)}
	pending := 0
	for range subscriptionPages {
		out, err := e.res.Topic.ListSubscriptionsByTopic(ctx, in, opt)
		if err != nil {
			return "", err
		}
		for _, s := range out.Subscriptions {
			switch aws.ToString(s.SubscriptionArn) {
			case "PendingConfirmation":
				pending++
			case "Deleted", "":
			default:
				return "", nil
			}
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	if pending > 0 {
		return fmt.Sprintf("none confirmed (%d pending confirmation)", pending), nil
	}
	return "none", nil
}

// ownersMayPublish judges the topic's policy with the IAM evaluator: may
// EventBridge publish for each of the owners' direct rules (as it does, over
// TLS, from this account)? ok is true when every one is allowed, or when no
// owners' rule is deployed (then nothing depends on the policy).
func (e *Engine) ownersMayPublish(raw string) (got string, ok bool) {
	rules := e.ownRuleARNs(true)
	if len(rules) == 0 {
		return "", true
	}
	doc, err := policy.Parse([]byte(raw))
	if err != nil {
		return "cannot tell: the policy does not parse: " + err.Error(), false
	}
	return serviceMay(doc, "events.amazonaws.com", "sns:Publish", e.settings.TopicARN, rules)
}

// serviceMay evaluates service's action on resource for each rule as the
// source: "" and true when all are allowed, otherwise why not for the first
// that is not.
func serviceMay(doc policy.Document, service, action, resource string, rules []string) (string, bool) {
	for _, r := range rules {
		a, _ := trail.ParseARN(r)
		d := policy.Evaluate(doc, policy.Request{
			Principal: policy.Principal{Service: service}, Action: action, Resource: resource,
			Context: map[string][]string{"aws:SourceArn": {r}, "aws:SourceAccount": {a.Account}, "aws:SecureTransport": {"true"}},
		})
		if d.Result != policy.Allow {
			return "rule " + lastSegment(r) + ": " + d.Reason(), false
		}
	}
	return "", true
}

// ownRuleARNs are the ARNs of trailguard's rules in its own region: the
// owners' direct rules (to the topic) when owners is true, otherwise the
// rules that invoke the responder (every other one; a rule whose id the
// settings do not give is counted with these).
func (e *Engine) ownRuleARNs(owners bool) []string {
	a, ok := trail.ParseARN(e.settings.TopicARN)
	if !ok {
		return nil
	}
	region := firstNonEmpty(e.settings.Region, a.Region)
	var out []string
	for _, name := range e.settings.Rules {
		if isSpokeRule(name) {
			continue
		}
		if strings.HasPrefix(e.settings.RuleIDs[name], catalog.OwnerRuleIDPrefix) != owners {
			continue
		}
		out = append(out, "arn:"+a.Partition+":events:"+region+":"+a.Account+":rule/"+name)
	}
	return out
}
