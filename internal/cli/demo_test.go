package cli

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/trailguard/trailguard/internal/demo"
)

// TestDemoJSON runs the built command line as a user does: the demo starts
// the program itself, through its hidden lambda-responder command, as the
// responder function; --json prints the results as data and the exit code
// tells whether the response happened.
func TestDemoJSON(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "trailguard")
	if out, err := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "../../cmd/trailguard").CombinedOutput(); err != nil {
		t.Fatalf("build trailguard: %v\n%s", err, out)
	}

	cmd := exec.CommandContext(t.Context(), bin, "demo", "--scenario", "failed-attempt", "--json")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("demo --json: %v\n%s", err, out)
	}
	var results []demo.Result
	if err := json.Unmarshal(out, &results); err != nil {
		t.Fatalf("stdout is not a JSON list of results: %v\n%s", err, out)
	}
	if len(results) != 1 || results[0].Scenario != demo.FailedAttempt || !results[0].OK || len(results[0].Steps) == 0 || len(results[0].Checks) == 0 {
		t.Errorf("results = %+v", results)
	}
	if results[0].Alert == nil || results[0].Alert.Document.Event.ErrorCode != "AccessDenied" {
		t.Errorf("alert = %+v", results[0].Alert)
	}

	if err := exec.CommandContext(t.Context(), bin, "demo", "--scenario", "steal-keys").Run(); err == nil {
		t.Error("unknown scenario accepted")
	} else if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != ExitUsage {
		t.Errorf("unknown scenario: %v, want exit %d", err, ExitUsage)
	}
}
