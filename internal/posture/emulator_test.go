package posture_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/trailguard/trailguard/internal/catalog"
	"github.com/trailguard/trailguard/internal/posture"
	"github.com/trailguard/trailguard/internal/testworld"
)

// world is an account built in the emulator: one good trail, bad ones, and
// trailguard's rule under a name that is not "trailguard".
type world struct {
	srv *testworld.Server
	cfg aws.Config
}

func startWorld(t *testing.T) *world {
	t.Helper()
	ctx := t.Context()
	srv, err := testworld.Start(ctx)
	if err != nil {
		t.Fatalf("start emulator: %v", err)
	}
	t.Cleanup(srv.Close)
	return &world{srv: srv, cfg: srv.Config(ctx)}
}

func (w *world) clients() posture.Clients {
	c := posture.NewClients(w.cfg)
	c.S3 = func(region string) posture.S3API {
		return s3.NewFromConfig(w.cfg, func(o *s3.Options) { o.Region = region; o.UsePathStyle = true })
	}
	return c
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

const goodPolicy = `{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "AWSCloudTrailAclCheck", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
     "Action": "s3:GetBucketAcl", "Resource": "arn:aws:s3:::BUCKET",
     "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}},
    {"Sid": "AWSCloudTrailWrite", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
     "Action": "s3:PutObject", "Resource": "arn:aws:s3:::BUCKET/AWSLogs/123456789012/*",
     "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control",
       "aws:SourceArn": ["arn:aws:cloudtrail:us-east-1:123456789012:trail/PREFIX-guarded",
         "arn:aws:cloudtrail:us-east-1:123456789012:trail/PREFIX-blind"]}}}
  ]
}`

// build creates the world's resources; names start with prefix so several
// tests can share kumo's process-wide state.
func (w *world) build(t *testing.T, prefix string) {
	t.Helper()
	ctx := t.Context()
	s3c := s3.NewFromConfig(w.cfg, func(o *s3.Options) { o.UsePathStyle = true })
	ct := cloudtrail.NewFromConfig(w.cfg)
	eb := eventbridge.NewFromConfig(w.cfg)

	good, bad, access := prefix+"-good-logs", prefix+"-bad-logs", prefix+"-access-logs"
	for _, b := range []string{good, bad, access} {
		_, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)})
		must(t, "create bucket "+b, err)
	}
	_, err := s3c.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String(good),
		PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{
			BlockPublicAcls: aws.Bool(true), IgnorePublicAcls: aws.Bool(true),
			BlockPublicPolicy: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true)}})
	must(t, "public access block", err)
	pol := strings.NewReplacer("BUCKET", good, "PREFIX", prefix).Replace(goodPolicy)
	_, err = s3c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(good), Policy: aws.String(pol)})
	must(t, "bucket policy", err)
	_, err = s3c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(good),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}})
	must(t, "versioning", err)
	_, err = s3c.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: aws.String(good),
		LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: []s3types.LifecycleRule{{
			ID: aws.String("archive-after-7-years"), Status: s3types.ExpirationStatusEnabled,
			Filter:     &s3types.LifecycleRuleFilter{Prefix: aws.String("")},
			Expiration: &s3types.LifecycleExpiration{Days: aws.Int32(2555)}}}}})
	must(t, "good lifecycle", err)
	_, err = s3c.PutBucketLogging(ctx, &s3.PutBucketLoggingInput{Bucket: aws.String(good),
		BucketLoggingStatus: &s3types.BucketLoggingStatus{LoggingEnabled: &s3types.LoggingEnabled{
			TargetBucket: aws.String(access), TargetPrefix: aws.String(good + "/")}}})
	must(t, "bucket logging", err)

	// The bad bucket: no public access block, no policy, unversioned, and
	// the Stratus Red Team lifecycle (expire after one day).
	_, err = s3c.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: aws.String(bad),
		LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: []s3types.LifecycleRule{{
			ID: aws.String("nuke"), Status: s3types.ExpirationStatusEnabled,
			Filter:     &s3types.LifecycleRuleFilter{Prefix: aws.String("")},
			Expiration: &s3types.LifecycleExpiration{Days: aws.Int32(1)}}}}})
	must(t, "bad lifecycle", err)

	_, err = ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{
		Name: aws.String(prefix + "-guarded"), S3BucketName: aws.String(good),
		IsMultiRegionTrail: aws.Bool(true), IncludeGlobalServiceEvents: aws.Bool(true),
		EnableLogFileValidation:   aws.Bool(true),
		KmsKeyId:                  aws.String("arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"),
		CloudWatchLogsLogGroupArn: aws.String("arn:aws:logs:us-east-1:123456789012:log-group:trail:*"),
		CloudWatchLogsRoleArn:     aws.String("arn:aws:iam::123456789012:role/trail-to-logs"),
	})
	must(t, "create good trail", err)
	_, err = ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String(prefix + "-guarded")})
	must(t, "start good trail", err)

	// Stopped, single region, no validation, bad bucket.
	_, err = ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{
		Name: aws.String(prefix + "-stopped"), S3BucketName: aws.String(bad)})
	must(t, "create stopped trail", err)

	// Logging, but read-only management events with KMS events excluded
	// (the "looks alive but is blind" case); shares the good bucket.
	_, err = ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{
		Name: aws.String(prefix + "-blind"), S3BucketName: aws.String(good),
		IsMultiRegionTrail: aws.Bool(true), IncludeGlobalServiceEvents: aws.Bool(true)})
	must(t, "create blind trail", err)
	_, err = ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String(prefix + "-blind")})
	must(t, "start blind trail", err)
	_, err = ct.PutEventSelectors(ctx, &cloudtrail.PutEventSelectorsInput{TrailName: aws.String(prefix + "-blind"),
		EventSelectors: []cttypes.EventSelector{{ReadWriteType: cttypes.ReadWriteTypeReadOnly,
			IncludeManagementEvents: aws.Bool(true), ExcludeManagementEventSources: []string{"kms.amazonaws.com"}}}})
	must(t, "blind selectors", err)

	// trailguard's rule under an unremarkable name, and a decoy named like
	// trailguard that matches nothing useful.
	var want catalog.Rule
	for _, r := range catalog.Rules() {
		if r.ID == "cloudtrail" {
			want = r
		}
	}
	_, err = eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(prefix + "-ct-watch"),
		EventPattern: aws.String(want.Pattern.JSON()), State: ebtypes.RuleStateEnabled})
	must(t, "put rule", err)
	_, err = eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("trailguard-" + prefix),
		EventPattern: aws.String(`{"source":["aws.s3"]}`), State: ebtypes.RuleStateEnabled})
	must(t, "put decoy rule", err)
}

