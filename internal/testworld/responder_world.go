package testworld

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/trailguard/trailguard/internal/catalog"
	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/samples"
	"github.com/trailguard/trailguard/internal/trail"
)

// ResponderWorld is the responder deployed on a Server the way the stack
// deploys it, with what it protects: the target (a logging trail, an IAM
// user with an access key, a role, the deny-all quarantine policy, the alert
// topic with an SQS subscriber) and, after Deploy, the protection (the
// function served by a real bootstrap, the catalog's CloudTrail rule
// targeting it). The e2e and reliability tests (through worldtest) and
// the perf program share it.
//
// The names are the samples' own with "-"+suffix appended (none for suffix
// ""), so Event can translate a sample into this world. The demo names its
// resources itself (NewResponderWorldNamed).
type ResponderWorld struct {
	Srv *Server

	Trail, Bucket, User, Role, Responder string
	// Topic, Policy and Rule name the alert topic, the quarantine policy
	// and the responder's rule.
	Topic, Policy, Rule string

	TrailARN, KeyID, PolicyARN, TopicARN, QueueURL string

	// Extra settings for the function (e.g. TRAILGUARD_DEDUP_TABLE), set
	// before Deploy.
	Extra map[string]string

	// Set by Deploy.
	SelfRoleARN, FunctionARN, RuleName string
	Fn                                 *Function
}

// NewResponderWorld creates the target on srv. With rawAlerts the
// subscriber receives alerts as published, otherwise in SNS's notification
// envelope.
func NewResponderWorld(ctx context.Context, srv *Server, suffix string, rawAlerts bool) (*ResponderWorld, error) {
	n := WorldNames{Trail: "management-trail", Bucket: "trailguard-logs-123456789012", User: "mallory", Role: "ci-deployer", Responder: "trailguard-responder"}
	if suffix != "" {
		for _, p := range []*string{&n.Trail, &n.Bucket, &n.User, &n.Role, &n.Responder} {
			*p += "-" + suffix
		}
	}
	n.Topic, n.Policy, n.Rule = "trailguard-alerts-"+n.Responder, "trailguard-deny-all-"+n.Responder, n.Responder+"-cloudtrail"

	return NewResponderWorldNamed(ctx, srv, n, rawAlerts)
}

// WorldNames are a world's resource names; Trail, User and Role replace the
// samples' own in Event.
type WorldNames struct {
	Trail, Bucket, User, Role, Responder, Topic, Policy, Rule string
}

// NewResponderWorldNamed creates the target on srv with the given names.
func NewResponderWorldNamed(ctx context.Context, srv *Server, n WorldNames, rawAlerts bool) (*ResponderWorld, error) {
	w := &ResponderWorld{Srv: srv, Trail: n.Trail, Bucket: n.Bucket, User: n.User, Role: n.Role, Responder: n.Responder,
		Topic: n.Topic, Policy: n.Policy, Rule: n.Rule}

	var err error
	if w.TrailARN, err = srv.CreateLoggingTrail(ctx, w.Trail, w.Bucket); err != nil {
		return nil, err
	}

	if _, w.KeyID, err = srv.CreateUserWithKey(ctx, w.User); err != nil {
		return nil, err
	}

	if _, err = srv.CreateRole(ctx, w.Role); err != nil {
		return nil, err
	}

	if w.PolicyARN, err = srv.CreateDenyAllPolicy(ctx, w.Policy); err != nil {
		return nil, err
	}

	if w.TopicARN, w.QueueURL, err = srv.CreateTopicWithQueue(ctx, w.Topic, rawAlerts); err != nil {
		return nil, err
	}

	return w, nil
}

// Settings is the responder's TRAILGUARD_* configuration as the stack sets
// it; without selfRoleARN, TRAILGUARD_SELF_ROLE_ARN is left out (the
// responder then asks STS at init).
func (w *ResponderWorld) Settings(selfRoleARN string) map[string]string {
	yes := true
	trails, _ := json.Marshal([]trail.Config{{ // a marshal of plain fields cannot fail
		Name: w.Trail, S3BucketName: w.Bucket,
		IsMultiRegionTrail: &yes, IncludeGlobalServiceEvents: &yes, EnableLogFileValidation: &yes,
		EventSelectors: []trail.EventSelector{{ReadWriteType: "All", IncludeManagementEvents: &yes}},
	}})

	m := map[string]string{
		config.EnvTopicARN:            w.TopicARN,
		config.EnvMode:                string(config.Enforce),
		config.EnvQuarantinePolicyARN: w.PolicyARN,
		config.EnvTrails:              string(trails),
	}
	if selfRoleARN != "" {
		m[config.EnvSelfRoleARN] = selfRoleARN
	}

	for k, v := range w.Extra {
		m[k] = v
	}

	return m
}

// Env is the function's environment as the stack configures it: Settings
// and JSON logs (one line per event), as KEY=value pairs in sorted order.
func (w *ResponderWorld) Env(selfRoleARN string) []string {
	out := []string{"AWS_LAMBDA_LOG_FORMAT=JSON"}
	for k, v := range w.Settings(selfRoleARN) {
		out = append(out, k+"="+v)
	}

	slices.Sort(out)

	return out
}

// Deploy adds the protection: the responder's own role, the function
// (Responder) served by bootstrap with Env, and the catalog's CloudTrail
// rule (Rule) targeting it. Teardown undoes it.
func (w *ResponderWorld) Deploy(ctx context.Context, bootstrap string) error {
	return w.DeployArgs(ctx, bootstrap, nil)
}

