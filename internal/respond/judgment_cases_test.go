package respond_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/judgment"
	jt "github.com/trailguard/trailguard/internal/judgment/judgmenttest"
	"github.com/trailguard/trailguard/internal/respond"
)

// verdictOf reads the verdict back from what the responder decided about an
// event: no change is OK, a change for the worse is Harmful, a change for
// review is Unscoped, an undecided one CannotTell. It also checks that the
// plan follows: harmful content is restored (bucket policy, lifecycle) and
// its actor contained; undecided content gets a step for a person and no
// containment; the rest only an alert.
func verdictOf(t *testing.T, p respond.Plan, restoreKind respond.Kind) judgment.Verdict {
	t.Helper()
	c := p.Classification
	v := judgment.OK
	for _, ch := range c.Changes {
		switch {
		case ch.Undecided:
			v = judgment.CannotTell
		case ch.Review:
			v = judgment.Unscoped
		default:
			v = judgment.Harmful
		}
	}
	contained := slices.ContainsFunc(p.Actions, func(a respond.Action) bool { return a.Step == respond.StepContain })
	restored := slices.ContainsFunc(p.Actions, func(a respond.Action) bool { return a.Kind == restoreKind })
	manual := slices.ContainsFunc(p.Actions, func(a respond.Action) bool { return a.Step == respond.StepRestore && a.Kind == respond.KindManual })
	switch v {
	case judgment.Harmful:
		if !contained || !restored && !manual || !c.Tamper() {
			t.Errorf("harmful content: tamper=%v plan %q", c.Tamper(), kinds(p))
		}
	case judgment.CannotTell:
		if contained || restored || !manual || c.Severity.String() == "info" {
			t.Errorf("undecidable content must alert (not info) with a manual step, without repair or containment: severity %s plan %q", c.Severity, kinds(p))
		}
	default:
		if len(p.Actions) != 1 || c.Tamper() {
			t.Errorf("harmless content: plan %q", kinds(p))
		}
	}
	return v
}

// The one judgment table, through the responder: the event carries the new
// content, the classification and plan must reach the table's verdict.
func TestJudgmentCasesResponder(t *testing.T) {
	s := settings(t, fullBaseline)
	t.Run("bucket policy", func(t *testing.T) {
		for _, tc := range jt.BucketCases {
			t.Run(tc.Name, func(t *testing.T) {
				ev := event(t, "s3-putbucketpolicy")
				params := map[string]any{"bucketName": jt.Bucket}
				if tc.Policy != "" {
					if json.Valid([]byte(tc.Policy)) {
						params["bucketPolicy"] = json.RawMessage(tc.Policy)
					} else {
						params["bucketPolicy"] = tc.Policy
					}
				}
				ev.Record.RequestParameters, _ = json.Marshal(params)
				p := respond.NewPlan(respond.Classify(ev, s), s, now)
				if got := verdictOf(t, p, respond.KindRestoreBucketPolicy); got != tc.Want {
					t.Errorf("verdict %v, want %v (changes %+v)", got, tc.Want, p.Classification.Changes)
				}
			})
		}
	})
	t.Run("key policy", func(t *testing.T) {
		for _, tc := range jt.KeyCases {
			t.Run(tc.Name, func(t *testing.T) {
				ev := event(t, "kms-putkeypolicy")
				ev.Record.RequestParameters, _ = json.Marshal(map[string]any{"keyId": jt.KeyARN, "policyName": "default", "policy": tc.Policy})
				p := respond.NewPlan(respond.Classify(ev, s), s, now)
				if got := verdictOf(t, p, respond.Kind("none: key policies are alerted, not restored")); got != tc.Want {
					t.Errorf("verdict %v, want %v (changes %+v)", got, tc.Want, p.Classification.Changes)
				}
			})
		}
	})
	t.Run("lifecycle", func(t *testing.T) {
		for _, tc := range jt.LifecycleCases {
			t.Run(tc.Name, func(t *testing.T) {
				ev := event(t, "s3-putbucketlifecycle")
				ev.Record.RequestParameters, _ = json.Marshal(map[string]any{"bucketName": jt.Bucket, "LifecycleConfiguration": jt.EventLifecycle(tc.Rules)})
				p := respond.NewPlan(respond.Classify(ev, s), s, now)
				if got := verdictOf(t, p, respond.KindFixLifecycle); got != tc.Want {
					t.Errorf("verdict %v, want %v (changes %+v)", got, tc.Want, p.Classification.Changes)
				}
			})
		}
	})
}

// Only the trails in the baseline are changed. Another trail's stop is a
// critical alert with the exact command, and its actor is still contained.
func TestOnlyProtectedTrailsAreChanged(t *testing.T) {
	s := settings(t, fullBaseline)
	for _, tc := range []struct {
		sample, command string
	}{
		{"stoplogging-iamuser", "aws cloudtrail start-logging --name arn:aws:cloudtrail:us-east-1:123456789012:trail/other-trail --region us-east-1"},
		{"deletetrail-iamuser", "aws cloudtrail create-trail --name other-trail"},
		{"updatetrail-degrade", "aws cloudtrail update-trail --name "},
		{"puteventselectors-no-management", "aws cloudtrail put-event-selectors --trail-name "},
	} {
		t.Run(tc.sample, func(t *testing.T) {
			ev := event(t, tc.sample)
			ev.Record.RequestParameters = json.RawMessage(strings.ReplaceAll(string(ev.Record.RequestParameters), "management-trail", "other-trail"))
			c := respond.Classify(ev, s)
			if c.Target.Protected {
				t.Fatalf("other-trail judged protected: %+v", c.Target)
			}
			p := respond.NewPlan(c, s, now)
			if p.Quiet || !c.Tamper() {
				t.Fatalf("another trail's tampering is quiet=%v tamper=%v", p.Quiet, c.Tamper())
			}
			var steps []string
			for _, a := range p.Actions {
				if a.Step == respond.StepRestore {
					if a.Kind != respond.KindManual {
						t.Errorf("restore %s on a trail trailguard does not protect", a)
					}
					steps = append(steps, a.Reason)
				}
			}
			if len(steps) != 1 || !strings.Contains(steps[0], tc.command) || !strings.Contains(steps[0], "not protected") {
				t.Errorf("manual step %q, want the command %q", steps, tc.command)
			}
			if !slices.ContainsFunc(p.Actions, func(a respond.Action) bool { return a.Step == respond.StepContain }) {
				t.Errorf("the actor is not contained: %q", kinds(p))
			}
		})
	}
	// The protected trail, named by name or by ARN, is still restored.
	for _, sample := range []string{"stoplogging-iamuser", "stoplogging-by-name"} {
		p := respond.NewPlan(respond.Classify(event(t, sample), s), s, now)
		if got := kinds(p); got[0] != "restore:start-logging" {
			t.Errorf("%s on the protected trail: plan %q", sample, got)
		}
	}
	// A StopLogging of another trail is critical.
	ev := event(t, "stoplogging-iamuser")
	ev.Record.RequestParameters = json.RawMessage(`{"name":"other-trail"}`)
	if c := respond.Classify(ev, s); c.Severity.String() != "critical" {
		t.Errorf("another trail's stop is %s", c.Severity)
	}
	// With no baseline at all (replaying events from the CLI), every trail
	// is treated as protected, as before.
	none := settings(t, map[string]string{config.EnvTrails: ""})
	if p := respond.NewPlan(respond.Classify(ev, none), none, now); kinds(p)[0] != "restore:start-logging" {
		t.Errorf("no baseline: plan %q", kinds(p))
	}
}
