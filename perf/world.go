package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/trailguard/trailguard/internal/emulator"
	"github.com/trailguard/trailguard/internal/samples"
	"github.com/trailguard/trailguard/internal/trail"
)

// world is a protected trail and the actors of the samples, with unique names.
type world struct {
	Trail, Bucket, User, Role string
	TrailARN, KeyID           string
	PolicyARN, TopicARN       string
	QueueURL                  string
}

func newWorld(ctx context.Context, srv *emulator.Server, suffix string) (*world, error) {
	w := &world{Trail: "perf-trail-" + suffix, Bucket: "perf-logs-" + suffix, User: "perf-mallory-" + suffix, Role: "perf-deployer-" + suffix}
	var err error
	if w.TrailARN, err = srv.CreateLoggingTrail(ctx, w.Trail, w.Bucket); err != nil {
		return nil, err
	}
	if _, w.KeyID, err = srv.CreateUserWithKey(ctx, w.User); err != nil {
		return nil, err
	}
	if _, err = srv.CreateRole(ctx, w.Role); err != nil {
		return nil, err
	}
	if w.PolicyARN, err = srv.CreateDenyAllPolicy(ctx, "perf-deny-all-"+suffix); err != nil {
		return nil, err
	}
	// Raw delivery: the subscriber receives the alert as published.
	if w.TopicARN, w.QueueURL, err = srv.CreateTopicWithQueue(ctx, "perf-alerts-"+suffix, true); err != nil {
		return nil, err
	}
	return w, nil
}

// env is the responder's TRAILGUARD_* settings as the stack sets them.
func (w *world) env(selfRoleARN string) map[string]string {
	yes := true
	trails, _ := json.Marshal([]trail.Config{{
		Name: w.Trail, S3BucketName: w.Bucket,
		IsMultiRegionTrail: &yes, IncludeGlobalServiceEvents: &yes, EnableLogFileValidation: &yes,
		EventSelectors: []trail.EventSelector{{ReadWriteType: "All", IncludeManagementEvents: &yes}},
	}})
	m := map[string]string{
		"TRAILGUARD_TOPIC_ARN":             w.TopicARN,
		"TRAILGUARD_MODE":                  "enforce",
		"TRAILGUARD_QUARANTINE_POLICY_ARN": w.PolicyARN,
		"TRAILGUARD_TRAILS":                string(trails),
	}
	if selfRoleARN != "" {
		m["TRAILGUARD_SELF_ROLE_ARN"] = selfRoleARN
	}
	return m
}

func envList(m map[string]string) []string {
	var out []string
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return out
}

var idSeq atomic.Int64

// event returns a sample as delivered in this world: its names, its key,
// fresh ids and the current time.
func (w *world) event(sample string) ([]byte, error) {
	b, err := samples.Event(sample)
	if err != nil {
		return nil, err
	}
	s := string(b)
	s = strings.ReplaceAll(s, "management-trail", w.Trail)
	s = strings.ReplaceAll(s, "user/mallory", "user/"+w.User)
	s = strings.ReplaceAll(s, `"userName": "mallory"`, fmt.Sprintf(`"userName": %q`, w.User))
	s = strings.ReplaceAll(s, "ci-deployer", w.Role)
	var env map[string]any
	if err := json.Unmarshal([]byte(s), &env); err != nil {
		return nil, fmt.Errorf("sample %s: %w", sample, err)
	}
	now := time.Now().UTC().Format(time.RFC3339)
	id := func() string {
		return fmt.Sprintf("%08x-0000-4000-8000-%012x", time.Now().UnixNano()&0xffffffff, idSeq.Add(1))
	}
	env["id"], env["time"] = id(), now
	detail := env["detail"].(map[string]any)
	detail["eventID"], detail["requestID"], detail["eventTime"] = id(), id(), now
	if u, ok := detail["userIdentity"].(map[string]any); ok && u["type"] == "IAMUser" {
		u["accessKeyId"] = w.KeyID
	}
	return json.Marshal(env)
}

// buildLambda builds ./cmd/responder exactly as the Lambda build does, for
// goarch, into dir/<goarch>/bootstrap.
func buildLambda(ctx context.Context, dir, goarch string) (string, error) {
	out := filepath.Join(dir, goarch, "bootstrap")
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", out, "./cmd/responder")
	cmd.Dir = moduleRoot()
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build (%s): %w\n%s", goarch, err, msg)
	}
	return out, nil
}

func moduleRoot() string {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "."
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

// localArch is the GOARCH the bootstrap can run as on this machine.
func localArch() string { return runtime.GOARCH }

// percentile returns the p-th percentile (nearest rank) of ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.999999) - 1
	return s[max(0, min(i, len(s)-1))]
}

func percentileF(fs []float64, p float64) float64 {
	if len(fs) == 0 {
		return 0
	}
	s := slices.Clone(fs)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.999999) - 1
	return s[max(0, min(i, len(s)-1))]
}

func msStr(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 2, 64) + " ms"
}

// childPID finds the pid of this process's child running binary.
func childPID(binary string) (int, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	me := strconv.Itoa(os.Getpid())
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe")); err != nil || exe != binary {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		rest := string(stat[strings.LastIndexByte(string(stat), ')')+2:])
		if f := strings.Fields(rest); len(f) > 1 && f[1] == me {
			return pid, nil
		}
	}
	return 0, fmt.Errorf("no child process runs %s", binary)
}

// procStatusKB returns a size field (kB) of /proc/<pid>/status.
func procStatusKB(pid int, field string) (int, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0, err
	}
	for l := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			return strconv.Atoi(strings.Fields(v)[0])
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}
