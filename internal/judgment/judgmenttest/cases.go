// Package judgmenttest holds the one table of judgment cases that every
// caller's tests run: the judgment package itself, the responder (an event
// carrying the content), reconciliation and `trailguard check` (the same
// content read back from S3). One table, so the callers cannot drift apart.
// It is imported by tests only.
package judgmenttest

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/trailguard/trailguard/internal/judgment"
)

// The world every case is judged in: the responder samples' account, trail,
// bucket and key.
const (
	Account  = "123456789012"
	Region   = "us-east-1"
	Bucket   = "trailguard-logs-123456789012"
	TrailARN = "arn:aws:cloudtrail:us-east-1:123456789012:trail/management-trail"
	KeyARN   = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	// MinDays is the minimum retention the lifecycle cases use.
	MinDays = 365
)

// Delivery is where the cases' trail writes.
var Delivery = judgment.Delivery{Bucket: Bucket, Trails: []string{TrailARN}}

// Encryption is the cases' trail key.
var Encryption = judgment.Encryption{Key: KeyARN, Region: Region, Account: Account, Bucket: Bucket, Trails: []string{TrailARN}}

// Case is one policy judgment: the document, the verdict, the statements a
// repair removes, and what the callers decided before this table existed.
type Case struct {
	Name     string
	Policy   string
	Want     judgment.Verdict
	Culprits []int
	Before   string
}

// Statements used by the cases.
const (
	acl = `{"Sid":"AclCheck","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:GetBucketAcl","Resource":"arn:aws:s3:::` + Bucket +
		`","Condition":{"StringEquals":{"aws:SourceArn":"` + TrailARN + `"}}}`
	write = `{"Sid":"Write","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::` + Bucket +
		`/AWSLogs/` + Account + `/*","Condition":{"StringEquals":{"aws:SourceArn":"` + TrailARN + `","s3:x-amz-acl":"bucket-owner-full-control"}}}`
	unrelated = `{"Sid":"ReadersMayRead","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + Account + `:role/auditor"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::` + Bucket + `/*"}`
	tlsOnly   = `{"Sid":"TLSOnly","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::` + Bucket + `","arn:aws:s3:::` + Bucket +
		`/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}`
)

// Doc builds a policy document from statements.
func Doc(statements ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(statements, ",") + `]}`
}

func replace(s, old, new string) string { return strings.Replace(s, old, new, 1) }

