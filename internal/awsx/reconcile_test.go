package awsx_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/trailguard/trailguard/internal/awsx"
	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/respond"
)

// Reconciliation against the emulator: drift that no event announced is
// repaired, alerted once, and a run without drift stays silent.
func TestReconcileRepairsAndAlertsOncePerDrift(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	rule := "comp-rule-" + w.trailName
	if _, err := w.clients.Events.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(rule), EventPattern: aws.String(`{"source":["aws.cloudtrail"]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.clients.Events.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(rule), Targets: []ebtypes.Target{{Id: aws.String("responder"), Arn: aws.String("arn:aws:lambda:us-east-1:000000000000:function:trailguard-responder")}}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = w.clients.Events.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{Rule: aws.String(rule), Ids: []string{"responder"}})
		_, _ = w.clients.Events.DeleteRule(ctx, &eventbridge.DeleteRuleInput{Name: aws.String(rule)})
	})
	e := awsx.NewEngine(w.settings(t, map[string]string{config.EnvRules: rule}), w.clients)

	// The bucket's policy deleted, and the event lost: CloudTrail could not
	// deliver.
	if _, err := w.clients.S3.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String(w.bucket)}); err != nil {
		t.Fatal(err)
	}
	rep, err := e.Reconcile(ctx)
	if err != nil {
		t.Fatalf("first run: %v", err)
	}
	if !hasDrift(rep, "bucketPolicy") || !rep.Alerted {
		t.Fatalf("first run: drifts %+v alerted %v", rep.Drifts, rep.Alerted)
	}
	pol, err := w.clients.S3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(w.bucket)})
	if err != nil || !strings.Contains(aws.ToString(pol.Policy), "cloudtrail.amazonaws.com") || !strings.Contains(aws.ToString(pol.Policy), w.trailARN) {
		t.Fatalf("bucket policy not restored with CloudTrail's grant scoped to the trail: %v %s", err, aws.ToString(pol.Policy))
	}
	if got := len(w.alerts(t, 1)); got != 1 {
		t.Fatalf("%d alerts after the first run, want 1", got)
	}

	// Converged: nothing to do, nothing said.
	rep, err = e.Reconcile(ctx)
	if err != nil || len(rep.Drifts) != 0 || rep.Alerted {
		t.Fatalf("converged run: err %v drifts %+v alerted %v", err, rep.Drifts, rep.Alerted)
	}

	// Drift no event announced: the trail stopped, a one-day expiry, the
	// rule disabled.
	w.stop(t)
	if _, err := w.clients.S3.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: aws.String(w.bucket),
		LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: []s3types.LifecycleRule{{
			ID: aws.String("expire-fast"), Status: s3types.ExpirationStatusEnabled, Filter: &s3types.LifecycleRuleFilter{Prefix: aws.String("")},
			Expiration: &s3types.LifecycleExpiration{Days: aws.Int32(1)}}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.clients.Events.DisableRule(ctx, &eventbridge.DisableRuleInput{Name: aws.String(rule)}); err != nil {
		t.Fatal(err)
	}
	rep, err = e.Reconcile(ctx)
	if err != nil {
		t.Fatalf("repair run: %v (%+v)", err, rep.Outcomes)
	}
	for _, f := range []string{"logging", "lifecycle", "state"} {
		if !hasDrift(rep, f) {
			t.Errorf("drift %q not found: %+v", f, rep.Drifts)
		}
	}
	if !w.logging(t) {
		t.Error("logging not restarted")
	}
	if _, err := w.clients.S3.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(w.bucket)}); err == nil {
		t.Error("the one-day lifecycle rule is still there")
	}
	if r, err := w.clients.Events.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String(rule)}); err != nil || r.State != "ENABLED" {
		t.Errorf("rule not enabled again: %v %v", err, r)
	}
	got := w.alerts(t, 1)
	if len(got) != 1 || !strings.HasPrefix(got[0].Subject, "HIGH drift: ") {
		t.Fatalf("repair run alerts: %+v", got)
	}

	// Drift that cannot be repaired (the rule's target removed) is alerted
	// on the first run only.
	if _, err := w.clients.Events.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{Rule: aws.String(rule), Ids: []string{"responder"}}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		rep, _ = e.Reconcile(ctx)
		if !hasDrift(rep, "targets") || rep.Alerted != (i == 0) {
			t.Errorf("run %d: drifts %+v alerted %v", i, rep.Drifts, rep.Alerted)
		}
	}
	if n := len(w.alertsWithin(t, 3, time.Second)); n != 1 {
		t.Errorf("unrepairable drift alerted %d times over three runs, want once", n)
	}
}

func TestReconcileInDryRunChangesNothing(t *testing.T) {
	w := newWorld(t)
	w.stop(t)
	e := awsx.NewEngine(w.settings(t, map[string]string{config.EnvMode: "dry-run"}), w.clients)
	rep, err := e.Reconcile(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if w.logging(t) {
		t.Error("dry-run restarted logging")
	}
	for _, o := range rep.Outcomes {
		if o.Status != respond.StatusDryRun && o.Status != respond.StatusManual {
			t.Errorf("%s: %s", o.Action, o.Status)
		}
	}
	if !rep.Alerted {
		t.Error("dry-run must still alert the drift")
	}
}

func hasDrift(r respond.ReconcileReport, field string) bool {
	for _, d := range r.Drifts {
		if d.Field == field {
			return true
		}
	}
	return false
}
