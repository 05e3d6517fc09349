package trailguardcdk

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/trailguard/trailguard/internal/catalog"
	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/grants"
)

// Organization mode: a hub stack in a security account (or the management
// account) holds the responder, the alert topic and a central event bus; a
// spoke in every member account and region only forwards the catalog's
// events to that bus and holds the role the hub assumes. The spoke is
// deployed by a service-managed StackSet with automatic deployment, so a new
// account is protected as soon as it joins; the management account, which
// service-managed StackSets skip, deploys the same spoke as its own stack.

const (
	// HubBusName is the hub's central event bus (the responder checks the
	// spoke rules' targets against it).
	HubBusName = config.HubBusName
	// HubRoleName is the hub responder's role: fixed, so member roles can
	// trust it by ARN. One hub per organization (role names are global).
	HubRoleName = "trailguard-hub-responder"
	// SpokeStackSetName names the StackSet deploying the spokes.
	SpokeStackSetName = "trailguard-spoke"
	// hubTimeoutSecs is the hub responder's timeout: Lambda's maximum.
	hubTimeoutSecs = 900
	// hubConcurrency is how many accounts the hub reconciles at a time.
	hubConcurrency = 16
)

// Org names the organization and how the hub reaches its members; the hub
// and the spoke take the same values, so their halves match.
type Org struct {
	// OrganizationID is the organization (o-...). Required.
	OrganizationID *string
	// HubAccount is the hub's account id. Required by the spoke (the hub
	// stack takes its own account).
	HubAccount *string
	// HubRegion is the hub's region (its bus). Required by the spoke.
	HubRegion *string
	// MemberRoleName is the role in each member. Default TrailguardMember.
	MemberRoleName *string
	// ExternalID, when set, must be presented by the hub to assume it.
	ExternalID *string
	// QuarantinePolicyArn is attached to offending IAM users in members.
	// Default AWSDenyAll (an AWS managed policy present in every account).
	QuarantinePolicyArn *string
}

var (
	orgIDPattern   = regexp.MustCompile(`^o-[a-z0-9]{10,32}$`)
	accountPattern = regexp.MustCompile(`^[0-9]{12}$`)
	targetPattern  = regexp.MustCompile(`^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$`)
)

