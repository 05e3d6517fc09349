// Package worldtest is testworld.ResponderWorld for tests: the e2e and
// reliability packages deploy the real responder on the local emulator the
// same way, and a failed step fails the test instead of returning an error.
// Only tests import it (it imports testing); the perf program uses
// testworld.ResponderWorld directly.
package worldtest

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/trailguard/trailguard/internal/testworld"
)

// RunWithResponder is a TestMain body: it builds the responder into a
// temporary directory, sets *bootstrap to it, runs more (if not nil) with
// that directory for further builds, then the tests. name prefixes the
// messages.
func RunWithResponder(m *testing.M, name string, bootstrap *string, more func(ctx context.Context, dir string) error) int {
	dir, err := os.MkdirTemp("", "trailguard-"+name+"-")
	if err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		return 1
	}
	defer os.RemoveAll(dir)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	if *bootstrap, err = testworld.BuildResponder(ctx, dir); err != nil {
		fmt.Fprintln(os.Stderr, name+": build responder:", err)
		return 1
	}
	if more != nil {
		if err := more(ctx, dir); err != nil {
			fmt.Fprintln(os.Stderr, name+":", err)
			return 1
		}
	}
	return m.Run()
}

// World is one test's ResponderWorld, with the test's context and clients
// for the tests' own calls. Its methods of the same names as
// ResponderWorld's fail the test rather than return an error.
type World struct {
	*testworld.ResponderWorld
	T   *testing.T
	Ctx context.Context

	CloudTrail *cloudtrail.Client
	IAM        *iam.Client
}

// Start runs an emulator for one test with opts and closes it after; the
// context ends with the test or after two minutes.
func Start(t *testing.T, opts ...testworld.Option) (*testworld.Server, context.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	srv, err := testworld.Start(ctx, opts...)
	if err != nil {
		t.Fatalf("start emulator: %v", err)
	}
	t.Cleanup(srv.Close)
	return srv, ctx
}

// Target creates the target on srv (testworld.NewResponderWorld, alerts in
// SNS's envelope).
func Target(t *testing.T, srv *testworld.Server, ctx context.Context, suffix string) *World {
	t.Helper()
	rw, err := testworld.NewResponderWorld(ctx, srv, Fresh(suffix), false)
	if err != nil {
		t.Fatal(err)
	}
	return &World{ResponderWorld: rw, T: t, Ctx: ctx, CloudTrail: cloudtrail.NewFromConfig(srv.Config(ctx)), IAM: iam.NewFromConfig(srv.Config(ctx))}
}

var (
	freshMu sync.Mutex
	used    = map[string]int{}
)

// Fresh returns suffix the first time it is asked for in this process and
// suffix-2, suffix-3, ... after: kumo's state lives as long as the process,
// so a test run again (go test -count=N) must not meet the names, queues
// and messages of its previous run.
func Fresh(suffix string) string {
	freshMu.Lock()
	defer freshMu.Unlock()
	used[suffix]++
	if n := used[suffix]; n > 1 {
		return fmt.Sprintf("%s-%d", suffix, n)
	}
	return suffix
}

// Deploy starts an emulator with opts, creates the target and deploys the
// protection served by bootstrap. After the test the rule is removed and
// the function stopped (before the Server closes), and the function's
// output is logged if the test failed.
func Deploy(t *testing.T, bootstrap, suffix string, opts ...testworld.Option) *World {
	t.Helper()
	srv, ctx := Start(t, opts...)
	w := Target(t, srv, ctx, suffix)
	t.Cleanup(func() {
		w.Teardown()
		if t.Failed() && w.Fn != nil {
			out := w.Fn.Output()
			if len(out) > 20000 {
				out = "…" + out[len(out)-20000:]
			}
			t.Logf("responder output:\n%s", out)
		}
	})
	if err := w.ResponderWorld.Deploy(ctx, bootstrap); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *World) check(err error) {
	w.T.Helper()
	if err != nil {
		w.T.Fatal(err)
	}
}

// Event is ResponderWorld.Event.
func (w *World) Event(sample string, edit func(env map[string]any)) (raw []byte, eventID string) {
	w.T.Helper()
	raw, eventID, err := w.ResponderWorld.Event(sample, edit)
	w.check(err)
	return raw, eventID
}

// Put sends an event on the emulator's default bus.
func (w *World) Put(raw []byte) {
	w.T.Helper()
	w.check(w.Srv.PutCloudTrailEvent(w.Ctx, raw))
}

// Handled is ResponderWorld.Handled.
func (w *World) Handled(eventID string) []map[string]any {
	w.T.Helper()
	lines, err := w.ResponderWorld.Handled(eventID)
	w.check(err)
	return lines
}

// WaitFor is ResponderWorld.WaitFor; what names the awaited state.
func (w *World) WaitFor(d time.Duration, what string, cond func() bool) {
	w.T.Helper()
	if err := w.ResponderWorld.WaitFor(d, cond); err != nil {
		w.T.Fatalf("waiting for %s: %v", what, err)
	}
}

// Logging is ResponderWorld.Logging.
func (w *World) Logging() bool {
	w.T.Helper()
	on, err := w.ResponderWorld.Logging(w.Ctx)
	w.check(err)
	return on
}

// StopLogging is ResponderWorld.StopLogging.
func (w *World) StopLogging() {
	w.T.Helper()
	w.check(w.ResponderWorld.StopLogging(w.Ctx))
}

// AttachedPolicies is ResponderWorld.AttachedPolicies.
func (w *World) AttachedPolicies() []string {
	w.T.Helper()
	arns, err := w.ResponderWorld.AttachedPolicies(w.Ctx)
	w.check(err)
	return arns
}

// KeyStatus is ResponderWorld.KeyStatus.
func (w *World) KeyStatus() iamtypes.StatusType {
	w.T.Helper()
	st, err := w.ResponderWorld.KeyStatus(w.Ctx)
	w.check(err)
	return st
}

// Notifications is ResponderWorld.Notifications.
func (w *World) Notifications(want int, wait time.Duration) []testworld.Notification {
	w.T.Helper()
	ns, err := w.ResponderWorld.Notifications(w.Ctx, want, wait)
	w.check(err)
	return ns
}
