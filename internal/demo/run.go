package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"

	"github.com/trailguard/trailguard/internal/catalog"
	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/emulator"
	"github.com/trailguard/trailguard/internal/respond"
	"github.com/trailguard/trailguard/internal/samples"
	"github.com/trailguard/trailguard/internal/trail"
)

// run is one scenario being played.
type run struct {
	def  scenarioDef
	opts Options
	res  Result
	t0   time.Time

	srv *emulator.Server
	ct  *cloudtrail.Client
	iam *iam.Client
	fn  *emulator.Function

	keyID, policyARN, topicARN, queueURL, functionARN string
}

// step appends a timeline line stamped with the time since the start.
func (r *run) step(p Phase, text string, detail ...string) {
	ms := float64(time.Since(r.t0).Microseconds()) / 1000
	r.res.Steps = append(r.res.Steps, Step{Ms: ms, Phase: p, Text: text, Detail: detail})
}

func (r *run) play(ctx context.Context) error {
	n := r.opts.Names
	r.ct = cloudtrail.NewFromConfig(r.srv.Config(ctx))
	r.iam = iam.NewFromConfig(r.srv.Config(ctx))
	if err := r.deploy(ctx); err != nil {
		return err
	}
	defer r.teardown()

	var err error
	if r.res.Before, err = r.state(ctx); err != nil {
		return err
	}
	r.step(PhaseState, "before the attack", describe(n, r.res.Before, r.keyID)...)

	text, err := r.def.attack(ctx, r)
	if err != nil {
		return fmt.Errorf("attack: %w", err)
	}
	r.step(PhaseAttack, text)
	if r.res.Attacked, err = r.state(ctx); err != nil {
		return err
	}
	r.step(PhaseState, "after the attack", describe(n, r.res.Attacked, r.keyID)...)

	raw, id, err := r.event()
	if err != nil {
		return err
	}
	r.res.EventID, r.res.Event = id, raw
	if err := r.srv.PutCloudTrailEvent(ctx, raw); err != nil {
		return err
	}
	r.step(PhaseDetect, fmt.Sprintf("CloudTrail delivers the %s event to EventBridge (event %s)", r.def.eventName(), id))
	if matched, err := r.matched(ctx, id); err != nil {
		return err
	} else if matched {
		r.step(PhaseDetect, fmt.Sprintf("rule %s matches it and invokes Lambda function %s", n.Rule, n.Responder))
	} else {
		r.step(PhaseDetect, fmt.Sprintf("rule %s did NOT match the event", n.Rule))
	}

	if h, err := r.waitHandled(ctx, id); err != nil {
		r.step(PhaseRespond, "the responder did not report handling the event: "+err.Error())
	} else {
		r.res.Handled = h
		detail := make([]string, 0, len(h.Outcomes))
		for _, o := range h.Outcomes {
			line := fmt.Sprintf("%-7s %s (%.1f ms)", o.Status, o.Action, o.Ms)
			if o.Detail != "" {
				line += ": " + o.Detail
			}
			if o.Error != "" {
				line += ": " + o.Error
			}
			detail = append(detail, line)
		}
		r.step(PhaseRespond, fmt.Sprintf("responder handled it in %.1f ms (severity %s, actor %s)", h.DurationMs, h.Severity, h.Actor), detail...)
	}

	if a, err := r.receiveAlert(ctx); err != nil {
		r.step(PhaseNotify, "no alert reached the subscriber: "+err.Error())
	} else {
		r.res.Alert = a
		r.step(PhaseNotify, "the owner's subscriber receives the alert: "+a.Subject)
	}

	if r.res.After, err = r.state(ctx); err != nil {
		return err
	}
	r.step(PhaseState, "after the response", describe(n, r.res.After, r.keyID)...)

	r.res.Checks = r.checks()
	r.res.OK = true
	for _, c := range r.res.Checks {
		r.res.OK = r.res.OK && c.OK
	}
	r.res.TotalMs = float64(time.Since(r.t0).Microseconds()) / 1000
	return nil
}

