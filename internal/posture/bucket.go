package posture

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// bucketTarget is one bucket to check, with where its trails write.
type bucketTarget struct {
	name     string
	region   string   // home region of the first trail using it
	prefixes []string // key prefixes the trails write under ("" for none)
	trails   []string
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
	}
	c.addTotal(len(byName))
	results := make([][]Finding, len(byName))
	sem := make(chan struct{}, c.opts.Concurrency)
	var wg sync.WaitGroup
	for i, name := range sortedKeys(byName) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			b := byName[name]
			results[i] = checkBucket(ctx, c.clients.S3(b.region), b, c.opts.MinRetentionDays)
			c.step(1)
		}()
	}
	wg.Wait()
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
		f.Status, f.Detail = judgePolicy(aws.ToString(pol.Policy))
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
			f.Detail = "versioning status: " + orNone(string(ver.Status))
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
		f.Status, f.Detail = judgeLifecycle(lc.Rules, b.prefixes, minDays)
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

func orNone(s string) string {
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

// policyDoc is the part of an IAM policy document the check reads. Statement,
// Principal values, Action and condition values may each be a string or a list.
type policyDoc struct {
	Statement oneOrMany[policyStatement] `json:"Statement"`
}

type policyStatement struct {
	Effect    string                    `json:"Effect"`
	Principal json.RawMessage           `json:"Principal"`
	Action    oneOrMany[string]         `json:"Action"`
	Condition map[string]map[string]any `json:"Condition"`
}

type oneOrMany[T any] []T

func (o *oneOrMany[T]) UnmarshalJSON(b []byte) error {
	var many []T
	if err := json.Unmarshal(b, &many); err == nil {
		*o = many
		return nil
	}
	var one T
	if err := json.Unmarshal(b, &one); err != nil {
		return err
	}
	*o = []T{one}
	return nil
}

func (s policyStatement) servicePrincipal(svc string) bool {
	var p struct {
		Service oneOrMany[string] `json:"Service"`
	}
	if json.Unmarshal(s.Principal, &p) != nil {
		return false
	}
	for _, v := range p.Service {
		if v == svc {
			return true
		}
	}
	return false
}

func (s policyStatement) allows(action string) bool {
	for _, a := range s.Action {
		if strings.EqualFold(a, action) || a == "s3:*" || a == "*" {
			return true
		}
	}
	return false
}

func (s policyStatement) scoped() bool {
	for _, kv := range s.Condition {
		for k := range kv {
			if strings.EqualFold(k, "aws:SourceArn") || strings.EqualFold(k, "aws:SourceAccount") {
				return true
			}
		}
	}
	return false
}

// judgePolicy checks that the policy lets CloudTrail write, only on behalf of
// named trails or this account.
func judgePolicy(doc string) (Status, string) {
	var p policyDoc
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return Fail, "bucket policy is not valid JSON: " + err.Error()
	}
	granted, scoped := false, false
	for _, s := range p.Statement {
		if s.Effect != "Allow" || !s.servicePrincipal("cloudtrail.amazonaws.com") || !s.allows("s3:PutObject") {
			continue
		}
		granted = true
		if s.scoped() {
			scoped = true
		}
	}
	switch {
	case !granted:
		return Fail, "no statement allows cloudtrail.amazonaws.com s3:PutObject: CloudTrail cannot deliver"
	case !scoped:
		return Fail, "the CloudTrail grant has no aws:SourceArn or aws:SourceAccount condition"
	}
	return Pass, "cloudtrail.amazonaws.com may write, with an aws:SourceArn/aws:SourceAccount condition"
}

// judgeLifecycle fails when an enabled rule that applies to a trail's log
// prefix expires current or noncurrent objects sooner than minDays.
func judgeLifecycle(rules []s3types.LifecycleRule, prefixes []string, minDays int) (Status, string) {
	var bad []string
	for _, r := range rules {
		if r.Status != s3types.ExpirationStatusEnabled || !ruleApplies(r, prefixes) {
			continue
		}
		id := aws.ToString(r.ID)
		if id == "" {
			id = "(unnamed)"
		}
		if e := r.Expiration; e != nil {
			switch {
			case e.Days != nil && int(*e.Days) < minDays:
				bad = append(bad, fmt.Sprintf("rule %s expires logs after %d day(s)", id, *e.Days))
			case e.Date != nil:
				bad = append(bad, fmt.Sprintf("rule %s expires logs on %s", id, e.Date.Format("2006-01-02")))
			}
		}
		if n := r.NoncurrentVersionExpiration; n != nil && n.NoncurrentDays != nil && int(*n.NoncurrentDays) < minDays {
			bad = append(bad, fmt.Sprintf("rule %s deletes overwritten or deleted logs after %d day(s)", id, *n.NoncurrentDays))
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return Fail, strings.Join(bad, "; ")
	}
	return Pass, fmt.Sprintf("%d rule(s), none expiring trail logs within %d days", len(rules), minDays)
}

// ruleApplies reports whether a lifecycle rule's prefix filter can match the
// objects a trail writes ("<prefix>/AWSLogs/..."). Tag and size filters are
// ignored: a rule that might apply is treated as applying.
func ruleApplies(r s3types.LifecycleRule, prefixes []string) bool {
	//lint:ignore SA1019 the deprecated field is still returned for rules written before Filter existed
	rp := aws.ToString(r.Prefix)
	if r.Filter != nil {
		switch {
		case r.Filter.Prefix != nil:
			rp = aws.ToString(r.Filter.Prefix)
		case r.Filter.And != nil && r.Filter.And.Prefix != nil:
			rp = aws.ToString(r.Filter.And.Prefix)
		}
	}
	if rp == "" {
		return true
	}
	for _, p := range prefixes {
		logs := "AWSLogs/"
		if p != "" {
			logs = strings.TrimSuffix(p, "/") + "/AWSLogs/"
		}
		if strings.HasPrefix(logs, rp) || strings.HasPrefix(rp, logs) {
			return true
		}
	}
	return false
}
