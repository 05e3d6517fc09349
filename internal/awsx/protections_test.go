package awsx_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/trailguard/trailguard/internal/awsx"
	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/trail"
)

// The bucket protections and a log group's retention, weakened on the
// emulator and put back by the event path.
func TestBucketProtectionsRestored(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	e := awsx.NewEngine(w.settings(t, nil), w.clients)

	if _, err := w.clients.S3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(w.bucket),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusSuspended}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Respond(ctx, w.surroundingEvent(t, "s3-putbucketversioning-suspended", "", "")); err != nil {
		t.Fatal(err)
	}
	v, err := w.clients.S3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(w.bucket)})
	if err != nil || v.Status != s3types.BucketVersioningStatusEnabled {
		t.Errorf("versioning not enabled again: %v %v", err, v)
	}

	if _, err := w.clients.S3.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String(w.bucket),
		PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{BlockPublicAcls: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Respond(ctx, w.surroundingEvent(t, "s3-putbucketpublicaccessblock-weakened", "", "")); err != nil {
		t.Fatal(err)
	}
	pab, err := w.clients.S3.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(w.bucket)})
	if err != nil {
		t.Fatal(err)
	}
	c := pab.PublicAccessBlockConfiguration
	if !aws.ToBool(c.BlockPublicAcls) || !aws.ToBool(c.IgnorePublicAcls) || !aws.ToBool(c.BlockPublicPolicy) || !aws.ToBool(c.RestrictPublicBuckets) {
		t.Errorf("public access block not restored: %+v", c)
	}
	if !w.quarantined(t) {
		t.Error("the actor is not quarantined")
	}
}

func TestLogRetentionRestored(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	group := "comp-group-" + w.trailName
	if _, err := w.clients.Logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.clients.Logs.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String(group), RetentionInDays: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	// The responder's own log group (AWS_LAMBDA_LOG_GROUP_NAME).
	e := awsx.NewEngine(w.settings(t, map[string]string{config.EnvLogGroupName: group}), w.clients)
	raw := strings.ReplaceAll(string(w.event(t, "logs-putretentionpolicy").Raw), `"trailguard-trail"`, fmt.Sprintf("%q", group))
	ev, err := trail.Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := e.Respond(ctx, ev); err != nil {
		t.Fatalf("%v %+v", err, rep.Outcomes)
	}
	out, err := w.clients.Logs.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(group)})
	if err != nil || len(out.LogGroups) != 1 || aws.ToInt32(out.LogGroups[0].RetentionInDays) != 365 {
		t.Errorf("retention not restored: %v %+v", err, out)
	}
}

// Reconciliation catches versioning suspended and a weakened public access
// block that no event announced.
func TestReconcileBucketProtections(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	e := awsx.NewEngine(w.settings(t, nil), w.clients)
	if _, err := w.clients.S3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(w.bucket),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusSuspended}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.clients.S3.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String(w.bucket),
		PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{BlockPublicAcls: aws.Bool(true), IgnorePublicAcls: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	rep, err := e.Reconcile(ctx)
	if err != nil {
		t.Fatalf("%v %+v", err, rep.Outcomes)
	}
	for _, f := range []string{"versioning", "public access block"} {
		if !hasDrift(rep, f) {
			t.Errorf("drift %q not found: %+v", f, rep.Drifts)
		}
	}
	v, err := w.clients.S3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(w.bucket)})
	if err != nil || v.Status != s3types.BucketVersioningStatusEnabled {
		t.Errorf("versioning: %v %v", err, v)
	}
	pab, err := w.clients.S3.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(w.bucket)})
	if err != nil || !aws.ToBool(pab.PublicAccessBlockConfiguration.RestrictPublicBuckets) {
		t.Errorf("public access block: %v %+v", err, pab)
	}
	rep, err = e.Reconcile(ctx)
	if err != nil || hasDrift(rep, "versioning") || hasDrift(rep, "public access block") {
		t.Errorf("converged run: %v %+v", err, rep.Drifts)
	}
}
