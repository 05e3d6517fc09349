package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestInstallFromModulePath installs the command the way the README tells
// users to, by its module path (here from this checkout, offline), into a
// temporary GOBIN, and runs --version: the binary reports the build's
// module version and, in a git clone, the commit it was built from.
func TestInstallFromModulePath(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	gobin := t.TempDir()
	cmd := exec.CommandContext(t.Context(), "go", "install", "github.com/trailguard/trailguard/cmd/trailguard")
	cmd.Env = append(os.Environ(), "GOBIN="+gobin, "GOFLAGS=-buildvcs=auto")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go install: %v\n%s", err, out)
	}
	out, err := exec.CommandContext(t.Context(), filepath.Join(gobin, "trailguard"), "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("trailguard --version: %v\n%s", err, out)
	}
	// The module version: "(devel)", or in a clone the pseudo-version the
	// toolchain derives from the commit (v0.0.0-<time>-<hash>).
	got := string(out)
	if !strings.HasPrefix(got, "trailguard (devel) (") && !strings.HasPrefix(got, "trailguard v") {
		t.Errorf("--version = %q", got)
	}
	// The toolchain stamps the revision only in a plain clone (a .git
	// directory; not in a git worktree, whose .git is a file).
	if fi, err := os.Stat("../../.git"); err == nil && fi.IsDir() {
		head, err := exec.CommandContext(t.Context(), "git", "rev-parse", "HEAD").Output()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(got, "commit "+strings.TrimSpace(string(head))) {
			t.Errorf("--version = %q, want the commit %s", got, head)
		}
	} else {
		t.Logf("not a plain git clone: revision not stamped; --version = %q", got)
	}
}
