package demo_test

import (
	"testing"

	"github.com/trailguard/trailguard/internal/demo"
)

// The demo's one real run is the command's test (internal/cli's TestDemo):
// the built program plays stop-logging as a user runs it, and the timeline it
// prints is checked there. The scenarios' outcomes are the e2e tests'; the
// demo's verdict is checked on results made by hand (verdict_test.go).

func TestParseScenario(t *testing.T) {
	for _, s := range []string{"stop-logging", "all", "failed-attempt"} {
		if _, err := demo.ParseScenario(s); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	if _, err := demo.ParseScenario("steal-keys"); err == nil {
		t.Error("unknown scenario accepted")
	}
}
