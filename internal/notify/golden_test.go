package notify_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailguard/trailguard/internal/notify"
	"github.com/trailguard/trailguard/internal/respond"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (run with -update to accept it):\n%s", path, got)
	}
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
