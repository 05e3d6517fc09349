package awsx_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/trailguard/trailguard/internal/awsx"
	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/samples"
	"github.com/trailguard/trailguard/internal/testworld"
	"github.com/trailguard/trailguard/internal/trail"
)

// These are component tests: the real SDK clients built by awsx, the real
// engine and notifier, against the kumo emulator over HTTP. Operations kumo
// lacks (UpdateTrail, event selectors, Lake, UpdateAccessKey,
// ListAttachedUserPolicies) are answered by the testworld package's test
// doubles; see its package comment.
//
// The five scenarios the demo plays (stop-logging, delete-trail,
// blind-selectors, role-session, failed-attempt) are played on the emulator
// once, through the whole chain with the real bootstrap, by the e2e tests,
// which own them; the tests here cover what the components do beyond those
// plays: convergence, faults, reverts, the surroundings, settings.

var srv *testworld.Server

func TestMain(m *testing.M) {
	ctx := context.Background()
	var err error
	srv, err = testworld.Start(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "start emulator:", err)
		os.Exit(1)
	}
	code := m.Run()
	srv.Close()
	os.Exit(code)
}

var seq atomic.Int64

// world is one test's resources, with unique names (kumo's state is shared
// by every server in the process).
type world struct {
	trailName, trailARN, bucket string
	user, key, role             string
	policyARN                   string
	topicARN, queueURL          string
	clients                     awsx.Clients
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	n := seq.Add(1)
	w := &world{
		trailName: fmt.Sprintf("comp-trail-%d", n),
		bucket:    fmt.Sprintf("comp-logs-%d", n),
		user:      fmt.Sprintf("comp-mallory-%d", n),
		role:      fmt.Sprintf("comp-deployer-%d", n),
		clients:   awsx.NewClients(srv.Config(ctx)),
	}
	var err error
	if w.trailARN, err = srv.CreateLoggingTrail(ctx, w.trailName, w.bucket); err != nil {
		t.Fatal(err)
	}
	if _, w.key, err = srv.CreateUserWithKey(ctx, w.user); err != nil {
		t.Fatal(err)
	}
	if _, err = srv.CreateRole(ctx, w.role); err != nil {
		t.Fatal(err)
	}
	if w.policyARN, err = srv.CreateDenyAllPolicy(ctx, fmt.Sprintf("comp-deny-all-%d", n)); err != nil {
		t.Fatal(err)
	}
	if w.topicARN, w.queueURL, err = srv.CreateTopicWithQueue(ctx, fmt.Sprintf("comp-alerts-%d", n), false); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) settings(t *testing.T, extra map[string]string) config.Settings {
	t.Helper()
	env := map[string]string{
		config.EnvTopicARN:            w.topicARN,
		config.EnvQuarantinePolicyARN: w.policyARN,
		config.EnvSelfRoleARN:         "arn:aws:iam::000000000000:role/trailguard-responder",
		config.EnvTrails: fmt.Sprintf(`[{"name":%q,"s3BucketName":%q,"isMultiRegionTrail":true,"includeGlobalServiceEvents":true,"enableLogFileValidation":true,"homeRegion":"us-east-1","eventSelectors":[{"readWriteType":"All","includeManagementEvents":true}]}]`,
			w.trailName, w.bucket),
	}
	for k, v := range extra {
		env[k] = v
	}
	s, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// event loads a sample and points it at this world's trail and actors.
func (w *world) event(t *testing.T, name string) trail.Event {
	t.Helper()
	raw, err := samples.Event(name)
	if err != nil {
		t.Fatal(err)
	}
	s := string(raw)
	s = strings.ReplaceAll(s, "arn:aws:cloudtrail:us-east-1:123456789012:trail/management-trail", w.trailARN)
	s = strings.ReplaceAll(s, `"management-trail"`, fmt.Sprintf("%q", w.trailName))
	s = strings.ReplaceAll(s, "user/mallory", "user/"+w.user)
	s = strings.ReplaceAll(s, `"userName": "mallory"`, fmt.Sprintf(`"userName": %q`, w.user))
	s = strings.ReplaceAll(s, "AKIAIOSFODNN7EXAMPLE", w.key)
	s = strings.ReplaceAll(s, "ci-deployer", w.role)
	ev, err := trail.Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func (w *world) logging(t *testing.T) bool {
	t.Helper()
	out, err := w.clients.CloudTrail.GetTrailStatus(context.Background(), &cloudtrail.GetTrailStatusInput{Name: aws.String(w.trailName)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToBool(out.IsLogging)
}

func (w *world) stop(t *testing.T) {
	t.Helper()
	if _, err := w.clients.CloudTrail.StopLogging(context.Background(), &cloudtrail.StopLoggingInput{Name: aws.String(w.trailARN)}); err != nil {
		t.Fatal(err)
	}
	if w.logging(t) {
		t.Fatal("the trail still logs after StopLogging")
	}
}

func (w *world) quarantined(t *testing.T) bool {
	t.Helper()
	out, err := w.clients.IAM.ListAttachedUserPolicies(context.Background(), &iam.ListAttachedUserPoliciesInput{UserName: aws.String(w.user)})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range out.AttachedPolicies {
		if aws.ToString(p.PolicyArn) == w.policyARN {
			return true
		}
	}
	return false
}

func (w *world) keyStatus(t *testing.T) string {
	t.Helper()
	out, err := w.clients.IAM.ListAccessKeys(context.Background(), &iam.ListAccessKeysInput{UserName: aws.String(w.user)})
	if err != nil || len(out.AccessKeyMetadata) != 1 {
		t.Fatalf("list keys: %v %+v", err, out)
	}
	return string(out.AccessKeyMetadata[0].Status)
}

// dedupTable creates the world's event table (the stack's
// TRAILGUARD_DEDUP_TABLE) on the emulator and returns its name.
func (w *world) dedupTable(t *testing.T) string {
	t.Helper()
	table := "trailguard-events-" + w.user
	if err := srv.CreateDedupTable(context.Background(), table); err != nil {
		t.Fatal(err)
	}
	return table
}

// alerts returns the SNS notifications (as the SQS subscriber receives them).
func (w *world) alerts(t *testing.T, want int) []struct{ Subject, Message string } {
	t.Helper()
	return w.alertsWithin(t, want, 15*time.Second)
}

// alertsWithin waits at most wait for want alerts; tests that expect fewer
// than they ask for use a short wait.
func (w *world) alertsWithin(t *testing.T, want int, wait time.Duration) []struct{ Subject, Message string } {
	t.Helper()
	msgs, err := srv.ReceiveMessages(context.Background(), w.queueURL, want, wait)
	if err != nil {
		t.Fatal(err)
	}
	var out []struct{ Subject, Message string }
	for _, m := range msgs {
		var n struct{ Subject, Message string }
		if err := json.Unmarshal([]byte(m), &n); err != nil {
			t.Fatalf("not an SNS notification: %s", m)
		}
		out = append(out, n)
	}
	return out
}

// A trail recreated from its baseline converges when the event comes again
// (a retry, or a delivery the duplicate memory does not know): CreateTrail's
// "already exists" counts as done, and the trail is still the baseline's.
func TestRecreatedTrailConvergesOnRedelivery(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	if _, err := w.clients.CloudTrail.DeleteTrail(ctx, &cloudtrail.DeleteTrailInput{Name: aws.String(w.trailARN)}); err != nil {
		t.Fatal(err)
	}
	e := awsx.NewEngine(w.settings(t, nil), w.clients)
	if _, err := e.Respond(ctx, w.event(t, "deletetrail-iamuser")); err != nil {
		t.Fatal(err)
	}
	rep, err := e.Respond(ctx, w.event(t, "deletetrail-iamuser"))
	if err != nil {
		t.Fatalf("redelivery: %v", err)
	}
	if f := rep.Failed(); len(f) != 0 {
		t.Errorf("redelivery failed %+v", f)
	}
	got, err := w.clients.CloudTrail.GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String(w.trailName)})
	if err != nil {
		t.Fatalf("trail gone after the redelivery: %v", err)
	}
	if tr := got.Trail; aws.ToString(tr.S3BucketName) != w.bucket || !aws.ToBool(tr.IsMultiRegionTrail) || !aws.ToBool(tr.LogFileValidationEnabled) || !aws.ToBool(tr.IncludeGlobalServiceEvents) {
		t.Errorf("trail after the redelivery differs from its baseline: %+v", tr)
	}
	if !w.logging(t) {
		t.Error("the trail does not log after the redelivery")
	}
}

func TestDegradingUpdateReverted(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	e := awsx.NewEngine(w.settings(t, nil), w.clients)
	if _, err := w.clients.CloudTrail.UpdateTrail(ctx, &cloudtrail.UpdateTrailInput{Name: aws.String(w.trailARN),
		IsMultiRegionTrail: aws.Bool(false), IncludeGlobalServiceEvents: aws.Bool(false), EnableLogFileValidation: aws.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Respond(ctx, w.event(t, "updatetrail-degrade")); err != nil {
		t.Fatal(err)
	}
	got, err := w.clients.CloudTrail.GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String(w.trailName)})
	if err != nil {
		t.Fatal(err)
	}
	if tr := got.Trail; !aws.ToBool(tr.IsMultiRegionTrail) || !aws.ToBool(tr.IncludeGlobalServiceEvents) || !aws.ToBool(tr.LogFileValidationEnabled) {
		t.Errorf("trail not reverted: %+v", tr)
	}
}

func TestThrottledRestoreStillContainsAndAlertsThenRetryConverges(t *testing.T) {
	w := newWorld(t)
	w.stop(t)
	ctx := context.Background()
	e := awsx.NewEngine(w.settings(t, nil), w.clients)
	ev := w.event(t, "stoplogging-iamuser")
	// The SDK makes 3 attempts per call: three faults throttle one invocation.
	srv.FailOperation("cloudtrail", "StartLogging", 429, 3)
	rep, err := e.Respond(ctx, ev)
	if err == nil {
		t.Fatal("no error although StartLogging was throttled: Lambda would not retry")
	}
	if w.logging(t) {
		t.Fatal("fault injection did not take")
	}
	if !w.quarantined(t) || len(w.alerts(t, 1)) != 1 {
		t.Error("a failed restore stopped containment or the alert")
	}
	if len(rep.Failed()) != 1 {
		t.Errorf("failed outcomes %+v", rep.Failed())
	}
	if _, err := e.Respond(ctx, ev); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if !w.logging(t) || !w.quarantined(t) {
		t.Error("retry did not converge")
	}
}

func TestResolveSelfFromSTS(t *testing.T) {
	w := newWorld(t)
	s := w.settings(t, map[string]string{config.EnvSelfRoleARN: ""})
	s, err := awsx.ResolveSelf(context.Background(), s, w.clients.STS)
	if err != nil || s.SelfRoleARN == "" {
		t.Errorf("ResolveSelf: %q %v", s.SelfRoleARN, err)
	}
}

func TestNewHandlerRefusesBadSettings(t *testing.T) {
	env := map[string]string{config.EnvTopicARN: "", config.EnvTrails: "not json"}
	_, err := awsx.NewHandler(context.Background(), func(k string) string { return env[k] }, nil)
	if err == nil || !strings.Contains(err.Error(), config.EnvTopicARN) || !strings.Contains(err.Error(), config.EnvTrails) {
		t.Errorf("err = %v, want both bad settings named", err)
	}
}
