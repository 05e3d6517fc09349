package guardrails_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/trailguard/trailguard/internal/catalog"
	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/guardrails"
	"github.com/trailguard/trailguard/internal/policy"
)

const (
	responder = "arn:aws:iam::123456789012:role/trailguard-responder"
	member    = "arn:aws:iam::111111111111:role/trailguard-member"
	mallory   = "arn:aws:iam::123456789012:user/mallory"
	trailARN  = "arn:aws:cloudtrail:us-east-1:123456789012:trail/management-trail"
	bucketARN = "arn:aws:s3:::trailguard-logs-123456789012"
	keyARN    = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
)

// full protects everything there is to protect.
func full() guardrails.Input {
	return guardrails.Input{
		Account: "123456789012", Region: "us-east-1",
		Trails: []guardrails.Trail{{
			Name: "management-trail", Bucket: "trailguard-logs-123456789012",
			Key:      keyARN,
			LogGroup: "arn:aws:logs:us-east-1:123456789012:log-group:trail-logs:*",
		}},
		EventDataStores:  []string{"arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE"},
		Rules:            []string{"trailguard-cloudtrail-1a2b3c4d"},
		Functions:        []string{"trailguard-responder"},
		Topics:           []string{"trailguard-alerts"},
		ResponderRoleARN: responder,
		MemberRoleARN:    member,
		Allow:            []string{"arn:aws:sts::123456789012:assumed-role/break-glass/alice", "arn:aws:iam::123456789012:user/ops-*"},
	}
}

func generate(t *testing.T, in guardrails.Input) guardrails.Result {
	t.Helper()
	r, err := guardrails.Generate(in)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return r
}

var (
	actionName = regexp.MustCompile(`^[a-z0-9-]+:[A-Z][A-Za-z]+$`)
	sidName    = regexp.MustCompile(`^[A-Za-z0-9]+$`)
)

// The documents follow the SCP/RCP grammar: JSON with exactly the allowed
// elements, Version 2012-10-17, Deny statements with action and resource
// lists and operator → key → value conditions; RCPs with Principal "*",
// SCPs without Principal; minified and under the size limit.
func TestPolicyGrammarAndSize(t *testing.T) {
	r := generate(t, full())
	types := map[guardrails.Type]int{}
	for _, p := range r.Policies {
		types[p.Type]++
	}
	if types[guardrails.SCP] == 0 || types[guardrails.RCP] != 1 {
		t.Fatalf("want SCPs and one RCP, got %v", types)
	}
	for _, p := range r.Policies {
		if p.Type != guardrails.SCP && p.Type != guardrails.RCP {
			t.Errorf("%s: type %q", p.Name, p.Type)
		}
		if len(p.Document) > guardrails.MaxPolicySize {
			t.Errorf("%s: %d characters, limit %d", p.Name, len(p.Document), guardrails.MaxPolicySize)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, p.Document); err != nil {
			t.Fatalf("%s: not JSON: %v", p.Name, err)
		}
		if compact.String() != string(p.Document) {
			t.Errorf("%s: not minified", p.Name)
		}
		var doc map[string]any
		if err := json.Unmarshal(p.Document, &doc); err != nil {
			t.Fatal(err)
		}
		if len(doc) != 2 || doc["Version"] != "2012-10-17" {
			t.Errorf("%s: top level %v, want Version 2012-10-17 and Statement", p.Name, keys(doc))
		}
		sts, ok := doc["Statement"].([]any)
		if !ok || len(sts) == 0 {
			t.Fatalf("%s: Statement is not a non-empty list", p.Name)
		}
		sids := map[string]bool{}
		for _, s := range sts {
			st := s.(map[string]any)
			sid, _ := st["Sid"].(string)
			if !sidName.MatchString(sid) || sids[sid] {
				t.Errorf("%s: Sid %q missing, not alphanumeric or repeated", p.Name, sid)
			}
			sids[sid] = true
			for k := range st {
				if !slices.Contains([]string{"Sid", "Effect", "Principal", "Action", "Resource", "Condition"}, k) {
					t.Errorf("%s %s: element %q", p.Name, sid, k)
				}
			}
			if st["Effect"] != "Deny" {
				t.Errorf("%s %s: Effect %v", p.Name, sid, st["Effect"])
			}
			switch p.Type {
			case guardrails.RCP:
				if st["Principal"] != "*" {
					t.Errorf("%s %s: RCP Principal %v, must be \"*\"", p.Name, sid, st["Principal"])
				}
			case guardrails.SCP:
				if _, ok := st["Principal"]; ok {
					t.Errorf("%s %s: SCPs take no Principal", p.Name, sid)
				}
			}
			for _, a := range strings1(t, st["Action"]) {
				if !actionName.MatchString(a) {
					t.Errorf("%s %s: action %q", p.Name, sid, a)
				}
				if p.Type == guardrails.RCP && !slices.Contains([]string{"s3", "sts", "kms", "sqs", "secretsmanager"}, strings.Split(a, ":")[0]) {
					t.Errorf("%s %s: RCPs do not support %s", p.Name, sid, a)
				}
			}
			for _, res := range strings1(t, st["Resource"]) {
				if res != "*" && !strings.HasPrefix(res, "arn:aws:") {
					t.Errorf("%s %s: resource %q", p.Name, sid, res)
				}
			}
			cond, ok := st["Condition"].(map[string]any)
			if !ok {
				t.Fatalf("%s %s: no Condition: nobody would be exempt", p.Name, sid)
			}
			for op, kv := range cond {
				for k, v := range kv.(map[string]any) {
					switch v.(type) {
					case string, []any:
					default:
						t.Errorf("%s %s: %s %s: value %T", p.Name, sid, op, k, v)
					}
				}
			}
		}
	}
}

