package respond_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/respond"
)

// fullBaseline protects everything the surroundings samples touch.
var fullBaseline = map[string]string{
	config.EnvTrails: `[{"name":"management-trail","s3BucketName":"trailguard-logs-123456789012","isMultiRegionTrail":true,"includeGlobalServiceEvents":true,"enableLogFileValidation":true,` +
		`"kmsKeyId":"` + kmsKey + `","cloudWatchLogsLogGroupArn":"arn:aws:logs:us-east-1:123456789012:log-group:trailguard-trail:*","cloudWatchLogsRoleArn":"arn:aws:iam::123456789012:role/trailguard-trail-cloudwatch-logs","homeRegion":"us-east-1"}]`,
	config.EnvRules:        "trailguard-cloudtrail-tamper,trailguard-reconcile",
	config.EnvFunctionName: "trailguard-responder",
}

func TestPlanBeyondTheTrailAPI(t *testing.T) {
	notify := "notify:notify"
	quarantine := []string{"contain:attach-user-policy", "contain:deactivate-access-key"}
	with := func(restore ...string) []string {
		return append(append(restore, quarantine...), notify)
	}
	cases := []struct {
		sample   string
		severity string
		plan     []string
	}{
		{"s3-putbucketlifecycle", "high", with("restore:fix-bucket-lifecycle")},
		{"s3-putbucketpolicy", "high", with("restore:restore-bucket-policy")},
		{"s3-deletebucketpolicy", "high", with("restore:restore-bucket-policy")},
		{"s3-deletebucket", "critical", with("restore:recreate-bucket", "restore:restore-bucket-policy")},
		{"kms-disablekey", "high", with("restore:enable-key")},
		{"kms-schedulekeydeletion", "critical", with("restore:cancel-key-deletion", "restore:enable-key")},
		{"kms-putkeypolicy", "high", with("restore:manual")},
		{"logs-deleteloggroup", "high", with("restore:create-log-group")},
		{"organizations-leaveorganization", "critical", with("restore:manual")},
		{"organizations-leaveorganization-failed", "critical", []string{notify}},
		{"events-disablerule", "critical", with("restore:enable-rule")},
		{"events-deleterule", "critical", with("restore:manual")},
		{"events-removetargets", "critical", with("restore:manual")},
		{"lambda-deletefunction", "critical", with("restore:manual")},
		{"lambda-updatefunctioncode", "critical", with("restore:manual")},
		{"lambda-putfunctionconcurrency", "critical", with("restore:manual")},
		{"sns-deletetopic", "critical", with("restore:manual")},
		{"sns-unsubscribe", "high", with("restore:manual")},
	}
	s := settings(t, fullBaseline)
	for _, tc := range cases {
		t.Run(tc.sample, func(t *testing.T) {
			c := respond.Classify(event(t, tc.sample), s)
			if !c.Known || !c.Target.Protected {
				t.Fatalf("known=%v protected=%v target=%+v", c.Known, c.Target.Protected, c.Target)
			}
			if got := c.Severity.String(); got != tc.severity {
				t.Errorf("severity %s, want %s", got, tc.severity)
			}
			p := respond.NewPlan(c, s, now)
			if got := kinds(p); !slices.Equal(got, tc.plan) {
				t.Errorf("plan %q\nwant %q", got, tc.plan)
			}
			for _, a := range p.Actions {
				if a.Kind == respond.KindManual && len(a.Reason) < 20 {
					t.Errorf("manual step %q does not say what to do", a.Reason)
				}
			}
		})
	}
}

// The same calls on resources trailguard does not protect are logged only:
// every bucket policy change in the account must not page the owners.
func TestUnprotectedResourcesAreQuiet(t *testing.T) {
	s := settings(t, map[string]string{config.EnvTrails: `[{"name":"management-trail","s3BucketName":"some-other-bucket"}]`})
	for _, name := range []string{"s3-putbucketlifecycle", "s3-putbucketpolicy", "s3-deletebucket", "kms-disablekey", "logs-deleteloggroup",
		"events-disablerule", "lambda-deletefunction"} {
		p := respond.NewPlan(respond.Classify(event(t, name), s), s, now)
		if !p.Quiet || len(p.Actions) != 0 {
			t.Errorf("%s on an unprotected resource: quiet=%v plan=%q", name, p.Quiet, kinds(p))
		}
	}
	// Topic and role are always known: the topic from its setting, the role
	// from the responder's own ARN.
	for _, name := range []string{"sns-deletetopic", "sns-unsubscribe"} {
		if p := respond.NewPlan(respond.Classify(event(t, name), s), s, now); p.Quiet {
			t.Errorf("%s on trailguard's own topic is quiet", name)
		}
	}
}

