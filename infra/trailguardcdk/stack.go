package trailguardcdk

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// TrailguardStackProps configures the ready stack.
type TrailguardStackProps struct {
	awscdk.StackProps
	// Protection configures the Protection construct inside the stack.
	Protection ProtectionProps
}

// NewTrailguardStack is a stack holding one Protection, checked by cdk-nag's
// AWS Solutions rules: synth fails on any finding that is not suppressed
// with a written reason.
func NewTrailguardStack(scope constructs.Construct, id *string, props *TrailguardStackProps) awscdk.Stack {
	if props == nil {
		props = &TrailguardStackProps{}
	}
	sp := props.StackProps
	if sp.Description == nil {
		sp.Description = jsii.String("trailguard: keeps AWS CloudTrail on, restores tampering, contains the actor, notifies")
	}
	stack := awscdk.NewStack(scope, id, &sp)
	p := NewProtection(stack, jsii.String("Trailguard"), &props.Protection)
	if props.Protection.AlertEmails == nil || len(*props.Protection.AlertEmails) == 0 {
		awscdk.Annotations_Of(stack).AddWarningV2(jsii.String("trailguard:no-email"),
			jsii.String("no alert email: set -c alertEmails=you@example.com (or subscribe to the TopicArn output yourself)"), nil)
	}
	awscdk.NewCfnOutput(stack, jsii.String("TopicArn"), &awscdk.CfnOutputProps{
		Value: p.Topic().TopicArn(), Description: jsii.String("alert topic"),
	})
	awscdk.NewCfnOutput(stack, jsii.String("TrailArn"), &awscdk.CfnOutputProps{
		Value: p.TrailArn(), Description: jsii.String("protected trail"),
	})
	awscdk.NewCfnOutput(stack, jsii.String("ResponderName"), &awscdk.CfnOutputProps{
		Value: p.Function().FunctionName(), Description: jsii.String("responder function"),
	})
	awscdk.Aspects_Of(stack).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	return stack
}
