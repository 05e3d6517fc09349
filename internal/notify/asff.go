package notify

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/trailguard/trailguard/internal/catalog"
	"github.com/trailguard/trailguard/internal/respond"
)

// Security Hub findings in the AWS Security Finding Format (ASFF).
//
// Security teams triage in Security Hub, so each response and each
// reconciliation drift is also a finding there (opt-in, see SecurityHub).
// The Finding type below is the ASFF document as Security Hub reads it
// (JSON field names as in the API), restricted to the fields trailguard
// fills; every limit Security Hub enforces on those fields is enforced here
// by construction, so a finding is never rejected for its size.
//
// A finding's Id is derived from what it is about (the CloudTrail event ID,
// the drift), never from when it was made: a retried invocation imports the
// same Id, which Security Hub treats as an update of the finding, not a new
// one.

// ASFF limits (AWS Security Hub API reference, AwsSecurityFinding and
// BatchImportFindings).
const (
	SchemaVersion        = "2018-10-08"
	MaxFindingsPerImport = 100
	MaxFindingBytes      = 240 << 10
	MaxTitle             = 256
	MaxDescription       = 1024
	MaxID                = 512
	MaxGeneratorID       = 512
	MaxTypes             = 50
	MaxResources         = 32
	MaxProductFields     = 50
	MaxFieldKey          = 128
	MaxFieldValue        = 2048
	MaxNoteText          = 512
	MaxRecommendation    = 512
	MaxSeverityOriginal  = 64
	MaxRequirements      = 32
	// MaxOtherValue: the values of a resource's Details.Other must be
	// shorter than 1,024 characters.
	MaxOtherValue = 1023
)

// Workflow statuses trailguard sets when it creates a finding.
const (
	// WorkflowNew: nothing was fixed (dry-run, or an action failed).
	WorkflowNew = "NEW"
	// WorkflowNotified: the owners were alerted and a person must act (or
	// review: a failed attempt, an informational change).
	WorkflowNotified = "NOTIFIED"
	// WorkflowResolved: trailguard restored what the call changed.
	WorkflowResolved = "RESOLVED"
)

// Partition returns the AWS partition of a region.
func Partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// ProductARN is the account's default Security Hub product, the one every
// account may import its own findings into:
// arn:<partition>:securityhub:<region>:<account>:product/<account>/default.
func ProductARN(region, account string) string {
	return fmt.Sprintf("arn:%s:securityhub:%s:%s:product/%s/default", Partition(region), region, account, account)
}

// Stamp returns t in the timestamp format Security Hub accepts.
func Stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// asffSeverity maps the catalog's severity to ASFF's labels.
func asffSeverity(s catalog.Severity) Severity {
	label := map[catalog.Severity]string{catalog.Info: "INFORMATIONAL", catalog.Medium: "MEDIUM", catalog.High: "HIGH", catalog.Critical: "CRITICAL"}[s]
	if label == "" {
		label = "INFORMATIONAL"
	}
	return Severity{Label: label, Original: s.String()}
}

// FindingID is the finding Id of the response to a CloudTrail event: the
// same event (a retry, a duplicate delivery) always gives the same Id.
func FindingID(account, region, eventID string) string {
	return Clip(fmt.Sprintf("trailguard/%s/%s/event/%s", account, region, eventID), MaxID)
}

