// Package catalog is trailguard's one table of what counts as tampering with
// CloudTrail and how it is answered.
//
// Everything that needs to know "which API calls matter" derives from this
// table instead of keeping its own list: the EventBridge patterns deployed by
// the infrastructure (Rules), the responder's classifier (Lookup), and the
// documentation (Markdown). A row added here is therefore detected, classified
// and documented in one step, and a row cannot be forgotten in one of them.
package catalog

import (
	"slices"
	"sort"
	"strings"
)

// Severity ranks how badly an event can blind the account's audit trail.
type Severity int

// Severities, lowest first.
const (
	Info Severity = iota
	Medium
	High
	Critical
)

// String returns the lowercase name used in logs and alert subjects.
func (s Severity) String() string {
	switch s {
	case Info:
		return "info"
	case Medium:
		return "medium"
	case High:
		return "high"
	case Critical:
		return "critical"
	}
	return "unknown"
}

// Resource names the kind of thing an event acts on, which tells the
// classifier where to find the target in requestParameters.
type Resource string

// Resources a catalog entry can act on.
const (
	Trail          Resource = "trail"
	EventDataStore Resource = "event-data-store"
	// Bucket is a protected trail's S3 bucket.
	Bucket Resource = "bucket"
	// Key is a protected trail's KMS key.
	Key Resource = "kms-key"
	// LogGroup is a protected trail's CloudWatch Logs log group.
	LogGroup Resource = "log-group"
	// Organization is the account's membership of its organization.
	Organization Resource = "organization"
	// EventRule is one of trailguard's own EventBridge rules.
	EventRule Resource = "rule"
	// Function is trailguard's own responder function.
	Function Resource = "function"
	// Topic is trailguard's own alert topic.
	Topic Resource = "topic"
	// Role is trailguard's own responder role, or a role trailguard
	// contained (its session-revocation policy).
	Role Resource = "role"
	// Alarm is one of trailguard's own CloudWatch alarms.
	Alarm Resource = "alarm"
	// Contained is a user trailguard quarantined, or the quarantine policy
	// itself (a customer-managed one).
	Contained Resource = "contained-principal"
)

// Response is what the responder does about a successful call of an entry.
type Response string

// Responses. Each restoring response names the call(s) that undo the event;
// Alert means trailguard reports the event but changes nothing.
const (
	// Alert: report only. Used for informational changes and for tampering
	// whose automatic undo would be riskier than a human decision.
	Alert Response = "alert"
	// StartLogging: call StartLogging on the trail in its home region.
	StartLogging Response = "start-logging"
	// RecreateTrail: CreateTrail from the baseline, restore its selectors,
	// then StartLogging.
	RecreateTrail Response = "recreate-trail"
	// RevertTrail: UpdateTrail back to baseline, only the fields that got worse.
	RevertTrail Response = "revert-trail"
	// RestoreSelectors: PutEventSelectors back to baseline, or to all
	// management events keeping the data selectors.
	RestoreSelectors Response = "restore-selectors"
	// RestoreEventDataStore: RestoreEventDataStore (possible for 7 days).
	RestoreEventDataStore Response = "restore-event-data-store"
	// StartIngestion: StartEventDataStoreIngestion.
	StartIngestion Response = "start-ingestion"
	// FixLifecycle: remove the bucket's lifecycle rules that expire logs
	// sooner than the minimum retention (DeleteBucketLifecycle if none stay).
	FixLifecycle Response = "fix-lifecycle"
	// RestoreBucketPolicy: put CloudTrail's grants back in the bucket policy.
	RestoreBucketPolicy Response = "restore-bucket-policy"
	// RecreateBucket: create the bucket again, hardened, with its policy.
	RecreateBucket Response = "recreate-bucket"
	// EnableKey: EnableKey.
	EnableKey Response = "enable-key"
	// CancelKeyDeletion: CancelKeyDeletion, then EnableKey.
	CancelKeyDeletion Response = "cancel-key-deletion"
	// RecreateLogGroup: CreateLogGroup with the same name.
	RecreateLogGroup Response = "recreate-log-group"
	// EnableRule: EnableRule.
	EnableRule Response = "enable-rule"
	// RestoreRule: PutRule back to the deployed pattern (from this catalog)
	// or schedule, enabled.
	RestoreRule Response = "restore-rule"
	// EnableVersioning: PutBucketVersioning Enabled on the trail bucket.
	EnableVersioning Response = "enable-versioning"
	// BlockPublicAccess: PutPublicAccessBlock with all four switches on.
	BlockPublicAccess Response = "block-public-access"
	// RestoreRetention: PutRetentionPolicy back to the minimum retention.
	RestoreRetention Response = "restore-retention"
	// Requarantine: attach the quarantine policy to the user again.
	Requarantine Response = "requarantine-user"
	// RestoreRevocation: write the session-revocation policy on the role
	// again (cut-off: now); on the responder's own role, alert (redeploy).
	RestoreRevocation Response = "restore-revocation"
	// RestoreQuarantinePolicy: a new default version of the quarantine
	// policy with the deny-all document.
	RestoreQuarantinePolicy Response = "restore-quarantine-policy"
	// RestoreTargets: put the deployed target (the responder, or the alert
	// topic for the owners' rules) back, without a replaced input, and
	// remove the targets trailguard did not deploy.
	RestoreTargets Response = "restore-targets"
)

