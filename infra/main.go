// Command infra is trailguard's ready CDK app: one TrailguardStack (or one
// per region of "regions") configured from CDK context (-c key=value or
// cdk.json), so that `npx aws-cdk@2 deploy -c existingTrail=<trail>
// -c existingTrailBucket=<bucket> -c alertEmails=you@example.com` is the
// whole setup. It protects the account's existing trail, and creates one
// only when asked (createTrail=true). The context keys are listed in
// README.md.
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"

	"github.com/trailguard/trailguard/infra/trailguardcdk"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	props, err := propsFromContext(func(k string) string {
		if v, ok := app.Node().TryGetContext(jsii.String(k)).(string); ok {
			return strings.TrimSpace(v)
		}
		return ""
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "trailguard:", err)
		os.Exit(2)
	}
	if _, err := newStacks(app, orDefault(ctxString(app, "stackName"), "Trailguard"), props); err != nil {
		fmt.Fprintln(os.Stderr, "trailguard:", err)
		os.Exit(2)
	}
	app.Synth(nil)
}

// newStacks adds the app's stacks: the hub and the management spoke in
// organization mode; else one stack, or one per region of context
// "regions" (named <name>-<region>, bound to that region and the CLI's
// account). It turns the construct's panic on invalid settings into an
// error, so a typo in a context value reads as one line, not a stack trace.
func newStacks(app awscdk.App, name string, props *appProps) (stacks []awscdk.Stack, err error) {
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(error); ok {
				err = e
				return
			}
			panic(r)
		}
	}()
	get := func(k string) string { return strings.TrimSpace(ctxString(app, k)) }
	if get("org") != "" {
		// Organization mode: the hub (in the account and region of the CLI's
		// credentials, or hubAccount/hubRegion) and the management account's
		// spoke; deploy each by name.
		hub, mgmt := orgProps(get, &props.stack)
		trailguardcdk.NewHubStack(app, jsii.String("TrailguardHub"), hub)
		trailguardcdk.NewSpokeStack(app, jsii.String("TrailguardManagementSpoke"), mgmt)
		return nil, nil
	}
	withCode := func(p trailguardcdk.TrailguardStackProps) *trailguardcdk.TrailguardStackProps {
		if props.code != nil {
			p.Protection.Code = props.code() // an asset belongs to one stack
		}
		return &p
	}
	if len(props.regions) == 0 {
		return []awscdk.Stack{trailguardcdk.NewTrailguardStack(app, jsii.String(name), withCode(props.stack))}, nil
	}
	for _, region := range props.regions {
		p := withCode(props.stack)
		p.Env = &awscdk.Environment{Account: opt(os.Getenv("CDK_DEFAULT_ACCOUNT")), Region: jsii.String(region)}
		stacks = append(stacks, trailguardcdk.NewTrailguardStack(app, jsii.String(name+"-"+region), p))
	}
	return stacks, nil
}

// orgProps builds the hub's and the management spoke's props from context.
// Both take the same organization settings, so their halves match.
func orgProps(get func(string) string, props *trailguardcdk.TrailguardStackProps) (*trailguardcdk.HubStackProps, *trailguardcdk.SpokeStackProps) {
	account := orDefault(get("hubAccount"), os.Getenv("CDK_DEFAULT_ACCOUNT"))
	region := orDefault(get("hubRegion"), os.Getenv("CDK_DEFAULT_REGION"))
	o := trailguardcdk.Org{
		OrganizationID:      opt(get("org")),
		HubAccount:          opt(account),
		HubRegion:           opt(region),
		MemberRoleName:      opt(get("memberRoleName")),
		ExternalID:          opt(get("externalId")),
		QuarantinePolicyArn: props.Protection.QuarantinePolicyArn,
	}
	hub := &trailguardcdk.HubStackProps{
		StackProps:     awscdk.StackProps{Env: &awscdk.Environment{Account: opt(account), Region: opt(region)}},
		Protection:     props.Protection,
		Org:            o,
		SpokeTargets:   list(get("spokeTargets")),
		SpokeRegions:   list(orDefault(get("spokeRegions"), "us-east-1")),
		SkipAccounts:   list(get("skipAccounts")),
		DryRunAccounts: list(get("dryRunAccounts")),
		CallAs:         opt(get("stackSetCallAs")),
	}
	return hub, &trailguardcdk.SpokeStackProps{Spoke: trailguardcdk.SpokeProps{Org: o}}
}