// ASFF renders the response to one event as a Security Hub finding, to be
// imported in region (the Security Hub the responder calls). now is when the
// finding is made (UpdatedAt).
func ASFF(r respond.Report, region string, now time.Time) Finding {
	c := r.Plan.Classification
	rec := r.Event.Record
	account, id, generator := eventFindingNames(r, region)
	seen := rec.EventTime
	if seen.IsZero() {
		seen = r.Started
	}
	if seen.IsZero() {
		seen = now
	}
	sev := asffSeverity(c.Severity)
	types := responseTypes(c)
	f := newFinding(id, generator, account, region, sev, types, seen, now)
	f.Title = Clip(title(r), MaxTitle)
	f.Description = Clip(description(r), MaxDescription)
	f.SourceURL = ConsoleURL(r)
	f.Resources = responseResources(r, region)
	f.Workflow = &Workflow{Status: workflow(r)}
	f.Note = &Note{Text: Clip(firstOf(actionSummary(r.Outcomes), "no action taken"), MaxNoteText), UpdatedBy: "trailguard", UpdatedAt: Stamp(now)}
	if rec := remediationText(r); rec != "" {
		f.Remediation = &Remediation{Recommendation: Recommendation{Text: Clip(rec, MaxRecommendation), URL: ConsoleURL(r)}}
	}
	f.Action = &APICallAction{ActionType: "AWS_API_CALL", AwsAPICallAction: APICallInfo{
		API: Clip(rec.EventName, 128), ServiceName: Clip(rec.EventSource, 128),
		FirstSeen: Stamp(seen), LastSeen: Stamp(seen),
	}}
	if ip := net.ParseIP(rec.SourceIPAddress); ip != nil && ip.To4() != nil {
		f.Action.AwsAPICallAction.CallerType = "remoteip"
		f.Action.AwsAPICallAction.RemoteIPDetails = &RemoteIPDetails{IPAddressV4: rec.SourceIPAddress}
	} else if rec.SourceIPAddress != "" {
		f.Action.AwsAPICallAction.CallerType = "domain"
	}
	fields := [][2]string{
		{"trailguard/Mode", string(r.Mode)},
		{"trailguard/Outcome", outcome(r)},
		{"trailguard/EventId", rec.EventID},
		{"trailguard/EventName", rec.EventName},
		{"trailguard/EventSource", rec.EventSource},
		{"trailguard/Actor", c.Actor.ARN},
		{"trailguard/ActorType", c.Actor.Type},
		{"trailguard/AccessKeyId", c.Actor.AccessKeyID},
		{"trailguard/ErrorCode", rec.ErrorCode},
		{"trailguard/Target", c.Target.ID},
	}
	for _, x := range c.Exemptions {
		fields = append(fields, [2]string{"trailguard/NotContained", string(x)})
	}
	f.ProductFields = productFields(fields, r.Outcomes)
	return f
}

// eventFindingNames is how the finding of a response is named, in ASFF and
// in OCSF alike: the account it belongs to, its Id (the same for every
// delivery of the event) and its generator (the catalog's row).
func eventFindingNames(r respond.Report, region string) (account, id, generator string) {
	rec := r.Event.Record
	account = firstOf(rec.RecipientAccountID, r.Event.Account, r.Plan.Classification.Target.Account)
	id = FindingID(account, firstOf(rec.AWSRegion, region), firstOf(rec.EventID, fallbackID(r)))
	return account, id, Clip("trailguard/catalog/"+rec.EventSource+"/"+rec.EventName, MaxGeneratorID)
}

// newFinding is what every trailguard finding carries, a response's or a
// drift's: its Id and generator, the product, account and region, the
// times, and the severity and types both as the finding's own and as its
// provider's.
func newFinding(id, generator, account, region string, sev Severity, types []string, seen, now time.Time) Finding {
	return Finding{
		SchemaVersion:   SchemaVersion,
		ID:              id,
		ProductARN:      ProductARN(region, account),
		GeneratorID:     Clip(generator, MaxGeneratorID),
		AwsAccountID:    account,
		Region:          Clip(region, 16),
		Types:           types,
		FirstObservedAt: Stamp(seen), LastObservedAt: Stamp(seen),
		CreatedAt: Stamp(seen), UpdatedAt: Stamp(now),
		Severity:              sev,
		RecordState:           "ACTIVE",
		FindingProviderFields: &FindingProviderFields{Severity: &sev, Types: types},
	}
}

// DriftFindingID is the finding Id of a reconciliation drift: the same drift
// (resource, field, observed value) seen again updates the same finding.
func DriftFindingID(account, region string, d respond.Drift) string {
	sum := sha256.Sum256([]byte(d.Resource + "|" + d.Field + "|" + d.Got))
	return fmt.Sprintf("trailguard/%s/%s/drift/%s", account, region, hex.EncodeToString(sum[:12]))
}

