package posture

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/trailguard/trailguard/internal/judgment"
	"github.com/trailguard/trailguard/internal/parallel"
)

// bucketTarget is one bucket to check, with where its trails write.
type bucketTarget struct {
	name     string
	region   string   // home region of the first trail using it
	prefixes []string // key prefixes the trails write under ("" for none)
	trails   []string
	arns     []string // the trails' ARNs, in the order of prefixes
}

// checkBuckets checks each distinct trail bucket once, concurrently.
func (c *checker) checkBuckets(ctx context.Context, homes map[string]*trailState) []Finding {
	byName := map[string]*bucketTarget{}
	for _, arn := range sortedKeys(homes) {
		tr := homes[arn].trail
		name := aws.ToString(tr.S3BucketName)
		if name == "" {
			continue
		}
		b, ok := byName[name]
		if !ok {
			b = &bucketTarget{name: name, region: aws.ToString(tr.HomeRegion)}
			byName[name] = b
		}
		b.prefixes = append(b.prefixes, aws.ToString(tr.S3KeyPrefix))
		b.trails = append(b.trails, aws.ToString(tr.Name))
		b.arns = append(b.arns, firstNonEmpty(aws.ToString(tr.TrailARN), arn))
	}
	c.addTotal(len(byName))
	results := make([][]Finding, len(byName))
	names := sortedKeys(byName)
	parallel.Each(len(names), c.opts.Concurrency, func(i int) {
		b := byName[names[i]]
		results[i] = checkBucket(ctx, c.clients.S3(b.region), b, c.opts.MinRetentionDays)
		c.step(1)
	})
	var out []Finding
	for _, r := range results {
		out = append(out, r...)
	}
	return out
}

