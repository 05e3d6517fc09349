package forensics_test

import (
	"encoding/json"
	"flag"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/trailguard/trailguard/internal/awsx"
	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/forensics"
	"github.com/trailguard/trailguard/internal/notify"
	"github.com/trailguard/trailguard/internal/respond"
	"github.com/trailguard/trailguard/internal/testworld/worldtest"
	"github.com/trailguard/trailguard/internal/trail"
)

var gapOut = flag.String("gap-out", "", "write the follow-up alert of TestGapReportOnTheEmulator (text) to this file, for scripts/update-docs.sh")

const responderRole = "arn:aws:iam::123456789012:role/trailguard-responder"

// call edits a sample into another call: name, source, time, region.
func call(name, source, region string, at time.Time, readOnly bool) func(env map[string]any) {
	return func(env map[string]any) {
		d := env["detail"].(map[string]any)
		d["eventName"], d["eventSource"], d["awsRegion"] = name, source, region
		d["eventTime"], d["readOnly"] = at.Format(time.RFC3339), readOnly
		if name != "StopLogging" {
			d["requestParameters"] = map[string]any{}
		}
		env["time"], env["region"] = at.Format(time.RFC3339), region
	}
}

// The whole story on the emulator, through the real SDK: mallory stops the
// trail, works while it is blind, trailguard restores logging (the first
// alert promises a gap report); a reconciliation run before the report is
// due sends nothing, the one after it sends the follow-up naming mallory's
// calls and stores the full list in the trail's bucket.
func TestGapReportOnTheEmulator(t *testing.T) {
	srv, ctx := worldtest.Start(t)
	w := worldtest.Target(t, srv, ctx, "")
	env := w.Settings(responderRole)
	settings, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	clients := awsx.NewClients(srv.Config(ctx))

	blinded := time.Date(2025, 3, 14, 10, 21, 7, 0, time.UTC)
	restored := blinded.Add(3 * time.Minute)
	now := restored
	clock := func() time.Time { return now }
	gaps := awsx.NewReporter(settings, clients)
	gaps.Now = clock
	engine := awsx.NewEngine(settings, clients, respond.WithClock(clock), respond.WithGapRecorder(gaps))

	// The attack, and what CloudTrail's Event History records meanwhile.
	w.StopLogging()
	stop, stopID := w.Event("stoplogging-iamuser", call("StopLogging", "cloudtrail.amazonaws.com", "us-east-1", blinded, false))
	record := func(raw []byte) {
		t.Helper()
		if err := srv.RecordEvent(raw); err != nil {
			t.Fatal(err)
		}
	}
	record(stop)
	blind := []struct {
		sample, name, source, region string
		after                        time.Duration
		readOnly                     bool
	}{
		{"stoplogging-iamuser", "CreateUser", "iam.amazonaws.com", "us-east-1", 30 * time.Second, false},
		{"stoplogging-iamuser", "CreateAccessKey", "iam.amazonaws.com", "us-east-1", 45 * time.Second, false},
		{"stoplogging-iamuser", "RunInstances", "ec2.amazonaws.com", "us-east-1", 70 * time.Second, false},
		{"stoplogging-assumedrole", "DescribeInstances", "ec2.amazonaws.com", "us-east-1", 80 * time.Second, true},
		// Outside the searched regions, and after the restore: not in the report.
		{"stoplogging-iamuser", "DeleteFlowLogs", "ec2.amazonaws.com", "eu-west-1", 90 * time.Second, false},
		{"stoplogging-iamuser", "ListBuckets", "s3.amazonaws.com", "us-east-1", 10 * time.Minute, true},
	}
	for _, c := range blind {
		raw, _ := w.Event(c.sample, call(c.name, c.source, c.region, blinded.Add(c.after), c.readOnly))
		record(raw)
	}

	// The response: restore, contain, first alert.
	ev, err := trail.Parse(stop)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := engine.Respond(ctx, ev)
	if err != nil {
		t.Fatalf("respond: %v", err)
	}
	if !w.Logging() {
		t.Fatal("logging not restored")
	}
	due := restored.Add(forensics.DefaultDelay)
	if rep.Gap == nil || !rep.Gap.Due.Equal(due) || !rep.Gap.From.Equal(blinded) || rep.Gap.Error != "" {
		t.Fatalf("first report's gap notice %+v, want due %s from %s", rep.Gap, due, blinded)
	}
	first := w.Notifications(1, 10*time.Second)
	if len(first) != 1 {
		t.Fatalf("first alert: %d received", len(first))
	}
	// The subscriber (SQS) receives the alert's JSON document.
	var alert struct {
		GapReport *respond.GapNotice `json:"gapReport"`
	}
	if err := json.Unmarshal([]byte(first[0].Message), &alert); err != nil || alert.GapReport == nil || !alert.GapReport.Due.Equal(due) {
		t.Errorf("first alert does not say when the gap report follows (err %v):\n%s", err, first[0].Message)
	}

	// A run before the report is due: nothing sent, the window kept.
	now = due.Add(-time.Minute)
	if reports, err := gaps.Run(ctx); err != nil || len(reports) != 0 {
		t.Fatalf("run before due: %d reports, err %v", len(reports), err)
	}
	if n := objects(t, clients.S3, w.Bucket, forensics.PendingPrefix); len(n) != 1 {
		t.Fatalf("pending windows %v, want one", n)
	}

	// The run after it: the follow-up.
	now = due.Add(2 * time.Minute)
	reports, err := gaps.Run(ctx)
	if err != nil || len(reports) != 1 {
		t.Fatalf("run after due: %d reports, err %v", len(reports), err)
	}
	got := reports[0]
	names := func(cs []forensics.Call) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.EventName)
		}
		return out
	}
	if want := []string{"StopLogging", "CreateUser", "CreateAccessKey", "RunInstances"}; !slices.Equal(names(got.ActorCalls), want) {
		t.Errorf("actor's calls %v, want %v", names(got.ActorCalls), want)
	}
	if want := []string{"StopLogging", "CreateUser", "CreateAccessKey", "RunInstances", "DescribeInstances"}; !slices.Equal(names(got.Calls), want) {
		t.Errorf("calls %v, want %v", names(got.Calls), want)
	}
	if len(got.ByPrincipal) != 2 || got.ByPrincipal[0].Key != "arn:aws:iam::123456789012:user/mallory" || got.ByPrincipal[0].Calls != 4 {
		t.Errorf("per principal %+v", got.ByPrincipal)
	}
	if !got.Complete() || !strings.Contains(strings.Join(got.Unrecoverable, "\n"), "data events") {
		t.Errorf("complete %v, unrecoverable %v", got.Complete(), got.Unrecoverable)
	}

	// The follow-up alert refers to the first and names the calls.
	follow := w.Notifications(1, 10*time.Second)
	if len(follow) != 1 {
		t.Fatalf("follow-up alert: %d received", len(follow))
	}
	for _, want := range []string{stopID, "CreateUser", "CreateAccessKey", "RunInstances", got.Key} {
		if !strings.Contains(follow[0].Message, want) {
			t.Errorf("follow-up alert lacks %q:\n%s", want, follow[0].Message)
		}
	}
	if !strings.HasPrefix(follow[0].Subject, "GAP REPORT management-trail blind 3m0s: 5 calls, 4 by mallory") {
		t.Errorf("follow-up subject %q", follow[0].Subject)
	}

	// The evidence is in the trail's bucket; the window is forgotten.
	if keys := objects(t, clients.S3, w.Bucket, forensics.ReportPrefix); !slices.Equal(keys, []string{got.Key}) {
		t.Fatalf("stored reports %v, want [%s]", keys, got.Key)
	}
	obj, err := clients.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(w.Bucket), Key: aws.String(got.Key)})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(obj.Body)
	_ = obj.Body.Close()
	var stored forensics.Report
	if err := json.Unmarshal(body, &stored); err != nil || len(stored.Calls) != 5 || stored.Window.AlertEventID != stopID {
		t.Errorf("stored report: err %v, %d calls, alert %q", err, len(stored.Calls), stored.Window.AlertEventID)
	}
	if n := objects(t, clients.S3, w.Bucket, forensics.PendingPrefix); len(n) != 0 {
		t.Errorf("window still pending after its report: %v", n)
	}
	if reports, err := gaps.Run(ctx); err != nil || len(reports) != 0 {
		t.Errorf("a second run reported again: %d, %v", len(reports), err)
	}
	if *gapOut != "" {
		if err := os.WriteFile(*gapOut, []byte(notify.GapText(got)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func objects(t *testing.T, c *s3.Client, bucket, prefix string) []string {
	t.Helper()
	out, err := c.ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	return keys
}

// Reconciliation finding the trail off restores it and keeps the window,
// from the trail's own StopLoggingTime when it has one.
func TestReconcileKeepsTheWindow(t *testing.T) {
	srv, ctx := worldtest.Start(t)
	w := worldtest.Target(t, srv, ctx, "recon")
	env := w.Settings(responderRole)
	settings, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	clients := awsx.NewClients(srv.Config(ctx))
	gaps := awsx.NewReporter(settings, clients)
	engine := awsx.NewEngine(settings, clients, respond.WithGapRecorder(gaps))

	w.StopLogging()
	rep, err := engine.Reconcile(ctx)
	if err != nil {
		t.Fatalf("reconcile: %v", err)
	}
	if !w.Logging() {
		t.Fatal("reconciliation did not restore logging")
	}
	if len(rep.Gaps) != 1 || rep.Gaps[0].Error != "" || rep.Gaps[0].Due.IsZero() {
		t.Fatalf("gap notices %+v, want one scheduled", rep.Gaps)
	}
	if keys := objects(t, clients.S3, w.Bucket, forensics.PendingPrefix); len(keys) != 1 {
		t.Fatalf("pending windows %v, want one", keys)
	}
}

// Event History is read page by page, at most MaxPages per region: a busy
// window is cut and the report says so.
func TestCollectIsBounded(t *testing.T) {
	srv, ctx := worldtest.Start(t)
	w := worldtest.Target(t, srv, ctx, "bounded")
	start := time.Date(2025, 3, 14, 10, 0, 0, 0, time.UTC)
	for i := range 120 {
		raw, _ := w.Event("stoplogging-iamuser", call("DescribeInstances", "ec2.amazonaws.com", "us-east-1", start.Add(time.Duration(i)*time.Second), true))
		if err := srv.RecordEvent(raw); err != nil {
			t.Fatal(err)
		}
	}
	clients := awsx.NewClients(srv.Config(ctx))
	g := respond.Gap{ID: "x", Trail: "management-trail", Regions: []string{"us-east-1"}, From: start, To: start.Add(time.Hour), FromExact: true}

	r := &forensics.Reporter{CloudTrail: clients.CloudTrail, MaxPages: 2, Limiter: forensics.NewLimiter(1000)}
	rep := r.Collect(ctx, g)
	if len(rep.Calls) != 100 || rep.Regions[0].Pages != 2 || !rep.Regions[0].Truncated || rep.Complete() {
		t.Errorf("bounded: %d calls, %+v", len(rep.Calls), rep.Regions)
	}
	if !strings.Contains(strings.Join(rep.Unrecoverable, "\n"), "more than 100 events") {
		t.Errorf("truncation not said: %v", rep.Unrecoverable)
	}

	r = &forensics.Reporter{CloudTrail: clients.CloudTrail, Limiter: forensics.NewLimiter(1000)}
	rep = r.Collect(ctx, g)
	if len(rep.Calls) != 120 || rep.Regions[0].Pages != 3 || !rep.Complete() {
		t.Errorf("unbounded: %d calls, %+v", len(rep.Calls), rep.Regions)
	}
	for i := 1; i < len(rep.Calls); i++ {
		if rep.Calls[i].Time.Before(rep.Calls[i-1].Time) {
			t.Fatalf("calls not oldest first at %d", i)
		}
	}
}

// A retried response keeps one window per blinding event, the later restore
// time winning, so it is reported once.
func TestRetriedResponseKeepsOneWindow(t *testing.T) {
	srv, ctx := worldtest.Start(t)
	w := worldtest.Target(t, srv, ctx, "retry")
	clients := awsx.NewClients(srv.Config(ctx))
	r := &forensics.Reporter{S3: clients.S3}
	from := time.Date(2025, 3, 14, 10, 21, 7, 0, time.UTC)
	g := respond.Gap{ID: "6c05c86f-92f9-4263-87e0-51f1ddfca529", Trail: w.Trail, Bucket: w.Bucket, From: from, To: from.Add(time.Minute)}
	if _, err := r.RecordGap(ctx, g); err != nil {
		t.Fatal(err)
	}
	g.To = from.Add(2 * time.Minute)
	due, err := r.RecordGap(ctx, g)
	if err != nil {
		t.Fatal(err)
	}
	if keys := objects(t, clients.S3, w.Bucket, forensics.PendingPrefix); len(keys) != 1 {
		t.Fatalf("pending windows %v, want one", keys)
	}
	if want := g.To.Add(forensics.DefaultDelay); !due.Equal(want) {
		t.Errorf("due %s, want %s", due, want)
	}
	if _, err := r.RecordGap(ctx, respond.Gap{ID: "x", To: from}); err == nil {
		t.Error("a window without a bucket was accepted")
	}
}
