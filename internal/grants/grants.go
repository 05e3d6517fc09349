// Package grants is the one table of the IAM permissions trailguard's
// responder needs: for each AWS SDK operation a code path of the responder
// can make, the IAM actions it is authorised as and the resource they are
// scoped to.
//
// It exists so that the responder's role and its code cannot drift apart.
// The CDK stack (infra/trailguardcdk) derives the role's statements from
// Table and nothing else; a test reads the responder's source, collects every
// SDK operation its interfaces declare, and fails when one is missing here
// (the call would be denied on AWS) or when a row names an operation no
// interface declares (a grant nothing uses).
//
// To add a permission: add a Call to the Statement whose resource and reason
// fit, or a new Statement; if it needs a resource the stack does not know
// yet, add a Resource constant here and resolve it in
// infra/trailguardcdk/iam.go (resources). Nothing else lists permissions.
//
// grants.go is over 400 lines because it is that table: one row per
// permission with its reason, which reads best, and is reviewed best, whole.
package grants

import (
	"slices"
	"strings"
)

// Resource names what a statement is scoped to. The stack resolves each to
// ARNs; a statement whose resource the stack does not have (no KMS key on the
// trail, say) is left out of the role.
type Resource string

// Resources.
const (
	// Anything: the action supports no resource-level permission ("*").
	Anything Resource = "*"
	// ProtectedTrails are the trails trailguard protects.
	ProtectedTrails Resource = "protected-trails"
	// EventDataStores are the account's CloudTrail Lake event data stores.
	EventDataStores Resource = "event-data-stores"
	// Users are the account's IAM users (any may be the offender).
	Users Resource = "users"
	// Roles are the account's IAM roles (any may be the offender).
	Roles Resource = "roles"
	// QuarantinePolicy is the managed policy attached to offending users
	// (used in a condition).
	QuarantinePolicy Resource = "quarantine-policy"
	// SelfRole is the responder's own role.
	SelfRole Resource = "self-role"
	// PrivilegedRoles are roles whose inline policies the responder must never
	// write: AWS's own paths (IAM Identity Center, service-linked), the CDK
	// bootstrap roles, and the roles of the allow list.
	PrivilegedRoles Resource = "privileged-roles"
	// Topic is trailguard's alert topic.
	Topic Resource = "topic"
	// OwnLogGroup is the responder's own log group.
	OwnLogGroup Resource = "own-log-group"
	// TrailBucket is the protected trail's S3 bucket.
	TrailBucket Resource = "trail-bucket"
	// TrailKey is the protected trail's KMS key, if it is encrypted.
	TrailKey Resource = "trail-key"
	// TrailLogGroup is the protected trail's CloudWatch Logs log group, if any.
	TrailLogGroup Resource = "trail-log-group"
	// LogGroups are the account's log groups in the stack's region
	// (arn:…:logs:<region>:<account>:log-group:*): IAM authorises
	// logs:DescribeLogGroups on that, not on one group.
	LogGroups Resource = "log-groups"
	// OwnFunction is the responder function itself. The stack grants it in a
	// policy of its own, made after the function (the function's ARN in the
	// role's main policy would be a dependency cycle).
	OwnFunction Resource = "own-function"
	// OwnAlarms are trailguard's own CloudWatch alarms (TRAILGUARD_ALARMS).
	OwnAlarms Resource = "own-alarms"
	// Alarms are the account's alarms in the stack's region
	// (arn:…:cloudwatch:<region>:<account>:alarm:*), for reading.
	Alarms Resource = "alarms"
	// TrailLogsRole is the role CloudTrail uses to write to that log group.
	TrailLogsRole Resource = "trail-logs-role"
	// OwnRules are trailguard's own EventBridge rules.
	OwnRules Resource = "own-rules"
	// GapWindows are the objects under trailguard/pending/ in the trail's
	// bucket (blind windows waiting for their gap report).
	GapWindows Resource = "gap-windows"
	// GapReports are the objects under trailguard/gap-reports/ there.
	GapReports Resource = "gap-reports"
	// DedupTable is the DynamoDB table events are claimed in.
	DedupTable Resource = "dedup-table"
	// MemberRoles are the member accounts' trailguard roles the hub assumes
	// (organization mode only; a single-account stack has none).
	MemberRoles Resource = "member-roles"
	// Organization is the organization the hub reads account names and
	// parents from (organization mode only; "*" there).
	Organization Resource = "organization"
	// SecurityHubProduct is the account's default Security Hub product
	// (arn:<partition>:securityhub:<region>:<account>:product/<account>/default),
	// only with the opt-in TRAILGUARD_SECURITYHUB.
	SecurityHubProduct Resource = "securityhub-product"
	// OrganizationID is the organization's ID (o-…; used in a condition).
	OrganizationID Resource = "organization-id"
)

