// Package parallel runs one function over n indexes with a bound on how
// many run at once. The posture check (regions, buckets), `check --org`
// (accounts) and the hub's organization reconciliation (accounts) all fan
// out this way; one loop here instead of a semaphore copied into each.
package parallel

import "sync"

// Each calls f(i) for every i in [0, n), at most limit at a time (a limit
// below 1 counts as 1), and returns when every call has returned. Each call
// writes its result at its own index, so the caller's results keep the
// input's order whatever the scheduling.
func Each(n, limit int, f func(i int)) {
	sem := make(chan struct{}, max(1, limit))
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			f(i)
		}()
	}
	wg.Wait()
}
