package respond_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/trailguard/trailguard/internal/respond"
)

// stoppedTrail reads every trail as existing and stopped.
type stoppedTrail struct{}

func (stoppedTrail) GetTrail(_ context.Context, in *cloudtrail.GetTrailInput, _ ...func(*cloudtrail.Options)) (*cloudtrail.GetTrailOutput, error) {
	return &cloudtrail.GetTrailOutput{Trail: &cttypes.Trail{Name: in.Name, TrailARN: aws.String("arn:aws:cloudtrail:us-east-1:123456789012:trail/" + aws.ToString(in.Name))}}, nil
}

func (stoppedTrail) GetTrailStatus(context.Context, *cloudtrail.GetTrailStatusInput, ...func(*cloudtrail.Options)) (*cloudtrail.GetTrailStatusOutput, error) {
	return &cloudtrail.GetTrailStatusOutput{IsLogging: aws.Bool(false)}, nil
}

func (stoppedTrail) GetEventSelectors(context.Context, *cloudtrail.GetEventSelectorsInput, ...func(*cloudtrail.Options)) (*cloudtrail.GetEventSelectorsOutput, error) {
	return &cloudtrail.GetEventSelectorsOutput{}, nil
}

// Reconciliation's collaborators are wired explicitly: an engine with no
// drift notifier says that a new drift went unalerted (an error, never a
// silent drop), and one without a trail reader says it cannot read trails.
func TestReconcileNeedsExplicitWiring(t *testing.T) {
	ctx := context.Background()
	now := func() time.Time { return time.Date(2025, 3, 14, 10, 30, 0, 0, time.UTC) }
	s := settings(t, map[string]string{"TRAILGUARD_MODE": "dry-run"})

	e := respond.New(s, nil, nil, nil, respond.WithClock(now), respond.WithResources(respond.Resources{Trails: stoppedTrail{}}))
	rep, err := e.Reconcile(ctx)
	if err == nil || !strings.Contains(err.Error(), "no drift notifier") || rep.Alerted || len(rep.NewDrifts()) == 0 {
		t.Errorf("no drift notifier: err %v, alerted %v, drifts %+v", err, rep.Alerted, rep.Drifts)
	}

	e = respond.New(s, nil, nil, nil, respond.WithClock(now))
	if _, err := e.Reconcile(ctx); err == nil || !strings.Contains(err.Error(), "no CloudTrail client to read trails") {
		t.Errorf("no trail reader: err %v", err)
	}
}
