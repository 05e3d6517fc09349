package dedup_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/trailguard/trailguard/internal/dedup"
	"github.com/trailguard/trailguard/internal/respond"
	"github.com/trailguard/trailguard/internal/testworld"
)

var srv *testworld.Server

func TestMain(m *testing.M) {
	var err error
	srv, err = testworld.Start(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "start emulator:", err)
		os.Exit(1)
	}
	code := m.Run()
	srv.Close()
	os.Exit(code)
}

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// table returns a fresh table on the emulator, two "environments" using it
// (separate clients) and a settable clock.
func table(t *testing.T) (a, b *dedup.Table, clock *time.Time) {
	t.Helper()
	ctx := context.Background()
	name := "trailguard-events-" + t.Name()
	if err := srv.CreateDedupTable(ctx, name); err != nil {
		t.Fatal(err)
	}
	now := t0
	clock = &now
	mk := func() *dedup.Table {
		return &dedup.Table{Client: dynamodb.NewFromConfig(srv.Config(ctx)), Name: name, Now: func() time.Time { return *clock }}
	}
	return mk(), mk(), clock
}

func attempt(failed bool, status string) respond.Attempt {
	return respond.Attempt{At: t0, Failed: failed, Outcomes: map[string]string{"contain: attach-user-policy mallory": status}}
}

func TestOneClaimPerEvent(t *testing.T) {
	ctx := context.Background()
	a, b, _ := table(t)
	ca, err := a.Claim(ctx, "ev-1")
	if err != nil || !ca.Mine || ca.Earlier != nil {
		t.Fatalf("first claim %+v %v", ca, err)
	}
	// Another environment, while the first answers.
	if cb, err := b.Claim(ctx, "ev-1"); err != nil || cb.Mine {
		t.Fatalf("second claim in progress %+v %v", cb, err)
	}
	if err := a.Finish(ctx, ca, attempt(false, "done")); err != nil {
		t.Fatal(err)
	}
	// And after it answered.
	if cb, err := b.Claim(ctx, "ev-1"); err != nil || cb.Mine {
		t.Fatalf("claim after done %+v %v", cb, err)
	}
	// Other events are independent.
	if cb, err := b.Claim(ctx, "ev-2"); err != nil || !cb.Mine {
		t.Fatalf("claim of another event %+v %v", cb, err)
	}
}

func TestRetryAfterFailureRunsAndKnowsTheFirstAttempt(t *testing.T) {
	ctx := context.Background()
	a, b, clock := table(t)
	ca, _ := a.Claim(ctx, "ev")
	if err := a.Finish(ctx, ca, attempt(true, "failed")); err != nil {
		t.Fatal(err)
	}
	*clock = t0.Add(time.Minute)
	cb, err := b.Claim(ctx, "ev")
	if err != nil || !cb.Mine || cb.Earlier == nil || cb.Earlier.Outcomes["contain: attach-user-policy mallory"] != "failed" || !cb.Earlier.At.Equal(t0) {
		t.Fatalf("retry claim %+v %v", cb, err)
	}
	// A second failure keeps the first attempt as the reference.
	second := attempt(true, "failed")
	second.At = *clock
	if err := b.Finish(ctx, cb, second); err != nil {
		t.Fatal(err)
	}
	cc, err := a.Claim(ctx, "ev")
	if err != nil || !cc.Mine || cc.Earlier == nil || !cc.Earlier.At.Equal(t0) {
		t.Fatalf("third claim %+v %v", cc, err)
	}
	// The old claim cannot finish over the new one.
	if err := b.Finish(ctx, cb, attempt(false, "done")); err == nil {
		t.Error("a superseded claim finished")
	}
}

func TestAbandonedClaimIsTakenOverAfterTheLease(t *testing.T) {
	ctx := context.Background()
	a, b, clock := table(t)
	if ca, _ := a.Claim(ctx, "ev"); !ca.Mine {
		t.Fatal("first claim")
	}
	*clock = t0.Add(dedup.Lease - time.Second)
	if cb, _ := b.Claim(ctx, "ev"); cb.Mine {
		t.Fatal("claim taken over within the lease")
	}
	*clock = t0.Add(dedup.Lease + time.Second)
	if cb, err := b.Claim(ctx, "ev"); err != nil || !cb.Mine {
		t.Fatalf("abandoned claim not taken over: %+v %v", cb, err)
	}
}

func TestUnreachableTableIsAnError(t *testing.T) {
	tb := dedup.Table{Client: dynamodb.NewFromConfig(srv.Config(context.Background())), Name: "no-such-table"}
	if _, err := tb.Claim(context.Background(), "ev"); err == nil {
		t.Error("claim in a missing table succeeded")
	}
}