// Entry is one row of the catalog: one API call that can blind CloudTrail or
// is worth knowing about.
type Entry struct {
	// Source is the CloudTrail eventSource, e.g. "cloudtrail.amazonaws.com".
	Source string
	// Name is the API operation, e.g. "StopLogging".
	Name string
	// LoggedAs lists the eventName values CloudTrail records for the
	// operation when they differ from Name (Lambda appends API versions).
	LoggedAs []string
	// Resource is what the call acts on.
	Resource Resource
	// Severity of a successful call.
	Severity Severity
	// FailedSeverity is the severity of a failed attempt (errorCode set).
	FailedSeverity Severity
	// Response is what trailguard does about a successful call.
	Response Response
	// Contain says whether the actor of a successful call is contained.
	Contain bool
	// Blinds says, for the alert and the docs, why the call matters.
	Blinds string
	// Undo says, for the alert and the docs, how the change is undone, or the
	// manual step when trailguard does not undo it itself.
	Undo string
	// Judged is true for calls whose content decides whether they are
	// tampering (an UpdateTrail, selectors, a lifecycle rule, a policy, a
	// rule's pattern): the same call that keeps things as deployed is not.
	Judged bool
	// TargetIn names the requestParameters fields that identify the target,
	// in order of preference, as CloudTrail records them. The owners' direct
	// rules match on them (see OwnerRules).
	TargetIn []string
}

// Tamper reports whether the entry is tampering (as opposed to an
// informational change): its success is answered with a restore or
// containment, or it is at least high severity.
func (e Entry) Tamper() bool {
	return e.Response != Alert || e.Contain || e.Severity >= High
}

// EventNames returns every eventName CloudTrail records for the entry.
func (e Entry) EventNames() []string {
	if len(e.LoggedAs) > 0 {
		return append([]string(nil), e.LoggedAs...)
	}
	return []string{e.Name}
}

const (
	monitoring    = "monitoring.amazonaws.com"
	cloudtrail    = "cloudtrail.amazonaws.com"
	s3            = "s3.amazonaws.com"
	kms           = "kms.amazonaws.com"
	logs          = "logs.amazonaws.com"
	organizations = "organizations.amazonaws.com"
	events        = "events.amazonaws.com"
	lambda        = "lambda.amazonaws.com"
	sns           = "sns.amazonaws.com"
	iam           = "iam.amazonaws.com"
)

// redeploy is the manual step for parts of the protection that only a
// deployment can rebuild.
const redeploy = "redeploy trailguard (cd infra && npx aws-cdk@2 deploy) to rebuild it, and find out who did this"

// entries is the table itself: the trail API, then the trail's
// surroundings, then the protection itself.
var entries = slices.Concat(trailAPI, surroundings, bucketProtections, logGroupChanges, organizationSwitches, protection, responderChanges, alarms, roleChanges, containment)