// DriftASFF renders each drift of a reconciliation run as a finding of
// account (the account reconciled), imported in region.
func DriftASFF(r respond.ReconcileReport, account, region string, now time.Time) []Finding {
	seen := r.Started
	if seen.IsZero() {
		seen = now
	}
	outcomes := driftOutcomes(r)
	var out []Finding
	defaultAccount := account
	for i, d := range r.Drifts {
		account, what := driftAccount(d.Resource, defaultAccount)
		sev := Severity{Label: "HIGH", Original: catalog.High.String()}
		types := []string{"TTPs/Defense Evasion/CloudTrail Tampering", "Software and Configuration Checks/AWS Security Best Practices/CloudTrail Drift"}
		status := "not repaired"
		if len(outcomes[i]) > 0 {
			status = driftStatus(outcomes[i])
		}
		f := newFinding(DriftFindingID(account, region, d), "trailguard/reconcile/"+d.Field, account, region, sev, types, seen, now)
		f.Title = Clip(fmt.Sprintf("%s %s is %s (baseline %s): %s", d.Resource, d.Field, d.Got, d.Want, status), MaxTitle)
		f.Description = Clip(fmt.Sprintf("trailguard's reconciliation found that %s has %s %s where its baseline says %s, and no CloudTrail event announced the change "+
			"(an event was lost, or a disabled rule could not see its own disabling). Look in CloudTrail's event history for who made it.", d.Resource, d.Field, d.Got, d.Want), MaxDescription)
		f.Resources = []Resource{driftResource(what, account, region)}
		f.Workflow = &Workflow{Status: workflowOf(outcomes[i], true)}
		f.Note = &Note{Text: Clip(firstOf(actionSummary(outcomes[i]), "no action taken"), MaxNoteText), UpdatedBy: "trailguard", UpdatedAt: Stamp(now)}
		var manual []string
		for _, o := range outcomes[i] {
			if o.Status != respond.StatusDone {
				manual = append(manual, o.Action.Reason)
			}
		}
		if len(manual) > 0 {
			f.Remediation = &Remediation{Recommendation: Recommendation{Text: Clip(strings.Join(manual, " "), MaxRecommendation)}}
		}
		f.ProductFields = productFields([][2]string{
			{"trailguard/Mode", string(r.Mode)},
			{"trailguard/Outcome", status},
			{"trailguard/Resource", d.Resource},
			{"trailguard/Field", d.Field},
			{"trailguard/Baseline", d.Want},
			{"trailguard/Observed", d.Got},
		}, outcomes[i])
		out = append(out, f)
	}
	return out
}

// driftAccount finds the account a drift belongs to: organization
// reconciliation names it first ("account 111111111111 (name): trail x");
// otherwise it is the reconciled account.
func driftAccount(resource, def string) (account, what string) {
	rest, ok := strings.CutPrefix(resource, "account ")
	if !ok || len(rest) < 12 {
		return def, resource
	}
	id := rest[:12]
	for _, c := range id {
		if c < '0' || c > '9' {
			return def, resource
		}
	}
	if _, after, found := strings.Cut(rest, ": "); found {
		return id, after
	}
	return def, resource
}

// driftOutcomes splits a run's outcomes by drift: Reconcile runs each
// drift's actions in order, one outcome per action.
func driftOutcomes(r respond.ReconcileReport) [][]respond.Outcome {
	out := make([][]respond.Outcome, len(r.Drifts))
	i := 0
	for n, d := range r.Drifts {
		for range d.Actions {
			if i < len(r.Outcomes) {
				out[n] = append(out[n], r.Outcomes[i])
				i++
			}
		}
	}
	return out
}

// workflow says whether trailguard fixed what the event did.
func workflow(r respond.Report) string {
	c := r.Plan.Classification
	return workflowOf(r.Outcomes, c.Succeeded && c.Tamper())
}

// workflowOf: RESOLVED when every restoring action was done (and at least
// one was), NEW when nothing could be fixed (dry-run, a failure), NOTIFIED
// when a person must act or review.
func workflowOf(outcomes []respond.Outcome, needsFix bool) string {
	restored, failed, dry, manual := 0, 0, 0, 0
	for _, o := range outcomes {
		switch o.Status {
		case respond.StatusFailed:
			failed++
		case respond.StatusDryRun:
			dry++
		case respond.StatusManual:
			manual++
		case respond.StatusDone:
			if o.Action.Step == respond.StepRestore {
				restored++
			}
		}
	}
	switch {
	case failed > 0 || dry > 0:
		return WorkflowNew
	case needsFix && restored > 0 && manual == 0:
		return WorkflowResolved
	}
	return WorkflowNotified
}

