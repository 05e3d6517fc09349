// Package e2e plays the whole chain offline: a CloudTrail event put on the
// emulator's EventBridge, matched by the catalog's rule, delivered to the
// real responder binary running under a Lambda runtime API, which restores
// the trail, contains the actor and alerts an SNS topic read by an SQS
// subscriber. Nothing is mocked between PutEvents and the alert: the binaries
// are the ones that ship, built by TestMain.
//
// kumo keeps one state per process, so every test uses its own resource
// names; tests run one after another, each with its own Server.
package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/trailguard/trailguard/internal/catalog"
	"github.com/trailguard/trailguard/internal/emulator"
	"github.com/trailguard/trailguard/internal/samples"
	"github.com/trailguard/trailguard/internal/trail"
)

// Binaries built once by TestMain.
var (
	bootstrapBin string
	rieBin       string
)

// handleWait bounds every wait for the chain (PutEvents → function → alert).
const handleWait = 30 * time.Second

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "trailguard-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	if bootstrapBin, err = emulator.BuildResponder(ctx, dir); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: build responder:", err)
		return 1
	}
	rieBin = filepath.Join(dir, "aws-lambda-rie")
	build := exec.CommandContext(ctx, "go", "build", "-o", rieBin, "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: build aws-lambda-rie: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// names are one test's resources. The zero suffix gives the samples' own
// names.
type names struct {
	Trail, Bucket, User, Role, Responder string
}

func namesFor(suffix string) names {
	n := names{Trail: "management-trail", Bucket: "trailguard-logs-123456789012", User: "mallory", Role: "ci-deployer", Responder: "trailguard-responder"}
	if suffix != "" {
		n.Trail += "-" + suffix
		n.Bucket += "-" + suffix
		n.User += "-" + suffix
		n.Role += "-" + suffix
		n.Responder += "-" + suffix
	}
	return n
}

// world is the deployed protection and its target, as a test sees them.
type world struct {
	t   *testing.T
	ctx context.Context
	srv *emulator.Server
	names

	TrailARN, KeyID, PolicyARN, TopicARN, QueueURL, FunctionARN, RuleName string
	Fn                                                                    *emulator.Function
	ct                                                                    *cloudtrail.Client
	iam                                                                   *iam.Client
}

// startServer runs an emulator for one test and closes it after.
func startServer(t *testing.T) (*emulator.Server, context.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	srv, err := emulator.Start(ctx)
	if err != nil {
		t.Fatalf("start emulator: %v", err)
	}
	t.Cleanup(srv.Close)
	return srv, ctx
}

// baseline is the protected trail as TRAILGUARD_TRAILS describes it.
func (n names) baseline() trail.Config {
	yes := true
	return trail.Config{
		Name: n.Trail, S3BucketName: n.Bucket,
		IsMultiRegionTrail: &yes, IncludeGlobalServiceEvents: &yes, EnableLogFileValidation: &yes,
		EventSelectors: []trail.EventSelector{{ReadWriteType: "All", IncludeManagementEvents: &yes}},
	}
}

// settings returns the responder's TRAILGUARD_* environment.
func (w *world) settings(selfRoleARN string) []string {
	trails, err := json.Marshal([]trail.Config{w.baseline()})
	if err != nil {
		w.t.Fatal(err)
	}
	return []string{
		// As the stack configures the function: JSON logs, one line per event.
		"AWS_LAMBDA_LOG_FORMAT=JSON",
		"TRAILGUARD_TOPIC_ARN=" + w.TopicARN,
		"TRAILGUARD_MODE=enforce",
		"TRAILGUARD_QUARANTINE_POLICY_ARN=" + w.PolicyARN,
		"TRAILGUARD_SELF_ROLE_ARN=" + selfRoleARN,
		"TRAILGUARD_TRAILS=" + string(trails),
	}
}

// deployTarget creates what the attacker goes after: a logging trail, the
// IAM user with an access key, the role, and the topic with its subscriber.
func deployTarget(t *testing.T, srv *emulator.Server, ctx context.Context, suffix string) *world {
	t.Helper()
	w := &world{t: t, ctx: ctx, srv: srv, names: namesFor(suffix)}
	w.ct = cloudtrail.NewFromConfig(srv.Config(ctx))
	w.iam = iam.NewFromConfig(srv.Config(ctx))
	var err error
	if w.TrailARN, err = srv.CreateLoggingTrail(ctx, w.Trail, w.Bucket); err != nil {
		t.Fatal(err)
	}
	if _, w.KeyID, err = srv.CreateUserWithKey(ctx, w.User); err != nil {
		t.Fatal(err)
	}
	if _, err = srv.CreateRole(ctx, w.Role); err != nil {
		t.Fatal(err)
	}
	if w.PolicyARN, err = srv.CreateDenyAllPolicy(ctx, "trailguard-deny-all-"+w.Responder); err != nil {
		t.Fatal(err)
	}
	if w.TopicARN, w.QueueURL, err = srv.CreateTopicWithQueue(ctx, "trailguard-alerts-"+w.Responder, false); err != nil {
		t.Fatal(err)
	}
	return w
}

// deploy is deployTarget plus the protection: the responder function served
// by the real bootstrap and the catalog's CloudTrail rule targeting it.
func deploy(t *testing.T, suffix string) *world {
	t.Helper()
	srv, ctx := startServer(t)
	w := deployTarget(t, srv, ctx, suffix)

	self, err := srv.CreateRole(ctx, w.Responder+"-role")
	if err != nil {
		t.Fatal(err)
	}
	if w.FunctionARN, err = srv.CreateFunction(ctx, w.Responder, self, nil); err != nil {
		t.Fatal(err)
	}
	if w.Fn, err = srv.StartFunction(ctx, w.Responder, bootstrapBin, w.settings(self)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = w.Fn.Stop()
		if t.Failed() {
			t.Logf("responder output:\n%s", w.Fn.Output())
		}
	})

	w.RuleName = w.Responder + "-cloudtrail"
	if _, err := srv.CreateRule(ctx, w.RuleName, cloudTrailPattern(t), w.FunctionARN); err != nil {
		t.Fatal(err)
	}
	// kumo's rules outlive the Server: remove this one so no later test's
	// event is sent to a function that is gone. Runs before srv.Close.
	t.Cleanup(func() {
		eb := eventbridge.NewFromConfig(srv.Config(context.Background()))
		_, _ = eb.RemoveTargets(context.Background(), &eventbridge.RemoveTargetsInput{Rule: aws.String(w.RuleName), Ids: []string{"target"}})
		_, _ = eb.DeleteRule(context.Background(), &eventbridge.DeleteRuleInput{Name: aws.String(w.RuleName)})
	})
	return w
}

