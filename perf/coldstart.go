package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/trailguard/trailguard/internal/testworld"
)

// pollClock records when each function's first runtime poll (GET
// .../runtime/invocation/next) reaches the emulator. It never fails a request.
type pollClock struct {
	mu    sync.Mutex
	first map[string]time.Time
}

func (p *pollClock) hook(r *http.Request) (int, bool) {
	if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/runtime/invocation/next") {
		parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
		now := time.Now()
		p.mu.Lock()
		if _, ok := p.first[parts[1]]; !ok && len(parts) > 1 {
			p.first[parts[1]] = now
		}
		p.mu.Unlock()
	}
	return 0, false
}

func (p *pollClock) at(fn string) (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t, ok := p.first[fn]
	return t, ok
}

// measureColdStart starts the Lambda build of bootstrap (for this machine's
// architecture) under kumo's runtime API, runs times per variant, and
// reports the time from exec to its first poll for an invocation: the
// whole init (settings, SDK configuration, clients, and in one variant the
// STS call that finds the responder's own role).
func measureColdStart(ctx context.Context, runs int) (string, error) {
	bin, done, err := buildLocalLambda(ctx)
	if err != nil {
		return "", err
	}
	defer done()
	clock := &pollClock{first: map[string]time.Time{}}
	w, stop, err := startWorld(ctx, "cold", testworld.WithFault(clock.hook))
	if err != nil {
		return "", err
	}
	defer stop()
	srv := w.Srv

	var b strings.Builder
	fmt.Fprintf(&b, "## Cold start: exec of bootstrap (linux/%s Lambda build) → first GET …/runtime/invocation/next at kumo's runtime API, %d runs each\n\n", localArch(), runs)
	fmt.Fprintf(&b, "| variant | median | min | max |\n|---|---|---|---|\n")
	variants := []struct{ name, self string }{
		{"TRAILGUARD_SELF_ROLE_ARN set (as the stack deploys it)", "arn:aws:iam::000000000000:role/trailguard-responder"},
		{"TRAILGUARD_SELF_ROLE_ARN unset (init calls sts:GetCallerIdentity)", ""},
	}
	for vi, v := range variants {
		var ds []time.Duration
		for i := range runs {
			fn := fmt.Sprintf("perf-cold-%d-%d", vi, i)
			t0 := time.Now()
			f, err := srv.StartFunction(ctx, fn, bin, w.Env(v.self))
			if err != nil {
				return "", err
			}
			t1, ok := clock.at(fn)
			_ = f.Stop()
			if !ok {
				return "", fmt.Errorf("no poll recorded for %s", fn)
			}
			ds = append(ds, t1.Sub(t0))
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", v.name, msStr(percentile(ds, 50)), msStr(percentile(ds, 0)), msStr(percentile(ds, 100)))
	}
	return b.String(), nil
}
