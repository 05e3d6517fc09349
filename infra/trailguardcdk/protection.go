package trailguardcdk

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awschatbot"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdadestinations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/trailguard/trailguard/internal/catalog"
	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/grants"
	"github.com/trailguard/trailguard/internal/trail"
)

// Delivery and retry settings. EventBridge retries delivery to the function
// for up to two hours (a throttled or briefly failing responder still gets
// the event); the function's own asynchronous retries are Lambda's maximum.
// The responder re-reads state before acting, so a late event is harmless.
const (
	targetRetryAttempts   = 8
	targetMaxEventAgeHrs  = 2
	functionMemoryMB      = 256
	functionTimeoutSecs   = 60
	queueRetentionDays    = 14
	defaultReconcileEvery = 5 // minutes
)

// Protection is trailguard deployed in one account and region: the protected
// trail (created, or an existing one), the responder function, the alert
// topic and the EventBridge rules that feed it.
//
// Protection is not itself a jsii object (jsii cannot marshal a Go struct
// that embeds a construct it already knows): pass Construct() where the CDK
// wants the construct, e.g. for dependencies or cdk-nag suppressions.
type Protection interface {
	// Construct is the scope holding every resource of the protection.
	Construct() constructs.Construct
	// Function is the responder Lambda.
	Function() awslambda.IFunction
	// Role is the responder's execution role.
	Role() awsiam.IRole
	// Topic is the alert topic.
	Topic() awssns.ITopic
	// TrailArn is the protected trail's ARN.
	TrailArn() *string
	// Key is the customer-managed key, or nil without EncryptWithKms.
	Key() awskms.IKey
	// DeadLetterQueue holds events EventBridge could not deliver to the function.
	DeadLetterQueue() awssqs.IQueue
	// FailureQueue holds invocations that failed after Lambda's retries.
	FailureQueue() awssqs.IQueue
	// Rules are the EventBridge rules created from the catalog, by rule ID.
	Rules() map[string]awsevents.Rule
	// RuleNames are the physical names of all of trailguard's rules (the
	// catalog's and the reconcile schedule), as the responder gets them in
	// TRAILGUARD_RULES.
	RuleNames() []string
}

type protection struct {
	scope      constructs.Construct
	fn         awslambda.Function
	role       awsiam.Role
	topic      awssns.Topic
	trailArn   *string
	key        awskms.Key
	dlq, fails awssqs.Queue
	rules      map[string]awsevents.Rule
	ruleNames  []string
	// alarmNames are the alarms' physical names by alarm id.
	alarmNames map[string]string
}

func (p *protection) Construct() constructs.Construct  { return p.scope }
func (p *protection) Function() awslambda.IFunction    { return p.fn }
func (p *protection) Role() awsiam.IRole               { return p.role }
func (p *protection) Topic() awssns.ITopic             { return p.topic }
func (p *protection) TrailArn() *string                { return p.trailArn }
func (p *protection) DeadLetterQueue() awssqs.IQueue   { return p.dlq }
func (p *protection) FailureQueue() awssqs.IQueue      { return p.fails }
func (p *protection) Rules() map[string]awsevents.Rule { return p.rules }
func (p *protection) RuleNames() []string              { return append([]string(nil), p.ruleNames...) }
func (p *protection) Key() awskms.IKey {
	if p.key == nil {
		return nil
	}
	return p.key
}