// CloudTrailRule is the catalog's pattern for CloudTrail's API and how many
// event names it holds.
func CloudTrailRule() (string, int) {
	for _, r := range catalog.Rules() {
		if r.ID == "cloudtrail" {
			return r.Pattern.JSON(), len(r.Pattern.Detail.EventName)
		}
	}

	return "", 0
}

// DeployArgs is Deploy with the function served by binary run with args
// (the demo serves it from its own executable).
func (w *ResponderWorld) DeployArgs(ctx context.Context, binary string, args []string) error {
	pattern, _ := CloudTrailRule()
	if pattern == "" {
		return errors.New("catalog has no cloudtrail rule")
	}

	var err error
	if w.SelfRoleARN, err = w.Srv.CreateRole(ctx, w.Responder+"-role"); err != nil {
		return err
	}

	if w.FunctionARN, err = w.Srv.CreateFunction(ctx, w.Responder, w.SelfRoleARN, nil); err != nil {
		return err
	}

	if w.Fn, err = w.Srv.StartFunctionArgs(ctx, w.Responder, binary, args, w.Env(w.SelfRoleARN)); err != nil {
		return err
	}

	w.RuleName = w.Rule
	ruleARN, err := w.Srv.CreateRule(ctx, w.RuleName, pattern, w.FunctionARN)
	if err != nil {
		return err
	}

	failures := "arn:aws:sqs:" + Region + ":" + AccountID + ":" + w.Responder + "-failures"
	return w.Srv.ConfigureFunctionAsDeployed(ctx, w.Responder, failures, ruleARN)
}

// Teardown removes the rule, since kumo's rules outlive the Server and a
// later world's events must not go to a function that is gone, then stops
// the function. Call it before Server.Close; it ignores what Deploy did not
// get to.
func (w *ResponderWorld) Teardown() {
	if w.RuleName != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		eb := eventbridge.NewFromConfig(w.Srv.Config(ctx))
		_, _ = eb.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{Rule: aws.String(w.RuleName), Ids: []string{"target"}})
		_, _ = eb.DeleteRule(ctx, &eventbridge.DeleteRuleInput{Name: aws.String(w.RuleName)})
	}

	if w.Fn != nil {
		_ = w.Fn.Stop()
	}
}

var eventSeq atomic.Int64

// newEventID returns a UUID-shaped id unique within the process.
func newEventID() string {
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", time.Now().UnixNano()&0xffffffff, eventSeq.Add(1))
}

// Event returns the named sample as AWS would deliver it in this world: the
// sample's envelope and record with this world's names, its access key,
// fresh ids and the current time, and the record's eventID. edit, if not
// nil, may change the envelope further.
func (w *ResponderWorld) Event(sample string, edit func(env map[string]any)) (raw []byte, eventID string, err error) {
	b, err := samples.Event(sample)
	if err != nil {
		return nil, "", err
	}

	s := strings.NewReplacer(
		"management-trail", w.Trail,
		"user/mallory", "user/"+w.User,
		`"userName": "mallory"`, fmt.Sprintf(`"userName": %q`, w.User),
		"ci-deployer", w.Role,
	).Replace(string(b))

	var env map[string]any
	if err := json.Unmarshal([]byte(s), &env); err != nil {
		return nil, "", fmt.Errorf("sample %s: %w", sample, err)
	}

	detail, ok := env["detail"].(map[string]any)
	if !ok {
		return nil, "", fmt.Errorf("sample %s: no detail", sample)
	}

	now := time.Now().UTC().Format(time.RFC3339)
	eventID = newEventID()
	env["id"], env["time"] = newEventID(), now
	detail["eventID"], detail["requestID"], detail["eventTime"] = eventID, newEventID(), now

	if id, ok := detail["userIdentity"].(map[string]any); ok && id["type"] == "IAMUser" {
		id["accessKeyId"] = w.KeyID
	}

	if edit != nil {
		edit(env)
	}

	raw, err = json.Marshal(env)

	return raw, eventID, err
}

// Handled returns the function's "event handled…" log lines (JSON) that
// name eventID ("" for every event), in order.
func (w *ResponderWorld) Handled(eventID string) ([]map[string]any, error) {
	if w.Fn == nil {
		return nil, nil
	}

	var lines []map[string]any

	for l := range strings.Lines(w.Fn.Output()) {
		if !strings.Contains(l, `"event handled`) || !strings.Contains(l, eventID) {
			continue
		}

		var line map[string]any
		if err := json.Unmarshal([]byte(l), &line); err != nil {
			return lines, fmt.Errorf("responder log line %q: %w", l, err)
		}

		lines = append(lines, line)
	}

	return lines, nil
}

// WaitFor polls cond until it holds, and fails once d has passed or the
// function has exited.
func (w *ResponderWorld) WaitFor(d time.Duration, cond func() bool) error {
	deadline := time.Now().Add(d)

	for !cond() {
		if w.Fn != nil && w.Fn.Exited() {
			return fmt.Errorf("function %s exited", w.Fn.Name)
		}

		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s", d)
		}

		time.Sleep(20 * time.Millisecond)
	}

	return nil
}

// PID is the function process's id.
func (f *Function) PID() int { return f.cmd.Process.Pid }

// ProcStatus returns a numeric field of /proc/<pid>/status (kB for sizes;
// Linux only).
func ProcStatus(pid int, field string) (int, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0, err
	}

	for l := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			if f := strings.Fields(v); len(f) > 0 {
				return strconv.Atoi(f[0])
			}
		}
	}

	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// LockedBuffer collects output written from several goroutines (a child
// process's, a logger's) for reading while it is written.
type LockedBuffer struct{ syncBuffer }
