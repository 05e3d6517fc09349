package catalog

import (
	"fmt"
	"strings"
)

// Markdown renders the catalog as the documentation's table (docs/catalog.md
// is generated from it; a test keeps the file in step with the table).
func Markdown() string {
	var b strings.Builder
	b.WriteString("# What trailguard watches and how it answers\n\n")
	b.WriteString("Generated from `internal/catalog` (`go test ./internal/catalog -update` rewrites this file).\n")
	b.WriteString("The same table produces the EventBridge patterns and drives the responder's classifier.\n\n")
	b.WriteString("Containment applies to successful calls by principals that are not allow-listed, not trailguard itself and not a CloudFormation deployment; failed calls are alerted at their failed severity and change nothing.\n\n")
	b.WriteString("| source | event | severity (failed) | why it matters | trailguard's answer | contains actor |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	for _, e := range entries {
		names := "`" + e.Name + "`"
		if len(e.LoggedAs) > 0 {
			names += " (logged as `" + strings.Join(e.LoggedAs, "`, `") + "`)"
		}
		answer := e.Undo
		if e.Response == Alert {
			answer = "alert only — " + e.Undo
		}
		fmt.Fprintf(&b, "| %s | %s | %s (%s) | %s | %s | %s |\n",
			strings.TrimSuffix(e.Source, ".amazonaws.com"), names, e.Severity, e.FailedSeverity,
			e.Blinds, answer, yesNo(e.Contain))
	}
	b.WriteString("\n## EventBridge rules\n\n")
	for _, r := range Rules() {
		where := "every protected region"
		if r.GlobalOnly {
			where = "us-east-1 only (the service's events are delivered there)"
		}
		fmt.Fprintf(&b, "- `%s` (%s):\n\n  ```json\n  %s\n  ```\n\n", r.ID, where, r.Pattern.JSON())
	}
	return b.String()
}

func yesNo(v bool) string {
	if v {
		return "yes"
	}
	return "no"
}
