package demo

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/trailguard/trailguard/internal/notify"
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
		p("ALERT (as the topic's subscriber received it)")
		p("  %-11s %s", "subject", a.Subject)
		notify.WriteView(&b, a.Document, notify.View{Indent: "  ", Alert: true})
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

// WriteJSON prints results as one JSON document: a list of results.
func WriteJSON(w io.Writer, results []Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(results); err != nil {
		return fmt.Errorf("write demo json: %w", err)
	}
	return nil
}
