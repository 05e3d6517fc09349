package trailguardcdk

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/trailguard/trailguard/internal/grants"
)

// permissionInputs are the resources the responder's permissions name.
type permissionInputs struct {
	trailArn            *string
	quarantinePolicyArn *string
	topicArn            *string
	logGroupArn         *string
	selfRoleArn         *string
	// trailLogsRoleArn is the protected trail's CloudWatch Logs role, if any.
	trailLogsRoleArn *string
	// trailBucket is the protected trail's bucket name (a token for a bucket
	// of the stack).
	trailBucket *string
	// trailKeyArn is the protected trail's KMS key, if it is encrypted.
	trailKeyArn *string
	// trailLogGroupArn is the protected trail's CloudWatch Logs log group, if
	// any (CloudTrail's form, arn:…:log-group:<name>:*; a literal).
	trailLogGroupArn *string
	// ruleNames are the physical names of trailguard's own EventBridge rules
	// (every catalog rule and the reconcile schedule), in the stack's region.
	ruleNames []string
	// alarmNames are the physical names of trailguard's alarms (literal,
	// like the rules'), in the stack's region.
	alarmNames []string
	// allow is the allow list (principal ARNs or globs): their roles are
	// never written to.
	allow []string
	// securityHub: the responder imports findings into Security Hub.
	securityHub bool
	// dedupTableArn is the table events are claimed in.
	dedupTableArn *string
}

// resources resolves each resource of the grants table to the ARNs of this
// stack. A resource left out (no key, no log group) leaves out the
// statements scoped to it.
func resources(in permissionInputs) map[grants.Resource][]*string {
	arn := func(parts ...string) *string {
		// arn:<partition>:<service>:<region>:<account>:<resource>
		return awscdk.Fn_Join(jsii.String(""), jsii.Strings(parts...))
	}
	partition, account := *awscdk.Aws_PARTITION(), *awscdk.Aws_ACCOUNT_ID()
	iamArn := func(res string) *string { return arn("arn:", partition, ":iam::", account, ":", res) }
	out := map[grants.Resource][]*string{
		grants.Anything:         {jsii.String("*")},
		grants.ProtectedTrails:  {in.trailArn},
		grants.EventDataStores:  {arn("arn:", partition, ":cloudtrail:*:", account, ":eventdatastore/*")},
		grants.Users:            {iamArn("user/*")},
		grants.Roles:            {iamArn("role/*")},
		grants.QuarantinePolicy: {in.quarantinePolicyArn},
		grants.SelfRole:         {in.selfRoleArn},
		grants.Topic:            {in.topicArn},
		grants.OwnLogGroup:      {in.logGroupArn},
		grants.TrailBucket:      {arn("arn:", partition, ":s3:::", *in.trailBucket)},
		grants.GapWindows:       {arn("arn:", partition, ":s3:::", *in.trailBucket, "/trailguard/pending/*")},
		grants.GapReports:       {arn("arn:", partition, ":s3:::", *in.trailBucket, "/trailguard/gap-reports/*")},
		grants.LogGroups:        {arn("arn:", partition, ":logs:", *awscdk.Aws_REGION(), ":", account, ":log-group:*")},
		grants.Alarms:           {arn("arn:", partition, ":cloudwatch:", *awscdk.Aws_REGION(), ":", account, ":alarm:*")},
	}
	for _, n := range in.alarmNames {
		out[grants.OwnAlarms] = append(out[grants.OwnAlarms], arn("arn:", partition, ":cloudwatch:", *awscdk.Aws_REGION(), ":", account, ":alarm:", n))
	}
	for _, p := range grants.PrivilegedRolePatterns {
		out[grants.PrivilegedRoles] = append(out[grants.PrivilegedRoles], iamArn(p))
	}
	for _, a := range in.allow {
		for _, r := range grants.AllowedRoleARNs(a) {
			out[grants.PrivilegedRoles] = append(out[grants.PrivilegedRoles], jsii.String(r))
		}
	}
	if in.securityHub {
		// The account's default product, the only one an account may import
		// its own findings into.
		out[grants.SecurityHubProduct] = []*string{arn("arn:", partition, ":securityhub:", *awscdk.Aws_REGION(), ":", account, ":product/", account, "/default")}
	}
	if in.dedupTableArn != nil {
		out[grants.DedupTable] = []*string{in.dedupTableArn}
	}
	if in.trailKeyArn != nil {
		out[grants.TrailKey] = []*string{in.trailKeyArn}
	}
	if in.trailLogGroupArn != nil {
		out[grants.TrailLogGroup] = []*string{jsii.String(logGroupArn(*in.trailLogGroupArn))}
	}
	if in.trailLogsRoleArn != nil {
		out[grants.TrailLogsRole] = []*string{in.trailLogsRoleArn}
	}
	// ARNs are built from the rules' literal names (a reference to the rules
	// would be a dependency cycle: rules → function → this policy).
	for _, n := range in.ruleNames {
		out[grants.OwnRules] = append(out[grants.OwnRules], arn("arn:", partition, ":events:", *awscdk.Aws_REGION(), ":", account, ":rule/", n))
	}
	return out
}

