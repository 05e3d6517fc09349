package respond_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"

	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/respond"
)

// Engine unit tests of the surroundings' reconciliation with fakes; the
// component tests (internal/awsx) play the same drifts on the emulator.

// driftInbox keeps the drift alerts.
type driftInbox struct{ reports []respond.ReconcileReport }

func (d *driftInbox) NotifyDrift(_ context.Context, r respond.ReconcileReport) error {
	d.reports = append(d.reports, r)
	return nil
}

// fakeLogs is CloudWatch Logs with some groups (name → retention, nil for
// never expire). Writes are recorded; failWrites makes them fail.
type fakeLogs struct {
	groups     map[string]*int32
	readErr    error
	failWrites bool
	calls      []string
}

func (f *fakeLogs) DescribeLogGroups(_ context.Context, in *cloudwatchlogs.DescribeLogGroupsInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeLogGroupsOutput, error) {
	if f.readErr != nil {
		return nil, f.readErr
	}
	out := &cloudwatchlogs.DescribeLogGroupsOutput{}
	for name, days := range f.groups {
		if strings.HasPrefix(name, aws.ToString(in.LogGroupNamePrefix)) {
			out.LogGroups = append(out.LogGroups, cwltypes.LogGroup{LogGroupName: aws.String(name), RetentionInDays: days})
		}
	}
	return out, nil
}

func (f *fakeLogs) CreateLogGroup(_ context.Context, in *cloudwatchlogs.CreateLogGroupInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.CreateLogGroupOutput, error) {
	f.calls = append(f.calls, "CreateLogGroup "+aws.ToString(in.LogGroupName))
	if f.failWrites {
		return nil, errors.New("AccessDenied")
	}
	f.groups[aws.ToString(in.LogGroupName)] = nil
	return &cloudwatchlogs.CreateLogGroupOutput{}, nil
}

func (f *fakeLogs) PutRetentionPolicy(_ context.Context, in *cloudwatchlogs.PutRetentionPolicyInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutRetentionPolicyOutput, error) {
	f.calls = append(f.calls, "PutRetentionPolicy "+aws.ToString(in.LogGroupName)+" "+itoa(aws.ToInt32(in.RetentionInDays)))
	if f.failWrites {
		return nil, errors.New("AccessDenied")
	}
	f.groups[aws.ToString(in.LogGroupName)] = in.RetentionInDays
	return &cloudwatchlogs.PutRetentionPolicyOutput{}, nil
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }

// healthyTrail reads the trail of surroundingSettings as deployed.
type healthyTrail struct{}

func (healthyTrail) GetTrail(_ context.Context, in *cloudtrail.GetTrailInput, _ ...func(*cloudtrail.Options)) (*cloudtrail.GetTrailOutput, error) {
	return &cloudtrail.GetTrailOutput{Trail: &cttypes.Trail{Name: in.Name, TrailARN: aws.String(trailARN),
		CloudWatchLogsLogGroupArn: aws.String(trailGroupARN), CloudWatchLogsRoleArn: aws.String(trailLogsRole)}}, nil
}

func (healthyTrail) GetTrailStatus(context.Context, *cloudtrail.GetTrailStatusInput, ...func(*cloudtrail.Options)) (*cloudtrail.GetTrailStatusOutput, error) {
	return &cloudtrail.GetTrailStatusOutput{IsLogging: aws.Bool(true)}, nil
}

func (healthyTrail) GetEventSelectors(context.Context, *cloudtrail.GetEventSelectorsInput, ...func(*cloudtrail.Options)) (*cloudtrail.GetEventSelectorsOutput, error) {
	return &cloudtrail.GetEventSelectorsOutput{}, nil
}

const (
	trailGroupARN = "arn:aws:logs:eu-west-1:123456789012:log-group:" + trailGroup + ":*"
	trailLogsRole = "arn:aws:iam::123456789012:role/ct-logs"
	ownGroup      = "/aws/lambda/trailguard-responder"
	trailGroup    = "CloudTrail/management-events"
)

// surroundingSettings protects one trail with a CloudWatch Logs group, and
// names the responder's own log group.
func surroundingSettings(t *testing.T, env map[string]string) config.Settings {
	t.Helper()
	base := map[string]string{
		config.EnvTrails:       `[{"name":"management-trail","cloudWatchLogsLogGroupArn":"` + trailGroupARN + `","cloudWatchLogsRoleArn":"` + trailLogsRole + `"}]`,
		config.EnvLogGroupName: ownGroup,
		config.EnvRegion:       "us-east-1",
	}
	for k, v := range env {
		base[k] = v
	}
	return settings(t, base)
}

