package dedup_test

import (
	"context"
	"slices"
	"testing"
)

// Contained principals on the emulator: recorded from two environments at
// once, read back whole, forgotten one by one; the event claims in the same
// table are not disturbed, and a table that does not exist is an error.
func TestContainedPrincipals(t *testing.T) {
	ctx := context.Background()
	a, b, _ := table(t)
	if ps, err := a.Contained(ctx); err != nil || len(ps) != 0 {
		t.Fatalf("empty table: %q %v", ps, err)
	}
	const (
		mallory = "arn:aws:iam::123456789012:user/mallory"
		trent   = "arn:aws:iam::123456789012:user/trent"
		role    = "arn:aws:iam::123456789012:role/ci-deployer"
	)
	claim, err := a.Claim(ctx, "event-1")
	if err != nil || !claim.Mine {
		t.Fatalf("claim: %+v %v", claim, err)
	}
	errs := make(chan error, 2)
	go func() { errs <- a.RecordContained(ctx, []string{mallory, role}) }()
	go func() { errs <- b.RecordContained(ctx, []string{trent, mallory}) }()
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if ps, err := b.Contained(ctx); err != nil || !slices.Equal(ps, []string{role, mallory, trent}) {
		t.Fatalf("recorded: %q %v", ps, err)
	}
	if err := a.ForgetContained(ctx, mallory); err != nil {
		t.Fatal(err)
	}
	if err := a.ForgetContained(ctx, mallory); err != nil {
		t.Fatalf("forgetting twice: %v", err)
	}
	if ps, err := b.Contained(ctx); err != nil || !slices.Equal(ps, []string{role, trent}) {
		t.Fatalf("after forgetting mallory: %q %v", ps, err)
	}
	// The event's claim is its own item.
	if again, err := b.Claim(ctx, "event-1"); err != nil || again.Mine {
		t.Errorf("the claim was disturbed: %+v %v", again, err)
	}

	missing := *a
	missing.Name = "trailguard-no-such-table"
	if _, err := missing.Contained(ctx); err == nil {
		t.Error("reading a missing table succeeded")
	}
	if err := missing.RecordContained(ctx, []string{mallory}); err == nil {
		t.Error("recording in a missing table succeeded")
	}
}
