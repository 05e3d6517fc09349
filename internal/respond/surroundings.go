package respond

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/trailguard/trailguard/internal/catalog"
	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/trail"
)

// This file classifies the events on what a trail depends on (its bucket,
// key and log group, the organization) and on trailguard itself (its rules,
// function, topic and role). Such calls are tampering only on the protected
// resources; the same call on any other bucket or key is logged and ignored.

// surroundingTarget fills the target of a non-trail event: its ID, and
// whether it is one trailguard protects.
func surroundingTarget(t *Target, r trail.Record, p params, s config.Settings) {
	switch t.Kind {
	case catalog.Bucket:
		t.ID = p.BucketName
		for _, b := range s.Trails {
			if b.S3BucketName != "" && b.S3BucketName == p.BucketName {
				t.Protected = true
				t.Trails = append(t.Trails, trailARN(b, r))
				t.KeyPrefix = deref(b.S3KeyPrefix)
			}
		}
	case catalog.Key:
		t.ID = p.KeyID
		if a, ok := trail.ParseARN(p.KeyID); ok && a.Region != "" {
			t.Region = a.Region
		}
		for _, b := range s.Trails {
			if b.KmsKeyID != nil && keyID(*b.KmsKeyID) == keyID(p.KeyID) {
				t.Protected = true
			}
		}
	case catalog.LogGroup:
		t.ID = p.LogGroupName
		for _, b := range s.Trails {
			if b.CloudWatchLogsLogGroupArn != nil && logGroupName(*b.CloudWatchLogsLogGroupArn) == p.LogGroupName {
				t.Protected = true
			}
		}
	case catalog.Organization:
		t.ID = "account " + r.RecipientAccountID
		t.Protected = true
	case catalog.EventRule:
		t.ID = firstNonEmpty(p.Rule, p.Name)
		t.Protected = slices.Contains(s.Rules, t.ID) || slices.Contains(s.Rules, lastSegment(t.ID))
	case catalog.Function:
		t.ID = p.FunctionName
		t.Protected = s.FunctionName != "" && functionName(p.FunctionName) == s.FunctionName
	case catalog.Topic:
		t.ID = firstNonEmpty(p.TopicArn, p.SubscriptionArn)
		t.Protected = p.TopicArn == s.TopicARN || (p.SubscriptionArn != "" && strings.HasPrefix(p.SubscriptionArn, s.TopicARN+":"))
	case catalog.Role:
		t.ID = p.RoleName
		t.Protected = p.RoleName != "" && p.RoleName == trail.RoleName(s.SelfRoleARN)
	}
}

// surroundingChanges judges calls whose content decides whether they are
// tampering: a lifecycle rule, a bucket policy, a key policy. It reports
// whether the entry is judged by content at all.
func surroundingChanges(e catalog.Entry, p params, s config.Settings) ([]Change, bool) {
	switch {
	case e.Source == "s3.amazonaws.com" && e.Name == "PutBucketLifecycle":
		return lifecycleChanges(p.LifecycleConfiguration, s.MinRetentionDays), true
	case e.Source == "s3.amazonaws.com" && e.Name == "PutBucketPolicy":
		if why := blocksCloudTrail(p.BucketPolicy, "s3:PutObject"); why != "" {
			return []Change{{Field: "bucketPolicy", Now: why, Want: "grants cloudtrail.amazonaws.com s3:PutObject", Fixable: true}}, true
		}
		return nil, true
	case e.Source == "kms.amazonaws.com" && e.Name == "PutKeyPolicy":
		if why := blocksCloudTrail(json.RawMessage(p.Policy), "kms:GenerateDataKey*"); why != "" {
			return []Change{{Field: "keyPolicy", Now: why, Want: "grants cloudtrail.amazonaws.com kms:GenerateDataKey*", Fixable: false}}, true
		}
		return nil, true
	}
	return nil, false
}