// NewProtection adds trailguard to scope. It panics on invalid props, as CDK
// constructs do (the CDK CLI reports the message at synth).
func NewProtection(scope constructs.Construct, id *string, props *ProtectionProps) Protection {
	if props == nil {
		props = &ProtectionProps{}
	}
	if err := props.validate(); err != nil {
		panic(fmt.Errorf("trailguard protection: %w", err))
	}
	c := constructs.NewConstruct(scope, id)
	p := &protection{scope: c, rules: map[string]awsevents.Rule{}}
	stack := awscdk.Stack_Of(c)

	if flag(props.EncryptWithKms) {
		p.key = awskms.NewKey(c, jsii.String("Key"), &awskms.KeyProps{
			Description:       jsii.String("trailguard: trail logs, alert topic and queues"),
			EnableKeyRotation: jsii.Bool(true),
			RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
		})
		// Alarms publish to the encrypted topic, EventBridge to the
		// encrypted dead-letter queue: both need a data key.
		for _, svc := range []string{"cloudwatch.amazonaws.com", "events.amazonaws.com"} {
			p.key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:        jsii.String("AllowPublishFrom" + strings.Split(svc, ".")[0]),
				Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String(svc), nil)},
				Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
				Resources:  jsii.Strings("*"),
				Conditions: &map[string]interface{}{"StringEquals": map[string]interface{}{"aws:SourceAccount": stack.Account()}},
			}), jsii.Bool(false))
		}
	}

	var baseline trail.Config
	var trailLogsRole *string
	if e := props.ExistingTrail; e != nil {
		baseline, p.trailArn = existingBaseline(stack, e)
		trailLogsRole = e.CloudWatchLogsRoleArn
	} else {
		baseline, p.trailArn = newTrail(c, str(props.TrailName, DefaultTrailName), p.key)
	}

	// The rules' physical names are fixed here, before the function that
	// must know them and the rules that target it (see ruleNamer).
	namer := newRuleNamer(c)
	global := WatchesGlobalServices(stack)
	var watched []catalog.Rule
	var ruleIDs []string // TRAILGUARD_RULES' id=name entries
	for _, r := range catalog.Rules() {
		if r.GlobalOnly && !global {
			continue
		}
		watched = append(watched, r)
		p.ruleNames = append(p.ruleNames, namer.name(r.ID))
		ruleIDs = append(ruleIDs, r.ID)
	}
	p.ruleNames = append(p.ruleNames, namer.name(ReconcileRuleID))
	ruleIDs = append(ruleIDs, ReconcileRuleID)
	// The owners' direct rules (see ownerRules) are named here too, so that
	// the responder watches and reconciles them like its own.
	var ownerIDs []string
	for _, r := range catalog.OwnerRules(catalog.Owned{RuleNames: []string{"x"}, FunctionName: "x", TopicARN: "x", RoleName: "x", Alarms: []string{"x"}}) {
		if r.GlobalOnly && !global {
			continue
		}
		ownerIDs = append(ownerIDs, r.ID)
		p.ruleNames = append(p.ruleNames, namer.name(r.ID))
		ruleIDs = append(ruleIDs, r.ID)
	}
	// Alarm names are literal too, for TRAILGUARD_ALARMS and the owners'
	// rules (see alarms).
	alarmNames := map[string]string{}
	var alarmList []string
	for _, id := range alarmIDs {
		alarmNames[id] = namer.name("alarm-" + id)
		alarmList = append(alarmList, alarmNames[id])
	}
	p.alarmNames = alarmNames
	var rulesSetting []string
	for i, n := range p.ruleNames {
		rulesSetting = append(rulesSetting, ruleIDs[i]+"="+n)
	}

	// Without EncryptWithKms the topic has no SSE: the AWS managed SNS key
	// does not let CloudWatch alarms publish. Alerts carry event metadata,
	// no secrets.
	p.topic = awssns.NewTopic(c, jsii.String("Topic"), &awssns.TopicProps{
		DisplayName: jsii.String("trailguard"),
		EnforceSSL:  jsii.Bool(true),
		MasterKey:   p.Key(),
	})
	if props.AlertEmails != nil {
		for _, e := range *props.AlertEmails {
			p.topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(e, nil))
		}
	}
	p.dlq = newQueue(c, "DeadLetterQueue", p.key)
	p.fails = newQueue(c, "FailureQueue", p.key)

	logGroup := awslogs.NewLogGroup(c, jsii.String("Logs"), &awslogs.LogGroupProps{
		Retention:     awslogs.RetentionDays_ONE_YEAR,
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})

	// Every execution environment of the responder claims each event here,
	// so that a duplicate delivery is contained and alerted once. Items
	// expire by themselves (TTL), except the one recording the principals
	// trailguard contained, which reconciliation keeps contained after a
	// cold start (internal/dedup). The table holds no evidence, so it goes
	// with the stack (and with it the responder that would use the record).
	events := awsdynamodb.NewTable(c, jsii.String("Events"), &awsdynamodb.TableProps{
		PartitionKey:        &awsdynamodb.Attribute{Name: jsii.String(config.DedupKeyAttribute), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:         awsdynamodb.BillingMode_PAY_PER_REQUEST,
		TimeToLiveAttribute: jsii.String(config.DedupTTLAttribute),
		RemovalPolicy:       awscdk.RemovalPolicy_DESTROY,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
	})

	p.role = awsiam.NewRole(c, jsii.String("Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("trailguard responder: restore CloudTrail, contain the actor, notify"),
		RoleName:    props.RoleName,
	})
	policy := awsiam.NewPolicy(c, jsii.String("Permissions"), &awsiam.PolicyProps{
		Roles: &[]awsiam.IRole{p.role},
		Statements: ptrs(responderStatements(permissionInputs{
			trailArn:            p.trailArn,
			quarantinePolicyArn: jsii.String(str(props.QuarantinePolicyArn, DefaultQuarantinePolicyArn)),
			topicArn:            p.topic.TopicArn(),
			logGroupArn:         logGroup.LogGroupArn(),
			selfRoleArn:         p.role.RoleArn(),
			trailLogsRoleArn:    trailLogsRole,
			trailBucket:         jsii.String(baseline.S3BucketName),
			trailKeyArn:         baseline.KmsKeyID, // this stack's key (a token) or the existing trail's
			trailLogGroupArn:    baseline.CloudWatchLogsLogGroupArn,
			ruleNames:           p.ruleNames,
			alarmNames:          alarmList,
			securityHub:         props.SecurityHub != nil && *props.SecurityHub,
			allow:               allowList(props.Allow),
			dedupTableArn:       events.TableArn(),
		})),
	})
	cdknag.NagSuppressions_AddResourceSuppressions(policy, responderPolicySuppressions(permissionInputs{
		trailLogGroupArn: baseline.CloudWatchLogsLogGroupArn,
	}), nil)
	if p.key != nil {
		// Publishing to the encrypted topic needs a data key; nothing else.
		p.key.Grant(p.role, jsii.String("kms:Decrypt"), jsii.String("kms:GenerateDataKey"))
		cdknag.NagSuppressions_AddResourceSuppressions(p.role, &[]*cdknag.NagPackSuppression{{
			Id: jsii.String("AwsSolutions-IAM5"),
			Reason: jsii.String("CDK's grant for sending to the KMS-encrypted on-failure queue (Lambda destination) names " +
				"kms:GenerateDataKey* and kms:ReEncrypt*; it is limited to trailguard's own key."),
			AppliesTo: &[]interface{}{"Action::kms:GenerateDataKey*", "Action::kms:ReEncrypt*"},
		}}, jsii.Bool(true))
	}

	trails, err := json.Marshal([]trail.Config{baseline})
	if err != nil {
		panic(fmt.Errorf("trailguard protection: baseline: %w", err))
	}
	code := props.Code
	if code == nil {
		dir, err := BuildResponder("build/trailguard-responder")
		if err != nil {
			panic(fmt.Errorf("trailguard protection: %w", err))
		}
		code = awslambda.Code_FromAsset(jsii.String(dir), nil)
	}
	every := newReconcileEvery(props.ReconcileEvery)
	minRetention := DefaultMinRetentionDays
	if props.MinRetentionDays != nil {
		minRetention = int(*props.MinRetentionDays)
	}
	var reserved *float64
	switch {
	case props.ReservedConcurrency == nil:
		reserved = jsii.Number(DefaultReservedConcurrency)
	case *props.ReservedConcurrency > 0:
		reserved = props.ReservedConcurrency
	}
	allow := ""
	if props.Allow != nil {
		var list []string
		for _, a := range *props.Allow {
			list = append(list, *a)
		}
		allow = strings.Join(list, ",")
	}
	p.fn = awslambda.NewFunction(c, jsii.String("Responder"), &awslambda.FunctionProps{
		Description:                  jsii.String("trailguard: keeps CloudTrail on"),
		Runtime:                      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:                 awslambda.Architecture_ARM_64(),
		Handler:                      jsii.String("bootstrap"),
		Code:                         code,
		Role:                         p.role,
		MemorySize:                   jsii.Number(functionMemoryMB),
		Timeout:                      awscdk.Duration_Seconds(jsii.Number(functionTimeoutSecs)),
		ReservedConcurrentExecutions: reserved,
		LoggingFormat:                awslambda.LoggingFormat_JSON,
		ApplicationLogLevelV2:        awslambda.ApplicationLogLevel_INFO,
		SystemLogLevelV2:             awslambda.SystemLogLevel_WARN,
		LogGroup:                     logGroup,
		OnFailure:                    awslambdadestinations.NewSqsDestination(p.fails),
		MaxEventAge:                  awscdk.Duration_Seconds(jsii.Number(config.AsyncMaxEventAgeSeconds)),
		RetryAttempts:                jsii.Number(config.AsyncRetryAttempts),
		Environment: &map[string]*string{
			config.EnvTopicARN:            p.topic.TopicArn(),
			config.EnvMode:                jsii.String(str(props.Mode, ModeEnforce)),
			config.EnvQuarantinePolicyARN: jsii.String(str(props.QuarantinePolicyArn, DefaultQuarantinePolicyArn)),
			config.EnvAllow:               jsii.String(allow),
			config.EnvSelfRoleARN:         p.role.RoleArn(),
			config.EnvTrails:              jsii.String(string(trails)),
			config.EnvRules:               jsii.String(strings.Join(rulesSetting, ",")),
			config.EnvReconcileSchedule:   every.expression,
			config.EnvAlarms:              jsii.String(strings.Join(alarmList, ",")),
			config.EnvMinRetentionDays:    jsii.String(fmt.Sprint(minRetention)),
			config.EnvSecurityHub:         jsii.String(fmt.Sprint(props.SecurityHub != nil && *props.SecurityHub)),
			config.EnvDedupTable:          events.TableName(),
		},
	})
	// The function must not run before its permissions exist.
	p.fn.Node().AddDependency(policy)
	// What names the function itself, in a policy made after it (in the
	// first one its ARN would be a cycle: role policy → function → policy).
	awsiam.NewPolicy(c, jsii.String("OwnFunctionPermissions"), &awsiam.PolicyProps{
		Roles:      &[]awsiam.IRole{p.role},
		Statements: ptrs(tableStatements(map[grants.Resource][]*string{grants.OwnFunction: {p.fn.FunctionArn()}})),
	})

	target := awseventstargets.NewLambdaFunction(p.fn, &awseventstargets.LambdaFunctionProps{
		DeadLetterQueue: p.dlq,
		MaxEventAge:     awscdk.Duration_Hours(jsii.Number(targetMaxEventAgeHrs)),
		RetryAttempts:   jsii.Number(targetRetryAttempts),
	})
	for i, r := range watched {
		detail, _ := r.Pattern.Map()["detail"].(map[string]any)
		p.rules[r.ID] = awsevents.NewRule(c, jsii.String("Watch-"+r.ID), &awsevents.RuleProps{
			RuleName:    jsii.String(p.ruleNames[i]),
			Description: jsii.String("trailguard: " + r.EventSource + " calls that can blind CloudTrail (from the catalog)"),
			EventPattern: &awsevents.EventPattern{
				Source:     jsii.Strings(r.Pattern.Source...),
				DetailType: jsii.Strings(r.Pattern.DetailType...),
				Detail:     &detail,
			},
			Targets: &[]awsevents.IRuleTarget{target},
		})
	}
	// The default Scheduled Event payload (source aws.events, detail-type
	// "Scheduled Event") is the responder's reconcile request.
	reconcileName := p.ruleNames[len(watched)]
	awsevents.NewRule(c, jsii.String("Reconcile"), &awsevents.RuleProps{
		RuleName:    jsii.String(reconcileName),
		Description: jsii.String("trailguard: compare the protected trails with their baseline and repair drift"),
		Schedule:    every.schedule,
		Targets:     &[]awsevents.IRuleTarget{target},
	})

	p.ownerRules(ownerIDs, p.ruleNames[len(watched)+1:])
	p.alarms(reconcileName, every.duration)

	if props.SlackWorkspaceID != nil {
		awschatbot.NewSlackChannelConfiguration(c, jsii.String("Slack"), &awschatbot.SlackChannelConfigurationProps{
			SlackChannelConfigurationName: jsii.String(str(props.SlackConfigurationName, "trailguard-"+*stack.StackName())),
			SlackWorkspaceId:              props.SlackWorkspaceID,
			SlackChannelId:                props.SlackChannelID,
			NotificationTopics:            &[]awssns.ITopic{p.topic},
		})
	}
	return p
}

