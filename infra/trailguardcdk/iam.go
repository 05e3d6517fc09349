package trailguardcdk

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
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
	ruleNames   []string // securityHub: the responder imports findings into Security Hub.
	securityHub bool
}

// responderStatements is every permission the responder has, in one place.
// Only the grants CDK derives from wiring are elsewhere: sqs:SendMessage to
// the on-failure queue (its Lambda destination) and, with KMS, the key's
// encrypt/decrypt grants for the topic and that queue.
func responderStatements(in permissionInputs) []awsiam.PolicyStatement {
	arn := func(parts ...string) *string {
		// arn:<partition>:<service>:<region>:<account>:<resource>
		return awscdk.Fn_Join(jsii.String(""), jsii.Strings(parts...))
	}
	partition, account := *awscdk.Aws_PARTITION(), *awscdk.Aws_ACCOUNT_ID()
	users := arn("arn:", partition, ":iam::", account, ":user/*")
	roles := arn("arn:", partition, ":iam::", account, ":role/*")
	stores := arn("arn:", partition, ":cloudtrail:*:", account, ":eventdatastore/*")

	out := []awsiam.PolicyStatement{
		// Restore: StartLogging after StopLogging, UpdateTrail/PutEventSelectors
		// back to the baseline, CreateTrail (+AddTags) after DeleteTrail; the
		// Get* calls re-read state before acting and during reconciliation.
		allow("RestoreProtectedTrail", []string{
			"cloudtrail:AddTags", "cloudtrail:CreateTrail", "cloudtrail:GetEventSelectors",
			"cloudtrail:GetTrail", "cloudtrail:GetTrailStatus", "cloudtrail:PutEventSelectors",
			"cloudtrail:StartLogging", "cloudtrail:UpdateTrail",
		}, in.trailArn),
		// DescribeTrails does not support resource-level permissions: IAM
		// authorises it only on "*". Read-only; lists trail configurations.
		allow("DescribeTrails", []string{"cloudtrail:DescribeTrails"}, jsii.String("*")),
		// CloudTrail Lake: the store named in the event is only known at run
		// time; restoring and restarting ingestion cannot destroy anything.
		allow("RestoreEventDataStores", []string{
			"cloudtrail:GetEventDataStore", "cloudtrail:RestoreEventDataStore",
			"cloudtrail:StartEventDataStoreIngestion",
		}, stores),
		// Containment of IAM users: only the quarantine policy can be attached.
		withCondition(allow("QuarantineUsers", []string{"iam:AttachUserPolicy"}, users),
			"ArnEquals", "iam:PolicyARN", in.quarantinePolicyArn),
		// Deactivate the access key an offending user called with.
		allow("DeactivateAccessKeys", []string{"iam:UpdateAccessKey"}, users),
		// Revoke an offending role's sessions (inline deny on
		// aws:TokenIssueTime). The offender is any role of the account, so the
		// resource cannot be narrowed; the allow list (TRAILGUARD_ALLOW) keeps
		// pipelines' roles out of reach. GetRolePolicy first reads an existing
		// revocation, so a late or duplicate event never moves its cut-off back.
		allow("RevokeRoleSessions", []string{"iam:GetRolePolicy", "iam:PutRolePolicy"}, roles),
		// The alert names the account by its alias; read-only, and IAM
		// authorises ListAccountAliases only on "*".
		allow("ReadAccountAlias", []string{"iam:ListAccountAliases"}, jsii.String("*")),
		allow("Notify", []string{"sns:Publish"}, in.topicArn),
		allow("WriteOwnLogs", []string{"logs:CreateLogStream", "logs:PutLogEvents"}, in.logGroupArn),
		// The responder can never loosen its own role or quarantine-attach to it.
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("NeverEditSelf"),
			Effect:    awsiam.Effect_DENY,
			Actions:   jsii.Strings("iam:PutRolePolicy"),
			Resources: &[]*string{in.selfRoleArn},
		}),
	}
	// Undo tampering with the trail's bucket: put back the lifecycle
	// configuration (DeleteBucketLifecycle is authorised as
	// PutLifecycleConfiguration) and the bucket policy, each read first; and
	// recreate a deleted bucket, blocked from public access and versioned,
	// before putting its policy back. Only this bucket.
	out = append(out, allow("RestoreTrailBucket", []string{
		"s3:CreateBucket", "s3:GetBucketPolicy", "s3:GetLifecycleConfiguration", "s3:PutBucketPolicy",
		"s3:PutBucketPublicAccessBlock", "s3:PutBucketVersioning", "s3:PutLifecycleConfiguration",
	}, arn("arn:", partition, ":s3:::", *in.trailBucket)))
	// Gap forensics (internal/forensics): read the blind window's events
	// from Event History (cloudtrail:LookupEvents supports no resource-level
	// permissions: IAM authorises it only on *; read-only), and keep the
	// window and its report beside the logs, under the bucket's trailguard/
	// prefix only (the bucket is versioned: a deleted window stays a version).
	out = append(out,
		allow("ReadEventHistory", []string{"cloudtrail:LookupEvents"}, jsii.String("*")),
		allow("KeepGapReports", []string{"s3:DeleteObject", "s3:GetObject", "s3:PutObject"},
			arn("arn:", partition, ":s3:::", *in.trailBucket, "/trailguard/*")),
		withCondition(allow("ListGapReports", []string{"s3:ListBucket"}, arn("arn:", partition, ":s3:::", *in.trailBucket)),
			"StringLike", "s3:prefix", jsii.String("trailguard/*")),
	)
	if in.securityHub {
		// Findings go to the account's default product, the only one an
		// account may import its own findings into; nothing else of
		// Security Hub (BatchImportFindings creates and updates findings).
		out = append(out, allow("ImportFindings", []string{"securityhub:BatchImportFindings"},
			arn("arn:", partition, ":securityhub:", *awscdk.Aws_REGION(), ":", account, ":product/", account, "/default")))
	}
	if in.trailKeyArn != nil {
		// DisableKey / ScheduleKeyDeletion on the trail's key stop delivery:
		// read its state, cancel the deletion, enable it; reconciliation
		// reads its policy to judge whether CloudTrail may still encrypt.
		// Nothing that could change the key policy or use the key.
		out = append(out, allow("RecoverTrailKey", []string{
			"kms:CancelKeyDeletion", "kms:DescribeKey", "kms:EnableKey", "kms:GetKeyPolicy",
		}, in.trailKeyArn))
	}
	if in.trailLogGroupArn != nil {
		// DeleteLogGroup of the trail's log group: create it again (empty;
		// CloudTrail resumes delivery into it). The responder takes
		// ResourceAlreadyExistsException as "exists", so it needs no
		// logs:DescribeLogGroups (which IAM would authorise only on
		// log-group:*, never on one group).
		out = append(out, allow("RecreateTrailLogGroup", []string{"logs:CreateLogGroup"},
			jsii.String(logGroupArn(*in.trailLogGroupArn))))
	}
	// DisableRule / DeleteRule / RemoveTargets on trailguard's own rules:
	// read them and their targets, enable them again. ARNs are built from the
	// rules' literal names (a reference to the rules would be a dependency
	// cycle: rules → function → this policy).
	var rules []*string
	for _, n := range in.ruleNames {
		rules = append(rules, arn("arn:", partition, ":events:", *awscdk.Aws_REGION(), ":", account, ":rule/", n))
	}
	out = append(out, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ReEnableOwnRules"),
		Effect:    awsiam.Effect_ALLOW,
		Actions:   jsii.Strings("events:DescribeRule", "events:EnableRule", "events:ListTargetsByRule"),
		Resources: &rules,
	}))
	if in.trailLogsRoleArn != nil {
		// Recreating or reverting a trail with CloudWatch Logs delivery passes
		// the trail's own logs role to CloudTrail, and no other role.
		out = append(out, withCondition(
			allow("PassTrailLogsRole", []string{"iam:PassRole"}, in.trailLogsRoleArn),
			"StringEquals", "iam:PassedToService", jsii.String("cloudtrail.amazonaws.com")))
	}
	return out
}

