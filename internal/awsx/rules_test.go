package awsx_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/trailguard/trailguard/internal/awsx"
	"github.com/trailguard/trailguard/internal/catalog"
	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/trail"
)

// responderARN is the function the world's settings name (their self role's
// account, AWS_REGION and AWS_LAMBDA_FUNCTION_NAME).
const responderARN = "arn:aws:lambda:us-east-1:000000000000:function:trailguard-responder"

// ownRules deploys a catalog rule (CloudTrail calls) and a reconcile
// schedule as the stack does, and returns their names and the settings.
func (w *world) ownRules(t *testing.T) (watch, schedule string, extra map[string]string) {
	t.Helper()
	ctx := context.Background()
	watch, schedule = "comp-watch-"+w.trailName, "comp-reconcile-"+w.trailName
	var pattern string
	for _, r := range catalog.Rules() {
		if r.ID == "cloudtrail" {
			pattern = r.Pattern.JSON()
		}
	}
	for name, in := range map[string]*eventbridge.PutRuleInput{
		watch:    {EventPattern: aws.String(pattern)},
		schedule: {ScheduleExpression: aws.String("rate(5 minutes)")},
	} {
		in.Name = aws.String(name)
		if _, err := w.clients.Events.PutRule(ctx, in); err != nil {
			t.Fatal(err)
		}
		if _, err := w.clients.Events.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(name), Targets: []ebtypes.Target{{Id: aws.String("Target0"), Arn: aws.String(responderARN)}}}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_, _ = w.clients.Events.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{Rule: aws.String(name), Ids: []string{"Target0", "evil"}})
			_, _ = w.clients.Events.DeleteRule(ctx, &eventbridge.DeleteRuleInput{Name: aws.String(name)})
		})
	}
	w.deployResponder(t, watch, schedule)
	return watch, schedule, map[string]string{
		config.EnvRules:             fmt.Sprintf("cloudtrail=%s,reconcile=%s", watch, schedule),
		config.EnvFunctionName:      "trailguard-responder",
		config.EnvRegion:            "us-east-1",
		config.EnvReconcileSchedule: "rate(5 minutes)",
	}
}

var responderOnce sync.Once