// WatchesGlobalServices reports whether rules for global services (IAM,
// Organizations, whose events EventBridge delivers only in us-east-1) are
// deployed in stack: in us-east-1, and in region-agnostic stacks, where the
// region is only known at deploy time and a rule that never fires is free.
func WatchesGlobalServices(stack awscdk.Stack) bool {
	r := stack.Region()
	return *awscdk.Token_IsUnresolved(r) || *r == "us-east-1"
}

// alarms sends to the topic whatever means trailguard itself is failing,
// and pages when the scheduled reconciliation stops running or stops
// succeeding (see heartbeat).
func (p *protection) alarms(reconcileRule string, every awscdk.Duration) {
	p.heartbeat(reconcileRule, every)
	five := awscdk.Duration_Minutes(jsii.Number(5))
	p.addAlarms([]alarm{
		{"errors", "ErrorsAlarm", "trailguard responder invocations failed",
			p.fn.MetricErrors(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Sum")})},
		{"throttles", "ThrottlesAlarm", "trailguard responder invocations were throttled (reserved concurrency reached)",
			p.fn.MetricThrottles(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Sum")})},
		{"dead-letter", "DeadLetterAlarm", "EventBridge could not deliver tamper events to the trailguard responder",
			p.dlq.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Maximum")})},
		{"failure", "FailureAlarm", "trailguard responder invocations failed after all retries",
			p.fails.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Maximum")})},
		// Any error, throttle or message in a queue pages; no data means
		// nothing happened.
	}, 0, awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD, awscloudwatch.TreatMissingData_NOT_BREACHING)
}

// alarm is one of trailguard's alarms: its key in alarmNames, its construct
// id, what it means, and the metric it watches.
type alarm struct {
	name    string
	id, why string
	metric  awscloudwatch.IMetric
}

// addAlarms creates alarms that page the topic when their metric compares
// to threshold as cmp says in one period, missing data treated as missing
// says.
func (p *protection) addAlarms(alarms []alarm, threshold float64, cmp awscloudwatch.ComparisonOperator, missing awscloudwatch.TreatMissingData) {
	for _, a := range alarms {
		awscloudwatch.NewAlarm(p.scope, jsii.String(a.id), &awscloudwatch.AlarmProps{
			AlarmName:          jsii.String(p.alarmNames[a.name]),
			AlarmDescription:   jsii.String(a.why),
			Metric:             a.metric,
			Threshold:          jsii.Number(threshold),
			EvaluationPeriods:  jsii.Number(1),
			ComparisonOperator: cmp,
			TreatMissingData:   missing,
		}).AddAlarmAction(awscloudwatchactions.NewSnsAction(p.topic))
	}
}

// newQueue returns a queue for failed deliveries: encrypted, TLS only, kept
// for SQS's maximum retention.
func newQueue(scope constructs.Construct, id string, key awskms.Key) awssqs.Queue {
	props := &awssqs.QueueProps{
		EnforceSSL:      jsii.Bool(true),
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(queueRetentionDays)),
	}
	if key != nil {
		props.Encryption = awssqs.QueueEncryption_KMS
		props.EncryptionMasterKey = key
	}
	q := awssqs.NewQueue(scope, jsii.String(id), props)
	cdknag.NagSuppressions_AddResourceSuppressions(q, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-SQS3"),
		Reason: jsii.String("This queue is itself a dead-letter/on-failure destination; an alarm fires on its first message."),
	}}, nil)
	return q
}

func ptrs(s []awsiam.PolicyStatement) *[]awsiam.PolicyStatement { return &s }
