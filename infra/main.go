// Command infra is trailguard's ready CDK app: one TrailguardStack configured
// from CDK context (-c key=value or cdk.json), so that
// `npx aws-cdk@2 deploy -c alertEmails=you@example.com` is the whole setup.
// The context keys are listed in README.md.
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
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
	if err := newStack(app, props); err != nil {
		fmt.Fprintln(os.Stderr, "trailguard:", err)
		os.Exit(2)
	}
	app.Synth(nil)
}

// newStack turns the construct's panic on invalid settings into an error, so
// a typo in a context value reads as one line, not a stack trace.
func newStack(app awscdk.App, props *trailguardcdk.TrailguardStackProps) (err error) {
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
		hub, mgmt := orgProps(get, props)
		trailguardcdk.NewHubStack(app, jsii.String("TrailguardHub"), hub)
		trailguardcdk.NewSpokeStack(app, jsii.String("TrailguardManagementSpoke"), mgmt)
		return nil
	}
	trailguardcdk.NewTrailguardStack(app, jsii.String(orDefault(ctxString(app, "stackName"), "Trailguard")), props)
	return nil
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

// propsFromContext builds the stack's props from context values.
func propsFromContext(get func(string) string) (*trailguardcdk.TrailguardStackProps, error) {
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
	if v := get("existingTrail"); v != "" {
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
	return &trailguardcdk.TrailguardStackProps{
		StackProps: awscdk.StackProps{Env: env},
		Protection: p,
	}, nil
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
