package awsx_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/trailguard/trailguard/internal/awsx"
	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/judgment"
	jt "github.com/trailguard/trailguard/internal/judgment/judgmenttest"
	"github.com/trailguard/trailguard/internal/policy"
	"github.com/trailguard/trailguard/internal/respond"
	"github.com/trailguard/trailguard/internal/trail"
)

// forWorld points a judgment case's policy at this world's bucket, trail
// and account.
func (w *world) forWorld(doc string) string {
	a, _ := trail.ParseARN(w.trailARN)
	return strings.NewReplacer(jt.TrailARN, w.trailARN, jt.Bucket, w.bucket, "AWSLogs/"+jt.Account, "AWSLogs/"+a.Account,
		`"`+jt.Account+`"`, `"`+a.Account+`"`).Replace(doc)
}

func (w *world) putPolicy(t *testing.T, doc string) {
	t.Helper()
	ctx := context.Background()
	var err error
	if doc == "" {
		_, err = w.clients.S3.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String(w.bucket)})
	} else {
		_, err = w.clients.S3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(w.bucket), Policy: aws.String(doc)})
	}
	if err != nil {
		t.Skipf("the emulator does not store this policy: %v", err)
	}
}

func (w *world) putLifecycle(t *testing.T, rules []s3types.LifecycleRule) {
	t.Helper()
	if _, err := w.clients.S3.PutBucketLifecycleConfiguration(context.Background(), &s3.PutBucketLifecycleConfigurationInput{Bucket: aws.String(w.bucket),
		LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: rules}}); err != nil {
		t.Fatal(err)
	}
}

// driftVerdict reads reconciliation's verdict on one field back from its
// report: no drift is OK, a repair is Harmful, a person's step is Unscoped
// or (when it says so) CannotTell.
func driftVerdict(rep respond.ReconcileReport, field string, repair respond.Kind) judgment.Verdict {
	for _, d := range rep.Drifts {
		if d.Field != field {
			continue
		}
		switch {
		case slices.ContainsFunc(d.Actions, func(a respond.Action) bool { return a.Kind == repair }):
			return judgment.Harmful
		case strings.HasPrefix(d.Got, "cannot tell"):
			return judgment.CannotTell
		default:
			return judgment.Unscoped
		}
	}
	return judgment.OK
}

// The one judgment table, through reconciliation on the emulator: the
// content is written to the bucket (kumo S3), read back by Reconcile in
// dry-run, and must get the table's verdict.
func TestJudgmentCasesReconcile(t *testing.T) {
	w := newWorld(t)
	e := awsx.NewEngine(w.settings(t, map[string]string{config.EnvMode: "dry-run", config.EnvMinRetentionDays: "365"}), w.clients)
	ctx := context.Background()
	t.Run("bucket policy", func(t *testing.T) {
		for _, tc := range jt.BucketCases {
			t.Run(tc.Name, func(t *testing.T) {
				w.putPolicy(t, w.forWorld(tc.Policy))
				rep, _ := e.Reconcile(ctx)
				if got := driftVerdict(rep, "bucketPolicy", respond.KindRestoreBucketPolicy); got != tc.Want {
					t.Errorf("verdict %v, want %v: %+v", got, tc.Want, rep.Drifts)
				}
			})
		}
	})
	w.putPolicy(t, "")
	t.Run("lifecycle", func(t *testing.T) {
		for _, tc := range jt.LifecycleCases {
			t.Run(tc.Name, func(t *testing.T) {
				w.putLifecycle(t, tc.Rules)
				rep, _ := e.Reconcile(ctx)
				if got := driftVerdict(rep, "lifecycle", respond.KindFixLifecycle); got != tc.Want {
					t.Errorf("verdict %v, want %v: %+v", got, tc.Want, rep.Drifts)
				}
			})
		}
	})
}

