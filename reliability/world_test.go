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
// many AWS calls the responder made. kumo keeps one state per process, so
// each test uses its own resource names and its own Server, one at a time.
package reliability_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/trailguard/trailguard/internal/catalog"
	"github.com/trailguard/trailguard/internal/emulator"
	"github.com/trailguard/trailguard/internal/samples"
	"github.com/trailguard/trailguard/internal/trail"
)

// bootstrapBin is the responder, built once by TestMain.
var bootstrapBin string

// kumoLog receives the slog output of the in-process kumo (its async
// dispatcher reports dropped events there).
var kumoLog = &lockedBuffer{}

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "trailguard-reliability-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "reliability:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if bootstrapBin, err = emulator.BuildResponder(ctx, dir); err != nil {
		fmt.Fprintln(os.Stderr, "reliability: build responder:", err)
		return 1
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(kumoLog, nil)))
	return m.Run()
}

// lockedBuffer collects output written from several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// counter counts the requests reaching the emulator, by "service:Operation"
// (REST calls and the runtime API count under their path's first segment).
type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) hook(r *http.Request) (int, bool) {
	svc, op := emulator.Operation(r)
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

// world is one test's deployment: the target (trail, user with key, role,
// topic with an SQS subscriber) and the protection (function served by the
// real bootstrap, the catalog's CloudTrail rule targeting it).
type world struct {
	t     *testing.T
	ctx   context.Context
	srv   *emulator.Server
	calls *counter

	Trail, Bucket, User, Role, Responder string
	TrailARN, KeyID, PolicyARN           string
	TopicARN, QueueURL, FunctionARN      string
	Fn                                   *emulator.Function

	ct  *cloudtrail.Client
	iam *iam.Client
}

// start runs an emulator with a counting hook and creates the target.
func start(t *testing.T, suffix string) *world {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	calls := &counter{n: map[string]int{}}
	srv, err := emulator.Start(ctx, emulator.WithFault(calls.hook))
	if err != nil {
		t.Fatalf("start emulator: %v", err)
	}
	t.Cleanup(srv.Close)
	w := &world{
		t: t, ctx: ctx, srv: srv, calls: calls,
		Trail: "management-trail-" + suffix, Bucket: "trailguard-logs-" + suffix,
		User: "mallory-" + suffix, Role: "ci-deployer-" + suffix, Responder: "trailguard-responder-" + suffix,
		ct: cloudtrail.NewFromConfig(srv.Config(ctx)), iam: iam.NewFromConfig(srv.Config(ctx)),
	}
	if w.TrailARN, err = srv.CreateLoggingTrail(ctx, w.Trail, w.Bucket); err != nil {
		t.Fatal(err)
	}
	if _, w.KeyID, err = srv.CreateUserWithKey(ctx, w.User); err != nil {
		t.Fatal(err)
	}
	if _, err = srv.CreateRole(ctx, w.Role); err != nil {
		t.Fatal(err)
	}
	if w.PolicyARN, err = srv.CreateDenyAllPolicy(ctx, "deny-all-"+suffix); err != nil {
		t.Fatal(err)
	}
	if w.TopicARN, w.QueueURL, err = srv.CreateTopicWithQueue(ctx, "alerts-"+suffix, false); err != nil {
		t.Fatal(err)
	}
	return w
}

// settings is the responder's TRAILGUARD_* environment, as the stack sets it.
func (w *world) settings(selfRoleARN string) []string {
	yes := true
	trails, err := json.Marshal([]trail.Config{{
		Name: w.Trail, S3BucketName: w.Bucket,
		IsMultiRegionTrail: &yes, IncludeGlobalServiceEvents: &yes, EnableLogFileValidation: &yes,
		EventSelectors: []trail.EventSelector{{ReadWriteType: "All", IncludeManagementEvents: &yes}},
	}})
	if err != nil {
		w.t.Fatal(err)
	}
	return []string{
		"AWS_LAMBDA_LOG_FORMAT=JSON",
		"TRAILGUARD_TOPIC_ARN=" + w.TopicARN,
		"TRAILGUARD_MODE=enforce",
		"TRAILGUARD_QUARANTINE_POLICY_ARN=" + w.PolicyARN,
		"TRAILGUARD_SELF_ROLE_ARN=" + selfRoleARN,
		"TRAILGUARD_TRAILS=" + string(trails),
	}
}

// deploy starts the target and the protection.
func deploy(t *testing.T, suffix string) *world {
	t.Helper()
	w := start(t, suffix)
	self, err := w.srv.CreateRole(w.ctx, w.Responder+"-role")
	if err != nil {
		t.Fatal(err)
	}
	if w.FunctionARN, err = w.srv.CreateFunction(w.ctx, w.Responder, self, nil); err != nil {
		t.Fatal(err)
	}
	if w.Fn, err = w.srv.StartFunction(w.ctx, w.Responder, bootstrapBin, w.settings(self)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = w.Fn.Stop()
		if t.Failed() {
			out := w.Fn.Output()
			if len(out) > 20000 {
				out = "…" + out[len(out)-20000:]
			}
			t.Logf("responder output:\n%s", out)
		}
	})
	pattern := ""
	for _, r := range catalog.Rules() {
		if r.ID == "cloudtrail" {
			pattern = r.Pattern.JSON()
		}
	}
	if pattern == "" {
		t.Fatal("catalog has no cloudtrail rule")
	}
	rule := w.Responder + "-cloudtrail"
	if _, err := w.srv.CreateRule(w.ctx, rule, pattern, w.FunctionARN); err != nil {
		t.Fatal(err)
	}
	// kumo's rules outlive the Server: remove this one before srv.Close.
	t.Cleanup(func() {
		eb := eventbridge.NewFromConfig(w.srv.Config(context.Background()))
		_, _ = eb.RemoveTargets(context.Background(), &eventbridge.RemoveTargetsInput{Rule: aws.String(rule), Ids: []string{"target"}})
		_, _ = eb.DeleteRule(context.Background(), &eventbridge.DeleteRuleInput{Name: aws.String(rule)})
	})
	return w
}

