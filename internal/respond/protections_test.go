package respond_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/respond"
)

// protectedEnv protects the trail bucket, the trail's and the responder's
// log groups, the responder and its topic, and trailguard's alarms.
var protectedEnv = withEnv(fullBaseline, map[string]string{
	config.EnvLogGroupName: "/aws/lambda/trailguard-responder",
	config.EnvAlarms:       "trailguard-errors,trailguard-reconcile-heartbeat",
})

// The bucket protections, log groups, organization switches, the responder's
// invocation settings, the topic's attributes and trailguard's alarms, in
// every variant: success (restored or alerted with the step, actor contained
// where the row says), failed attempt, allow-listed actor, the responder
// itself, CloudFormation.
func TestProtectionsAroundTheTrail(t *testing.T) {
	s := settings(t, protectedEnv)
	quarantine := []string{"contain:attach-user-policy", "contain:deactivate-access-key"}
	cases := []struct {
		sample  string
		restore respond.Kind
		contain bool
	}{
		{"s3-putbucketversioning-suspended", respond.KindEnableVersioning, true},
		{"s3-putbucketpublicaccessblock-weakened", respond.KindBlockPublicAccess, true},
		{"s3-deletebucketpublicaccessblock", respond.KindBlockPublicAccess, true},
		{"s3-putbucketacl-public", respond.KindManual, true},
		{"s3-putbucketencryption-foreign-key", respond.KindManual, true},
		{"s3-putbucketreplication", respond.KindManual, false},
		{"s3-putbucketownershipcontrols", respond.KindManual, false},
		{"logs-putretentionpolicy", respond.KindPutRetention, true},
		{"logs-deletemetricfilter", respond.KindManual, true},
		{"logs-deletesubscriptionfilter", respond.KindManual, true},
		{"organizations-disableawsserviceaccess", respond.KindManual, true},
		{"organizations-deregisterdelegatedadministrator", respond.KindManual, true},
		{"organizations-detachpolicy", respond.KindManual, true},
		{"lambda-addpermission", respond.KindManual, true},
		{"lambda-putfunctioneventinvokeconfig", respond.KindManual, true},
		{"lambda-updatefunctionconfiguration-topic", respond.KindManual, true},
		{"sns-settopicattributes", respond.KindManual, true},
		{"cloudwatch-disablealarmactions", respond.KindEnableAlarmActions, true},
		{"cloudwatch-deletealarms", respond.KindManual, true},
		{"cloudwatch-putmetricalarm", respond.KindManual, true},
	}
	allow := settings(t, withEnv(protectedEnv, map[string]string{config.EnvAllow: "arn:aws:iam::123456789012:user/mallory"}))
	for _, tc := range cases {
		t.Run(tc.sample, func(t *testing.T) {
			c := respond.Classify(event(t, tc.sample), s)
			if !c.Known || !c.Target.Protected || !c.Tamper() {
				t.Fatalf("known=%v protected=%v tamper=%v target=%+v changes=%+v", c.Known, c.Target.Protected, c.Tamper(), c.Target, c.Changes)
			}
			p := respond.NewPlan(c, s, now)
			want := []string{"restore:" + string(tc.restore)}
			if tc.contain {
				want = append(want, quarantine...)
			}
			want = append(want, "notify:notify")
			if got := kinds(p); !slices.Equal(got, want) {
				t.Fatalf("plan %q, want %q", got, want)
			}
			if a := p.Actions[0]; a.Kind == respond.KindManual && len(a.Reason) < 30 {
				t.Errorf("manual step %q does not say what to do", a.Reason)
			}

			failed := event(t, tc.sample)
			failed.Record.ErrorCode = "AccessDenied"
			if got := kinds(respond.NewPlan(respond.Classify(failed, s), s, now)); !slices.Equal(got, []string{"notify:notify"}) {
				t.Errorf("failed attempt: %q", got)
			}
			if got := kinds(respond.NewPlan(respond.Classify(event(t, tc.sample), allow), allow, now)); !slices.Equal(got, []string{"restore:" + string(tc.restore), "notify:notify"}) {
				t.Errorf("allow-listed: %q", got)
			}
			deployedOrSelf(t, s, tc.sample, now)
		})
	}
}

