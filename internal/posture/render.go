package posture

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// WriteJSON writes the report as indented JSON (the documented schema, see
// docs/cli.md), followed by a newline.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	return nil
}

// TableOptions tune WriteTable.
type TableOptions struct {
	// Color adds ANSI colours; set it only for a terminal without NO_COLOR.
	Color bool
}

const (
	ansiReset  = "\x1b[0m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiBold   = "\x1b[1m"
	ansiDim    = "\x1b[2m"
)

// WriteTable writes the report for people: grouped by region (account-wide
// first), failures first, with what was found, why it matters and how to fix
// it under each failure, and a summary line.
func WriteTable(w io.Writer, r *Report, o TableOptions) error {
	paint := func(code, s string) string {
		if !o.Color || code == "" {
			return s
		}
		return code + s + ansiReset
	}
	idW, resW := 0, 0
	for _, f := range r.Findings {
		idW = max(idW, len(f.ID))
		resW = max(resW, len(f.Resource))
	}
	resW = min(resW, 32)

	var b strings.Builder
	acct := r.Account
	if acct == "" {
		acct = "unknown account"
	} else {
		acct = "account " + acct
	}
	fmt.Fprintf(&b, "trailguard check: %s, %d region(s) (%s), fail on %s and above\n",
		acct, len(r.Regions), r.RegionSource, r.FailOn)

	group := "\x00"
	for _, f := range r.Findings {
		if f.Region != group {
			group = f.Region
			name := f.Region
			if name == "" {
				name = "account"
			}
			fmt.Fprintf(&b, "\n%s\n", paint(ansiBold, name))
		}
		status, color := "PASS", ansiGreen
		switch f.Status {
		case Fail:
			status, color = "FAIL", ansiRed
		case Error:
			status, color = "ERROR", ansiYellow
		}
		res := f.Resource
		if len(res) > resW {
			res = res[:resW-1] + "…"
		}
		fmt.Fprintf(&b, "  %s %-8s  %-*s  %-*s  %s\n",
			paint(color, fmt.Sprintf("%-5s", status)), f.Severity, idW, f.ID, resW, res, f.Title)
		if f.Status == Pass {
			continue
		}
		indent := "        "
		if f.Detail != "" {
			fmt.Fprintf(&b, "%s%s\n", indent, f.Detail)
		}
		fmt.Fprintf(&b, "%s%s %s\n", indent, paint(ansiDim, "why:"), f.Why)
		fmt.Fprintf(&b, "%s%s %s\n", indent, paint(ansiDim, "fix:"), f.Fix)
		if len(f.Controls) > 0 {
			var cs []string
			for _, c := range f.Controls {
				cs = append(cs, c.String())
			}
			fmt.Fprintf(&b, "%s%s %s\n", indent, paint(ansiDim, "controls:"), strings.Join(cs, "; "))
		}
	}

	c := r.Counts
	verdict := paint(ansiGreen, "ok")
	if r.Failing() {
		verdict = paint(ansiRed, fmt.Sprintf("%d at or above %s", c.AtOrAboveThreshold, r.FailOn))
	}
	if r.OnlyFailed {
		if len(r.Findings) == 0 {
			fmt.Fprintf(&b, "\nnothing failed or errored\n")
		}
		fmt.Fprintf(&b, "\n%d findings: %d failed, %d errors, %d passed (not shown); %s\n",
			c.Fail+c.Error+c.Pass, c.Fail, c.Error, c.Pass, verdict)
	} else {
		fmt.Fprintf(&b, "\n%d findings: %d failed, %d errors, %d passed; %s\n",
			c.Fail+c.Error+c.Pass, c.Fail, c.Error, c.Pass, verdict)
	}
	_, err := io.WriteString(w, b.String())
	if err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}