// deploy creates the world: the target (trail, user, role) and the
// protection (deny-all policy, topic and subscriber, responder, rule).
func (r *run) deploy(ctx context.Context) error {
	n := r.opts.Names
	if _, err := r.srv.CreateLoggingTrail(ctx, n.Trail, n.Bucket); err != nil {
		return err
	}
	r.step(PhaseSetup, fmt.Sprintf("trail %s logging to bucket %s (multi-region, global events, log validation)", n.Trail, n.Bucket))

	var err error
	if _, r.keyID, err = r.srv.CreateUserWithKey(ctx, n.User); err != nil {
		return err
	}
	if _, err = r.srv.CreateRole(ctx, n.Role); err != nil {
		return err
	}
	r.step(PhaseSetup, fmt.Sprintf("IAM user %s (admin) with access key %s; role %s", n.User, r.keyID, n.Role))

	if r.topicARN, r.queueURL, err = r.srv.CreateTopicWithQueue(ctx, n.Topic, false); err != nil {
		return err
	}
	r.step(PhaseSetup, fmt.Sprintf("SNS topic %s with an SQS subscriber standing in for the owner's mailbox", n.Topic))

	if r.policyARN, err = r.srv.CreateDenyAllPolicy(ctx, n.Policy); err != nil {
		return err
	}
	self, err := r.srv.CreateRole(ctx, n.Responder+"-role")
	if err != nil {
		return err
	}
	if r.functionARN, err = r.srv.CreateFunction(ctx, n.Responder, self, nil); err != nil {
		return err
	}
	env, err := r.settings(self)
	if err != nil {
		return err
	}
	if r.fn, err = r.srv.StartFunctionArgs(ctx, n.Responder, r.opts.Responder.Path, r.opts.Responder.Args, env); err != nil {
		return err
	}
	r.step(PhaseSetup, fmt.Sprintf("Lambda function %s served by %s through the Lambda runtime API", n.Responder, strings.Join(append([]string{baseName(r.opts.Responder.Path)}, r.opts.Responder.Args...), " ")),
		"quarantine policy "+r.policyARN+" (AWSDenyAll's document)")

	pattern, count := cloudTrailRule()
	if _, err := r.srv.CreateRule(ctx, n.Rule, pattern, r.functionARN); err != nil {
		return err
	}
	r.step(PhaseSetup, fmt.Sprintf("EventBridge rule %s: %d CloudTrail tamper calls from the catalog -> %s", n.Rule, count, n.Responder))
	return nil
}

// teardown stops the function and removes the rule, so that a later run in
// this process (kumo's state outlives the Server) does not send events to a
// function that is gone.
func (r *run) teardown() {
	if r.fn != nil {
		_ = r.fn.Stop()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	eb := eventbridge.NewFromConfig(r.srv.Config(ctx))
	_, _ = eb.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{Rule: aws.String(r.opts.Names.Rule), Ids: []string{"target"}})
	_, _ = eb.DeleteRule(ctx, &eventbridge.DeleteRuleInput{Name: aws.String(r.opts.Names.Rule)})
}

// settings is the responder's environment, as the stack sets it.
func (r *run) settings(selfRoleARN string) ([]string, error) {
	n := r.opts.Names
	yes := true
	trails, err := json.Marshal([]trail.Config{{
		Name: n.Trail, S3BucketName: n.Bucket,
		IsMultiRegionTrail: &yes, IncludeGlobalServiceEvents: &yes, EnableLogFileValidation: &yes,
		EventSelectors: []trail.EventSelector{{ReadWriteType: "All", IncludeManagementEvents: &yes}},
	}})
	if err != nil {
		return nil, fmt.Errorf("encode trail baseline: %w", err)
	}
	return []string{
		"AWS_LAMBDA_LOG_FORMAT=JSON",
		config.EnvTopicARN + "=" + r.topicARN,
		config.EnvMode + "=" + string(config.Enforce),
		config.EnvQuarantinePolicyARN + "=" + r.policyARN,
		config.EnvSelfRoleARN + "=" + selfRoleARN,
		config.EnvTrails + "=" + string(trails),
	}, nil
}

// cloudTrailRule returns the catalog's pattern for CloudTrail's API and how
// many event names it holds.
func cloudTrailRule() (string, int) {
	for _, rule := range catalog.Rules() {
		if rule.ID == "cloudtrail" {
			return rule.Pattern.JSON(), len(rule.Pattern.Detail.EventName)
		}
	}
	return "", 0
}

var seq atomic.Int64