// index returns findings by "id resource".
func index(r *posture.Report) map[string]posture.Finding {
	m := map[string]posture.Finding{}
	for _, f := range r.Findings {
		m[f.ID+" "+f.Resource] = f
	}
	return m
}

// wantFinding is one expected finding: its "id resource" key, status, and an
// optional substring of its detail.
type wantFinding struct {
	key    string
	status posture.Status
	detail string
}

// checkFindings reports every expected finding that is missing or differs.
func checkFindings(t *testing.T, got map[string]posture.Finding, want []wantFinding) {
	t.Helper()
	for _, wf := range want {
		f, ok := got[wf.key]
		if !ok {
			t.Errorf("no finding %q", wf.key)
			continue
		}
		if f.Status != wf.status || !strings.Contains(f.Detail, wf.detail) {
			t.Errorf("%s: got %s %q, want %s containing %q", wf.key, f.Status, f.Detail, wf.status, wf.detail)
		}
	}
}

func TestCheckAgainstEmulator(t *testing.T) {
	w := startWorld(t)
	w.build(t, "emu")

	rep, err := posture.Check(t.Context(), w.clients(), posture.Options{DefaultRegion: "us-east-1", FailOn: posture.High})
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	// The emulator's account lists its one enabled region (EC2 double).
	if rep.RegionSource != "ec2:DescribeRegions" || strings.Join(rep.Regions, ",") != "us-east-1" {
		t.Errorf("regions %v from %q", rep.Regions, rep.RegionSource)
	}
	got := index(rep)
	if _, ok := got["account.regions account"]; ok {
		t.Error("regions listed, yet an account.regions finding")
	}
	want := []wantFinding{
		{"account.trail-enabled account", posture.Pass, "emu-guarded"},
		{"account.multi-region-trail account", posture.Pass, "emu-guarded"},
		{"region.covered us-east-1", posture.Pass, "emu-guarded"},
		{"region.responder-rule emu-ct-watch", posture.Pass, ""},

		{"trail.logging emu-guarded", posture.Pass, ""},
		{"trail.multi-region emu-guarded", posture.Pass, ""},
		{"trail.global-events emu-guarded", posture.Pass, ""},
		{"trail.management-events emu-guarded", posture.Pass, "all management events"},
		{"trail.log-validation emu-guarded", posture.Pass, ""},
		{"trail.kms emu-guarded", posture.Pass, ""},
		{"trail.cloudwatch-logs emu-guarded", posture.Pass, ""},
		{"trail.delivery emu-guarded", posture.Pass, ""},
		{"bucket.public-access-block emu-good-logs", posture.Pass, ""},
		{"bucket.policy emu-good-logs", posture.Pass, ""},
		{"bucket.versioning emu-good-logs", posture.Pass, ""},
		{"bucket.lifecycle emu-good-logs", posture.Pass, ""},
		{"bucket.access-logging emu-good-logs", posture.Pass, "emu-access-logs"},

		{"trail.logging emu-stopped", posture.Fail, "IsLogging is false"},
		{"trail.multi-region emu-stopped", posture.Fail, ""},
		{"trail.log-validation emu-stopped", posture.Fail, ""},
		{"trail.kms emu-stopped", posture.Fail, ""},
		{"bucket.public-access-block emu-bad-logs", posture.Fail, ""},
		{"bucket.policy emu-bad-logs", posture.Fail, "no policy"},
		{"bucket.versioning emu-bad-logs", posture.Fail, ""},
		{"bucket.lifecycle emu-bad-logs", posture.Fail, "rule nuke expires logs after 1 day(s)"},
		{"bucket.access-logging emu-bad-logs", posture.Fail, ""},

		{"trail.logging emu-blind", posture.Pass, ""},
		{"trail.management-events emu-blind", posture.Fail, "readonly management events except kms.amazonaws.com"},
	}
	checkFindings(t, got, want)
	// A bucket shared by two trails is checked once.
	n := 0
	for _, f := range rep.Findings {
		if f.ID == "bucket.versioning" && f.Resource == "emu-good-logs" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("emu-good-logs checked %d times, want once", n)
	}
	if !rep.Failing() {
		t.Errorf("report with a stopped trail is not failing at high")
	}
}
