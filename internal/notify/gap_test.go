package notify_test

import (
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard/internal/forensics"
	"github.com/trailguard/trailguard/internal/notify"
	"github.com/trailguard/trailguard/internal/respond"
)

func TestGapSubjectAndText(t *testing.T) {
	from := time.Date(2025, 3, 14, 10, 21, 7, 0, time.UTC)
	r := forensics.Report{
		Window: respond.Gap{ID: "e1", Trail: strings.Repeat("very-long-trail-name-", 6), Cause: "StopLogging",
			Actor: "arn:aws:iam::123456789012:user/mallory", ActorDisplay: "mallory\u00e9", AlertEventID: "e1",
			From: from, To: from.Add(3 * time.Minute), Regions: []string{"us-east-1"}},
		Regions: []forensics.RegionResult{{Region: "us-east-1", Events: 2, Pages: 1}},
		Calls: []forensics.Call{
			{Time: from, EventName: "StopLogging", EventSource: "cloudtrail.amazonaws.com", Region: "us-east-1", Principal: "arn:aws:iam::123456789012:user/mallory"},
			{Time: from.Add(time.Minute), EventName: "CreateUser", EventSource: "iam.amazonaws.com", Region: "us-east-1", Principal: "arn:aws:iam::123456789012:user/mallory", ErrorCode: "AccessDenied"},
		},
		Unrecoverable: []string{"data events"},
		Bucket:        "b", Key: "trailguard/gap-reports/x.json",
	}
	r.ActorCalls = r.Calls
	s := notify.GapSubject(r)
	if len(s) > notify.MaxSubject {
		t.Errorf("subject %d characters: %q", len(s), s)
	}
	for _, c := range s {
		if c < 0x20 || c > 0x7e {
			t.Errorf("subject not printable ASCII: %q", s)
		}
	}
	text := notify.GapText(r)
	for _, want := range []string{"Follow-up to the alert on event e1", "CreateUser", "FAILED AccessDenied", "3m0s", "data events", "s3://b/trailguard/gap-reports/x.json"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
}
