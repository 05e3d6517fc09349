package notify_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/trailguard/trailguard/internal/notify"
	"github.com/trailguard/trailguard/internal/respond"
	"github.com/trailguard/trailguard/internal/samples"
	"github.com/trailguard/trailguard/internal/trail"
)

func sizedEvent(t *testing.T, size int) []byte {
	t.Helper()
	b, err := samples.Sized(size)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func reportOf(t *testing.T, raw []byte) respond.Report {
	t.Helper()
	ev, err := trail.Parse(raw)
	if err != nil {
		t.Fatalf("parse %d-byte event: %v", len(raw), err)
	}
	s := settings(t, "")
	p := respond.NewPlan(respond.Classify(ev, s), s, now)
	r := respond.Report{Event: ev, Plan: p, Mode: s.Mode, Started: now}
	for _, a := range p.Actions {
		if a.Step != respond.StepNotify {
			r.Outcomes = append(r.Outcomes, respond.Outcome{Action: a, Status: respond.StatusDone})
		}
	}
	return r
}

// TestAlertFitsWhateverTheEventSize: from 1 KB to 255 KB, the Publish (every
// variant, subject and attributes) stays within the budget, and the raw event
// is whole or cut with a note, never silently lost.
func TestAlertFitsWhateverTheEventSize(t *testing.T) {
	n := notify.SNS{TopicARN: "arn:aws:sns:us-east-1:123456789012:trailguard-alerts"}
	for _, kb := range []int{1, 4, 16, 40, 60, 100, 150, 200, 255} {
		raw := sizedEvent(t, kb<<10)
		if kb == 1 {
			raw, _ = samples.Event("stoplogging-iamuser")
		}
		r := reportOf(t, raw)
		in, err := n.PublishInput(r)
		if err != nil {
			t.Fatalf("%d KB: %v", kb, err)
		}
		size := notify.PublishSize(in)
		if size > notify.Budget || notify.Budget >= notify.SNSLimit {
			t.Errorf("%d KB event: publish is %d bytes, budget %d, SNS limit %d", kb, size, notify.Budget, notify.SNSLimit)
		}
		var m map[string]string
		if err := json.Unmarshal([]byte(*in.Message), &m); err != nil {
			t.Fatalf("%d KB: message is not JSON: %v", kb, err)
		}
		var doc notify.Alert
		if err := json.Unmarshal([]byte(m["default"]), &doc); err != nil {
			t.Fatalf("%d KB: document: %v", kb, err)
		}
		text := m["email"]
		switch {
		case len(doc.RawEvent) > 0:
			var a, b bytes.Buffer
			_ = json.Compact(&a, doc.RawEvent)
			_ = json.Compact(&b, raw)
			if a.String() != b.String() {
				t.Errorf("%d KB: the document's raw event differs from the event", kb)
			}
		case doc.RawEventBytes != len(raw) || !strings.HasPrefix(string(raw), doc.RawEventCut):
			t.Errorf("%d KB: cut raw event: %d bytes of %d (want %d), prefix ok %v", kb, len(doc.RawEventCut), doc.RawEventBytes, len(raw),
				strings.HasPrefix(string(raw), doc.RawEventCut))
		}
		whole := strings.Contains(text, string(raw))
		if !whole && !strings.Contains(text, "of "+fmt.Sprint(len(raw))+" bytes") && !strings.Contains(text, "not attached: the event is "+fmt.Sprint(len(raw))) {
			t.Errorf("%d KB: the text neither carries the event nor says it was cut", kb)
		}
		if !whole && !strings.Contains(text, "the responder's log line for event "+r.Event.Record.EventID) {
			t.Errorf("%d KB: the cut text does not say where the whole event is", kb)
		}
		// Small events travel whole, in both audiences' variants.
		if kb <= 60 && (len(doc.RawEvent) == 0 || !whole) {
			t.Errorf("%d KB: the event should travel whole (document %v, text %v)", kb, len(doc.RawEvent) > 0, whole)
		}
		// The document keeps the event whole longer than the text does.
		if whole && len(doc.RawEvent) == 0 {
			t.Errorf("%d KB: the text carries the whole event but the document does not", kb)
		}
		t.Logf("%3d KB event (%6d bytes): publish %6d bytes; document whole %v, text whole %v", kb, len(raw), size, len(doc.RawEvent) > 0, whole)
	}
}

// The sample that lost its alert every time before: a PutEventSelectors with
// a few hundred data resources.
func TestManyDataResourcesSampleAlertsWhole(t *testing.T) {
	raw, err := samples.Event("puteventselectors-many-data-resources")
	if err != nil {
		t.Fatal(err)
	}
	r := reportOf(t, raw)
	if !r.Plan.Classification.Tamper() {
		t.Fatal("the sample should be tampering")
	}
	msg, err := notify.Message(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(msg) > notify.Budget {
		t.Errorf("message %d bytes, budget %d", len(msg), notify.Budget)
	}
	// The event names each resource twice (request and response); the
	// message carries the event twice (the document and the email text).
	if c := strings.Count(msg, "app-data-042/uploads/"); c != 4 {
		t.Errorf("a data resource appears %d times in the message, want 4", c)
	}
}