// Every denied action is one the catalog's IAM action map names, and every
// tampering row the map can deny is denied on the resource it protects.
func TestEveryActionComesFromTheCatalogMap(t *testing.T) {
	known := map[string]bool{}
	for _, e := range catalog.All() {
		p, _ := catalog.IAMPermission(e)
		for _, a := range p.Actions {
			known[a] = true
		}
	}
	r := generate(t, full())
	for _, p := range r.Policies {
		for _, st := range statements(t, p) {
			for _, a := range st.Action {
				if !known[a] {
					t.Errorf("%s %s denies %q, which the catalog's IAM action map does not name", p.Name, st.Sid, a)
				}
			}
		}
	}
	targets := map[catalog.Resource]string{
		catalog.Trail: trailARN, catalog.Bucket: bucketARN, catalog.Key: keyARN,
		catalog.LogGroup:       "arn:aws:logs:us-east-1:123456789012:log-group:trail-logs",
		catalog.EventDataStore: "arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE",
		catalog.EventRule:      "arn:aws:events:us-east-1:123456789012:rule/trailguard-cloudtrail-1a2b3c4d",
		catalog.Function:       "arn:aws:lambda:us-east-1:123456789012:function:trailguard-responder",
		catalog.Topic:          "arn:aws:sns:us-east-1:123456789012:trailguard-alerts",
		catalog.Role:           responder,
		catalog.Organization:   "*",
	}
	for _, e := range catalog.All() {
		if !e.Tamper() {
			continue
		}
		p, _ := catalog.IAMPermission(e)
		for _, a := range p.Actions {
			got := denied(t, r, guardrails.SCP, mallory, a, targets[e.Resource])
			if p.NoDeny != "" {
				if got {
					t.Errorf("%s: denied although the map says %q", a, p.NoDeny)
				}
				if !containsText(r.Unprotected, a) {
					t.Errorf("%s: not denied and not listed as unprotected", a)
				}
				continue
			}
			if !got {
				t.Errorf("%s on %s: not denied to an intruder", a, targets[e.Resource])
			}
		}
	}
	// The call on anything else is not the guardrail's business.
	if denied(t, r, guardrails.SCP, mallory, "cloudtrail:StopLogging", "arn:aws:cloudtrail:us-east-1:123456789012:trail/someone-elses") {
		t.Error("StopLogging denied on a trail that is not protected")
	}
	// The bucket and key are protected by an RCP too, against any account.
	if !denied(t, r, guardrails.RCP, "arn:aws:iam::222222222222:role/outsider", "s3:PutLifecycleConfiguration", bucketARN) {
		t.Error("the RCP does not deny another account's PutLifecycleConfiguration on the trail bucket")
	}
	if !denied(t, r, guardrails.RCP, "arn:aws:iam::222222222222:role/outsider", "kms:ScheduleKeyDeletion", keyARN) {
		t.Error("the RCP does not deny another account's ScheduleKeyDeletion on the trail key")
	}
}

