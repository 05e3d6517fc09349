package respond_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"

	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/respond"
	"github.com/trailguard/trailguard/internal/samples"
	"github.com/trailguard/trailguard/internal/trail"
)

// fakeAWS records every call in order and fails the operations told to.
type fakeAWS struct {
	mu        sync.Mutex
	calls     []string
	fail      map[string]error
	rolePol   map[string]string
	notified  []respond.Report
	notifyErr error
}

func newFake() *fakeAWS {
	return &fakeAWS{fail: map[string]error{}, rolePol: map[string]string{}}
}

func (f *fakeAWS) record(op string, detail string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, op+" "+detail)
	return f.fail[op]
}

func region(opts []func(*cloudtrail.Options)) string {
	o := cloudtrail.Options{Region: "default-region"}
	for _, f := range opts {
		f(&o)
	}
	return o.Region
}

func (f *fakeAWS) StartLogging(_ context.Context, in *cloudtrail.StartLoggingInput, o ...func(*cloudtrail.Options)) (*cloudtrail.StartLoggingOutput, error) {
	return &cloudtrail.StartLoggingOutput{}, f.record("StartLogging", aws.ToString(in.Name)+"@"+region(o))
}
func (f *fakeAWS) CreateTrail(_ context.Context, in *cloudtrail.CreateTrailInput, o ...func(*cloudtrail.Options)) (*cloudtrail.CreateTrailOutput, error) {
	return &cloudtrail.CreateTrailOutput{}, f.record("CreateTrail", aws.ToString(in.Name)+"@"+region(o))
}
func (f *fakeAWS) UpdateTrail(_ context.Context, in *cloudtrail.UpdateTrailInput, o ...func(*cloudtrail.Options)) (*cloudtrail.UpdateTrailOutput, error) {
	return &cloudtrail.UpdateTrailOutput{}, f.record("UpdateTrail", aws.ToString(in.Name)+"@"+region(o))
}
func (f *fakeAWS) PutEventSelectors(_ context.Context, in *cloudtrail.PutEventSelectorsInput, o ...func(*cloudtrail.Options)) (*cloudtrail.PutEventSelectorsOutput, error) {
	return &cloudtrail.PutEventSelectorsOutput{}, f.record("PutEventSelectors", aws.ToString(in.TrailName)+"@"+region(o))
}
func (f *fakeAWS) RestoreEventDataStore(_ context.Context, in *cloudtrail.RestoreEventDataStoreInput, o ...func(*cloudtrail.Options)) (*cloudtrail.RestoreEventDataStoreOutput, error) {
	return &cloudtrail.RestoreEventDataStoreOutput{}, f.record("RestoreEventDataStore", aws.ToString(in.EventDataStore))
}
func (f *fakeAWS) StartEventDataStoreIngestion(_ context.Context, in *cloudtrail.StartEventDataStoreIngestionInput, o ...func(*cloudtrail.Options)) (*cloudtrail.StartEventDataStoreIngestionOutput, error) {
	return &cloudtrail.StartEventDataStoreIngestionOutput{}, f.record("StartEventDataStoreIngestion", aws.ToString(in.EventDataStore))
}
func (f *fakeAWS) AttachUserPolicy(_ context.Context, in *iam.AttachUserPolicyInput, _ ...func(*iam.Options)) (*iam.AttachUserPolicyOutput, error) {
	return &iam.AttachUserPolicyOutput{}, f.record("AttachUserPolicy", aws.ToString(in.UserName)+" "+aws.ToString(in.PolicyArn))
}
func (f *fakeAWS) UpdateAccessKey(_ context.Context, in *iam.UpdateAccessKeyInput, _ ...func(*iam.Options)) (*iam.UpdateAccessKeyOutput, error) {
	return &iam.UpdateAccessKeyOutput{}, f.record("UpdateAccessKey", aws.ToString(in.AccessKeyId)+" "+string(in.Status))
}
func (f *fakeAWS) PutRolePolicy(_ context.Context, in *iam.PutRolePolicyInput, _ ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error) {
	if err := f.record("PutRolePolicy", aws.ToString(in.RoleName)); err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.rolePol[aws.ToString(in.RoleName)] = url.QueryEscape(aws.ToString(in.PolicyDocument))
	f.mu.Unlock()
	return &iam.PutRolePolicyOutput{}, nil
}
func (f *fakeAWS) GetRolePolicy(_ context.Context, in *iam.GetRolePolicyInput, _ ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error) {
	if err := f.record("GetRolePolicy", aws.ToString(in.RoleName)); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	doc, ok := f.rolePol[aws.ToString(in.RoleName)]
	if !ok {
		return nil, &smithy.GenericAPIError{Code: "NoSuchEntity", Message: "not found"}
	}
	return &iam.GetRolePolicyOutput{PolicyDocument: aws.String(doc)}, nil
}
func (f *fakeAWS) Notify(_ context.Context, r respond.Report) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "Notify")
	f.notified = append(f.notified, r)
	return f.notifyErr
}

