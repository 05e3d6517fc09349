package testworld_test

import (
	"os/exec"
	"testing"

	"github.com/trailguard/trailguard/internal/testworld"
)

// TestStartFunctionArgs checks the arguments reach the process: sh only
// runs the handler when told to by -c; without arguments it would read its
// empty stdin and exit before polling.
func TestStartFunctionArgs(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh:", err)
	}
	srv, ctx := start(t)

	bin, err := testworld.BuildEchoFunction(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}

	role, err := srv.CreateRole(ctx, "echo-args-role")
	if err != nil {
		t.Fatal(err)
	}

	if _, err := srv.CreateFunction(ctx, "echo-args", role, nil); err != nil {
		t.Fatal(err)
	}

	fn, err := srv.StartFunctionArgs(ctx, "echo-args", sh, []string{"-c", `exec "$0"`, bin}, nil)
	if err != nil {
		t.Fatal(err)
	}

	if fn.Exited() {
		t.Errorf("handler exited:\n%s", fn.Output())
	}
}