func driftOf(rep respond.ReconcileReport, resource, field string) (respond.Drift, bool) {
	for _, d := range rep.Drifts {
		if d.Resource == resource && d.Field == field {
			return d, true
		}
	}
	return respond.Drift{}, false
}

func TestReconcileLogGroups(t *testing.T) {
	days := func(n int32) *int32 { return &n }
	for _, tc := range []struct {
		name       string
		groups     map[string]*int32
		wantField  map[string]string // resource → drift field
		wantCalls  []string
		minDays    string
		failWrites bool
	}{
		{name: "as deployed", groups: map[string]*int32{ownGroup: days(365), trailGroup: days(400)}},
		{name: "never expire is long enough", groups: map[string]*int32{ownGroup: nil, trailGroup: nil}},
		{name: "retention shortened", groups: map[string]*int32{ownGroup: days(1), trailGroup: days(400)},
			wantField: map[string]string{"log group " + ownGroup: "retention"}, wantCalls: []string{"PutRetentionPolicy " + ownGroup + " 365"}},
		{name: "minimum from the settings, rounded up to a value Logs accepts", groups: map[string]*int32{ownGroup: nil, trailGroup: days(30)}, minDays: "45",
			wantField: map[string]string{"log group " + trailGroup: "retention"}, wantCalls: []string{"PutRetentionPolicy " + trailGroup + " 60"}},
		{name: "deleted, and a group sharing its prefix is not it", groups: map[string]*int32{ownGroup + "-old": nil, trailGroup: nil},
			wantField: map[string]string{"log group " + ownGroup: "log group"}, wantCalls: []string{"CreateLogGroup " + ownGroup}},
		{name: "both drifted, the repair fails", groups: map[string]*int32{trailGroup: days(7)}, failWrites: true,
			wantField: map[string]string{"log group " + ownGroup: "log group", "log group " + trailGroup: "retention"},
			wantCalls: []string{"PutRetentionPolicy " + trailGroup + " 365", "CreateLogGroup " + ownGroup}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			logs := &fakeLogs{groups: tc.groups, failWrites: tc.failWrites}
			inbox := &driftInbox{}
			env := map[string]string{}
			if tc.minDays != "" {
				env[config.EnvMinRetentionDays] = tc.minDays
			}
			e := respond.New(surroundingSettings(t, env), nil, nil, nil, respond.WithClock(func() time.Time { return now }),
				respond.WithResources(respond.Resources{Trails: healthyTrail{}, Logs: logs}), respond.WithDriftNotifier(inbox))
			rep, err := e.Reconcile(ctx)
			if (err != nil) != tc.failWrites {
				t.Fatalf("err %v (failed repairs: %v)", err, tc.failWrites)
			}
			if len(rep.Drifts) != len(tc.wantField) {
				t.Errorf("drifts %+v, want %v", rep.Drifts, tc.wantField)
			}
			for res, field := range tc.wantField {
				if d, ok := driftOf(rep, res, field); !ok || !d.New {
					t.Errorf("no new drift %s %s in %+v", res, field, rep.Drifts)
				}
			}
			if strings.Join(logs.calls, "; ") != strings.Join(tc.wantCalls, "; ") {
				t.Errorf("calls %q, want %q", logs.calls, tc.wantCalls)
			}
			if len(inbox.reports) != min(1, len(tc.wantField)) {
				t.Errorf("%d drift alerts", len(inbox.reports))
			}
			// A second run: a repaired drift is gone; an unrepaired one is
			// not alerted again.
			rep, _ = e.Reconcile(ctx)
			if tc.failWrites {
				if len(rep.Drifts) != len(tc.wantField) || len(rep.NewDrifts()) != 0 || len(inbox.reports) != 1 {
					t.Errorf("second run: drifts %+v, alerts %d", rep.Drifts, len(inbox.reports))
				}
			} else if len(rep.Drifts) != 0 {
				t.Errorf("second run still drifts: %+v", rep.Drifts)
			}
		})
	}
}