// trailAPI are CloudTrail's own calls, most damaging first.
var trailAPI = []Entry{
	{
		Source: cloudtrail, Name: "StopLogging", Resource: Trail,
		Severity: Critical, FailedSeverity: Medium,
		Response: StartLogging, Contain: true,
		Blinds: "the trail stops delivering events",
		Undo:   "StartLogging on the trail in its home region",
	},
	{
		Source: cloudtrail, Name: "DeleteTrail", Resource: Trail,
		Severity: Critical, FailedSeverity: Medium,
		Response: RecreateTrail, Contain: true,
		Blinds: "the trail is gone",
		Undo:   "CreateTrail from the baseline, PutEventSelectors, StartLogging",
	},
	{
		Source: cloudtrail, Name: "UpdateTrail", Resource: Trail,
		Severity: High, FailedSeverity: Medium,
		Response: RevertTrail, Contain: true, Judged: true,
		Blinds: "can move the bucket, turn off multi-region, global service events or log file validation, drop the KMS key or CloudWatch Logs",
		Undo:   "UpdateTrail back to the baseline, only the fields that got worse",
	},
	{
		Source: cloudtrail, Name: "PutEventSelectors", Resource: Trail,
		Severity: High, FailedSeverity: Medium,
		Response: RestoreSelectors, Contain: true, Judged: true,
		Blinds: "the trail looks alive but records no (or only some) management events",
		Undo:   "PutEventSelectors back to the baseline, or all management events keeping the data selectors",
	},
	{
		Source: cloudtrail, Name: "DeleteEventDataStore", Resource: EventDataStore,
		Severity: Critical, FailedSeverity: Medium,
		Response: RestoreEventDataStore, Contain: true,
		Blinds: "the CloudTrail Lake event data store is gone (restorable for 7 days)",
		Undo:   "RestoreEventDataStore",
	},
	{
		Source: cloudtrail, Name: "StopEventDataStoreIngestion", Resource: EventDataStore,
		Severity: High, FailedSeverity: Medium,
		Response: StartIngestion, Contain: true,
		Blinds: "the CloudTrail Lake event data store stops ingesting events",
		Undo:   "StartEventDataStoreIngestion",
	},
	{
		Source: cloudtrail, Name: "UpdateEventDataStore", Resource: EventDataStore,
		Severity: High, FailedSeverity: Medium,
		Response: Alert, Contain: false,
		Blinds: "can cut the event data store's retention, turn off termination protection or narrow its selectors",
		Undo:   "review the store's retention, termination protection and selectors and set them back with UpdateEventDataStore",
	},
	{
		Source: cloudtrail, Name: "CreateTrail", Resource: Trail,
		Severity: Info, FailedSeverity: Info, Response: Alert,
		Blinds: "a new trail; harmless by itself, but worth knowing who configures logging",
		Undo:   "none needed",
	},
	{
		Source: cloudtrail, Name: "StartLogging", Resource: Trail,
		Severity: Info, FailedSeverity: Info, Response: Alert,
		Blinds: "logging (re)started",
		Undo:   "none needed",
	},
	{
		Source: cloudtrail, Name: "AddTags", Resource: Trail,
		Severity: Info, FailedSeverity: Info, Response: Alert,
		Blinds: "tags changed; tags can steer tag-based policies and automation",
		Undo:   "none needed",
	},
	{
		Source: cloudtrail, Name: "RemoveTags", Resource: Trail,
		Severity: Info, FailedSeverity: Info, Response: Alert,
		Blinds: "tags removed; tags can steer tag-based policies and automation",
		Undo:   "none needed",
	},
	{
		Source: cloudtrail, Name: "PutInsightSelectors", Resource: Trail,
		Severity: Info, FailedSeverity: Info, Response: Alert,
		Blinds: "CloudTrail Insights changed: unusual-activity detection may be off",
		Undo:   "review the trail's Insights selectors",
	},
	{
		Source: cloudtrail, Name: "CreateEventDataStore", Resource: EventDataStore,
		Severity: Info, FailedSeverity: Info, Response: Alert,
		Blinds: "a new CloudTrail Lake event data store",
		Undo:   "none needed",
	},
	{
		Source: cloudtrail, Name: "StartEventDataStoreIngestion", Resource: EventDataStore,
		Severity: Info, FailedSeverity: Info, Response: Alert,
		Blinds: "a CloudTrail Lake event data store ingests again",
		Undo:   "none needed",
	},
}

