package posture_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/trailguard/trailguard/internal/judgment"
	jt "github.com/trailguard/trailguard/internal/judgment/judgmenttest"
	"github.com/trailguard/trailguard/internal/posture"
)

// judgmentWorld is one region with the judgment table's trail and bucket,
// the bucket holding the given policy and lifecycle rules.
func judgmentWorld(policy string, rules []s3types.LifecycleRule) *fakeAccountWorld {
	tr := cttypes.Trail{Name: aws.String("management-trail"), TrailARN: aws.String(jt.TrailARN), HomeRegion: aws.String(jt.Region),
		S3BucketName: aws.String(jt.Bucket), IsMultiRegionTrail: aws.Bool(true)}
	return &fakeAccountWorld{
		regions: map[string]*fakeRegion{jt.Region: {
			trails:    []cttypes.Trail{tr},
			status:    map[string]*cloudtrail.GetTrailStatusOutput{jt.TrailARN: {IsLogging: aws.Bool(true)}},
			selectors: map[string]*cloudtrail.GetEventSelectorsOutput{jt.TrailARN: {}},
		}},
		s3: fakeS3{mu: &sync.Mutex{}, calls: map[string]int{}, buckets: map[string]*fakeBucket{
			jt.Bucket: {policy: policy, lifecycle: rules},
		}},
	}
}

// wantStatus is how `check` reports each verdict.
func wantStatus(v judgment.Verdict) posture.Status {
	switch v {
	case judgment.OK:
		return posture.Pass
	case judgment.Harmful, judgment.Unscoped:
		return posture.Fail
	}
	return posture.Error
}

func findingOf(t *testing.T, rep *posture.Report, id string) posture.Finding {
	t.Helper()
	for _, f := range rep.Findings {
		if f.ID == id && f.Resource == jt.Bucket {
			return f
		}
	}
	t.Fatalf("no %s finding", id)
	return posture.Finding{}
}

// The one judgment table, through `trailguard check`: the same content read
// back from S3 gets the same verdict, and the finding says the judgment's
// reason.
func TestJudgmentCasesCheck(t *testing.T) {
	opts := posture.Options{DefaultRegion: jt.Region, Regions: []string{jt.Region}, MinRetentionDays: jt.MinDays}
	t.Run("bucket policy", func(t *testing.T) {
		for _, tc := range jt.BucketCases {
			t.Run(tc.Name, func(t *testing.T) {
				f := findingOf(t, checkFake(t, judgmentWorld(tc.Policy, nil), opts), "bucket.policy")
				if f.Status != wantStatus(tc.Want) {
					t.Errorf("status %s (%s), want %s for %v", f.Status, f.Detail, wantStatus(tc.Want), tc.Want)
				}
				if tc.Policy != "" {
					j := judgment.BucketPolicy([]byte(tc.Policy), jt.Delivery)
					if !strings.Contains(f.Detail, j.Reason) {
						t.Errorf("detail %q does not say the judgment's reason %q", f.Detail, j.Reason)
					}
				}
			})
		}
	})
	t.Run("lifecycle", func(t *testing.T) {
		for _, tc := range jt.LifecycleCases {
			t.Run(tc.Name, func(t *testing.T) {
				f := findingOf(t, checkFake(t, judgmentWorld("", tc.Rules), opts), "bucket.lifecycle")
				if f.Status != wantStatus(tc.Want) {
					t.Errorf("status %s (%s), want %s for %v", f.Status, f.Detail, wantStatus(tc.Want), tc.Want)
				}
			})
		}
	})
}
