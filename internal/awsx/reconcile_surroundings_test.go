package awsx_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/trailguard/trailguard/internal/awsx"
	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/respond"
)

// Reconciliation of trailguard's surroundings against the emulator: the
// drifts no event announced are found through the real SDK and repaired or
// alerted (the engine tests in internal/respond cover every variant).

func retention(t *testing.T, w *world, group string) (exists bool, days int32) {
	t.Helper()
	out, err := w.clients.Logs.DescribeLogGroups(context.Background(), &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(group)})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range out.LogGroups {
		if aws.ToString(g.LogGroupName) == group {
			return true, aws.ToInt32(g.RetentionInDays)
		}
	}
	return false, 0
}

func driftNamed(rep respond.ReconcileReport, resource, field string) bool {
	for _, d := range rep.Drifts {
		if d.Resource == resource && d.Field == field {
			return true
		}
	}
	return false
}

// The responder's own log group: a shortened retention and then the group's
// deletion are each put back by the next run, which then finds nothing.
func TestReconcileLogGroupRetentionAndDeletion(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	group := "/aws/lambda/comp-responder-" + w.trailName
	if _, err := w.clients.Logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.clients.Logs.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String(group), RetentionInDays: aws.Int32(3)}); err != nil {
		t.Fatal(err)
	}
	e := awsx.NewEngine(w.settings(t, map[string]string{config.EnvLogGroupName: group, config.EnvRegion: "us-east-1"}), w.clients)
	rep, err := e.Reconcile(ctx)
	if err != nil || !driftNamed(rep, "log group "+group, "retention") {
		t.Fatalf("first run: %v %+v %+v", err, rep.Drifts, rep.Outcomes)
	}
	if ok, days := retention(t, w, group); !ok || days != 365 {
		t.Errorf("retention after the run: exists %v, %d days", ok, days)
	}

	if _, err := w.clients.Logs.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String(group)}); err != nil {
		t.Fatal(err)
	}
	rep, err = e.Reconcile(ctx)
	if err != nil || !driftNamed(rep, "log group "+group, "log group") {
		t.Fatalf("second run: %v %+v %+v", err, rep.Drifts, rep.Outcomes)
	}
	if ok, _ := retention(t, w, group); !ok {
		t.Error("the deleted log group was not created again")
	}
	rep, err = e.Reconcile(ctx)
	if err != nil || driftNamed(rep, "log group "+group, "log group") || driftNamed(rep, "log group "+group, "retention") {
		t.Errorf("converged run: %v %+v", err, rep.Drifts)
	}
	w.alerts(t, 2)
}