// checkBucket reads and judges one trail bucket.
func checkBucket(ctx context.Context, api S3API, b *bucketTarget, minDays int) []Finding {
	bucket := aws.String(b.name)
	base := func(id string, sev Severity, title string) Finding {
		return Finding{ID: id, Severity: sev, Region: b.region, Resource: b.name, ARN: "arn:aws:s3:::" + b.name, Title: title}
	}
	used := "used by trail(s) " + strings.Join(b.trails, ", ")
	errored := func(f Finding, err error, perm string) Finding {
		f.Status, f.Detail, f.Fix = Error, errorDetail(err), errorAdvice(err, perm)
		return f
	}

	// Versioning first: it also tells whether the bucket exists at all.
	ver, verErr := api.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: bucket})
	if code := apiCode(verErr); code == "NoSuchBucket" {
		f := base("bucket.exists", Critical, "Trail bucket exists")
		f.Status, f.Detail = Fail, "NoSuchBucket; "+used
		f.Why = "CloudTrail has nowhere to deliver: every event since the bucket disappeared is lost"
		f.Fix = "recreate the bucket with a policy granting cloudtrail.amazonaws.com, or point the trail at another bucket: aws cloudtrail update-trail --name <trail> --s3-bucket-name <bucket> --region " + b.region
		return []Finding{f}
	}
	var out []Finding

	f := base("bucket.public-access-block", Critical, "Trail bucket blocks all public access")
	f.Why = "public logs tell an intruder which calls are watched, which principals exist and where the gaps are"
	f.Fix = "aws s3api put-public-access-block --bucket " + b.name + " --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true"
	f.Controls = []Control{ctrlPublic, ctrlS3Public}
	pab, err := api.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: bucket})
	switch {
	case apiCode(err) == "NoSuchPublicAccessBlockConfiguration":
		f.Status, f.Detail = Fail, "no public access block configured on the bucket"
	case err != nil:
		f = errored(f, err, "s3:GetBucketPublicAccessBlock")
	default:
		f.Status, f.Detail = blocksAll(pab.PublicAccessBlockConfiguration)
	}
	out = append(out, f)

	f = base("bucket.policy", High, "Bucket policy grants CloudTrail, scoped to this account's trails")
	f.Why = "without the grant CloudTrail cannot deliver; without an aws:SourceArn or aws:SourceAccount condition any account's trail could write into this bucket (confused deputy)"
	f.Fix = "add to the bucket policy a statement allowing Principal {\"Service\":\"cloudtrail.amazonaws.com\"} s3:PutObject on arn:aws:s3:::" + b.name + "/<prefix>/AWSLogs/<account-id>/* with Condition StringEquals aws:SourceArn = <trail ARN> (see the CloudTrail User Guide, \"Amazon S3 bucket policy for CloudTrail\"), then aws s3api put-bucket-policy --bucket " + b.name + " --policy file://policy.json"
	pol, err := api.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: bucket})
	switch {
	case apiCode(err) == "NoSuchBucketPolicy":
		f.Status, f.Detail = Fail, "the bucket has no policy: CloudTrail cannot deliver"
	case err != nil:
		f = errored(f, err, "s3:GetBucketPolicy")
	default:
		f.Status, f.Detail = verdictStatus(b.policyJudgment(aws.ToString(pol.Policy)))
		if f.Status == Error {
			f.Fix = "review the bucket policy by hand: trailguard cannot evaluate it (" + f.Detail + ")"
		}
	}
	out = append(out, f)

	f = base("bucket.versioning", Medium, "Trail bucket has versioning enabled")
	f.Why = "without versioning, a deleted or overwritten log file is gone for good"
	f.Fix = "aws s3api put-bucket-versioning --bucket " + b.name + " --versioning-configuration Status=Enabled"
	f.Controls = []Control{ctrlVersioning}
	if verErr != nil {
		f = errored(f, verErr, "s3:GetBucketVersioning")
	} else {
		f.Status = pf(ver.Status == s3types.BucketVersioningStatusEnabled)
		if f.Status == Fail {
			f.Detail = "versioning status: " + orNeverEnabled(string(ver.Status))
		}
	}
	out = append(out, f)

	f = base("bucket.lifecycle", High, fmt.Sprintf("No lifecycle rule expires trail logs within %d days", minDays))
	f.Why = "a short expiration (Stratus Red Team sets 1 day) silently deletes the evidence shortly after it is written"
	f.Fix = "remove or lengthen the expiring rule: aws s3api get-bucket-lifecycle-configuration --bucket " + b.name + ", edit, then put-bucket-lifecycle-configuration (or aws s3api delete-bucket-lifecycle --bucket " + b.name + ")"
	lc, err := api.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: bucket})
	switch {
	case apiCode(err) == "NoSuchLifecycleConfiguration":
		f.Status, f.Detail = Pass, "no lifecycle configuration"
	case err != nil:
		f = errored(f, err, "s3:GetLifecycleConfiguration")
	default:
		f.Status, f.Detail = verdictStatus(judgment.Lifecycle(judgment.RulesFromSDK(lc.Rules), b.prefixes, minDays, time.Now()))
		if f.Status == Error {
			f.Fix = "review the lifecycle rules by hand: " + f.Detail
		}
	}
	out = append(out, f)

	f = base("bucket.access-logging", Low, "Trail bucket has server access logging")
	f.Why = "access logs show who read or deleted log files, which the trail itself does not record without data events"
	f.Fix = "aws s3api put-bucket-logging --bucket " + b.name + " --bucket-logging-status '{\"LoggingEnabled\":{\"TargetBucket\":\"<log-bucket>\",\"TargetPrefix\":\"" + b.name + "/\"}}'"
	f.Controls = []Control{ctrlAccessLog}
	lg, err := api.GetBucketLogging(ctx, &s3.GetBucketLoggingInput{Bucket: bucket})
	if err != nil {
		f = errored(f, err, "s3:GetBucketLogging")
	} else {
		f.Status = pf(lg.LoggingEnabled != nil && aws.ToString(lg.LoggingEnabled.TargetBucket) != "")
		if f.Status == Pass {
			f.Detail = "logs to " + aws.ToString(lg.LoggingEnabled.TargetBucket)
		}
	}
	out = append(out, f)
	return out
}

func orNeverEnabled(s string) string {
	if s == "" {
		return "never enabled"
	}
	return s
}

func blocksAll(c *s3types.PublicAccessBlockConfiguration) (Status, string) {
	if c == nil {
		return Fail, "no public access block configured on the bucket"
	}
	var off []string
	for _, s := range []struct {
		name string
		on   *bool
	}{
		{"BlockPublicAcls", c.BlockPublicAcls},
		{"IgnorePublicAcls", c.IgnorePublicAcls},
		{"BlockPublicPolicy", c.BlockPublicPolicy},
		{"RestrictPublicBuckets", c.RestrictPublicBuckets},
	} {
		if !aws.ToBool(s.on) {
			off = append(off, s.name)
		}
	}
	if len(off) > 0 {
		return Fail, "off: " + strings.Join(off, ", ")
	}
	return Pass, ""
}

// policyJudgment judges the policy for every prefix the bucket's trails
// write under (package judgment, shared with the responder).
func (b *bucketTarget) policyJudgment(doc string) judgment.Judgment {
	return judgment.BucketPolicyFor([]byte(doc), judgment.Deliveries(b.name, b.arns, b.prefixes))
}

// verdictStatus maps a judgment onto a finding: harmful and unscoped fail,
// and what cannot be judged is an error (not known to pass or to fail).
func verdictStatus(j judgment.Judgment) (Status, string) {
	switch j.Verdict {
	case judgment.OK:
		return Pass, j.Reason
	case judgment.Harmful, judgment.Unscoped:
		return Fail, j.Reason
	}
	return Error, "cannot tell: " + j.Reason
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