// newID returns a UUID-shaped id unique within the process.
func newID() string {
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", time.Now().UnixNano()&0xffffffff, seq.Add(1))
}

// event returns the scenario's sample as AWS would deliver it now: the
// sample's envelope and record, with this run's names, the user's real
// access key, fresh ids and the current time.
func (r *run) event() (raw []byte, eventID string, err error) {
	n := r.opts.Names
	b, err := samples.Event(r.def.sample)
	if err != nil {
		return nil, "", err
	}
	d := DefaultNames()
	s := string(b)
	s = strings.ReplaceAll(s, d.Trail, n.Trail)
	s = strings.ReplaceAll(s, "user/"+d.User, "user/"+n.User)
	s = strings.ReplaceAll(s, fmt.Sprintf("%q: %q", "userName", d.User), fmt.Sprintf("%q: %q", "userName", n.User))
	s = strings.ReplaceAll(s, d.Role, n.Role)

	var env map[string]any
	if err := json.Unmarshal([]byte(s), &env); err != nil {
		return nil, "", fmt.Errorf("decode sample %s: %w", r.def.sample, err)
	}
	detail, ok := env["detail"].(map[string]any)
	if !ok {
		return nil, "", fmt.Errorf("sample %s has no detail", r.def.sample)
	}
	now := time.Now().UTC().Format(time.RFC3339)
	eventID = newID()
	env["id"], env["time"] = newID(), now
	detail["eventID"], detail["requestID"], detail["eventTime"] = eventID, newID(), now
	if id, ok := detail["userIdentity"].(map[string]any); ok && id["type"] == "IAMUser" {
		id["accessKeyId"] = r.keyID
	}
	if raw, err = json.Marshal(env); err != nil {
		return nil, "", fmt.Errorf("encode event: %w", err)
	}
	return raw, eventID, nil
}

// matched reports whether kumo recorded the event as matched by the rule.
func (r *run) matched(ctx context.Context, eventID string) (bool, error) {
	delivered, err := r.srv.DeliveredEvents(ctx)
	if err != nil {
		return false, err
	}
	for _, d := range delivered {
		if d.RuleName == r.opts.Names.Rule && strings.Contains(d.Detail, eventID) {
			return true, nil
		}
	}
	return false, nil
}

// waitHandled waits for the responder's log line about eventID.
func (r *run) waitHandled(ctx context.Context, eventID string) (*Handled, error) {
	deadline := time.Now().Add(r.opts.Wait)
	for {
		for l := range strings.Lines(r.fn.Output()) {
			if !strings.Contains(l, eventID) {
				continue
			}
			var line struct {
				Level          string    `json:"level"`
				Msg            string    `json:"msg"`
				Message        string    `json:"message"` // Lambda's JSON log format
				DurationMs     float64   `json:"durationMs"`
				Outcomes       []Outcome `json:"outcomes"`
				Classification struct {
					Severity string `json:"severity"`
					Actor    string `json:"actor"`
				} `json:"classification"`
			}
			if json.Unmarshal([]byte(l), &line) != nil || !strings.HasPrefix(line.Msg+line.Message, "event handled") {
				continue
			}
			return &Handled{Level: line.Level, Severity: line.Classification.Severity, Actor: line.Classification.Actor,
				DurationMs: line.DurationMs, Outcomes: line.Outcomes}, nil
		}
		if r.fn.Exited() {
			return nil, fmt.Errorf("the responder exited:\n%s", r.fn.Output())
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("no report within %s", r.opts.Wait)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// receiveAlert waits for the one alert on the subscriber queue.
func (r *run) receiveAlert(ctx context.Context) (*Alert, error) {
	msgs, err := r.srv.ReceiveMessages(ctx, r.queueURL, 1, r.opts.Wait)
	if err != nil {
		return nil, err
	}
	if len(msgs) == 0 {
		return nil, fmt.Errorf("nothing within %s", r.opts.Wait)
	}
	var env struct{ Type, Subject, Message string }
	if err := json.Unmarshal([]byte(msgs[0]), &env); err != nil {
		return nil, fmt.Errorf("decode SNS notification: %w", err)
	}
	a := &Alert{Subject: env.Subject}
	if err := json.Unmarshal([]byte(env.Message), &a.Document); err != nil {
		return nil, fmt.Errorf("decode alert document: %w", err)
	}
	return a, nil
}

// state reads the trail and the actors back from the emulator.
func (r *run) state(ctx context.Context) (State, error) {
	n := r.opts.Names
	var s State
	st, err := r.ct.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String(n.Trail)})
	switch {
	case errorCode(err) == "TrailNotFoundException":
	case err != nil:
		return s, fmt.Errorf("read trail status: %w", err)
	default:
		s.TrailExists, s.Logging = true, aws.ToBool(st.IsLogging)
		sel, err := r.ct.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: aws.String(n.Trail)})
		if err != nil {
			return s, fmt.Errorf("read event selectors: %w", err)
		}
		s.ManagementEvents = managementEvents(sel)
	}

	pols, err := r.iam.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String(n.User)})
	if err != nil {
		return s, fmt.Errorf("read user policies: %w", err)
	}
	s.UserPolicies = []string{}
	for _, p := range pols.AttachedPolicies {
		s.UserPolicies = append(s.UserPolicies, aws.ToString(p.PolicyName))
	}
	keys, err := r.iam.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(n.User)})
	if err != nil {
		return s, fmt.Errorf("read access keys: %w", err)
	}
	for _, k := range keys.AccessKeyMetadata {
		if aws.ToString(k.AccessKeyId) == r.keyID {
			s.KeyStatus = string(k.Status)
		}
	}

	rp, err := r.iam.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(n.Role), PolicyName: aws.String(respond.RevokePolicyName)})
	switch {
	case errorCode(err) == "NoSuchEntity":
	case err != nil:
		return s, fmt.Errorf("read role policy: %w", err)
	default:
		s.RoleRevokedBefore = revokedBefore(aws.ToString(rp.PolicyDocument))
	}
	return s, nil
}