// BucketCases pin the bucket policy judgment.
var BucketCases = []Case{
	{Name: "scoped grants", Policy: Doc(acl, write, unrelated, tlsOnly), Want: judgment.OK, Before: "respond ok, check PASS"},
	{Name: "no policy", Policy: "", Want: judgment.Harmful, Before: "respond blocks, check FAIL"},
	{Name: "deny to everyone", Policy: Doc(acl, write, unrelated,
		`{"Sid":"DenyAll","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::`+Bucket+`","arn:aws:s3:::`+Bucket+`/*"]}`),
		Want: judgment.Harmful, Culprits: []int{3}, Before: "respond blocks, check PASS (deny not read)"},
	{Name: "deny to everyone on another bucket", Policy: Doc(acl, write,
		`{"Sid":"DenyElsewhere","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::other-bucket/*"}`),
		Want: judgment.OK, Before: "respond blocks (resource not read), check PASS"},
	{Name: "deny CloudTrail by service principal", Policy: Doc(acl, write,
		`{"Sid":"DenyCloudTrailWrite","Effect":"Deny","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::`+Bucket+`/AWSLogs/`+Account+`/*"}`),
		Want: judgment.Harmful, Culprits: []int{2}, Before: "respond blocks, check PASS"},
	{Name: "TLS-only deny (SecureTransport false)", Policy: Doc(acl, write, tlsOnly), Want: judgment.OK, Before: "respond ok, check PASS"},
	{Name: "SecureTransport true deny", Policy: Doc(acl, write, replace(tlsOnly, `"false"`, `"true"`)), Want: judgment.Harmful, Culprits: []int{2},
		Before: "respond ok (any SecureTransport deny read as harmless), check PASS"},
	{Name: "s3:Put* grant", Policy: Doc(acl, replace(write, `"s3:PutObject"`, `"s3:Put*"`)), Want: judgment.OK, Before: "respond ok, check FAIL (no s3:PutObject)"},
	{Name: "grant with another trail's SourceArn", Policy: Doc(replace(acl, "trail/management-trail", "trail/other"), replace(write, "trail/management-trail", "trail/other")),
		Want: judgment.Harmful, Before: "respond ok, check PASS (any condition counted)"},
	{Name: "grant on another account's logs", Policy: Doc(acl, replace(write, "AWSLogs/"+Account, "AWSLogs/111111111111")),
		Want: judgment.Harmful, Before: "respond ok, check PASS (resource not read)"},
	{Name: "grant scoped by SourceAccount, StringLike", Policy: Doc(
		`{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:GetBucketAcl","Resource":"arn:aws:s3:::`+Bucket+`","Condition":{"StringLike":{"aws:SourceAccount":"`+Account+`"}}}`,
		`{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::`+Bucket+`/*","Condition":{"StringLike":{"aws:SourceAccount":"`+Account+`"}}}`),
		Want: judgment.OK, Before: "respond ok, check PASS"},
	{Name: "grant scoped by ArnLike SourceArn", Policy: Doc(replace(acl, "StringEquals", "ArnLike"),
		`{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::`+Bucket+`/AWSLogs/*","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:cloudtrail:*:`+Account+`:trail/*"}}}`),
		Want: judgment.OK, Before: "respond ok, check PASS"},
	{Name: "unscoped grant", Policy: Doc(replace(acl, `,"Condition":{"StringEquals":{"aws:SourceArn":"`+TrailARN+`"}}`, ""),
		replace(write, `"aws:SourceArn":"`+TrailARN+`",`, ``)), Want: judgment.Unscoped, Culprits: []int{1}, Before: "respond ok, check FAIL"},
	{Name: "only PutObject granted", Policy: Doc(write), Want: judgment.Harmful, Before: "respond ok, check PASS (GetBucketAcl not checked)"},
	{Name: "NotAction deny sparing reads only", Policy: Doc(acl, write,
		`{"Sid":"DenyAllButReads","Effect":"Deny","Principal":"*","NotAction":["s3:Get*","s3:List*"],"Resource":"arn:aws:s3:::`+Bucket+`/*"}`),
		Want: judgment.Harmful, Culprits: []int{2}, Before: "respond ok (NotAction ignored), check PASS"},
	{Name: "NotPrincipal deny sparing CloudTrail", Policy: Doc(acl, write,
		`{"Sid":"OnlyCloudTrail","Effect":"Deny","NotPrincipal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::`+Bucket+`/*"}`),
		Want: judgment.OK, Before: "respond ok, check PASS"},
	{Name: "NotPrincipal deny hitting CloudTrail", Policy: Doc(acl, write,
		`{"Sid":"OnlyAuditor","Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::`+Account+`:role/auditor"},"Action":"s3:*","Resource":"arn:aws:s3:::`+Bucket+`/*"}`),
		Want: judgment.Harmful, Culprits: []int{2}, Before: "respond ok (NotPrincipal ignored), check PASS"},
	{Name: "deny outside the organization", Policy: Doc(acl, write,
		`{"Sid":"OrgOnly","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::`+Bucket+`/*","Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}}`),
		Want: judgment.Harmful, Culprits: []int{2}, Before: "respond blocks, check PASS"},
	{Name: "deny outside the organization, services spared", Policy: Doc(acl, write,
		`{"Sid":"OrgOnly","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::`+Bucket+`/*","Condition":{"StringNotEqualsIfExists":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"},"BoolIfExists":{"aws:PrincipalIsAWSService":"false"}}}`),
		Want: judgment.OK, Before: "respond blocks, check PASS"},
	{Name: "deny on an unknown condition key", Policy: Doc(acl, write,
		`{"Sid":"VpceOnly","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::`+Bucket+`/*","Condition":{"StringNotEquals":{"s3:DataAccessPointAccount":"`+Account+`"}}}`),
		Want: judgment.CannotTell, Before: "respond blocks, check PASS"},
	{Name: "deny with an unknown operator", Policy: Doc(acl, write,
		`{"Sid":"Odd","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"*","Condition":{"StringMatchesRegex":{"aws:SourceArn":".*"}}}`),
		Want: judgment.CannotTell, Before: "respond blocks, check PASS"},
	{Name: "not a policy", Policy: `policy`, Want: judgment.CannotTell, Before: "respond blocks (no policy), check FAIL"},
}

