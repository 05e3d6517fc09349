package posture_test

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/account"
	accounttypes "github.com/aws/aws-sdk-go-v2/service/account/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/trailguard/trailguard/internal/catalog"
	"github.com/trailguard/trailguard/internal/posture"
)

// apiErr builds the error the SDK returns for an AWS error response.
func apiErr(service, op, code, msg string) error {
	return &smithy.OperationError{ServiceID: service, OperationName: op,
		Err: &smithy.GenericAPIError{Code: code, Message: msg}}
}

// fakeRegion is one region's recorded CloudTrail and EventBridge answers.
type fakeRegion struct {
	trails    []cttypes.Trail
	status    map[string]*cloudtrail.GetTrailStatusOutput
	selectors map[string]*cloudtrail.GetEventSelectorsOutput
	rules     []ebtypes.Rule
	// err answers every call in the region (e.g. an opt-in region).
	err error
}

type fakeCloudTrail struct {
	r        *fakeRegion
	inflight *atomic.Int32
	peak     *atomic.Int32
}

func (f fakeCloudTrail) DescribeTrails(context.Context, *cloudtrail.DescribeTrailsInput, ...func(*cloudtrail.Options)) (*cloudtrail.DescribeTrailsOutput, error) {
	if f.inflight != nil {
		n := f.inflight.Add(1)
		defer f.inflight.Add(-1)
		for {
			p := f.peak.Load()
			if n <= p || f.peak.CompareAndSwap(p, n) {
				break
			}
		}
	}
	if f.r.err != nil {
		return nil, apiErr("CloudTrail", "DescribeTrails", "UnrecognizedClientException", "The security token included in the request is invalid.")
	}
	return &cloudtrail.DescribeTrailsOutput{TrailList: f.r.trails}, nil
}

func (f fakeCloudTrail) GetTrailStatus(_ context.Context, in *cloudtrail.GetTrailStatusInput, _ ...func(*cloudtrail.Options)) (*cloudtrail.GetTrailStatusOutput, error) {
	if s, ok := f.r.status[aws.ToString(in.Name)]; ok {
		return s, nil
	}
	return nil, apiErr("CloudTrail", "GetTrailStatus", "TrailNotFoundException", "Unknown trail")
}

func (f fakeCloudTrail) GetEventSelectors(_ context.Context, in *cloudtrail.GetEventSelectorsInput, _ ...func(*cloudtrail.Options)) (*cloudtrail.GetEventSelectorsOutput, error) {
	if s, ok := f.r.selectors[aws.ToString(in.TrailName)]; ok {
		return s, nil
	}
	return nil, apiErr("CloudTrail", "GetEventSelectors", "AccessDeniedException", "User is not authorized to perform: cloudtrail:GetEventSelectors")
}

type fakeEventBridge struct{ r *fakeRegion }

func (f fakeEventBridge) ListRules(context.Context, *eventbridge.ListRulesInput, ...func(*eventbridge.Options)) (*eventbridge.ListRulesOutput, error) {
	if f.r.err != nil {
		return nil, apiErr("EventBridge", "ListRules", "UnrecognizedClientException", "The security token included in the request is invalid.")
	}
	return &eventbridge.ListRulesOutput{Rules: f.r.rules}, nil
}

// fakeBucket is one bucket's recorded S3 answers; a nil output with a nil
// error means the "not configured" error S3 gives for that call.
type fakeBucket struct {
	pab        *s3types.PublicAccessBlockConfiguration
	pabErr     error
	policy     string
	versioning s3types.BucketVersioningStatus
	lifecycle  []s3types.LifecycleRule
	logging    *s3types.LoggingEnabled
}

type fakeS3 struct {
	mu      *sync.Mutex
	buckets map[string]*fakeBucket
	calls   map[string]int
}

func (f fakeS3) bucket(op string, name *string) (*fakeBucket, error) {
	f.mu.Lock()
	f.calls[op+" "+aws.ToString(name)]++
	f.mu.Unlock()
	b, ok := f.buckets[aws.ToString(name)]
	if !ok {
		return nil, apiErr("S3", op, "NoSuchBucket", "The specified bucket does not exist")
	}
	return b, nil
}