func (f *fakeAWS) ops() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func engine(t *testing.T, f *fakeAWS, env map[string]string) *respond.Engine {
	return respond.New(settings(t, env), f, f, f, respond.WithClock(func() time.Time { return now }))
}

func TestRespondRestoresContainsAndNotifiesLast(t *testing.T) {
	f := newFake()
	rep, err := engine(t, f, nil).Respond(context.Background(), event(t, "stoplogging-iamuser"))
	if err != nil {
		t.Fatal(err)
	}
	ops := f.ops()
	if len(ops) != 4 {
		t.Fatalf("calls %q, want 4", ops)
	}
	if ops[3] != "Notify" {
		t.Errorf("last call %q, want Notify", ops[3])
	}
	done := strings.Join(ops[:3], ",")
	for _, want := range []string{"StartLogging " + trailARN + "@us-east-1", "AttachUserPolicy mallory " + denyAll, "UpdateAccessKey AKIAIOSFODNN7EXAMPLE Inactive"} {
		if !strings.Contains(done, want) {
			t.Errorf("calls %q lack %q", done, want)
		}
	}
	// The alert knows the outcome of every action before it.
	if got := len(f.notified[0].Outcomes); got != 3 {
		t.Errorf("alert saw %d outcomes, want 3", got)
	}
	for _, o := range rep.Outcomes {
		if o.Status != respond.StatusDone {
			t.Errorf("%s: %s %s", o.Action, o.Status, o.Error)
		}
	}
}

// gatedFake holds containment until the restore call has arrived: if restore
// ever waited for containment again, this test would deadlock and fail.
type gatedFake struct {
	*fakeAWS
	restored chan struct{}
	once     sync.Once
}

func (g *gatedFake) StartLogging(ctx context.Context, in *cloudtrail.StartLoggingInput, o ...func(*cloudtrail.Options)) (*cloudtrail.StartLoggingOutput, error) {
	g.once.Do(func() { close(g.restored) })
	return g.fakeAWS.StartLogging(ctx, in, o...)
}

func (g *gatedFake) AttachUserPolicy(ctx context.Context, in *iam.AttachUserPolicyInput, o ...func(*iam.Options)) (*iam.AttachUserPolicyOutput, error) {
	select {
	case <-g.restored:
	case <-time.After(5 * time.Second):
		return nil, errors.New("containment ran while restore had not been issued")
	}
	return g.fakeAWS.AttachUserPolicy(ctx, in, o...)
}

func TestRestoreWaitsForNothing(t *testing.T) {
	g := &gatedFake{fakeAWS: newFake(), restored: make(chan struct{})}
	e := respond.New(settings(t, nil), g, g, g, respond.WithClock(func() time.Time { return now }))
	if _, err := e.Respond(context.Background(), event(t, "stoplogging-iamuser")); err != nil {
		t.Fatal(err)
	}
}