func (o *Org) validate(spoke bool) error {
	var errs []string
	if o.OrganizationID == nil || !orgIDPattern.MatchString(*o.OrganizationID) {
		errs = append(errs, "OrganizationID must be an organization id (o-...)")
	}
	if spoke {
		if o.HubAccount == nil || !accountPattern.MatchString(*o.HubAccount) {
			errs = append(errs, "HubAccount must be the hub's 12-digit account id")
		}
		if o.HubRegion == nil || *o.HubRegion == "" {
			errs = append(errs, "HubRegion is required")
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

func (o *Org) memberRole() string { return str(o.MemberRoleName, config.DefaultMemberRoleName) }

// SpokeProps configures a spoke.
type SpokeProps struct {
	Org Org
}

// NewSpoke adds the spoke to scope: one rule per catalog service forwarding
// to the hub's bus with a role (global services' rules only in us-east-1),
// and in us-east-1 the member role the hub assumes. Nothing else: no
// function, no topic. The template is region-agnostic (a StackSet deploys it
// everywhere), so the region choices are CloudFormation conditions.
func NewSpoke(scope constructs.Construct, id *string, props *SpokeProps) constructs.Construct {
	if err := props.Org.validate(true); err != nil {
		panic(fmt.Errorf("trailguard spoke: %w", err))
	}
	o := props.Org
	c := constructs.NewConstruct(scope, id)
	stack := awscdk.Stack_Of(c)
	partition := *awscdk.Aws_PARTITION()
	inGlobal := awscdk.NewCfnCondition(c, jsii.String("InGlobalRegion"), &awscdk.CfnConditionProps{
		Expression: awscdk.Fn_ConditionEquals(awscdk.Aws_REGION(), jsii.String(catalog.GlobalRegion)),
	})
	onlyInGlobal := func(x constructs.IConstruct) {
		x.Node().DefaultChild().(awscdk.CfnResource).CfnOptions().SetCondition(inGlobal)
	}

	busArn := "arn:" + partition + ":events:" + *o.HubRegion + ":" + *o.HubAccount + ":event-bus/" + HubBusName
	hubBus := awsevents.EventBus_FromEventBusArn(c, jsii.String("HubBus"), awscdk.Fn_Join(jsii.String(""), jsii.Strings(busArn)))
	forward := awsiam.NewRole(c, jsii.String("ForwardRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), nil),
		Description: jsii.String("trailguard spoke: EventBridge forwards the catalog's events to the hub's bus"),
	})
	target := awseventstargets.NewEventBus(hubBus, &awseventstargets.EventBusProps{Role: forward})
	for _, r := range catalog.Rules() {
		detail, _ := r.Pattern.Map()["detail"].(map[string]any)
		rule := awsevents.NewRule(c, jsii.String("Forward-"+r.ID), &awsevents.RuleProps{
			RuleName:    jsii.String(catalog.SpokeRuleName(r)),
			Description: jsii.String("trailguard spoke: " + r.EventSource + " calls that can blind CloudTrail, to the hub"),
			EventPattern: &awsevents.EventPattern{
				Source:     jsii.Strings(r.Pattern.Source...),
				DetailType: jsii.Strings(r.Pattern.DetailType...),
				Detail:     &detail,
			},
			Targets: &[]awsevents.IRuleTarget{target},
		})
		if r.GlobalOnly {
			onlyInGlobal(rule)
		}
	}

	// The member role: trusted by the hub's responder role only, and only
	// while it belongs to this organization (and presents the external ID).
	hubRole := "arn:" + partition + ":iam::" + *o.HubAccount + ":role/" + HubRoleName
	conds := map[string]any{"aws:PrincipalOrgID": *o.OrganizationID}
	if o.ExternalID != nil && *o.ExternalID != "" {
		conds["sts:ExternalId"] = *o.ExternalID
	}
	memberRoleArn := awscdk.Fn_Join(jsii.String(""), jsii.Strings("arn:", partition, ":iam::", *stack.Account(), ":role/", o.memberRole()))
	role := awsiam.NewRole(c, jsii.String("MemberRole"), &awsiam.RoleProps{
		RoleName: jsii.String(o.memberRole()),
		AssumedBy: awsiam.NewArnPrincipal(awscdk.Fn_Join(jsii.String(""), jsii.Strings(hubRole))).
			WithConditions(&map[string]any{"StringEquals": conds}),
		Description:        jsii.String("trailguard member role: the hub's responder restores CloudTrail and contains the actor in this account"),
		MaxSessionDuration: awscdk.Duration_Hours(jsii.Number(1)),
	})
	onlyInGlobal(role)
	policy := awsiam.NewPolicy(c, jsii.String("MemberPermissions"), &awsiam.PolicyProps{
		Roles:      &[]awsiam.IRole{role},
		Statements: ptrs(memberStatements(memberRoleArn, str(o.QuarantinePolicyArn, DefaultQuarantinePolicyArn))),
	})
	onlyInGlobal(policy)
	cdknag.NagSuppressions_AddResourceSuppressions(policy, memberPolicySuppressions(), nil)
	return c
}

// memberStatements are the responder's statements (iam.go) as they apply in
// a member account: the same actions, on that account's trails, buckets and
// keys (the hub's baselines name them, not this template), and on the spoke
// rules in every region instead of the responder's own rules; without the
// hub-only grants (the topic, the function's logs) and the gap reports'.
func memberStatements(selfRoleArn *string, quarantine string) []awsiam.PolicyStatement {
	partition, account := *awscdk.Aws_PARTITION(), *awscdk.Aws_ACCOUNT_ID()
	join := func(parts ...string) *string { return awscdk.Fn_Join(jsii.String(""), jsii.Strings(parts...)) }
	all := responderStatements(permissionInputs{
		trailArn:            join("arn:", partition, ":cloudtrail:*:", account, ":trail/*"),
		quarantinePolicyArn: jsii.String(quarantine),
		topicArn:            jsii.String("unused"),
		logGroupArn:         jsii.String("unused"),
		selfRoleArn:         selfRoleArn,
		trailBucket:         jsii.String("*"),
		trailKeyArn:         join("arn:", partition, ":kms:*:", account, ":key/*"),
	})
	var out []awsiam.PolicyStatement
	for _, s := range all {
		switch *s.Sid() {
		case "Notify", "ReadTopic", "WriteOwnLogs", "ReEnableOwnRules", "ReEnableOwnAlarms", "ReadAlarms", "ReadOwnFunction",
			// Gap reports are single-account only for now (the hub does
			// not run the gap reporter in members).
			"LookUpBlindWindows", "KeepBlindWindows", "ListBlindWindows", "StoreGapReports":
			continue
		}
		out = append(out, s)
	}
	return append(out, allow("ReEnableSpokeRules", []string{"events:DescribeRule", "events:EnableRule", "events:ListTargetsByRule"},
		join("arn:", partition, ":events:*:", account, ":rule/", catalog.SpokePrefix, "*")))
}

func memberPolicySuppressions() *[]*cdknag.NagPackSuppression {
	return &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("The member role carries the responder's own grants (see the responder policy's reasons) for whatever " +
			"trail, bucket and key the hub protects in this account, which a template deployed to every account cannot name: " +
			"trails, keys and event data stores of this account only, buckets by name, users and roles of this account (the " +
			"offender), and trailguard's spoke rules in every region. Only the hub's responder role in this organization can " +
			"assume it."),
		AppliesTo: &[]any{
			"Resource::*",
			"Resource::arn:<AWS::Partition>:s3:::*",
			// The gap reports under each protected bucket's trailguard/ prefix.
			"Resource::arn:<AWS::Partition>:s3:::*/trailguard/*",
			"Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:user/*",
			"Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:role/*",
			"Resource::arn:<AWS::Partition>:cloudtrail:*:<AWS::AccountId>:eventdatastore/*",
			"Resource::arn:<AWS::Partition>:cloudtrail:*:<AWS::AccountId>:trail/*",
			"Resource::arn:<AWS::Partition>:kms:*:<AWS::AccountId>:key/*",
			"Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:*",
			"Resource::arn:<AWS::Partition>:events:*:<AWS::AccountId>:rule/" + catalog.SpokePrefix + "*",
		},
	}}
}

// SpokeStackProps configures the spoke stack (the management account's, or
// the StackSet's template).
type SpokeStackProps struct {
	awscdk.StackProps
	Spoke SpokeProps
}

// NewSpokeStack is a stack holding one spoke, checked by cdk-nag.
func NewSpokeStack(scope constructs.Construct, id *string, props *SpokeStackProps) awscdk.Stack {
	sp := props.StackProps
	if sp.Description == nil {
		sp.Description = jsii.String("trailguard spoke: forwards CloudTrail tampering to the organization's hub, and the role the hub acts through")
	}
	stack := awscdk.NewStack(scope, id, &sp)
	NewSpoke(stack, jsii.String("Spoke"), &props.Spoke)
	awscdk.Aspects_Of(stack).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	return stack
}

// SpokeTemplate synthesises the spoke for the StackSet: a self-contained
// template (no bootstrap, no assets).
func SpokeTemplate(o Org) (string, error) {
	dir, err := os.MkdirTemp("", "trailguard-spoke-")
	if err != nil {
		return "", fmt.Errorf("spoke template: %w", err)
	}
	defer os.RemoveAll(dir)
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(dir)})
	stack := NewSpokeStack(app, jsii.String("TrailguardSpoke"), &SpokeStackProps{
		StackProps: awscdk.StackProps{Synthesizer: awscdk.NewBootstraplessSynthesizer(nil)},
		Spoke:      SpokeProps{Org: o},
	})
	tmpl := app.Synth(nil).GetStackArtifact(stack.ArtifactId()).Template()
	b, err := json.Marshal(tmpl)
	if err != nil {
		return "", fmt.Errorf("spoke template: %w", err)
	}
	return string(b), nil
}

