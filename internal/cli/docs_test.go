package cli

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/trailguard/trailguard/internal/catalog"
	"github.com/trailguard/trailguard/internal/testworld"
)

var docsOut = flag.String("docs-out", "", "write the sample runs shown in docs/cli.md to this file")

// buildDocsWorld makes the account shown in docs/cli.md: a hardened
// multi-region trail, a forgotten single-region trail that was stopped and
// whose bucket expires logs after a day, and trailguard's rule.
func buildDocsWorld(t *testing.T, srv *testworld.Server) {
	t.Helper()
	ctx := t.Context()
	cfg := srv.Config(ctx)
	s3c := srv.S3(ctx)
	ct := cloudtrail.NewFromConfig(cfg)
	check := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	arn, err := srv.CreateLoggingTrail(ctx, "org-audit", "org-audit-logs")
	check("org-audit", err)
	_, err = ct.UpdateTrail(ctx, &cloudtrail.UpdateTrailInput{Name: aws.String("org-audit"),
		KmsKeyId: aws.String("arn:aws:kms:us-east-1:123456789012:key/6f1e2d3c-4b5a-4978-8a1b-2c3d4e5f6a7b")})
	check("org-audit kms", err)
	_, err = s3c.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String("org-audit-logs"),
		PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{BlockPublicAcls: aws.Bool(true),
			IgnorePublicAcls: aws.Bool(true), BlockPublicPolicy: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true)}})
	check("pab", err)
	_, err = s3c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("org-audit-logs"), Policy: aws.String(fmt.Sprintf(
		`{"Version":"2012-10-17","Statement":[{"Sid":"AWSCloudTrailAclCheck","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},`+
			`"Action":"s3:GetBucketAcl","Resource":"arn:aws:s3:::org-audit-logs","Condition":{"StringEquals":{"aws:SourceArn":%q}}},`+
			`{"Sid":"AWSCloudTrailWrite","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},`+
			`"Action":"s3:PutObject","Resource":"arn:aws:s3:::org-audit-logs/AWSLogs/123456789012/*",`+
			`"Condition":{"StringEquals":{"aws:SourceArn":%q}}}]}`, arn, arn))})
	check("policy", err)
	_, err = s3c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("org-audit-logs"),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}})
	check("versioning", err)

	_, err = s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("legacy-trail-logs")})
	check("legacy bucket", err)
	_, err = s3c.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: aws.String("legacy-trail-logs"),
		LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: []s3types.LifecycleRule{{
			ID: aws.String("cleanup"), Status: s3types.ExpirationStatusEnabled,
			Filter:     &s3types.LifecycleRuleFilter{Prefix: aws.String("")},
			Expiration: &s3types.LifecycleExpiration{Days: aws.Int32(1)}}}}})
	check("lifecycle", err)
	_, err = ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("legacy"), S3BucketName: aws.String("legacy-trail-logs")})
	check("legacy trail", err)

	for _, r := range catalog.Rules() {
		if r.ID != "cloudtrail" {
			continue
		}
		_, err = eventbridge.NewFromConfig(cfg).PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("TrailguardStack-CloudTrailTamper-1A2B3C"),
			EventPattern: aws.String(r.Pattern.JSON()), State: ebtypes.RuleStateEnabled})
		check("rule", err)
	}
}

// TestDocsSample runs `trailguard check` against the emulator as a user
// would (AWS_ENDPOINT_URL) and, with -docs-out, writes the outputs that
// docs/cli.md shows. go test ./internal/cli -run TestDocsSample -docs-out /tmp/sample.txt
func TestDocsSample(t *testing.T) {
	srv := useEmulator(t)
	buildDocsWorld(t, srv)

	var doc bytes.Buffer
	firstRun := ""
	for _, args := range [][]string{
		{"check"},
		{"check", "--output", "json", "--fail-on", "critical"},
	} {
		e, out, errb := testEnv(false, nil)
		start := time.Now()
		code := run(t.Context(), args, e)
		elapsed := time.Since(start)
		if errb.Len() > 0 || out.Len() == 0 {
			t.Fatalf("%v: exit %d, stderr %q", args, code, errb)
		}
		if code != ExitFindings {
			t.Errorf("%v: exit %d, want %d", args, code, ExitFindings)
		}
		if firstRun == "" {
			firstRun = out.String()
		}
		fmt.Fprintf(&doc, "$ trailguard %s\n%s[exit %d; %s]\n\n", strings.Join(args, " "), out, code, elapsed.Round(time.Millisecond))
	}
	// The failures-only view of the same account (kumo's state outlives
	// the server, so the world is built once per process: here).
	e, out, errb := testEnv(false, nil)
	code := run(t.Context(), []string{"check", "--only-failed"}, e)
	if code != ExitFindings || errb.Len() != 0 {
		t.Errorf("--only-failed: exit %d, stderr %q", code, errb)
	}
	if strings.Contains(out.String(), "PASS") {
		t.Error("--only-failed shows passed findings")
	}
	// Same failures as the full table, in the same order, and nothing else
	// (the rendering itself is pinned by internal/posture's golden files).
	var failed []string
	for l := range strings.Lines(firstRun) {
		if strings.HasPrefix(l, "  FAIL") || strings.HasPrefix(l, "  ERROR") {
			failed = append(failed, strings.Join(strings.Fields(l), " ")+"\n") // column widths follow the rows shown
		}
	}
	var shown []string
	for l := range strings.Lines(out.String()) {
		if strings.HasPrefix(l, "  ") && !strings.HasPrefix(l, "   ") {
			shown = append(shown, strings.Join(strings.Fields(l), " ")+"\n")
		}
	}
	if strings.Join(shown, "") != strings.Join(failed, "") {
		t.Errorf("--only-failed shows\n%s\nwant the failures of the full table\n%s", strings.Join(shown, ""), strings.Join(failed, ""))
	}

	if *docsOut != "" {
		if err := os.WriteFile(*docsOut, doc.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