// cloudTrailPattern is the catalog's rule for CloudTrail's own API.
func cloudTrailPattern(t *testing.T) string {
	t.Helper()
	for _, r := range catalog.Rules() {
		if r.ID == "cloudtrail" {
			return r.Pattern.JSON()
		}
	}
	t.Fatal("catalog has no cloudtrail rule")
	return ""
}

// event returns the named sample as AWS would deliver it for this world:
// the sample's envelope and record with this world's names, the real access
// key, fresh ids and the current time. edit may change the envelope further.
func (w *world) event(sample string, edit func(env map[string]any)) (raw []byte, eventID string) {
	w.t.Helper()
	b, err := samples.Event(sample)
	if err != nil {
		w.t.Fatal(err)
	}
	s := string(b)
	s = strings.ReplaceAll(s, "management-trail", w.Trail)
	s = strings.ReplaceAll(s, "user/mallory", "user/"+w.User)
	s = strings.ReplaceAll(s, `"userName": "mallory"`, fmt.Sprintf("%q: %q", "userName", w.User))
	s = strings.ReplaceAll(s, "ci-deployer", w.Role)

	var env map[string]any
	if err := json.Unmarshal([]byte(s), &env); err != nil {
		w.t.Fatalf("sample %s: %v", sample, err)
	}
	now := time.Now().UTC().Format(time.RFC3339)
	eventID = newID()
	env["id"] = newID()
	env["time"] = now
	detail := env["detail"].(map[string]any)
	detail["eventID"] = eventID
	detail["requestID"] = newID()
	detail["eventTime"] = now
	if id, ok := detail["userIdentity"].(map[string]any); ok && id["type"] == "IAMUser" {
		id["accessKeyId"] = w.KeyID
	}
	if edit != nil {
		edit(env)
	}
	out, err := json.Marshal(env)
	if err != nil {
		w.t.Fatal(err)
	}
	return out, eventID
}

var idSeq int

// newID returns a UUID-shaped id unique within the process.
func newID() string {
	idSeq++
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", time.Now().UnixNano()&0xffffffff, idSeq)
}

// put sends an event on the emulator's default bus.
func (w *world) put(raw []byte) {
	w.t.Helper()
	if err := w.srv.PutCloudTrailEvent(w.ctx, raw); err != nil {
		w.t.Fatal(err)
	}
}

// waitHandled waits until the responder has logged its report on eventID
// and returns that log line.
func (w *world) waitHandled(eventID string) map[string]any {
	w.t.Helper()
	deadline := time.Now().Add(handleWait)
	for {
		for l := range strings.Lines(w.Fn.Output()) {
			if strings.Contains(l, eventID) && strings.Contains(l, `"event handled`) {
				var line map[string]any
				if err := json.Unmarshal([]byte(l), &line); err != nil {
					w.t.Fatalf("responder log line %q: %v", l, err)
				}
				return line
			}
		}
		if time.Now().After(deadline) || w.Fn.Exited() {
			w.t.Fatalf("responder never handled event %s", eventID)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// logging reports whether the trail logs.
func (w *world) logging() bool {
	w.t.Helper()
	st, err := w.ct.GetTrailStatus(w.ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String(w.Trail)})
	if err != nil {
		w.t.Fatalf("get trail status: %v", err)
	}
	return aws.ToBool(st.IsLogging)
}

// stopLogging is the attacker's call.
func (w *world) stopLogging() {
	w.t.Helper()
	if _, err := w.ct.StopLogging(w.ctx, &cloudtrail.StopLoggingInput{Name: aws.String(w.Trail)}); err != nil {
		w.t.Fatalf("stop logging: %v", err)
	}
	if w.logging() {
		w.t.Fatal("trail still logs after StopLogging")
	}
}

// attached returns the ARNs of the user's managed policies.
func (w *world) attached() []string {
	w.t.Helper()
	out, err := w.iam.ListAttachedUserPolicies(w.ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String(w.User)})
	if err != nil {
		w.t.Fatalf("list attached user policies: %v", err)
	}
	var arns []string
	for _, p := range out.AttachedPolicies {
		arns = append(arns, aws.ToString(p.PolicyArn))
	}
	return arns
}

// keyStatus returns the status of the user's access key.
func (w *world) keyStatus() iamtypes.StatusType {
	w.t.Helper()
	out, err := w.iam.ListAccessKeys(w.ctx, &iam.ListAccessKeysInput{UserName: aws.String(w.User)})
	if err != nil {
		w.t.Fatalf("list access keys: %v", err)
	}
	for _, k := range out.AccessKeyMetadata {
		if aws.ToString(k.AccessKeyId) == w.KeyID {
			return k.Status
		}
	}
	w.t.Fatalf("user %s has no key %s", w.User, w.KeyID)
	return ""
}
