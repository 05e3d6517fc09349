package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/notify"
	"github.com/trailguard/trailguard/internal/respond"
)

// RespondSchema names the version of `respond --output json` documents.
const RespondSchema = "trailguard.respond/v1"

// respondWriter prints results as text or as JSON documents.
type respondWriter struct {
	e    *env
	json bool
	n    int
}

func (w *respondWriter) malformed(source string, err error) error {
	if !w.json {
		return nil // reported on stderr only
	}
	return w.write(respondDoc{Schema: RespondSchema, Input: source, Error: err.Error(), Actions: []respondDocAction{}})
}

func (w *respondWriter) event(source string, res respondResult) error {
	if w.json {
		return w.write(newRespondDoc(source, res))
	}
	if res.skipped != "" {
		return nil // counted in the summary
	}
	var b strings.Builder
	if w.n > 0 {
		b.WriteString("\n")
	}
	w.n++
	writeRespondText(&b, source, res)
	if _, err := io.WriteString(w.e.stdout, b.String()); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

func (w *respondWriter) write(d respondDoc) error {
	enc := json.NewEncoder(w.e.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// writeRespondText renders one event's classification and plan for people,
// with the renderer the demo shows its alert with.
func writeRespondText(b *strings.Builder, source string, res respondResult) {
	rep := res.report
	fmt.Fprintf(b, "=== %s\n", source)
	v := notify.View{NothingToDo: res.quiet}
	if rep.Mode == config.DryRun {
		v.Response = "dry-run: nothing executed, no alert sent"
	} else {
		v.Response = fmt.Sprintf("%s, %s", rep.Mode, rep.Duration.Round(time.Millisecond))
	}
	notify.WriteView(b, notify.Document(rep), v)
}

// respondDoc is one event in `respond --output json` (schema
// "trailguard.respond/v1"). Fields are only added, never renamed, within a
// schema version.
type respondDoc struct {
	Schema string `json:"schema"`
	// Input is where the event was read: FILE:LINE (stdin:LINE), or
	// FILE#Records[i] for a CloudTrail log file's record.
	Input string `json:"input"`
	// Error is set, and nothing else, when the event could not be read.
	Error          string                    `json:"error,omitempty"`
	Mode           config.Mode               `json:"mode,omitempty"`
	Event          *respondDocEvent          `json:"event,omitempty"`
	Classification *respondDocClassification `json:"classification,omitempty"`
	// Skipped says why the event was not answered (outside the catalog);
	// Classification is then omitted.
	Skipped string `json:"skipped,omitempty"`
	// NothingToDo says why the plan is empty (an unprotected resource, the
	// responder's own call).
	NothingToDo string             `json:"nothingToDo,omitempty"`
	Actions     []respondDocAction `json:"actions"`
	DurationMs  float64            `json:"durationMs,omitempty"`
}

type respondDocEvent struct {
	ID           string    `json:"eventId,omitempty"`
	Name         string    `json:"eventName"`
	Source       string    `json:"eventSource"`
	Region       string    `json:"region"`
	Account      string    `json:"account,omitempty"`
	Time         time.Time `json:"time,omitzero"`
	ErrorCode    string    `json:"errorCode,omitempty"`
	ErrorMessage string    `json:"errorMessage,omitempty"`
	// EnvelopeID is the EventBridge event id, when an envelope was read.
	EnvelopeID string `json:"envelopeId,omitempty"`
}

type respondDocClassification struct {
	Known      bool                `json:"known"`
	Blinds     string              `json:"blinds,omitempty"`
	Succeeded  bool                `json:"succeeded"`
	Severity   string              `json:"severity"`
	Tamper     bool                `json:"tamper"`
	Self       bool                `json:"self"`
	Quiet      bool                `json:"quiet"`
	Actor      respond.Actor       `json:"actor"`
	Target     respondDocTarget    `json:"target"`
	Exemptions []respond.Exemption `json:"exemptions"`
	Changes    []respond.Change    `json:"changes"`
}

type respondDocTarget struct {
	Kind     string `json:"kind,omitempty"`
	ID       string `json:"id"`
	Region   string `json:"region"`
	Baseline bool   `json:"baseline"`
}

// respondDocAction is a planned action (the engine's own JSON fields) with
// its outcome.
type respondDocAction struct {
	N int `json:"n"`
	respond.Action
	Status     respond.Status `json:"status"`
	Detail     string         `json:"detail,omitempty"`
	Error      string         `json:"error,omitempty"`
	DurationMs float64        `json:"durationMs,omitempty"`
}

func newRespondDoc(source string, res respondResult) respondDoc {
	rep := res.report
	c := rep.Plan.Classification
	ev := rep.Event
	rec := ev.Record
	account := rec.RecipientAccountID
	if account == "" {
		account = ev.Account
	}
	d := respondDoc{
		Schema: RespondSchema, Input: source, Mode: rep.Mode, Skipped: res.skipped, NothingToDo: res.quiet,
		Event: &respondDocEvent{ID: rec.EventID, Name: rec.EventName, Source: rec.EventSource, Region: rec.AWSRegion,
			Account: account, Time: rec.EventTime, ErrorCode: rec.ErrorCode, ErrorMessage: rec.ErrorMessage, EnvelopeID: ev.ID},
		Classification: &respondDocClassification{
			Known: c.Known, Succeeded: c.Succeeded, Severity: c.Severity.String(), Tamper: c.Tamper(),
			Self: c.Self, Quiet: rep.Plan.Quiet, Actor: c.Actor,
			Target:     respondDocTarget{Kind: string(c.Target.Kind), ID: c.Target.ID, Region: c.Target.Region, Baseline: c.Target.Baseline != nil},
			Exemptions: append([]respond.Exemption{}, c.Exemptions...),
			Changes:    append([]respond.Change{}, c.Changes...),
		},
		Actions:    []respondDocAction{},
		DurationMs: ms(rep.Duration),
	}
	if res.skipped != "" {
		d.Classification = nil
		return d
	}
	if c.Known {
		d.Classification.Blinds = c.Entry.Blinds
	}
	for i, o := range rep.Outcomes {
		d.Actions = append(d.Actions, respondDocAction{N: i + 1, Action: o.Action, Status: o.Status, Detail: o.Detail, Error: o.Error, DurationMs: ms(o.Duration)})
	}
	return d
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// summary prints the counts: after the events with text, on stderr with
// JSON (stdout holds only documents).
func (w *respondWriter) summary(n respondCounts) error {
	out := w.e.stdout
	if w.json {
		out = w.e.stderr
	} else if w.n > 0 {
		fmt.Fprintln(out)
	}
	if _, err := fmt.Fprintln(out, n); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}
