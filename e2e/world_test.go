// Package e2e plays the whole chain offline: a CloudTrail event put on the
// emulator's EventBridge, matched by the catalog's rule, delivered to the
// real responder binary running under a Lambda runtime API, which restores
// the trail, contains the actor and alerts an SNS topic read by an SQS
// subscriber. Nothing is mocked between PutEvents and the alert: the binaries
// are the ones that ship, built by TestMain. The world is
// worldtest's (shared with the reliability tests and perf).
//
// kumo keeps one state per process, so every test uses its own resource
// names; tests run one after another, each with its own Server.
package e2e_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/trailguard/trailguard/internal/testworld"
	"github.com/trailguard/trailguard/internal/testworld/worldtest"
)

// Binaries built once by TestMain.
var (
	bootstrapBin string
	rieBin       string
)

// handleWait bounds every wait for the chain (PutEvents → function → alert).
const handleWait = 30 * time.Second

func TestMain(m *testing.M) {
	os.Exit(worldtest.RunWithResponder(m, "e2e", &bootstrapBin, func(ctx context.Context, dir string) error {
		rieBin = filepath.Join(dir, "aws-lambda-rie")
		build := exec.CommandContext(ctx, "go", "build", "-o", rieBin, "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			return fmt.Errorf("build aws-lambda-rie: %w\n%s", err, out)
		}
		return nil
	}))
}

// world is the deployed protection and its target, as a test sees them.
// The zero suffix gives the samples' own names.
type world struct{ *worldtest.World }

// deployTarget creates what the attacker goes after: a logging trail, the
// IAM user with an access key, the role, and the topic with its subscriber.
func deployTarget(t *testing.T, srv *testworld.Server, ctx context.Context, suffix string) world {
	t.Helper()
	return world{worldtest.Target(t, srv, ctx, suffix)}
}

// deploy is deployTarget plus the protection: the responder function served
// by the real bootstrap and the catalog's CloudTrail rule targeting it.
func deploy(t *testing.T, suffix string) world {
	t.Helper()
	return world{worldtest.Deploy(t, bootstrapBin, suffix)}
}

// waitHandled waits until the responder has logged its report on eventID
// and returns that log line.
func (w world) waitHandled(eventID string) map[string]any {
	w.T.Helper()
	var lines []map[string]any
	w.WaitFor(handleWait, "the responder to handle event "+eventID, func() bool {
		lines = w.Handled(eventID)
		return len(lines) > 0
	})
	return lines[0]
}

// stopLogging is the attacker's call.
func (w world) stopLogging() {
	w.T.Helper()
	w.StopLogging()
	if w.Logging() {
		w.T.Fatal("trail still logs after StopLogging")
	}
}