// No restore action is denied to anyone, except the restores that are
// tampering too, which stay open to the responder (and the other exempt).
func TestNoRestoreActionIsDenied(t *testing.T) {
	r := generate(t, full())
	resources := []string{trailARN, bucketARN, keyARN, "arn:aws:logs:us-east-1:123456789012:log-group:trail-logs",
		"arn:aws:events:us-east-1:123456789012:rule/trailguard-cloudtrail-1a2b3c4d",
		"arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE"}
	seen := 0
	for _, e := range catalog.All() {
		for _, a := range catalog.RestoreActions(e.Response) {
			seen++
			for _, res := range resources {
				for _, typ := range []guardrails.Type{guardrails.SCP, guardrails.RCP} {
					if denied(t, r, typ, responder, a, res) {
						t.Errorf("%s (restore of %s) denied to the responder on %s", a, e.Name, res)
					}
					if !slices.Contains(r.Reserved, a) && denied(t, r, typ, mallory, a, res) {
						t.Errorf("%s (restore of %s) denied on %s although it is not tampering", a, e.Name, res)
					}
				}
			}
		}
	}
	for _, a := range []string{"cloudtrail:StartLogging", "kms:EnableKey", "kms:CancelKeyDeletion", "events:EnableRule", "logs:CreateLogGroup", "cloudtrail:RestoreEventDataStore"} {
		if !slices.Contains(r.NeverDenied, a) {
			t.Errorf("%s not reported as never denied: %v", a, r.NeverDenied)
		}
	}
	if seen < 10 {
		t.Fatalf("only %d restore actions enumerated", seen)
	}
}

// Every statement exempts the responder, the member role, the allow list
// (a session's role, with and without a path) and the deployment roles.
func TestExemptions(t *testing.T) {
	r := generate(t, full())
	want := []string{
		responder, member,
		"arn:aws:iam::123456789012:role/break-glass", "arn:aws:iam::123456789012:role/*/break-glass",
		"arn:aws:iam::123456789012:user/ops-*",
		"arn:aws:iam::*:role/stacksets-exec-*", "arn:aws:iam::*:role/AWSControlTowerExecution", "arn:aws:iam::*:role/cdk-*-cfn-exec-role-*",
	}
	for _, p := range r.Policies {
		for _, st := range statements(t, p) {
			got := st.Condition["ArnNotLike"]["aws:PrincipalARN"]
			if !slices.Equal(toStrings(got), want) {
				t.Errorf("%s %s exempts %v, want %v", p.Name, st.Sid, got, want)
			}
		}
	}
	for _, principal := range []string{
		responder, member, "arn:aws:iam::123456789012:role/break-glass", "arn:aws:iam::123456789012:user/ops-oncall",
		"arn:aws:iam::111111111111:role/stacksets-exec-0123456789abcdef", "arn:aws:iam::111111111111:role/AWSControlTowerExecution",
		"arn:aws:iam::123456789012:role/cdk-hnb659fds-cfn-exec-role-123456789012-us-east-1",
	} {
		if denied(t, r, guardrails.SCP, principal, "cloudtrail:StopLogging", trailARN) {
			t.Errorf("%s is exempt but denied StopLogging", principal)
		}
	}
	for _, principal := range []string{mallory, "arn:aws:iam::123456789012:role/ci-deployer", "arn:aws:iam::123456789012:root"} {
		if !denied(t, r, guardrails.SCP, principal, "cloudtrail:StopLogging", trailARN) {
			t.Errorf("%s is not exempt but allowed StopLogging", principal)
		}
	}
}

