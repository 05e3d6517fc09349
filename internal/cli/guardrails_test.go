package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/trailguard/trailguard/internal/guardrails"
)

// guardrailsArgs is the README's run: the baseline of respond's tests, the
// responder's rule, function and topic, a break-glass role.
var guardrailsArgs = []string{"guardrails", "--region", "us-east-1",
	"--trails", "testdata/respond-trails.json",
	"--responder-role-arn", "arn:aws:iam::123456789012:role/trailguard-responder",
	"--rule", "trailguard-cloudtrail-1a2b3c4d", "--function", "trailguard-responder",
	"--topic", "trailguard-alerts", "--allow", "arn:aws:iam::123456789012:role/break-glass"}

func TestGuardrailsGolden(t *testing.T) {
	for _, output := range []string{"text", "json"} {
		t.Run(output, func(t *testing.T) {
			e, out, errb := testEnv(false, nil)
			if code := run(t.Context(), append(guardrailsArgs, "--output", output), e); code != ExitOK {
				t.Fatalf("exit %d; stderr: %s", code, errb)
			}
			if output == "json" {
				var pols []struct {
					Name     string          `json:"name"`
					Type     guardrails.Type `json:"type"`
					Document json.RawMessage `json:"document"`
				}
				if err := json.Unmarshal(out.Bytes(), &pols); err != nil || len(pols) != 2 {
					t.Fatalf("not an array of two {name, type, document}: %v\n%s", err, out)
				}
				for _, p := range pols {
					if p.Name == "" || p.Type == "" || len(p.Document) == 0 {
						t.Errorf("incomplete policy %+v", p)
					}
				}
			}
			golden(t, "guardrails."+output+".golden", out.Bytes())
		})
	}
}

// The responder's settings in the environment are the defaults; flags win.
func TestGuardrailsReadsTheResponderSettings(t *testing.T) {
	e, out, errb := testEnv(false, map[string]string{
		"TRAILGUARD_SELF_ROLE_ARN":    "arn:aws:iam::123456789012:role/from-env",
		"TRAILGUARD_TRAILS":           `[{"name":"env-trail","s3BucketName":"env-bucket","homeRegion":"eu-west-1"}]`,
		"TRAILGUARD_ALLOW":            "arn:aws:iam::123456789012:user/env-admin",
		"TRAILGUARD_TOPIC_ARN":        "arn:aws:sns:eu-west-1:123456789012:env-topic",
		"TRAILGUARD_MEMBER_ROLE_NAME": "TrailguardMember",
	})
	if code := run(t.Context(), []string{"guardrails", "--output", "json", "--allow", "arn:aws:iam::123456789012:user/flag-admin"}, e); code != ExitOK {
		t.Fatalf("exit %d; stderr: %s", code, errb)
	}
	for _, want := range []string{"role/from-env", "trail/env-trail", "arn:aws:s3:::env-bucket", "env-topic", "user/flag-admin", "arn:aws:iam::*:role/TrailguardMember"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(out.String(), "env-admin") {
		t.Error("--allow did not replace TRAILGUARD_ALLOW")
	}
}

func TestGuardrailsBadInputIsAUsageError(t *testing.T) {
	for name, args := range map[string][]string{
		"no responder":   {"guardrails", "--region", "us-east-1", "--account", "123456789012", "--trail", "t"},
		"bad output":     {"guardrails", "--output", "yaml"},
		"bucket alone":   {"guardrails", "--bucket", "b", "--responder-role-arn", "arn:aws:iam::123456789012:role/r"},
		"missing trails": {"guardrails", "--trails", "testdata/nonexistent.json", "--responder-role-arn", "arn:aws:iam::123456789012:role/r"},
	} {
		e, out, _ := testEnv(false, nil)
		if code := run(t.Context(), args, e); code != ExitUsage {
			t.Errorf("%s: exit %d, want %d", name, code, ExitUsage)
		}
		if out.Len() != 0 {
			t.Errorf("%s: printed %q on a usage error", name, out)
		}
	}
}
