package respond

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/trailguard/trailguard/internal/trail"
)

// Exactly once across execution environments. EventBridge delivers at least
// once and Lambda retries; a duplicate can reach any execution environment.
// Every action is idempotent, so a second answer converges on the same state,
// but it would also repeat the IAM writes and the alert. A Claimer (a
// DynamoDB table shared by every environment) decides which environment
// answers an event. The restore does not wait for it: it starts first, the
// claim is made alongside, and only containment and the alert wait for the
// claim's answer.

// Claimer records, across execution environments, who answers each event.
type Claimer interface {
	// Claim claims the event for this environment: Mine is true for a new
	// event, and for one whose earlier attempt failed or was abandoned
	// (then Earlier is that attempt).
	Claim(ctx context.Context, eventID string) (Claim, error)
	// Finish records how this environment's answer ended.
	Finish(ctx context.Context, c Claim, a Attempt) error
}

// Claim is the answer of a Claimer.
type Claim struct {
	EventID string
	// Mine: this environment answers the event.
	Mine bool
	// Token identifies this claim (Finish only updates its own claim).
	Token string
	// State is the event's state when it is not Mine: ClaimInProgress or
	// ClaimDone ("" when the store did not say).
	State string
	// Earlier is the first attempt, when an earlier one failed.
	Earlier *Attempt
}

// Claim states.
const (
	ClaimInProgress = "in-progress"
	ClaimDone       = "done"
	ClaimFailed     = "failed"
)

// Attempt summarises one answer of an event: when, and each action's
// outcome ("restore: start-logging trail/x" → "done").
type Attempt struct {
	At       time.Time         `json:"at"`
	Failed   bool              `json:"failed"`
	Outcomes map[string]string `json:"outcomes"`
}

// Attempt summarises the report for a Claimer.
func (r Report) Attempt() Attempt {
	a := Attempt{At: r.Started, Outcomes: map[string]string{}}
	for _, o := range r.Outcomes {
		a.Outcomes[string(o.Action.Step)+": "+o.Action.String()] = string(o.Status)
		a.Failed = a.Failed || o.Status == StatusFailed
	}
	return a
}

// SinceEarlier says what changed since the earlier attempt of this event,
// one line per action ("restore: start-logging x: failed, now done").
func (r Report) SinceEarlier() []string {
	if r.Earlier == nil {
		return nil
	}
	var out []string
	for _, o := range r.Outcomes {
		key := string(o.Action.Step) + ": " + o.Action.String()
		before, ok := r.Earlier.Outcomes[key]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("%s: not attempted before, now %s", key, o.Status))
		case before != string(o.Status):
			out = append(out, fmt.Sprintf("%s: %s before, now %s", key, before, o.Status))
		default:
			out = append(out, fmt.Sprintf("%s: %s again", key, o.Status))
		}
	}
	return out
}

// Gate decides, alongside the restore, whether this environment contains
// and alerts. It is called once per event, after the restore has started.
type Gate func(ctx context.Context) GateResult

// GateResult is a Gate's answer.
type GateResult struct {
	// Answer: contain and alert. When false, Why says why not.
	Answer bool
	Why    string
	// Earlier is the earlier attempt of the same event, if one failed.
	Earlier *Attempt
}

// RespondGated is Respond with containment and the alert gated: the restore
// runs whatever the gate says; containment and the alert only if it says
// this environment answers the event.
func (e *Engine) RespondGated(ctx context.Context, ev trail.Event, gate Gate) (Report, error) {
	return e.respond(ctx, ev, gate)
}

// answers asks the gate, recording its answer in the report.
func (rep *Report) answers(ctx context.Context, gate Gate) bool {
	if gate == nil {
		return true
	}
	g := gate(ctx)
	rep.Earlier = g.Earlier
	if !g.Answer {
		rep.Duplicate = g.Why
	}
	return g.Answer
}

// handleClaimed answers an event under a claim: the restore runs at once,
// the claim is made alongside, and containment and the alert follow only if
// this environment holds the claim. A store that cannot be reached does not
// stop the answer: a second alert is better than none.
func (h Handler) handleClaimed(ctx context.Context, ev trail.Event, t0 time.Time) error {
	var claim Claim
	gate := func(ctx context.Context) GateResult {
		c, err := h.Claims.Claim(ctx, ev.Record.EventID)
		if err != nil {
			h.Log.WarnContext(ctx, "event claim failed: answering anyway (a duplicate may alert twice)",
				slog.String("event", ev.Record.EventID), slog.String("error", err.Error()))
			return GateResult{Answer: true}
		}
		claim = c
		if !c.Mine {
			why := "duplicate delivery: another execution environment answers this event"
			if c.State != "" {
				why += " (" + c.State + ")"
			}
			return GateResult{Why: why}
		}
		return GateResult{Answer: true, Earlier: c.Earlier}
	}
	rep, err := h.Engine.RespondGated(ctx, ev, gate)
	LogReport(ctx, h.Log, rep, err, time.Since(t0))
	if claim.Mine {
		if ferr := h.Claims.Finish(ctx, claim, rep.Attempt()); ferr != nil {
			h.Log.WarnContext(ctx, "event claim not finished: a duplicate may be answered again once the claim expires",
				slog.String("event", ev.Record.EventID), slog.String("error", ferr.Error()))
		}
	}
	return err
}