// A log group that cannot be read is an error of the run: never a drift
// (nothing is recreated), never a success.
func TestReconcileLogGroupReadError(t *testing.T) {
	logs := &fakeLogs{readErr: errors.New("AccessDeniedException: not authorized to perform logs:DescribeLogGroups")}
	e := respond.New(surroundingSettings(t, nil), nil, nil, nil, respond.WithResources(respond.Resources{Trails: healthyTrail{}, Logs: logs}), respond.WithDriftNotifier(&driftInbox{}))
	rep, err := e.Reconcile(context.Background())
	if err == nil || len(rep.Drifts) != 0 || len(logs.calls) != 0 || len(rep.Errors) != 2 || !strings.Contains(rep.Errors[0], "logs:DescribeLogGroups") {
		t.Errorf("err %v, drifts %+v, calls %v, errors %q", err, rep.Drifts, logs.calls, rep.Errors)
	}
}

// fakeTopic is the alert topic as SNS answers about it.
type fakeTopic struct {
	gone          bool
	policy        string
	subscriptions []string // subscription ARNs, or "PendingConfirmation"
	readErr       error
	listErr       error
}

func (f *fakeTopic) GetTopicAttributes(_ context.Context, in *sns.GetTopicAttributesInput, _ ...func(*sns.Options)) (*sns.GetTopicAttributesOutput, error) {
	switch {
	case f.readErr != nil:
		return nil, f.readErr
	case f.gone:
		return nil, &smithy.GenericAPIError{Code: "NotFound", Message: "Topic does not exist"}
	}
	return &sns.GetTopicAttributesOutput{Attributes: map[string]string{"TopicArn": aws.ToString(in.TopicArn), "Policy": f.policy}}, nil
}

func (f *fakeTopic) ListSubscriptionsByTopic(_ context.Context, in *sns.ListSubscriptionsByTopicInput, _ ...func(*sns.Options)) (*sns.ListSubscriptionsByTopicOutput, error) {
	if f.listErr != nil {
		return nil, f.listErr
	}
	out := &sns.ListSubscriptionsByTopicOutput{}
	for _, s := range f.subscriptions {
		out.Subscriptions = append(out.Subscriptions, snstypes.Subscription{SubscriptionArn: aws.String(s), TopicArn: in.TopicArn})
	}
	return out, nil
}

const (
	ownersRule   = "trailguard-owners-sns-1"
	ownersRuleID = "owners-sns"
	ownersARN    = "arn:aws:events:us-east-1:123456789012:rule/" + ownersRule
	confirmed    = topicARN + ":5f6e7d8c-0000-4000-8000-000000000001"
)

// deployedTopicPolicy is the topic's policy as the stack writes it: TLS
// only, and EventBridge may publish for the owners' rules.
func deployedTopicPolicy(sourceARN, extra string) string {
	return `{"Version":"2012-10-17","Statement":[` +
		`{"Sid":"EnforceSSL","Effect":"Deny","Principal":"*","Action":"sns:Publish","Resource":"` + topicARN + `","Condition":{"Bool":{"aws:SecureTransport":"false"}}},` +
		`{"Sid":"OwnersRulesPublish","Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"sns:Publish","Resource":"` + topicARN + `","Condition":{"ArnEquals":{"aws:SourceArn":["` + sourceARN + `"]}}}` +
		extra + `]}`
}