// Content that keeps the protection is no tampering, and the same calls on
// other buckets, log groups, alarms and services are not trailguard's.
func TestProtectionsKeptAreNotTampering(t *testing.T) {
	s := settings(t, protectedEnv)
	for sample, params := range map[string]string{
		"s3-putbucketversioning-suspended":       `{"bucketName":"trailguard-logs-123456789012","VersioningConfiguration":{"Status":"Enabled"}}`,
		"s3-putbucketpublicaccessblock-weakened": `{"bucketName":"trailguard-logs-123456789012","PublicAccessBlockConfiguration":{"BlockPublicAcls":"true","IgnorePublicAcls":true,"BlockPublicPolicy":true,"RestrictPublicBuckets":true}}`,
		"s3-putbucketacl-public":                 `{"bucketName":"trailguard-logs-123456789012","x-amz-acl":"private"}`,
		"s3-putbucketencryption-foreign-key":     `{"bucketName":"trailguard-logs-123456789012","ServerSideEncryptionConfiguration":{"Rule":{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"aws:kms","KMSMasterKeyID":"arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"}}}}`,
		"logs-putretentionpolicy":                `{"logGroupName":"trailguard-trail","retentionInDays":400}`,
		"organizations-disableawsserviceaccess":  `{"servicePrincipal":"config.amazonaws.com"}`,
	} {
		ev := event(t, sample)
		ev.Record.RequestParameters = json.RawMessage(params)
		if c := respond.Classify(ev, s); c.Tamper() {
			t.Errorf("%s keeping the protection judged tampering: %+v", sample, c.Changes)
		}
	}
	for sample, params := range map[string]string{
		"s3-putbucketversioning-suspended": `{"bucketName":"another-bucket","VersioningConfiguration":{"Status":"Suspended"}}`,
		"logs-putretentionpolicy":          `{"logGroupName":"another-group","retentionInDays":1}`,
		"cloudwatch-disablealarmactions":   `{"alarmNames":["someone-elses-alarm"]}`,
		"lambda-addpermission":             `{"functionName":"another-function","principal":"111122223333"}`,
		"sns-settopicattributes":           `{"topicArn":"arn:aws:sns:us-east-1:123456789012:other","attributeName":"Policy"}`,
	} {
		ev := event(t, sample)
		ev.Record.RequestParameters = json.RawMessage(params)
		if p := respond.NewPlan(respond.Classify(ev, s), s, now); !p.Quiet {
			t.Errorf("%s on something else: %q", sample, kinds(p))
		}
	}
	// Only trailguard's own alarms among those named get their actions back.
	p := respond.NewPlan(respond.Classify(event(t, "cloudwatch-disablealarmactions"), s), s, now)
	if a := p.Actions[0]; a.Kind != respond.KindEnableAlarmActions || a.Target != "trailguard-errors" {
		t.Errorf("alarm actions restored on %+v", a)
	}
	// The responder's own log group is protected like the trail's.
	ev := event(t, "logs-putretentionpolicy")
	ev.Record.RequestParameters = json.RawMessage(`{"logGroupName":"/aws/lambda/trailguard-responder","retentionInDays":1}`)
	p = respond.NewPlan(respond.Classify(ev, s), s, now)
	if a := p.Actions[0]; a.Kind != respond.KindPutRetention || a.MinRetentionDays != 365 || a.Target != "/aws/lambda/trailguard-responder" {
		t.Errorf("responder's log group: %+v", a)
	}
	// Every identifier form of the function: name, partial and full ARN,
	// qualified.
	for _, id := range []string{"trailguard-responder", "123456789012:function:trailguard-responder", "arn:aws:lambda:us-east-1:123456789012:function:trailguard-responder", "arn:aws:lambda:us-east-1:123456789012:function:trailguard-responder:live"} {
		ev := event(t, "lambda-putfunctioneventinvokeconfig")
		ev.Record.RequestParameters = json.RawMessage(`{"functionName":"` + id + `","maximumRetryAttempts":0}`)
		if c := respond.Classify(ev, s); !c.Target.Protected {
			t.Errorf("function named %q not recognised", id)
		}
	}
}
