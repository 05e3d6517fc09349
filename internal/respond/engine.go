package respond

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/trail"
)

// Status is the outcome of one action.
type Status string

// Statuses.
const (
	StatusDone   Status = "done"
	StatusFailed Status = "failed"
	// StatusDryRun: the action was planned but not taken (dry-run mode).
	StatusDryRun Status = "dry-run"
	// StatusManual: trailguard cannot take this step; a person must.
	StatusManual Status = "manual"
)

// Outcome is what happened when an action was executed.
type Outcome struct {
	Action Action `json:"action"`
	Status Status `json:"status"`
	// Detail adds what a person needs (e.g. "already in place").
	Detail   string        `json:"detail,omitempty"`
	Error    string        `json:"error,omitempty"`
	Duration time.Duration `json:"durationNs"`
}

// Report is the full account of one event: what it was, what was planned
// and what each action achieved. It is logged, and it is what the alert says.
type Report struct {
	Event    trail.Event `json:"event"`
	Plan     Plan        `json:"plan"`
	Outcomes []Outcome   `json:"outcomes"`
	Mode     config.Mode `json:"mode"`
	// AccountAlias is the account's IAM alias, when known (in organization
	// mode: the account's name in the organization).
	AccountAlias string `json:"accountAlias,omitempty"`
	// OutOfScope is true when the event's account is skipped by the settings
	// (organization mode): nothing was done and no alert sent.
	OutOfScope bool `json:"outOfScope,omitempty"`
	// Gap announces the report on the blind window the restore closed.
	Gap      *GapNotice    `json:"gap,omitempty"`
	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"durationNs"`
	// Duplicate, when set, says why this environment did not contain or
	// alert (another one answers the event); the restore ran anyway.
	Duplicate string `json:"duplicate,omitempty"`
	// Earlier is the first, failed attempt of the same event, if any.
	Earlier *Attempt `json:"earlier,omitempty"`
}

// Failed returns the outcomes that failed.
func (r Report) Failed() []Outcome {
	var out []Outcome
	for _, o := range r.Outcomes {
		if o.Status == StatusFailed {
			out = append(out, o)
		}
	}
	return out
}

// Notifier delivers a report to the account's owners. It is called once per
// report, after every other action, so the alert can say what each achieved.
type Notifier interface {
	Notify(ctx context.Context, r Report) error
}

// Engine classifies, plans and executes. It is safe for concurrent use.
type Engine struct {
	settings   config.Settings
	cloudtrail CloudTrailAPI
	iam        IAMAPI
	notifier   Notifier
	drift      DriftNotifier
	res        Resources
	now        func() time.Time
	// seen holds the drifts of the previous reconciliation (see markNew).
	mu    sync.Mutex
	seen  map[string]bool
	alias func(context.Context) string
	// accounts gives per-account engines (organization mode, accounts.go);
	// blocked, when set, fails every action with its reason.
	accounts *accountEngines
	blocked  error
	gaps     GapRecorder // gap.go
	// contained remembers whom trailguard contained (containment_record.go);
	// account, when set, is the one account this engine acts in.
	contained ContainmentStore
	account   string
}

// Option configures an Engine.
type Option func(*Engine)

// WithClock sets the clock (tests use a fixed one).
func WithClock(now func() time.Time) Option { return func(e *Engine) { e.now = now } }

// WithAccountAlias sets how the account alias is found for alerts.
func WithAccountAlias(f func(context.Context) string) Option { return func(e *Engine) { e.alias = f } }

// New builds an engine from validated settings and AWS clients.
func New(s config.Settings, ct CloudTrailAPI, iamc IAMAPI, n Notifier, opts ...Option) *Engine {
	e := &Engine{settings: s, cloudtrail: ct, iam: iamc, notifier: n, now: time.Now,
		alias: func(context.Context) string { return "" }, contained: &MemoryContainments{}}
	for _, o := range opts {
		o(e)
	}
	return e
}

// Plan classifies an event and plans the response without executing it.
func (e *Engine) Plan(ev trail.Event) Plan {
	return NewPlan(Classify(ev, e.settings), e.settings, e.now())
}

// Respond handles one event: plan, then execute in order — restore, then
// contain, then notify. Every action runs even when another fails. The
// returned error is non-nil when any action failed, so that Lambda retries
// (every action is idempotent); the report is complete either way.
func (e *Engine) Respond(ctx context.Context, ev trail.Event) (Report, error) {
	return e.respond(ctx, ev, nil)
}

func (e *Engine) respond(ctx context.Context, ev trail.Event, gate Gate) (Report, error) {
	start := e.now()
	ex, err := e.forAccount(ctx, eventAccount(ev))
	if ScopedOut(err) {
		return Report{Event: ev, Plan: Plan{Classification: Classify(ev, e.settings), Quiet: true}, Mode: e.settings.Mode, Started: start, OutOfScope: true}, nil
	}
	p := NewPlan(Classify(ev, ex.settings), ex.settings, start)
	rep := Report{Event: ev, Plan: p, Mode: ex.settings.Mode, Started: start}
	rep.Outcomes = ex.execute(ctx, &rep, gate)
	rep.Duration = e.now().Sub(start)
	if failed := rep.Failed(); len(failed) > 0 {
		var errs []error
		for _, o := range failed {
			errs = append(errs, fmt.Errorf("%s: %s", o.Action, o.Error))
		}
		return rep, fmt.Errorf("respond to %s by %s: %w", ev.Record.EventName, p.Classification.Actor.Display, errors.Join(errs...))
	}
	return rep, nil
}

func (e *Engine) execute(ctx context.Context, rep *Report, gate Gate) []Outcome {
	var restore, contain, notify []Action
	for _, a := range rep.Plan.Actions {
		switch a.Step {
		case StepRestore:
			restore = append(restore, a)
		case StepContain:
			contain = append(contain, a)
		case StepNotify:
			notify = append(notify, a)
		}
	}
	// The alert's account alias is looked up alongside the actions.
	alias := make(chan string, 1)
	if len(notify) > 0 {
		go func() { alias <- e.alias(ctx) }()
	}
	// Restore is started first and waits for nothing; its own steps run in
	// order (a recreated trail must exist before it is started). Containment
	// does not depend on it, so each containment action runs alongside.
	restored := make([]Outcome, len(restore))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i, a := range restore {
			restored[i] = e.run(ctx, a)
		}
	}()
	// Containment and the alert wait for the gate (see once.go), never the
	// restore.
	if !rep.answers(ctx, gate) {
		contain, notify = nil, nil
	} else if a, ok := recordAction(append(restore[:len(restore):len(restore)], contain...), e.settings.QuarantinePolicyARN, eventAccount(rep.Event), e.contained); ok {
		// Remembered alongside containment (containment_record.go); in
		// memory there is nothing to wait for or to report.
		if m, inMemory := e.contained.(*MemoryContainments); !inMemory {
			contain = append(contain, a)
		} else if e.settings.Mode != config.DryRun && e.blocked == nil {
			_ = m.RecordContained(ctx, a.Principals)
		}
	}
	contained := make([]Outcome, len(contain))
	for i, a := range contain {
		wg.Add(1)
		go func() {
			defer wg.Done()
			contained[i] = e.run(ctx, a)
		}()
	}
	wg.Wait()
	outcomes := append(restored, contained...)
	rep.Gap = e.recordGap(ctx, rep, restored)

	// The alert goes last so that it can tell what every action achieved.
	if len(notify) > 0 {
		rep.Outcomes = outcomes
		rep.AccountAlias = <-alias
		rep.Duration = e.now().Sub(rep.Started)
		for _, a := range notify {
			outcomes = append(outcomes, e.timed(a, func() (string, error) { return "", e.notifier.Notify(ctx, *rep) }))
		}
	}
	return outcomes
}

func (e *Engine) run(ctx context.Context, a Action) Outcome {
	switch {
	case a.Kind == KindManual || e.settings.Mode == config.DryRun:
		return notExecuted(a)
	case e.blocked != nil:
		return Outcome{Action: a, Status: StatusFailed, Error: e.blocked.Error()}
	}
	return e.timed(a, func() (string, error) { return e.call(ctx, a) })
}

// timed runs one action and records its outcome. A panic in an action (a bug,
// or a client misbehaving) becomes that action's failure: actions run on
// their own goroutines, where a panic would otherwise end the whole runtime,
// and one action must never stop the others or the alert.
func (e *Engine) timed(a Action, f func() (string, error)) Outcome {
	t0 := time.Now()
	detail, err := func() (detail string, err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("internal error in %s: %v", a.Kind, r)
			}
		}()
		return f()
	}()
	o := Outcome{Action: a, Status: StatusDone, Detail: detail, Duration: time.Since(t0)}
	if err != nil {
		o.Status, o.Error = StatusFailed, describeErr(err)
	}
	return o
}

// call makes the AWS call(s) of one action. It returns a detail for people
// when the action found its work already done (duplicate delivery, retry).
func (e *Engine) call(ctx context.Context, a Action) (string, error) {
	region := inRegion(a.Region)
	switch a.Kind {
	case KindStartLogging:
		_, err := e.cloudtrail.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String(a.Target)}, region)
		return "", err
	case KindCreateTrail:
		_, err := e.cloudtrail.CreateTrail(ctx, createTrailInput(*a.Trail), region)
		if errorCode(err) == "TrailAlreadyExistsException" {
			return "the trail exists already", nil
		}
		return "", err
	case KindUpdateTrail:
		_, err := e.cloudtrail.UpdateTrail(ctx, updateTrailInput(*a.Trail), region)
		return "", err
	case KindPutEventSelectors:
		_, err := e.cloudtrail.PutEventSelectors(ctx, putEventSelectorsInput(*a.Trail), region)
		return "", err
	case KindRestoreEventDataStore:
		_, err := e.cloudtrail.RestoreEventDataStore(ctx, &cloudtrail.RestoreEventDataStoreInput{EventDataStore: aws.String(a.Target)}, region)
		if strings.Contains(errorCode(err), "InvalidEventDataStoreStatus") {
			return "the event data store is not pending deletion (restored already?)", nil
		}
		return "", err
	case KindStartIngestion:
		_, err := e.cloudtrail.StartEventDataStoreIngestion(ctx, &cloudtrail.StartEventDataStoreIngestionInput{EventDataStore: aws.String(a.Target)}, region)
		if strings.Contains(errorCode(err), "InvalidEventDataStoreStatus") {
			return "the event data store is ingesting already", nil
		}
		return "", err
	case KindAttachUserPolicy:
		_, err := e.iam.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String(a.UserName), PolicyArn: aws.String(a.PolicyARN)})
		return gone(err, "user "+a.UserName, a.PolicyARN)
	case KindDeactivateAccessKey:
		_, err := e.iam.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String(a.UserName), AccessKeyId: aws.String(a.AccessKeyID), Status: iamtypes.StatusTypeInactive})
		return gone(err, "access key "+a.AccessKeyID, "")
	case KindRevokeRoleSessions:
		return e.revoke(ctx, a)
	case KindRecordContainment:
		return e.recordContained(ctx, a)
	}
	return e.callResource(ctx, a)
}

// revoke writes the revocation policy unless one with a later (or equal)
// cut-off is there already, so duplicates and late deliveries converge on
// the latest cut-off instead of moving it back.
func (e *Engine) revoke(ctx context.Context, a Action) (string, error) {
	out, err := e.iam.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(a.RoleName), PolicyName: aws.String(RevokePolicyName)})
	switch {
	case err == nil && out.PolicyDocument != nil:
		if t, ok := revokedBefore(*out.PolicyDocument); ok && !t.Before(a.IssuedBefore) {
			return "sessions issued before " + t.UTC().Format(time.RFC3339) + " are revoked already", nil
		}
	case err != nil && errorCode(err) != "NoSuchEntity":
		return "", fmt.Errorf("read current revocation: %w", err)
	}
	_, err = e.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{
		RoleName:       aws.String(a.RoleName),
		PolicyName:     aws.String(RevokePolicyName),
		PolicyDocument: aws.String(revokePolicy(a.IssuedBefore)),
	})
	// GetRolePolicy's NoSuchEntity cannot tell a missing role from a missing
	// policy; PutRolePolicy's can only mean the role.
	return gone(err, "role "+a.RoleName, "")
}
