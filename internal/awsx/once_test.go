package awsx_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/trailguard/trailguard/internal/awsx"
	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/dedup"
	"github.com/trailguard/trailguard/internal/notify"
	"github.com/trailguard/trailguard/internal/respond"
)

// iamWrites counts the IAM writes made through the SDK clients built from
// the configurations it instruments, whatever environment makes them.
type iamWrites struct {
	mu  sync.Mutex
	ops []string
}

func (c *iamWrites) instrument(ctx context.Context) awsx.Clients {
	cfg := srv.Config(ctx)
	cfg.APIOptions = append(cfg.APIOptions, func(st *middleware.Stack) error {
		return st.Initialize.Add(middleware.InitializeMiddlewareFunc("countIAMWrites",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				if op := awsmiddleware.GetOperationName(ctx); awsmiddleware.GetServiceID(ctx) == "IAM" && !strings.HasPrefix(op, "Get") && !strings.HasPrefix(op, "List") {
					c.mu.Lock()
					c.ops = append(c.ops, op)
					c.mu.Unlock()
				}
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
	})
	return awsx.NewClients(cfg)
}

func (c *iamWrites) list() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.ops...)
}

// environment is one execution environment of the responder: its own
// clients and engine, the shared claims table.
func environment(t *testing.T, w *world, writes *iamWrites, table string, extra map[string]string) respond.Handler {
	t.Helper()
	ctx := context.Background()
	env := map[string]string{config.EnvDedupTable: table}
	for k, v := range extra {
		env[k] = v
	}
	s := w.settings(t, env)
	return respond.Handler{
		Engine: awsx.NewEngine(s, writes.instrument(ctx)),
		Log:    slog.New(slog.DiscardHandler),
		Claims: dedup.Table{Client: dynamodb.NewFromConfig(srv.Config(ctx)), Name: s.DedupTable},
	}
}

// Two execution environments receive the same event (EventBridge delivered
// it twice), and then one of them a third time: one round of IAM writes,
// one alert, and the trail restored.
func TestDuplicateAcrossEnvironmentsAnsweredOnce(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	table := w.dedupTable(t)
	writes := &iamWrites{}
	a, b := environment(t, w, writes, table, nil), environment(t, w, writes, table, nil)
	w.stop(t)
	raw := w.event(t, "stoplogging-iamuser").Raw

	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, h := range []respond.Handler{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = h.Handle(ctx, raw)
		}()
	}
	wg.Wait()
	if err := a.Handle(ctx, raw); err != nil {
		errs = append(errs, err)
	}
	for _, err := range errs {
		if err != nil {
			t.Errorf("handle: %v", err)
		}
	}
	if got := writes.list(); len(got) != 2 {
		t.Errorf("IAM writes %v, want one round (AttachUserPolicy, UpdateAccessKey)", got)
	}
	if !w.logging(t) || !w.quarantined(t) || w.keyStatus(t) != "Inactive" {
		t.Error("not restored and contained")
	}
	if got := w.alerts(t, 1); len(got) != 1 {
		t.Fatalf("%d alerts, want 1", len(got))
	}
	if more := w.alertsWithin(t, 1, time.Second); len(more) != 0 {
		t.Errorf("a duplicate alerted again: %+v", more)
	}
}

// A failed first attempt (the quarantine policy is missing) is retried in
// another environment: the retry runs, and its alert says what changed.
func TestRetryAfterFailureRunsAndSaysWhatChanged(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	table := w.dedupTable(t)
	writes := &iamWrites{}
	broken := environment(t, w, writes, table, map[string]string{
		config.EnvQuarantinePolicyARN: "arn:aws:iam::000000000000:policy/no-such-policy"})
	fixed := environment(t, w, writes, table, nil)
	w.stop(t)
	raw := w.event(t, "stoplogging-iamuser").Raw

	if err := broken.Handle(ctx, raw); err == nil {
		t.Fatal("the first attempt should fail: its quarantine policy does not exist")
	}
	if err := fixed.Handle(ctx, raw); err != nil {
		t.Fatalf("retry: %v", err)
	}
	got := w.alerts(t, 2)
	if len(got) != 2 {
		t.Fatalf("%d alerts, want the failed attempt's and the retry's", len(got))
	}
	// The retry's alert is the one that says it is a retry (SQS does not
	// keep the order they were published in).
	var doc notify.Alert
	for _, m := range got {
		var d notify.Alert
		if err := json.Unmarshal([]byte(m.Message), &d); err != nil {
			t.Fatal(err)
		}
		if d.Retry != nil {
			doc = d
		}
	}
	if doc.Retry == nil || !strings.Contains(strings.Join(doc.Retry.Changes, "\n"), "contain: attach-user-policy "+w.user+": failed before, now done") {
		t.Errorf("the retry's alert does not say what changed: %+v", doc.Retry)
	}
	if !w.quarantined(t) {
		t.Error("the retry did not quarantine")
	}
	// Answered now: a further duplicate is not.
	if err := broken.Handle(ctx, raw); err != nil {
		t.Errorf("duplicate after the retry: %v", err)
	}
	if more := w.alertsWithin(t, 1, time.Second); len(more) != 0 {
		t.Errorf("a duplicate after the retry alerted again: %+v", more)
	}
}