func ctxString(app awscdk.App, k string) string {
	v, _ := app.Node().TryGetContext(jsii.String(k)).(string)
	return v
}

// appProps is what the context asks for: the stack's props and, with
// "regions", the regions to deploy one stack each to.
type appProps struct {
	stack   trailguardcdk.TrailguardStackProps
	regions []string
	// code, when set, gives each stack its responder code (tests); by
	// default each Protection builds the responder itself.
	code func() awslambda.Code
}

// errChooseTrail: the app creates a trail only when asked. Most accounts
// already have one; a second multi-region trail is billed.
var errChooseTrail = fmt.Errorf("choose the trail to protect: -c existingTrail=<name or ARN> -c existingTrailBucket=<bucket> " +
	"protects the trail the account already has (see README: Before you deploy), or -c createTrail=true creates a new " +
	"multi-region trail (a second trail's management events are billed)")

// propsFromContext builds the stacks' props from context values.
func propsFromContext(get func(string) string) (*appProps, error) {
	p := trailguardcdk.ProtectionProps{
		AlertEmails:         list(get("alertEmails")),
		Allow:               list(get("allow")),
		TrailName:           opt(get("trailName")),
		QuarantinePolicyArn: opt(get("quarantinePolicyArn")),
		Mode:                opt(get("mode")),
		SlackWorkspaceID:    opt(get("slackWorkspaceId")),
		SlackChannelID:      opt(get("slackChannelId")),
	}
	if v := get("kms"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("context kms=%q: %w", v, err)
		}
		p.EncryptWithKms = &b
	}
	if v := get("securityHub"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("context securityHub=%q: %w", v, err)
		}
		p.SecurityHub = &b
	}
	if v := get("reconcileMinutes"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("context reconcileMinutes=%q: want a whole number of minutes >= 1", v)
		}
		p.ReconcileEvery = awscdk.Duration_Minutes(jsii.Number(n))
	}
	if v := get("reservedConcurrency"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("context reservedConcurrency=%q: want a whole number >= 0", v)
		}
		p.ReservedConcurrency = jsii.Number(n)
	}
	if v := get("minRetentionDays"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("context minRetentionDays=%q: want a whole number of days >= 1", v)
		}
		p.MinRetentionDays = jsii.Number(n)
	}
	create := false
	if v := get("createTrail"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("context createTrail=%q: %w", v, err)
		}
		create = b
	}
	existing := get("existingTrail")
	switch {
	case get("org") != "":
		// Organization mode: the hub's own settings decide (docs/organization.md).
	case existing == "" && !create:
		return nil, errChooseTrail
	case existing != "" && create:
		return nil, fmt.Errorf("context existingTrail and createTrail=true: protect the existing trail or create one, not both")
	}
	regions := list(get("regions"))
	if regions != nil && create && len(*regions) > 1 {
		return nil, fmt.Errorf("context createTrail=true with %d regions: the trail is multi-region, create it once (one region), then deploy the other regions with -c existingTrail=<its ARN> -c existingTrailBucket=<its bucket>", len(*regions))
	}
	if v := existing; v != "" {
		p.ExistingTrail = &trailguardcdk.ExistingTrail{
			Name:                      &v,
			HomeRegion:                opt(get("existingTrailRegion")),
			BucketName:                opt(get("existingTrailBucket")),
			S3KeyPrefix:               opt(get("existingTrailPrefix")),
			KmsKeyArn:                 opt(get("existingTrailKmsKeyArn")),
			CloudWatchLogsLogGroupArn: opt(get("existingTrailLogGroupArn")),
			CloudWatchLogsRoleArn:     opt(get("existingTrailLogsRoleArn")),
		}
	}
	// The stack is region-agnostic unless the CLI's account/region are used
	// (see README: global-service rules are then created in any region).
	var env *awscdk.Environment
	if get("useCliEnv") == "true" {
		env = &awscdk.Environment{
			Account: opt(os.Getenv("CDK_DEFAULT_ACCOUNT")),
			Region:  opt(os.Getenv("CDK_DEFAULT_REGION")),
		}
	}
	out := &appProps{stack: trailguardcdk.TrailguardStackProps{
		StackProps: awscdk.StackProps{Env: env},
		Protection: p,
	}}
	if regions != nil {
		for _, r := range *regions {
			out.regions = append(out.regions, *r)
		}
	}
	return out, nil
}

func list(s string) *[]*string {
	var out []*string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, jsii.String(f))
		}
	}
	if out == nil {
		return nil
	}
	return &out
}

func opt(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
