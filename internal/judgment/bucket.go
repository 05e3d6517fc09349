package judgment

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/trailguard/trailguard/internal/policy"
	"github.com/trailguard/trailguard/internal/trail"
)

// CloudTrailPrincipal is the service principal CloudTrail delivers as.
const CloudTrailPrincipal = "cloudtrail.amazonaws.com"

// Delivery is where CloudTrail writes: the bucket, the key prefix and the
// trails (their ARNs) that write there.
type Delivery struct {
	Bucket string
	Prefix string
	Trails []string
}

// LogsARN is the objects CloudTrail writes for account, as IAM names them:
// arn:aws:s3:::<bucket>/<prefix>/AWSLogs/<account>/*.
func (d Delivery) LogsARN(account string) string {
	return "arn:aws:s3:::" + d.Bucket + "/" + LogPrefix(d.Prefix) + account + "/*"
}

// Deliveries groups the trails writing to one bucket by their key prefix:
// prefixes[i] is trails[i]'s s3KeyPrefix, and a nil prefixes means none has
// one. The result is in the order prefixes first appear.
func Deliveries(bucket string, trails, prefixes []string) []Delivery {
	var out []Delivery
	for i, arn := range trails {
		p := ""
		if i < len(prefixes) {
			p = strings.Trim(prefixes[i], "/")
		}
		j := slices.IndexFunc(out, func(d Delivery) bool { return d.Prefix == p })
		if j < 0 {
			out = append(out, Delivery{Bucket: bucket, Prefix: p})
			j = len(out) - 1
		}
		out[j].Trails = append(out[j].Trails, arn)
	}
	if len(out) == 0 {
		out = []Delivery{{Bucket: bucket}}
	}
	return out
}

// BucketPolicyFor judges a policy for every delivery into one bucket (the
// trails writing under different prefixes): the worst judgment decides.
func BucketPolicyFor(doc []byte, ds []Delivery) Judgment {
	js := make([]Judgment, 0, len(ds))
	for _, d := range ds {
		js = append(js, BucketPolicy(doc, d))
	}
	return Worst(js...)
}

// LogPrefix is the key prefix under which a trail with s3KeyPrefix writes:
// "<prefix>/AWSLogs/" or "AWSLogs/".
func LogPrefix(s3KeyPrefix string) string {
	if p := strings.Trim(s3KeyPrefix, "/"); p != "" {
		return p + "/AWSLogs/"
	}
	return "AWSLogs/"
}

// notFromServices are condition keys documented as absent from requests
// an AWS service principal makes on its own behalf.
var notFromServices = []string{
	"aws:PrincipalOrgID", "aws:PrincipalOrgPaths", "aws:PrincipalArn", "aws:PrincipalAccount",
	"aws:SourceIp", "aws:SourceVpc", "aws:SourceVpce", "aws:VpcSourceIp", "aws:userid", "aws:username",
	"aws:MultiFactorAuthPresent", "aws:MultiFactorAuthAge", "aws:TokenIssueTime", "aws:ViaAWSService",
	"kms:ViaService",
}

// cloudTrailRequest is a request CloudTrail makes for the trail trailARN: the
// condition keys CloudTrail sets (TLS, its source, the ACL it asks for).
func cloudTrailRequest(action, resource, trailARN string, extra map[string][]string) policy.Request {
	a, _ := trail.ParseARN(trailARN)
	ctx := map[string][]string{
		"aws:SourceArn":             {trailARN},
		"aws:SourceAccount":         {a.Account},
		"aws:SecureTransport":       {"true"},
		"aws:PrincipalIsAWSService": {"true"},
		"aws:PrincipalServiceName":  {CloudTrailPrincipal},
	}
	for k, v := range extra {
		ctx[k] = v
	}
	return policy.Request{
		Principal: policy.Principal{Service: CloudTrailPrincipal},
		Action:    action, Resource: resource, Context: ctx, Absent: notFromServices,
	}
}

