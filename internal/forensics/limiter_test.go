package forensics

import (
	"context"
	"testing"
	"time"
)

// Requests of one account and region are spaced at the rate; another key
// is not held up by the first.
func TestLimiterSpacesRequestsPerKey(t *testing.T) {
	now := time.Date(2025, 3, 14, 10, 0, 0, 0, time.UTC)
	var slept []time.Duration
	l := NewLimiter(RequestsPerSecond)
	l.now = func() time.Time { return now }
	l.sleep = func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }

	for range 3 {
		if err := l.Wait(t.Context(), "123456789012/us-east-1"); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Wait(t.Context(), "123456789012/eu-west-1"); err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{500 * time.Millisecond, time.Second}
	if len(slept) != len(want) || slept[0] != want[0] || slept[1] != want[1] {
		t.Errorf("slept %v, want %v (2 per second in one region, none for the first call elsewhere)", slept, want)
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	l.sleep = sleepCtx
	if err := l.Wait(ctx, "123456789012/us-east-1"); err == nil {
		t.Error("a cancelled wait returned no error")
	}
}
