package awsx_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/trailguard/trailguard/internal/awsx"
	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/respond"
	"github.com/trailguard/trailguard/internal/trail"
)

// Reconciliation of trailguard's surroundings against the emulator: the
// drifts no event announced are found through the real SDK and repaired or
// alerted (the engine tests in internal/respond cover every variant).

func retention(t *testing.T, w *world, group string) (exists bool, days int32) {
	t.Helper()
	out, err := w.clients.Logs.DescribeLogGroups(context.Background(), &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(group)})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range out.LogGroups {
		if aws.ToString(g.LogGroupName) == group {
			return true, aws.ToInt32(g.RetentionInDays)
		}
	}
	return false, 0
}

func driftNamed(rep respond.ReconcileReport, resource, field string) bool {
	for _, d := range rep.Drifts {
		if d.Resource == resource && d.Field == field {
			return true
		}
	}
	return false
}

// The responder's own log group: a shortened retention and then the group's
// deletion are each put back by the next run, which then finds nothing.
func TestReconcileLogGroupRetentionAndDeletion(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	group := "/aws/lambda/comp-responder-" + w.trailName
	if _, err := w.clients.Logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.clients.Logs.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String(group), RetentionInDays: aws.Int32(3)}); err != nil {
		t.Fatal(err)
	}
	e := awsx.NewEngine(w.settings(t, map[string]string{config.EnvLogGroupName: group, config.EnvRegion: "us-east-1"}), w.clients)
	rep, err := e.Reconcile(ctx)
	if err != nil || !driftNamed(rep, "log group "+group, "retention") {
		t.Fatalf("first run: %v %+v %+v", err, rep.Drifts, rep.Outcomes)
	}
	if ok, days := retention(t, w, group); !ok || days != 365 {
		t.Errorf("retention after the run: exists %v, %d days", ok, days)
	}

	if _, err := w.clients.Logs.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String(group)}); err != nil {
		t.Fatal(err)
	}
	rep, err = e.Reconcile(ctx)
	if err != nil || !driftNamed(rep, "log group "+group, "log group") {
		t.Fatalf("second run: %v %+v %+v", err, rep.Drifts, rep.Outcomes)
	}
	if ok, _ := retention(t, w, group); !ok {
		t.Error("the deleted log group was not created again")
	}
	rep, err = e.Reconcile(ctx)
	if err != nil || driftNamed(rep, "log group "+group, "log group") || driftNamed(rep, "log group "+group, "retention") {
		t.Errorf("converged run: %v %+v", err, rep.Drifts)
	}
	w.alerts(t, 2)
}

// The alert topic: a policy that no longer lets the owners' rules publish,
// then every subscription gone, then the topic deleted. Each is found and
// alerted (never repaired); the last alert cannot go through the deleted
// topic, and the run says so in its error instead of reporting success.
func TestReconcileAlertTopic(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	rule := "comp-owners-sns-" + w.trailName
	a, _ := trail.ParseARN(w.topicARN)
	ruleARN := "arn:aws:events:us-east-1:" + a.Account + ":rule/" + rule
	e := awsx.NewEngine(w.settings(t, map[string]string{config.EnvRules: "owners-sns=" + rule, config.EnvRegion: "us-east-1"}), w.clients)
	setPolicy := func(doc string) {
		t.Helper()
		if _, err := w.clients.SNS.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: aws.String(w.topicARN),
			AttributeName: aws.String("Policy"), AttributeValue: aws.String(doc)}); err != nil {
			t.Fatal(err)
		}
	}
	deployed := `{"Version":"2012-10-17","Statement":[{"Sid":"OwnersRulesPublish","Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},` +
		`"Action":"sns:Publish","Resource":"` + w.topicARN + `","Condition":{"ArnEquals":{"aws:SourceArn":"` + ruleARN + `"}}}]}`
	setPolicy(deployed)
	// The world has no bucket policy and no owners' rule: those drifts are
	// the first run's; the topic as deployed is none of them.
	rep, err := e.Reconcile(ctx)
	for _, f := range []string{"topic", "policy", "subscriptions"} {
		if driftNamed(rep, "topic "+w.topicARN, f) {
			t.Fatalf("as deployed: %v %+v", err, rep.Drifts)
		}
	}
	w.alerts(t, 1)

	setPolicy(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sns:Subscribe","Resource":"` + w.topicARN + `"}]}`)
	rep, err = e.Reconcile(ctx)
	if err != nil || !driftNamed(rep, "topic "+w.topicARN, "policy") || !rep.Alerted || len(rep.NewDrifts()) != 1 {
		t.Fatalf("policy: %v %+v", err, rep.Drifts)
	}
	if got := w.alerts(t, 1); !strings.Contains(got[0].Message, "policy") {
		t.Errorf("alert %q", got[0].Message)
	}
	setPolicy(deployed)

	subs, err := w.clients.SNS.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(w.topicARN)})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range subs.Subscriptions {
		if _, err := w.clients.SNS.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: s.SubscriptionArn}); err != nil {
			t.Fatal(err)
		}
	}
	rep, err = e.Reconcile(ctx)
	if err != nil || !driftNamed(rep, "topic "+w.topicARN, "subscriptions") || len(rep.NewDrifts()) != 1 {
		t.Fatalf("subscriptions: %v %+v", err, rep.Drifts)
	}

	if _, err := w.clients.SNS.DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: aws.String(w.topicARN)}); err != nil {
		t.Fatal(err)
	}
	rep, err = e.Reconcile(ctx)
	if !driftNamed(rep, "topic "+w.topicARN, "topic") || rep.Alerted || err == nil || !strings.Contains(err.Error(), "drift alert") {
		t.Errorf("deleted topic: alerted %v, err %v, drifts %+v", rep.Alerted, err, rep.Drifts)
	}
}

