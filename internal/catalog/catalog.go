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
	// Role is trailguard's own responder role.
	Role Resource = "role"
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
var entries = slices.Concat(trailAPI, surroundings, protection, roleChanges)

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
		Response: RevertTrail, Contain: true,
		Blinds: "can move the bucket, turn off multi-region, global service events or log file validation, drop the KMS key or CloudWatch Logs",
		Undo:   "UpdateTrail back to the baseline, only the fields that got worse",
	},
	{
		Source: cloudtrail, Name: "PutEventSelectors", Resource: Trail,
		Severity: High, FailedSeverity: Medium,
		Response: RestoreSelectors, Contain: true,
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
		Severity: High, FailedSeverity: Medium, Response: FixLifecycle, Contain: true,
		Blinds: "a lifecycle rule on the trail bucket deletes logs early (one day, in the known attack)",
		Undo:   "remove the lifecycle rules that expire logs before the minimum retention",
	},
	{
		Source: s3, Name: "PutBucketPolicy", Resource: Bucket,
		Severity: High, FailedSeverity: Medium, Response: RestoreBucketPolicy, Contain: true,
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
		Severity: High, FailedSeverity: Medium, Response: Alert, Contain: true,
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
		Source: events, Name: "DisableRule", Resource: EventRule,
		Severity: Critical, FailedSeverity: Medium, Response: EnableRule, Contain: true,
		Blinds: "a disabled trailguard rule sees nothing, not even its own disabling (reconciliation catches it)",
		Undo:   "EnableRule",
	},
	{
		Source: events, Name: "DeleteRule", Resource: EventRule,
		Severity: Critical, FailedSeverity: Medium, Response: Alert, Contain: true,
		Blinds: "trailguard no longer receives these events",
		Undo:   redeploy,
	},
	{
		Source: events, Name: "RemoveTargets", Resource: EventRule,
		Severity: Critical, FailedSeverity: Medium, Response: Alert, Contain: true,
		Blinds: "trailguard's rule no longer invokes the responder",
		Undo:   redeploy,
	},
	{
		Source: lambda, Name: "DeleteFunction", LoggedAs: []string{"DeleteFunction20150331", "DeleteFunction"}, Resource: Function,
		Severity: Critical, FailedSeverity: Medium, Response: Alert, Contain: true,
		Blinds: "the responder is gone: nothing restores or alerts any more",
		Undo:   redeploy,
	},
	{
		Source: lambda, Name: "UpdateFunctionCode", LoggedAs: []string{"UpdateFunctionCode20150331v2", "UpdateFunctionCode20150331", "UpdateFunctionCode"}, Resource: Function,
		Severity: Critical, FailedSeverity: Medium, Response: Alert, Contain: true,
		Blinds: "the responder's code was replaced: it may do nothing, or worse",
		Undo:   redeploy,
	},
	{
		Source: lambda, Name: "UpdateFunctionConfiguration", LoggedAs: []string{"UpdateFunctionConfiguration20150331v2", "UpdateFunctionConfiguration20150331", "UpdateFunctionConfiguration"}, Resource: Function,
		Severity: High, FailedSeverity: Medium, Response: Alert, Contain: true,
		Blinds: "the responder's settings (mode, allow list, topic) or role may have changed",
		Undo:   redeploy,
	},
	{
		Source: lambda, Name: "PutFunctionConcurrency", LoggedAs: []string{"PutFunctionConcurrency20171031", "PutFunctionConcurrency"}, Resource: Function,
		Severity: Critical, FailedSeverity: Medium, Response: Alert, Contain: true,
		Blinds: "a reserved concurrency of 0 stops the responder from running at all",
		Undo:   redeploy,
	},
	{
		Source: lambda, Name: "DeleteFunctionConcurrency", LoggedAs: []string{"DeleteFunctionConcurrency20171031", "DeleteFunctionConcurrency"}, Resource: Function,
		Severity: Medium, FailedSeverity: Info, Response: Alert, Contain: false,
		Blinds: "the responder's reserved capacity is gone: a busy account can starve it",
		Undo:   redeploy,
	},
	{
		Source: lambda, Name: "RemovePermission", LoggedAs: []string{"RemovePermission20150331v2", "RemovePermission20150331", "RemovePermission"}, Resource: Function,
		Severity: Critical, FailedSeverity: Medium, Response: Alert, Contain: true,
		Blinds: "EventBridge may no longer be allowed to invoke the responder",
		Undo:   redeploy,
	},
	{
		Source: sns, Name: "DeleteTopic", Resource: Topic,
		Severity: Critical, FailedSeverity: Medium, Response: Alert, Contain: true,
		Blinds: "trailguard's alerts have nowhere to go (this one may not arrive either: check the function's logs)",
		Undo:   redeploy + "; confirm the email subscriptions again",
	},
	{
		Source: sns, Name: "Unsubscribe", Resource: Topic,
		Severity: High, FailedSeverity: Medium, Response: Alert, Contain: true,
		Blinds: "an owner no longer receives trailguard's alerts",
		Undo:   "subscribe the address again and confirm it",
	},
}

// roleChanges are the IAM calls that change what the responder's role may do.
var roleChanges = func() []Entry {
	var out []Entry
	for _, name := range []string{"PutRolePolicy", "DeleteRolePolicy", "AttachRolePolicy", "DetachRolePolicy", "UpdateAssumeRolePolicy", "PutRolePermissionsBoundary", "DeleteRolePermissionsBoundary", "DeleteRole"} {
		out = append(out, Entry{
			Source: iam, Name: name, Resource: Role,
			Severity: Critical, FailedSeverity: Medium, Response: Alert, Contain: true,
			Blinds: "the responder's role changed: it may lose the rights to restore and contain, or gain others",
			Undo:   redeploy,
		})
	}
	return out
}()

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
	return "aws." + strings.TrimSuffix(eventSource, ".amazonaws.com")
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
