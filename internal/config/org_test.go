package config_test

import (
	"strings"
	"testing"

	"github.com/trailguard/trailguard/internal/config"
)

func TestOrgDefaultsLeaveSingleAccountModeAlone(t *testing.T) {
	s, err := load(map[string]string{config.EnvTopicARN: topic})
	if err != nil {
		t.Fatal(err)
	}
	if s.Org.Hub || s.Org.MemberRoleName != config.DefaultMemberRoleName || s.Deployment("arn:aws:iam::123456789012:role/stacksets-exec-abc") {
		t.Errorf("single-account defaults: %+v", s.Org)
	}
}

func TestOrgSettings(t *testing.T) {
	s, err := load(map[string]string{
		config.EnvTopicARN:         topic,
		config.EnvHub:              "true",
		config.EnvMemberRoleName:   "OrgTrailguard",
		config.EnvMemberExternalID: "ext-1234",
		config.EnvOrganizationID:   "o-a1b2c3d4e5",
		config.EnvSkipAccounts:     "333333333333",
		config.EnvDryRunAccounts:   "ou-ab12-sandbox1, 222222222222",
		config.EnvRegions:          "us-east-1,eu-west-1",
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.MemberRoleARN("aws-us-gov", "111111111111"); got != "arn:aws-us-gov:iam::111111111111:role/OrgTrailguard" {
		t.Errorf("member role ARN %s", got)
	}
	for _, c := range []struct {
		account string
		ous     []string
		want    config.Scope
	}{
		{"111111111111", nil, config.ScopeEnforce},
		{"222222222222", nil, config.ScopeDryRun},
		{"444444444444", []string{"ou-ab12-sandbox1"}, config.ScopeDryRun},
		{"333333333333", []string{"ou-ab12-sandbox1"}, config.ScopeSkip},
	} {
		if got := s.ScopeOf(c.account, c.ous); got != c.want {
			t.Errorf("scope of %s in %v: %s, want %s", c.account, c.ous, got, c.want)
		}
	}
	if !s.NeedsOUs() {
		t.Error("an OU in the scope settings needs the OUs looked up")
	}
	for _, arn := range []string{
		"arn:aws:iam::111111111111:role/stacksets-exec-0a1b2c3d",
		"arn:aws:iam::111111111111:role/AWSControlTowerExecution",
		"arn:aws:iam::111111111111:role/cdk-hnb659fds-cfn-exec-role-111111111111-us-east-1",
	} {
		if !s.Deployment(arn) {
			t.Errorf("%s is not recognised as a deployment principal", arn)
		}
	}
	if s.Deployment("arn:aws:iam::111111111111:role/admin") {
		t.Error("an ordinary role counted as a deployment principal")
	}
}

func TestOrgSettingsRejected(t *testing.T) {
	for env, want := range map[string]map[string]string{
		config.EnvHub:              {config.EnvHub: "yes"},
		config.EnvMemberRoleName:   {config.EnvHub: "true", config.EnvMemberRoleName: "bad role"},
		config.EnvOrganizationID:   {config.EnvHub: "true", config.EnvOrganizationID: "org-1"},
		config.EnvSkipAccounts:     {config.EnvHub: "true", config.EnvSkipAccounts: "12345"},
		config.EnvRegions:          {config.EnvHub: "true", config.EnvRegions: "mars"},
		config.EnvDryRunAccounts:   {config.EnvDryRunAccounts: "111111111111"},
		config.EnvMemberExternalID: {config.EnvHub: "true", config.EnvMemberExternalID: "x"},
	} {
		want[config.EnvTopicARN] = topic
		_, err := load(want)
		if err == nil || !strings.Contains(err.Error(), env) {
			t.Errorf("%v: error %v, want one naming %s", want, err, env)
		}
	}
}