func TestReconcileTopic(t *testing.T) {
	withOwners := map[string]string{config.EnvRules: ownersRuleID + "=" + ownersRule + ",reconcile=trailguard-reconcile-1"}
	for _, tc := range []struct {
		name  string
		topic fakeTopic
		env   map[string]string
		// want is field → what Got must contain; empty means no drift.
		want map[string]string
	}{
		{name: "as deployed", env: withOwners, topic: fakeTopic{policy: deployedTopicPolicy(ownersARN, ""), subscriptions: []string{confirmed}}},
		{name: "deleted", env: withOwners, topic: fakeTopic{gone: true}, want: map[string]string{"topic": "deleted"}},
		{name: "the owners' statement removed", env: withOwners,
			topic: fakeTopic{policy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sns:Publish","Resource":"` + topicARN + `"}]}`, subscriptions: []string{confirmed}},
			want:  map[string]string{"policy": "no statement allows it"}},
		{name: "granted to another rule only", env: withOwners,
			topic: fakeTopic{policy: deployedTopicPolicy("arn:aws:events:us-east-1:123456789012:rule/other", ""), subscriptions: []string{confirmed}},
			want:  map[string]string{"policy": "no statement allows it"}},
		{name: "EventBridge denied", env: withOwners,
			topic: fakeTopic{policy: deployedTopicPolicy(ownersARN, `,{"Sid":"Mute","Effect":"Deny","Principal":{"Service":"events.amazonaws.com"},"Action":"sns:*","Resource":"*"}`), subscriptions: []string{confirmed}},
			want:  map[string]string{"policy": `denied by statement "Mute"`}},
		{name: "a condition trailguard cannot evaluate", env: withOwners,
			topic: fakeTopic{policy: deployedTopicPolicy(ownersARN, `,{"Effect":"Deny","Principal":"*","Action":"sns:Publish","Resource":"*","Condition":{"StringEquals":{"aws:RequestTag/x":"y"}}}`), subscriptions: []string{confirmed}},
			want:  map[string]string{"policy": "cannot tell"}},
		{name: "no owners' rule: the policy is not theirs to check", topic: fakeTopic{policy: `{}`, subscriptions: []string{confirmed}}},
		{name: "nobody subscribed", env: withOwners, topic: fakeTopic{policy: deployedTopicPolicy(ownersARN, "")},
			want: map[string]string{"subscriptions": "none"}},
		{name: "only pending confirmation", env: withOwners, topic: fakeTopic{policy: deployedTopicPolicy(ownersARN, ""), subscriptions: []string{"PendingConfirmation"}},
			want: map[string]string{"subscriptions": "none confirmed (1 pending confirmation)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inbox := &driftInbox{}
			e := respond.New(surroundingSettings(t, tc.env), nil, nil, nil, respond.WithClock(func() time.Time { return now }),
				respond.WithResources(respond.Resources{Trails: healthyTrail{}, Topic: &tc.topic}), respond.WithDriftNotifier(inbox))
			rep, err := e.Reconcile(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Drifts) != len(tc.want) {
				t.Fatalf("drifts %+v, want %v", rep.Drifts, tc.want)
			}
			for field, got := range tc.want {
				d, ok := driftOf(rep, "topic "+topicARN, field)
				if !ok || !strings.Contains(d.Got, got) || !d.New {
					t.Errorf("drift %s: %+v, want got %q", field, d, got)
				}
				// Alerted with the manual step, never repaired.
				if len(d.Actions) != 1 || d.Actions[0].Kind != respond.KindManual || d.Actions[0].Reason == "" {
					t.Errorf("drift %s actions %+v", field, d.Actions)
				}
			}
			if len(inbox.reports) != min(1, len(tc.want)) {
				t.Errorf("%d drift alerts", len(inbox.reports))
			}
			if rep, _ := e.Reconcile(context.Background()); len(rep.NewDrifts()) != 0 || len(inbox.reports) > 1 {
				t.Errorf("second run alerted again: %+v", rep.NewDrifts())
			}
		})
	}
}

// A topic or its subscriptions that cannot be read are errors of the run.
func TestReconcileTopicReadErrors(t *testing.T) {
	denied := errors.New("AuthorizationError: not authorized")
	for _, topic := range []*fakeTopic{{readErr: denied}, {policy: "{}", listErr: denied}} {
		e := respond.New(surroundingSettings(t, nil), nil, nil, nil, respond.WithResources(respond.Resources{Trails: healthyTrail{}, Topic: topic}), respond.WithDriftNotifier(&driftInbox{}))
		rep, err := e.Reconcile(context.Background())
		if err == nil || len(rep.Drifts) != 0 || len(rep.Errors) != 1 || !strings.Contains(rep.Errors[0], "topic") {
			t.Errorf("err %v, drifts %+v, errors %q", err, rep.Drifts, rep.Errors)
		}
	}
}

// fakeAlarms is CloudWatch with some of trailguard's alarms.
type fakeAlarms struct {
	alarms  map[string]cwtypes.MetricAlarm
	readErr error
	enabled []string
}

func (f *fakeAlarms) DescribeAlarms(_ context.Context, in *cloudwatch.DescribeAlarmsInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error) {
	if f.readErr != nil {
		return nil, f.readErr
	}
	out := &cloudwatch.DescribeAlarmsOutput{}
	for _, n := range in.AlarmNames {
		if a, ok := f.alarms[n]; ok {
			out.MetricAlarms = append(out.MetricAlarms, a)
		}
	}
	return out, nil
}

func (f *fakeAlarms) EnableAlarmActions(_ context.Context, in *cloudwatch.EnableAlarmActionsInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.EnableAlarmActionsOutput, error) {
	f.enabled = append(f.enabled, in.AlarmNames...)
	for _, n := range in.AlarmNames {
		a := f.alarms[n]
		a.ActionsEnabled = aws.Bool(true)
		f.alarms[n] = a
	}
	return &cloudwatch.EnableAlarmActionsOutput{}, nil
}

func alarm(name string, enabled bool, actions ...string) cwtypes.MetricAlarm {
	return cwtypes.MetricAlarm{AlarmName: aws.String(name), ActionsEnabled: aws.Bool(enabled), AlarmActions: actions}
}

func TestReconcileAlarms(t *testing.T) {
	const errorsAlarm, heartbeat = "trailguard-errors", "trailguard-reconcile-heartbeat"
	env := map[string]string{config.EnvAlarms: errorsAlarm + "," + heartbeat}
	for _, tc := range []struct {
		name   string
		alarms map[string]cwtypes.MetricAlarm
		// want is "alarm field" → the repair kind (manual: alerted only).
		want    map[string]respond.Kind
		enabled []string
	}{
		{name: "as deployed", alarms: map[string]cwtypes.MetricAlarm{errorsAlarm: alarm(errorsAlarm, true, topicARN), heartbeat: alarm(heartbeat, true, topicARN)}},
		{name: "actions disabled: enabled again", alarms: map[string]cwtypes.MetricAlarm{errorsAlarm: alarm(errorsAlarm, false, topicARN), heartbeat: alarm(heartbeat, true, topicARN)},
			want: map[string]respond.Kind{errorsAlarm + " actionsEnabled": respond.KindEnableAlarmActions}, enabled: []string{errorsAlarm}},
		{name: "deleted: redeploy", alarms: map[string]cwtypes.MetricAlarm{heartbeat: alarm(heartbeat, true, topicARN)},
			want: map[string]respond.Kind{errorsAlarm + " alarm": respond.KindManual}},
		{name: "notifies another topic: redeploy", alarms: map[string]cwtypes.MetricAlarm{errorsAlarm: alarm(errorsAlarm, true, topicARN), heartbeat: alarm(heartbeat, true, "arn:aws:sns:us-east-1:111111111111:elsewhere")},
			want: map[string]respond.Kind{heartbeat + " alarmActions": respond.KindManual}},
		{name: "disabled and without actions", alarms: map[string]cwtypes.MetricAlarm{errorsAlarm: alarm(errorsAlarm, true, topicARN), heartbeat: alarm(heartbeat, false)},
			want:    map[string]respond.Kind{heartbeat + " actionsEnabled": respond.KindEnableAlarmActions, heartbeat + " alarmActions": respond.KindManual},
			enabled: []string{heartbeat}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cw := &fakeAlarms{alarms: tc.alarms}
			inbox := &driftInbox{}
			e := respond.New(surroundingSettings(t, env), nil, nil, nil, respond.WithClock(func() time.Time { return now }),
				respond.WithResources(respond.Resources{Trails: healthyTrail{}, Alarms: cw}), respond.WithDriftNotifier(inbox))
			rep, err := e.Reconcile(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Drifts) != len(tc.want) {
				t.Fatalf("drifts %+v, want %v", rep.Drifts, tc.want)
			}
			for key, kind := range tc.want {
				name, field, _ := strings.Cut(key, " ")
				d, ok := driftOf(rep, "alarm "+name, field)
				if !ok || len(d.Actions) != 1 || d.Actions[0].Kind != kind || !d.New {
					t.Errorf("drift %s: %+v", key, d)
				}
			}
			if !slices.Equal(cw.enabled, tc.enabled) {
				t.Errorf("actions enabled on %v, want %v", cw.enabled, tc.enabled)
			}
			if len(inbox.reports) != min(1, len(tc.want)) {
				t.Errorf("%d drift alerts", len(inbox.reports))
			}
		})
	}
	// Unreadable alarms: an error of the run, nothing enabled.
	cw := &fakeAlarms{readErr: errors.New("AccessDenied: cloudwatch:DescribeAlarms")}
	e := respond.New(surroundingSettings(t, env), nil, nil, nil, respond.WithResources(respond.Resources{Trails: healthyTrail{}, Alarms: cw}), respond.WithDriftNotifier(&driftInbox{}))
	if rep, err := e.Reconcile(context.Background()); err == nil || len(rep.Drifts) != 0 || len(rep.Errors) != 1 || len(cw.enabled) != 0 {
		t.Errorf("read error: %v %+v %q", err, rep.Drifts, rep.Errors)
	}
}

