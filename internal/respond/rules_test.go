package respond_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/trailguard/trailguard/internal/catalog"
	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/respond"
)

// ownRules names trailguard's rules with their ids, as the stack sets them.
var ownRules = map[string]string{
	config.EnvRules:             "cloudtrail=trailguard-cloudtrail-tamper,reconcile=trailguard-reconcile,owners-events=trailguard-owners-events",
	config.EnvFunctionName:      "trailguard-responder",
	config.EnvRegion:            "us-east-1",
	config.EnvReconcileSchedule: "rate(5 minutes)",
}

const responderARN = "arn:aws:lambda:us-east-1:123456789012:function:trailguard-responder"

func withEnv(extra map[string]string, more ...map[string]string) map[string]string {
	out := maps.Clone(extra)
	for _, m := range more {
		maps.Copy(out, m)
	}
	return out
}

// PutRule and PutTargets on trailguard's rules: each overwrite is put back as
// deployed, and every variant behaves like the other rows.
func TestOwnRulesOverwritten(t *testing.T) {
	s := settings(t, ownRules)
	quarantine := []string{"contain:attach-user-policy", "contain:deactivate-access-key", "notify:notify"}
	cases := []struct {
		sample string
		kind   respond.Kind
		check  func(t *testing.T, a respond.Action)
	}{
		{"events-putrule-never-matches", respond.KindRestoreRule, func(t *testing.T, a respond.Action) {
			var ct catalog.Rule
			for _, r := range catalog.Rules() {
				if r.ID == "cloudtrail" {
					ct = r
				}
			}
			var got, want any
			_ = json.Unmarshal([]byte(a.Pattern), &got)
			_ = json.Unmarshal([]byte(ct.Pattern.JSON()), &want)
			if a.Target != "trailguard-cloudtrail-tamper" || a.Schedule != "" || !jsonEqual(got, want) {
				t.Errorf("restore %+v: want the catalog's cloudtrail pattern", a)
			}
		}},
		{"events-putrule-disabled", respond.KindRestoreRule, func(t *testing.T, a respond.Action) {
			if a.Schedule != "rate(5 minutes)" || a.Pattern != "" {
				t.Errorf("restore %+v: want the deployed schedule", a)
			}
		}},
		{"events-putrule-slower", respond.KindRestoreRule, func(t *testing.T, a respond.Action) {
			if a.Schedule != "rate(5 minutes)" || !strings.Contains(a.Reason, "rate(7 days)") {
				t.Errorf("restore %+v", a)
			}
		}},
		{"events-puttargets-input", respond.KindRestoreTargets, func(t *testing.T, a respond.Action) {
			if a.TargetARN != responderARN || a.InputTemplate != "" || a.Target != "trailguard-reconcile" {
				t.Errorf("restore %+v", a)
			}
		}},
		{"events-puttargets-hijack", respond.KindRestoreTargets, func(t *testing.T, a respond.Action) {
			if a.TargetARN != responderARN {
				t.Errorf("restore %+v", a)
			}
		}},
		{"events-removetargets", respond.KindRestoreTargets, func(t *testing.T, a respond.Action) {
			if a.TargetARN != responderARN {
				t.Errorf("restore %+v", a)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.sample, func(t *testing.T) {
			c := respond.Classify(event(t, tc.sample), s)
			if !c.Tamper() || !c.Target.Protected || c.Severity != catalog.Critical {
				t.Fatalf("tamper=%v protected=%v severity=%s changes=%+v", c.Tamper(), c.Target.Protected, c.Severity, c.Changes)
			}
			p := respond.NewPlan(c, s, now)
			if got := kinds(p); !slices.Equal(got, append([]string{"restore:" + string(tc.kind)}, quarantine...)) {
				t.Fatalf("plan %q", got)
			}
			tc.check(t, p.Actions[0])

			// Failed attempt: the alert only.
			failed := event(t, tc.sample)
			failed.Record.ErrorCode = "AccessDeniedException"
			if got := kinds(respond.NewPlan(respond.Classify(failed, s), s, now)); !slices.Equal(got, []string{"notify:notify"}) {
				t.Errorf("failed attempt: %q", got)
			}
			// Allow-listed: restored, not contained.
			allow := settings(t, withEnv(ownRules, map[string]string{config.EnvAllow: "arn:aws:iam::123456789012:user/mallory"}))
			if got := kinds(respond.NewPlan(respond.Classify(event(t, tc.sample), allow), allow, now)); !slices.Equal(got, []string{"restore:" + string(tc.kind), "notify:notify"}) {
				t.Errorf("allow-listed: %q", got)
			}
			deployedOrSelf(t, s, tc.sample, now)
		})
	}
}

// The same calls that keep the rule as deployed (a deployment, the
// responder's own restore) are no tampering, and the responder's own restore
// stays quiet.
func TestOwnRulesAsDeployedAreNotTampering(t *testing.T) {
	s := settings(t, ownRules)
	var pattern string
	for _, r := range catalog.Rules() {
		if r.ID == "cloudtrail" {
			pattern = r.Pattern.JSON()
		}
	}
	cases := map[string]map[string]any{
		"events-putrule-never-matches": {"name": "trailguard-cloudtrail-tamper", "eventPattern": pattern, "state": "ENABLED"},
		"events-putrule-disabled":      {"name": "trailguard-reconcile", "scheduleExpression": "rate(5 minutes)"},
		"events-puttargets-input":      {"rule": "trailguard-reconcile", "targets": []any{map[string]any{"id": "Target0", "arn": responderARN}}},
	}
	for sample, params := range cases {
		ev := event(t, sample)
		ev.Record.RequestParameters, _ = json.Marshal(params)
		if c := respond.Classify(ev, s); c.Tamper() {
			t.Errorf("%s as deployed judged tampering: %+v", sample, c.Changes)
		}
		ev.Record.UserIdentity = event(t, "stoplogging-responder").Record.UserIdentity
		if p := respond.NewPlan(respond.Classify(ev, s), s, now); !p.Quiet {
			t.Errorf("%s: the responder's own restore is not quiet: %q", sample, kinds(p))
		}
	}
	// A rule the settings name without its id: only its state is judged,
	// an overwritten pattern asks for a redeploy.
	plain := settings(t, withEnv(ownRules, map[string]string{config.EnvRules: "trailguard-cloudtrail-tamper"}))
	p := respond.NewPlan(respond.Classify(event(t, "events-putrule-never-matches"), plain), plain, now)
	if got := kinds(p); len(got) == 0 || got[0] != "restore:manual" {
		t.Errorf("rule without id: %q", got)
	}
	// Someone else's rule: not trailguard's business.
	ev := event(t, "events-putrule-never-matches")
	ev.Record.RequestParameters = json.RawMessage(`{"name":"someone-elses-rule","state":"DISABLED"}`)
	if p := respond.NewPlan(respond.Classify(ev, s), s, now); !p.Quiet {
		t.Errorf("PutRule on another rule is not quiet: %q", kinds(p))
	}
}

// The owners' rule targets the topic with the catalog's message: a target
// that keeps it is fine, one that drops the message is put back.
func TestOwnersRuleTargetJudged(t *testing.T) {
	s := settings(t, ownRules)
	var owners catalog.OwnerRule
	for _, r := range catalog.OwnerRules(catalog.Owned{RuleNames: s.Rules, FunctionName: s.FunctionName, TopicARN: s.TopicARN, RoleName: "trailguard-responder"}) {
		if r.ID == "owners-events" {
			owners = r
		}
	}
	if owners.ID == "" {
		t.Fatal("no owners-events rule")
	}
	ev := event(t, "events-puttargets-input")
	tr, _ := json.Marshal(map[string]any{"inputPathsMap": owners.InputPathsMap, "inputTemplate": owners.InputTemplate})
	ev.Record.RequestParameters, _ = json.Marshal(map[string]any{"rule": "trailguard-owners-events", "targets": []any{
		map[string]any{"id": "Target0", "arn": topicARN, "inputTransformer": json.RawMessage(tr)}}})
	if c := respond.Classify(ev, s); c.Tamper() {
		t.Errorf("owners' rule as deployed judged tampering: %+v", c.Changes)
	}
	ev.Record.RequestParameters, _ = json.Marshal(map[string]any{"rule": "trailguard-owners-events", "targets": []any{
		map[string]any{"id": "Target0", "arn": topicARN, "input": `"all is well"`}}})
	p := respond.NewPlan(respond.Classify(ev, s), s, now)
	a := p.Actions[0]
	if a.Kind != respond.KindRestoreTargets || a.TargetARN != topicARN || a.InputTemplate != owners.InputTemplate {
		t.Errorf("owners' rule with its message replaced: %+v", a)
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// The heartbeat line is CloudWatch's embedded metric format: the metric the
// heartbeat alarm watches, at the root, declared under _aws.
func TestHeartbeatIsAnEmbeddedMetric(t *testing.T) {
	var buf strings.Builder
	respond.LogHeartbeat(context.Background(), slog.New(slog.NewJSONHandler(&buf, nil)), "trailguard-responder", now)
	var line struct {
		AWS struct {
			Timestamp         int64
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []struct{ Name, Unit string }
			}
		} `json:"_aws"`
		FunctionName       string
		ReconcileSucceeded int
	}
	if err := json.Unmarshal([]byte(buf.String()), &line); err != nil {
		t.Fatal(err)
	}
	m := line.AWS.CloudWatchMetrics
	if line.AWS.Timestamp != now.UnixMilli() || len(m) != 1 || m[0].Namespace != config.HeartbeatNamespace ||
		m[0].Metrics[0].Name != config.HeartbeatMetric || m[0].Dimensions[0][0] != "FunctionName" ||
		line.FunctionName != "trailguard-responder" || line.ReconcileSucceeded != 1 {
		t.Errorf("heartbeat line %s", buf.String())
	}
	buf.Reset()
	respond.LogHeartbeat(context.Background(), slog.New(slog.NewJSONHandler(&buf, nil)), "", now)
	if buf.Len() != 0 {
		t.Errorf("a heartbeat without the function's name: %s", buf.String())
	}
}
