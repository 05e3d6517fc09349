package testworld_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/trailguard/trailguard/internal/testworld"
)

// start runs a Server for one test and closes it at the end.
func start(t *testing.T) (*testworld.Server, context.Context) {
	t.Helper()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)

	srv, err := testworld.Start(ctx)
	if err != nil {
		t.Fatalf("start: %v", err)
	}

	t.Cleanup(srv.Close)

	return srv, ctx
}

func TestSTSGetCallerIdentity(t *testing.T) {
	srv, ctx := start(t)

	out, err := sts.NewFromConfig(srv.Config(ctx)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity: %v", err)
	}

	t.Logf("caller: account %s arn %s", aws.ToString(out.Account), aws.ToString(out.Arn))

	if aws.ToString(out.Account) == "" {
		t.Error("no account")
	}
}

func TestSequentialServers(t *testing.T) {
	ctx := context.Background()

	for i := range 2 {
		srv, err := testworld.Start(ctx)
		if err != nil {
			t.Fatalf("start %d: %v", i, err)
		}

		if _, err := sts.NewFromConfig(srv.Config(ctx)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
			t.Errorf("server %d: %v", i, err)
		}

		srv.Close()
		srv.Close() // idempotent
	}
}

func createTrail(t *testing.T, ctx context.Context, ct *cloudtrail.Client, name string) string {
	t.Helper()

	out, err := ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String(name), S3BucketName: aws.String(name + "-bucket")})
	if err != nil {
		t.Fatalf("CreateTrail: %v", err)
	}

	if _, err := ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String(name)}); err != nil {
		t.Fatalf("StartLogging: %v", err)
	}

	return aws.ToString(out.TrailARN)
}

func TestCloudTrailUpdateTrailIsSeenByKumo(t *testing.T) {
	srv, ctx := start(t)
	ct := cloudtrail.NewFromConfig(srv.Config(ctx))
	arn := createTrail(t, ctx, ct, "upd-trail")

	if _, err := ct.AddTags(ctx, &cloudtrail.AddTagsInput{ResourceId: aws.String(arn), TagsList: []cttypes.Tag{{Key: aws.String("owner"), Value: aws.String("sec")}}}); err != nil {
		t.Fatalf("AddTags: %v", err)
	}

	upd, err := ct.UpdateTrail(ctx, &cloudtrail.UpdateTrailInput{
		Name:                    aws.String(arn), // by ARN, as AWS allows
		S3BucketName:            aws.String("attacker-bucket"),
		IsMultiRegionTrail:      aws.Bool(true),
		EnableLogFileValidation: aws.Bool(true),
		KmsKeyId:                aws.String("arn:aws:kms:us-east-1:123456789012:key/k"),
		SnsTopicName:            aws.String("alerts"),
	})
	if err != nil {
		t.Fatalf("UpdateTrail: %v", err)
	}

	if aws.ToString(upd.TrailARN) != arn || aws.ToString(upd.S3BucketName) != "attacker-bucket" || !aws.ToBool(upd.IsMultiRegionTrail) {
		t.Errorf("UpdateTrail output = %+v", upd)
	}

	got, err := ct.GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String("upd-trail")})
	if err != nil {
		t.Fatalf("GetTrail: %v", err)
	}

	tr := got.Trail
	//lint:ignore SA1019 the double must keep serving the deprecated field, which the SDK still decodes
	topic := aws.ToString(tr.SnsTopicName)
	if aws.ToString(tr.S3BucketName) != "attacker-bucket" || !aws.ToBool(tr.IsMultiRegionTrail) ||
		!aws.ToBool(tr.LogFileValidationEnabled) || aws.ToString(tr.KmsKeyId) == "" || topic != "alerts" {
		t.Errorf("GetTrail after UpdateTrail = %+v", tr)
	}

	desc, err := ct.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{TrailNameList: []string{"upd-trail"}})
	if err != nil || len(desc.TrailList) != 1 || aws.ToString(desc.TrailList[0].S3BucketName) != "attacker-bucket" {
		t.Errorf("DescribeTrails = %+v, %v", desc, err)
	}

	st, err := ct.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("upd-trail")})
	if err != nil || !aws.ToBool(st.IsLogging) {
		t.Errorf("logging lost by UpdateTrail: %+v, %v", st, err)
	}

	tags, err := ct.ListTags(ctx, &cloudtrail.ListTagsInput{ResourceIdList: []string{arn}})
	if err != nil || len(tags.ResourceTagList) != 1 || len(tags.ResourceTagList[0].TagsList) != 1 {
		t.Errorf("tags lost by UpdateTrail: %+v, %v", tags, err)
	}

	// Clearing the KMS key, as an attacker would.
	if _, err := ct.UpdateTrail(ctx, &cloudtrail.UpdateTrailInput{Name: aws.String("upd-trail"), KmsKeyId: aws.String("")}); err != nil {
		t.Fatalf("UpdateTrail clear key: %v", err)
	}

	got, _ = ct.GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String("upd-trail")})
	if k := aws.ToString(got.Trail.KmsKeyId); k != "" {
		t.Errorf("KmsKeyId = %q after clearing", k)
	}
}