// fakeFunction is the responder function as Lambda answers about it.
type fakeFunction struct {
	concurrency *int32
	invoke      *lambda.GetFunctionEventInvokeConfigOutput // nil: none
	policy      string                                     // "": none
	readErr     error
	gone        bool
}

func (f *fakeFunction) GetFunctionConcurrency(context.Context, *lambda.GetFunctionConcurrencyInput, ...func(*lambda.Options)) (*lambda.GetFunctionConcurrencyOutput, error) {
	if f.readErr != nil {
		return nil, f.readErr
	}
	if f.gone {
		return nil, &smithy.GenericAPIError{Code: "ResourceNotFoundException", Message: "Function not found"}
	}
	return &lambda.GetFunctionConcurrencyOutput{ReservedConcurrentExecutions: f.concurrency}, nil
}

func (f *fakeFunction) GetFunctionEventInvokeConfig(context.Context, *lambda.GetFunctionEventInvokeConfigInput, ...func(*lambda.Options)) (*lambda.GetFunctionEventInvokeConfigOutput, error) {
	if f.invoke == nil {
		return nil, &smithy.GenericAPIError{Code: "ResourceNotFoundException", Message: "no EventInvokeConfig"}
	}
	return f.invoke, nil
}

func (f *fakeFunction) GetPolicy(context.Context, *lambda.GetPolicyInput, ...func(*lambda.Options)) (*lambda.GetPolicyOutput, error) {
	if f.policy == "" {
		return nil, &smithy.GenericAPIError{Code: "ResourceNotFoundException", Message: "The resource you requested does not exist."}
	}
	return &lambda.GetPolicyOutput{Policy: aws.String(f.policy)}, nil
}

