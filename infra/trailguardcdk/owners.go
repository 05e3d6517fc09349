package trailguardcdk

import (
	"math"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/trailguard/trailguard/internal/catalog"
	"github.com/trailguard/trailguard/internal/config"
)

// The owners' path that does not run through the responder. An intruder
// who reconfigures the function can silence or redirect every alert it
// sends; two things here still reach the owners:
//
//   - the owners' rules (catalog.OwnerRules): calls on trailguard's own
//     rules, function, topic and role go from EventBridge straight to the
//     alert topic, as a readable message;
//   - the heartbeat alarms: the reconcile schedule stopped invoking the
//     function, or the function stopped reporting a successful
//     reconciliation. Missing data counts as breaching, so a deleted or
//     disabled schedule, a function that no longer runs and code that no
//     longer reconciles all page the topic.

// alarmIDs are the ids of trailguard's alarms, named like its rules.
var alarmIDs = []string{"errors", "throttles", "dead-letter", "failure", "reconcile-heartbeat", "reconcile-succeeded"}

// reconcileEvery is the reconcile schedule in the forms its users need.
type reconcileEvery struct {
	duration   awscdk.Duration
	schedule   awsevents.Schedule
	expression *string
}

func newReconcileEvery(d awscdk.Duration) reconcileEvery {
	if d == nil {
		d = awscdk.Duration_Minutes(jsii.Number(defaultReconcileEvery))
	}
	s := awsevents.Schedule_Rate(d)
	return reconcileEvery{duration: d, schedule: s, expression: s.ExpressionString()}
}

// ownerRules deploys the owners' direct rules, named names (in the order of
// ids), each targeting the alert topic with the catalog's message.
func (p *protection) ownerRules(ids, names []string) {
	rules := catalog.OwnerRules(catalog.Owned{
		RuleNames:    p.ruleNames,
		FunctionName: *p.fn.FunctionName(),
		TopicARN:     *p.topic.TopicArn(),
		RoleName:     *p.role.RoleName(),
		Alarms:       alarmList(p.alarmNames),
	})
	var arns []*string
	for i, id := range ids {
		for _, r := range rules {
			if r.ID != id {
				continue
			}
			paths := map[string]*string{}
			for k, v := range r.InputPathsMap {
				paths[k] = jsii.String(v)
			}
			rule := awsevents.NewCfnRule(p.scope, jsii.String("Owners-"+r.ID), &awsevents.CfnRuleProps{
				Name:         jsii.String(names[i]),
				Description:  jsii.String("trailguard: calls on trailguard's own resources, straight to the owners (not through the responder)"),
				State:        jsii.String("ENABLED"),
				EventPattern: r.Pattern,
				Targets: &[]interface{}{&awsevents.CfnRule_TargetProperty{
					Id:  jsii.String("Target0"),
					Arn: p.topic.TopicArn(),
					InputTransformer: &awsevents.CfnRule_InputTransformerProperty{
						InputPathsMap: &paths,
						InputTemplate: jsii.String(r.InputTemplate),
					},
				}},
			})
			arns = append(arns, rule.AttrArn())
		}
	}
	if len(arns) == 0 {
		return
	}
	p.topic.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("OwnersRulesPublish"),
		Effect:     awsiam.Effect_ALLOW,
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), nil)},
		Actions:    jsii.Strings("sns:Publish"),
		Resources:  &[]*string{p.topic.TopicArn()},
		Conditions: &map[string]interface{}{"ArnEquals": map[string]interface{}{"aws:SourceArn": arns}},
	}))
}

// heartbeat adds the two alarms that page when reconciliation stops: the
// schedule no longer invokes its target, or no reconciliation succeeded.
// The window is three schedule periods (at most a day), so one late or
// failed run does not page.
func (p *protection) heartbeat(reconcileRule string, every awscdk.Duration) {
	secs := 3 * *every.ToSeconds(nil)
	secs = math.Min(math.Ceil(secs/60)*60, 86400)
	window := awscdk.Duration_Seconds(jsii.Number(secs))
	p.addAlarms([]alarm{
		{"reconcile-heartbeat", "ReconcileHeartbeatAlarm", "trailguard's reconcile schedule did not invoke the responder (rule " + reconcileRule + " disabled, deleted, slowed or retargeted?)",
			awscloudwatch.NewMetric(&awscloudwatch.MetricProps{Namespace: jsii.String("AWS/Events"), MetricName: jsii.String("Invocations"),
				DimensionsMap: &map[string]*string{"RuleName": jsii.String(reconcileRule)}, Statistic: jsii.String("Sum"), Period: window})},
		{"reconcile-succeeded", "ReconcileSucceededAlarm", "trailguard's responder reported no successful reconciliation (stopped, failing, or its code or settings changed?)",
			awscloudwatch.NewMetric(&awscloudwatch.MetricProps{Namespace: jsii.String(config.HeartbeatNamespace), MetricName: jsii.String(config.HeartbeatMetric),
				DimensionsMap: &map[string]*string{"FunctionName": p.fn.FunctionName()}, Statistic: jsii.String("Sum"), Period: window})},
		// Below one invocation or success in the window, or no data at
		// all (nothing ran): page.
	}, 1, awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD, awscloudwatch.TreatMissingData_BREACHING)
}

// alarmList returns the alarms' names in alarmIDs' order.
func alarmList(names map[string]string) []string {
	var out []string
	for _, id := range alarmIDs {
		out = append(out, names[id])
	}
	return out
}