// HubStackProps configures the hub.
type HubStackProps struct {
	awscdk.StackProps
	// Protection configures the responder (its own account's trail, topic,
	// alarms) as in single-account mode.
	Protection ProtectionProps
	Org        Org
	// SpokeTargets are the organization's root (r-...) or OUs (ou-...) the
	// StackSet deploys the spoke to. Required.
	SpokeTargets *[]*string
	// SpokeRegions are the regions of the spokes (us-east-1 included: the
	// member role and global services' rules live there). Required.
	SpokeRegions *[]*string
	// SkipAccounts and DryRunAccounts: account or OU ids the hub leaves
	// alone, or answers in dry-run.
	SkipAccounts, DryRunAccounts *[]*string
	// CallAs is SELF when the hub is the management account, DELEGATED_ADMIN
	// (default) when it is a StackSets delegated administrator.
	CallAs *string
}

// NewHubStack is the organization's hub: the responder (with hub settings,
// permission to assume the member role in this organization's accounts only,
// and to read account names), the central bus that accepts events from this
// organization only, its rules, and the StackSet that deploys the spokes.
func NewHubStack(scope constructs.Construct, id *string, props *HubStackProps) awscdk.Stack {
	o := props.Org
	if err := o.validate(false); err != nil {
		panic(fmt.Errorf("trailguard hub: %w", err))
	}
	if props.SpokeTargets == nil || len(*props.SpokeTargets) == 0 {
		panic(fmt.Errorf("trailguard hub: SpokeTargets: name the organization's root (r-...) or OUs (ou-...)"))
	}
	for _, t := range *props.SpokeTargets {
		if !targetPattern.MatchString(*t) {
			panic(fmt.Errorf("trailguard hub: SpokeTargets: %q is neither a root id (r-...) nor an OU id (ou-...)", *t))
		}
	}
	regions := strs(props.SpokeRegions)
	if !contains(regions, catalog.GlobalRegion) {
		panic(fmt.Errorf("trailguard hub: SpokeRegions must include %s (the member role and IAM/Organizations rules live there)", catalog.GlobalRegion))
	}
	sp := props.StackProps
	if sp.Description == nil {
		sp.Description = jsii.String("trailguard hub: protects CloudTrail in every account of the organization")
	}
	stack := awscdk.NewStack(scope, id, &sp)
	pp := props.Protection
	pp.RoleName = jsii.String(HubRoleName)
	p := NewProtection(stack, jsii.String("Trailguard"), &pp)

	fn := p.Function().(awslambda.Function)
	// Reconciling every account and region takes minutes, not the
	// single-account minute (docs/organization.md: 1,000 accounts x 17
	// regions at concurrency 16 take about 11 minutes).
	fn.Node().DefaultChild().(awslambda.CfnFunction).SetTimeout(jsii.Number(hubTimeoutSecs))
	env := map[string]string{
		config.EnvHub:              "true",
		config.EnvMemberRoleName:   o.memberRole(),
		config.EnvOrganizationID:   *o.OrganizationID,
		config.EnvRegions:          strings.Join(regions, ","),
		config.EnvSkipAccounts:     strings.Join(strs(props.SkipAccounts), ","),
		config.EnvDryRunAccounts:   strings.Join(strs(props.DryRunAccounts), ","),
		config.EnvMemberExternalID: str(o.ExternalID, ""),
		config.EnvOrgConcurrency:   fmt.Sprint(hubConcurrency),
	}
	for _, k := range []string{config.EnvHub, config.EnvMemberRoleName, config.EnvOrganizationID, config.EnvRegions,
		config.EnvSkipAccounts, config.EnvDryRunAccounts, config.EnvMemberExternalID, config.EnvOrgConcurrency} {
		fn.AddEnvironment(jsii.String(k), jsii.String(env[k]), nil)
	}

	// Assume the member role in this organization's accounts only, and read
	// account names and OUs for alerts and scoping.
	for _, st := range tableStatements(map[grants.Resource][]*string{
		grants.MemberRoles:    {awscdk.Fn_Join(jsii.String(""), jsii.Strings("arn:", *awscdk.Aws_PARTITION(), ":iam::*:role/", o.memberRole()))},
		grants.OrganizationID: {o.OrganizationID},
		grants.Organization:   {jsii.String("*")},
	}) {
		p.Role().AddToPrincipalPolicy(st)
	}
	cdknag.NagSuppressions_AddResourceSuppressions(p.Role(), &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("The hub assumes the member role in whichever account an event comes from, limited by " +
			"aws:ResourceOrgID to this organization; the Organizations reads are read-only and authorised on * only."),
		AppliesTo: &[]any{"Resource::arn:<AWS::Partition>:iam::*:role/" + o.memberRole(), "Resource::*"},
	}}, jsii.Bool(true))

	// The central bus: PutEvents from this organization's accounts only.
	bus := awsevents.NewEventBus(stack, jsii.String("HubBus"), &awsevents.EventBusProps{EventBusName: jsii.String(HubBusName)})
	awsevents.NewCfnEventBusPolicy(stack, jsii.String("HubBusPolicy"), &awsevents.CfnEventBusPolicyProps{
		EventBusName: bus.EventBusName(),
		StatementId:  jsii.String("OrganizationMembersPutEvents"),
		Statement: map[string]any{
			"Sid":       "OrganizationMembersPutEvents",
			"Effect":    "Allow",
			"Principal": "*",
			"Action":    "events:PutEvents",
			"Resource":  bus.EventBusArn(),
			"Condition": map[string]any{"StringEquals": map[string]any{"aws:PrincipalOrgID": *o.OrganizationID}},
		},
	})
	target := awseventstargets.NewLambdaFunction(p.Function(), &awseventstargets.LambdaFunctionProps{
		DeadLetterQueue: p.DeadLetterQueue(),
		MaxEventAge:     awscdk.Duration_Hours(jsii.Number(targetMaxEventAgeHrs)),
		RetryAttempts:   jsii.Number(targetRetryAttempts),
	})
	for _, r := range catalog.Rules() {
		detail, _ := r.Pattern.Map()["detail"].(map[string]any)
		awsevents.NewRule(stack, jsii.String("FromSpokes-"+r.ID), &awsevents.RuleProps{
			EventBus:    bus,
			Description: jsii.String("trailguard hub: " + r.EventSource + " tampering forwarded by the spokes"),
			EventPattern: &awsevents.EventPattern{
				Source:     jsii.Strings(r.Pattern.Source...),
				DetailType: jsii.Strings(r.Pattern.DetailType...),
				Detail:     &detail,
			},
			Targets: &[]awsevents.IRuleTarget{target},
		})
	}

	// The spokes, everywhere in the targets, and in every account that joins.
	spokeOrg := o
	spokeOrg.HubAccount = stack.Account()
	spokeOrg.HubRegion = stack.Region()
	if *awscdk.Token_IsUnresolved(stack.Account()) || *awscdk.Token_IsUnresolved(stack.Region()) {
		panic(fmt.Errorf("trailguard hub: the hub stack needs an explicit account and region (env): the spokes name its bus and role"))
	}
	body, err := SpokeTemplate(spokeOrg)
	if err != nil {
		panic(fmt.Errorf("trailguard hub: %w", err))
	}
	awscdk.NewCfnStackSet(stack, jsii.String("Spokes"), &awscdk.CfnStackSetProps{
		StackSetName:     jsii.String(SpokeStackSetName),
		Description:      jsii.String("trailguard spoke in every member account and region"),
		PermissionModel:  jsii.String("SERVICE_MANAGED"),
		AutoDeployment:   &awscdk.CfnStackSet_AutoDeploymentProperty{Enabled: jsii.Bool(true), RetainStacksOnAccountRemoval: jsii.Bool(false)},
		ManagedExecution: map[string]any{"Active": true},
		CallAs:           jsii.String(str(props.CallAs, "DELEGATED_ADMIN")),
		Capabilities:     jsii.Strings("CAPABILITY_NAMED_IAM"),
		TemplateBody:     jsii.String(body),
		OperationPreferences: &awscdk.CfnStackSet_OperationPreferencesProperty{
			RegionConcurrencyType:      jsii.String("PARALLEL"),
			MaxConcurrentPercentage:    jsii.Number(25),
			FailureTolerancePercentage: jsii.Number(10),
		},
		StackInstancesGroup: []any{&awscdk.CfnStackSet_StackInstancesProperty{
			DeploymentTargets: &awscdk.CfnStackSet_DeploymentTargetsProperty{OrganizationalUnitIds: props.SpokeTargets},
			Regions:           props.SpokeRegions,
		}},
	})
	awscdk.NewCfnOutput(stack, jsii.String("HubBusArn"), &awscdk.CfnOutputProps{Value: bus.EventBusArn(), Description: jsii.String("the organization's central bus")})
	awscdk.NewCfnOutput(stack, jsii.String("TopicArn"), &awscdk.CfnOutputProps{Value: p.Topic().TopicArn(), Description: jsii.String("alert topic")})
	awscdk.Aspects_Of(stack).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	return stack
}

func strs(l *[]*string) []string {
	if l == nil {
		return nil
	}
	var out []string
	for _, s := range *l {
		if s != nil && *s != "" {
			out = append(out, *s)
		}
	}
	return out
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}
