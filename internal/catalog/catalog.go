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
	// EnableAlarmActions: EnableAlarmActions on trailguard's alarms named
	// in the call.
	EnableAlarmActions Response = "enable-alarm-actions"
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
