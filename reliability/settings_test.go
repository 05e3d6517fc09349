package reliability_test

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestBadSettingsRefuseToStart runs the real bootstrap against kumo's
// runtime API with one bad setting at a time, and without
// TRAILGUARD_SELF_ROLE_ARN (which would make init call STS): it must exit
// non-zero at init with a message naming the setting, and make no AWS call
// and no runtime API call at all.
func TestBadSettingsRefuseToStart(t *testing.T) {
	w := start(t, "settings")
	good := map[string]string{
		"TRAILGUARD_TOPIC_ARN":             w.TopicARN,
		"TRAILGUARD_QUARANTINE_POLICY_ARN": w.PolicyARN,
		"TRAILGUARD_TRAILS":                `[{"name":"` + w.Trail + `","s3BucketName":"` + w.Bucket + `"}]`,
	}
	cases := []struct {
		name, key, value, want string
	}{
		{"missing topic", "TRAILGUARD_TOPIC_ARN", "", "TRAILGUARD_TOPIC_ARN is required"},
		{"topic not an SNS ARN", "TRAILGUARD_TOPIC_ARN", "arn:aws:sqs:us-east-1:000000000000:alerts", "TRAILGUARD_TOPIC_ARN"},
		{"trails not JSON", "TRAILGUARD_TRAILS", `[{"name":"management-trail"`, "TRAILGUARD_TRAILS"},
		{"trails with an unknown field", "TRAILGUARD_TRAILS", `[{"name":"t","s3BucketName":"b","logging":true}]`, "TRAILGUARD_TRAILS"},
		{"allow list not ARNs", "TRAILGUARD_ALLOW", "mallory,arn:aws:iam::123456789012:role/ops", "TRAILGUARD_ALLOW"},
		{"allow list exempting everyone", "TRAILGUARD_ALLOW", "*", "TRAILGUARD_ALLOW"},
	}
	before := w.calls.snapshot()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := append(w.Srv.Env(),
				"AWS_LAMBDA_RUNTIME_API="+strings.TrimPrefix(w.Srv.URL, "http://")+"/_runtime/bad-settings",
				"AWS_LAMBDA_FUNCTION_NAME=bad-settings", "AWS_LAMBDA_LOG_FORMAT=JSON")
			for k, v := range good {
				if k != c.key {
					env = append(env, k+"="+v)
				}
			}
			if c.value != "" {
				env = append(env, c.key+"="+c.value)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bootstrapBin)
			cmd.Env = env
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() == 0 || ctx.Err() != nil {
				t.Fatalf("bootstrap: %v (context %v), want a non-zero exit at init; stderr:\n%s", err, ctx.Err(), stderr.String())
			}
			if !strings.Contains(stderr.String(), c.want) {
				t.Errorf("stderr does not name %q:\n%s", c.want, stderr.String())
			}
			if !strings.Contains(stdout.String()+stderr.String(), "cannot start") {
				t.Errorf("no init failure logged:\nstdout %s\nstderr %s", stdout.String(), stderr.String())
			}
		})
	}
	after := w.calls.snapshot()
	for k, v := range after {
		if v != before[k] {
			t.Errorf("the refused bootstraps made %d %s requests, want none", v-before[k], k)
		}
	}
}
