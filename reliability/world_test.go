// Package reliability pins how the shipped responder behaves when things go
// wrong, measured rather than claimed: AWS throttles or fails an action,
// EventBridge delivers an event more than once, a thousand events arrive at
// once, or the function is deployed with bad settings. Every test runs the
// real bootstrap (built once by TestMain) as a child process under kumo's
// Lambda runtime API, fed by the catalog's EventBridge rule, so retries are
// kumo's asynchronous-invocation retries (two after a function error, with
// backoff), as Lambda's are. kumo has no on-failure destination: an event
// that exhausts its retries is dropped with a log line of kumo's, and the
// reason is in the responder's own log line for each attempt; the tests
// assert both.
//
// The emulator is started with a hook that counts every request reaching it
// by service and operation and never fails one, so the tests can say how
// many AWS calls the responder made. The world is worldtest's (shared
// with the e2e tests and perf). kumo keeps one state per process, so
// each test uses its own resource names and its own Server, one at a time.
package reliability_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailguard/trailguard/internal/testworld"
	"github.com/trailguard/trailguard/internal/testworld/worldtest"
)

// bootstrapBin is the responder, built once by TestMain.
var bootstrapBin string

// kumoLog receives the slog output of the in-process kumo (its async
// dispatcher reports dropped events there).
var kumoLog = &testworld.LockedBuffer{}

func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.NewTextHandler(kumoLog, nil)))
	os.Exit(worldtest.RunWithResponder(m, "reliability", &bootstrapBin, nil))
}

// counter counts the requests reaching the emulator, by "service:Operation"
// (REST calls and the runtime API count under their path's first segment).
type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) hook(r *http.Request) (int, bool) {
	svc, op := testworld.Operation(r)
	key := svc + ":" + op
	if svc == "" {
		key = "unsigned:" + strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 2)[0]
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[key]++
	return 0, false
}

func (c *counter) get(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[key]
}

func (c *counter) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.n))
	for k, v := range c.n {
		out[k] = v
	}
	return out
}

// world is one test's deployment (worldtest.World) and the count of
// the requests that reached its emulator.
type world struct {
	*worldtest.World
	calls *counter
}

// start runs an emulator with a counting hook and creates the target.
func start(t *testing.T, suffix string) world {
	t.Helper()
	calls := &counter{n: map[string]int{}}
	srv, ctx := worldtest.Start(t, testworld.WithFault(calls.hook))
	return world{worldtest.Target(t, srv, ctx, suffix), calls}
}

// deploy starts the target and the protection, with a counting hook.
func deploy(t *testing.T, suffix string) world {
	t.Helper()
	calls := &counter{n: map[string]int{}}
	return world{worldtest.Deploy(t, bootstrapBin, suffix, testworld.WithFault(calls.hook)), calls}
}

// attached counts how often the deny-all policy is attached to the user.
func (w world) attached() int {
	w.T.Helper()
	n := 0
	for _, arn := range w.AttachedPolicies() {
		if arn == w.PolicyARN {
			n++
		}
	}
	return n
}

// alerts receives the SNS notifications on the subscriber queue and returns
// their decoded alert documents' action statuses by action kind.
func (w world) alerts(want int, wait time.Duration) []map[string]string {
	w.T.Helper()
	var out []map[string]string
	for _, n := range w.Notifications(want, wait) {
		var a struct {
			Actions []struct{ Kind, Status string }
		}
		if err := json.Unmarshal([]byte(n.Message), &a); err != nil {
			w.T.Fatalf("alert document: %v\n%s", err, n.Message)
		}
		st := map[string]string{}
		for _, x := range a.Actions {
			st[x.Kind] = x.Status
		}
		out = append(out, st)
	}
	return out
}

// proc reads the child's open file descriptors and threads from /proc.
func proc(t *testing.T, pid int) (fds, threads int) {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join("/proc", strconv.Itoa(pid), "fd"))
	if err != nil {
		t.Fatalf("read fds of %d: %v", pid, err)
	}
	return len(ents), procStatus(t, pid, "Threads")
}

// procStatus returns a numeric field of /proc/<pid>/status (kB for sizes).
func procStatus(t *testing.T, pid int, field string) int {
	t.Helper()
	n, err := testworld.ProcStatus(pid, field)
	if err != nil {
		t.Fatalf("%s of %d: %v", field, pid, err)
	}
	return n
}

func toJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