// KeyCases pin the key policy judgment.
var KeyCases = []Case{
	{Name: "CloudTrail's documented grant", Policy: Doc(rootKMS,
		`{"Sid":"AllowCloudTrailEncrypt","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"kms:GenerateDataKey*","Resource":"*",`+
			`"Condition":{"StringEquals":{"aws:SourceArn":"`+TrailARN+`"},"StringLike":{"kms:EncryptionContext:aws:cloudtrail:arn":"arn:aws:cloudtrail:*:`+Account+`:trail/*"}}}`),
		Want: judgment.OK, Before: "respond ok"},
	{Name: "root only (grant removed)", Policy: Doc(rootKMS), Want: judgment.Harmful, Before: "respond blocks"},
	{Name: "grant for another account's trails", Policy: Doc(rootKMS,
		`{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"kms:GenerateDataKey*","Resource":"*",`+
			`"Condition":{"StringLike":{"kms:EncryptionContext:aws:cloudtrail:arn":"arn:aws:cloudtrail:*:111111111111:trail/*"}}}`),
		Want: judgment.Harmful, Before: "respond ok (condition not read)"},
	{Name: "kms:* grant", Policy: Doc(`{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"kms:*","Resource":"*"}`), Want: judgment.OK, Before: "respond ok"},
	{Name: "deny GenerateDataKey to everyone", Policy: Doc(`{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"kms:GenerateDataKey*","Resource":"*"}`,
		`{"Sid":"NoNewKeys","Effect":"Deny","Principal":{"AWS":"*"},"Action":"kms:GenerateDataKey*","Resource":"*"}`),
		Want: judgment.Harmful, Culprits: []int{1}, Before: "respond blocks"},
	{Name: "NotAction deny", Policy: Doc(`{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"kms:GenerateDataKey*","Resource":"*"}`,
		`{"Sid":"OnlyDecrypt","Effect":"Deny","Principal":"*","NotAction":"kms:Decrypt","Resource":"*"}`),
		Want: judgment.Harmful, Culprits: []int{1}, Before: "respond ok (NotAction ignored)"},
	{Name: "grant on an unknown key", Policy: Doc(`{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"kms:GenerateDataKey*","Resource":"*","Condition":{"StringEquals":{"kms:RequestAlias":"alias/x"}}}`),
		Want: judgment.CannotTell, Before: "respond ok"},
}

const rootKMS = `{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + Account + `:root"},"Action":"kms:*","Resource":"*"}`

// LifecycleCase is one lifecycle judgment.
type LifecycleCase struct {
	Name     string
	Rules    []s3types.LifecycleRule
	Want     judgment.Verdict
	Culprits []int
	Before   string
}

func days(n int32) *s3types.LifecycleExpiration {
	return &s3types.LifecycleExpiration{Days: aws.Int32(n)}
}

func rule(id string, f *s3types.LifecycleRuleFilter, e *s3types.LifecycleExpiration) s3types.LifecycleRule {
	return s3types.LifecycleRule{ID: aws.String(id), Status: s3types.ExpirationStatusEnabled, Filter: f, Expiration: e}
}

func prefix(p string) *s3types.LifecycleRuleFilter {
	return &s3types.LifecycleRuleFilter{Prefix: aws.String(p)}
}

// Date is the fixed date the date case expires logs on.
var Date = time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC)

// LifecycleCases pin the lifecycle judgment (MinDays, no key prefix: the
// logs are under AWSLogs/).
var LifecycleCases = []LifecycleCase{
	{Name: "1 day on every object", Rules: []s3types.LifecycleRule{rule("expire-after-1-day", prefix(""), days(1))}, Want: judgment.Harmful, Culprits: []int{0},
		Before: "respond removed, reconcile removed, check FAIL"},
	{Name: "400 days", Rules: []s3types.LifecycleRule{rule("keep", prefix(""), days(400))}, Want: judgment.OK, Before: "kept, PASS"},
	{Name: "1 day on an unrelated prefix", Rules: []s3types.LifecycleRule{rule("tmp", prefix("tmp/"), days(1))}, Want: judgment.OK,
		Before: "respond tamper + removed, reconcile removed, check PASS"},
	{Name: "1 day on the logs' prefix", Rules: []s3types.LifecycleRule{rule("logs", prefix("AWSLogs/"), days(1))}, Want: judgment.Harmful, Culprits: []int{0}, Before: "removed, FAIL"},
	{Name: "1 day on the digests only", Rules: []s3types.LifecycleRule{rule("digests", prefix("AWSLogs/"+Account+"/CloudTrail-Digest/"), days(1))}, Want: judgment.Harmful, Culprits: []int{0}, Before: "removed, FAIL"},
	{Name: "legacy rule-level prefix", Rules: []s3types.LifecycleRule{{ID: aws.String("legacy"), Status: s3types.ExpirationStatusEnabled, Prefix: aws.String("AWS"), Expiration: days(7)}},
		Want: judgment.Harmful, Culprits: []int{0}, Before: "removed, FAIL"},
	{Name: "disabled 1 day", Rules: []s3types.LifecycleRule{{ID: aws.String("off"), Status: s3types.ExpirationStatusDisabled, Filter: prefix(""), Expiration: days(1)}}, Want: judgment.OK, Before: "kept, PASS"},
	{Name: "fixed date", Rules: []s3types.LifecycleRule{rule("on-a-date", prefix(""), &s3types.LifecycleExpiration{Date: &Date})}, Want: judgment.Harmful, Culprits: []int{0},
		Before: "respond ignored, reconcile ignored, check FAIL"},
	{Name: "noncurrent versions after 30 days", Rules: []s3types.LifecycleRule{{ID: aws.String("old-versions"), Status: s3types.ExpirationStatusEnabled, Filter: prefix(""),
		NoncurrentVersionExpiration: &s3types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(30)}}}, Want: judgment.Harmful, Culprits: []int{0}, Before: "removed, FAIL"},
	{Name: "delete markers only", Rules: []s3types.LifecycleRule{rule("markers", prefix(""), &s3types.LifecycleExpiration{ExpiredObjectDeleteMarker: aws.Bool(true)})}, Want: judgment.OK, Before: "kept, PASS"},
	{Name: "transition only", Rules: []s3types.LifecycleRule{{ID: aws.String("glacier"), Status: s3types.ExpirationStatusEnabled, Filter: prefix(""),
		Transitions: []s3types.Transition{{Days: aws.Int32(30), StorageClass: s3types.TransitionStorageClassGlacier}}}}, Want: judgment.OK, Before: "kept, PASS"},
	{Name: "tag filter on every key", Rules: []s3types.LifecycleRule{rule("tagged", &s3types.LifecycleRuleFilter{Tag: &s3types.Tag{Key: aws.String("expire"), Value: aws.String("yes")}}, days(1))},
		Want: judgment.CannotTell, Before: "respond removed, reconcile removed, check FAIL"},
	{Name: "prefix and tag on an unrelated prefix", Rules: []s3types.LifecycleRule{rule("tmp-tagged", &s3types.LifecycleRuleFilter{And: &s3types.LifecycleRuleAndOperator{
		Prefix: aws.String("tmp/"), Tags: []s3types.Tag{{Key: aws.String("expire"), Value: aws.String("yes")}}}}, days(1))}, Want: judgment.OK,
		Before: "respond removed, reconcile removed, check PASS"},
	{Name: "early rule among unrelated ones", Rules: []s3types.LifecycleRule{rule("tmp", prefix("tmp/"), days(1)), rule("logs", prefix(""), days(90)), rule("keep", prefix(""), days(800))},
		Want: judgment.Harmful, Culprits: []int{1}, Before: "respond removed tmp and logs, check FAIL"},
}