func TestCloudTrailUnknownTrail(t *testing.T) {
	srv, ctx := start(t)
	ct := cloudtrail.NewFromConfig(srv.Config(ctx))

	_, err := ct.UpdateTrail(ctx, &cloudtrail.UpdateTrailInput{Name: aws.String("nope"), IsMultiRegionTrail: aws.Bool(true)})

	var nf *cttypes.TrailNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("UpdateTrail unknown trail: %v, want TrailNotFoundException", err)
	}

	_, err = ct.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: aws.String("nope")})
	if !errors.As(err, &nf) {
		t.Errorf("GetEventSelectors unknown trail: %v, want TrailNotFoundException", err)
	}
}

func TestCloudTrailEventSelectors(t *testing.T) {
	srv, ctx := start(t)
	ct := cloudtrail.NewFromConfig(srv.Config(ctx))
	arn := createTrail(t, ctx, ct, "sel-trail")

	def, err := ct.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: aws.String("sel-trail")})
	if err != nil {
		t.Fatalf("GetEventSelectors: %v", err)
	}

	if aws.ToString(def.TrailARN) != arn || len(def.EventSelectors) != 1 ||
		def.EventSelectors[0].ReadWriteType != cttypes.ReadWriteTypeAll || !aws.ToBool(def.EventSelectors[0].IncludeManagementEvents) {
		t.Errorf("default selectors = %+v", def)
	}

	_, err = ct.PutEventSelectors(ctx, &cloudtrail.PutEventSelectorsInput{
		TrailName: aws.String(arn),
		EventSelectors: []cttypes.EventSelector{{
			ReadWriteType:                 cttypes.ReadWriteTypeReadOnly,
			IncludeManagementEvents:       aws.Bool(false),
			ExcludeManagementEventSources: []string{"kms.amazonaws.com"},
		}},
	})
	if err != nil {
		t.Fatalf("PutEventSelectors: %v", err)
	}

	got, err := ct.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: aws.String("sel-trail")})
	if err != nil {
		t.Fatalf("GetEventSelectors: %v", err)
	}

	es := got.EventSelectors
	if len(es) != 1 || es[0].ReadWriteType != cttypes.ReadWriteTypeReadOnly || aws.ToBool(es[0].IncludeManagementEvents) ||
		len(es[0].ExcludeManagementEventSources) != 1 {
		t.Errorf("selectors after put = %+v", es)
	}

	tr, err := ct.GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String("sel-trail")})
	if err != nil || !aws.ToBool(tr.Trail.HasCustomEventSelectors) {
		t.Errorf("HasCustomEventSelectors not set: %+v, %v", tr, err)
	}

	_, err = ct.PutEventSelectors(ctx, &cloudtrail.PutEventSelectorsInput{
		TrailName: aws.String("sel-trail"),
		AdvancedEventSelectors: []cttypes.AdvancedEventSelector{{
			Name:           aws.String("data only"),
			FieldSelectors: []cttypes.AdvancedFieldSelector{{Field: aws.String("eventCategory"), Equals: []string{"Data"}}},
		}},
	})
	if err != nil {
		t.Fatalf("PutEventSelectors advanced: %v", err)
	}

	got, err = ct.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: aws.String("sel-trail")})
	if err != nil || len(got.EventSelectors) != 0 || len(got.AdvancedEventSelectors) != 1 ||
		aws.ToString(got.AdvancedEventSelectors[0].FieldSelectors[0].Field) != "eventCategory" {
		t.Errorf("advanced selectors = %+v, %v", got, err)
	}

	// A recreated trail starts from the defaults again.
	if _, err := ct.DeleteTrail(ctx, &cloudtrail.DeleteTrailInput{Name: aws.String("sel-trail")}); err != nil {
		t.Fatalf("DeleteTrail: %v", err)
	}

	createTrail(t, ctx, ct, "sel-trail")

	got, err = ct.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: aws.String("sel-trail")})
	if err != nil || len(got.AdvancedEventSelectors) != 0 || len(got.EventSelectors) != 1 || !aws.ToBool(got.EventSelectors[0].IncludeManagementEvents) {
		t.Errorf("selectors of recreated trail = %+v, %v", got, err)
	}
}

