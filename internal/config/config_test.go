package config_test

import (
	"strings"
	"testing"

	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/trail"
)

const topic = "arn:aws:sns:us-east-1:123456789012:trailguard-alerts"

func load(env map[string]string) (config.Settings, error) {
	return config.Load(func(k string) string { return env[k] })
}

func TestDefaults(t *testing.T) {
	s, err := load(map[string]string{config.EnvTopicARN: topic})
	if err != nil {
		t.Fatal(err)
	}
	if s.Mode != config.Enforce || s.QuarantinePolicyARN != config.DefaultQuarantinePolicyARN || len(s.Allow) != 0 || len(s.Trails) != 0 || !s.NeedsSelf() ||
		s.DedupTable != "" {
		t.Errorf("defaults: %+v", s)
	}
}

func TestFullSettings(t *testing.T) {
	s, err := load(map[string]string{
		config.EnvTopicARN:            topic,
		config.EnvMode:                "dry-run",
		config.EnvQuarantinePolicyARN: "arn:aws:iam::123456789012:policy/deny-all",
		config.EnvAllow:               " arn:aws:iam::123456789012:role/pipeline-* ,, arn:aws:iam::123456789012:user/breakglass ",
		config.EnvSelfRoleARN:         "arn:aws:iam::123456789012:role/trailguard-responder",
		config.EnvTrails:              `[{"name":"management-trail","s3BucketName":"b","isMultiRegionTrail":true,"homeRegion":"eu-west-1"}]`,
		config.EnvDedupTable:          " trailguard-events ",
	})
	if err != nil {
		t.Fatal(err)
	}
	if s.Mode != config.DryRun || len(s.Allow) != 2 || s.NeedsSelf() || len(s.Trails) != 1 || s.DedupTable != "trailguard-events" {
		t.Fatalf("%+v", s)
	}
	if !s.Allowed("arn:aws:iam::123456789012:role/pipeline-deploy") || s.Allowed("arn:aws:iam::123456789012:role/pipelinex") || s.Allowed("") {
		t.Error("allow list globbing is wrong")
	}
	b, ok := s.Baseline(trail.ParseTrailRef("arn:aws:cloudtrail:eu-west-1:123456789012:trail/management-trail"))
	if !ok || b.HomeRegion != "eu-west-1" || !*b.IsMultiRegionTrail {
		t.Errorf("baseline by ARN: %+v %v", b, ok)
	}
	if _, ok := s.Baseline(trail.ParseTrailRef("other")); ok {
		t.Error("baseline for an unlisted trail")
	}
}

// Every bad setting is refused, with a message that names the setting.
func TestBadSettingsRefused(t *testing.T) {
	cases := map[string]struct {
		env  map[string]string
		want string
	}{
		"missing topic":        {map[string]string{}, config.EnvTopicARN},
		"topic not an arn":     {map[string]string{config.EnvTopicARN: "alerts"}, config.EnvTopicARN},
		"topic of another svc": {map[string]string{config.EnvTopicARN: "arn:aws:sqs:us-east-1:123456789012:q"}, config.EnvTopicARN},
		"mode":                 {map[string]string{config.EnvTopicARN: topic, config.EnvMode: "enforcing"}, config.EnvMode},
		"policy":               {map[string]string{config.EnvTopicARN: topic, config.EnvQuarantinePolicyARN: "AWSDenyAll"}, config.EnvQuarantinePolicyARN},
		"allow not arn":        {map[string]string{config.EnvTopicARN: topic, config.EnvAllow: "mallory"}, config.EnvAllow},
		"allow everyone":       {map[string]string{config.EnvTopicARN: topic, config.EnvAllow: "*"}, config.EnvAllow},
		"self not a role":      {map[string]string{config.EnvTopicARN: topic, config.EnvSelfRoleARN: "arn:aws:iam::123456789012:user/x"}, config.EnvSelfRoleARN},
		"trails not json":      {map[string]string{config.EnvTopicARN: topic, config.EnvTrails: "management-trail"}, config.EnvTrails},
		"trails object":        {map[string]string{config.EnvTopicARN: topic, config.EnvTrails: `{"name":"t"}`}, config.EnvTrails},
		"trails unknown field": {map[string]string{config.EnvTopicARN: topic, config.EnvTrails: `[{"name":"t","s3Bucket":"b"}]`}, "s3Bucket"},
		"trail without name":   {map[string]string{config.EnvTopicARN: topic, config.EnvTrails: `[{"s3BucketName":"b"}]`}, "without a name"},
		"trail twice":          {map[string]string{config.EnvTopicARN: topic, config.EnvTrails: `[{"name":"t"},{"name":"t"}]`}, "twice"},
		"both selector kinds":  {map[string]string{config.EnvTopicARN: topic, config.EnvTrails: `[{"name":"t","eventSelectors":[{}],"advancedEventSelectors":[{"fieldSelectors":[]}]}]`}, "only one kind"},
		"securityhub not bool": {map[string]string{config.EnvTopicARN: topic, config.EnvSecurityHub: "yes"}, config.EnvSecurityHub},
		"bad readWriteType":    {map[string]string{config.EnvTopicARN: topic, config.EnvTrails: `[{"name":"t","eventSelectors":[{"readWriteType":"Some"}]}]`}, "readWriteType"},
		"dedup table name":     {map[string]string{config.EnvTopicARN: topic, config.EnvDedupTable: "arn:aws:dynamodb:us-east-1:123456789012:table/x"}, config.EnvDedupTable},
		"dedup table short":    {map[string]string{config.EnvTopicARN: topic, config.EnvDedupTable: "ab"}, config.EnvDedupTable},
	}
	for name, tc := range cases {
		s, err := load(tc.env)
		if err == nil {
			t.Errorf("%s: accepted: %+v", name, s)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %q does not name %q", name, err, tc.want)
		}
	}
	// Several problems are reported together.
	_, err := load(map[string]string{config.EnvMode: "x", config.EnvAllow: "y"})
	for _, want := range []string{config.EnvTopicARN, config.EnvMode, config.EnvAllow} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not name %s", err, want)
		}
	}
}

func TestSecurityHubIsOptIn(t *testing.T) {
	for v, want := range map[string]bool{"": false, "false": false, "true": true, " true ": true} {
		s, err := load(map[string]string{config.EnvTopicARN: topic, config.EnvSecurityHub: v})
		if err != nil || s.SecurityHub != want {
			t.Errorf("%s=%q: SecurityHub %v, err %v; want %v", config.EnvSecurityHub, v, s.SecurityHub, err, want)
		}
	}
}

func TestGlob(t *testing.T) {
	for _, tc := range []struct {
		p, s string
		want bool
	}{
		{"a*c", "abc", true}, {"a*c", "ac", true}, {"a*c", "a/b/c", true}, {"a?c", "abc", true},
		{"a?c", "ac", false}, {"*", "", true}, {"a*", "b", false}, {"*b*b*", "abcb", true}, {"abc", "abcd", false},
		{strings.Repeat("*a", 30) + "b", strings.Repeat("a", 60), false},
	} {
		if got := config.Glob(tc.p, tc.s); got != tc.want {
			t.Errorf("Glob(%q, %q) = %v", tc.p, tc.s, got)
		}
	}
}
