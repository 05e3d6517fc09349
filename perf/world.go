package main

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/trailguard/trailguard/internal/testworld"
)

// startWorld starts an emulator with opts and creates a responder world's
// target on it (names with "perf-"+suffix, alerts delivered raw: nothing
// reads them); stop closes the emulator.
func startWorld(ctx context.Context, suffix string, opts ...testworld.Option) (w *testworld.ResponderWorld, stop func(), err error) {
	srv, err := testworld.Start(ctx, opts...)
	if err != nil {
		return nil, nil, err
	}
	if w, err = testworld.NewResponderWorld(ctx, srv, "perf-"+suffix, true); err != nil {
		srv.Close()
		return nil, nil, err
	}
	return w, srv.Close, nil
}

// buildLocalLambda builds the Lambda build of bootstrap for this machine's
// architecture into a temporary directory; done removes it.
func buildLocalLambda(ctx context.Context) (bin string, done func(), err error) {
	dir, err := os.MkdirTemp("", "trailguard-perf-")
	if err != nil {
		return "", nil, err
	}
	if bin, err = buildLambda(ctx, dir, localArch()); err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	return bin, func() { os.RemoveAll(dir) }, nil
}

// buildLambda builds ./cmd/responder exactly as the Lambda build does, for
// goarch, into dir/<goarch>/bootstrap.
func buildLambda(ctx context.Context, dir, goarch string) (string, error) {
	out := filepath.Join(dir, goarch, "bootstrap")
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", out, "./cmd/responder")
	cmd.Dir = moduleRoot()
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build (%s): %w\n%s", goarch, err, msg)
	}
	return out, nil
}

func moduleRoot() string {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "."
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

// localArch is the GOARCH the bootstrap can run as on this machine.
func localArch() string { return runtime.GOARCH }

// percentile returns the p-th percentile (nearest rank) of xs.
func percentile[T cmp.Ordered](xs []T, p float64) T {
	if len(xs) == 0 {
		var zero T
		return zero
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.999999) - 1
	return s[max(0, min(i, len(s)-1))]
}

func msStr(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 2, 64) + " ms"
}