func TestCloudTrailEventDataStores(t *testing.T) {
	srv, ctx := start(t)
	ct := cloudtrail.NewFromConfig(srv.Config(ctx))

	created, err := ct.CreateEventDataStore(ctx, &cloudtrail.CreateEventDataStoreInput{
		Name: aws.String("lake"), TerminationProtectionEnabled: aws.Bool(false),
	})
	if err != nil {
		t.Fatalf("CreateEventDataStore: %v", err)
	}

	arn := created.EventDataStoreArn
	steps := []struct {
		name string
		call func() error
		want cttypes.EventDataStoreStatus
	}{
		{"stop", func() error {
			_, err := ct.StopEventDataStoreIngestion(ctx, &cloudtrail.StopEventDataStoreIngestionInput{EventDataStore: arn})
			return err
		}, cttypes.EventDataStoreStatusStoppedIngestion},
		{"start", func() error {
			_, err := ct.StartEventDataStoreIngestion(ctx, &cloudtrail.StartEventDataStoreIngestionInput{EventDataStore: arn})
			return err
		}, cttypes.EventDataStoreStatusEnabled},
		{"delete", func() error {
			_, err := ct.DeleteEventDataStore(ctx, &cloudtrail.DeleteEventDataStoreInput{EventDataStore: arn})
			return err
		}, cttypes.EventDataStoreStatusPendingDeletion},
		{"restore", func() error {
			_, err := ct.RestoreEventDataStore(ctx, &cloudtrail.RestoreEventDataStoreInput{EventDataStore: arn})
			return err
		}, cttypes.EventDataStoreStatusEnabled},
	}

	for _, st := range steps {
		if err := st.call(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}

		got, err := ct.GetEventDataStore(ctx, &cloudtrail.GetEventDataStoreInput{EventDataStore: arn})
		if err != nil {
			t.Fatalf("GetEventDataStore after %s: %v", st.name, err)
		}

		if got.Status != st.want {
			t.Errorf("after %s: status %s, want %s", st.name, got.Status, st.want)
		}
	}

	upd, err := ct.UpdateEventDataStore(ctx, &cloudtrail.UpdateEventDataStoreInput{EventDataStore: arn, RetentionPeriod: aws.Int32(7)})
	if err != nil || aws.ToInt32(upd.RetentionPeriod) != 7 {
		t.Errorf("UpdateEventDataStore = %+v, %v", upd, err)
	}
}

func TestFailOperation(t *testing.T) {
	srv, ctx := start(t)
	ct := cloudtrail.NewFromConfig(srv.Config(ctx), func(o *cloudtrail.Options) { o.RetryMaxAttempts = 1 })
	createTrail(t, ctx, ct, "fault-trail")

	srv.FailOperation("cloudtrail", "StartLogging", 429, 1)

	_, err := ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String("fault-trail")})

	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "ThrottlingException" {
		t.Fatalf("first StartLogging: %v, want ThrottlingException", err)
	}

	if _, err := ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String("fault-trail")}); err != nil {
		t.Errorf("second StartLogging: %v, want success", err)
	}

	// Query protocol (STS) and a 500.
	srv.FailOperation("sts", "GetCallerIdentity", 500, 1)

	_, err = sts.NewFromConfig(srv.Config(ctx), func(o *sts.Options) { o.RetryMaxAttempts = 1 }).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if !errors.As(err, &api) || api.ErrorCode() != "InternalFailure" {
		t.Errorf("GetCallerIdentity: %v, want InternalFailure", err)
	}
}