// The trail's surroundings: the bucket, key and log group it depends on.
var surroundings = []Entry{
	{
		Source: s3, Name: "PutBucketLifecycle", Resource: Bucket,
		Severity: High, FailedSeverity: Medium, Response: FixLifecycle, Contain: true, Judged: true,
		Blinds: "a lifecycle rule on the trail bucket deletes logs early (one day, in the known attack)",
		Undo:   "remove the lifecycle rules that expire logs before the minimum retention",
	},
	{
		Source: s3, Name: "PutBucketPolicy", Resource: Bucket,
		Severity: High, FailedSeverity: Medium, Response: RestoreBucketPolicy, Contain: true, Judged: true,
		Blinds: "a bucket policy without CloudTrail's grant (or denying it) stops log delivery",
		Undo:   "put CloudTrail's grants back into the bucket policy",
	},
	{
		Source: s3, Name: "DeleteBucketPolicy", Resource: Bucket,
		Severity: High, FailedSeverity: Medium, Response: RestoreBucketPolicy, Contain: true,
		Blinds: "without a bucket policy CloudTrail cannot write its logs",
		Undo:   "put the bucket policy with CloudTrail's grants back",
	},
	{
		Source: s3, Name: "DeleteBucket", Resource: Bucket,
		Severity: Critical, FailedSeverity: Medium, Response: RecreateBucket, Contain: true,
		Blinds: "the trail's delivery target is gone",
		Undo:   "create the bucket again (public access blocked, versioned) with CloudTrail's grants; if the name was taken meanwhile, point the trail at a new bucket",
	},
	{
		Source: kms, Name: "DisableKey", Resource: Key,
		Severity: High, FailedSeverity: Medium, Response: EnableKey, Contain: true,
		Blinds: "CloudTrail cannot encrypt with a disabled key: delivery stops",
		Undo:   "EnableKey",
	},
	{
		Source: kms, Name: "ScheduleKeyDeletion", Resource: Key,
		Severity: Critical, FailedSeverity: Medium, Response: CancelKeyDeletion, Contain: true,
		Blinds: "the trail's key is disabled now and deleted later, with every log encrypted by it",
		Undo:   "CancelKeyDeletion, then EnableKey",
	},
	{
		Source: kms, Name: "PutKeyPolicy", Resource: Key,
		Severity: High, FailedSeverity: Medium, Response: Alert, Contain: true, Judged: true,
		Blinds: "a key policy without CloudTrail's grant stops encrypted delivery",
		Undo:   "review the key policy: CloudTrail needs kms:GenerateDataKey* with an aws:SourceArn condition naming the trail (restoring a key policy automatically is riskier than a person doing it)",
	},
	{
		Source: logs, Name: "DeleteLogGroup", Resource: LogGroup,
		Severity: High, FailedSeverity: Medium, Response: RecreateLogGroup, Contain: true,
		Blinds: "the trail's real-time copy in CloudWatch Logs (and its metric filters and alarms) is lost",
		Undo:   "CreateLogGroup with the same name; recreate its metric filters and retention",
	},
	{
		Source: organizations, Name: "LeaveOrganization", Resource: Organization,
		Severity: Critical, FailedSeverity: Critical, Response: Alert, Contain: true,
		Blinds: "the organization trail and the SCPs stop applying to this account",
		Undo:   "from the management account, invite the account back (InviteAccountToOrganization) and accept; then check the organization trail and SCPs cover it again",
	},
}

// The protection itself: disabling trailguard is tampering too.
var protection = []Entry{
	{
		Source: events, Name: "DisableRule", Resource: EventRule, TargetIn: []string{"name"},
		Severity: Critical, FailedSeverity: Medium, Response: EnableRule, Contain: true,
		Blinds: "a disabled trailguard rule sees nothing, not even its own disabling (reconciliation catches it)",
		Undo:   "EnableRule",
	},
	{
		Source: events, Name: "PutRule", Resource: EventRule, TargetIn: []string{"name"},
		Severity: Critical, FailedSeverity: Medium, Response: RestoreRule, Contain: true, Judged: true,
		Blinds: "a trailguard rule overwritten: a pattern that never matches, State=DISABLED, or a slower reconcile schedule",
		Undo:   "PutRule back to the catalog's pattern (or the deployed schedule), enabled",
	},
	{
		Source: events, Name: "PutTargets", Resource: EventRule, TargetIn: []string{"rule"},
		Severity: Critical, FailedSeverity: Medium, Response: RestoreTargets, Contain: true, Judged: true,
		Blinds: "a trailguard rule's target replaced, or its input changed (a reconcile schedule that no longer asks to reconcile)",
		Undo:   "PutTargets back to the deployed target without a replaced input; RemoveTargets of the others",
	},
	{
		Source: events, Name: "DeleteRule", Resource: EventRule, TargetIn: []string{"name"},
		Severity: Critical, FailedSeverity: Medium, Response: Alert, Contain: true,
		Blinds: "trailguard no longer receives these events",
		Undo:   redeploy,
	},
	{
		Source: events, Name: "RemoveTargets", Resource: EventRule, TargetIn: []string{"rule"},
		Severity: Critical, FailedSeverity: Medium, Response: RestoreTargets, Contain: true,
		Blinds: "trailguard's rule no longer invokes the responder",
		Undo:   "PutTargets back to the deployed target",
	},
	{
		Source: lambda, Name: "DeleteFunction", LoggedAs: []string{"DeleteFunction20150331", "DeleteFunction"}, Resource: Function, TargetIn: []string{"functionName"},
		Severity: Critical, FailedSeverity: Medium, Response: Alert, Contain: true,
		Blinds: "the responder is gone: nothing restores or alerts any more",
		Undo:   redeploy,
	},
	{
		Source: lambda, Name: "UpdateFunctionCode", LoggedAs: []string{"UpdateFunctionCode20150331v2", "UpdateFunctionCode20150331", "UpdateFunctionCode"}, Resource: Function, TargetIn: []string{"functionName"},
		Severity: Critical, FailedSeverity: Medium, Response: Alert, Contain: true,
		Blinds: "the responder's code was replaced: it may do nothing, or worse",
		Undo:   redeploy,
	},
	{
		Source: lambda, Name: "UpdateFunctionConfiguration", LoggedAs: []string{"UpdateFunctionConfiguration20150331v2", "UpdateFunctionConfiguration20150331", "UpdateFunctionConfiguration"}, Resource: Function, TargetIn: []string{"functionName"},
		Severity: High, FailedSeverity: Medium, Response: Alert, Contain: true,
		Blinds: "the responder's settings (mode, allow list, topic) or role may have changed",
		Undo:   redeploy,
	},
	{
		Source: lambda, Name: "PutFunctionConcurrency", LoggedAs: []string{"PutFunctionConcurrency20171031", "PutFunctionConcurrency"}, Resource: Function, TargetIn: []string{"functionName"},
		Severity: Critical, FailedSeverity: Medium, Response: Alert, Contain: true,
		Blinds: "a reserved concurrency of 0 stops the responder from running at all",
		Undo:   redeploy,
	},
	{
		Source: lambda, Name: "DeleteFunctionConcurrency", LoggedAs: []string{"DeleteFunctionConcurrency20171031", "DeleteFunctionConcurrency"}, Resource: Function, TargetIn: []string{"functionName"},
		Severity: Medium, FailedSeverity: Info, Response: Alert, Contain: false,
		Blinds: "the responder's reserved capacity is gone: a busy account can starve it",
		Undo:   redeploy,
	},
	{
		Source: lambda, Name: "RemovePermission", LoggedAs: []string{"RemovePermission20150331v2", "RemovePermission20150331", "RemovePermission"}, Resource: Function, TargetIn: []string{"functionName"},
		Severity: Critical, FailedSeverity: Medium, Response: Alert, Contain: true,
		Blinds: "EventBridge may no longer be allowed to invoke the responder",
		Undo:   redeploy,
	},
	{
		Source: sns, Name: "DeleteTopic", Resource: Topic, TargetIn: []string{"topicArn"},
		Severity: Critical, FailedSeverity: Medium, Response: Alert, Contain: true,
		Blinds: "trailguard's alerts have nowhere to go (this one may not arrive either: check the function's logs)",
		Undo:   redeploy + "; confirm the email subscriptions again",
	},
	{
		Source: sns, Name: "Unsubscribe", Resource: Topic, TargetIn: []string{"subscriptionArn"},
		Severity: High, FailedSeverity: Medium, Response: Alert, Contain: true,
		Blinds: "an owner no longer receives trailguard's alerts",
		Undo:   "subscribe the address again and confirm it",
	},
}

