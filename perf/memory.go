package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/trailguard/trailguard/internal/testworld"
)

// measureMemory serves the Lambda build of bootstrap through kumo's runtime
// API, sends a burst of StopLogging events through the catalog's
// EventBridge rule, waits until every one has been alerted (SNS Publish
// requests counted at the emulator), and reads the process's peak resident
// set (VmHWM) before stopping it.
func measureMemory(ctx context.Context, burst int) (string, error) {
	bin, done, err := buildLocalLambda(ctx)
	if err != nil {
		return "", err
	}
	defer done()
	var publishes atomic.Int64
	w, stop, err := startWorld(ctx, "mem", testworld.WithFault(func(r *http.Request) (int, bool) {
		if svc, op := testworld.Operation(r); svc == "sns" && op == "Publish" {
			publishes.Add(1)
		}
		return 0, false
	}))
	if err != nil {
		return "", err
	}
	defer stop()
	srv := w.Srv
	// The rule is in place before the idle reading; no event is sent yet.
	defer w.Teardown()
	if err := w.Deploy(ctx, bin); err != nil {
		return "", err
	}
	f := w.Fn
	pid := f.PID()
	idle, err := testworld.ProcStatus(pid, "VmHWM")
	if err != nil {
		return "", err
	}
	eb := eventbridge.NewFromConfig(srv.Config(ctx))
	t0 := time.Now()
	for i := 0; i < burst; i += 10 {
		var entries []ebtypes.PutEventsRequestEntry
		for range min(10, burst-i) {
			raw, _, err := w.Event("stoplogging-iamuser", nil)
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
	if err := w.WaitFor(3*time.Minute-time.Since(t0), func() bool { return publishes.Load() >= int64(burst) }); err != nil {
		return "", fmt.Errorf("only %d of %d events alerted (%v); output tail: %s", publishes.Load(), burst, err, tail(f.Output(), 2000))
	}
	took := time.Since(t0)
	hwm, err := testworld.ProcStatus(pid, "VmHWM")
	if err != nil {
		return "", err
	}
	rss, err := testworld.ProcStatus(pid, "VmRSS")
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