// deliveryRequests are the calls CloudTrail makes to deliver a log file for
// one trail: GetBucketAcl on the bucket, then PutObject of a log file under
// the trail's prefix (with the bucket-owner-full-control ACL).
func deliveryRequests(d Delivery, trailARN string) []policy.Request {
	a, _ := trail.ParseARN(trailARN)
	object := "arn:aws:s3:::" + d.Bucket + "/" + LogPrefix(d.Prefix) + a.Account + "/CloudTrail/" + a.Region +
		"/2026/01/01/" + a.Account + "_CloudTrail_" + a.Region + "_20260101T0000Z_trailguard.json.gz"
	return []policy.Request{
		cloudTrailRequest("s3:GetBucketAcl", "arn:aws:s3:::"+d.Bucket, trailARN, nil),
		cloudTrailRequest("s3:PutObject", object, trailARN, map[string][]string{"s3:x-amz-acl": {"bucket-owner-full-control"}}),
	}
}

// foreignTrail is a trail of another account, as a confused deputy would
// use: same name and region, another account.
func foreignTrail(trailARN string) string {
	a, _ := trail.ParseARN(trailARN)
	other := "222222222222"
	if a.Account == other {
		other = "111111111111"
	}
	return "arn:aws:cloudtrail:" + a.Region + ":" + other + ":trail/" + strings.TrimPrefix(a.Resource, "trail/")
}

// BucketPolicy judges a bucket policy (empty for none): may every trail in d
// deliver, and only this account's trails? Harmful's culprits are the deny
// statements that stop delivery (none when a grant is missing); Unscoped's
// are the statements that would let another account's trail write.
func BucketPolicy(doc []byte, d Delivery) Judgment {
	if len(strings.TrimSpace(string(doc))) == 0 {
		return Judgment{Verdict: Harmful, Reason: "the bucket has no policy: CloudTrail cannot deliver"}
	}
	p, err := policy.Parse(doc)
	if err != nil && err != policy.ErrNoStatement {
		return Judgment{Verdict: CannotTell, Reason: "the bucket policy cannot be read: " + err.Error()}
	}
	if len(d.Trails) == 0 {
		return Judgment{Verdict: CannotTell, Reason: "no trail known to write to bucket " + d.Bucket}
	}
	out := Judgment{Verdict: OK}
	var reasons []string
	add := func(v Verdict, reason string, culprits []policy.Match) {
		if worse(v, out.Verdict) {
			out.Verdict, reasons, out.Culprits = v, nil, nil
		}
		if v == out.Verdict {
			reasons = appendNew(reasons, reason)
			for _, m := range culprits {
				if !slices.Contains(out.Culprits, m.Index) {
					out.Culprits = append(out.Culprits, m.Index)
				}
			}
		}
	}
	for _, arn := range d.Trails {
		for _, req := range deliveryRequests(d, arn) {
			dec := policy.Evaluate(p, req)
			what := fmt.Sprintf("CloudTrail %s for %s", req.Action, trailName(arn))
			switch dec.Result {
			case policy.Deny:
				add(Harmful, what+" "+dec.Reason(), dec.Denies)
			case policy.ImplicitDeny:
				add(Harmful, "no statement allows "+what, nil)
			case policy.CannotTell:
				add(CannotTell, what+": "+dec.Reason(), nil)
			case policy.Allow:
				// Scoping: would the same write from another account's trail
				// be allowed too?
				if req.Action != "s3:PutObject" {
					continue
				}
				probe := req
				other := foreignTrail(arn)
				probe.Context = map[string][]string{}
				for k, v := range req.Context {
					probe.Context[k] = v
				}
				probe.Context["aws:SourceArn"] = []string{other}
				probe.Context["aws:SourceAccount"] = []string{accountOf(other)}
				switch pd := policy.Evaluate(p, probe); pd.Result {
				case policy.Allow:
					add(Unscoped, "the CloudTrail grant ("+pd.Reason()+") has no aws:SourceArn or aws:SourceAccount condition: any account's trail may write", pd.Allows)
				case policy.CannotTell:
					add(CannotTell, "whether the CloudTrail grant is scoped to this account's trails: "+pd.Reason(), nil)
				}
			}
		}
	}
	out.Reason = strings.Join(reasons, "; ")
	if out.Verdict == OK {
		out.Reason = "cloudtrail.amazonaws.com may deliver, scoped to this account's trails (aws:SourceArn or aws:SourceAccount)"
	}
	slices.Sort(out.Culprits)
	return out
}