// EventLifecycle renders rules as CloudTrail records a PutBucketLifecycle's
// LifecycleConfiguration (S3's XML as JSON: numbers as strings, one rule as
// an object), so the responder's cases come from the same table.
func EventLifecycle(rules []s3types.LifecycleRule) json.RawMessage {
	var out []map[string]any
	for _, r := range rules {
		m := map[string]any{"ID": aws.ToString(r.ID), "Status": string(r.Status)}
		//lint:ignore SA1019 the legacy rule-level prefix is part of the cases
		if r.Prefix != nil {
			m["Prefix"] = aws.ToString(r.Prefix) //lint:ignore SA1019 as above
		}
		if f := r.Filter; f != nil {
			fm := map[string]any{}
			if f.Prefix != nil {
				fm["Prefix"] = *f.Prefix
			}
			if f.Tag != nil {
				fm["Tag"] = map[string]string{"Key": aws.ToString(f.Tag.Key), "Value": aws.ToString(f.Tag.Value)}
			}
			if a := f.And; a != nil {
				am := map[string]any{"Prefix": aws.ToString(a.Prefix)}
				var tags []map[string]string
				for _, t := range a.Tags {
					tags = append(tags, map[string]string{"Key": aws.ToString(t.Key), "Value": aws.ToString(t.Value)})
				}
				am["Tag"] = tags
				fm["And"] = am
			}
			m["Filter"] = fm
		}
		if e := r.Expiration; e != nil {
			em := map[string]any{}
			if e.Days != nil {
				em["Days"] = strconv.Itoa(int(*e.Days))
			}
			if e.Date != nil {
				em["Date"] = e.Date.Format("2006-01-02T15:04:05.000Z")
			}
			if e.ExpiredObjectDeleteMarker != nil {
				em["ExpiredObjectDeleteMarker"] = strconv.FormatBool(*e.ExpiredObjectDeleteMarker)
			}
			m["Expiration"] = em
		}
		if n := r.NoncurrentVersionExpiration; n != nil {
			m["NoncurrentVersionExpiration"] = map[string]any{"NoncurrentDays": strconv.Itoa(int(aws.ToInt32(n.NoncurrentDays)))}
		}
		for _, t := range r.Transitions {
			m["Transition"] = map[string]any{"Days": strconv.Itoa(int(aws.ToInt32(t.Days))), "StorageClass": string(t.StorageClass)}
		}
		out = append(out, m)
	}
	var rule any = out
	if len(out) == 1 {
		rule = out[0]
	}
	b, _ := json.Marshal(map[string]any{"xmlns": "http://s3.amazonaws.com/doc/2006-03-01/", "Rule": rule})
	return b
}
