package respond_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailguard/trailguard/internal/respond"
	"github.com/trailguard/trailguard/internal/samples"
)

// The restore does not wait for the claim: the gate is only answered once
// the restore call has been made (else this test fails at its deadline).
func TestRestoreDoesNotWaitForTheClaim(t *testing.T) {
	g := &gatedFake{fakeAWS: newFake(), restored: make(chan struct{})}
	e := respond.New(settings(t, nil), g, g, g)
	gate := func(ctx context.Context) respond.GateResult {
		select {
		case <-g.restored:
			return respond.GateResult{Answer: true}
		case <-time.After(5 * time.Second):
			t.Error("the restore waited for the claim")
			return respond.GateResult{Answer: true}
		}
	}
	if _, err := e.RespondGated(context.Background(), event(t, "stoplogging-iamuser"), gate); err != nil {
		t.Fatal(err)
	}
}

func TestGateClosedRestoresOnly(t *testing.T) {
	f := newFake()
	rep, err := engine(t, f, nil).RespondGated(context.Background(), event(t, "stoplogging-iamuser"),
		func(context.Context) respond.GateResult { return respond.GateResult{Why: "answered elsewhere"} })
	if err != nil {
		t.Fatal(err)
	}
	if ops := f.ops(); len(ops) != 1 || !strings.HasPrefix(ops[0], "StartLogging") {
		t.Errorf("calls %q, want the restore only", ops)
	}
	if rep.Duplicate != "answered elsewhere" || len(rep.Outcomes) != 1 {
		t.Errorf("report %+v", rep)
	}
}

// fakeClaims is an in-memory Claimer for the handler's logic.
type fakeClaims struct {
	mu       sync.Mutex
	err      error
	state    map[string]string
	first    map[string]*respond.Attempt
	finished []respond.Attempt
}

func (c *fakeClaims) Claim(_ context.Context, id string) (respond.Claim, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return respond.Claim{}, c.err
	}
	switch c.state[id] {
	case "", respond.ClaimFailed:
		c.state[id] = respond.ClaimInProgress
		return respond.Claim{EventID: id, Mine: true, Earlier: c.first[id]}, nil
	}
	return respond.Claim{EventID: id, State: c.state[id]}, nil
}

func (c *fakeClaims) Finish(_ context.Context, cl respond.Claim, a respond.Attempt) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.finished = append(c.finished, a)
	c.state[cl.EventID] = respond.ClaimDone
	if a.Failed {
		c.state[cl.EventID] = respond.ClaimFailed
	}
	if c.first[cl.EventID] == nil {
		c.first[cl.EventID] = &a
	}
	return nil
}

func TestHandlerWithClaims(t *testing.T) {
	raw, _ := samples.Event("stoplogging-iamuser")
	claims := &fakeClaims{state: map[string]string{}, first: map[string]*respond.Attempt{}}
	f := newFake()
	f.fail["UpdateAccessKey"] = errors.New("throttled")
	var logs bytes.Buffer
	h := respond.Handler{Engine: engine(t, f, nil), Log: slog.New(slog.NewJSONHandler(&logs, nil)), Claims: claims}
	if err := h.Handle(context.Background(), raw); err == nil {
		t.Fatal("first attempt should fail")
	}
	delete(f.fail, "UpdateAccessKey")
	if err := h.Handle(context.Background(), raw); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if len(f.notified) != 2 {
		t.Fatalf("%d alerts, want 2", len(f.notified))
	}
	since := strings.Join(f.notified[1].SinceEarlier(), "\n")
	if !strings.Contains(since, "deactivate-access-key AKIAIOSFODNN7EXAMPLE: failed before, now done") ||
		!strings.Contains(since, "attach-user-policy mallory: done again") {
		t.Errorf("what changed since the first attempt:\n%s", since)
	}
	// Answered: a duplicate restores (idempotent) and does nothing else.
	before := len(f.ops())
	if err := h.Handle(context.Background(), raw); err != nil {
		t.Fatal(err)
	}
	if ops := f.ops()[before:]; len(ops) != 1 || !strings.HasPrefix(ops[0], "StartLogging") {
		t.Errorf("duplicate made %q, want the restore only", ops)
	}
	if !strings.Contains(logs.String(), `"duplicate":"duplicate delivery`) {
		t.Errorf("the duplicate's log line does not say so:\n%s", logs.String())
	}
	// A store that cannot be reached does not stop the answer.
	claims.err = errors.New("dynamodb unreachable")
	if err := h.Handle(context.Background(), raw); err != nil || len(f.notified) != 3 {
		t.Errorf("with the store down: %v, %d alerts", err, len(f.notified))
	}
}