// lifecycleChanges reports enabled rules that expire objects sooner than min
// days. S3's XML becomes JSON in CloudTrail: Rule is an object or a list and
// numbers may be strings.
func lifecycleChanges(raw json.RawMessage, min int) []Change {
	var cfg struct {
		Rule json.RawMessage `json:"Rule"`
	}
	if json.Unmarshal(raw, &cfg) != nil {
		return nil
	}
	var rules []map[string]any
	if json.Unmarshal(cfg.Rule, &rules) != nil {
		var one map[string]any
		if json.Unmarshal(cfg.Rule, &one) != nil {
			return nil
		}
		rules = []map[string]any{one}
	}
	var out []Change
	for _, r := range rules {
		if fmt.Sprint(r["Status"]) != "Enabled" {
			continue
		}
		id := fmt.Sprint(r["ID"])
		if d, ok := days(r["Expiration"], "Days"); ok && d < min {
			out = append(out, Change{Field: "lifecycle rule " + id, Now: fmt.Sprintf("expires logs after %d days", d), Want: fmt.Sprintf("at least %d days", min), Fixable: true})
		}
		if d, ok := days(r["NoncurrentVersionExpiration"], "NoncurrentDays"); ok && d < min {
			out = append(out, Change{Field: "lifecycle rule " + id, Now: fmt.Sprintf("expires old log versions after %d days", d), Want: fmt.Sprintf("at least %d days", min), Fixable: true})
		}
	}
	return out
}

func days(v any, field string) (int, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return 0, false
	}
	switch d := m[field].(type) {
	case float64:
		return int(d), true
	case string:
		n, err := strconv.Atoi(d)
		return n, err == nil
	}
	return 0, false
}

// statement is one IAM policy statement, with the shapes AWS allows
// (a string or a list; "*" or a map of principals).
type statement struct {
	Sid       string          `json:"Sid,omitempty"`
	Effect    string          `json:"Effect"`
	Principal json.RawMessage `json:"Principal,omitempty"`
	Action    json.RawMessage `json:"Action,omitempty"`
	Resource  json.RawMessage `json:"Resource,omitempty"`
	Condition json.RawMessage `json:"Condition,omitempty"`
}

type policy struct {
	Version   string      `json:"Version,omitempty"`
	ID        string      `json:"Id,omitempty"`
	Statement []statement `json:"Statement"`
}

func parsePolicy(raw json.RawMessage) (policy, bool) {
	var p policy
	if len(raw) == 0 {
		return p, false
	}
	if json.Unmarshal(raw, &p) == nil {
		return p, true
	}
	var one struct {
		Version   string    `json:"Version"`
		Statement statement `json:"Statement"`
	}
	if json.Unmarshal(raw, &one) == nil {
		return policy{Version: one.Version, Statement: []statement{one.Statement}}, true
	}
	return p, false
}

func stringsOf(raw json.RawMessage) []string {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}
	}
	var many []string
	_ = json.Unmarshal(raw, &many)
	return many
}