// bucketProtections are the trail bucket's settings beyond its policy and
// lifecycle. Versioning and the public access block have a safe undo; the
// others depend on what the owners chose and are alerted with the command.
var bucketProtections = []Entry{
	{
		Source: s3, Name: "PutBucketVersioning", Resource: Bucket, TargetIn: []string{"bucketName"},
		Severity: High, FailedSeverity: Medium, Response: EnableVersioning, Contain: true, Judged: true,
		Blinds: "versioning suspended on the trail bucket: an overwritten or deleted log file cannot be recovered",
		Undo:   "PutBucketVersioning Status=Enabled",
	},
	{
		Source: s3, Name: "PutBucketPublicAccessBlock", Resource: Bucket, TargetIn: []string{"bucketName"},
		Severity: High, FailedSeverity: Medium, Response: BlockPublicAccess, Contain: true, Judged: true,
		Blinds: "the trail bucket's public access block weakened: a policy or ACL can now publish the logs",
		Undo:   "PutPublicAccessBlock with BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy and RestrictPublicBuckets on",
	},
	{
		Source: s3, Name: "DeleteBucketPublicAccessBlock", Resource: Bucket, TargetIn: []string{"bucketName"},
		Severity: High, FailedSeverity: Medium, Response: BlockPublicAccess, Contain: true,
		Blinds: "the trail bucket's public access block removed: a policy or ACL can now publish the logs",
		Undo:   "PutPublicAccessBlock with all four switches on",
	},
	{
		Source: s3, Name: "PutBucketAcl", Resource: Bucket, TargetIn: []string{"bucketName"},
		Severity: High, FailedSeverity: Medium, Response: Alert, Contain: true, Judged: true,
		Blinds: "an ACL on the trail bucket grants the public or another account access to the logs",
		Undo:   "aws s3api put-bucket-acl --bucket <bucket> --acl private (then check aws s3api get-bucket-acl)",
	},
	{
		Source: s3, Name: "PutBucketEncryption", Resource: Bucket, TargetIn: []string{"bucketName"},
		Severity: High, FailedSeverity: Medium, Response: Alert, Contain: true, Judged: true,
		Blinds: "the trail bucket's default encryption uses a key of another account: its owner can make new objects unreadable",
		Undo:   "aws s3api put-bucket-encryption --bucket <bucket> with a key of this account (or SSE-S3: SSEAlgorithm=AES256)",
	},
	{
		Source: s3, Name: "PutBucketReplication", Resource: Bucket, TargetIn: []string{"bucketName"},
		Severity: High, FailedSeverity: Medium, Response: Alert,
		Blinds: "the trail bucket replicates its logs elsewhere (possibly another account): the record leaves the account",
		Undo:   "review aws s3api get-bucket-replication --bucket <bucket>; remove it with aws s3api delete-bucket-replication --bucket <bucket>",
	},
	{
		Source: s3, Name: "PutBucketOwnershipControls", Resource: Bucket, TargetIn: []string{"bucketName"},
		Severity: High, FailedSeverity: Medium, Response: Alert,
		Blinds: "the trail bucket's object ownership changed: ACLs apply again and objects may belong to the writer",
		Undo:   "aws s3api put-bucket-ownership-controls --bucket <bucket> --ownership-controls 'Rules=[{ObjectOwnership=BucketOwnerEnforced}]'",
	},
}

