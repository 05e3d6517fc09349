package reliability_test

import (
	"strings"
	"testing"
	"time"

	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// sdkAttempts is the SDK's default attempts per call (aws/retry
// DefaultMaxAttempts): a fault must outlast them to fail an invocation.
const sdkAttempts = 3

// TestFaultedActionRetriedByLambdaConverges: AWS throttles (429) or fails
// (500) one action for longer than the SDK retries it. The invocation still
// runs every other action, alerts with the failure and returns an error;
// kumo's asynchronous invocation retries the event and the retry converges:
// everything restored and contained, and a second alert says so.
func TestFaultedActionRetriedByLambdaConverges(t *testing.T) {
	cases := []struct {
		name, service, op string
		status            int
		kind              string // the alert's action kind that fails first
	}{
		{"throttled-containment", "iam", "AttachUserPolicy", 429, "attach-user-policy"},
		{"failing-restore", "cloudtrail", "StartLogging", 500, "start-logging"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := deploy(t, c.name)
			w.StopLogging()
			before := w.calls.get(c.service + ":" + c.op)
			w.Srv.FailOperation(c.service, c.op, c.status, sdkAttempts)

			raw, id := w.Event("stoplogging-iamuser", nil)
			w.Put(raw)
			w.WaitFor(30*time.Second, "a failed attempt and a clean retry", func() bool {
				lines := w.Handled(id)
				return len(lines) >= 2 && lines[len(lines)-1]["level"] == "INFO"
			})

			lines := w.Handled(id)
			if len(lines) != 2 || lines[0]["level"] != "ERROR" {
				t.Fatalf("handled %d times (%v), want one failure then one success", len(lines), lines)
			}
			if got := w.calls.get(c.service+":"+c.op) - before; got != sdkAttempts+1 {
				t.Errorf("%s:%s reached AWS %d times, want %d failed attempts and 1 success", c.service, c.op, got, sdkAttempts)
			}
			if !w.Logging() {
				t.Error("trail does not log after the retry")
			}
			if w.attached() != 1 {
				t.Errorf("deny-all attached %d times, want 1", w.attached())
			}
			if got := w.KeyStatus(); got != iamtypes.StatusTypeInactive {
				t.Errorf("access key %s, want Inactive", got)
			}

			alerts := w.alerts(2, 10*time.Second)
			if len(alerts) != 2 {
				t.Fatalf("subscriber got %d alerts, want 2 (the failed attempt and the retry)", len(alerts))
			}
			// A standard SQS queue does not keep order (nor does the test
			// world, when a receive's answer is lost and its message comes
			// back later): the failed attempt's alert is the one saying so.
			first, second := alerts[0], alerts[1]
			if second[c.kind] == "failed" {
				first, second = second, first
			}
			if first[c.kind] != "failed" {
				t.Errorf("first alert: %s is %q, want failed (%v)", c.kind, first[c.kind], first)
			}
			for k, s := range first {
				if k != c.kind && k != "notify" && s != "done" {
					t.Errorf("first alert: %s is %q; the other actions must still run", k, s)
				}
			}
			for k, s := range second {
				if k != "notify" && s != "done" {
					t.Errorf("second alert: %s is %q, want done", k, s)
				}
			}
		})
	}
}

// TestPermanentFailureEndsInOnFailurePathWithReason: an action fails on
// every attempt (here a 500 outlasting the SDK's retries on all three
// deliveries). Lambda's two retries are spent, the other actions ran on the
// first attempt, and the event leaves through the on-failure path — kumo
// has no destinations, so that is kumo's "dropped" log line — while each
// attempt's responder log line names the failed action and the AWS error.
func TestPermanentFailureEndsInOnFailurePathWithReason(t *testing.T) {
	w := deploy(t, "permanent")
	w.StopLogging()
	const deliveries = 3 // the first attempt and Lambda's two retries
	w.Srv.FailOperation("iam", "UpdateAccessKey", 500, deliveries*sdkAttempts)

	raw, id := w.Event("stoplogging-iamuser", nil)
	w.Put(raw)
	w.WaitFor(45*time.Second, "three failed attempts and kumo giving up", func() bool {
		return len(w.Handled(id)) >= deliveries && strings.Contains(kumoLog.String(), "dropped after function error retries")
	})

	lines := w.Handled(id)
	if len(lines) != deliveries {
		t.Errorf("handled %d times, want %d", len(lines), deliveries)
	}
	for i, l := range lines {
		if l["level"] != "ERROR" {
			t.Errorf("attempt %d logged at %v, want ERROR", i+1, l["level"])
		}
		s := strings.Join(strings.Fields(strings.ReplaceAll(toJSON(t, l["outcomes"]), `\"`, `"`)), " ")
		if !strings.Contains(s, "InternalFailure") || !strings.Contains(s, "failed") {
			t.Errorf("attempt %d: outcomes do not name the failure: %s", i+1, s)
		}
	}
	if !strings.Contains(kumoLog.String(), w.Responder) {
		t.Errorf("kumo's drop line does not name the function:\n%s", kumoLog.String())
	}
	// The other actions were taken on the first attempt; nothing else lost.
	if !w.Logging() {
		t.Error("trail does not log")
	}
	if w.attached() != 1 {
		t.Errorf("deny-all attached %d times, want 1", w.attached())
	}
	if got := w.calls.get("sns:Publish"); got != deliveries {
		t.Errorf("%d alerts published, want one per attempt (%d)", got, deliveries)
	}
}
