package awsx_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/trailguard/trailguard/internal/notify"
	"github.com/trailguard/trailguard/internal/respond"
	"github.com/trailguard/trailguard/internal/samples"
	"github.com/trailguard/trailguard/internal/trail"
)

// measuringSNS is the real SDK client, with each Publish measured as SNS
// counts it: kumo does not enforce the 256 KB limit, so the test does.
type measuringSNS struct {
	*sns.Client
	sizes []int
}

func (m *measuringSNS) Publish(ctx context.Context, in *sns.PublishInput, o ...func(*sns.Options)) (*sns.PublishOutput, error) {
	m.sizes = append(m.sizes, notify.PublishSize(in))
	return m.Client.Publish(ctx, in, o...)
}

// TestAlertsOfEverySizeAreDelivered publishes, through the real SDK to the
// emulator's SNS, the alerts of events from 1 KB to 255 KB (the
// PutEventSelectors sample with a few hundred data resources, grown): each
// Publish stays under SNS's limit and reaches the SQS subscriber.
func TestAlertsOfEverySizeAreDelivered(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	client := &measuringSNS{Client: w.clients.SNS}
	n := notify.SNS{Client: client, TopicARN: w.topicARN}
	s := w.settings(t, nil)
	for i, kb := range []int{1, 16, 40, 60, 100, 200, 255} {
		raw, err := samples.Sized(kb << 10)
		if kb == 1 {
			raw, err = samples.Event("stoplogging-iamuser")
		}
		if err != nil {
			t.Fatal(err)
		}
		ev, err := trail.Parse(raw)
		if err != nil {
			t.Fatalf("%d KB: %v", kb, err)
		}
		p := respond.NewPlan(respond.Classify(ev, s), s, ev.Record.EventTime)
		if err := n.Notify(ctx, respond.Report{Event: ev, Plan: p, Mode: s.Mode}); err != nil {
			t.Fatalf("%d KB: %v", kb, err)
		}
		if size := client.sizes[i]; size >= notify.SNSLimit || size > notify.Budget {
			t.Errorf("%d KB event: publish of %d bytes, SNS allows %d", kb, size, notify.SNSLimit)
		}
		got := w.alerts(t, 1)
		if len(got) != 1 {
			t.Fatalf("%d KB: %d alerts delivered, want 1", kb, len(got))
		}
		var doc notify.Alert
		if err := json.Unmarshal([]byte(got[0].Message), &doc); err != nil {
			t.Fatalf("%d KB: the SQS subscriber did not get the document: %v", kb, err)
		}
		if doc.Event.ID != ev.Record.EventID || (len(doc.RawEvent) == 0 && doc.RawEventBytes != len(raw)) {
			t.Errorf("%d KB: document event %s, raw %d bytes, cut %d of %d", kb, doc.Event.ID, len(doc.RawEvent), len(doc.RawEventCut), doc.RawEventBytes)
		}
		t.Logf("%3d KB event: publish %6d bytes, document carries the event %s", kb, client.sizes[i],
			map[bool]string{true: "whole", false: fmt.Sprintf("cut to %d bytes", len(doc.RawEventCut))}[len(doc.RawEvent) > 0])
	}
}