// logGroupChanges are the calls that thin out the trail's CloudWatch Logs
// copy or the responder's own log.
var logGroupChanges = []Entry{
	{
		Source: logs, Name: "PutRetentionPolicy", Resource: LogGroup, TargetIn: []string{"logGroupName"},
		Severity: High, FailedSeverity: Medium, Response: RestoreRetention, Contain: true, Judged: true,
		Blinds: "a retention shorter than the minimum deletes the log group's events early",
		Undo:   "PutRetentionPolicy back to the minimum retention",
	},
	{
		Source: logs, Name: "DeleteMetricFilter", Resource: LogGroup, TargetIn: []string{"logGroupName"},
		Severity: High, FailedSeverity: Medium, Response: Alert, Contain: true,
		Blinds: "a metric filter on the log group is gone: the alarms built on it (CIS 4.x) stay silent",
		Undo:   "recreate the metric filter (aws logs put-metric-filter) as your monitoring defines it, and check its alarm",
	},
	{
		Source: logs, Name: "DeleteSubscriptionFilter", Resource: LogGroup, TargetIn: []string{"logGroupName"},
		Severity: High, FailedSeverity: Medium, Response: Alert, Contain: true,
		Blinds: "a subscription filter on the log group is gone: events no longer stream to the SIEM or archive",
		Undo:   "recreate the subscription filter (aws logs put-subscription-filter) as your pipeline defines it",
	},
}

// organizationSwitches are the organization's settings, seen from the
// management account, that turn the organization trail or the SCPs off.
var organizationSwitches = []Entry{
	{
		Source: organizations, Name: "DisableAWSServiceAccess", Resource: Organization, TargetIn: []string{"servicePrincipal"},
		Severity: Critical, FailedSeverity: Medium, Response: Alert, Contain: true, Judged: true,
		Blinds: "CloudTrail's trusted access in the organization turned off: organization trails stop covering the member accounts",
		Undo:   "aws organizations enable-aws-service-access --service-principal cloudtrail.amazonaws.com, then check the organization trail logs every account",
	},
	{
		Source: organizations, Name: "DeregisterDelegatedAdministrator", Resource: Organization, TargetIn: []string{"servicePrincipal"},
		Severity: High, FailedSeverity: Medium, Response: Alert, Contain: true, Judged: true,
		Blinds: "CloudTrail's delegated administrator removed: the security account no longer manages the organization trail",
		Undo:   "aws organizations register-delegated-administrator --account-id <security account> --service-principal cloudtrail.amazonaws.com",
	},
	{
		Source: organizations, Name: "DetachPolicy", Resource: Organization, TargetIn: []string{"policyId"},
		Severity: High, FailedSeverity: Medium, Response: Alert, Contain: true,
		Blinds: "a policy (an SCP, possibly trailguard's guardrails) detached from a root, OU or account",
		Undo:   "aws organizations attach-policy --policy-id <policy> --target-id <target> (both in the event's requestParameters)",
	},
}

