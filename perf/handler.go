package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"

	"github.com/trailguard/trailguard/internal/awsx"
	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/respond"
)

// call is one AWS call as the HTTP client saw it: from the request leaving
// the SDK to the end of the response body.
type call struct {
	op string
	d  time.Duration
}

// recorder is an http.RoundTripper that times every AWS call the SDK makes.
type recorder struct {
	base  http.RoundTripper
	mu    sync.Mutex
	calls []call
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	op := awsmiddleware.GetServiceID(req.Context()) + " " + awsmiddleware.GetOperationName(req.Context())
	t0 := time.Now()
	resp, err := r.base.RoundTrip(req)
	if err != nil {
		r.add(op, time.Since(t0))
		return resp, err
	}
	resp.Body = &timedBody{ReadCloser: resp.Body, done: func() { r.add(op, time.Since(t0)) }}
	return resp, nil
}

func (r *recorder) add(op string, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, call{op, d})
}

// take returns and clears the calls recorded so far.
func (r *recorder) take() []call {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.calls
	r.calls = nil
	return c
}

// timedBody stops a call's clock at the body's end (EOF or Close, once).
type timedBody struct {
	io.ReadCloser
	once sync.Once
	done func()
}

func (b *timedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.once.Do(b.done)
	}
	return n, err
}

func (b *timedBody) Close() error {
	b.once.Do(b.done)
	return b.ReadCloser.Close()
}

// containAction names the containment action each containment call belongs
// to: containment actions run concurrently, the calls of one action in turn.
var containAction = map[string]string{
	"IAM AttachUserPolicy": "quarantine",
	"IAM UpdateAccessKey":  "deactivate-key",
	"IAM GetRolePolicy":    "revoke-sessions",
	"IAM PutRolePolicy":    "revoke-sessions",
}

// measureHandler runs the real Handler (awsx.NewEngine, real SDK clients
// whose HTTP client is timed) warm against the emulator, one event at a
// time, and reports per event the total and the slowest single AWS call.
func measureHandler(ctx context.Context, events int) (string, error) {
	w, stop, err := startWorld(ctx, "handler")
	if err != nil {
		return "", err
	}
	defer stop()
	srv := w.Srv
	env := w.Settings("arn:aws:iam::000000000000:role/trailguard-responder")
	settings, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		return "", err
	}
	rec := &recorder{base: awshttp.NewBuildableClient().GetTransport()}
	cfg := srv.Config(ctx)
	cfg.HTTPClient = &http.Client{Transport: rec}
	h := respond.Handler{
		Engine: awsx.NewEngine(settings, awsx.NewClients(cfg)),
		// The log line is formatted as in Lambda; only the write is dropped.
		Log: slog.New(slog.NewJSONHandler(io.Discard, nil)),
	}
	// The attacker's call, outside the measurement and the timed client.
	attacker := cloudtrail.NewFromConfig(srv.Config(ctx))

	var b strings.Builder
	fmt.Fprintf(&b, "## Warm handler against the emulator over HTTP (%d events per scenario, after 20 warm-up events)\n\n", events)
	for _, sample := range []string{"stoplogging-iamuser", "stoplogging-assumedrole"} {
		var totals, slowest, critical []time.Duration
		var ratios, critRatios []float64
		perOp := map[string][]time.Duration{}
		for i := range events + 20 {
			raw, _, err := w.Event(sample, nil)
			if err != nil {
				return "", err
			}
			if _, err := attacker.StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String(w.Trail)}); err != nil {
				return "", err
			}
			rec.take()
			t0 := time.Now()
			if err := h.Handle(ctx, raw); err != nil {
				return "", fmt.Errorf("handle %s: %w", sample, err)
			}
			total := time.Since(t0)
			calls := rec.take()
			if i < 20 {
				continue
			}
			// Restore, each containment action and the alias lookup run
			// side by side; the publish waits for all of them.
			var top, restore, alias, publish time.Duration
			action := map[string]time.Duration{}
			for _, c := range calls {
				top = max(top, c.d)
				perOp[c.op] = append(perOp[c.op], c.d)
				a, contain := containAction[c.op]
				switch {
				case contain:
					action[a] += c.d
				case c.op == "SNS Publish":
					publish += c.d
				case c.op == "IAM ListAccountAliases":
					alias += c.d
				default:
					restore += c.d
				}
			}
			var slowestAction time.Duration
			for _, d := range action {
				slowestAction = max(slowestAction, d)
			}
			path := max(restore, slowestAction, alias) + publish
			totals = append(totals, total)
			slowest = append(slowest, top)
			critical = append(critical, path)
			ratios = append(ratios, float64(total)/float64(top))
			critRatios = append(critRatios, float64(path)/float64(top))
		}
		fmt.Fprintf(&b, "### %s\n\n| measure | p50 | p99 |\n|---|---|---|\n", sample)
		fmt.Fprintf(&b, "| handler total per event | %s | %s |\n", msStr(percentile(totals, 50)), msStr(percentile(totals, 99)))
		fmt.Fprintf(&b, "| slowest single AWS call in the event | %s | %s |\n", msStr(percentile(slowest, 50)), msStr(percentile(slowest, 99)))
		fmt.Fprintf(&b, "| total ÷ slowest call, per event | %.2f× | %.2f× |\n", percentile(ratios, 50), percentile(ratios, 99))
		fmt.Fprintf(&b, "| critical path of calls (max(restore, slowest containment action, alias lookup) + publish) | %s | %s |\n", msStr(percentile(critical, 50)), msStr(percentile(critical, 99)))
		fmt.Fprintf(&b, "| critical path ÷ slowest call, per event (the floor the design allows) | %.2f× | %.2f× |\n", percentile(critRatios, 50), percentile(critRatios, 99))
		ops := make([]string, 0, len(perOp))
		for op := range perOp {
			ops = append(ops, op)
		}
		slices.Sort(ops)
		for _, op := range ops {
			ds := perOp[op]
			fmt.Fprintf(&b, "| call %s (%d) | %s | %s |\n", op, len(ds), msStr(percentile(ds, 50)), msStr(percentile(ds, 99)))
		}
		fmt.Fprintln(&b)
	}
	return b.String(), nil
}