func TestRestoreStepsStayInOrder(t *testing.T) {
	f := newFake()
	if _, err := engine(t, f, nil).Respond(context.Background(), event(t, "deletetrail-iamuser")); err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, op := range f.ops() {
		if name, _, _ := strings.Cut(op, " "); name == "CreateTrail" || name == "PutEventSelectors" || name == "StartLogging" {
			order = append(order, name)
		}
	}
	if want := []string{"CreateTrail", "PutEventSelectors", "StartLogging"}; strings.Join(order, ",") != strings.Join(want, ",") {
		t.Errorf("restore order %q, want %q: a recreated trail must exist before it is started", order, want)
	}
}

func TestDuplicateDeliveryAnsweredOnce(t *testing.T) {
	f := newFake()
	var logs bytes.Buffer
	h := respond.Handler{Engine: engine(t, f, nil), Log: slog.New(slog.NewJSONHandler(&logs, nil)), Delivered: respond.NewDeliveries(2)}
	raw, _ := samples.Event("stoplogging-iamuser")
	for range 3 {
		if err := h.Handle(context.Background(), raw); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(f.notified); got != 1 {
		t.Errorf("%d alerts for three deliveries of one event, want 1", got)
	}
	if n := strings.Count(logs.String(), "duplicate delivery"); n != 2 {
		t.Errorf("%d duplicates logged, want 2:\n%s", n, logs.String())
	}
	// A failed event is not remembered: Lambda's retry must run again.
	f2 := newFake()
	f2.fail["StartLogging"] = errors.New("throttled")
	h = respond.Handler{Engine: engine(t, f2, nil), Log: slog.New(slog.DiscardHandler), Delivered: respond.NewDeliveries(2)}
	for range 2 {
		if err := h.Handle(context.Background(), raw); err == nil {
			t.Fatal("a failed restore must be an error")
		}
	}
	if got := len(f2.notified); got != 2 {
		t.Errorf("retry of a failed event answered %d times, want 2", got)
	}
	// The memory is bounded: the oldest IDs are forgotten.
	d := respond.NewDeliveries(2)
	for _, id := range []string{"a", "b", "c"} {
		d.Done(id)
	}
	if d.Seen("a") || !d.Seen("b") || !d.Seen("c") {
		t.Error("Deliveries does not keep exactly the newest IDs")
	}
}

func TestFailedActionDoesNotStopTheOthers(t *testing.T) {
	f := newFake()
	f.fail["StartLogging"] = &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}
	f.fail["AttachUserPolicy"] = &smithy.GenericAPIError{Code: "AccessDenied", Message: "not allowed"}
	rep, err := engine(t, f, nil).Respond(context.Background(), event(t, "stoplogging-iamuser"))
	if err == nil {
		t.Fatal("Respond returned no error although enforcing actions failed: Lambda would not retry")
	}
	if !strings.Contains(err.Error(), "ThrottlingException") || !strings.Contains(err.Error(), "AccessDenied") {
		t.Errorf("error %q does not name both failures", err)
	}
	if got := len(f.ops()); got != 4 {
		t.Errorf("calls %q: every action must still run", f.ops())
	}
	if len(rep.Failed()) != 2 {
		t.Errorf("report has %d failures, want 2", len(rep.Failed()))
	}
	if len(f.notified) != 1 {
		t.Fatal("no alert after failures")
	}
}

func TestNotifyFailureIsAnError(t *testing.T) {
	f := newFake()
	f.notifyErr = errors.New("topic gone")
	if _, err := engine(t, f, nil).Respond(context.Background(), event(t, "stoplogging-iamuser")); err == nil || !strings.Contains(err.Error(), "topic gone") {
		t.Errorf("err = %v, want the lost alert reported", err)
	}
}

