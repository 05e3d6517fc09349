package notify_test

import (
	"encoding/json"
	"flag"
	"strings"
	"testing"
	"time"

	goldenfile "github.com/trailguard/trailguard/internal/golden"
	"github.com/trailguard/trailguard/internal/notify"
	"github.com/trailguard/trailguard/internal/respond"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, name, got, *update)
}

func indented(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// The alert people and pipelines read, pinned whole in each of its
// renderings: the email text, the trailguard.alert/v1 document, the chat
// notification and the terminal view, for a contained IAM user, a role
// whose containment failed, and a failed attempt.
func TestAlertGolden(t *testing.T) {
	for _, tc := range []struct {
		name   string
		sample string
		status respond.Status
	}{
		{"stoplogging-iamuser", "stoplogging-iamuser", respond.StatusDone},
		{"stoplogging-assumedrole-failed", "stoplogging-assumedrole", respond.StatusFailed},
		{"deletetrail-failed", "deletetrail-failed", respond.StatusDone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := report(t, tc.sample, tc.status)
			r.AccountAlias = "example-prod"
			golden(t, tc.name+".txt.golden", []byte(notify.Subject(r)+"\n\n"+notify.Text(r)))
			golden(t, tc.name+".json.golden", indented(t, notify.Document(r)))
			golden(t, tc.name+".chat.golden", indented(t, notify.Chat(r)))
			var view strings.Builder
			notify.WriteView(&view, notify.Document(r), notify.View{Alert: true})
			golden(t, tc.name+".view.golden", []byte(view.String()))
		})
	}
}

// The document's schema name is the contract's version: fields are only
// added within it.
func TestAlertSchemaName(t *testing.T) {
	if d := notify.Document(report(t, "stoplogging-iamuser", respond.StatusDone)); d.Schema != "trailguard.alert/v1" {
		t.Errorf("schema %q", d.Schema)
	}
}

// The drift alert reconciliation sends, pinned whole: subject, text and the
// document machine subscribers receive.
func TestDriftAlertGolden(t *testing.T) {
	start := now
	r := respond.ReconcileReport{
		Started: start, Duration: 840 * time.Millisecond, Mode: "enforce",
		Checked: []string{"trail management-trail", "bucket trailguard-logs-123456789012", "rule trailguard-cloudtrail"},
		Drifts: []respond.Drift{
			{Resource: "trail management-trail", Field: "logging", Want: "on", Got: "off", New: true,
				Actions: []respond.Action{{Step: respond.StepRestore, Kind: respond.KindStartLogging, Target: "management-trail", Region: "us-east-1", Reason: "logging was stopped"}}},
			{Resource: "rule trailguard-cloudtrail", Field: "state", Want: "ENABLED", Got: "DISABLED", New: false,
				Actions: []respond.Action{{Step: respond.StepRestore, Kind: respond.KindEnableRule, Target: "trailguard-cloudtrail", Reason: "trailguard's own rule was disabled"}}},
		},
		Outcomes: []respond.Outcome{
			{Action: respond.Action{Step: respond.StepRestore, Kind: respond.KindStartLogging, Target: "management-trail", Region: "us-east-1", Reason: "logging was stopped"}, Status: respond.StatusDone, Duration: 31 * time.Millisecond},
			{Action: respond.Action{Step: respond.StepRestore, Kind: respond.KindEnableRule, Target: "trailguard-cloudtrail", Reason: "trailguard's own rule was disabled"}, Status: respond.StatusFailed, Error: "AccessDeniedException: not authorized"},
		},
	}
	golden(t, "drift.txt.golden", []byte(notify.DriftSubject(r)+"\n\n"+notify.DriftText(r)))
	golden(t, "drift.json.golden", indented(t, r))
}
