package notify_test

import (
	"testing"
	"time"

	"github.com/trailguard/trailguard/internal/catalog"
	"github.com/trailguard/trailguard/internal/notify"
	"github.com/trailguard/trailguard/internal/respond"
	"github.com/trailguard/trailguard/internal/trail"
)

// A finding names its target by ARN, as Security Hub expects: an ARN the
// event gave is kept, a name is made into the ARN of its type, with the
// region and account only where that service's ARNs carry them, and the
// partition of the region.
func TestFindingResourceARNs(t *testing.T) {
	for _, tc := range []struct {
		kind           catalog.Resource
		id, region     string
		wantType, want string
	}{
		{catalog.Trail, "t", "us-east-1", "AwsCloudTrailTrail", "arn:aws:cloudtrail:us-east-1:123456789012:trail/t"},
		{catalog.Bucket, "b", "us-east-1", "AwsS3Bucket", "arn:aws:s3:::b"},
		{catalog.Key, "k", "eu-west-1", "AwsKmsKey", "arn:aws:kms:eu-west-1:123456789012:key/k"},
		{catalog.Function, "f", "us-east-1", "AwsLambdaFunction", "arn:aws:lambda:us-east-1:123456789012:function:f"},
		{catalog.Role, "r", "us-east-1", "AwsIamRole", "arn:aws:iam::123456789012:role/r"},
		{catalog.Trail, "t", "cn-north-1", "AwsCloudTrailTrail", "arn:aws-cn:cloudtrail:cn-north-1:123456789012:trail/t"},
		{catalog.Bucket, "b", "us-gov-west-1", "AwsS3Bucket", "arn:aws-us-gov:s3:::b"},
		{catalog.Key, "arn:aws:kms:us-east-1:111111111111:key/given", "us-east-1", "AwsKmsKey", "arn:aws:kms:us-east-1:111111111111:key/given"},
	} {
		r := respond.Report{
			Event: trail.Event{Record: trail.Record{EventID: "e", EventSource: "x.amazonaws.com", EventName: "X", AWSRegion: tc.region, RecipientAccountID: "123456789012"}},
			Plan:  respond.Plan{Classification: respond.Classification{Target: respond.Target{Kind: tc.kind, ID: tc.id}, Actor: respond.Actor{Type: "Root", Display: "root"}}},
		}
		res := notify.ASFF(r, tc.region, time.Unix(0, 0)).Resources
		if len(res) == 0 || res[0].Type != tc.wantType || res[0].ID != tc.want {
			t.Errorf("%s %q in %s: resources %+v, want first %s %s", tc.kind, tc.id, tc.region, res, tc.wantType, tc.want)
		}
	}
}
