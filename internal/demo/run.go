package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"

	"github.com/trailguard/trailguard/internal/respond"
	"github.com/trailguard/trailguard/internal/testworld"
)

// run is one scenario being played.
type run struct {
	def  scenarioDef
	opts Options
	res  Result
	t0   time.Time

	srv *testworld.Server
	ct  *cloudtrail.Client
	iam *iam.Client
	// w is the world the tests deploy the responder in, named as the demo
	// names it.
	w *testworld.ResponderWorld
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
	r.step(PhaseState, "before the attack", describe(n, r.res.Before, r.w.KeyID)...)

	text, err := r.def.attack(ctx, r)
	if err != nil {
		return fmt.Errorf("attack: %w", err)
	}
	r.step(PhaseAttack, text)
	if r.res.Attacked, err = r.state(ctx); err != nil {
		return err
	}
	r.step(PhaseState, "after the attack", describe(n, r.res.Attacked, r.w.KeyID)...)

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

	if h, err := r.waitHandled(id); err != nil {
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
	r.step(PhaseState, "after the response", describe(n, r.res.After, r.w.KeyID)...)

	r.res.Checks = verdict(r.def, &r.res)
	r.res.OK = true
	for _, c := range r.res.Checks {
		r.res.OK = r.res.OK && c.OK
	}
	r.res.TotalMs = float64(time.Since(r.t0).Microseconds()) / 1000
	return nil
}

// deploy creates the world: the target (trail, user, role, deny-all
// policy, topic and subscriber) and the protection (responder, rule), as
// the tests deploy it (testworld.ResponderWorld).
func (r *run) deploy(ctx context.Context) error {
	n := r.opts.Names
	w, err := testworld.NewResponderWorldNamed(ctx, r.srv, testworld.WorldNames{
		Trail: n.Trail, Bucket: n.Bucket, User: n.User, Role: n.Role,
		Responder: n.Responder, Topic: n.Topic, Policy: n.Policy, Rule: n.Rule,
	}, false)
	if err != nil {
		return err
	}
	r.w = w
	r.step(PhaseSetup, fmt.Sprintf("trail %s logging to bucket %s (multi-region, global events, log validation)", n.Trail, n.Bucket))
	r.step(PhaseSetup, fmt.Sprintf("IAM user %s (admin) with access key %s; role %s", n.User, w.KeyID, n.Role))
	r.step(PhaseSetup, fmt.Sprintf("SNS topic %s with an SQS subscriber standing in for the owner's mailbox", n.Topic))

	if err := w.DeployArgs(ctx, r.opts.Responder.Path, r.opts.Responder.Args); err != nil {
		return err
	}
	r.step(PhaseSetup, fmt.Sprintf("Lambda function %s served by %s through the Lambda runtime API", n.Responder, strings.Join(append([]string{baseName(r.opts.Responder.Path)}, r.opts.Responder.Args...), " ")),
		"quarantine policy "+w.PolicyARN+" (AWSDenyAll's document)")
	_, count := testworld.CloudTrailRule()
	r.step(PhaseSetup, fmt.Sprintf("EventBridge rule %s: %d CloudTrail tamper calls from the catalog -> %s", n.Rule, count, n.Responder))
	return nil
}

// teardown removes the rule and stops the function, so that a later run in
// this process (kumo's state outlives the Server) does not send events to a
// function that is gone.
func (r *run) teardown() {
	if r.w != nil {
		r.w.Teardown()
	}
}

// event returns the scenario's sample as AWS would deliver it now, in this
// run's world.
func (r *run) event() (raw []byte, eventID string, err error) {
	return r.w.Event(r.def.sample, nil)
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
func (r *run) waitHandled(eventID string) (*Handled, error) {
	var lines []map[string]any
	var readErr error
	err := r.w.WaitFor(r.opts.Wait, func() bool {
		lines, readErr = r.w.Handled(eventID)
		return readErr != nil || len(lines) > 0
	})
	switch {
	case readErr != nil:
		return nil, readErr
	case err != nil:
		return nil, fmt.Errorf("no report (%w):\n%s", err, r.w.Fn.Output())
	}
	b, err := json.Marshal(lines[0])
	if err != nil {
		return nil, fmt.Errorf("responder log line: %w", err)
	}
	var line struct {
		Level          string    `json:"level"`
		DurationMs     float64   `json:"durationMs"`
		Outcomes       []Outcome `json:"outcomes"`
		Classification struct {
			Severity string `json:"severity"`
			Actor    string `json:"actor"`
		} `json:"classification"`
	}
	if err := json.Unmarshal(b, &line); err != nil {
		return nil, fmt.Errorf("responder log line: %w", err)
	}
	return &Handled{Level: line.Level, Severity: line.Classification.Severity, Actor: line.Classification.Actor,
		DurationMs: line.DurationMs, Outcomes: line.Outcomes}, nil
}

// receiveAlert waits for the one alert on the subscriber queue.
func (r *run) receiveAlert(ctx context.Context) (*Alert, error) {
	got, err := r.w.Notifications(ctx, 1, r.opts.Wait)
	if err != nil {
		return nil, err
	}
	if len(got) == 0 {
		visible, inFlight, err := r.w.Srv.QueueDepth(context.WithoutCancel(ctx), r.w.QueueURL)
		if err != nil {
			return nil, fmt.Errorf("nothing within %s (%w)", r.opts.Wait, err)
		}
		return nil, fmt.Errorf("nothing within %s (the queue holds %s visible, %s in flight)", r.opts.Wait, visible, inFlight)
	}
	a := &Alert{Subject: got[0].Subject}
	if err := json.Unmarshal([]byte(got[0].Message), &a.Document); err != nil {
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
		if aws.ToString(k.AccessKeyId) == r.w.KeyID {
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

// verdict is the checks of a played scenario: its own conditions plus the
// alert's. It reads only the result, so it is tested on results made by hand.
func verdict(def scenarioDef, res *Result) []Check {
	cs := def.verify(res)
	alert := Check{Name: "the owner received an alert about the event"}
	if a := res.Alert; a != nil {
		alert.OK = a.Document.Event.ID == res.EventID && a.Document.Event.Name == def.eventName()
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
