package notify_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/notify"
	"github.com/trailguard/trailguard/internal/respond"
	"github.com/trailguard/trailguard/internal/samples"
	"github.com/trailguard/trailguard/internal/trail"
)

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func settings(t *testing.T, mode string) config.Settings {
	t.Helper()
	env := map[string]string{
		config.EnvTopicARN:    "arn:aws:sns:us-east-1:123456789012:trailguard-alerts",
		config.EnvSelfRoleARN: "arn:aws:iam::123456789012:role/trailguard-responder",
		config.EnvMode:        mode,
	}
	s, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// report builds the report of a sample as the engine would, every action
// ending with status st (notify excluded, as the alert is sent after).
func report(t *testing.T, name string, st respond.Status) respond.Report {
	t.Helper()
	raw, err := samples.Event(name)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := trail.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	s := settings(t, "")
	p := respond.NewPlan(respond.Classify(ev, s), s, now)
	r := respond.Report{Event: ev, Plan: p, Mode: s.Mode, Started: now}
	for _, a := range p.Actions {
		switch {
		case a.Step == respond.StepNotify:
		case a.Kind == respond.KindManual:
			r.Outcomes = append(r.Outcomes, respond.Outcome{Action: a, Status: respond.StatusManual})
		default:
			o := respond.Outcome{Action: a, Status: st, Duration: 12 * time.Millisecond}
			if st == respond.StatusFailed {
				o.Error = "ThrottlingException: Rate exceeded"
			}
			r.Outcomes = append(r.Outcomes, o)
		}
	}
	return r
}

func checkSubject(t *testing.T, label, s string) {
	t.Helper()
	if s == "" || len(s) > notify.MaxSubject {
		t.Errorf("%s: subject has %d characters: %q", label, len(s), s)
	}
	for _, r := range s {
		if r < 0x20 || r > 0x7e {
			t.Errorf("%s: subject has non-printable-ASCII %q: %q", label, r, s)
		}
	}
}

func TestSubjectRulesHoldForEverySample(t *testing.T) {
	for _, name := range samples.Names() {
		for _, st := range []respond.Status{respond.StatusDone, respond.StatusFailed, respond.StatusDryRun} {
			r := report(t, name, st)
			s := notify.Subject(r)
			checkSubject(t, name+"/"+string(st), s)
			c := r.Plan.Classification
			if !strings.HasPrefix(s, strings.ToUpper(c.Severity.String())+" "+r.Event.Record.EventName) {
				t.Errorf("%s: subject %q does not open with severity and event", name, s)
			}
			if st == respond.StatusFailed && len(r.Outcomes) > 0 && !strings.Contains(s, "FAILED") && hasEnforcing(r) {
				t.Errorf("%s: subject %q hides a failed action", name, s)
			}
		}
	}
}

func hasEnforcing(r respond.Report) bool {
	for _, o := range r.Outcomes {
		if o.Action.Step != respond.StepNotify && o.Action.Kind != respond.KindManual {
			return true
		}
	}
	return false
}

func TestSubjectKeepsA64CharacterUserName(t *testing.T) {
	r := report(t, "stoplogging-iamuser-long-name", respond.StatusDone)
	user := r.Plan.Classification.Actor.Display
	if len(user) != 64 {
		t.Fatalf("sample user name has %d characters, want 64", len(user))
	}
	s := notify.Subject(r)
	if !strings.Contains(s, user) || !strings.Contains(s, "restored") {
		t.Errorf("subject %q (%d chars) lost the user name or the outcome", s, len(s))
	}
}

// Regression: the article's handler put the whole event name and user into
// the subject and SNS refused it (over 100 characters), so logging was never
// restarted. Hostile names must not break the subject either.
func TestSubjectSurvivesHostileNames(t *testing.T) {
	r := report(t, "stoplogging-iamuser", respond.StatusDone)
	for _, name := range []string{strings.Repeat("x", 300), "evil\r\nBcc: everyone", "ユーザー\t名前", ""} {
		r.Plan.Classification.Actor.Display = name
		r.Event.Record.EventName = "StopLogging" + strings.Repeat("Z", 70)
		checkSubject(t, "hostile "+name, notify.Subject(r))
	}
}

func TestTextTellsTheWholeStory(t *testing.T) {
	r := report(t, "stoplogging-iamuser", respond.StatusDone)
	r.AccountAlias = "prod-payments"
	text := notify.Text(r)
	for _, want := range []string{
		"CRITICAL", "mallory StopLogging", "arn:aws:iam::123456789012:user/mallory (IAMUser)", "AKIAIOSFODNN7EXAMPLE",
		"123456789012 (prod-payments)", "us-east-1", "the trail stops delivering events",
		"[done] restore: start-logging", "[done] contain: attach-user-policy mallory", "[done] contain: deactivate-access-key",
		"[sent] notify", "aws iam detach-user-policy --user-name mallory", "--status Active",
		"https://us-east-1.console.aws.amazon.com/cloudtrail/home?region=us-east-1#/events/",
		"RAW EVENT", r.Event.Record.EventID,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("alert text lacks %q:\n%s", want, text)
		}
	}
	if strings.Index(text, "WHAT TRAILGUARD DID") > strings.Index(text, "RAW EVENT") {
		t.Error("the raw event must come after the account of actions")
	}

	manual := notify.Text(report(t, "stoplogging-root", respond.StatusDone))
	if !strings.Contains(manual, "[MANUAL] contain") || !strings.Contains(manual, "root user cannot be restricted") {
		t.Errorf("root alert lacks the manual step:\n%s", manual)
	}
	failed := notify.Text(report(t, "stoplogging-iamuser", respond.StatusFailed))
	if !strings.Contains(failed, "[FAILED] restore: start-logging") || !strings.Contains(failed, "ThrottlingException") {
		t.Errorf("failed alert lacks the failure:\n%s", failed)
	}
	attempt := notify.Text(report(t, "stoplogging-failed", respond.StatusDone))
	if !strings.Contains(attempt, "FAILED with AccessDenied") || !strings.Contains(attempt, "Not contained: the call failed") {
		t.Errorf("failed-attempt alert:\n%s", attempt)
	}
}