const (
	responderFn = "trailguard-responder"
	watchRule   = "trailguard-cloudtrail-1"
	watchARN    = "arn:aws:events:us-east-1:123456789012:rule/" + watchRule
)

func deployedInvoke(retries, age int32, destination string) *lambda.GetFunctionEventInvokeConfigOutput {
	out := &lambda.GetFunctionEventInvokeConfigOutput{MaximumRetryAttempts: aws.Int32(retries), MaximumEventAgeInSeconds: aws.Int32(age)}
	if destination != "" {
		out.DestinationConfig = &lambdatypes.DestinationConfig{OnFailure: &lambdatypes.OnFailure{Destination: aws.String(destination)}}
	}
	return out
}

// invokePolicy is the function's resource policy as CDK writes it: one
// statement per rule, conditioned on the rule's ARN.
func invokePolicy(sourceARN string) string {
	return `{"Version":"2012-10-17","Id":"default","Statement":[{"Sid":"watch","Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},` +
		`"Action":"lambda:InvokeFunction","Resource":"` + responderARN + `","Condition":{"ArnLike":{"AWS:SourceArn":"` + sourceARN + `"}}}]}`
}

func TestReconcileResponderFunction(t *testing.T) {
	env := map[string]string{config.EnvFunctionName: responderFn, config.EnvRules: "cloudtrail=" + watchRule + "," + ownersRuleID + "=" + ownersRule}
	failures := "arn:aws:sqs:us-east-1:123456789012:trailguard-failures"
	five := int32(5)
	zero := int32(0)
	for _, tc := range []struct {
		name string
		fn   fakeFunction
		want map[string]string // field → what Got must contain
	}{
		{name: "as deployed", fn: fakeFunction{concurrency: &five, invoke: deployedInvoke(config.AsyncRetryAttempts, config.AsyncMaxEventAgeSeconds, failures), policy: invokePolicy(watchARN)}},
		{name: "no reserved concurrency is not throttled", fn: fakeFunction{invoke: deployedInvoke(2, 3600, failures), policy: invokePolicy(watchARN)}},
		{name: "throttled to 0", fn: fakeFunction{concurrency: &zero, invoke: deployedInvoke(2, 3600, failures), policy: invokePolicy(watchARN)},
			want: map[string]string{"reservedConcurrency": "0"}},
		{name: "fewer retries, shorter age, no destination", fn: fakeFunction{invoke: deployedInvoke(0, 60, ""), policy: invokePolicy(watchARN)},
			want: map[string]string{"asyncInvokeConfig": "0 retries (deployed: 2); events dropped after 60 s (deployed: 3600 s); no on-failure destination"}},
		{name: "more retries and a longer age are no weaker", fn: fakeFunction{invoke: deployedInvoke(2, 21600, failures), policy: invokePolicy(watchARN)}},
		{name: "invoke configuration deleted", fn: fakeFunction{policy: invokePolicy(watchARN)},
			want: map[string]string{"asyncInvokeConfig": "deleted"}},
		{name: "deleted", fn: fakeFunction{gone: true}, want: map[string]string{"function": "deleted"}},
		{name: "no resource policy", fn: fakeFunction{invoke: deployedInvoke(2, 3600, failures)},
			want: map[string]string{"resourcePolicy": "no resource policy"}},
		{name: "the permission names another rule", fn: fakeFunction{invoke: deployedInvoke(2, 3600, failures), policy: invokePolicy("arn:aws:events:us-east-1:123456789012:rule/other")},
			want: map[string]string{"resourcePolicy": "rule " + watchRule + ": no statement allows it"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inbox := &driftInbox{}
			e := respond.New(surroundingSettings(t, env), nil, nil, nil, respond.WithClock(func() time.Time { return now }),
				respond.WithResources(respond.Resources{Trails: healthyTrail{}, Function: &tc.fn}), respond.WithDriftNotifier(inbox))
			rep, err := e.Reconcile(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Drifts) != len(tc.want) {
				t.Fatalf("drifts %+v, want %v", rep.Drifts, tc.want)
			}
			for field, got := range tc.want {
				d, ok := driftOf(rep, "function "+responderFn, field)
				if !ok || !strings.Contains(d.Got, got) || len(d.Actions) != 1 || d.Actions[0].Kind != respond.KindManual || !d.New {
					t.Errorf("drift %s: %+v, want got %q, alerted with a manual step", field, d, got)
				}
			}
			if len(inbox.reports) != min(1, len(tc.want)) {
				t.Errorf("%d drift alerts", len(inbox.reports))
			}
		})
	}
	// Unreadable: an error of the run, no drift.
	e := respond.New(surroundingSettings(t, env), nil, nil, nil, respond.WithResources(respond.Resources{Trails: healthyTrail{},
		Function: &fakeFunction{readErr: errors.New("AccessDeniedException: lambda:GetFunctionConcurrency")}}), respond.WithDriftNotifier(&driftInbox{}))
	if rep, err := e.Reconcile(context.Background()); err == nil || len(rep.Drifts) != 0 || len(rep.Errors) != 1 {
		t.Errorf("read error: %v %+v %q", err, rep.Drifts, rep.Errors)
	}
}