// trailguard's alarms: actions disabled (no event seen) are enabled again;
// an alarm deleted, or notifying another topic, is alerted with the
// redeploy step.
func TestReconcileAlarms(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	silenced, deleted, redirected := "comp-alarm-errors-"+w.trailName, "comp-alarm-heartbeat-"+w.trailName, "comp-alarm-failure-"+w.trailName
	for _, n := range []string{silenced, deleted, redirected} {
		if _, err := w.clients.CloudWatch.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String(n), Namespace: aws.String("AWS/Lambda"),
			MetricName: aws.String("Errors"), Statistic: cwtypes.StatisticSum, Period: aws.Int32(300), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(0),
			ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold, AlarmActions: []string{w.topicARN}}); err != nil {
			t.Fatal(err)
		}
	}
	e := awsx.NewEngine(w.settings(t, map[string]string{config.EnvAlarms: strings.Join([]string{silenced, deleted, redirected}, ","), config.EnvRegion: "us-east-1"}), w.clients)
	rep, err := e.Reconcile(ctx)
	for _, n := range []string{silenced, deleted, redirected} {
		if strings.Contains(fmt.Sprint(rep.Drifts), "alarm "+n) {
			t.Fatalf("as deployed: %v %+v", err, rep.Drifts)
		}
	}

	if _, err := w.clients.CloudWatch.DisableAlarmActions(ctx, &cloudwatch.DisableAlarmActionsInput{AlarmNames: []string{silenced}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.clients.CloudWatch.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{deleted}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.clients.CloudWatch.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String(redirected), Namespace: aws.String("AWS/Lambda"),
		MetricName: aws.String("Errors"), Statistic: cwtypes.StatisticSum, Period: aws.Int32(300), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(0),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold, AlarmActions: []string{"arn:aws:sns:us-east-1:000000000000:elsewhere"}}); err != nil {
		t.Fatal(err)
	}
	rep, err = e.Reconcile(ctx)
	if err != nil || !driftNamed(rep, "alarm "+silenced, "actionsEnabled") || !driftNamed(rep, "alarm "+deleted, "alarm") || !driftNamed(rep, "alarm "+redirected, "alarmActions") || !rep.Alerted {
		t.Fatalf("drifts: %v %+v %+v", err, rep.Drifts, rep.Outcomes)
	}
	out, err := w.clients.CloudWatch.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{silenced}})
	if err != nil || len(out.MetricAlarms) != 1 || !aws.ToBool(out.MetricAlarms[0].ActionsEnabled) || !slices.Contains(out.MetricAlarms[0].AlarmActions, w.topicARN) {
		t.Errorf("silenced alarm after the run: %v %+v", err, out)
	}
	// The next run: the silenced alarm acts again; the others stay drifts,
	// not alerted again.
	rep, err = e.Reconcile(ctx)
	if err != nil || driftNamed(rep, "alarm "+silenced, "actionsEnabled") || !driftNamed(rep, "alarm "+deleted, "alarm") || len(rep.NewDrifts()) != 0 {
		t.Errorf("next run: %v %+v", err, rep.Drifts)
	}
}