func TestHarmlessContentIsNotTampering(t *testing.T) {
	s := settings(t, fullBaseline)
	ev := event(t, "s3-putbucketlifecycle")
	// A 400-day expiry is longer than the minimum retention.
	ev.Record.RequestParameters = json.RawMessage(`{"bucketName":"trailguard-logs-123456789012","LifecycleConfiguration":{"Rule":[{"ID":"archive","Status":"Enabled","Expiration":{"Days":"400"}},{"ID":"off","Status":"Disabled","Expiration":{"Days":1}}]}}`)
	c := respond.Classify(ev, s)
	if c.Tamper() || c.Severity.String() != "info" {
		t.Errorf("long retention: tamper=%v severity=%s changes=%+v", c.Tamper(), c.Severity, c.Changes)
	}
	// A bucket policy that keeps CloudTrail's grant (and a TLS-only deny).
	ev = event(t, "s3-putbucketpolicy")
	ev.Record.RequestParameters = json.RawMessage(`{"bucketName":"trailguard-logs-123456789012","bucketPolicy":{"Version":"2012-10-17","Statement":[` +
		`{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:GetBucketAcl","Resource":"arn:aws:s3:::trailguard-logs-123456789012","Condition":{"StringEquals":{"aws:SourceArn":"` + trailARN + `"}}},` +
		`{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::trailguard-logs-123456789012/AWSLogs/123456789012/*","Condition":{"StringEquals":{"aws:SourceArn":"` + trailARN + `"}}},` +
		`{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}}`)
	if c := respond.Classify(ev, s); c.Tamper() {
		t.Errorf("policy keeping CloudTrail's grant judged tampering: %+v", c.Changes)
	}
	// The known attack: a one-day expiry.
	c = respond.Classify(event(t, "s3-putbucketlifecycle"), s)
	if !c.Tamper() || len(c.Changes) != 1 || !strings.Contains(c.Changes[0].Now, "after 1 day(s)") {
		t.Errorf("one-day expiry: %+v", c.Changes)
	}
}

func TestBucketPolicyActionNamesTheTrail(t *testing.T) {
	s := settings(t, fullBaseline)
	p := respond.NewPlan(respond.Classify(event(t, "s3-deletebucketpolicy"), s), s, now)
	a := p.Actions[0]
	if a.Bucket != "trailguard-logs-123456789012" || a.Account != "123456789012" || !slices.Equal(a.SourceARNs, []string{trailARN}) {
		t.Errorf("bucket policy action %+v", a)
	}
}

func TestRoleChangeOnResponderIsTamperingOthersAreNot(t *testing.T) {
	s := settings(t, fullBaseline)
	ev := event(t, "stoplogging-iamuser")
	ev.Record.EventSource, ev.Record.EventName = "iam.amazonaws.com", "DetachRolePolicy"
	ev.Record.RequestParameters = json.RawMessage(`{"roleName":"trailguard-responder","policyArn":"arn:aws:iam::123456789012:policy/x"}`)
	p := respond.NewPlan(respond.Classify(ev, s), s, now)
	if p.Quiet || p.Classification.Severity.String() != "critical" {
		t.Errorf("responder role change: quiet=%v severity=%s", p.Quiet, p.Classification.Severity)
	}
	// The responder's own session revocation on another role comes back as
	// an IAM event: it must stay quiet.
	ev.Record.EventName = "PutRolePolicy"
	ev.Record.RequestParameters = json.RawMessage(`{"roleName":"ci-deployer","policyName":"` + respond.RevokePolicyName + `"}`)
	if p := respond.NewPlan(respond.Classify(ev, s), s, now); !p.Quiet {
		t.Errorf("PutRolePolicy on another role is not quiet: %q", kinds(p))
	}
}

// Every new row in its other variants: a failed attempt alerts only (a failed
// LeaveOrganization stays critical), an allow-listed actor is restored but not
// contained, and the responder itself is never contained.
func TestBeyondTheTrailAPIVariants(t *testing.T) {
	base := settings(t, fullBaseline)
	allowEnv := map[string]string{config.EnvAllow: "arn:aws:iam::123456789012:user/mallory"}
	for k, v := range fullBaseline {
		allowEnv[k] = v
	}
	allow := settings(t, allowEnv)
	for _, name := range []string{"s3-putbucketlifecycle", "s3-putbucketpolicy", "s3-deletebucketpolicy", "s3-deletebucket", "kms-disablekey",
		"kms-schedulekeydeletion", "kms-putkeypolicy", "logs-deleteloggroup", "organizations-leaveorganization", "events-disablerule",
		"events-deleterule", "events-removetargets", "lambda-deletefunction", "lambda-updatefunctioncode", "lambda-putfunctionconcurrency",
		"sns-deletetopic", "sns-unsubscribe"} {
		t.Run(name, func(t *testing.T) {
			ev := event(t, name)
			ev.Record.ErrorCode, ev.Record.ErrorMessage = "AccessDenied", "not allowed"
			c := respond.Classify(ev, base)
			if got := kinds(respond.NewPlan(c, base, now)); !slices.Equal(got, []string{"notify:notify"}) {
				t.Errorf("failed attempt: plan %q, want the alert only", got)
			}
			if ev.Record.EventSource == "organizations.amazonaws.com" && c.Severity.String() != "critical" {
				t.Errorf("failed LeaveOrganization is %s, want critical", c.Severity)
			}

			p := respond.NewPlan(respond.Classify(event(t, name), allow), allow, now)
			for _, a := range p.Actions {
				if a.Step == respond.StepContain {
					t.Errorf("allow-listed actor contained: %s", a)
				}
			}
			if p.Actions[0].Step != respond.StepRestore {
				t.Errorf("allow-listed actor's change not restored: %q", kinds(p))
			}

			self := event(t, name)
			self.Record.UserIdentity = event(t, "stoplogging-responder").Record.UserIdentity
			p = respond.NewPlan(respond.Classify(self, base), base, now)
			for _, a := range p.Actions {
				if a.Step == respond.StepContain {
					t.Errorf("the responder contained itself: %s", a)
				}
			}
		})
	}
}