var idSeq atomic.Int64

func newID() string {
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", time.Now().UnixNano()&0xffffffff, idSeq.Add(1))
}

// event returns the named sample as AWS would deliver it in this world:
// this world's names and key, fresh ids, the current time.
func (w *world) event(sample string) (raw []byte, eventID string) {
	w.t.Helper()
	b, err := samples.Event(sample)
	if err != nil {
		w.t.Fatal(err)
	}
	s := string(b)
	s = strings.ReplaceAll(s, "management-trail", w.Trail)
	s = strings.ReplaceAll(s, "user/mallory", "user/"+w.User)
	s = strings.ReplaceAll(s, `"userName": "mallory"`, fmt.Sprintf(`"userName": %q`, w.User))
	s = strings.ReplaceAll(s, "ci-deployer", w.Role)
	var env map[string]any
	if err := json.Unmarshal([]byte(s), &env); err != nil {
		w.t.Fatalf("sample %s: %v", sample, err)
	}
	now := time.Now().UTC().Format(time.RFC3339)
	eventID = newID()
	env["id"], env["time"] = newID(), now
	detail := env["detail"].(map[string]any)
	detail["eventID"], detail["requestID"], detail["eventTime"] = eventID, newID(), now
	if id, ok := detail["userIdentity"].(map[string]any); ok && id["type"] == "IAMUser" {
		id["accessKeyId"] = w.KeyID
	}
	out, err := json.Marshal(env)
	if err != nil {
		w.t.Fatal(err)
	}
	return out, eventID
}

// put sends an event on the emulator's default bus.
func (w *world) put(raw []byte) {
	w.t.Helper()
	if err := w.srv.PutCloudTrailEvent(w.ctx, raw); err != nil {
		w.t.Fatal(err)
	}
}

