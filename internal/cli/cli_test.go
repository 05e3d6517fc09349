package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/trailguard/trailguard/internal/posture"
	"github.com/trailguard/trailguard/internal/testworld"
)

// testEnv runs commands with buffers; terminal says whether stdout and
// stderr claim to be terminals.
func testEnv(terminal bool, vars map[string]string) (*env, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return &env{
		stdout: &out, stderr: &errb,
		getenv:     func(k string) string { return vars[k] },
		isTerminal: func(io.Writer) bool { return terminal },
		newClients: posture.NewClients,
	}, &out, &errb
}

// useEmulator points the SDK's standard environment at a fresh emulator,
// exactly as a user would with AWS_ENDPOINT_URL, and returns it.
func useEmulator(t *testing.T) *testworld.Server {
	t.Helper()
	srv, err := testworld.Start(t.Context())
	if err != nil {
		t.Fatalf("start emulator: %v", err)
	}
	t.Cleanup(srv.Close)
	for _, kv := range srv.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	// Keep the machine's own profiles out of the test.
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	t.Setenv("AWS_PROFILE", "")
	return srv
}

func TestCheckHonoursAWSEndpointURL(t *testing.T) {
	srv := useEmulator(t)
	if _, err := srv.CreateLoggingTrail(t.Context(), "cli-endpoint", "cli-endpoint-logs"); err != nil {
		t.Fatal(err)
	}
	e, out, errb := testEnv(false, nil)
	code := run(t.Context(), []string{"check", "--output", "json", "--fail-on", "critical"}, e)

	var rep posture.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("exit %d, stdout is not a JSON report: %v\n%s\nstderr: %s", code, err, out, errb)
	}
	// The trail exists only in the emulator: finding it proves every call
	// went to AWS_ENDPOINT_URL with the environment's credentials and region.
	found := map[string]posture.Status{}
	for _, f := range rep.Findings {
		if f.Resource == "cli-endpoint" || f.Resource == "cli-endpoint-logs" {
			found[f.ID] = f.Status
		}
	}
	for id, want := range map[string]posture.Status{
		"trail.logging": posture.Pass, "trail.multi-region": posture.Pass,
		"trail.management-events":    posture.Pass, // the emulator's GetEventSelectors
		"bucket.versioning":          posture.Fail, // S3 reached with the endpoint as is
		"bucket.public-access-block": posture.Fail,
	} {
		if found[id] != want {
			t.Errorf("%s: %q, want %q", id, found[id], want)
		}
	}
	if rep.RegionSource != "ec2:DescribeRegions" || strings.Join(rep.Regions, ",") != testworld.Region {
		t.Errorf("regions %v from %s", rep.Regions, rep.RegionSource)
	}
	// The emulator's bucket has no public access block: critical, exit 1.
	if code != ExitFindings {
		t.Errorf("exit %d, want %d; stderr: %s", code, ExitFindings, errb)
	}
	if errb.Len() != 0 {
		t.Errorf("stderr not empty without a terminal: %q", errb)
	}
}

func TestExitCodes(t *testing.T) {
	useEmulator(t)
	for _, tc := range []struct {
		args []string
		code int
		out  string // substring of stdout+stderr
	}{
		{[]string{"--help"}, ExitOK, "Exit codes:"},
		{[]string{"check", "--help"}, ExitOK, "--min-retention-days"},
		{[]string{"check", "--fail-on", "severe"}, ExitUsage, `unknown severity "severe"`},
		{[]string{"check", "--output", "yaml"}, ExitUsage, "want table or json"},
		{[]string{"check", "--concurrency", "0"}, ExitUsage, "want at least 1"},
		{[]string{"check", "--nope"}, ExitUsage, "unknown flag"},
		{[]string{"check", "extra"}, ExitUsage, "unknown command"},
		// An empty account: no trail logging, a critical failure.
		{[]string{"check", "--fail-on", "info"}, ExitFindings, "fail on info"},
	} {
		e, out, errb := testEnv(false, nil)
		code := run(t.Context(), tc.args, e)
		all := out.String() + errb.String()
		if code != tc.code || !strings.Contains(all, tc.out) {
			t.Errorf("%v: exit %d, want %d with %q in:\n%s", tc.args, code, tc.code, tc.out, all)
		}
	}
}

func TestColourOnlyOnATerminalWithoutNoColor(t *testing.T) {
	useEmulator(t)
	for _, tc := range []struct {
		terminal bool
		noColor  string
		want     bool
	}{
		{false, "", false},
		{true, "", true},
		{true, "1", false},
	} {
		e, out, errb := testEnv(tc.terminal, map[string]string{"NO_COLOR": tc.noColor})
		run(t.Context(), []string{"check"}, e)
		if got := strings.Contains(out.String(), "\x1b["); got != tc.want {
			t.Errorf("terminal=%v NO_COLOR=%q: colour %v, want %v", tc.terminal, tc.noColor, got, tc.want)
		}
		// Progress goes to stderr, and only on a terminal.
		if got := strings.Contains(errb.String(), "checking CloudTrail posture"); got != tc.terminal {
			t.Errorf("terminal=%v: progress on stderr %v", tc.terminal, got)
		}
	}
}

// The Lambda must stay small and safe: no CDK, no CLI framework, nothing
// of the test world (kumo, internal/testworld and what is beneath it).
func TestResponderDoesNotLinkCLIOrEmulator(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.CommandContext(t.Context(), "go", "list", "-deps", "../../cmd/responder").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{"github.com/aws/aws-cdk-go", "github.com/aws/jsii-runtime-go", "github.com/aws/constructs-go",
			"github.com/spf13/cobra", "github.com/sivchari/kumo", "github.com/trailguard/trailguard/internal/testworld", "github.com/trailguard/trailguard/internal/cli"} {
			if dep == banned || strings.HasPrefix(dep, banned+"/") {
				t.Errorf("cmd/responder depends on %s", dep)
			}
		}
	}
}
