package parallel_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trailguard/trailguard/internal/parallel"
)

func TestEachRunsEveryIndexOnceWithinTheLimit(t *testing.T) {
	for _, tc := range []struct{ n, limit, want int }{{20, 3, 3}, {5, 8, 5}, {4, 0, 1}, {0, 2, 0}} {
		var running, peak atomic.Int64
		var mu sync.Mutex
		calls := make([]int, tc.n)
		// Every call waits until the limit's worth is running (or all are
		// left), so a loop that ran more at once would show it in peak; one
		// that ran fewer leaves the gate shut, and the bounded wait fails it.
		gate := make(chan struct{})
		var once sync.Once
		var shut atomic.Bool
		parallel.Each(tc.n, tc.limit, func(i int) {
			now := running.Add(1)
			for p := peak.Load(); now > p && !peak.CompareAndSwap(p, now); p = peak.Load() {
			}
			if int(now) >= min(tc.want, tc.n) {
				once.Do(func() { close(gate) })
			}
			select {
			case <-gate:
			case <-time.After(10 * time.Second):
				shut.Store(true)
				once.Do(func() { close(gate) })
			}
			mu.Lock()
			calls[i]++
			mu.Unlock()
			running.Add(-1)
		})
		if shut.Load() {
			t.Errorf("n=%d limit=%d: fewer than %d ever ran at once", tc.n, tc.limit, tc.want)
		}
		for i, c := range calls {
			if c != 1 {
				t.Errorf("n=%d limit=%d: index %d ran %d times", tc.n, tc.limit, i, c)
			}
		}
		if got := int(peak.Load()); got != tc.want {
			t.Errorf("n=%d limit=%d: %d ran at once, want %d", tc.n, tc.limit, got, tc.want)
		}
	}
}