// responderChanges are the other calls that weaken the responder or its
// topic (besides the protection rows above): who may invoke it, how its
// asynchronous invocations are retried, the alias it may be invoked through,
// the topic's policy, key and delivery.
var responderChanges = []Entry{
	{
		Source: lambda, Name: "AddPermission", LoggedAs: []string{"AddPermission20150331v2", "AddPermission20150331", "AddPermission"}, Resource: Function, TargetIn: []string{"functionName"},
		Severity: High, FailedSeverity: Medium, Response: Alert, Contain: true,
		Blinds: "someone else may now invoke the responder (forged events, floods that starve it)",
		Undo:   "aws lambda get-policy --function-name <responder>; remove the statement with aws lambda remove-permission; " + redeploy,
	},
	{
		Source: lambda, Name: "PutFunctionEventInvokeConfig", LoggedAs: []string{"PutFunctionEventInvokeConfig20190925", "PutFunctionEventInvokeConfig"}, Resource: Function, TargetIn: []string{"functionName"},
		Severity: High, FailedSeverity: Medium, Response: Alert, Contain: true,
		Blinds: "the responder's asynchronous invocation changed: no retries, a short maximum event age, or failures sent elsewhere",
		Undo:   redeploy,
	},
	{
		Source: lambda, Name: "UpdateFunctionEventInvokeConfig", LoggedAs: []string{"UpdateFunctionEventInvokeConfig20190925", "UpdateFunctionEventInvokeConfig"}, Resource: Function, TargetIn: []string{"functionName"},
		Severity: High, FailedSeverity: Medium, Response: Alert, Contain: true,
		Blinds: "the responder's asynchronous invocation changed: no retries, a short maximum event age, or failures sent elsewhere",
		Undo:   redeploy,
	},
	{
		Source: lambda, Name: "DeleteFunctionEventInvokeConfig", LoggedAs: []string{"DeleteFunctionEventInvokeConfig20190925", "DeleteFunctionEventInvokeConfig"}, Resource: Function, TargetIn: []string{"functionName"},
		Severity: High, FailedSeverity: Medium, Response: Alert, Contain: true,
		Blinds: "the responder's on-failure destination and retry settings are gone: failed events vanish",
		Undo:   redeploy,
	},
	{
		Source: lambda, Name: "UpdateAlias", LoggedAs: []string{"UpdateAlias20150331", "UpdateAlias"}, Resource: Function, TargetIn: []string{"functionName"},
		Severity: High, FailedSeverity: Medium, Response: Alert, Contain: true,
		Blinds: "an alias of the responder points at another version: a rule invoking it runs other code",
		Undo:   "aws lambda update-alias back to the deployed version; " + redeploy,
	},
	{
		Source: lambda, Name: "DeleteAlias", LoggedAs: []string{"DeleteAlias20150331", "DeleteAlias"}, Resource: Function, TargetIn: []string{"functionName"},
		Severity: High, FailedSeverity: Medium, Response: Alert, Contain: true,
		Blinds: "an alias of the responder is gone: a rule invoking it fails",
		Undo:   redeploy,
	},
	{
		Source: sns, Name: "SetTopicAttributes", Resource: Topic, TargetIn: []string{"topicArn"},
		Severity: High, FailedSeverity: Medium, Response: Alert, Contain: true,
		Blinds: "the alert topic's policy, key or delivery policy changed: alerts (and alarms) may no longer be delivered",
		Undo:   redeploy + "; check aws sns get-topic-attributes --topic-arn <topic>",
	},
	{
		Source: sns, Name: "RemovePermission", Resource: Topic, TargetIn: []string{"topicArn"},
		Severity: High, FailedSeverity: Medium, Response: Alert, Contain: true,
		Blinds: "a statement of the alert topic's policy removed: the alarms or the owners' rules may no longer publish",
		Undo:   redeploy,
	},
}

// alarms are the calls on trailguard's own CloudWatch alarms (the failure
// alarms and the reconcile heartbeat).
var alarms = []Entry{
	{
		Source: monitoring, Name: "DisableAlarmActions", Resource: Alarm, TargetIn: []string{"alarmNames"},
		Severity: Critical, FailedSeverity: Medium, Response: Alert, Contain: true,
		Blinds: "trailguard's alarms no longer notify anyone: a silenced responder goes unnoticed",
		Undo:   "aws cloudwatch enable-alarm-actions --alarm-names <the names in the event> (the responder has no CloudWatch client: the owners' direct rule carries this alert too)",
	},
	{
		Source: monitoring, Name: "DeleteAlarms", Resource: Alarm, TargetIn: []string{"alarmNames"},
		Severity: Critical, FailedSeverity: Medium, Response: Alert, Contain: true,
		Blinds: "trailguard's alarms are gone: a silenced responder goes unnoticed",
		Undo:   redeploy,
	},
	{
		Source: monitoring, Name: "PutMetricAlarm", Resource: Alarm, TargetIn: []string{"alarmName"},
		Severity: High, FailedSeverity: Medium, Response: Alert, Contain: true,
		Blinds: "one of trailguard's alarms rewritten: another metric, threshold or action",
		Undo:   redeploy,
	},
}