func (f fakeS3) GetPublicAccessBlock(_ context.Context, in *s3.GetPublicAccessBlockInput, _ ...func(*s3.Options)) (*s3.GetPublicAccessBlockOutput, error) {
	b, err := f.bucket("GetPublicAccessBlock", in.Bucket)
	switch {
	case err != nil:
		return nil, err
	case b.pabErr != nil:
		return nil, b.pabErr
	case b.pab == nil:
		return nil, apiErr("S3", "GetPublicAccessBlock", "NoSuchPublicAccessBlockConfiguration", "The public access block configuration was not found")
	}
	return &s3.GetPublicAccessBlockOutput{PublicAccessBlockConfiguration: b.pab}, nil
}

func (f fakeS3) GetBucketPolicy(_ context.Context, in *s3.GetBucketPolicyInput, _ ...func(*s3.Options)) (*s3.GetBucketPolicyOutput, error) {
	b, err := f.bucket("GetBucketPolicy", in.Bucket)
	if err != nil {
		return nil, err
	}
	if b.policy == "" {
		return nil, apiErr("S3", "GetBucketPolicy", "NoSuchBucketPolicy", "The bucket policy does not exist")
	}
	return &s3.GetBucketPolicyOutput{Policy: aws.String(b.policy)}, nil
}

func (f fakeS3) GetBucketVersioning(_ context.Context, in *s3.GetBucketVersioningInput, _ ...func(*s3.Options)) (*s3.GetBucketVersioningOutput, error) {
	b, err := f.bucket("GetBucketVersioning", in.Bucket)
	if err != nil {
		return nil, err
	}
	return &s3.GetBucketVersioningOutput{Status: b.versioning}, nil
}

func (f fakeS3) GetBucketLifecycleConfiguration(_ context.Context, in *s3.GetBucketLifecycleConfigurationInput, _ ...func(*s3.Options)) (*s3.GetBucketLifecycleConfigurationOutput, error) {
	b, err := f.bucket("GetBucketLifecycleConfiguration", in.Bucket)
	if err != nil {
		return nil, err
	}
	if b.lifecycle == nil {
		return nil, apiErr("S3", "GetBucketLifecycleConfiguration", "NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist")
	}
	return &s3.GetBucketLifecycleConfigurationOutput{Rules: b.lifecycle}, nil
}

func (f fakeS3) GetBucketLogging(_ context.Context, in *s3.GetBucketLoggingInput, _ ...func(*s3.Options)) (*s3.GetBucketLoggingOutput, error) {
	b, err := f.bucket("GetBucketLogging", in.Bucket)
	if err != nil {
		return nil, err
	}
	return &s3.GetBucketLoggingOutput{LoggingEnabled: b.logging}, nil
}

type fakeEC2 struct{ err error }

func (f fakeEC2) DescribeRegions(context.Context, *ec2.DescribeRegionsInput, ...func(*ec2.Options)) (*ec2.DescribeRegionsOutput, error) {
	return nil, f.err
}

type fakeAccount struct{ regions []string }

func (f fakeAccount) ListRegions(context.Context, *account.ListRegionsInput, ...func(*account.Options)) (*account.ListRegionsOutput, error) {
	out := &account.ListRegionsOutput{}
	for _, r := range f.regions {
		out.Regions = append(out.Regions, accounttypes.Region{RegionName: aws.String(r)})
	}
	return out, nil
}

type fakeCaller struct{}

func (fakeCaller) GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	return &sts.GetCallerIdentityOutput{Account: aws.String("111122223333")}, nil
}

// fakeAccountWorld is a recorded account for what the emulator cannot
// model: EC2 region listing denied (account:ListRegions allowed), an opt-in
// region that rejects the credentials, delivery errors, advanced selectors,
// a shadow trail, a disabled and an outdated trailguard rule, a bucket
// policy without a SourceArn condition, and an access-denied bucket call.
type fakeAccountWorld struct {
	regions map[string]*fakeRegion
	s3      fakeS3
	// concurrency instrumentation
	inflight, peak atomic.Int32
}

