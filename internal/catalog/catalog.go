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

const cloudtrail = "cloudtrail.amazonaws.com"

// entries is the table itself. Keep it sorted by source, then by how much
// damage the call can do.
var entries = []Entry{
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

var byEvent = func() map[string]Entry {
	m := make(map[string]Entry)
	for _, e := range entries {
		for _, n := range e.EventNames() {
			m[key(e.Source, n)] = e
		}
	}
	return m
}()

func key(source, name string) string { return source + "\x00" + name }

// All returns a copy of the catalog's entries in table order.
func All() []Entry {
	out := make([]Entry, len(entries))
	copy(out, entries)
	return out
}

// Lookup finds the entry for a CloudTrail eventSource and eventName as they
// appear in the record.
func Lookup(source, eventName string) (Entry, bool) {
	e, ok := byEvent[key(source, eventName)]
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
