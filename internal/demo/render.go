package demo

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// WriteText prints a result as a readable timeline, the alert as the
// subscriber received it, and the verdict.
func WriteText(w io.Writer, res Result) error {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }

	p("trailguard demo: %s (scenario %s)", res.Title, res.Scenario)
	p("Offline: an embedded AWS emulator; the responder is the Lambda code path, served through the Lambda runtime API.")
	p("")
	p("TIMELINE (ms since start)")
	for _, s := range res.Steps {
		p("%8.1f  %-8s %s", s.Ms, s.Phase, s.Text)
		for _, d := range s.Detail {
			p("%8s  %-8s   %s", "", "", d)
		}
	}

	p("")
	if a := res.Alert; a != nil {
		d := a.Document
		p("ALERT (as the topic's subscriber received it)")
		p("  Subject:  %s", a.Subject)
		p("  Summary:  %s", d.Summary)
		p("  Who:      %s (%s)%s", d.Actor.ARN, d.Actor.Type, keySuffix(d.Actor.AccessKeyID))
		what := fmt.Sprintf("%s (%s) in %s, account %s, target %s", d.Event.Name, d.Event.Source, d.Event.Region, d.Event.Account, d.Target.ID)
		if d.Event.ErrorCode != "" {
			what += ", failed with " + d.Event.ErrorCode
		}
		p("  What:     %s", what)
		p("  Done (mode %s):", d.Mode)
		for i, x := range d.Actions {
			line := fmt.Sprintf("    %d. [%s] %s: %s %s", i+1, x.Status, x.Step, x.Kind, x.Target)
			if x.Detail != "" {
				line += " (" + x.Detail + ")"
			}
			if x.Error != "" {
				line += " error: " + x.Error
			}
			p("%s", strings.TrimRight(line, " "))
		}
		if len(d.ToDo) > 0 {
			p("  To do:")
			for _, t := range d.ToDo {
				p("    - %s", t)
			}
		}
		p("  Console:  %s", d.ConsoleURL)
		p("  Raw event: %d bytes attached (event %s)", len(d.RawEvent), d.Event.ID)
	} else {
		p("ALERT: none received")
	}

	p("")
	verdict := "PASS: the response really happened"
	if !res.OK {
		verdict = "FAIL: the response did not happen as it must"
	}
	p("VERDICT: %s (%.0f ms)", verdict, res.TotalMs)
	for _, c := range res.Checks {
		mark := "ok  "
		if !c.OK {
			mark = "FAIL"
		}
		line := fmt.Sprintf("  [%s] %s", mark, c.Name)
		if c.Detail != "" {
			line += ": " + c.Detail
		}
		p("%s", line)
	}
	_, err := io.WriteString(w, b.String())
	if err != nil {
		return fmt.Errorf("write demo output: %w", err)
	}
	return nil
}

func keySuffix(key string) string {
	if key == "" {
		return ""
	}
	return ", access key " + key
}

// WriteJSON prints results as one JSON document: a list of results.
func WriteJSON(w io.Writer, results []Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(results); err != nil {
		return fmt.Errorf("write demo json: %w", err)
	}
	return nil
}
