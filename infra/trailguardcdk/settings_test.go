package trailguardcdk_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/trailguard/trailguard/internal/config"
)

// deployToken stands for what CloudFormation puts in place of a token at
// deployment: the topic's ARN, the role's, the region, a bucket name.
var deployToken = regexp.MustCompile(`\{([^{}"]+)\}`)

func deployed(s *synthesized, t *testing.T, v string) string {
	topicID, _ := s.only(t, "AWS::SNS::Topic")
	return deployToken.ReplaceAllStringFunc(v, func(tok string) string {
		id := strings.Trim(tok, "{}")
		switch {
		case id == topicID:
			return "arn:aws:sns:us-east-1:123456789012:trailguard-alerts"
		case strings.HasSuffix(id, ".Arn"):
			return "arn:aws:iam::123456789012:role/" + strings.ToLower(strings.TrimSuffix(id, ".Arn"))
		case id == "AWS::Region":
			return "us-east-1"
		case id == "AWS::AccountId":
			return "123456789012"
		}
		return strings.ToLower(strings.NewReplacer(":", "-", ".", "-").Replace(id))
	})
}

// The function's environment, as synthesized and with its tokens resolved
// as CloudFormation would, passes the responder's own settings loader: the
// names are the contract's (internal/config) and every value parses, so the
// deployed function starts instead of stopping at init.
func TestSynthesizedEnvironmentLoads(t *testing.T) {
	for name, s := range map[string]*synthesized{"default": defaultStack(), "existing trail": existingStack(), "kms": kmsStack()} {
		env := s.env(t)
		for k, v := range env {
			env[k] = deployed(s, t, v)
		}
		got, err := config.Load(func(k string) string { return env[k] })
		if err != nil {
			t.Fatalf("%s: the synthesized environment does not load: %v\n%v", name, err, env)
		}
		if name != "default" {
			continue
		}
		if got.Mode != config.Enforce || got.TopicARN != "arn:aws:sns:us-east-1:123456789012:trailguard-alerts" ||
			got.QuarantinePolicyARN != config.DefaultQuarantinePolicyARN || len(got.Trails) != 1 ||
			len(got.Rules) == 0 || got.MinRetentionDays != config.DefaultMinRetentionDays || len(got.Allow) != 2 {
			t.Errorf("%s: settings %+v", name, got)
		}
	}
}
