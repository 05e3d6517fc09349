package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/trailguard/trailguard/internal/catalog"
	"github.com/trailguard/trailguard/internal/emulator"
)

// measureMemory serves the Lambda build of bootstrap through kumo's runtime
// API, sends a burst of StopLogging events through the catalog's
// EventBridge rule, waits until every one has been alerted (SNS Publish
// requests counted at the emulator), and reads the process's peak resident
// set (VmHWM) before stopping it.
func measureMemory(ctx context.Context, burst int) (string, error) {
	dir, err := os.MkdirTemp("", "trailguard-perf-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	bin, err := buildLambda(ctx, dir, localArch())
	if err != nil {
		return "", err
	}
	var publishes atomic.Int64
	srv, err := emulator.Start(ctx, emulator.WithFault(func(r *http.Request) (int, bool) {
		if svc, op := emulator.Operation(r); svc == "sns" && op == "Publish" {
			publishes.Add(1)
		}
		return 0, false
	}))
	if err != nil {
		return "", err
	}
	defer srv.Close()
	w, err := newWorld(ctx, srv, "mem")
	if err != nil {
		return "", err
	}
	self, err := srv.CreateRole(ctx, "perf-responder-role")
	if err != nil {
		return "", err
	}
	fnARN, err := srv.CreateFunction(ctx, "perf-responder", self, nil)
	if err != nil {
		return "", err
	}
	f, err := srv.StartFunction(ctx, "perf-responder", bin, append(envList(w.env(self)), "AWS_LAMBDA_LOG_FORMAT=JSON"))
	if err != nil {
		return "", err
	}
	defer f.Stop()
	pid, err := childPID(bin)
	if err != nil {
		return "", err
	}
	idle, err := procStatusKB(pid, "VmHWM")
	if err != nil {
		return "", err
	}
	pattern := ""
	for _, r := range catalog.Rules() {
		if r.ID == "cloudtrail" {
			pattern = r.Pattern.JSON()
		}
	}
	if _, err := srv.CreateRule(ctx, "perf-responder-cloudtrail", pattern, fnARN); err != nil {
		return "", err
	}
	eb := eventbridge.NewFromConfig(srv.Config(ctx))
	t0 := time.Now()
	for i := 0; i < burst; i += 10 {
		var entries []ebtypes.PutEventsRequestEntry
		for range min(10, burst-i) {
			raw, err := w.event("stoplogging-iamuser")
			if err != nil {
				return "", err
			}
			var env struct {
				Source     string          `json:"source"`
				DetailType string          `json:"detail-type"`
				Detail     json.RawMessage `json:"detail"`
			}
			if err := json.Unmarshal(raw, &env); err != nil {
				return "", err
			}
			entries = append(entries, ebtypes.PutEventsRequestEntry{Source: aws.String(env.Source), DetailType: aws.String(env.DetailType), Detail: aws.String(string(env.Detail))})
		}
		if out, err := eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: entries}); err != nil || out.FailedEntryCount > 0 {
			return "", fmt.Errorf("put events: %v", err)
		}
	}
	for publishes.Load() < int64(burst) {
		if time.Since(t0) > 3*time.Minute || f.Exited() {
			return "", fmt.Errorf("only %d of %d events alerted; output tail: %s", publishes.Load(), burst, tail(f.Output(), 2000))
		}
		time.Sleep(20 * time.Millisecond)
	}
	took := time.Since(t0)
	hwm, err := procStatusKB(pid, "VmHWM")
	if err != nil {
		return "", err
	}
	rss, err := procStatusKB(pid, "VmRSS")
	if err != nil {
		return "", err
	}
	handled := strings.Count(f.Output(), `"message":"event handled"`)

	var b strings.Builder
	fmt.Fprintf(&b, "## Memory: bootstrap (linux/%s Lambda build) over a burst of %d events (PutEvents → rule → kumo async invoke → runtime API)\n\n", localArch(), burst)
	fmt.Fprintf(&b, "| measure | value |\n|---|---|\n")
	fmt.Fprintf(&b, "| peak RSS (VmHWM) after init, before any event | %.1f MiB |\n", float64(idle)/1024)
	fmt.Fprintf(&b, "| peak RSS (VmHWM) over the burst | %.1f MiB |\n", float64(hwm)/1024)
	fmt.Fprintf(&b, "| RSS (VmRSS) at the end | %.1f MiB |\n", float64(rss)/1024)
	fmt.Fprintf(&b, "| events handled cleanly / alerts published | %d / %d |\n", handled, publishes.Load())
	fmt.Fprintf(&b, "| burst wall time (serial delivery by kumo) | %s |\n", took.Round(time.Millisecond))
	return b.String(), nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
