package notify

import (
	"fmt"
	"strings"
	"time"

	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/respond"
)

// This file is the one terminal rendering of a report, from its alert
// document: `trailguard respond` prints it per event, the demo prints the
// alert its subscriber received with it. Both read the same fields the
// machine subscribers get, so what people see on a terminal is what a
// pipeline sees.

// View says what a terminal rendering adds to the document.
type View struct {
	// Indent prefixes every line.
	Indent string
	// Response replaces the mode on the "response" line (a dry-run says
	// what it did not do).
	Response string
	// NothingToDo explains a report with no action.
	NothingToDo string
	// Alert adds what the alert tells its reader beyond the classification:
	// the summary line, what to do, the console link, the raw event's size.
	Alert bool
}

// WriteView renders the report of alert document a for people.
func WriteView(b *strings.Builder, a Alert, v View) {
	line := func(label, format string, args ...any) {
		fmt.Fprintf(b, "%s%-11s %s\n", v.Indent, label, fmt.Sprintf(format, args...))
	}
	ev := a.Event
	if v.Alert {
		line("summary", "%s", a.Summary)
	}
	status := "succeeded"
	if ev.ErrorCode != "" {
		status = "FAILED with " + ev.ErrorCode
	}
	line("event", "%s (%s), %s", ev.Name, ev.Source, status)
	when := "unknown time"
	if !ev.Time.IsZero() {
		when = ev.Time.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	line("", "%s in %s, account %s, id %s", when, ev.Region, orDash(ev.Account), orDash(ev.ID))
	if a.Blinds != "" {
		line("catalog", "%s", a.Blinds)
	} else {
		line("catalog", "not in trailguard's catalog: the deployed rules never deliver it")
	}

	ac := a.Actor
	line("actor", "%s (%s) %s", ac.Display, ac.Type, orDash(ac.ARN))
	var detail []string
	if ac.AccessKeyID != "" {
		detail = append(detail, "access key "+ac.AccessKeyID)
	}
	detail = append(detail, "MFA "+yesNo(ac.MFA))
	if ac.InvokedBy != "" {
		detail = append(detail, "through "+ac.InvokedBy)
	}
	detail = append(detail, "containment "+string(ac.Containment))
	line("", "%s", strings.Join(detail, ", "))
	if ac.Manual != "" {
		line("", "manual: %s", ac.Manual)
	}

	t := a.Target
	target := t.ID
	if target == "" {
		target = "(not named in the event)"
	}
	kind := string(t.Kind)
	if kind == "" {
		kind = "resource"
	}
	baseline := ""
	if t.Kind == "trail" {
		baseline = ", no baseline"
		if a.Baseline {
			baseline = ", baseline from TRAILGUARD_TRAILS"
		}
	}
	line("target", "%s %s (%s%s)", kind, target, orDash(t.Region), baseline)
	line("severity", "%s", a.Severity)
	line("tamper", "%s", yesNo(a.Tamper))
	if len(a.Exemptions) == 0 {
		line("exemptions", "none")
	}
	for i, x := range a.Exemptions {
		line(first(i, "exemptions"), "%s", x)
	}
	if len(a.Changes) == 0 {
		line("changes", "none")
	}
	for i, ch := range a.Changes {
		how := "fixable"
		switch {
		case ch.Review:
			how = "review"
		case !ch.Fixable:
			how = "set back by hand"
		}
		line(first(i, "changes"), "%s: now %s, want %s (%s)", ch.Field, ch.Now, ch.Want, how)
	}

	label, response := "response", v.Response
	if response == "" {
		response = a.Mode
	} else if a.Mode == string(config.DryRun) {
		label = "plan"
	}
	line(label, "%s", response)
	if v.NothingToDo != "" {
		line("", "nothing to do: %s", v.NothingToDo)
	}
	writeActions(b, v.Indent+"  ", a.Actions, true)
	if !v.Alert {
		return
	}
	for i, td := range a.ToDo {
		line(first(i, "to do"), "- %s", td)
	}
	if a.GapReport != nil {
		line("gap report", "%s", gapLine(a.GapReport))
	}
	line("console", "%s", a.ConsoleURL)
	line("raw event", "%d bytes attached", len(a.RawEvent))
}

// writeActions renders actions and their outcomes as a numbered list, with
// why each was taken when why is set.
func writeActions(b *strings.Builder, indent string, actions []AlertAction, why bool) {
	for i, x := range actions {
		act := x.String()
		if x.Kind == respond.KindNotify && x.Target == "" {
			act += " (no topic)"
		}
		fmt.Fprintf(b, "%s%d. [%s] %s: %s\n", indent, i+1, statusWord(x.Status), x.Step, act)
		if why {
			fmt.Fprintf(b, "%s   why: %s\n", indent, x.Reason)
		}
		if x.Detail != "" {
			fmt.Fprintf(b, "%s   note: %s\n", indent, x.Detail)
		}
		if x.Error != "" {
			fmt.Fprintf(b, "%s   error: %s\n", indent, x.Error)
		}
	}
}

// String renders the action on one line, as respond.Action does.
func (x AlertAction) String() string {
	return respond.Action{Kind: x.Kind, Target: x.Target, Region: x.Region}.String()
}

// first returns label for the first of a list's lines, nothing after.
func first(i int, label string) string {
	if i == 0 {
		return label
	}
	return ""
}

func durationMs(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
