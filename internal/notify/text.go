package notify

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/trailguard/trailguard/internal/respond"
)

// Text renders the alert for people (email, logs), with the whole raw event.
func Text(r respond.Report) string { return text(r, rawOf(r, -1)) }

func text(r respond.Report, raw rawPart) string {
	c := r.Plan.Classification
	rec := r.Event.Record
	var b strings.Builder
	line := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }

	account := rec.RecipientAccountID
	if account == "" {
		account = r.Event.Account
	}
	if r.AccountAlias != "" {
		account += " (" + r.AccountAlias + ")"
	}
	target := c.Target.ID
	if target == "" {
		target = "(not named in the event)"
	}

	line("trailguard %s: %s", strings.ToUpper(c.Severity.String()), headline(r))
	line("")
	line("WHAT HAPPENED")
	status := "succeeded"
	if rec.Failed() {
		status = "FAILED with " + rec.ErrorCode
		if rec.ErrorMessage != "" {
			status += ": " + rec.ErrorMessage
		}
	}
	line("  Event:      %s (%s), %s", rec.EventName, rec.EventSource, status)
	line("  When:       %s", when(rec.EventTime))
	if c.Known {
		line("  Why it matters: %s", c.Entry.Blinds)
	} else {
		line("  Why it matters: not in trailguard's catalog; reported for review")
	}
	line("  Target:     %s (%s)", target, c.Target.Kind)
	line("  Region:     %s", rec.AWSRegion)
	line("  Account:    %s", account)
	for _, ch := range c.Changes {
		verb := "got worse"
		if ch.Review {
			verb = "changed (review)"
		}
		line("  Change:     %s %s: now %s, baseline %s", ch.Field, verb, ch.Now, ch.Want)
	}

	line("")
	line("WHO")
	a := c.Actor
	line("  Principal:  %s (%s)", orDash(a.ARN), a.Type)
	if a.AccessKeyID != "" {
		line("  Access key: %s", a.AccessKeyID)
	}
	line("  MFA:        %s", yesNo(a.MFA))
	if a.InvokedBy != "" {
		line("  Through:    %s", a.InvokedBy)
	}
	line("  Source IP:  %s", orDash(rec.SourceIPAddress))
	line("  User agent: %s", orDash(rec.UserAgent))
	for _, x := range c.Exemptions {
		line("  Not contained: %s", x)
	}

	line("")
	line("WHAT TRAILGUARD DID (mode: %s)", r.Mode)
	n := len(r.Outcomes)
	writeActions(&b, "  ", alertActions(r.Outcomes), true)
	for _, act := range r.Plan.Actions {
		if act.Step == respond.StepNotify {
			n++
			line("  %d. [sent] notify: this alert", n)
		}
	}
	if n == 0 {
		line("  nothing")
	}
	if r.Gap != nil {
		line("  Gap report: %s", gapLine(r.Gap))
	}

	if since := r.SinceEarlier(); len(since) > 0 {
		line("")
		line("SINCE THE FIRST ATTEMPT (%s)", when(r.Earlier.At))
		for _, c := range since {
			line("  - %s", c)
		}
	}

	todo := todos(r)
	line("")
	line("WHAT YOU SHOULD DO")
	if len(todo) == 0 {
		line("  Nothing: no action needed. Review if this change was not expected.")
	}
	for _, t := range todo {
		line("  - %s", t)
	}

	line("")
	line("CONSOLE")
	line("  %s", ConsoleURL(r))
	line("")
	line("RAW EVENT")
	line("%s", raw.text())
	return b.String()
}

// headline is the first line: what happened, to what, by whom.
func headline(r respond.Report) string {
	c := r.Plan.Classification
	rec := r.Event.Record
	verb := rec.EventName
	if rec.Failed() {
		verb = "attempted " + rec.EventName
	}
	s := fmt.Sprintf("%s %s", c.Actor.Display, verb)
	if c.Target.ID != "" {
		s += " on " + c.Target.ID
	}
	return s + " in " + rec.AWSRegion + " — " + outcome(r)
}

