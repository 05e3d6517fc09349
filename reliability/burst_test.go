package reliability_test

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// burstSize is how many events the burst puts on the bus.
const burstSize = 1000

// TestBurstAllHandledNoAlertLostNoLeak puts 1000 tamper events on the bus
// in quick succession (PutEvents, ten per call). Every one reaches the real
// bootstrap through the rule and kumo's asynchronous invocation, every one
// is handled successfully and alerted (1000 Publish requests, 1000
// messages on the subscriber), and the process's open file descriptors and
// threads after the burst stay within a small bound of what they were after
// the first event (no goroutine blocked on a connection, no connection per
// event). The peak RSS is logged; the perf program reports it.
func TestBurstAllHandledNoAlertLostNoLeak(t *testing.T) {
	if testing.Short() {
		t.Skip("burst of 1000 events")
	}
	w := deploy(t, "burst")
	pid := w.Fn.PID()

	// Warm: the first event opens the connections the burst will reuse.
	raw, id := w.Event("stoplogging-iamuser", nil)
	w.Put(raw)
	w.WaitFor(30*time.Second, "the warm-up event handled", func() bool { return len(w.Handled(id)) == 1 })
	fds0, threads0 := proc(t, pid)
	publish0 := w.calls.get("sns:Publish")

	eb := eventbridge.NewFromConfig(w.Srv.Config(w.Ctx))
	start := time.Now()
	for i := 0; i < burstSize; i += 10 {
		var entries []ebtypes.PutEventsRequestEntry
		for range 10 {
			raw, _ := w.Event("stoplogging-iamuser", nil)
			var env struct {
				Source     string          `json:"source"`
				DetailType string          `json:"detail-type"`
				Detail     json.RawMessage `json:"detail"`
			}
			if err := json.Unmarshal(raw, &env); err != nil {
				t.Fatal(err)
			}
			entries = append(entries, ebtypes.PutEventsRequestEntry{
				Source: aws.String(env.Source), DetailType: aws.String(env.DetailType), Detail: aws.String(string(env.Detail)),
			})
		}
		out, err := eb.PutEvents(w.Ctx, &eventbridge.PutEventsInput{Entries: entries})
		if err != nil || out.FailedEntryCount > 0 {
			t.Fatalf("put events: %v (%d failed)", err, out.FailedEntryCount)
		}
	}
	put := time.Since(start)
	w.WaitFor(60*time.Second, "every event of the burst handled", func() bool {
		return w.calls.get("sns:Publish")-publish0 >= burstSize && len(w.Handled("")) >= burstSize+1
	})
	took := time.Since(start)

	lines := w.Handled("")
	failed := 0
	for _, l := range lines {
		if l["level"] != "INFO" {
			failed++
		}
	}
	if len(lines) != burstSize+1 || failed > 0 {
		t.Errorf("handled %d events (%d with failures), want %d, all clean", len(lines), failed, burstSize+1)
	}
	if got := w.calls.get("sns:Publish") - publish0; got != burstSize {
		t.Errorf("%d alerts published, want %d", got, burstSize)
	}
	q := sqs.NewFromConfig(w.Srv.Config(w.Ctx))
	w.WaitFor(10*time.Second, "every alert on the subscriber", func() bool {
		a, err := q.GetQueueAttributes(w.Ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(w.QueueURL),
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages}})
		if err != nil {
			t.Fatal(err)
		}
		n, _ := strconv.Atoi(a.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)])
		return n == burstSize+1
	})

	fds1, threads1 := proc(t, pid)
	hwm := procStatus(t, pid, "VmHWM")
	t.Logf("burst of %d: put in %s, all handled in %s; fds %d → %d, threads %d → %d, peak RSS %d kB",
		burstSize, put.Round(time.Millisecond), took.Round(time.Millisecond), fds0, fds1, threads0, threads1, hwm)
	if fds1 > fds0+8 {
		t.Errorf("open fds grew from %d to %d over the burst", fds0, fds1)
	}
	if threads1 > threads0+8 {
		t.Errorf("threads grew from %d to %d over the burst", threads0, threads1)
	}
}
