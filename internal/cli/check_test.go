package cli

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// noAWSEnvironment clears everything the SDK's chain reads, so the test
// sees the machine of a user without AWS set up.
func noAWSEnvironment(t *testing.T) {
	t.Helper()
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_EC2_METADATA_DISABLED", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	t.Setenv("AWS_REGION", "us-east-1")
}

var loopbackPort = regexp.MustCompile(`127\.0\.0\.1:\d+`)

// goldenText compares got (loopback ports masked) with testdata/name.
func goldenText(t *testing.T, name, got string) {
	t.Helper()
	got = loopbackPort.ReplaceAllString(got, "127.0.0.1:PORT")
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run go test ./internal/cli -update): %v", err)
	}
	if got != string(want) {
		t.Errorf("%s differs; run go test ./internal/cli -update and review the diff\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}

// TestCheckWithoutCredentials: no credentials anywhere, and an instance
// metadata endpoint that refuses tokens (as off EC2 behind some proxies),
// which makes the SDK warn "falling back to IMDSv1". The check stops with
// exit 2 and the reason; the SDK's warning does not reach the output, and
// nothing is reported as a finding.
func TestCheckWithoutCredentials(t *testing.T) {
	noAWSEnvironment(t)
	imds := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(imds.Close)
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.URL)
	t.Setenv("AWS_ENDPOINT_URL", "http://"+closedPort(t))

	// The SDK's default logger writes to the process's os.Stderr, not to
	// the command's streams: catch it there.
	procStderr, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stderr
	os.Stderr = procStderr
	e, out, errb := testEnv(false, nil)
	code := run(t.Context(), []string{"check"}, e)
	os.Stderr = saved
	leaked, err := os.ReadFile(procStderr.Name())
	if err != nil {
		t.Fatal(err)
	}
	if len(leaked) > 0 {
		t.Errorf("the SDK wrote to the process's stderr: %q", leaked)
	}
	if code != ExitUsage {
		t.Errorf("exit %d, want %d", code, ExitUsage)
	}
	if out.Len() != 0 {
		t.Errorf("stdout not empty: %q", out)
	}
	for _, bad := range []string{"IMDSv1", "FAIL", "account.trail"} {
		if strings.Contains(errb.String(), bad) {
			t.Errorf("stderr contains %q:\n%s", bad, errb)
		}
	}
	goldenText(t, "check-no-credentials.golden", errb.String())
}

// TestCheckUnreachableEndpoint: valid-looking credentials, an endpoint
// nothing listens on. The real error is named; no finding, no advice to
// grant permissions.
func TestCheckUnreachableEndpoint(t *testing.T) {
	noAWSEnvironment(t)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_ENDPOINT_URL", "http://"+closedPort(t))

	for _, args := range [][]string{{"check"}, {"check", "--output", "json"}, {"check", "--regions", "eu-west-1"}} {
		e, out, errb := testEnv(false, nil)
		code := run(t.Context(), args, e)
		if code != ExitUsage || out.Len() != 0 {
			t.Errorf("%v: exit %d, stdout %q; want %d and nothing", args, code, out, ExitUsage)
		}
		if strings.Contains(errb.String(), "DescribeRegions") || !strings.Contains(errb.String(), "connection refused") {
			t.Errorf("%v: stderr %q", args, errb)
		}
		if len(args) == 1 {
			goldenText(t, "check-unreachable.golden", errb.String())
		}
	}
}

// TestCheckRegionNames: names that are not regions, or not enabled for
// the account, stop the check before anything is read.
func TestCheckRegionNames(t *testing.T) {
	useEmulator(t)
	var all bytes.Buffer
	for _, tc := range []struct {
		regions string
		code    int
		want    string
	}{
		{"us-east-9", ExitUsage, "unknown region us-east-9; the account's regions are: af-south-1,"},
		{"us-east-1,useast1", ExitUsage, "useast1: not a region name"},
		{"eu-west-1", ExitUsage, "eu-west-1 not enabled for this account (opt-in region); enabled regions: us-east-1"},
		{"us-east-1", ExitFindings, "trailguard check: account 000000000000, 1 region(s) (flag)"},
	} {
		e, out, errb := testEnv(false, nil)
		code := run(t.Context(), []string{"check", "--regions", tc.regions}, e)
		got := out.String() + errb.String()
		if code != tc.code || !strings.Contains(got, tc.want) {
			t.Errorf("--regions %s: exit %d, want %d with %q in:\n%s", tc.regions, code, tc.code, tc.want, got)
		}
		if tc.code == ExitUsage {
			all.WriteString("$ trailguard check --regions " + tc.regions + "\n" + got)
		}
	}
	goldenText(t, "check-regions.golden", all.String())
}
