// Package notify turns a response report into the alert the account's owners
// receive, and publishes it on SNS.
//
// An alert is read by a person under stress, often on a phone: it opens with
// who did what, where, and what trailguard did about it (each action with its
// outcome), then what the reader must do, then the raw event. The same report
// is also published as data (MessageStructure=json): text for email, a stable
// JSON document for SQS, Lambda and other machine subscribers, and the custom
// notification schema for Amazon Q Developer in chat applications.
//
// SNS's rules are enforced here, not left to SNS: a subject is printable
// ASCII, one line, under 100 characters whatever the event and actor names;
// all variants of a message together stay well under 256 KB (see size.go).
//
// asff.go (about 430 lines) is the one place where a report becomes a Security
// Hub finding, with every field limit Security Hub enforces; its types and
// resources have their own files, and the rest stays together so that each
// limit sits beside the field it bounds.
package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/trailguard/trailguard/internal/respond"
)

// MaxSubject is the longest subject produced (SNS requires fewer than 100).
const MaxSubject = 99

// Publisher is the part of SNS the notifier calls.
type Publisher interface {
	Publish(context.Context, *sns.PublishInput, ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// SNS publishes reports to a topic. It satisfies respond.Notifier.
type SNS struct {
	Client   Publisher
	TopicARN string
}

// Notify publishes the report's alert.
func (n SNS) Notify(ctx context.Context, r respond.Report) error {
	in, err := n.input(r)
	if err != nil {
		return err
	}
	if _, err := n.Client.Publish(ctx, in); err != nil {
		return fmt.Errorf("publish alert to %s: %w", n.TopicARN, err)
	}
	return nil
}

// input is the Publish of the report's alert: within Budget, whatever the
// size of the event.
func (n SNS) input(r respond.Report) (*sns.PublishInput, error) {
	c := r.Plan.Classification
	in := &sns.PublishInput{
		TopicArn:         aws.String(n.TopicARN),
		Subject:          aws.String(Subject(r)),
		MessageStructure: aws.String("json"),
		// Attributes let subscribers filter (e.g. page only on critical).
		MessageAttributes: map[string]snstypes.MessageAttributeValue{
			"severity":  {DataType: aws.String("String"), StringValue: aws.String(c.Severity.String())},
			"eventName": {DataType: aws.String("String"), StringValue: aws.String(ascii(r.Event.Record.EventName, 256))},
			"tamper":    {DataType: aws.String("String"), StringValue: aws.String(fmt.Sprint(c.Tamper()))},
		},
	}
	msg, err := fitted(r, Budget-PublishSize(in))
	if err != nil {
		return nil, err
	}
	in.Message = aws.String(msg)
	return in, nil
}

// PublishInput returns the Publish an SNS notifier sends for r (for tests
// and measurements).
func (n SNS) PublishInput(r respond.Report) (*sns.PublishInput, error) { return n.input(r) }

// Message returns the SNS message for MessageStructure=json: the machine
// document as the default (SQS, Lambda, Firehose, HTTP, email-json), the
// text for email, the chat schema for HTTPS (chat applications) and the
// subject for SMS; within Budget, the raw event cut when needed.
func Message(r respond.Report) (string, error) {
	return fitted(r, Budget)
}

// outcome summarises what was done, in a few words, for the subject.
func outcome(r respond.Report) string {
	c := r.Plan.Classification
	counts := map[respond.Step]map[respond.Status]int{}
	for _, o := range r.Outcomes {
		if counts[o.Action.Step] == nil {
			counts[o.Action.Step] = map[respond.Status]int{}
		}
		counts[o.Action.Step][o.Status]++
	}
	var parts []string
	word := func(step respond.Step, done string) {
		m := counts[step]
		switch {
		case m == nil:
		case m[respond.StatusFailed] > 0:
			parts = append(parts, string(step)+" FAILED")
		case m[respond.StatusDryRun] > 0:
			parts = append(parts, "dry-run")
		case m[respond.StatusDone] > 0:
			parts = append(parts, done)
		case m[respond.StatusManual] > 0:
			parts = append(parts, "action needed")
		}
	}
	word(respond.StepRestore, "restored")
	word(respond.StepContain, "contained")
	switch {
	case len(parts) > 0:
	case !c.Succeeded:
		parts = append(parts, "failed attempt")
	case c.Tamper():
		parts = append(parts, "not reverted")
	default:
		parts = append(parts, "info")
	}
	return strings.Join(dedupe(parts), ", ")
}

func dedupe(in []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// Subject returns the alert's subject — "CRITICAL StopLogging by mallory:
// restored, contained" — in printable ASCII, on one line, at most MaxSubject
// characters. When space runs out the outcome is shortened first, then the
// actor's name, so a 64-character IAM user name still fits whole after the
// trail events.
func Subject(r respond.Report) string {
	c := r.Plan.Classification
	head := ascii(strings.ToUpper(c.Severity.String())+" "+r.Event.Record.EventName, 60)
	actor := ascii(c.Actor.Display, 200)
	full := ascii(outcome(r), 40)
	short, _, _ := strings.Cut(full, ",")
	for _, out := range []string{full, short} {
		if s := head + " by " + actor + ": " + out; len(s) <= MaxSubject && actor != "" {
			return s
		}
	}
	room := MaxSubject - len(head) - len(" by ") - len(": ") - len(short)
	if room < 8 || actor == "" {
		return cut(head+": "+short, MaxSubject)
	}
	return head + " by " + cut(actor, room) + ": " + short
}

// cut shortens s to max characters, marking the cut with "...".
func cut(s string, max int) string {
	if len(s) <= max {
		return s
	}
	return s[:max-3] + "..."
}

// ascii keeps printable ASCII, folds whitespace to single spaces and cuts to
// max characters.
func ascii(s string, max int) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			space = true
			continue
		case r < 0x20 || r > 0x7e:
			r = '?'
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	out := b.String()
	if len(out) > max {
		out = out[:max]
	}
	return out
}

// ConsoleURL links to the event in the CloudTrail console's event history.
func ConsoleURL(r respond.Report) string {
	rec := r.Event.Record
	region := rec.AWSRegion
	if region == "" {
		region = "us-east-1"
	}
	u := "https://" + region + ".console.aws.amazon.com/cloudtrail/home?region=" + url.QueryEscape(region) + "#/events"
	if rec.EventID != "" {
		u += "/" + url.PathEscape(rec.EventID)
	}
	return u
}

func when(t time.Time) string {
	if t.IsZero() {
		return "unknown time"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// NotifyDrift publishes a reconciliation alert: the drifts seen for the
// first time and what was done about each.
func (n SNS) NotifyDrift(ctx context.Context, r respond.ReconcileReport) error {
	text, doc := DriftText(r), mustJSON(r)
	b, err := json.Marshal(map[string]string{"default": text, "email": text, "sqs": doc, "lambda": doc})
	if err != nil {
		return fmt.Errorf("encode drift alert: %w", err)
	}
	_, err = n.Client.Publish(ctx, &sns.PublishInput{
		TopicArn:         aws.String(n.TopicARN),
		Subject:          aws.String(DriftSubject(r)),
		Message:          aws.String(string(b)),
		MessageStructure: aws.String("json"),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{
			"severity":  {DataType: aws.String("String"), StringValue: aws.String("high")},
			"eventName": {DataType: aws.String("String"), StringValue: aws.String("Reconcile")},
			"tamper":    {DataType: aws.String("String"), StringValue: aws.String("true")},
		},
	})
	if err != nil {
		return fmt.Errorf("publish drift alert to %s: %w", n.TopicARN, err)
	}
	return nil
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf(`{"error":%q}`, err.Error())
	}
	return string(b)
}

// DriftSubject names the drift found by reconciliation, within SNS's rules.
func DriftSubject(r respond.ReconcileReport) string {
	ds := r.NewDrifts()
	what := "drift"
	if len(ds) > 0 {
		what = ds[0].Resource + " " + ds[0].Field + " " + ds[0].Got
	}
	if len(ds) > 1 {
		what += fmt.Sprintf(" (+%d more)", len(ds)-1)
	}
	return cut(ascii("HIGH drift: "+what+": "+driftStatus(r.Outcomes), 200), MaxSubject)
}

// driftStatus says in a few words what was done about drift.
func driftStatus(outcomes []respond.Outcome) string {
	status := "repaired"
	for _, o := range outcomes {
		switch o.Status {
		case respond.StatusFailed:
			status = "repair FAILED"
		case respond.StatusManual:
			if status == "repaired" {
				status = "action needed"
			}
		case respond.StatusDryRun:
			status = "dry-run"
		}
	}
	return status
}

// DriftText renders a reconciliation alert for people.
func DriftText(r respond.ReconcileReport) string {
	var b strings.Builder
	fmt.Fprintf(&b, "trailguard HIGH: reconciliation found drift that no event announced (mode: %s)\n\n", r.Mode)
	b.WriteString("An event may have been lost, or a disabled rule could not see its own disabling.\n")
	b.WriteString("Look in CloudTrail's event history for who made these changes.\n\n")
	b.WriteString("DRIFT\n")
	for _, d := range r.Drifts {
		mark := ""
		if !d.New {
			mark = " (already reported)"
		}
		fmt.Fprintf(&b, "  - %s %s: %s, baseline %s%s\n", d.Resource, d.Field, d.Got, d.Want, mark)
	}
	b.WriteString("\nWHAT TRAILGUARD DID\n")
	writeActions(&b, "  ", alertActions(r.Outcomes), true)
	for i := range r.Gaps {
		fmt.Fprintf(&b, "  Gap report: %s\n", gapLine(&r.Gaps[i]))
	}
	if len(r.Errors) > 0 {
		b.WriteString("\nNOT CHECKED (read errors)\n")
		for _, e := range r.Errors {
			fmt.Fprintf(&b, "  - %s\n", e)
		}
	}
	fmt.Fprintf(&b, "\nChecked: %s\n", strings.Join(r.Checked, ", "))
	return b.String()
}