// flakyInbox fails the first failures alerts, then delivers.
type flakyInbox struct {
	failures  int
	delivered []respond.ReconcileReport
}

func (f *flakyInbox) NotifyDrift(_ context.Context, r respond.ReconcileReport) error {
	if f.failures > 0 {
		f.failures--
		return errors.New("NotFound: Topic does not exist")
	}
	f.delivered = append(f.delivered, r)
	return nil
}

// A drift whose alert could not be sent is alerted again by the next run,
// not remembered as told: the run that failed to alert reports an error.
func TestDriftAlertThatFailedIsSentAgain(t *testing.T) {
	ctx := context.Background()
	logs := &fakeLogs{groups: map[string]*int32{trailGroup: nil}, failWrites: true} // the own group stays deleted
	inbox := &flakyInbox{failures: 1}
	e := respond.New(surroundingSettings(t, nil), nil, nil, nil, respond.WithResources(respond.Resources{Trails: healthyTrail{}, Logs: logs}), respond.WithDriftNotifier(inbox))
	rep, err := e.Reconcile(ctx)
	if err == nil || !strings.Contains(err.Error(), "drift alert") || rep.Alerted {
		t.Fatalf("first run: err %v, alerted %v", err, rep.Alerted)
	}
	rep, _ = e.Reconcile(ctx)
	if !rep.Alerted || len(rep.NewDrifts()) != 1 || len(inbox.delivered) != 1 {
		t.Fatalf("second run: alerted %v, new %+v, delivered %d", rep.Alerted, rep.NewDrifts(), len(inbox.delivered))
	}
	if rep, _ = e.Reconcile(ctx); rep.Alerted || len(rep.NewDrifts()) != 0 {
		t.Errorf("third run alerted again: %+v", rep.NewDrifts())
	}
}