// managementEvents reports whether the selectors record management events.
func managementEvents(sel *cloudtrail.GetEventSelectorsOutput) bool {
	for _, s := range sel.EventSelectors {
		if aws.ToBool(s.IncludeManagementEvents) && s.ReadWriteType == cttypes.ReadWriteTypeAll {
			return true
		}
	}
	for _, a := range sel.AdvancedEventSelectors {
		for _, f := range a.FieldSelectors {
			if aws.ToString(f.Field) == "eventCategory" && len(f.Equals) == 1 && f.Equals[0] == "Management" {
				return true
			}
		}
	}
	return false
}

// revokedBefore reads the aws:TokenIssueTime cut-off from a policy
// document, URL-encoded (as AWS returns it) or not (as kumo does).
func revokedBefore(doc string) string {
	if dec, err := url.QueryUnescape(doc); err == nil {
		doc = dec
	}
	var p struct {
		Statement []struct {
			Effect    string
			Condition map[string]map[string]string
		}
	}
	if json.Unmarshal([]byte(doc), &p) != nil {
		return ""
	}
	for _, st := range p.Statement {
		if t := st.Condition["DateLessThan"]["aws:TokenIssueTime"]; st.Effect == "Deny" && t != "" {
			return t
		}
	}
	return ""
}

func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// checks are the verdict: the scenario's own conditions plus the alert's.
func (r *run) checks() []Check {
	res := &r.res
	cs := r.def.verify(res)
	alert := Check{Name: "the owner received an alert about the event"}
	if a := res.Alert; a != nil {
		alert.OK = a.Document.Event.ID == res.EventID && a.Document.Event.Name == r.def.eventName()
		alert.Detail = a.Subject
	}
	subject := Check{Name: "the alert's subject is valid for SNS (printable ASCII, under 100 characters)"}
	if a := res.Alert; a != nil {
		subject.OK = validSubject(a.Subject)
		subject.Detail = fmt.Sprintf("%d characters", len(a.Subject))
	}
	handled := Check{Name: "the responder reported every action's outcome, none failed"}
	if h := res.Handled; h != nil {
		handled.OK = h.Level == "INFO"
		for _, o := range h.Outcomes {
			if o.Status == string(respond.StatusFailed) {
				handled.OK = false
				handled.Detail = o.Action + ": " + o.Error
			}
		}
	}
	return append(cs, handled, alert, subject)
}

func validSubject(s string) bool {
	if s == "" || len(s) >= 100 {
		return false
	}
	for _, c := range s {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}