// todos lists what a person must do: manual steps, failed actions to redo,
// and how to lift the containment if it was a false alarm.
func todos(r respond.Report) []string {
	var out []string
	for _, o := range r.Outcomes {
		switch o.Status {
		case respond.StatusManual:
			out = append(out, o.Action.Reason)
		case respond.StatusFailed:
			out = append(out, fmt.Sprintf("%s failed (%s): do it by hand, or let the retry/reconciliation converge", o.Action, o.Error))
		case respond.StatusDryRun:
			out = append(out, fmt.Sprintf("dry-run: %s was not executed", o.Action))
		}
	}
	for _, o := range r.Outcomes {
		if o.Status != respond.StatusDone {
			continue
		}
		a := o.Action
		switch a.Kind {
		case respond.KindAttachUserPolicy:
			out = append(out, fmt.Sprintf("if this was legitimate, add the principal to TRAILGUARD_ALLOW first (trailguard undoes a lift otherwise), then lift the quarantine: aws iam detach-user-policy --user-name %s --policy-arn %s", a.UserName, a.PolicyARN))
		case respond.KindDeactivateAccessKey:
			out = append(out, fmt.Sprintf("if this was legitimate, reactivate the key: aws iam update-access-key --user-name %s --access-key-id %s --status Active", a.UserName, a.AccessKeyID))
		case respond.KindRevokeRoleSessions:
			out = append(out, fmt.Sprintf("every session of role %s issued before %s is revoked; callers must assume the role again. To undo, add the role to TRAILGUARD_ALLOW first (trailguard undoes a lift otherwise), then: aws iam delete-role-policy --role-name %s --policy-name %s", a.RoleName, a.IssuedBefore.UTC().Format(time.RFC3339), a.RoleName, respond.RevokePolicyName))
		}
	}
	return out
}