// responseTypes classifies the finding in ASFF's namespace/category/classifier.
func responseTypes(c respond.Classification) []string {
	switch {
	case c.Tamper() && !c.Succeeded:
		return []string{"TTPs/Defense Evasion/Attempted CloudTrail Tampering"}
	case c.Tamper():
		return []string{"TTPs/Defense Evasion/CloudTrail Tampering", "Effects/Data Exposure/Audit Trail Blinded"}
	}
	return []string{"Software and Configuration Checks/AWS Security Best Practices/CloudTrail Change"}
}

func title(r respond.Report) string {
	c := r.Plan.Classification
	rec := r.Event.Record
	s := rec.EventName
	if rec.Failed() {
		s = "Attempted " + s
	}
	if name := shortName(c.Target.ID); name != "" {
		s += " on " + name
	}
	if c.Actor.Display != "" {
		s += " by " + c.Actor.Display
	}
	return s + ": " + outcome(r)
}

func description(r respond.Report) string {
	c := r.Plan.Classification
	why := "Not in trailguard's catalog; reported for review."
	if c.Known {
		why = "Why it matters: " + c.Entry.Blinds + "."
	}
	s := headline(r) + ". " + why
	if len(c.Exemptions) > 0 {
		var xs []string
		for _, x := range c.Exemptions {
			xs = append(xs, string(x))
		}
		s += " Not contained: " + strings.Join(xs, "; ") + "."
	}
	return s + " Actions: " + firstOf(actionSummary(r.Outcomes), "none") + "."
}

// remediationText is what a person should do: the alert's to-do list, or
// the catalog's undo when trailguard did not undo it.
func remediationText(r respond.Report) string {
	if t := todos(r); len(t) > 0 {
		return strings.Join(t, "; ")
	}
	c := r.Plan.Classification
	if c.Known && c.Entry.Undo != "" {
		return "Undo: " + c.Entry.Undo
	}
	return ""
}

// actionSummary lists each action with its outcome on one line.
func actionSummary(outcomes []respond.Outcome) string {
	var parts []string
	for _, o := range outcomes {
		parts = append(parts, actionLine(o))
	}
	return strings.Join(parts, "; ")
}

func actionLine(o respond.Outcome) string {
	s := "[" + statusWord(o.Status) + "] " + string(o.Action.Step) + ": " + o.Action.String()
	if o.Detail != "" {
		s += " (" + o.Detail + ")"
	}
	if o.Error != "" {
		s += ": " + o.Error
	}
	return s
}

// productFields fills ProductFields within Security Hub's limits: the given
// fields first (empty ones left out), then one field per action outcome.
func productFields(fields [][2]string, outcomes []respond.Outcome) map[string]string {
	m := make(map[string]string, len(fields)+len(outcomes))
	add := func(k, v string) {
		if v == "" || len(m) >= MaxProductFields {
			return
		}
		k = Clip(k, MaxFieldKey)
		for n := 2; m[k] != ""; n++ {
			k = Clip(fmt.Sprintf("%s/%d", strings.TrimSuffix(k, fmt.Sprintf("/%d", n-1)), n), MaxFieldKey)
		}
		m[k] = Clip(v, MaxFieldValue)
	}
	for _, f := range fields {
		add(f[0], f[1])
	}
	for i, o := range outcomes {
		add(fmt.Sprintf("trailguard/Action/%02d", i+1), actionLine(o))
	}
	return m
}

// fallbackID names an event without an eventID (never seen from CloudTrail,
// but the renderer must not produce an empty Id).
func fallbackID(r respond.Report) string {
	b := sha256.Sum256(r.Event.Raw)
	return hex.EncodeToString(b[:16])
}

func firstOf(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// Clip cuts s to at most max characters (Security Hub counts characters),
// marking the cut with an ellipsis.
func Clip(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	runes := []rune(s)
	return string(runes[:max-1]) + "…"
}