// The event path: DisableAlarmActions on one of trailguard's alarms is
// undone at once (EnableAlarmActions), and the actor contained; another
// alarm named in the same call is left alone.
func TestDisabledAlarmActionsRestoredByEvent(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	ours, theirs := "comp-alarm-errors-ev-"+w.trailName, "comp-alarm-theirs-"+w.trailName
	for _, n := range []string{ours, theirs} {
		if _, err := w.clients.CloudWatch.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String(n), Namespace: aws.String("AWS/Lambda"),
			MetricName: aws.String("Errors"), Statistic: cwtypes.StatisticSum, Period: aws.Int32(300), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(0),
			ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold, AlarmActions: []string{w.topicARN}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.clients.CloudWatch.DisableAlarmActions(ctx, &cloudwatch.DisableAlarmActionsInput{AlarmNames: []string{ours, theirs}}); err != nil {
		t.Fatal(err)
	}
	e := awsx.NewEngine(w.settings(t, map[string]string{config.EnvAlarms: ours}), w.clients)
	raw := strings.ReplaceAll(string(w.event(t, "cloudwatch-disablealarmactions").Raw), `"trailguard-errors"`, fmt.Sprintf("%q", ours))
	raw = strings.ReplaceAll(raw, `"someone-elses-alarm"`, fmt.Sprintf("%q", theirs))
	ev, err := trail.Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := e.Respond(ctx, ev); err != nil {
		t.Fatalf("%v %+v", err, rep.Outcomes)
	}
	out, err := w.clients.CloudWatch.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{ours, theirs}})
	if err != nil || len(out.MetricAlarms) != 2 {
		t.Fatalf("%v %+v", err, out)
	}
	for _, a := range out.MetricAlarms {
		if want := aws.ToString(a.AlarmName) == ours; aws.ToBool(a.ActionsEnabled) != want {
			t.Errorf("alarm %s: actions enabled %v, want %v", aws.ToString(a.AlarmName), aws.ToBool(a.ActionsEnabled), want)
		}
	}
	if !w.quarantined(t) {
		t.Error("the actor is not quarantined")
	}
}

// The responder function: as deployed nothing drifts; then throttled to 0,
// retries removed, EventBridge's permission removed, and finally the
// asynchronous invoke configuration deleted. Each is alerted once with the
// catalog's step, never repaired (a responder does not repair itself).
func TestReconcileResponderFunction(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	name := "comp-responder-" + w.trailName
	rule := "comp-watch-" + w.trailName
	if _, err := srv.CreateFunction(ctx, name, "arn:aws:iam::000000000000:role/trailguard-responder", nil); err != nil {
		t.Fatal(err)
	}
	if err := srv.ConfigureFunctionAsDeployed(ctx, name, "arn:aws:sqs:us-east-1:000000000000:failures", "arn:aws:events:us-east-1:000000000000:rule/"+rule); err != nil {
		t.Fatal(err)
	}
	fns := lambda.NewFromConfig(srv.Config(ctx))
	if _, err := fns.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String(name), ReservedConcurrentExecutions: aws.Int32(5)}); err != nil {
		t.Fatal(err)
	}
	e := awsx.NewEngine(w.settings(t, map[string]string{config.EnvFunctionName: name, config.EnvRegion: "us-east-1", config.EnvRules: "cloudtrail=" + rule}), w.clients)
	res := "function " + name
	rep, err := e.Reconcile(ctx)
	for _, f := range []string{"reservedConcurrency", "asyncInvokeConfig", "resourcePolicy"} {
		if driftNamed(rep, res, f) {
			t.Fatalf("as deployed: %v %+v", err, rep.Drifts)
		}
	}
	if !slices.Contains(rep.Checked, res) {
		t.Errorf("the function was not checked: %v", rep.Checked)
	}

	if _, err := fns.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String(name), ReservedConcurrentExecutions: aws.Int32(0)}); err != nil {
		t.Fatal(err)
	}
	if _, err := fns.UpdateFunctionEventInvokeConfig(ctx, &lambda.UpdateFunctionEventInvokeConfigInput{FunctionName: aws.String(name), MaximumRetryAttempts: aws.Int32(0)}); err != nil {
		t.Fatal(err)
	}
	if _, err := fns.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: aws.String(name), StatementId: aws.String(rule)}); err != nil {
		t.Fatal(err)
	}
	rep, err = e.Reconcile(ctx)
	if err != nil || !rep.Alerted {
		t.Fatalf("weakened: %v %+v", err, rep.Drifts)
	}
	for _, f := range []string{"reservedConcurrency", "asyncInvokeConfig", "resourcePolicy"} {
		if !driftNamed(rep, res, f) {
			t.Errorf("drift %s not found: %+v", f, rep.Drifts)
		}
	}
	for _, d := range rep.Drifts {
		if d.Resource == res && (len(d.Actions) != 1 || d.Actions[0].Kind != respond.KindManual) {
			t.Errorf("%s repaired instead of alerted: %+v", d.Field, d.Actions)
		}
	}
	if c, err := fns.GetFunctionConcurrency(ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: aws.String(name)}); err != nil || aws.ToInt32(c.ReservedConcurrentExecutions) != 0 {
		t.Errorf("the responder changed its own concurrency: %v %+v", err, c)
	}

	if _, err := fns.DeleteFunctionEventInvokeConfig(ctx, &lambda.DeleteFunctionEventInvokeConfigInput{FunctionName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	rep, err = e.Reconcile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got string
	for _, d := range rep.Drifts {
		if d.Resource == res && d.Field == "asyncInvokeConfig" {
			got = d.Got
		}
	}
	if got != "deleted" {
		t.Errorf("deleted invoke configuration: %q in %+v", got, rep.Drifts)
	}
}