// A long allow list splits the SCP into several policies, each under the
// limit, that together deny what one would; an allow list too long for one
// statement is an error, never a policy that exempts less.
func TestSplitUnderTheSizeLimit(t *testing.T) {
	in := full()
	for i := range 70 {
		in.Allow = append(in.Allow, fmt.Sprintf("arn:aws:iam::123456789012:role/break-glass-%02d", i))
	}
	r := generate(t, in)
	var scps []guardrails.Policy
	for _, p := range r.Policies {
		if len(p.Document) > guardrails.MaxPolicySize {
			t.Errorf("%s: %d characters", p.Name, len(p.Document))
		}
		if p.Type == guardrails.SCP {
			scps = append(scps, p)
		}
	}
	one := generate(t, full())
	if n := len(one.Policies) - 1; len(scps) <= n {
		t.Fatalf("a long allow list did not split the SCPs further: %d policies, %d without it", len(scps), n)
	}
	if scps[0].Name == scps[1].Name {
		t.Error("split policies share a name")
	}
	for _, st := range statements(t, one.Policies[0]) { // the first SCP
		for _, a := range st.Action {
			for _, res := range st.Resource {
				if !denied(t, r, guardrails.SCP, mallory, a, res) {
					t.Errorf("split policies no longer deny %s on %s", a, res)
				}
			}
		}
	}

	for i := range 200 {
		in.Allow = append(in.Allow, fmt.Sprintf("arn:aws:iam::123456789012:role/another-long-break-glass-role-name-%03d", i))
	}
	if _, err := guardrails.Generate(in); err == nil || !strings.Contains(err.Error(), "exemptions") {
		t.Errorf("an allow list too long for one statement: err %v", err)
	}
}

func TestBadInputIsAnError(t *testing.T) {
	for name, mut := range map[string]func(*guardrails.Input){
		"no responder":          func(in *guardrails.Input) { in.ResponderRoleARN = "" },
		"responder not a role":  func(in *guardrails.Input) { in.ResponderRoleARN = "arn:aws:iam::123456789012:user/x" },
		"trail name, no region": func(in *guardrails.Input) { in.Region = "" },
		"bucket ARN":            func(in *guardrails.Input) { in.Trails[0].Bucket = bucketARN },
		"allow everyone":        func(in *guardrails.Input) { in.Allow = []string{"arn:*"} },
		"allow not an ARN":      func(in *guardrails.Input) { in.Allow = []string{"mallory"} },
		"key of another service": func(in *guardrails.Input) {
			in.Trails[0].Key = "arn:aws:s3:::bucket"
		},
	} {
		in := full()
		mut(&in)
		if r, err := guardrails.Generate(in); err == nil {
			t.Errorf("%s: no error, %d policies", name, len(r.Policies))
		}
	}
}

// What the policies cannot protect is said.
func TestUnprotectedIsSaid(t *testing.T) {
	r := generate(t, guardrails.Input{Account: "123456789012", Region: "us-east-1",
		Trails: []guardrails.Trail{{Name: "management-trail"}}, ResponderRoleARN: responder})
	for _, want := range []string{"management account", "kms:DisableKey", "--kms-key", "s3:DeleteBucket", "--bucket", "sns:Unsubscribe", "RCPs do not support"} {
		if !containsText(r.Unprotected, want) {
			t.Errorf("unprotected does not mention %q: %v", want, r.Unprotected)
		}
	}
	for _, p := range r.Policies {
		if p.Type == guardrails.RCP {
			t.Errorf("an RCP without a bucket or key: %s", p.Document)
		}
	}
}

