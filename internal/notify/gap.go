package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/trailguard/trailguard/internal/forensics"
	"github.com/trailguard/trailguard/internal/respond"
)

// maxGapCalls bounds the calls listed in the follow-up alert's text; the
// stored report holds them all.
const maxGapCalls = 40

// NotifyGap publishes the follow-up alert of a blind window: the calls made
// while the trail was blind, referring to the first alert.
func (n SNS) NotifyGap(ctx context.Context, r forensics.Report) error {
	text, doc := GapText(r), mustJSON(r)
	b, err := json.Marshal(map[string]string{"default": text, "email": text, "sqs": doc, "lambda": doc})
	if err != nil {
		return fmt.Errorf("encode gap report alert: %w", err)
	}
	_, err = n.Client.Publish(ctx, &sns.PublishInput{
		TopicArn:         aws.String(n.TopicARN),
		Subject:          aws.String(GapSubject(r)),
		Message:          aws.String(string(b)),
		MessageStructure: aws.String("json"),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{
			"severity":  {DataType: aws.String("String"), StringValue: aws.String("high")},
			"eventName": {DataType: aws.String("String"), StringValue: aws.String("GapReport")},
			"tamper":    {DataType: aws.String("String"), StringValue: aws.String("true")},
		},
	})
	if err != nil {
		return fmt.Errorf("publish gap report to %s: %w", n.TopicARN, err)
	}
	return nil
}

// GapSubject names the window and what happened in it, within SNS's rules.
func GapSubject(r forensics.Report) string {
	w := r.Window
	s := fmt.Sprintf("GAP REPORT %s blind %s: %d calls", w.Trail, span(w.From, w.To), len(r.Calls))
	if w.ActorDisplay != "" {
		s += fmt.Sprintf(", %d by %s", len(r.ActorCalls), w.ActorDisplay)
	}
	return cut(ascii(s, 200), MaxSubject)
}

// GapText is the follow-up alert for people.
func GapText(r forensics.Report) string {
	w := r.Window
	var b strings.Builder
	line := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	line("trailguard GAP REPORT: trail %s was blind from %s to %s (%s)", w.Trail, when(w.From), when(w.To), span(w.From, w.To))
	if w.AlertEventID != "" {
		line("Follow-up to the alert on event %s (%s by %s).", w.AlertEventID, w.Cause, orDash(w.ActorDisplay))
	} else {
		line("Follow-up to the reconciliation alert: %s.", w.Cause)
	}
	line("")
	line("WHAT EVENT HISTORY HOLDS FOR THE WINDOW")
	for _, g := range r.Regions {
		status := "complete"
		switch {
		case g.Error != "":
			status = "NOT READ: " + g.Error
		case g.Truncated:
			status = "cut at the page limit"
		}
		line("  %-14s %d management events (%s)", g.Region, g.Events, status)
	}
	line("")
	if w.Actor != "" {
		line("THE ACTOR'S OWN CALLS (%s: %d)", w.Actor, len(r.ActorCalls))
		listCalls(line, r.ActorCalls)
		line("")
	}
	line("CALLS PER PRINCIPAL")
	for _, c := range r.ByPrincipal {
		line("  %5d  %s", c.Calls, c.Key)
	}
	line("CALLS PER SERVICE")
	for _, c := range r.ByService {
		line("  %5d  %s", c.Calls, c.Key)
	}
	line("")
	line("EVERY CALL (oldest first)")
	listCalls(line, r.Calls)
	line("")
	line("WHAT CANNOT BE RECOVERED")
	for _, u := range r.Unrecoverable {
		line("  - %s", u)
	}
	line("")
	line("FULL REPORT")
	line("  s3://%s/%s", r.Bucket, r.Key)
	return b.String()
}

func listCalls(line func(string, ...any), calls []forensics.Call) {
	if len(calls) == 0 {
		line("  none")
	}
	for i, c := range calls {
		if i == maxGapCalls {
			line("  … %d more in the full report", len(calls)-maxGapCalls)
			break
		}
		failed := ""
		if c.ErrorCode != "" {
			failed = " FAILED " + c.ErrorCode
		}
		line("  %s  %-12s %s %s by %s%s", c.Time.UTC().Format("15:04:05"), c.Region, c.EventSource, c.EventName, orDash(c.Principal), failed)
	}
}

// span is a window's length for people.
func span(from, to time.Time) string {
	return to.Sub(from).Round(time.Second).String()
}

// gapLine is the first alert's promise of a gap report.
func gapLine(g *respond.GapNotice) string {
	if g.Error != "" {
		return g.Error
	}
	return fmt.Sprintf("a report of the calls made while the trail was blind (%s to %s) follows after %s, with the first reconciliation run then (Event History lags up to 15 minutes)",
		when(g.From), when(g.To), when(g.Due))
}