// deployResponder makes the function the settings name exist as the stack
// deploys it (one for the process: kumo's state is shared): the
// asynchronous invoke configuration with an on-failure destination, and
// EventBridge allowed to invoke it for each of rules.
func (w *world) deployResponder(t *testing.T, rules ...string) {
	t.Helper()
	ctx := context.Background()
	var err error
	responderOnce.Do(func() {
		_, err = srv.CreateFunction(ctx, "trailguard-responder", "arn:aws:iam::000000000000:role/trailguard-responder", nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	var arns []string
	for _, r := range rules {
		arns = append(arns, "arn:aws:events:us-east-1:000000000000:rule/"+r)
	}
	if err := srv.ConfigureFunctionAsDeployed(ctx, "trailguard-responder", "arn:aws:sqs:us-east-1:000000000000:trailguard-failures", arns...); err != nil {
		t.Fatal(err)
	}
}

// rulesEvent points an events sample at one of the world's rules.
func (w *world) rulesEvent(t *testing.T, sample, from, to string) trail.Event {
	t.Helper()
	ev := w.event(t, sample)
	raw := strings.ReplaceAll(string(ev.Raw), `"`+from+`"`, `"`+to+`"`)
	out, err := trail.Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (w *world) rule(t *testing.T, name string) (*eventbridge.DescribeRuleOutput, []ebtypes.Target) {
	t.Helper()
	ctx := context.Background()
	r, err := w.clients.Events.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	ts, err := w.clients.Events.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return r, ts.Targets
}

func catalogPattern(t *testing.T, got string) bool {
	t.Helper()
	var want string
	for _, r := range catalog.Rules() {
		if r.ID == "cloudtrail" {
			want = r.Pattern.JSON()
		}
	}
	var a, b any
	if json.Unmarshal([]byte(got), &a) != nil || json.Unmarshal([]byte(want), &b) != nil {
		return false
	}
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// The event path: a rule overwritten to never match, the schedule disabled
// and slowed, the reconcile target's input replaced, a target hijacked: each
// is put back as deployed and the actor quarantined.
func TestOwnRulesRestoredByEvent(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	watch, schedule, extra := w.ownRules(t)
	e := awsx.NewEngine(w.settings(t, extra), w.clients)

	never := `{"source":["aws.cloudtrail"],"detail-type":["AWS API Call via CloudTrail"],"detail":{"eventSource":["cloudtrail.amazonaws.com"],"eventName":["NoSuchCall"]}}`
	if _, err := w.clients.Events.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(watch), EventPattern: aws.String(never)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Respond(ctx, w.rulesEvent(t, "events-putrule-never-matches", "trailguard-cloudtrail-tamper", watch)); err != nil {
		t.Fatal(err)
	}
	if r, _ := w.rule(t, watch); !catalogPattern(t, aws.ToString(r.EventPattern)) || r.State != ebtypes.RuleStateEnabled {
		t.Errorf("pattern not restored: %s %s", aws.ToString(r.EventPattern), r.State)
	}
	if !w.quarantined(t) {
		t.Error("the actor is not quarantined")
	}

	if _, err := w.clients.Events.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(schedule), ScheduleExpression: aws.String("rate(7 days)"), State: ebtypes.RuleStateDisabled}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Respond(ctx, w.rulesEvent(t, "events-putrule-slower", "trailguard-reconcile", schedule)); err != nil {
		t.Fatal(err)
	}
	if r, _ := w.rule(t, schedule); aws.ToString(r.ScheduleExpression) != "rate(5 minutes)" || r.State != ebtypes.RuleStateEnabled {
		t.Errorf("schedule not restored: %s %s", aws.ToString(r.ScheduleExpression), r.State)
	}

	if _, err := w.clients.Events.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(schedule), Targets: []ebtypes.Target{
		{Id: aws.String("Target0"), Arn: aws.String(responderARN), Input: aws.String(`{"hello":"world"}`)},
		{Id: aws.String("evil"), Arn: aws.String("arn:aws:lambda:us-east-1:111122223333:function:swallow")}}}); err != nil {
		t.Fatal(err)
	}
	rep, err := e.Respond(ctx, w.rulesEvent(t, "events-puttargets-input", "trailguard-reconcile", schedule))
	if err != nil {
		t.Fatal(err)
	}
	if _, ts := w.rule(t, schedule); len(ts) != 1 || aws.ToString(ts[0].Arn) != responderARN || ts[0].Input != nil {
		t.Errorf("targets not restored: %+v (outcomes %+v)", ts, rep.Outcomes)
	}
	// Again: in place already, nothing written.
	rep, err = e.Respond(ctx, w.rulesEvent(t, "events-puttargets-input", "trailguard-reconcile", schedule))
	if err != nil || !strings.Contains(rep.Outcomes[0].Detail, "already") {
		t.Errorf("second restore: %v %+v", err, rep.Outcomes)
	}
}

// Reconciliation catches what no event announced: a rule overwritten to
// never match, then StopLogging (the rule could not see it), and the
// reconcile target's input replaced; one run repairs all three.
func TestReconcileCatchesOverwrittenRuleThenStopLogging(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	watch, schedule, extra := w.ownRules(t)
	e := awsx.NewEngine(w.settings(t, extra), w.clients)
	if _, err := e.Reconcile(ctx); err != nil { // the fresh bucket's policy
		t.Fatal(err)
	}
	w.alerts(t, 1)

	never := `{"source":["aws.cloudtrail"],"detail-type":["AWS API Call via CloudTrail"],"detail":{"eventSource":["cloudtrail.amazonaws.com"],"eventName":["NoSuchCall"]}}`
	if _, err := w.clients.Events.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(watch), EventPattern: aws.String(never)}); err != nil {
		t.Fatal(err)
	}
	w.stop(t)
	if _, err := w.clients.Events.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(schedule), Targets: []ebtypes.Target{
		{Id: aws.String("Target0"), Arn: aws.String(responderARN), Input: aws.String(`{}`)}}}); err != nil {
		t.Fatal(err)
	}

	rep, err := e.Reconcile(ctx)
	if err != nil {
		t.Fatalf("reconcile: %v (%+v)", err, rep.Outcomes)
	}
	for _, f := range []string{"eventPattern", "logging", "target Target0 input"} {
		if !hasDrift(rep, f) {
			t.Errorf("drift %q not found: %+v", f, rep.Drifts)
		}
	}
	if !w.logging(t) {
		t.Error("logging not restarted")
	}
	if r, _ := w.rule(t, watch); !catalogPattern(t, aws.ToString(r.EventPattern)) {
		t.Errorf("pattern not restored: %s", aws.ToString(r.EventPattern))
	}
	if _, ts := w.rule(t, schedule); len(ts) != 1 || ts[0].Input != nil {
		t.Errorf("reconcile target's input not restored: %+v", ts)
	}
	if got := w.alerts(t, 1); len(got) != 1 || !strings.Contains(got[0].Message, "eventPattern") {
		t.Errorf("drift alert: %+v", got)
	}
	// Converged.
	if rep, err := e.Reconcile(ctx); err != nil || len(rep.Drifts) != 0 {
		t.Errorf("converged run: %v %+v", err, rep.Drifts)
	}
}