// logGroupArn returns a log group ARN (with or without CloudTrail's
// trailing ":*") as IAM policies name the group: with ":*".
func logGroupArn(groupArn string) string {
	return strings.TrimSuffix(groupArn, ":*") + ":*"
}

func allow(sid string, actions []string, resource *string) awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String(sid),
		Effect:    awsiam.Effect_ALLOW,
		Actions:   jsii.Strings(actions...),
		Resources: &[]*string{resource},
	})
}

func withCondition(s awsiam.PolicyStatement, op, key string, value *string) awsiam.PolicyStatement {
	s.AddCondition(jsii.String(op), &map[string]interface{}{key: value})
	return s
}

// responderPolicySuppressions are the cdk-nag findings the statements above
// raise on purpose, each with its reason. appliesTo names the exact wildcard
// so that any new wildcard is reported.
func responderPolicySuppressions(in permissionInputs) *[]*cdknag.NagPackSuppression {
	reason := "cloudtrail:DescribeTrails and iam:ListAccountAliases are read-only and support no resource-level " +
		"permissions (IAM authorises them only on *). Users and roles are wildcards because the offender is any principal of " +
		"the account, known only at run time; iam:AttachUserPolicy is limited by an iam:PolicyARN condition to the quarantine " +
		"policy, iam:PutRolePolicy is only used to write a session-revoking deny (iam:GetRolePolicy reads an existing one first) " +
		"and the allow list protects pipelines. " +
		"Event data stores are named by the event, and the allowed calls (restore, start ingestion, get) cannot destroy data."
	appliesTo := []interface{}{
		"Resource::*",
		"Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:user/*",
		"Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:role/*",
		"Resource::arn:<AWS::Partition>:cloudtrail:*:<AWS::AccountId>:eventdatastore/*",
	}
	if in.trailLogGroupArn != nil {
		reason += " The trail's log group ARN ends in :* because that is how CloudWatch Logs names one log group in IAM " +
			"policies (logs:CreateLogGroup is allowed on that one group only)."
		appliesTo = append(appliesTo, "Resource::"+logGroupArn(*in.trailLogGroupArn))
	}
	reason += " cloudtrail:LookupEvents (gap reports) is read-only and IAM authorises it only on *. The trail bucket's " +
		"trailguard/* objects are the gap windows and reports trailguard itself writes, named at run time."
	appliesTo = append(appliesTo, &cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::arn:<AWS::Partition>:s3:::[^/]+\/trailguard\/\*$/`)})
	return &[]*cdknag.NagPackSuppression{{
		Id:        jsii.String("AwsSolutions-IAM5"),
		Reason:    jsii.String(reason),
		AppliesTo: &appliesTo,
	}}
}