// denied evaluates the policies of type typ as AWS does for explicit denies:
// a statement applies when action, resource and every condition match.
func denied(t *testing.T, r guardrails.Result, typ guardrails.Type, principal, action, resource string) bool {
	t.Helper()
	for _, p := range r.Policies {
		if p.Type != typ {
			continue
		}
		for _, st := range statements(t, p) {
			if st.Effect != "Deny" || !anyGlob(st.Action, action) || !anyGlob(st.Resource, resource) {
				continue
			}
			applies := true
			for op, kv := range st.Condition {
				for key, v := range kv {
					switch {
					case op == "ArnNotLike" && key == "aws:PrincipalARN":
						applies = applies && !anyGlob(toStrings(v), principal)
					case op == "BoolIfExists" && key == "aws:PrincipalIsAWSService":
						applies = applies && v == "false" // principal is never a service here
					default:
						t.Fatalf("%s %s: condition %s %s not understood by the test", p.Name, st.Sid, op, key)
					}
				}
			}
			if applies {
				return true
			}
		}
	}
	return false
}

func anyGlob(patterns []string, s string) bool {
	for _, p := range patterns {
		if config.Glob(p, s) {
			return true
		}
	}
	return false
}

func statements(t *testing.T, p guardrails.Policy) []guardrails.Statement {
	t.Helper()
	var doc guardrails.Document
	if err := json.Unmarshal(p.Document, &doc); err != nil {
		t.Fatalf("%s: %v", p.Name, err)
	}
	return doc.Statement
}

func toStrings(v any) []string {
	var out []string
	switch v := v.(type) {
	case []any:
		for _, x := range v {
			out = append(out, fmt.Sprint(x))
		}
	case []string:
		out = v
	case string:
		out = []string{v}
	}
	return out
}

func strings1(t *testing.T, v any) []string {
	t.Helper()
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		t.Fatalf("not a non-empty list: %v", v)
	}
	return toStrings(list)
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func containsText(list []string, s string) bool {
	for _, l := range list {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

// The house's IAM evaluator (internal/policy) reads every generated document
// the same way as the test's own: each decision is decidable, and they agree.
func TestPoliciesReadTheSameByTheIAMEvaluator(t *testing.T) {
	r := generate(t, full())
	principals := []string{mallory, responder, member, "arn:aws:iam::123456789012:role/break-glass",
		"arn:aws:iam::111111111111:role/stacksets-exec-1", "arn:aws:iam::222222222222:role/outsider"}
	var actions []string
	for _, e := range catalog.All() {
		p, _ := catalog.IAMPermission(e)
		actions = append(actions, p.Actions...)
		actions = append(actions, catalog.RestoreActions(e.Response)...)
	}
	resources := []string{trailARN, bucketARN, keyARN, "*", "arn:aws:lambda:us-east-1:123456789012:function:trailguard-responder"}
	checked := 0
	for _, p := range r.Policies {
		doc, err := policy.Parse(p.Document)
		if err != nil {
			t.Fatalf("%s: the IAM evaluator cannot parse it: %v", p.Name, err)
		}
		one := guardrails.Result{Policies: []guardrails.Policy{p}}
		for _, who := range principals {
			for _, a := range actions {
				for _, res := range resources {
					d := policy.Evaluate(doc, policy.Request{
						Principal: policy.Principal{ARN: who, Account: strings.Split(who, ":")[4]},
						Action:    a, Resource: res,
						Context: map[string][]string{"aws:PrincipalARN": {who}, "aws:PrincipalIsAWSService": {"false"}},
					})
					if d.Result == policy.CannotTell {
						t.Fatalf("%s: %s %s on %s undecidable: %s", p.Name, who, a, res, d.Reason())
					}
					if got, want := d.Result == policy.Deny, denied(t, one, p.Type, who, a, res); got != want {
						t.Errorf("%s: %s %s on %s: evaluator deny %v, test deny %v", p.Name, who, a, res, got, want)
					}
					checked++
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("nothing checked")
	}
}
