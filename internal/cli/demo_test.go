package cli

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/trailguard/trailguard/internal/demo"
)

// timestamp is the timeline's time column, whose values vary run to run.
var timestamp = regexp.MustCompile(`(?m)^ *\d+\.\d  `)

// TestDemo is the demo's one real run, as a user runs it: the built
// program starts itself, through its hidden lambda-responder command, as
// the responder function, and plays stop-logging on the test world. --json
// prints the result as data, the exit code tells whether the response
// happened, and the timeline the program prints is that result rendered
// (demo.WriteText), whose shape is pinned here: the phases in order, the
// state lines, the alert's parts and the verdict; not the millisecond
// values, keys or ids. The scenarios' outcomes are the e2e tests'; the
// verdict of every scenario is checked in internal/demo.
func TestDemo(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "trailguard")
	if out, err := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "../../cmd/trailguard").CombinedOutput(); err != nil {
		t.Fatalf("build trailguard: %v\n%s", err, out)
	}

	out, err := exec.CommandContext(t.Context(), bin, "demo", "--json").Output()
	if err != nil {
		t.Fatalf("demo --json: %v\n%s", err, out)
	}
	var results []demo.Result
	if err := json.Unmarshal(out, &results); err != nil {
		t.Fatalf("stdout is not a JSON list of results: %v\n%s", err, out)
	}
	if len(results) != 1 || results[0].Scenario != demo.StopLogging {
		t.Fatalf("results = %+v, want the default scenario's", results)
	}
	res := results[0]
	var text strings.Builder
	if err := demo.WriteText(&text, res); err != nil {
		t.Fatal(err)
	}
	if !res.OK || len(res.Checks) == 0 {
		t.Errorf("verdict not PASS:\n%s", text.String())
	}
	if b := res.Before; !b.Logging || len(b.UserPolicies) != 0 || b.KeyStatus != "Active" {
		t.Errorf("world not as deployed before the attack: %+v", b)
	}
	if res.Alert == nil || res.Alert.Document.Event.ID != res.EventID {
		t.Errorf("alert = %+v, want one about %s", res.Alert, res.EventID)
	}

	var phases []string
	for _, s := range res.Steps {
		if len(phases) == 0 || phases[len(phases)-1] != string(s.Phase) {
			phases = append(phases, string(s.Phase))
		}
	}
	want := []string{"setup", "state", "attack", "state", "detect", "respond", "notify", "state"}
	if !slices.Equal(phases, want) {
		t.Errorf("phases = %v, want %v", phases, want)
	}
	for i := 1; i < len(res.Steps); i++ {
		if res.Steps[i].Ms < res.Steps[i-1].Ms {
			t.Errorf("step %d at %.1f ms is before step %d at %.1f ms", i, res.Steps[i].Ms, i-1, res.Steps[i-1].Ms)
		}
	}
	printed := text.String()
	if n := len(timestamp.FindAllString(printed, -1)); n != len(res.Steps) {
		t.Errorf("%d timestamped lines, want one per step (%d):\n%s", n, len(res.Steps), printed)
	}
	for _, s := range []string{
		"trailguard demo: an admin user stops the trail (scenario stop-logging)\n",
		"\nTIMELINE (ms since start)\n",
		"setup    trail management-trail logging to bucket",
		"attack   mallory (IAM user, key ",
		"trail management-trail: logging OFF",
		"detect   rule trailguard-cloudtrail matches it",
		"respond  responder handled it in ",
		"done    restore: start-logging ",
		"done    contain: attach-user-policy mallory",
		"done    contain: deactivate-access-key ",
		"notify   the owner's subscriber receives the alert: ",
		"\nALERT (as the topic's subscriber received it)\n  subject     CRITICAL StopLogging by mallory",
		"\n  actor       mallory (IAMUser) arn:aws:iam::123456789012:user/mallory",
		"\n  response    enforce\n    1. [done] restore: start-logging",
		"\n  console     https://us-east-1.console.aws.amazon.com/cloudtrail/home",
		"\nVERDICT: PASS: the response really happened (",
		"  [ok  ] the trail logs again\n",
	} {
		if !strings.Contains(printed, s) {
			t.Errorf("output lacks %q:\n%s", s, printed)
		}
	}

	if err := exec.CommandContext(t.Context(), bin, "demo", "--scenario", "steal-keys").Run(); err == nil {
		t.Error("unknown scenario accepted")
	} else if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != ExitUsage {
		t.Errorf("unknown scenario: %v, want exit %d", err, ExitUsage)
	}
}