// A repair on the emulator removes exactly what blocks and keeps the rest:
// the deny to everyone goes; the owner's reader grant and TLS-only deny stay
// as written, and CloudTrail's grants come back scoped by aws:SourceArn.
func TestBucketPolicyRepairKeepsUnrelatedStatements(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	var tc jt.Case
	for _, c := range jt.BucketCases {
		if c.Name == "deny to everyone" {
			tc = c
		}
	}
	before := w.forWorld(tc.Policy)
	w.putPolicy(t, before)
	e := awsx.NewEngine(w.settings(t, nil), w.clients)
	ev := w.surroundingEvent(t, "s3-putbucketpolicy", "", "")
	params, _ := json.Marshal(map[string]any{"bucketName": w.bucket, "bucketPolicy": json.RawMessage(before)})
	ev.Record.RequestParameters = params
	rep, err := e.Respond(ctx, ev)
	if err != nil {
		t.Fatalf("%v: %+v", err, rep.Outcomes)
	}
	out, err := w.clients.S3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(w.bucket)})
	if err != nil {
		t.Fatal(err)
	}
	after, err := policy.Parse([]byte(aws.ToString(out.Policy)))
	if err != nil {
		t.Fatal(err)
	}
	var sids []string
	for _, s := range after.Statements {
		sids = append(sids, s.Sid)
	}
	want := []string{"AclCheck", "Write", "ReadersMayRead", "TrailguardCloudTrailAclCheck", "TrailguardCloudTrailWrite", "TrailguardDenyInsecureTransport"}
	if !slices.Equal(sids, want) {
		t.Errorf("statements after the repair %q, want %q", sids, want)
	}
	d := judgment.Delivery{Bucket: w.bucket, Trails: []string{w.trailARN}}
	if j := judgment.BucketPolicy([]byte(aws.ToString(out.Policy)), d); j.Verdict != judgment.OK {
		t.Errorf("repaired policy judged %v: %s", j.Verdict, j.Reason)
	}
	// A second delivery of the event finds nothing to do.
	rep, err = e.Respond(ctx, ev)
	if err != nil || !strings.Contains(rep.Outcomes[0].Detail, "grants CloudTrail already") {
		t.Errorf("second delivery: %v %+v", err, rep.Outcomes)
	}
}

// The lifecycle repair removes the rule that expires logs and keeps both the
// 1-day rule on an unrelated prefix and the long one.
func TestLifecycleRepairKeepsUnrelatedRules(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	var tc jt.LifecycleCase
	for _, c := range jt.LifecycleCases {
		if c.Name == "early rule among unrelated ones" {
			tc = c
		}
	}
	w.putLifecycle(t, tc.Rules)
	e := awsx.NewEngine(w.settings(t, nil), w.clients)
	ev := w.surroundingEvent(t, "s3-putbucketlifecycle", "", "")
	params, _ := json.Marshal(map[string]any{"bucketName": w.bucket, "LifecycleConfiguration": jt.EventLifecycle(tc.Rules)})
	ev.Record.RequestParameters = params
	if rep, err := e.Respond(ctx, ev); err != nil {
		t.Fatalf("%v: %+v", err, rep.Outcomes)
	}
	out, err := w.clients.S3.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(w.bucket)})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range out.Rules {
		ids = append(ids, aws.ToString(r.ID))
	}
	if !slices.Equal(ids, []string{"tmp", "keep"}) {
		t.Errorf("rules after the repair %q, want tmp and keep", ids)
	}
	// Reconciliation, run now, finds the bucket converged.
	rep, err := e.Reconcile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range rep.Drifts {
		if d.Field == "lifecycle" {
			t.Errorf("lifecycle drift after the repair: %+v", d)
		}
	}
}

// The key policy cases, through reconciliation on the emulator (kumo KMS):
// the policy is put on the trail's key and read back by Reconcile.
func TestJudgmentCasesReconcileKeyPolicy(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	key, err := w.clients.KMS.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("trail key " + w.trailName)})
	if err != nil {
		t.Fatal(err)
	}
	keyARN := aws.ToString(key.KeyMetadata.Arn)
	// The trail's account, which the encryption context names (kumo keeps
	// keys in an account of their own).
	a, _ := trail.ParseARN(w.trailARN)
	env := map[string]string{config.EnvMode: "dry-run", config.EnvTrails: fmt.Sprintf(
		`[{"name":%q,"s3BucketName":%q,"kmsKeyId":%q,"homeRegion":"us-east-1"}]`, w.trailName, w.bucket, keyARN)}
	e := awsx.NewEngine(w.settings(t, env), w.clients)
	for _, tc := range jt.KeyCases {
		t.Run(tc.Name, func(t *testing.T) {
			doc := strings.NewReplacer(jt.KeyARN, keyARN, jt.TrailARN, w.trailARN, jt.Account, a.Account).Replace(tc.Policy)
			if _, err := w.clients.KMS.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: aws.String(keyARN), PolicyName: aws.String("default"), Policy: aws.String(doc)}); err != nil {
				t.Skipf("the emulator does not store this key policy: %v", err)
			}
			rep, err := e.Reconcile(ctx)
			if err != nil {
				t.Fatalf("reconcile: %v", err)
			}
			got := judgment.OK
			for _, d := range rep.Drifts {
				if d.Field == "keyPolicy" {
					got = judgment.Harmful
					if strings.HasPrefix(d.Got, "cannot tell") {
						got = judgment.CannotTell
					}
					if len(d.Actions) != 1 || d.Actions[0].Kind != respond.KindManual {
						t.Errorf("a key policy drift is repaired: %+v", d.Actions)
					}
				}
			}
			if got != tc.Want {
				t.Errorf("verdict %v, want %v: %+v", got, tc.Want, rep.Drifts)
			}
		})
	}
}
