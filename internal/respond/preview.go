package respond

import (
	"fmt"

	"github.com/trailguard/trailguard/internal/catalog"
	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/trail"
)

// This file is the engine's one dry-run path: what a response would be,
// without any AWS call and without the alert. The Lambda's dry-run mode and
// `trailguard respond` (without --enforce) both report actions through
// notExecuted.

// Preview plans the response to ev and reports every action as not
// executed: no AWS call is made and no alert is sent.
func (e *Engine) Preview(ev trail.Event) Report {
	start := e.now()
	p := NewPlan(Classify(ev, e.settings), e.settings, start)
	rep := Report{Event: ev, Plan: p, Mode: config.DryRun, Started: start}
	for _, a := range p.Actions {
		rep.Outcomes = append(rep.Outcomes, notExecuted(a))
	}
	return rep
}

// notExecuted is the outcome of an action that is not taken: a manual step
// (trailguard cannot take it) or, in dry-run, any other.
func notExecuted(a Action) Outcome {
	if a.Kind == KindManual {
		return Outcome{Action: a, Status: StatusManual}
	}
	return Outcome{Action: a, Status: StatusDryRun}
}

// OutsideCatalog says why an event is skipped by replays: the deployed rules
// deliver only the catalog's events, so a replay that answered others would
// show a response that never happens. Empty for catalog events.
func OutsideCatalog(c Classification) string {
	if c.Known {
		return ""
	}
	return "not in trailguard's catalog: the deployed rules never deliver it"
}

// QuietReason says why a plan has nothing to do; empty when it has actions.
func QuietReason(p Plan, s config.Settings) string {
	c := p.Classification
	switch {
	case len(p.Actions) > 0:
		return ""
	case c.Known && !c.Target.Protected:
		return unprotected(c.Target, s)
	case c.Self:
		return "the responder's own call"
	}
	return "nothing to restore, contain or report"
}

// unprotected says why a resource is not one trailguard protects, naming
// the setting that would make it one.
func unprotected(t Target, s config.Settings) string {
	what := fmt.Sprintf("%s %s", t.Kind, t.ID)
	switch t.Kind {
	case catalog.Bucket, catalog.Key, catalog.LogGroup:
		if len(s.Trails) == 0 {
			return fmt.Sprintf("%s is not protected: no baseline was given, so no %s is known to belong to a trail (set %s or --trails; see examples/trails.json)", what, t.Kind, config.EnvTrails)
		}
		return fmt.Sprintf("%s is not protected: no trail in the baseline (%s) uses it", what, config.EnvTrails)
	case catalog.EventRule:
		return fmt.Sprintf("%s is not one of trailguard's own rules (%s)", what, config.EnvRules)
	case catalog.Function:
		return fmt.Sprintf("%s is not trailguard's own function (%s)", what, config.EnvFunctionName)
	case catalog.Topic:
		return fmt.Sprintf("%s is not trailguard's alert topic (%s)", what, config.EnvTopicARN)
	case catalog.Role:
		return fmt.Sprintf("%s is not trailguard's own role (%s)", what, config.EnvSelfRoleARN)
	}
	return what + " is not protected by trailguard"
}