// roleChanges are the IAM calls that change what the responder's role may do.
var roleChanges = func() []Entry {
	var out []Entry
	for _, name := range []string{"PutRolePolicy", "AttachRolePolicy", "DetachRolePolicy", "UpdateAssumeRolePolicy", "PutRolePermissionsBoundary", "DeleteRolePermissionsBoundary", "DeleteRole"} {
		out = append(out, Entry{
			Source: iam, Name: name, Resource: Role, TargetIn: []string{"roleName"},
			Severity: Critical, FailedSeverity: Medium, Response: Alert, Contain: true,
			Blinds: "the responder's role changed: it may lose the rights to restore and contain, or gain others",
			Undo:   redeploy,
		})
	}
	return out
}()

// containment are the calls that undo a containment: the principal who undid
// it is contained in turn. An active key of a quarantined user is inert (the
// deny-all policy stays attached) and becomes dangerous only once the policy
// is detached, which is watched; so UpdateAccessKey is not a row: without a
// record of which keys trailguard deactivated, every key activation in the
// account would page.
var containment = []Entry{
	{
		Source: iam, Name: "DetachUserPolicy", Resource: Contained, TargetIn: []string{"userName"},
		Severity: Critical, FailedSeverity: Medium, Response: Requarantine, Contain: true, Judged: true,
		Blinds: "the quarantine policy detached from a user trailguard contained: the user acts again",
		Undo:   "AttachUserPolicy of the quarantine policy again (to lift a quarantine, first add the user to TRAILGUARD_ALLOW)",
	},
	{
		Source: iam, Name: "DeleteRolePolicy", Resource: Role, TargetIn: []string{"roleName"},
		Severity: Critical, FailedSeverity: Medium, Response: RestoreRevocation, Contain: true, Judged: true,
		Blinds: "trailguard's session revocation removed from a contained role (its old sessions act again), or the responder's role changed",
		Undo:   "write the revocation policy again, revoking every session issued until now (to lift it, first add the role to TRAILGUARD_ALLOW); on the responder's role: " + redeploy,
	},
	{
		Source: iam, Name: "CreatePolicyVersion", Resource: Contained, TargetIn: []string{"policyArn"},
		Severity: Critical, FailedSeverity: Medium, Response: RestoreQuarantinePolicy, Contain: true, Judged: true,
		Blinds: "the (customer-managed) quarantine policy rewritten: every quarantined user may act again",
		Undo:   "CreatePolicyVersion with the deny-all document, as the default version",
	},
	{
		Source: iam, Name: "SetDefaultPolicyVersion", Resource: Contained, TargetIn: []string{"policyArn"},
		Severity: Critical, FailedSeverity: Medium, Response: RestoreQuarantinePolicy, Contain: true,
		Blinds: "another version of the (customer-managed) quarantine policy made the default: every quarantined user may act again",
		Undo:   "CreatePolicyVersion with the deny-all document, as the default version",
	},
}

// eventKey identifies an event; a struct key makes lookups allocation-free.
type eventKey struct{ source, name string }

var byEvent = func() map[eventKey]Entry {
	m := make(map[eventKey]Entry)
	for _, e := range entries {
		for _, n := range e.EventNames() {
			m[eventKey{e.Source, n}] = e
		}
	}
	return m
}()

// All returns a copy of the catalog's entries in table order.
func All() []Entry {
	out := make([]Entry, len(entries))
	copy(out, entries)
	return out
}

// Lookup finds the entry for a CloudTrail eventSource and eventName as they
// appear in the record.
func Lookup(source, eventName string) (Entry, bool) {
	e, ok := byEvent[eventKey{source, eventName}]
	return e, ok
}

// EventBridgeSource returns the EventBridge "source" of events from a
// CloudTrail eventSource: "cloudtrail.amazonaws.com" → "aws.cloudtrail".
func EventBridgeSource(eventSource string) string {
	if s, ok := eventBridgeSources[eventSource]; ok {
		return s
	}
	return "aws." + strings.TrimSuffix(eventSource, ".amazonaws.com")
}

// eventBridgeSources are the services whose EventBridge source is not named
// after their CloudTrail eventSource.
var eventBridgeSources = map[string]string{
	monitoring: "aws.cloudwatch",
}

// globalSources are services whose CloudTrail events are delivered to
// EventBridge only in us-east-1, whatever region the caller used.
var globalSources = map[string]bool{
	"iam.amazonaws.com":           true,
	"organizations.amazonaws.com": true,
}

// sources returns the distinct eventSources of the table, sorted.
func sources() []string {
	seen := map[string]bool{}
	var out []string
	for _, e := range entries {
		if !seen[e.Source] {
			seen[e.Source] = true
			out = append(out, e.Source)
		}
	}
	sort.Strings(out)
	return out
}
