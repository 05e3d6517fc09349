package demo_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard/internal/demo"
	"github.com/trailguard/trailguard/internal/emulator"
)

// bootstrap is the responder binary, built once: the same code path the
// CLI's hidden lambda-responder command runs.
var bootstrap string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "trailguard-demo-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if bootstrap, err = emulator.BuildResponder(ctx, dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

func play(t *testing.T, sc demo.Scenario) demo.Result {
	t.Helper()
	res, err := demo.Run(t.Context(), sc, demo.Options{
		Responder: demo.Responder{Path: bootstrap},
		Names:     demo.DefaultNames().WithSuffix("t-" + string(sc)),
		Wait:      30 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK {
		var b strings.Builder
		_ = demo.WriteText(&b, res)
		t.Errorf("verdict FAIL:\n%s", b.String())
	}
	return res
}

func TestStopLogging(t *testing.T) {
	res := play(t, demo.StopLogging)
	t.Logf("%+v", res.After)
}
