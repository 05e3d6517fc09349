package awsx_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/trailguard/trailguard/internal/awsx"
	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/trail"
)

// The event path for the trail's surroundings, against the emulator. Not
// covered here: CancelKeyDeletion (kumo lacks it; unit-tested), and the
// Lambda, SNS and IAM rows, which only alert (their plans are table-tested).

// surroundingEvent points a sample at this world's bucket, key or rule.
func (w *world) surroundingEvent(t *testing.T, name, keyARN, rule string) trail.Event {
	t.Helper()
	ev := w.event(t, name)
	raw := string(ev.Raw)
	raw = strings.ReplaceAll(raw, "trailguard-logs-123456789012", w.bucket)
	if keyARN != "" {
		raw = strings.ReplaceAll(raw, "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", keyARN)
	}
	if rule != "" {
		raw = strings.ReplaceAll(raw, "trailguard-cloudtrail-tamper", rule)
	}
	out, err := trail.Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestOneDayLifecycleRemoved(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	rules := []s3types.LifecycleRule{
		{ID: aws.String("keep-long"), Status: s3types.ExpirationStatusEnabled, Filter: &s3types.LifecycleRuleFilter{Prefix: aws.String("archive/")},
			Expiration: &s3types.LifecycleExpiration{Days: aws.Int32(400)}},
		{ID: aws.String("expire-after-1-day"), Status: s3types.ExpirationStatusEnabled, Filter: &s3types.LifecycleRuleFilter{Prefix: aws.String("")},
			Expiration: &s3types.LifecycleExpiration{Days: aws.Int32(1)}},
	}
	if _, err := w.clients.S3.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: aws.String(w.bucket),
		LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: rules}}); err != nil {
		t.Fatal(err)
	}
	e := awsx.NewEngine(w.settings(t, nil), w.clients)
	rep, err := e.Respond(ctx, w.surroundingEvent(t, "s3-putbucketlifecycle", "", ""))
	if err != nil {
		t.Fatal(err)
	}
	out, err := w.clients.S3.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(w.bucket)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Rules) != 1 || aws.ToString(out.Rules[0].ID) != "keep-long" {
		t.Errorf("lifecycle rules after the fix: %+v (the 400-day rule must stay, the 1-day rule go)", out.Rules)
	}
	if !w.quarantined(t) || !strings.Contains(rep.Outcomes[0].Detail, "expire-after-1-day") {
		t.Errorf("outcomes %+v", rep.Outcomes)
	}
}

func TestDeletedBucketPolicyRestored(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	e := awsx.NewEngine(w.settings(t, nil), w.clients)
	if _, err := e.Respond(ctx, w.surroundingEvent(t, "s3-deletebucketpolicy", "", "")); err != nil {
		t.Fatal(err)
	}
	out, err := w.clients.S3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(w.bucket)})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"cloudtrail.amazonaws.com", "s3:PutObject", "aws:SourceArn", "aws:SecureTransport"} {
		if !strings.Contains(aws.ToString(out.Policy), want) {
			t.Errorf("restored policy lacks %s: %s", want, aws.ToString(out.Policy))
		}
	}
}

// An attacker's policy that denies CloudTrail is replaced by one that keeps
// the attacker's other statements but not the deny.
func TestDenyingBucketPolicyRepaired(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	attacker := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"DenyCloudTrailWrite","Effect":"Deny","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::%s/*"},{"Sid":"ReadForAuditors","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/auditor"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::%s/*"}]}`, w.bucket, w.bucket)
	if _, err := w.clients.S3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(w.bucket), Policy: aws.String(attacker)}); err != nil {
		t.Fatal(err)
	}
	e := awsx.NewEngine(w.settings(t, nil), w.clients)
	if _, err := e.Respond(ctx, w.surroundingEvent(t, "s3-putbucketpolicy", "", "")); err != nil {
		t.Fatal(err)
	}
	out, _ := w.clients.S3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(w.bucket)})
	p := aws.ToString(out.Policy)
	if strings.Contains(p, "DenyCloudTrailWrite") || !strings.Contains(p, "ReadForAuditors") || !strings.Contains(p, "TrailguardCloudTrailWrite") {
		t.Errorf("repaired policy: %s", p)
	}
}

func TestDisabledKeyEnabled(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	kc := kms.NewFromConfig(srv.Config(ctx))
	key, err := kc.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("trail key " + w.trailName)})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(key.KeyMetadata.Arn)
	if _, err := kc.DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	trails := fmt.Sprintf(`[{"name":%q,"s3BucketName":%q,"kmsKeyId":%q,"homeRegion":"us-east-1"}]`, w.trailName, w.bucket, arn)
	e := awsx.NewEngine(w.settings(t, map[string]string{config.EnvTrails: trails}), w.clients)
	if _, err := e.Respond(ctx, w.surroundingEvent(t, "kms-disablekey", arn, "")); err != nil {
		t.Fatal(err)
	}
	out, err := kc.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(arn)})
	if err != nil || out.KeyMetadata.KeyState != kmstypes.KeyStateEnabled {
		t.Errorf("key state %v (%v), want Enabled", out.KeyMetadata.KeyState, err)
	}
}

func TestDisabledRuleEnabled(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	rule := "comp-disabled-" + w.trailName
	if _, err := w.clients.Events.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(rule), EventPattern: aws.String(`{"source":["aws.cloudtrail"]}`), State: "DISABLED"}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = w.clients.Events.DeleteRule(ctx, &eventbridge.DeleteRuleInput{Name: aws.String(rule)}) })
	e := awsx.NewEngine(w.settings(t, map[string]string{config.EnvRules: rule}), w.clients)
	if _, err := e.Respond(ctx, w.surroundingEvent(t, "events-disablerule", "", rule)); err != nil {
		t.Fatal(err)
	}
	out, err := w.clients.Events.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String(rule)})
	if err != nil || out.State != "ENABLED" {
		t.Errorf("rule state %v (%v), want ENABLED", out.State, err)
	}
}

func TestDeletedLogGroupRecreated(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	group := "comp-group-" + w.trailName
	trails := fmt.Sprintf(`[{"name":%q,"s3BucketName":%q,"cloudWatchLogsLogGroupArn":"arn:aws:logs:us-east-1:000000000000:log-group:%s:*","cloudWatchLogsRoleArn":"arn:aws:iam::000000000000:role/x"}]`, w.trailName, w.bucket, group)
	e := awsx.NewEngine(w.settings(t, map[string]string{config.EnvTrails: trails}), w.clients)
	ev := w.event(t, "logs-deleteloggroup")
	ev, err := trail.Parse([]byte(strings.ReplaceAll(string(ev.Raw), `"trailguard-trail"`, fmt.Sprintf("%q", group))))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Respond(ctx, ev); err != nil {
		t.Fatal(err)
	}
	out, err := w.clients.Logs.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(group)})
	if err != nil || len(out.LogGroups) != 1 {
		t.Errorf("log group not recreated: %v %+v", err, out)
	}
	// A duplicate delivery finds it there and converges.
	if _, err := e.Respond(ctx, ev); err != nil {
		t.Errorf("duplicate: %v", err)
	}
}