const acct = "111122223333"

func trailARN(region, name string) string {
	return "arn:aws:cloudtrail:" + region + ":" + acct + ":trail/" + name
}

func cloudTrailPattern(drop ...string) string {
	var want catalog.Rule
	for _, r := range catalog.Rules() {
		if r.ID == "cloudtrail" {
			want = r
		}
	}
	p := want.Pattern
	var names []string
	for _, n := range p.Detail.EventName {
		keep := true
		for _, d := range drop {
			keep = keep && n != d
		}
		if keep {
			names = append(names, n)
		}
	}
	p.Detail.EventName = names
	b, _ := json.Marshal(p)
	return string(b)
}

func newFakeAccountWorld() *fakeAccountWorld {
	main := cttypes.Trail{
		Name: aws.String("org-main"), TrailARN: aws.String(trailARN("us-east-1", "org-main")),
		HomeRegion: aws.String("us-east-1"), S3BucketName: aws.String("org-main-logs"),
		IsMultiRegionTrail: aws.Bool(true), IncludeGlobalServiceEvents: aws.Bool(true),
		LogFileValidationEnabled:  aws.Bool(true),
		KmsKeyId:                  aws.String("arn:aws:kms:us-east-1:111122223333:key/0e9a5c1e-0000-4000-8000-000000000001"),
		CloudWatchLogsLogGroupArn: aws.String("arn:aws:logs:us-east-1:111122223333:log-group:org-main:*"),
		HasCustomEventSelectors:   aws.Bool(true),
	}
	euApp := cttypes.Trail{
		Name: aws.String("eu-app"), TrailARN: aws.String(trailARN("eu-west-1", "eu-app")),
		HomeRegion: aws.String("eu-west-1"), S3BucketName: aws.String("eu-app-logs"), S3KeyPrefix: aws.String("app"),
		IsMultiRegionTrail: aws.Bool(false), IncludeGlobalServiceEvents: aws.Bool(false),
		LogFileValidationEnabled: aws.Bool(false),
	}
	mgmtAndData := &cloudtrail.GetEventSelectorsOutput{AdvancedEventSelectors: []cttypes.AdvancedEventSelector{
		{Name: aws.String("Management events"), FieldSelectors: []cttypes.AdvancedFieldSelector{
			{Field: aws.String("eventCategory"), Equals: []string{"Management"}}}},
		{Name: aws.String("S3 writes"), FieldSelectors: []cttypes.AdvancedFieldSelector{
			{Field: aws.String("eventCategory"), Equals: []string{"Data"}},
			{Field: aws.String("resources.type"), Equals: []string{"AWS::S3::Object"}},
			{Field: aws.String("readOnly"), Equals: []string{"false"}}}},
	}}
	dataOnly := &cloudtrail.GetEventSelectorsOutput{AdvancedEventSelectors: []cttypes.AdvancedEventSelector{
		{Name: aws.String("Lambda invocations"), FieldSelectors: []cttypes.AdvancedFieldSelector{
			{Field: aws.String("eventCategory"), Equals: []string{"Data"}},
			{Field: aws.String("resources.type"), Equals: []string{"AWS::Lambda::Function"}}}},
	}}
	return &fakeAccountWorld{
		regions: map[string]*fakeRegion{
			"us-east-1": {
				trails: []cttypes.Trail{main},
				status: map[string]*cloudtrail.GetTrailStatusOutput{trailARN("us-east-1", "org-main"): {
					IsLogging:                         aws.Bool(true),
					LatestDeliveryError:               aws.String("AccessDenied"),
					LatestCloudWatchLogsDeliveryError: aws.String("ResourceNotFoundException: the log group does not exist"),
				}},
				selectors: map[string]*cloudtrail.GetEventSelectorsOutput{trailARN("us-east-1", "org-main"): mgmtAndData},
				rules: []ebtypes.Rule{{
					Name: aws.String("tg-cloudtrail-v1"), Arn: aws.String("arn:aws:events:us-east-1:111122223333:rule/tg-cloudtrail-v1"),
					State: ebtypes.RuleStateEnabled, EventPattern: aws.String(cloudTrailPattern("DeleteEventDataStore", "StopEventDataStoreIngestion")),
				}},
			},
			"eu-west-1": {
				// The shadow of org-main, and a home trail of its own.
				trails: []cttypes.Trail{main, euApp},
				status: map[string]*cloudtrail.GetTrailStatusOutput{trailARN("eu-west-1", "eu-app"): {
					IsLogging: aws.Bool(true),
				}},
				selectors: map[string]*cloudtrail.GetEventSelectorsOutput{trailARN("eu-west-1", "eu-app"): dataOnly},
				rules: []ebtypes.Rule{{
					Name: aws.String("guard"), Arn: aws.String("arn:aws:events:eu-west-1:111122223333:rule/guard"),
					State: ebtypes.RuleStateDisabled, EventPattern: aws.String(cloudTrailPattern()),
				}},
			},
			"ap-east-1": {err: apiErr("CloudTrail", "DescribeTrails", "UnrecognizedClientException", "")},
		},
		s3: fakeS3{mu: &sync.Mutex{}, calls: map[string]int{}, buckets: map[string]*fakeBucket{
			"org-main-logs": {
				pab: &s3types.PublicAccessBlockConfiguration{BlockPublicAcls: aws.Bool(true), IgnorePublicAcls: aws.Bool(true),
					BlockPublicPolicy: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true)},
				policy: `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":["cloudtrail.amazonaws.com"]},` +
					`"Action":["s3:GetBucketAcl","s3:PutObject"],"Resource":["arn:aws:s3:::org-main-logs","arn:aws:s3:::org-main-logs/*"]}}`,
				versioning: s3types.BucketVersioningStatusSuspended,
				lifecycle: []s3types.LifecycleRule{
					{ID: aws.String("tidy-noncurrent"), Status: s3types.ExpirationStatusEnabled,
						Filter:                      &s3types.LifecycleRuleFilter{Prefix: aws.String("AWSLogs/")},
						NoncurrentVersionExpiration: &s3types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(30)}},
					{ID: aws.String("tmp-only"), Status: s3types.ExpirationStatusEnabled,
						Filter:     &s3types.LifecycleRuleFilter{Prefix: aws.String("tmp/")},
						Expiration: &s3types.LifecycleExpiration{Days: aws.Int32(1)}},
				},
			},
			"eu-app-logs": {
				pabErr: apiErr("S3", "GetPublicAccessBlock", "AccessDenied", "Access Denied"),
				policy: `{"Statement":[{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":["s3:GetBucketAcl","s3:PutObject"],` +
					`"Resource":["arn:aws:s3:::eu-app-logs","arn:aws:s3:::eu-app-logs/app/AWSLogs/111122223333/*"],"Condition":{"StringEquals":{"aws:SourceAccount":"111122223333"}}}]}`,
				versioning: s3types.BucketVersioningStatusEnabled,
				logging:    &s3types.LoggingEnabled{TargetBucket: aws.String("access-logs"), TargetPrefix: aws.String("eu-app-logs/")},
			},
		}},
	}
}

func (w *fakeAccountWorld) clients() posture.Clients {
	return posture.Clients{
		EC2:     fakeEC2{err: apiErr("EC2", "DescribeRegions", "UnauthorizedOperation", "You are not authorized to perform this operation.")},
		Account: fakeAccount{regions: []string{"us-east-1", "eu-west-1", "ap-east-1"}},
		Caller:  fakeCaller{},
		CloudTrail: func(region string) posture.CloudTrailAPI {
			return fakeCloudTrail{r: w.region(region), inflight: &w.inflight, peak: &w.peak}
		},
		EventBridge: func(region string) posture.EventBridgeAPI { return fakeEventBridge{r: w.region(region)} },
		S3:          func(string) posture.S3API { return w.s3 },
	}
}

func (w *fakeAccountWorld) region(r string) *fakeRegion {
	if fr, ok := w.regions[r]; ok {
		return fr
	}
	return &fakeRegion{}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