func statusWord(s respond.Status) string {
	switch s {
	case respond.StatusDone:
		return "done"
	case respond.StatusFailed:
		return "FAILED"
	case respond.StatusManual:
		return "MANUAL"
	case respond.StatusDryRun:
		return "dry-run"
	}
	return string(s)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// Alert is the machine-readable alert (schema "trailguard.alert/v1").
type Alert struct {
	Schema     string              `json:"schema"`
	Severity   string              `json:"severity"`
	Tamper     bool                `json:"tamper"`
	Summary    string              `json:"summary"`
	Mode       string              `json:"mode"`
	Event      AlertEvent          `json:"event"`
	Actor      respond.Actor       `json:"actor"`
	Target     respond.Target      `json:"target"`
	Changes    []respond.Change    `json:"changes,omitempty"`
	Exemptions []respond.Exemption `json:"exemptions,omitempty"`
	Actions    []AlertAction       `json:"actions"`
	// Blinds says why the event matters (the catalog's words); empty for
	// events outside the catalog.
	Blinds string `json:"blinds,omitempty"`
	// Baseline is true when the target trail has a configured baseline.
	Baseline     bool            `json:"baseline,omitempty"`
	ToDo         []string        `json:"todo,omitempty"`
	ConsoleURL   string          `json:"consoleUrl"`
	AccountAlias string          `json:"accountAlias,omitempty"`
	RawEvent     json.RawMessage `json:"rawEvent,omitempty"`
	// RawEventCut is the raw event's first bytes when the whole would not
	// fit in an SNS message (then RawEvent is absent); RawEventBytes is the
	// whole event's size, set whenever RawEvent is absent. The whole event
	// is in the responder's log line.
	RawEventCut   string `json:"rawEventCut,omitempty"`
	RawEventBytes int    `json:"rawEventBytes,omitempty"`
	// GapReport announces the report on the window the trail was blind.
	GapReport *respond.GapNotice `json:"gapReport,omitempty"`
	// OCSF is the same response as an OCSF Detection Finding (ocsf.go), for
	// Security Lake custom sources and SIEMs.
	OCSF *OCSFFinding `json:"ocsf,omitempty"`
	// Retry is set when an earlier attempt at this event failed: when it
	// was, and what changed since, action by action.
	Retry *AlertRetry `json:"retry,omitempty"`
}

// AlertRetry compares a retry with the event's first, failed attempt.
type AlertRetry struct {
	FirstAttempt time.Time `json:"firstAttempt"`
	Changes      []string  `json:"changes"`
}

// AlertEvent identifies the event.
type AlertEvent struct {
	ID        string    `json:"eventId"`
	Name      string    `json:"eventName"`
	Source    string    `json:"eventSource"`
	Region    string    `json:"region"`
	Account   string    `json:"account"`
	Time      time.Time `json:"time"`
	ErrorCode string    `json:"errorCode,omitempty"`
}

// AlertAction is one action and its outcome.
type AlertAction struct {
	Step   respond.Step   `json:"step"`
	Kind   respond.Kind   `json:"kind"`
	Target string         `json:"target,omitempty"`
	Region string         `json:"region,omitempty"`
	Reason string         `json:"reason"`
	Status respond.Status `json:"status"`
	Detail string         `json:"detail,omitempty"`
	Error  string         `json:"error,omitempty"`
	Ms     float64        `json:"ms"`
}

// Document returns the machine-readable alert, with the whole raw event.
func Document(r respond.Report) Alert { return document(r, rawOf(r, -1)) }

func document(r respond.Report, raw rawPart) Alert {
	c := r.Plan.Classification
	rec := r.Event.Record
	d := Alert{
		Schema: "trailguard.alert/v1", Severity: c.Severity.String(), Tamper: c.Tamper(),
		Summary: headline(r), Mode: string(r.Mode),
		Event: AlertEvent{ID: rec.EventID, Name: rec.EventName, Source: rec.EventSource, Region: rec.AWSRegion,
			Account: rec.RecipientAccountID, Time: rec.EventTime, ErrorCode: rec.ErrorCode},
		Actor: c.Actor, Target: c.Target, Changes: c.Changes, Exemptions: c.Exemptions,
		ToDo: todos(r), ConsoleURL: ConsoleURL(r), AccountAlias: r.AccountAlias, GapReport: r.Gap,
	}
	d.Actions = alertActions(r.Outcomes)
	if c.Known {
		d.Blinds = c.Entry.Blinds
	}
	d.Baseline = c.Target.Baseline != nil
	if d.Event.Account == "" {
		d.Event.Account = r.Event.Account
	}
	if since := r.SinceEarlier(); len(since) > 0 {
		d.Retry = &AlertRetry{FirstAttempt: r.Earlier.At, Changes: since}
	}
	switch {
	case raw.whole() && json.Valid(raw.data):
		d.RawEvent = raw.data
	case len(raw.data) > 0:
		d.RawEventCut = string(raw.data)
		fallthrough
	default:
		d.RawEventBytes = raw.total
	}
	o := OCSF(r)
	d.OCSF = &o
	return d
}

// alertActions lists outcomes as the document does.
func alertActions(outcomes []respond.Outcome) []AlertAction {
	out := make([]AlertAction, 0, len(outcomes))
	for _, o := range outcomes {
		a := o.Action
		out = append(out, AlertAction{Step: a.Step, Kind: a.Kind, Target: a.Target, Region: a.Region, Reason: a.Reason,
			Status: o.Status, Detail: o.Detail, Error: o.Error, Ms: durationMs(o.Duration)})
	}
	return out
}

// ChatMessage is Amazon Q Developer in chat applications' custom
// notification schema.
type ChatMessage struct {
	Version string      `json:"version"`
	Source  string      `json:"source"`
	Content ChatContent `json:"content"`
}

// ChatContent is the visible part of a chat notification.
type ChatContent struct {
	TextType    string   `json:"textType"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	NextSteps   []string `json:"nextSteps,omitempty"`
}

// Chat returns the alert in the chat notification schema.
func Chat(r respond.Report) ChatMessage {
	var desc strings.Builder
	for _, o := range r.Outcomes {
		fmt.Fprintf(&desc, "• *%s* %s: %s\n", statusWord(o.Status), o.Action.Step, o.Action)
	}
	fmt.Fprintf(&desc, "<%s|Open in the CloudTrail console>", ConsoleURL(r))
	return ChatMessage{Version: "1.0", Source: "custom", Content: ChatContent{
		TextType:    "client-markdown",
		Title:       ":rotating_light: " + Subject(r),
		Description: desc.String(),
		NextSteps:   todos(r),
	}}
}