// handled returns the responder's "event handled…" log lines for eventID
// ("" for any event).
func (w *world) handled(eventID string) []map[string]any {
	w.t.Helper()
	var lines []map[string]any
	for l := range strings.Lines(w.Fn.Output()) {
		if !strings.Contains(l, `"event handled`) || !strings.Contains(l, eventID) {
			continue
		}
		var line map[string]any
		if err := json.Unmarshal([]byte(l), &line); err != nil {
			w.t.Fatalf("responder log line %q: %v", l, err)
		}
		lines = append(lines, line)
	}
	return lines
}

// waitFor polls cond until it holds or d passes.
func (w *world) waitFor(d time.Duration, what string, cond func() bool) {
	w.t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) || (w.Fn != nil && w.Fn.Exited()) {
			w.t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (w *world) logging() bool {
	w.t.Helper()
	st, err := w.ct.GetTrailStatus(w.ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String(w.Trail)})
	if err != nil {
		w.t.Fatalf("get trail status: %v", err)
	}
	return aws.ToBool(st.IsLogging)
}

func (w *world) stopLogging() {
	w.t.Helper()
	if _, err := w.ct.StopLogging(w.ctx, &cloudtrail.StopLoggingInput{Name: aws.String(w.Trail)}); err != nil {
		w.t.Fatalf("stop logging: %v", err)
	}
}

// attached counts how often the deny-all policy is attached to the user.
func (w *world) attached() int {
	w.t.Helper()
	out, err := w.iam.ListAttachedUserPolicies(w.ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String(w.User)})
	if err != nil {
		w.t.Fatalf("list attached user policies: %v", err)
	}
	n := 0
	for _, p := range out.AttachedPolicies {
		if aws.ToString(p.PolicyArn) == w.PolicyARN {
			n++
		}
	}
	return n
}

func (w *world) keyStatus() iamtypes.StatusType {
	w.t.Helper()
	out, err := w.iam.ListAccessKeys(w.ctx, &iam.ListAccessKeysInput{UserName: aws.String(w.User)})
	if err != nil {
		w.t.Fatalf("list access keys: %v", err)
	}
	for _, k := range out.AccessKeyMetadata {
		if aws.ToString(k.AccessKeyId) == w.KeyID {
			return k.Status
		}
	}
	w.t.Fatalf("user %s has no key %s", w.User, w.KeyID)
	return ""
}

// alerts receives the SNS notifications on the subscriber queue and returns
// their decoded alert documents' action statuses by action kind.
func (w *world) alerts(want int, wait time.Duration) []map[string]string {
	w.t.Helper()
	msgs, err := w.srv.ReceiveMessages(w.ctx, w.QueueURL, want, wait)
	if err != nil {
		w.t.Fatal(err)
	}
	var out []map[string]string
	for _, m := range msgs {
		var n struct{ Type, Message string }
		if err := json.Unmarshal([]byte(m), &n); err != nil || n.Type != "Notification" {
			w.t.Fatalf("not an SNS notification: %q (%v)", m, err)
		}
		var a struct {
			Actions []struct{ Kind, Status string }
		}
		if err := json.Unmarshal([]byte(n.Message), &a); err != nil {
			w.t.Fatalf("alert document: %v\n%s", err, n.Message)
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
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		t.Fatalf("read status of %d: %v", pid, err)
	}
	for l := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			n, err := strconv.Atoi(strings.Fields(v)[0])
			if err != nil {
				t.Fatalf("%s of %d: %q", field, pid, v)
			}
			return n
		}
	}
	t.Fatalf("no %s in status of %d", field, pid)
	return 0
}

// childPID finds the pid of this process's child running binary.
func childPID(t *testing.T, binary string) int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	me := strconv.Itoa(os.Getpid())
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err != nil || exe != binary {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		rest := string(stat[strings.LastIndexByte(string(stat), ')')+2:])
		if f := strings.Fields(rest); len(f) > 1 && f[1] == me {
			return pid
		}
	}
	t.Fatalf("no child process runs %s", binary)
	return 0
}

func toJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