// principals returns the statement's service principals, and whether it
// applies to everyone ("*").
func (s statement) principals() (services []string, everyone bool) {
	if p := stringsOf(s.Principal); len(p) == 1 && p[0] == "*" {
		return nil, true
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(s.Principal, &m) != nil {
		return nil, false
	}
	for _, a := range stringsOf(m["AWS"]) {
		if a == "*" {
			everyone = true
		}
	}
	return stringsOf(m["Service"]), everyone
}

// covers reports whether the statement's actions include action. IAM action
// names are case-insensitive globs ("*", "s3:*", "kms:GenerateDataKey*"); the
// action asked about may be a glob too (kms:GenerateDataKey* stands for the
// calls CloudTrail makes), so either side may match the other.
func (s statement) covers(action string) bool {
	action = strings.ToLower(action)
	for _, a := range stringsOf(s.Action) {
		a = strings.ToLower(a)
		if config.Glob(a, action) || config.Glob(action, a) {
			return true
		}
	}
	return false
}

const cloudTrailPrincipal = "cloudtrail.amazonaws.com"

// blocksCloudTrail says why a resource policy stops CloudTrail from doing
// action, or "" when CloudTrail is granted it. A deny that only requires TLS
// (aws:SecureTransport) does not count: CloudTrail uses TLS.
func blocksCloudTrail(raw json.RawMessage, action string) string {
	p, ok := parsePolicy(raw)
	if !ok {
		return "no policy"
	}
	granted := false
	for _, st := range p.Statement {
		services, everyone := st.principals()
		forCloudTrail := everyone || slices.Contains(services, cloudTrailPrincipal)
		if !forCloudTrail || !st.covers(action) {
			continue
		}
		switch st.Effect {
		case "Deny":
			if !strings.Contains(string(st.Condition), "aws:SecureTransport") {
				return "denies CloudTrail " + action
			}
		case "Allow":
			if slices.Contains(services, cloudTrailPrincipal) {
				granted = true
			}
		}
	}
	if !granted {
		return "no grant for CloudTrail " + action
	}
	return ""
}

// trailARN is the ARN of a baseline trail (its name may already be one).
func trailARN(b trail.Config, r trail.Record) string {
	ref := trail.ParseTrailRef(b.Name)
	if ref.Region != "" {
		return b.Name
	}
	region := firstNonEmpty(b.HomeRegion, r.AWSRegion)
	return "arn:aws:cloudtrail:" + region + ":" + r.RecipientAccountID + ":trail/" + ref.Name
}

// keyID reduces a key ARN or ID to the key ID (aliases stay as they are).
func keyID(s string) string {
	if a, ok := trail.ParseARN(s); ok {
		return strings.TrimPrefix(a.Resource, "key/")
	}
	return s
}

// logGroupName takes the name from a log group ARN
// (arn:aws:logs:region:account:log-group:NAME[:*]).
func logGroupName(arn string) string {
	a, ok := trail.ParseARN(arn)
	if !ok {
		return arn
	}
	name := strings.TrimPrefix(a.Resource, "log-group:")
	return strings.TrimSuffix(name, ":*")
}

// functionName takes the name from a function name or ARN.
func functionName(s string) string {
	if a, ok := trail.ParseARN(s); ok {
		name := strings.TrimPrefix(a.Resource, "function:")
		name, _, _ = strings.Cut(name, ":")
		return name
	}
	return s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// canonicalBucketStatements are the statements CloudTrail needs on its
// bucket, scoped to the trails that write there (aws:SourceArn).
func canonicalBucketStatements(bucket, prefix, account string, trails []string) []statement {
	logs := "arn:aws:s3:::" + bucket + "/"
	if prefix != "" {
		logs += strings.Trim(prefix, "/") + "/"
	}
	logs += "AWSLogs/" + account + "/*"
	src, _ := json.Marshal(map[string]any{"aws:SourceArn": trails})
	cond := func(extra string) json.RawMessage {
		if extra == "" {
			return json.RawMessage(`{"StringEquals":` + string(src) + `}`)
		}
		return json.RawMessage(`{"StringEquals":` + strings.TrimSuffix(string(src), "}") + `,` + extra + `}}`)
	}
	principal := json.RawMessage(`{"Service":"` + cloudTrailPrincipal + `"}`)
	return []statement{
		{Sid: "TrailguardCloudTrailAclCheck", Effect: "Allow", Principal: principal, Action: json.RawMessage(`"s3:GetBucketAcl"`),
			Resource: json.RawMessage(`"arn:aws:s3:::` + bucket + `"`), Condition: cond("")},
		{Sid: "TrailguardCloudTrailWrite", Effect: "Allow", Principal: principal, Action: json.RawMessage(`"s3:PutObject"`),
			Resource: json.RawMessage(`"` + logs + `"`), Condition: cond(`"s3:x-amz-acl":"bucket-owner-full-control"`)},
	}
}

// denyInsecureTransport is the TLS-only statement every trail bucket keeps.
func denyInsecureTransport(bucket string) statement {
	return statement{Sid: "TrailguardDenyInsecureTransport", Effect: "Deny", Principal: json.RawMessage(`"*"`), Action: json.RawMessage(`"s3:*"`),
		Resource:  json.RawMessage(`["arn:aws:s3:::` + bucket + `","arn:aws:s3:::` + bucket + `/*"]`),
		Condition: json.RawMessage(`{"Bool":{"aws:SecureTransport":"false"}}`)}
}

// repairedBucketPolicy keeps every statement of the current policy except
// those that stop CloudTrail, and adds CloudTrail's grants (and the TLS-only
// deny when there was none).
func repairedBucketPolicy(current json.RawMessage, a Action) (string, error) {
	p, ok := parsePolicy(current)
	if !ok {
		p = policy{}
	}
	p.Version = "2012-10-17"
	hasTLS := false
	kept := p.Statement[:0]
	for _, st := range p.Statement {
		if strings.HasPrefix(st.Sid, "Trailguard") {
			continue
		}
		services, everyone := st.principals()
		blocks := st.Effect == "Deny" && (everyone || slices.Contains(services, cloudTrailPrincipal)) &&
			(st.covers("s3:PutObject") || st.covers("s3:GetBucketAcl"))
		if blocks && strings.Contains(string(st.Condition), "aws:SecureTransport") {
			hasTLS, blocks = true, false
		}
		if !blocks {
			kept = append(kept, st)
		}
	}
	p.Statement = append(kept, canonicalBucketStatements(a.Bucket, a.KeyPrefix, a.Account, a.SourceARNs)...)
	if !hasTLS {
		p.Statement = append(p.Statement, denyInsecureTransport(a.Bucket))
	}
	b, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("encode bucket policy: %w", err)
	}
	return string(b), nil
}