// responderStatements is every permission the responder has, derived from
// the one table in internal/grants (read it for each statement's reason).
// Only the grants CDK derives from wiring are elsewhere: sqs:SendMessage to
// the on-failure queue (its Lambda destination) and, with KMS, the key's
// encrypt/decrypt grants for the topic and that queue.
func responderStatements(in permissionInputs) []awsiam.PolicyStatement {
	return tableStatements(resources(in))
}

// tableStatements derives the statements of the grants table whose
// resources res resolves; the others are left out.
func tableStatements(res map[grants.Resource][]*string) []awsiam.PolicyStatement {
	var out []awsiam.PolicyStatement
	for _, g := range grants.Table {
		var arns []*string
		for _, r := range g.Resources {
			arns = append(arns, res[r]...)
		}
		if len(arns) == 0 {
			continue
		}
		effect := awsiam.Effect_ALLOW
		if g.Deny {
			effect = awsiam.Effect_DENY
		}
		s := awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String(g.Sid),
			Effect:    effect,
			Actions:   jsii.Strings(g.Actions()...),
			Resources: &arns,
		})
		if c := g.Condition; c != nil {
			value := jsii.String(c.Value)
			if c.ValueOf != "" {
				if len(res[c.ValueOf]) != 1 {
					continue // a condition on an unknown value must not widen the grant
				}
				value = res[c.ValueOf][0]
			}
			s.AddCondition(jsii.String(c.Operator), &map[string]interface{}{c.Key: value})
		}
		out = append(out, s)
	}
	return out
}

// allow is one Allow statement, for grants outside the responder's role
// (the member role of organization mode reuses the responder's).
func allow(sid string, actions []string, resource *string) awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String(sid),
		Effect:    awsiam.Effect_ALLOW,
		Actions:   jsii.Strings(actions...),
		Resources: &[]*string{resource},
	})
}

// logGroupArn returns a log group ARN (with or without CloudTrail's
// trailing ":*") as IAM policies name the group: with ":*".
func logGroupArn(groupArn string) string {
	return strings.TrimSuffix(groupArn, ":*") + ":*"
}

// responderPolicySuppressions are the cdk-nag findings the statements above
// raise on purpose, each with its reason. appliesTo names the exact wildcard
// so that any new wildcard is reported.
func responderPolicySuppressions(in permissionInputs) *[]*cdknag.NagPackSuppression {
	reason := "iam:ListAccountAliases is read-only and supports no resource-level " +
		"permissions (IAM authorises it only on *). Users and roles are wildcards because the offender is any principal of " +
		"the account, known only at run time; iam:AttachUserPolicy is limited by an iam:PolicyARN condition to the quarantine " +
		"policy, iam:PutRolePolicy is only used to write a session-revoking deny (iam:GetRolePolicy reads an existing one first), " +
		"is denied on the responder's own role, AWS-reserved, service-linked and CDK bootstrap roles and the allow list's roles. " +
		"Event data stores are named by the event, and the allowed calls (restore, start ingestion) cannot destroy data. " +
		"cloudtrail:LookupEvents (gap forensics) is read-only and authorised only on *; its objects are only those under " +
		"trailguard/pending/ and trailguard/gap-reports/ in the trail bucket, named when they are written. " +
		"logs:DescribeLogGroups (reconciliation reads its log groups' retention) is read-only and IAM authorises it only " +
		"on the region's log-group:*; cloudwatch:DescribeAlarms (reconciliation reads trailguard's alarms) is read-only, " +
		"on the region's alarm:*."
	appliesTo := []interface{}{
		"Resource::*",
		"Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:user/*",
		"Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:role/*",
		"Resource::arn:<AWS::Partition>:cloudtrail:*:<AWS::AccountId>:eventdatastore/*",
		"Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:*",
		"Resource::arn:<AWS::Partition>:cloudwatch:<AWS::Region>:<AWS::AccountId>:alarm:*",
		// Gap forensics' objects in the trail bucket (named by a token or a
		// literal, hence the pattern).
		cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::arn:<AWS::Partition>:s3:::.*\/trailguard\/(pending|gap-reports)\/\*$/`)},
	}
	if in.trailLogGroupArn != nil {
		reason += " The trail's log group ARN ends in :* because that is how CloudWatch Logs names one log group in IAM " +
			"policies (logs:CreateLogGroup is allowed on that one group only)."
		appliesTo = append(appliesTo, "Resource::"+logGroupArn(*in.trailLogGroupArn))
	}
	return &[]*cdknag.NagPackSuppression{{
		Id:        jsii.String("AwsSolutions-IAM5"),
		Reason:    jsii.String(reason),
		AppliesTo: &appliesTo,
	}}
}

// allowList returns the allow list's literal entries.
func allowList(allow *[]*string) []string {
	if allow == nil {
		return nil
	}
	var out []string
	for _, a := range *allow {
		if a != nil {
			out = append(out, *a)
		}
	}
	return out
}