// Call is one operation a code path makes and what IAM authorises it as.
type Call struct {
	// Op is the operation: the IAM service prefix and the Go SDK method
	// name, e.g. "s3:DeleteBucketLifecycle". Ops starting with "runtime:"
	// are made by the Lambda service on the function's behalf, not by its
	// code.
	Op string
	// Actions are the IAM actions the call is authorised as; empty means the
	// one action named like Op (most operations).
	Actions []string
}

// IAMActions returns the actions the call is authorised as.
func (c Call) IAMActions() []string {
	if len(c.Actions) > 0 {
		return c.Actions
	}
	return []string{c.Op}
}

// Condition limits a statement. The value is Value, or the ARN of ValueOf.
type Condition struct {
	Operator, Key string
	Value         string
	ValueOf       Resource
}

// Statement is one statement of the responder's role policy.
type Statement struct {
	Sid string
	// Deny makes it a Deny statement (a bound on an Allow elsewhere).
	Deny bool
	// Resources it applies to (usually one).
	Resources []Resource
	Calls     []Call
	Condition *Condition
	// Why is the reason, for people reviewing the role.
	Why string
}

// Actions returns the statement's IAM actions, sorted, without duplicates.
func (s Statement) Actions() []string {
	var out []string
	for _, c := range s.Calls {
		out = append(out, c.IAMActions()...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// NoPermission are operations the responder makes that IAM does not
// authorise at all, so no statement is needed.
var NoPermission = []string{
	// The responder's own identity, at init (awsx.ResolveSelf).
	"sts:GetCallerIdentity",
}

// Table is every permission the responder has. Only the grants CDK derives
// from wiring are elsewhere: sqs:SendMessage to the on-failure queue (its
// Lambda destination) and, with KMS, the key's grants for the topic and that
// queue.
var Table = []Statement{
	{
		Sid: "RestoreProtectedTrail", Resources: []Resource{ProtectedTrails},
		Why: "StartLogging after StopLogging; UpdateTrail and PutEventSelectors back to the baseline; CreateTrail after " +
			"DeleteTrail; reconciliation reads the trail, its status and selectors.",
		Calls: []Call{
			{Op: "cloudtrail:StartLogging"}, {Op: "cloudtrail:CreateTrail"}, {Op: "cloudtrail:UpdateTrail"},
			{Op: "cloudtrail:PutEventSelectors"}, {Op: "cloudtrail:GetTrail"}, {Op: "cloudtrail:GetTrailStatus"},
			{Op: "cloudtrail:GetEventSelectors"},
		},
	},
	{
		Sid: "RestoreEventDataStores", Resources: []Resource{EventDataStores},
		Why: "CloudTrail Lake: the store named in the event is only known at run time; restoring and restarting " +
			"ingestion cannot destroy anything.",
		Calls: []Call{{Op: "cloudtrail:RestoreEventDataStore"}, {Op: "cloudtrail:StartEventDataStoreIngestion"}},
	},
	{
		Sid: "QuarantineUsers", Resources: []Resource{Users},
		Why:       "Containment of IAM users: only the quarantine policy can be attached (iam:PolicyARN condition).",
		Calls:     []Call{{Op: "iam:AttachUserPolicy"}},
		Condition: &Condition{Operator: "ArnEquals", Key: "iam:PolicyARN", ValueOf: QuarantinePolicy},
	},
	{
		Sid: "DeactivateAccessKeys", Resources: []Resource{Users},
		Why:   "Deactivate the access key an offending user called with.",
		Calls: []Call{{Op: "iam:UpdateAccessKey"}},
	},
	{
		Sid: "RevokeRoleSessions", Resources: []Resource{Roles},
		Why: "Revoke an offending role's sessions: an inline deny on aws:TokenIssueTime, always named " +
			"TrailguardRevokeOlderSessions. The offender is any role of the account, so the resource cannot be " +
			"narrowed here; PrivilegedRoles bounds it. GetRolePolicy first reads an existing revocation, so a late " +
			"or duplicate event never moves its cut-off back.",
		Calls: []Call{{Op: "iam:GetRolePolicy"}, {Op: "iam:PutRolePolicy"}},
	},
	{
		Sid: "CheckContainedUsers", Resources: []Resource{Users},
		Why: "Reconciliation checks that the quarantine policy is still attached to each user trailguard contained " +
			"(respond.ContainmentReader); read-only.",
		Calls: []Call{{Op: "iam:ListAttachedUserPolicies"}},
	},
	{
		Sid: "CheckContainedRoles", Resources: []Resource{Roles},
		Why: "Reconciliation tells a contained role whose revocation was removed (written again) from one that was deleted " +
			"(gone is done: the record is dropped); read-only. The revocation itself is read with RevokeRoleSessions' GetRolePolicy.",
		Calls: []Call{{Op: "iam:GetRole"}},
	},
	{
		Sid: "NeverEditPrivilegedRoles", Deny: true, Resources: []Resource{SelfRole, PrivilegedRoles},
		Why: "The responder never loosens its own role, and never writes an inline policy on AWS's reserved or " +
			"service-linked roles, the CDK bootstrap roles, or the allow list's roles (never contained anyway).",
		Calls: []Call{{Op: "iam:PutRolePolicy"}},
	},
	{
		Sid: "ReadAccountAlias", Resources: []Resource{Anything},
		Why:   "The alert names the account by its alias; read-only, and IAM authorises ListAccountAliases only on *.",
		Calls: []Call{{Op: "iam:ListAccountAliases"}},
	},
	{
		Sid: "Notify", Resources: []Resource{Topic},
		Why:   "The alert.",
		Calls: []Call{{Op: "sns:Publish"}},
	},
	{
		Sid: "ReEnableOwnAlarms", Resources: []Resource{OwnAlarms},
		Why: "DisableAlarmActions on trailguard's alarms, by event or found by reconciliation: enable their actions " +
			"again (a safe undo: the deployed state). Nothing that could change or delete an alarm.",
		Calls: []Call{{Op: "cloudwatch:EnableAlarmActions"}},
	},
	{
		Sid: "ReadAlarms", Resources: []Resource{Alarms},
		Why: "Reconciliation reads trailguard's alarms (DescribeAlarms by name): that they exist, act, and notify the " +
			"alert topic; read-only, granted on the region's alarm:* so that it holds whether IAM checks the named " +
			"alarms or the whole list.",
		Calls: []Call{{Op: "cloudwatch:DescribeAlarms"}},
	},
	{
		Sid: "ReadOwnFunction", Resources: []Resource{OwnFunction},
		Why: "Reconciliation reads the responder's own reserved concurrency, asynchronous invoke configuration and " +
			"resource policy, to alert when they no longer match the deployment; read-only (the responder never " +
			"repairs itself).",
		Calls: []Call{{Op: "lambda:GetFunctionConcurrency"}, {Op: "lambda:GetFunctionEventInvokeConfig"}, {Op: "lambda:GetPolicy"}},
	},
	{
		Sid: "ReadTopic", Resources: []Resource{Topic},
		Why: "Reconciliation reads the alert topic: that it exists, that its policy still lets the owners' rules publish, " +
			"and that someone is subscribed; read-only (a drift is alerted, never repaired).",
		Calls: []Call{{Op: "sns:GetTopicAttributes"}, {Op: "sns:ListSubscriptionsByTopic"}},
	},
	{
		Sid: "WriteOwnLogs", Resources: []Resource{OwnLogGroup},
		Why:   "The Lambda service writes the function's log lines with its role.",
		Calls: []Call{{Op: "runtime:logs", Actions: []string{"logs:CreateLogStream", "logs:PutLogEvents"}}},
	},
	{
		Sid: "KeepOwnLogRetention", Resources: []Resource{OwnLogGroup},
		Why: "PutRetentionPolicy shortening the responder's own log group: set it back to the minimum retention; " +
			"DeleteLogGroup of it: create it again (the Lambda service writes only to an existing group).",
		Calls: []Call{{Op: "logs:PutRetentionPolicy"}, {Op: "logs:CreateLogGroup"}},
	},
	{
		Sid: "ReadLogGroups", Resources: []Resource{LogGroups},
		Why: "Reconciliation reads whether the trail's and the responder's log groups exist and how long they keep " +
			"events (DescribeLogGroups by name prefix); read-only metadata, and IAM authorises it only on log-group:*.",
		Calls: []Call{{Op: "logs:DescribeLogGroups"}},
	},
	{
		Sid: "RepairQuarantinePolicy", Resources: []Resource{QuarantinePolicy},
		Why: "A customer-managed quarantine policy rewritten (CreatePolicyVersion, SetDefaultPolicyVersion): make a " +
			"deny-all version its default again, deleting the oldest non-default version when IAM's five are used.",
		Calls: []Call{{Op: "iam:CreatePolicyVersion"}, {Op: "iam:ListPolicyVersions"}, {Op: "iam:DeletePolicyVersion"}},
	},
	{
		Sid: "RestoreTrailBucket", Resources: []Resource{TrailBucket},
		Why: "Undo tampering with the trail's bucket: put back the lifecycle configuration and the bucket policy, each " +
			"read first; recreate a deleted bucket, blocked from public access and versioned. Only this bucket.",
		Calls: []Call{
			{Op: "s3:GetBucketLifecycleConfiguration", Actions: []string{"s3:GetLifecycleConfiguration"}},
			{Op: "s3:PutBucketLifecycleConfiguration", Actions: []string{"s3:PutLifecycleConfiguration"}},
			// IAM authorises DeleteBucketLifecycle as PutLifecycleConfiguration.
			{Op: "s3:DeleteBucketLifecycle", Actions: []string{"s3:PutLifecycleConfiguration"}},
			{Op: "s3:GetBucketPolicy"}, {Op: "s3:PutBucketPolicy"}, {Op: "s3:CreateBucket"},
			{Op: "s3:PutPublicAccessBlock", Actions: []string{"s3:PutBucketPublicAccessBlock"}},
			{Op: "s3:PutBucketVersioning"},
			// Reconciliation reads versioning and the public access block.
			{Op: "s3:GetBucketVersioning"},
			{Op: "s3:GetPublicAccessBlock", Actions: []string{"s3:GetBucketPublicAccessBlock"}},
		},
	},
	{
		Sid: "RecoverTrailKey", Resources: []Resource{TrailKey},
		Why: "DisableKey / ScheduleKeyDeletion on the trail's key stop delivery: read its state, cancel the deletion, " +
			"enable it; reconciliation reads its policy to judge whether CloudTrail may still encrypt. Nothing that could " +
			"change the key policy or use the key.",
		Calls: []Call{{Op: "kms:CancelKeyDeletion"}, {Op: "kms:DescribeKey"}, {Op: "kms:EnableKey"}, {Op: "kms:GetKeyPolicy"}},
	},
	{
		Sid: "RecreateTrailLogGroup", Resources: []Resource{TrailLogGroup},
		Why: "DeleteLogGroup of the trail's log group: create it again. ResourceAlreadyExistsException counts as " +
			"done, so the restore itself reads nothing.",
		Calls: []Call{{Op: "logs:CreateLogGroup"}, {Op: "logs:PutRetentionPolicy"}},
	},
	{
		Sid: "ReEnableOwnRules", Resources: []Resource{OwnRules},
		Why: "DisableRule / DeleteRule / RemoveTargets on trailguard's own rules: read them and their targets, enable them.",
		Calls: []Call{{Op: "events:DescribeRule"}, {Op: "events:EnableRule"}, {Op: "events:ListTargetsByRule"},
			// PutRule/PutTargets overwrites: the deployed pattern, schedule and
			// target put back, foreign targets removed.
			{Op: "events:PutRule"}, {Op: "events:PutTargets"}, {Op: "events:RemoveTargets"}},
	},
	{
		Sid: "LookUpBlindWindows", Resources: []Resource{Anything},
		Why: "Gap forensics: what happened while the trail was blind, from Event History (internal/forensics); " +
			"read-only, and IAM authorises LookupEvents only on *.",
		Calls: []Call{{Op: "cloudtrail:LookupEvents"}},
	},
	{
		Sid: "KeepBlindWindows", Resources: []Resource{GapWindows},
		Why: "Gap forensics keeps each blind window in the trail's bucket until its report is due, then removes it; " +
			"only under trailguard/pending/, never the logs.",
		Calls: []Call{{Op: "s3:PutObject"}, {Op: "s3:GetObject"}, {Op: "s3:DeleteObject"}},
	},
	{
		Sid: "ListBlindWindows", Resources: []Resource{TrailBucket},
		Why:       "Gap forensics finds the pending windows: listing limited to the trailguard/pending/ prefix.",
		Calls:     []Call{{Op: "s3:ListObjectsV2", Actions: []string{"s3:ListBucket"}}},
		Condition: &Condition{Operator: "StringLike", Key: "s3:prefix", Value: "trailguard/pending/*"},
	},
	{
		Sid: "StoreGapReports", Resources: []Resource{GapReports},
		Why:   "Gap forensics stores each report beside the logs it fills in for, under trailguard/gap-reports/.",
		Calls: []Call{{Op: "s3:PutObject"}},
	},
	{
		Sid: "ClaimEvents", Resources: []Resource{DedupTable},
		Why: "Exactly once across execution environments: a conditional write claims each event, a second records " +
			"its outcome (internal/dedup); only trailguard's own table.",
		Calls: []Call{{Op: "dynamodb:UpdateItem"}},
	},
	{
		Sid: "RememberContainments", Resources: []Resource{DedupTable},
		Why: "The principals trailguard contained are one item of the same table (a string set, written with ClaimEvents' " +
			"UpdateItem); reconciliation reads it, so that containment is still checked after a cold start (internal/dedup).",
		Calls: []Call{{Op: "dynamodb:GetItem"}},
	},
	{
		Sid: "ImportFindings", Resources: []Resource{SecurityHubProduct},
		Why: "Opt-in (TRAILGUARD_SECURITYHUB): each response and drift is also imported into Security Hub as an ASFF " +
			"finding, into the account's own default product only (notify.SecurityHub).",
		Calls: []Call{{Op: "securityhub:BatchImportFindings"}},
	},
	{
		Sid: "AssumeMemberRoles", Resources: []Resource{MemberRoles},
		Why: "Organization mode: the hub acts in a member account through the member role there, and no other role, " +
			"in this organization only (awsx.MemberClients).",
		Calls:     []Call{{Op: "sts:AssumeRole"}},
		Condition: &Condition{Operator: "StringEquals", Key: "aws:ResourceOrgID", ValueOf: OrganizationID},
	},
	{
		Sid: "ReadOrganization", Resources: []Resource{Organization},
		Why: "Organization mode: account names for alerts, the accounts to reconcile and parents for scoping by OU; read-only " +
			"(awsx.OrganizationsAPI).",
		Calls: []Call{{Op: "organizations:DescribeAccount"}, {Op: "organizations:ListAccounts"}, {Op: "organizations:ListParents"}},
	},
	{
		Sid: "PassTrailLogsRole", Resources: []Resource{TrailLogsRole},
		Why: "Recreating or reverting a trail with CloudWatch Logs delivery passes the trail's own logs role to " +
			"CloudTrail, and no other role.",
		Calls: []Call{
			{Op: "cloudtrail:CreateTrail", Actions: []string{"iam:PassRole"}},
			{Op: "cloudtrail:UpdateTrail", Actions: []string{"iam:PassRole"}},
		},
		Condition: &Condition{Operator: "StringEquals", Key: "iam:PassedToService", Value: "cloudtrail.amazonaws.com"},
	},
}

// Allowed returns the operations some Allow statement of the table grants.
func Allowed() []string {
	var out []string
	for _, s := range Table {
		if s.Deny {
			continue
		}
		for _, c := range s.Calls {
			out = append(out, c.Op)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// PrivilegedRolePatterns are the role ARN patterns (after
// arn:<partition>:iam::<account>:) the responder may never write an inline
// policy on, whatever the allow list.
var PrivilegedRolePatterns = []string{
	// IAM Identity Center's roles (containment is manual for them).
	"role/aws-reserved/*",
	// Service-linked roles (IAM refuses inline policies on them anyway).
	"role/aws-service-role/*",
	// The CDK bootstrap roles: the deploy and CloudFormation execution roles
	// are administrators.
	"role/cdk-*",
}

// AllowedRoleARNs returns the IAM role ARN patterns that an allow-list entry
// (a principal ARN or glob, as in TRAILGUARD_ALLOW) names: its role, and for
// an assumed-role session the role it belongs to, at any path. Entries that
// name no role (users, root, services) give none.
func AllowedRoleARNs(entry string) []string {
	parts := strings.SplitN(entry, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return nil
	}
	partition, account, res := parts[1], parts[4], parts[5]
	prefix := "arn:" + partition + ":iam::" + account + ":"
	switch {
	case parts[2] == "iam" && strings.HasPrefix(res, "role/"):
		return []string{prefix + res}
	case parts[2] == "sts" && strings.HasPrefix(res, "assumed-role/"):
		name, _, _ := strings.Cut(strings.TrimPrefix(res, "assumed-role/"), "/")
		if name == "" {
			return nil
		}
		// The session ARN drops the role's path: match it at any path.
		return []string{prefix + "role/" + name, prefix + "role/*/" + name}
	}
	return nil
}