func TestDryRunChangesNothing(t *testing.T) {
	f := newFake()
	rep, err := engine(t, f, map[string]string{config.EnvMode: "dry-run"}).Respond(context.Background(), event(t, "deletetrail-iamuser"))
	if err != nil {
		t.Fatal(err)
	}
	if ops := f.ops(); len(ops) != 1 || ops[0] != "Notify" {
		t.Errorf("dry-run made calls %q, want only the alert", ops)
	}
	for _, o := range rep.Outcomes[:len(rep.Outcomes)-1] {
		if o.Status != respond.StatusDryRun {
			t.Errorf("%s: status %s, want dry-run", o.Action, o.Status)
		}
	}
}

func TestFailedAttemptOnlyAlerts(t *testing.T) {
	f := newFake()
	if _, err := engine(t, f, nil).Respond(context.Background(), event(t, "stoplogging-failed")); err != nil {
		t.Fatal(err)
	}
	if ops := f.ops(); len(ops) != 1 || ops[0] != "Notify" {
		t.Errorf("failed attempt made calls %q, want only the alert", ops)
	}
}

func TestRevocationConvergesUnderDuplicates(t *testing.T) {
	f := newFake()
	ev := event(t, "stoplogging-assumedrole")
	clock := now
	e := respond.New(settings(t, nil), f, f, f, respond.WithClock(func() time.Time { return clock }))
	for i := 0; i < 3; i++ {
		if _, err := e.Respond(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	puts := 0
	for _, op := range f.ops() {
		if strings.HasPrefix(op, "PutRolePolicy") {
			puts++
		}
	}
	if puts != 1 {
		t.Errorf("three deliveries wrote the revocation %d times, want once", puts)
	}
	// A later delivery moves the cut-off forward, never back.
	clock = now.Add(time.Hour)
	rep, err := e.Respond(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if o := rep.Outcomes[1]; o.Status != respond.StatusDone || o.Detail != "" {
		t.Errorf("later delivery: %s %q, want a new revocation", o.Status, o.Detail)
	}
	doc, _ := url.QueryUnescape(f.rolePol["ci-deployer"])
	if !strings.Contains(doc, now.Add(time.Hour+time.Second).Format(time.RFC3339)) {
		t.Errorf("policy %s does not carry the later cut-off", doc)
	}
	clock = now
	rep, _ = e.Respond(context.Background(), ev)
	if d := rep.Outcomes[1].Detail; !strings.Contains(d, "revoked already") {
		t.Errorf("late duplicate: detail %q, want the newer revocation kept", d)
	}
}

func TestRecreateIsIdempotent(t *testing.T) {
	f := newFake()
	f.fail["CreateTrail"] = &smithy.GenericAPIError{Code: "TrailAlreadyExistsException", Message: "exists"}
	rep, err := engine(t, f, nil).Respond(context.Background(), event(t, "deletetrail-iamuser"))
	if err != nil {
		t.Fatalf("a trail recreated by an earlier delivery must not fail the retry: %v", err)
	}
	if d := rep.Outcomes[0].Detail; !strings.Contains(d, "exists already") {
		t.Errorf("create-trail detail %q", d)
	}
}

func TestHandlerRejectsMalformedWithoutActing(t *testing.T) {
	f := newFake()
	var logs bytes.Buffer
	h := respond.Handler{Engine: engine(t, f, nil), Log: slog.New(slog.NewJSONHandler(&logs, nil))}
	for name, raw := range samples.Malformed() {
		err := h.Handle(context.Background(), raw)
		if !errors.Is(err, trail.ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", name, err)
		}
	}
	if ops := f.ops(); len(ops) != 0 {
		t.Errorf("malformed input caused calls %q", ops)
	}
	if n := strings.Count(logs.String(), `"msg":"event rejected"`); n != len(samples.Malformed()) {
		t.Errorf("%d rejections logged, want %d", n, len(samples.Malformed()))
	}
}

func TestHandlerLogsOneLinePerEvent(t *testing.T) {
	f := newFake()
	var logs bytes.Buffer
	h := respond.Handler{Engine: engine(t, f, nil), Log: slog.New(slog.NewJSONHandler(&logs, nil))}
	raw, _ := samples.Event("stoplogging-assumedrole")
	if err := h.Handle(context.Background(), raw); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("%d log lines, want 1:\n%s", len(lines), logs.String())
	}
	var line struct {
		Msg   string
		Event struct {
			ID, Name string
		}
		Classification struct {
			Severity, Containment, Actor string
			Tamper                       bool
		}
		Plan     []string
		Outcomes []struct{ Action, Status string }
	}
	if err := json.Unmarshal([]byte(lines[0]), &line); err != nil {
		t.Fatal(err)
	}
	if line.Event.Name != "StopLogging" || line.Event.ID == "" || line.Classification.Severity != "critical" ||
		line.Classification.Containment != "revoke-role-sessions" || !line.Classification.Tamper {
		t.Errorf("log line lacks the classification: %s", lines[0])
	}
	if len(line.Plan) != 3 || len(line.Outcomes) != 3 || line.Outcomes[1].Status != "done" {
		t.Errorf("log line lacks plan or outcomes: %s", lines[0])
	}
}

func TestHandlerScheduledWithoutReconcile(t *testing.T) {
	h := respond.Handler{Engine: engine(t, newFake(), nil), Log: slog.New(slog.DiscardHandler)}
	err := h.Handle(context.Background(), json.RawMessage(`{"source":"aws.events","detail-type":"Scheduled Event","detail":{}}`))
	if err == nil {
		t.Error("a scheduled invocation without reconciliation configured must be an error")
	}
	called := false
	h.Reconcile = func(context.Context) error { called = true; return nil }
	if err := h.Handle(context.Background(), json.RawMessage(`{"source":"aws.events","detail-type":"Scheduled Event","detail":{}}`)); err != nil || !called {
		t.Errorf("reconcile not called (err %v)", err)
	}
}

func ExampleNewPlan() {
	raw, _ := samples.Event("stoplogging-assumedrole")
	ev, _ := trail.Parse(raw)
	s, _ := config.Load(func(k string) string {
		return map[string]string{config.EnvTopicARN: topicARN, config.EnvSelfRoleARN: selfRole}[k]
	})
	p := respond.NewPlan(respond.Classify(ev, s), s, now)
	for _, a := range p.Actions {
		fmt.Printf("%-8s %s\n", a.Step, a)
	}
	// Output:
	// restore  start-logging arn:aws:cloudtrail:us-east-1:123456789012:trail/management-trail (us-east-1)
	// contain  revoke-role-sessions ci-deployer
	// notify   notify arn:aws:sns:us-east-1:123456789012:trailguard-alerts
}

// panickyFake panics in one containment call.
type panickyFake struct{ *fakeAWS }

func (p panickyFake) UpdateAccessKey(context.Context, *iam.UpdateAccessKeyInput, ...func(*iam.Options)) (*iam.UpdateAccessKeyOutput, error) {
	panic("client bug")
}

func TestPanickingActionIsAFailureNotACrash(t *testing.T) {
	p := panickyFake{newFake()}
	e := respond.New(settings(t, nil), p, p, p, respond.WithClock(func() time.Time { return now }))
	rep, err := e.Respond(context.Background(), event(t, "stoplogging-iamuser"))
	if err == nil || !strings.Contains(err.Error(), "internal error in deactivate-access-key") {
		t.Errorf("err = %v, want the panic reported as the action's failure", err)
	}
	if len(p.notified) != 1 || len(rep.Failed()) != 1 {
		t.Errorf("alerts %d, failures %+v: the other actions and the alert must still happen", len(p.notified), rep.Failed())
	}
}
