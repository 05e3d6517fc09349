#!/usr/bin/env bash
# walk.sh [REV]: how far one StopLogging walks through trailguard's
# production code, from the Lambda's entry to the alert. It counts the
# distinct functions (and the files holding them) that run while the
# responder handles one StopLogging by an IAM user: respond.Handler.Handle,
# the function cmd/responder hands to lambda.Start, built by awsx.NewHandler
# as at a cold start, on the in-process test world (real SDK, real engine,
# the alert published to SNS and read back from the subscriber's queue).
#
# Method: a throw-away test in internal/awsx builds the handler, stops the
# trail and handles the event; it runs twice under `go test -covermode=atomic`,
# once without the Handle call. A block whose count grew between the two
# profiles ran during the invocation; `go tool cover -func` on that
# difference lists the functions entered. (runtime/coverage.ClearCounters
# would be simpler but does not work under `go test`.) The test world's own
# packages, which serve the SDK's requests in the same process, are not
# counted, nor is initialisation (NewHandler): the walk is one invocation's.
#
# With REV, the measure is taken on that commit (exported to a temporary
# directory); without, on the working tree. -v lists the functions.
set -euo pipefail
verbose=false
if [ "${1:-}" = -v ]; then verbose=true; shift; fi
root=$(git rev-parse --show-toplevel)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ -n "${1:-}" ]; then
  src=$tmp/src
  mkdir "$src"
  git -C "$root" archive "$1" | tar -x -C "$src"
else
  src=$root
fi
cd "$src"
world=internal/testworld
[ -d "$world" ] || world=internal/emulator # before the test world's move
probe=internal/awsx/zz_walk_probe_test.go
trap 'rm -f "$src/$probe"; rm -rf "$tmp"' EXIT
cat >"$probe" <<'GO'
package awsx_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/trailguard/trailguard/internal/awsx"
	"github.com/trailguard/trailguard/internal/config"
)

func TestWalkProbeOneStopLogging(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	for _, kv := range srv.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	env := map[string]string{
		config.EnvTopicARN:            w.topicARN,
		config.EnvQuarantinePolicyARN: w.policyARN,
		config.EnvSelfRoleARN:         "arn:aws:iam::000000000000:role/trailguard-responder",
		config.EnvTrails: fmt.Sprintf(`[{"name":%q,"s3BucketName":%q,"isMultiRegionTrail":true,"includeGlobalServiceEvents":true,"enableLogFileValidation":true,"homeRegion":"us-east-1","eventSelectors":[{"readWriteType":"All","includeManagementEvents":true}]}]`,
			w.trailName, w.bucket),
	}
	h, err := awsx.NewHandler(ctx, func(k string) string { return env[k] }, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	w.stop(t)
	raw := w.event(t, "stoplogging-iamuser").Raw
	if os.Getenv("WALK_HANDLE") == "no" {
		return
	}
	if err := h.Handle(ctx, raw); err != nil {
		t.Fatal(err)
	}
	if !w.logging(t) || !w.quarantined(t) || len(w.alerts(t, 1)) != 1 {
		t.Fatal("the StopLogging was not restored, contained and alerted")
	}
}
GO
pkgs=$(go list ./... | grep -v -e /internal/testworld -e /internal/emulator -e /e2e -e /reliability -e /perf -e /internal/golden -e test$ | paste -sd, -)
for handle in no yes; do
  WALK_HANDLE=$handle go test -count=1 -run '^TestWalkProbeOneStopLogging$' -covermode=atomic -coverpkg="$pkgs" -coverprofile="$tmp/$handle.out" ./internal/awsx >"$tmp/test.log" 2>&1 || { cat "$tmp/test.log"; exit 1; }
done
# The invocation's own counts: the second profile less the first, by block.
awk 'NR==FNR { if (FNR > 1) before[$1 " " $2] = $3; next }
     FNR == 1 { print; next }
     { d = $3 - before[$1 " " $2]; print $1, $2, (d > 0 ? d : 0) }' "$tmp/no.out" "$tmp/yes.out" >"$tmp/walk.out"
go tool cover -func="$tmp/walk.out" | grep -v '^total:' | awk '$NF != "0.0%" {print $1, $2}' | sed 's/:[0-9]*:\{0,1\} / /' | sort -u >"$tmp/walk"
$verbose && cat "$tmp/walk"
printf 'StopLogging walk at %s: %d functions in %d files\n' "${1:-working tree}" "$(wc -l <"$tmp/walk")" "$(cut -d' ' -f1 "$tmp/walk" | sort -u | wc -l)"