func TestMessageVariants(t *testing.T) {
	r := report(t, "stoplogging-assumedrole", respond.StatusDone)
	msg, err := notify.Message(r)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(msg), &m); err != nil {
		t.Fatalf("MessageStructure=json needs a JSON object: %v", err)
	}
	if !strings.HasPrefix(m["email"], "trailguard CRITICAL") || m["sms"] != notify.Subject(r) {
		t.Errorf("email/sms variant: %.80q / %q", m["email"], m["sms"])
	}
	// The machine document is the default: SQS, Lambda, Firehose, HTTP and
	// email-json subscribers get it, and it is in the message once.
	for _, p := range []string{"sqs", "lambda", "firehose", "email-json", "http"} {
		if _, ok := m[p]; ok {
			t.Errorf("variant %q repeats the default", p)
		}
	}
	var doc notify.Alert
	if err := json.Unmarshal([]byte(m["default"]), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Schema != "trailguard.alert/v1" || doc.Severity != "critical" || !doc.Tamper || doc.Actor.RoleName != "ci-deployer" ||
		len(doc.Actions) != 2 || doc.Actions[1].Kind != respond.KindRevokeRoleSessions || doc.Actions[1].Status != respond.StatusDone ||
		len(doc.RawEvent) == 0 || doc.Event.ID == "" {
		t.Errorf("machine alert: %+v", doc)
	}
	var chat notify.ChatMessage
	if err := json.Unmarshal([]byte(m["https"]), &chat); err != nil {
		t.Fatal(err)
	}
	if chat.Version != "1.0" || chat.Source != "custom" || !strings.Contains(chat.Content.Title, "StopLogging") || chat.Content.Description == "" {
		t.Errorf("chat alert: %+v", chat)
	}
}

func TestMessageStaysUnderSNSLimit(t *testing.T) {
	r := report(t, "stoplogging-iamuser", respond.StatusDone)
	big := strings.Repeat("x", 240<<10)
	r.Event.Raw = json.RawMessage(`{"padding":"` + big + `"}`)
	msg, err := notify.Message(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(msg) >= 256<<10 {
		t.Errorf("message is %d bytes, over SNS's 256 KB", len(msg))
	}
}

type fakeSNS struct{ in *sns.PublishInput }

func (f *fakeSNS) Publish(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	f.in = in
	return &sns.PublishOutput{MessageId: aws.String("1")}, nil
}

func TestPublish(t *testing.T) {
	f := &fakeSNS{}
	r := report(t, "stoplogging-iamuser", respond.StatusDone)
	if err := (notify.SNS{Client: f, TopicARN: "arn:aws:sns:us-east-1:123456789012:trailguard-alerts"}).Notify(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if aws.ToString(f.in.MessageStructure) != "json" || aws.ToString(f.in.Subject) != notify.Subject(r) ||
		aws.ToString(f.in.MessageAttributes["severity"].StringValue) != "critical" {
		t.Errorf("publish input: %+v", f.in)
	}
}
