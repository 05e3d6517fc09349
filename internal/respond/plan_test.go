package respond_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/respond"
	"github.com/trailguard/trailguard/internal/samples"
	"github.com/trailguard/trailguard/internal/trail"
)

const (
	topicARN  = "arn:aws:sns:us-east-1:123456789012:trailguard-alerts"
	selfRole  = "arn:aws:iam::123456789012:role/trailguard-responder"
	trailARN  = "arn:aws:cloudtrail:us-east-1:123456789012:trail/management-trail"
	kmsKey    = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	denyAll   = "arn:aws:iam::aws:policy/AWSDenyAll"
	baseTrail = `[{"name":"management-trail","s3BucketName":"trailguard-logs-123456789012","isMultiRegionTrail":true,"includeGlobalServiceEvents":true,"enableLogFileValidation":true,"kmsKeyId":"` + kmsKey + `","homeRegion":"us-east-1","eventSelectors":[{"readWriteType":"All","includeManagementEvents":true}]}]`
)

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func settings(t testing.TB, env map[string]string) config.Settings {
	t.Helper()
	base := map[string]string{
		config.EnvTopicARN:    topicARN,
		config.EnvSelfRoleARN: selfRole,
		config.EnvTrails:      baseTrail,
	}
	for k, v := range env {
		base[k] = v
	}
	s, err := config.Load(func(k string) string { return base[k] })
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func event(t testing.TB, name string) trail.Event {
	t.Helper()
	b, err := samples.Event(name)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := trail.Parse(b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return ev
}

// kinds renders a plan as "step:kind" list for comparison.
func kinds(p respond.Plan) []string {
	var out []string
	for _, a := range p.Actions {
		out = append(out, string(a.Step)+":"+string(a.Kind))
	}
	return out
}

type planCase struct {
	sample      string
	severity    string
	tamper      bool
	containment respond.Containment
	exempt      []respond.Exemption
	plan        []string
}

// planCases pins, per sample, the classification and the plan.
var planCases = func() []planCase {
	notify := "notify:notify"
	quarantine := []string{"contain:attach-user-policy", "contain:deactivate-access-key"}
	return []planCase{
		// StopLogging by every principal type.
		{"stoplogging-iamuser", "critical", true, respond.ContainUser, nil,
			append(append([]string{"restore:start-logging"}, quarantine...), notify)},
		{"stoplogging-iamuser-long-name", "critical", true, respond.ContainUser, nil,
			append(append([]string{"restore:start-logging"}, quarantine...), notify)},
		{"stoplogging-by-name", "critical", true, respond.ContainUser, nil,
			append(append([]string{"restore:start-logging"}, quarantine...), notify)},
		{"stoplogging-assumedrole", "critical", true, respond.ContainRole, nil,
			[]string{"restore:start-logging", "contain:revoke-role-sessions", notify}},
		{"stoplogging-sso", "critical", true, respond.ContainManual, nil,
			[]string{"restore:start-logging", "contain:manual", notify}},
		{"stoplogging-service-linked-role", "critical", true, respond.ContainManual, nil,
			[]string{"restore:start-logging", "contain:manual", notify}},
		{"stoplogging-root", "critical", true, respond.ContainManual, nil,
			[]string{"restore:start-logging", "contain:manual", notify}},
		// A federated user's session is contained through its issuing IAM
		// user; its temporary key is not an access key to deactivate.
		{"stoplogging-federated", "critical", true, respond.ContainUser, nil,
			[]string{"restore:start-logging", "contain:attach-user-policy", notify}},
		{"stoplogging-awsservice", "critical", true, respond.ContainNone, nil,
			[]string{"restore:start-logging", notify}},
		{"stoplogging-awsaccount", "critical", true, respond.ContainManual, nil,
			[]string{"restore:start-logging", "contain:manual", notify}},
		// Failed attempts: alert only.
		{"stoplogging-failed", "medium", true, respond.ContainUser, []respond.Exemption{respond.ExemptFailed},
			[]string{notify}},
		{"deletetrail-failed", "medium", true, respond.ContainUser, []respond.Exemption{respond.ExemptFailed},
			[]string{notify}},
		{"puteventselectors-failed", "medium", true, respond.ContainUser, []respond.Exemption{respond.ExemptFailed},
			[]string{notify}},
		// The user's own deployment: do not fight it.
		{"stoplogging-cloudformation", "critical", true, respond.ContainRole, []respond.Exemption{respond.ExemptCloudFormation},
			[]string{notify}},
		// The responder itself: restore, never contain.
		{"stoplogging-responder", "critical", true, respond.ContainRole, []respond.Exemption{respond.ExemptSelf},
			[]string{"restore:start-logging", notify}},
		// DeleteTrail: recreate from the baseline.
		{"deletetrail-iamuser", "critical", true, respond.ContainUser, nil,
			append(append([]string{"restore:create-trail", "restore:put-event-selectors", "restore:start-logging"}, quarantine...), notify)},
		// UpdateTrail.
		{"updatetrail-degrade", "high", true, respond.ContainUser, nil,
			append(append([]string{"restore:update-trail"}, quarantine...), notify)},
		{"updatetrail-bucket-moved", "high", true, respond.ContainUser, nil,
			append(append([]string{"restore:update-trail"}, quarantine...), notify)},
		{"updatetrail-harmless", "info", false, respond.ContainRole, []respond.Exemption{respond.ExemptNotDegrading},
			[]string{notify}},
		// PutEventSelectors.
		{"puteventselectors-no-management", "high", true, respond.ContainUser, nil,
			append(append([]string{"restore:put-event-selectors"}, quarantine...), notify)},
		{"puteventselectors-many-data-resources", "high", true, respond.ContainUser, nil,
			append(append([]string{"restore:put-event-selectors"}, quarantine...), notify)},
		{"puteventselectors-readonly", "high", true, respond.ContainUser, nil,
			append(append([]string{"restore:put-event-selectors"}, quarantine...), notify)},
		{"puteventselectors-exclusions", "high", true, respond.ContainUser, nil,
			append(append([]string{"restore:put-event-selectors"}, quarantine...), notify)},
		{"puteventselectors-advanced-no-management", "high", true, respond.ContainUser, nil,
			append(append([]string{"restore:put-event-selectors"}, quarantine...), notify)},
		{"puteventselectors-harmless", "info", false, respond.ContainRole, []respond.Exemption{respond.ExemptNotDegrading},
			[]string{notify}},
		// CloudTrail Lake.
		{"deleteeventdatastore", "critical", true, respond.ContainUser, nil,
			append(append([]string{"restore:restore-event-data-store"}, quarantine...), notify)},
		{"stopeventdatastoreingestion", "high", true, respond.ContainUser, nil,
			append(append([]string{"restore:start-event-data-store-ingestion"}, quarantine...), notify)},
		{"updateeventdatastore", "high", true, respond.ContainUser, nil,
			[]string{"restore:manual", notify}},
		// Informational.
		{"createtrail", "info", false, respond.ContainRole, nil, []string{notify}},
		{"startlogging", "info", false, respond.ContainRole, nil, []string{notify}},
		{"addtags", "info", false, respond.ContainRole, nil, []string{notify}},
		{"removetags", "info", false, respond.ContainUser, nil, []string{notify}},
		{"putinsightselectors", "info", false, respond.ContainRole, nil, []string{notify}},
	}
}()

func TestPlanPerScenario(t *testing.T) {
	cases := planCases
	s := settings(t, nil)
	for _, tc := range cases {
		t.Run(tc.sample, func(t *testing.T) {
			ev := event(t, tc.sample)
			c := respond.Classify(ev, s)
			if got := c.Severity.String(); got != tc.severity {
				t.Errorf("severity = %s, want %s", got, tc.severity)
			}
			if c.Tamper() != tc.tamper {
				t.Errorf("tamper = %v, want %v", c.Tamper(), tc.tamper)
			}
			if c.Actor.Containment != tc.containment {
				t.Errorf("containment = %s, want %s", c.Actor.Containment, tc.containment)
			}
			if !slices.Equal(c.Exemptions, tc.exempt) {
				t.Errorf("exemptions = %q, want %q", c.Exemptions, tc.exempt)
			}
			p := respond.NewPlan(c, s, now)
			if got := kinds(p); !slices.Equal(got, tc.plan) {
				t.Errorf("plan = %q\nwant   %q", got, tc.plan)
			}
			for _, a := range p.Actions {
				if a.Reason == "" {
					t.Errorf("action %s has no reason", a)
				}
				if a.Step == respond.StepRestore && a.Kind != respond.KindManual && a.Region != "us-east-1" {
					t.Errorf("restore %s in region %q, want the trail's home region us-east-1", a, a.Region)
				}
			}
		})
	}
}

func TestEveryCloudTrailSampleIsCovered(t *testing.T) {
	// Each CloudTrail sample must be pinned by TestPlanPerScenario (its
	// classification and plan, not only that it is known); other services'
	// samples are pinned beside their catalog rows.
	pinned := map[string]bool{}
	for _, tc := range planCases {
		pinned[tc.sample] = true
	}
	s := settings(t, nil)
	for _, name := range samples.Names() {
		ev := event(t, name)
		if ev.Record.EventSource != "cloudtrail.amazonaws.com" {
			continue
		}
		if c := respond.Classify(ev, s); !c.Known {
			t.Errorf("%s: %s is not in the catalog", name, ev.Record.EventName)
		}
		if !pinned[name] {
			t.Errorf("%s: no case in planCases pins its plan", name)
		}
	}
}

func TestContainmentTargets(t *testing.T) {
	s := settings(t, nil)
	cases := map[string]func(t *testing.T, p respond.Plan){
		"stoplogging-iamuser": func(t *testing.T, p respond.Plan) {
			a := p.Actions[1]
			if a.UserName != "mallory" || a.PolicyARN != denyAll {
				t.Errorf("quarantine %+v, want mallory with AWSDenyAll", a)
			}
			if k := p.Actions[2]; k.AccessKeyID != "AKIAIOSFODNN7EXAMPLE" || k.UserName != "mallory" {
				t.Errorf("key deactivation %+v", k)
			}
		},
		"stoplogging-assumedrole": func(t *testing.T, p respond.Plan) {
			a := p.Actions[1]
			if a.RoleName != "ci-deployer" {
				t.Errorf("revoke role %q, want ci-deployer", a.RoleName)
			}
			if !a.IssuedBefore.After(now) {
				t.Errorf("cut-off %s must be after the planning time %s, so the actor's session is covered", a.IssuedBefore, now)
			}
		},
		"stoplogging-federated": func(t *testing.T, p respond.Plan) {
			if a := p.Actions[1]; a.UserName != "mallory" {
				t.Errorf("quarantine %q, want the issuing user mallory", a.UserName)
			}
		},
		"stoplogging-root": func(t *testing.T, p respond.Plan) {
			if a := p.Actions[1]; !strings.Contains(a.Reason, "root") || !strings.Contains(a.Reason, "MFA") {
				t.Errorf("root manual step %q does not tell what to do", a.Reason)
			}
		},
		"stoplogging-sso": func(t *testing.T, p respond.Plan) {
			if a := p.Actions[1]; !strings.Contains(a.Reason, "permission set") {
				t.Errorf("SSO manual step %q does not name the permission set", a.Reason)
			}
		},
		"stoplogging-by-name": func(t *testing.T, p respond.Plan) {
			if a := p.Actions[0]; a.Target != "management-trail" || a.Region != "us-east-1" {
				t.Errorf("start-logging %q in %q", a.Target, a.Region)
			}
		},
	}
	for name, check := range cases {
		t.Run(name, func(t *testing.T) { check(t, respond.NewPlan(respond.Classify(event(t, name), s), s, now)) })
	}
}

func TestAllowListedStillRestoredNotContained(t *testing.T) {
	for _, glob := range []string{
		"arn:aws:iam::123456789012:user/mallory",
		"arn:aws:iam::123456789012:user/mal*",
		"arn:aws:iam::123456789012:*",
	} {
		s := settings(t, map[string]string{config.EnvAllow: "arn:aws:iam::123456789012:role/other, " + glob})
		p := respond.NewPlan(respond.Classify(event(t, "stoplogging-iamuser"), s), s, now)
		if got, want := kinds(p), []string{"restore:start-logging", "notify:notify"}; !slices.Equal(got, want) {
			t.Errorf("allow %q: plan %q, want %q", glob, got, want)
		}
	}
	// Roles are allow-listed by the role ARN (the session issuer).
	s := settings(t, map[string]string{config.EnvAllow: "arn:aws:iam::123456789012:role/ci-*"})
	p := respond.NewPlan(respond.Classify(event(t, "stoplogging-assumedrole"), s), s, now)
	if got, want := kinds(p), []string{"restore:start-logging", "notify:notify"}; !slices.Equal(got, want) {
		t.Errorf("allow-listed role: plan %q, want %q", got, want)
	}
}

func TestResponderOwnRestoreIsQuiet(t *testing.T) {
	// The responder's own StartLogging comes back as an event: it must
	// neither alert again nor act (no loop).
	s := settings(t, map[string]string{config.EnvSelfRoleARN: "arn:aws:iam::123456789012:role/platform-admin"})
	p := respond.NewPlan(respond.Classify(event(t, "startlogging"), s), s, now)
	if !p.Quiet || len(p.Actions) != 0 {
		t.Errorf("own StartLogging: quiet=%v actions=%q, want a quiet empty plan", p.Quiet, kinds(p))
	}
	// An assumed-role ARN (what sts:GetCallerIdentity returns) works as well.
	s = settings(t, map[string]string{config.EnvSelfRoleARN: "arn:aws:sts::123456789012:assumed-role/platform-admin/fn"})
	if p := respond.NewPlan(respond.Classify(event(t, "startlogging"), s), s, now); !p.Quiet {
		t.Error("own StartLogging with an assumed-role self ARN is not quiet")
	}
}

func TestUpdateTrailRevertsOnlyWhatGotWorse(t *testing.T) {
	s := settings(t, nil)
	p := respond.NewPlan(respond.Classify(event(t, "updatetrail-degrade"), s), s, now)
	fix := p.Actions[0].Trail
	if fix == nil {
		t.Fatal("no trail config in the update action")
	}
	for name, v := range map[string]*bool{
		"isMultiRegionTrail": fix.IsMultiRegionTrail, "includeGlobalServiceEvents": fix.IncludeGlobalServiceEvents,
		"enableLogFileValidation": fix.EnableLogFileValidation,
	} {
		if v == nil || !*v {
			t.Errorf("%s not switched back on", name)
		}
	}
	if fix.KmsKeyID == nil || *fix.KmsKeyID != kmsKey {
		t.Errorf("kmsKeyId = %v, want the baseline key", fix.KmsKeyID)
	}
	if fix.S3BucketName != "" || fix.CloudWatchLogsLogGroupArn != nil || fix.IsOrganizationTrail != nil {
		t.Errorf("fields that did not get worse are set: %+v", fix)
	}

	// Without a baseline, switches go back on; the removed key cannot be
	// restored and becomes a manual step.
	s = settings(t, map[string]string{config.EnvTrails: ""})
	p = respond.NewPlan(respond.Classify(event(t, "updatetrail-degrade"), s), s, now)
	if got, want := kinds(p)[:2], []string{"restore:update-trail", "restore:manual"}; !slices.Equal(got, want) {
		t.Fatalf("plan %q, want %q first", kinds(p), want)
	}
	if p.Actions[0].Trail.KmsKeyID != nil || !strings.Contains(p.Actions[1].Reason, "kmsKeyId") {
		t.Errorf("no-baseline key removal: update %+v, manual %q", p.Actions[0].Trail, p.Actions[1].Reason)
	}

	// A moved bucket with no baseline is reported for review, not reverted.
	p = respond.NewPlan(respond.Classify(event(t, "updatetrail-bucket-moved"), s), s, now)
	if got, want := kinds(p), []string{"notify:notify"}; !slices.Equal(got, want) {
		t.Errorf("bucket moved, no baseline: plan %q, want %q", got, want)
	}
	// With the baseline, it is moved back.
	s = settings(t, nil)
	p = respond.NewPlan(respond.Classify(event(t, "updatetrail-bucket-moved"), s), s, now)
	if b := p.Actions[0].Trail.S3BucketName; b != "trailguard-logs-123456789012" {
		t.Errorf("bucket restored to %q", b)
	}
}

func TestBlindingSelectorsAreRepaired(t *testing.T) {
	noBaseline := settings(t, map[string]string{config.EnvTrails: ""})
	withBaseline := settings(t, nil)
	for _, name := range []string{"puteventselectors-no-management", "puteventselectors-readonly", "puteventselectors-exclusions", "puteventselectors-advanced-no-management"} {
		for label, s := range map[string]config.Settings{"baseline": withBaseline, "no baseline": noBaseline} {
			p := respond.NewPlan(respond.Classify(event(t, name), s), s, now)
			sel := p.Actions[0].Trail
			if sel == nil || sel.Name == "" {
				t.Fatalf("%s/%s: no selectors to put", name, label)
			}
			if cov := trail.Coverage(sel.EventSelectors, sel.AdvancedEventSelectors); !cov.Full() {
				t.Errorf("%s/%s: restored selectors record %s", name, label, cov)
			}
		}
	}
	// Without a baseline the data selectors the attacker's call kept survive.
	p := respond.NewPlan(respond.Classify(event(t, "puteventselectors-advanced-no-management"), noBaseline), noBaseline, now)
	if n := len(p.Actions[0].Trail.AdvancedEventSelectors); n != 2 {
		t.Errorf("advanced selectors after repair: %d, want management + the data selector", n)
	}
}

func TestDeleteTrailWithoutBaselineIsManual(t *testing.T) {
	s := settings(t, map[string]string{config.EnvTrails: ""})
	p := respond.NewPlan(respond.Classify(event(t, "deletetrail-iamuser"), s), s, now)
	if got := kinds(p); got[0] != "restore:manual" || !strings.Contains(p.Actions[0].Reason, config.EnvTrails) {
		t.Errorf("plan %q (%q): want a manual recreate step naming %s", got, p.Actions[0].Reason, config.EnvTrails)
	}
}

func TestPlanIsPure(t *testing.T) {
	s := settings(t, nil)
	for _, name := range samples.Names() {
		ev := event(t, name)
		a := respond.NewPlan(respond.Classify(ev, s), s, now)
		b := respond.NewPlan(respond.Classify(ev, s), s, now)
		// Every field, the classification's included: nothing depends on
		// anything but the event, the settings and the clock.
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: two plans of the same event differ:\n%+v\n%+v", name, a, b)
		}
	}
}

// deployedOrSelf checks the two callers no catalog row ever contains: a
// CloudFormation deployment of the sample's change is alerted, not fought,
// and the responder's own call is never contained.
func deployedOrSelf(t *testing.T, s config.Settings, sample string, now time.Time) {
	t.Helper()
	cfn := event(t, sample)
	cfn.Record.UserIdentity = event(t, "stoplogging-cloudformation").Record.UserIdentity
	if got := kinds(respond.NewPlan(respond.Classify(cfn, s), s, now)); !slices.Equal(got, []string{"notify:notify"}) {
		t.Errorf("CloudFormation: %q", got)
	}
	self := event(t, sample)
	self.Record.UserIdentity = event(t, "stoplogging-responder").Record.UserIdentity
	for _, a := range respond.NewPlan(respond.Classify(self, s), s, now).Actions {
		if a.Step == respond.StepContain {
			t.Errorf("the responder contained itself: %s", a)
		}
	}
}