// RepairBucketPolicy returns the policy with the statements that stop
// delivery removed (the culprits of a Harmful judgment, and any statement
// trailguard wrote before, by its Sid prefix), every other statement kept
// as written, and CloudTrail's grants put back for every delivery, scoped by
// aws:SourceArn, for account. A deny of plain HTTP is added when the policy
// has none. It fails when the repaired policy would still not let CloudTrail
// deliver (an undecidable statement remains): then a person must look.
func RepairBucketPolicy(doc []byte, account string, ds ...Delivery) (string, error) {
	if len(ds) == 0 {
		return "", fmt.Errorf("repair bucket policy: no delivery to restore")
	}
	j := BucketPolicyFor(doc, ds)
	var keep []json.RawMessage
	version, id := "2012-10-17", ""
	if len(strings.TrimSpace(string(doc))) > 0 {
		p, err := policy.Parse(doc)
		if err != nil && err != policy.ErrNoStatement {
			return "", fmt.Errorf("repair bucket policy: %w", err)
		}
		if p.ID != "" {
			id = p.ID
		}
		for i, s := range p.Statements {
			if (j.Verdict == Harmful && slices.Contains(j.Culprits, i)) || strings.HasPrefix(s.Sid, trailguardSid) {
				continue
			}
			keep = append(keep, s.Raw)
		}
	}
	keep = append(keep, cloudTrailStatements(ds, account)...)
	out, err := policy.Encode(version, id, keep)
	if err != nil {
		return "", err
	}
	if !deniesPlainHTTP(out, ds[0]) {
		keep = append(keep, denyInsecureTransport(ds[0].Bucket))
		if out, err = policy.Encode(version, id, keep); err != nil {
			return "", err
		}
	}
	if after := BucketPolicyFor(out, ds); after.Verdict != OK && after.Verdict != Unscoped {
		return "", fmt.Errorf("repair bucket policy: the repaired policy would still not let CloudTrail deliver (%s): review it by hand", after.Reason)
	}
	return string(out), nil
}

const trailguardSid = "Trailguard"

// cloudTrailStatements are the grants CloudTrail needs on its bucket
// (CloudTrail User Guide, "Amazon S3 bucket policy for CloudTrail"), scoped
// to the trails writing there by aws:SourceArn: the ACL check for every
// trail, and each prefix's writes for the trails writing under it.
func cloudTrailStatements(ds []Delivery, account string) []json.RawMessage {
	var all []string
	for _, d := range ds {
		all = append(all, d.Trails...)
	}
	principal := map[string]string{"Service": CloudTrailPrincipal}
	out := []json.RawMessage{mustJSON(map[string]any{
		"Sid": trailguardSid + "CloudTrailAclCheck", "Effect": "Allow", "Principal": principal,
		"Action": "s3:GetBucketAcl", "Resource": "arn:aws:s3:::" + ds[0].Bucket,
		"Condition": map[string]any{"StringEquals": map[string]any{"aws:SourceArn": all}},
	})}
	for i, d := range ds {
		sid := trailguardSid + "CloudTrailWrite"
		if i > 0 {
			sid += fmt.Sprint(i + 1)
		}
		out = append(out, mustJSON(map[string]any{
			"Sid": sid, "Effect": "Allow", "Principal": principal,
			"Action": "s3:PutObject", "Resource": d.LogsARN(account),
			"Condition": map[string]any{"StringEquals": map[string]any{"aws:SourceArn": d.Trails, "s3:x-amz-acl": "bucket-owner-full-control"}},
		}))
	}
	return out
}

func denyInsecureTransport(bucket string) json.RawMessage {
	return mustJSON(map[string]any{
		"Sid": trailguardSid + "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
		"Resource":  []string{"arn:aws:s3:::" + bucket, "arn:aws:s3:::" + bucket + "/*"},
		"Condition": map[string]any{"Bool": map[string]string{"aws:SecureTransport": "false"}},
	})
}

// deniesPlainHTTP reports whether the policy denies CloudTrail's write when
// made without TLS: the sign of a TLS-only statement.
func deniesPlainHTTP(doc []byte, d Delivery) bool {
	p, err := policy.Parse(doc)
	if err != nil || len(d.Trails) == 0 {
		return false
	}
	req := deliveryRequests(d, d.Trails[0])[1]
	req.Context["aws:SecureTransport"] = []string{"false"}
	return policy.Evaluate(p, req).Result == policy.Deny
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only maps of strings: cannot fail
	}
	return b
}

func trailName(arn string) string {
	if a, ok := trail.ParseARN(arn); ok {
		return strings.TrimPrefix(a.Resource, "trail/")
	}
	return arn
}

func accountOf(arn string) string {
	a, _ := trail.ParseARN(arn)
	return a.Account
}

func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}
