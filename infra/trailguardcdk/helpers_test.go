package trailguardcdk_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"

	"github.com/trailguard/trailguard/infra/trailguardcdk"
	"github.com/trailguard/trailguard/internal/catalog"
	"github.com/trailguard/trailguard/internal/grants"
)

// synthesized is one stack, synthesised once per test file and read as
// plain JSON so that assertions compare exact values.
type synthesized struct {
	stack     awscdk.Stack
	resources map[string]resource
	nag       []string // unsuppressed cdk-nag findings (errors and warnings)
}

type resource struct {
	Type           string         `json:"Type"`
	Properties     map[string]any `json:"Properties"`
	DeletionPolicy string         `json:"DeletionPolicy"`
}

// fakeCode is a code asset with a stand-in bootstrap: the template tests are
// about the template, not the binary (TestBuildResponder builds the real one).
func fakeCode(t interface{ TempDir() string }) awslambda.Code {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bootstrap"), []byte("stand-in"), 0o755); err != nil {
		panic(err)
	}
	return awslambda.Code_FromAsset(jsii.String(dir), nil)
}

type tempDirer struct{ dir string }

func (d *tempDirer) TempDir() string {
	dir, err := os.MkdirTemp("", "trailguard-test-")
	if err != nil {
		panic(err)
	}
	d.dir = dir
	return dir
}

// synth builds a ready stack with props and reads its template and
// cdk-nag's annotations.
func synth(props *trailguardcdk.TrailguardStackProps) *synthesized {
	os.Setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
	app := awscdk.NewApp(nil)
	return synthStack(trailguardcdk.NewTrailguardStack(app, jsii.String("Test"), props))
}

// synthStack reads any stack's template and cdk-nag's annotations.
func synthStack(stack awscdk.Stack) *synthesized {
	tmpl := assertions.Template_FromStack(stack, nil)
	raw, err := json.Marshal(tmpl.ToJSON())
	if err != nil {
		panic(err)
	}
	var doc struct {
		Resources map[string]resource `json:"Resources"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		panic(err)
	}
	s := &synthesized{stack: stack, resources: doc.Resources}
	ann := assertions.Annotations_FromStack(stack)
	re := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))
	for _, list := range [][]*cxMessage{messages(ann.FindError(jsii.String("*"), re)), messages(ann.FindWarning(jsii.String("*"), re))} {
		for _, m := range list {
			s.nag = append(s.nag, m.id+": "+m.data)
		}
	}
	return s
}

type cxMessage struct{ id, data string }

func messages[T any](in *[]T) []*cxMessage {
	var out []*cxMessage
	if in == nil {
		return nil
	}
	b, _ := json.Marshal(in)
	var raw []struct {
		ID    string `json:"id"`
		Entry struct {
			Data any `json:"data"`
		} `json:"entry"`
	}
	_ = json.Unmarshal(b, &raw)
	for _, r := range raw {
		out = append(out, &cxMessage{id: r.ID, data: fmt.Sprint(r.Entry.Data)})
	}
	return out
}

// ofType returns the resources of a CloudFormation type by logical id.
func (s *synthesized) ofType(typ string) map[string]resource {
	out := map[string]resource{}
	for id, r := range s.resources {
		if r.Type == typ {
			out[id] = r
		}
	}
	return out
}

// only returns the single resource of a type.
func (s *synthesized) only(t *testing.T, typ string) (string, resource) {
	t.Helper()
	rs := s.ofType(typ)
	if len(rs) != 1 {
		t.Fatalf("want one %s, have %d", typ, len(rs))
	}
	for id, r := range rs {
		return id, r
	}
	panic("unreachable")
}

// resolve renders an intrinsic as a readable string: {"Ref": "X"} as
// "{X}", {"Fn::GetAtt": ["X","Arn"]} as "{X.Arn}", Fn::Join by joining.
func resolve(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		if r, ok := x["Ref"]; ok {
			return "{" + r.(string) + "}"
		}
		if g, ok := x["Fn::GetAtt"].([]any); ok {
			return "{" + g[0].(string) + "." + g[1].(string) + "}"
		}
		if j, ok := x["Fn::Join"].([]any); ok {
			var parts []string
			for _, p := range j[1].([]any) {
				parts = append(parts, resolve(p))
			}
			return strings.Join(parts, j[0].(string))
		}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// statement is an IAM statement with intrinsics resolved, for comparison.
type statement struct {
	Sid, Effect string
	Actions     []string
	Resources   []string
	Principal   string
	Condition   map[string]map[string]string
}

func statements(doc any) []statement {
	var out []statement
	for _, raw := range doc.(map[string]any)["Statement"].([]any) {
		m := raw.(map[string]any)
		s := statement{Effect: m["Effect"].(string)}
		if sid, ok := m["Sid"].(string); ok {
			s.Sid = sid
		}
		s.Actions = strs(m["Action"])
		sort.Strings(s.Actions)
		for _, r := range list(m["Resource"]) {
			s.Resources = append(s.Resources, resolve(r))
		}
		if p, ok := m["Principal"]; ok {
			s.Principal = resolve(p)
		}
		if c, ok := m["Condition"].(map[string]any); ok {
			s.Condition = map[string]map[string]string{}
			for op, kv := range c {
				s.Condition[op] = map[string]string{}
				for k, v := range kv.(map[string]any) {
					s.Condition[op][k] = resolve(v)
				}
			}
		}
		out = append(out, s)
	}
	return out
}

func list(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	if v == nil {
		return nil
	}
	return []any{v}
}

func strs(v any) []string {
	var out []string
	for _, x := range list(v) {
		out = append(out, x.(string))
	}
	return out
}

// ref returns the logical id an intrinsic points to.
func ref(v any) string {
	m, _ := v.(map[string]any)
	if r, ok := m["Ref"].(string); ok {
		return r
	}
	if g, ok := m["Fn::GetAtt"].([]any); ok {
		return g[0].(string)
	}
	return ""
}

// responderPolicy returns every statement of every policy attached to the
// responder's role, and the role's logical id.
func (s *synthesized) responderPolicy(t *testing.T) ([]statement, string) {
	t.Helper()
	_, fn := s.only(t, "AWS::Lambda::Function")
	role := ref(fn.Properties["Role"])
	var out []statement
	for _, p := range s.ofType("AWS::IAM::Policy") {
		for _, r := range list(p.Properties["Roles"]) {
			if ref(r) == role {
				out = append(out, statements(p.Properties["PolicyDocument"])...)
			}
		}
	}
	if out == nil {
		t.Fatalf("no policy attached to the responder's role %s", role)
	}
	return out, role
}

// equalJSON compares two JSON documents by value.
func equalJSON(t *testing.T, what string, got any, want string) {
	t.Helper()
	var w any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(got)
	var g any
	_ = json.Unmarshal(b, &g)
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n got %s\nwant %s", what, b, want)
	}
}

// expectedRules returns the catalog rules a stack in region should hold.
func expectedRules(global bool) []catalog.Rule {
	var out []catalog.Rule
	for _, r := range catalog.Rules() {
		if !r.GlobalOnly || global {
			out = append(out, r)
		}
	}
	return out
}

// patternRules returns the EventBridge rules that have an event pattern and
// invoke the responder (the owners' direct rules excluded).
func (s *synthesized) patternRules() map[string]resource {
	out := map[string]resource{}
	for id, r := range s.ofType("AWS::Events::Rule") {
		if _, ok := r.Properties["EventPattern"]; ok && !isOwnersRule(r) {
			out[id] = r
		}
	}
	return out
}

func isOwnersRule(r resource) bool {
	n, _ := r.Properties["Name"].(string)
	return strings.HasPrefix(n, "trailguard-"+catalog.OwnerRuleIDPrefix)
}

// ownersRules returns the owners' direct rules by catalog id.
func (s *synthesized) ownersRules() map[string]resource {
	out := map[string]resource{}
	for _, r := range s.ofType("AWS::Events::Rule") {
		if isOwnersRule(r) {
			n := r.Properties["Name"].(string)
			id := strings.TrimPrefix(n[:strings.LastIndex(n, "-")], "trailguard-")
			out[id] = r
		}
	}
	return out
}

// checkRules asserts one rule per expected catalog rule with exactly the
// catalog's pattern, targeting the function with retries and the DLQ.
func (s *synthesized) checkRules(t *testing.T, want []catalog.Rule) {
	t.Helper()
	rules := s.patternRules()
	if len(rules) != len(want) {
		t.Errorf("have %d pattern rules, want %d (one per catalog rule)", len(rules), len(want))
	}
	fnID, _ := s.only(t, "AWS::Lambda::Function")
	for _, cr := range want {
		found := 0
		for id, r := range rules {
			src := strs(r.Properties["EventPattern"].(map[string]any)["source"])
			if len(src) == 1 && src[0] == cr.Pattern.Source[0] {
				found++
				equalJSON(t, "pattern of "+cr.ID, r.Properties["EventPattern"], cr.Pattern.JSON())
				s.checkTarget(t, id, r, fnID)
			}
		}
		if found != 1 {
			t.Errorf("catalog rule %s: %d rules in the template, want 1", cr.ID, found)
		}
	}
}

func (s *synthesized) checkTarget(t *testing.T, id string, r resource, fnID string) {
	t.Helper()
	targets := list(r.Properties["Targets"])
	if len(targets) != 1 {
		t.Fatalf("rule %s: %d targets", id, len(targets))
	}
	tg := targets[0].(map[string]any)
	if ref(tg["Arn"]) != fnID {
		t.Errorf("rule %s targets %v, want the responder", id, tg["Arn"])
	}
	equalJSON(t, "retry policy of "+id, tg["RetryPolicy"], `{"MaximumEventAgeInSeconds":7200,"MaximumRetryAttempts":8}`)
	dlq := ref(tg["DeadLetterConfig"].(map[string]any)["Arn"])
	if q, ok := s.resources[dlq]; !ok || q.Type != "AWS::SQS::Queue" {
		t.Errorf("rule %s: dead-letter target %q is not a queue of the stack", id, dlq)
	}
}

// env returns the responder's environment with intrinsics resolved.
func (s *synthesized) env(t *testing.T) map[string]string {
	t.Helper()
	_, fn := s.only(t, "AWS::Lambda::Function")
	env := map[string]string{}
	for k, v := range fn.Properties["Environment"].(map[string]any)["Variables"].(map[string]any) {
		env[k] = resolve(v)
	}
	return env
}

var ruleName = regexp.MustCompile(`^trailguard-[a-z0-9-]+-[0-9a-f]{8}$`)

// checkOwnRules asserts that TRAILGUARD_RULES names exactly the stack's
// EventBridge rules (one per expected catalog rule and the schedule), each
// with an explicit, valid physical name, and returns those names in the
// variable's order.
func (s *synthesized) checkOwnRules(t *testing.T, want []catalog.Rule) []string {
	t.Helper()
	var names []string
	for _, e := range strings.Split(s.env(t)["TRAILGUARD_RULES"], ",") {
		id, n, ok := strings.Cut(e, "=")
		if !ok || !strings.HasPrefix(n, "trailguard-"+id+"-") {
			t.Errorf("TRAILGUARD_RULES entry %q is not id=trailguard-<id>-<hash>", e)
		}
		names = append(names, n)
	}
	var inTemplate []string
	for id, r := range s.ofType("AWS::Events::Rule") {
		n, ok := r.Properties["Name"].(string)
		if !ok {
			t.Errorf("rule %s has no literal Name: %v", id, r.Properties["Name"])
			continue
		}
		if len(n) > 64 || !ruleName.MatchString(n) {
			t.Errorf("rule %s: name %q is not trailguard-<id>-<hash> within 64 characters", id, n)
		}
		if isOwnersRule(r) {
			inTemplate = append(inTemplate, n)
			continue
		}
		if pat, ok := r.Properties["EventPattern"].(map[string]any); ok {
			src := strs(pat["source"])
			for _, cr := range want {
				if len(src) == 1 && cr.Pattern.Source[0] == src[0] && !strings.HasPrefix(n, "trailguard-"+cr.ID+"-") {
					t.Errorf("rule for %s is named %q", cr.ID, n)
				}
			}
		} else if !strings.HasPrefix(n, "trailguard-reconcile-") {
			t.Errorf("schedule rule is named %q", n)
		}
		inTemplate = append(inTemplate, n)
	}
	sorted := append([]string(nil), names...)
	sort.Strings(sorted)
	sort.Strings(inTemplate)
	if !reflect.DeepEqual(sorted, inTemplate) {
		t.Errorf("TRAILGUARD_RULES = %v, the template's rules are named %v", names, inTemplate)
	}
	global := len(want) == len(catalog.Rules())
	owners := 0
	for _, r := range catalog.OwnerRules(catalog.Owned{RuleNames: []string{"x"}, FunctionName: "x", TopicARN: "x", RoleName: "x", Alarms: []string{"x"}}) {
		if global || !r.GlobalOnly {
			owners++
		}
	}
	if len(names) != len(want)+1+owners {
		t.Errorf("TRAILGUARD_RULES has %d names, want %d (catalog rules + schedule + owners' rules)", len(names), len(want)+1+owners)
	}
	return names
}

// stackResources resolves the grants table's resources as the template
// renders them (see resolve) for a stack with the given trail, quarantine
// policy, topic, log group and role (logical IDs), bucket ARN and own rule
// names. Optional resources (key, log group, logs role) and the allow list's
// roles are added by the caller.
func stackResources(trailArn, quarantine, topicID, logGroupID, role, bucketArn string, rules []string) map[grants.Resource][]string {
	iamArn := "arn:{AWS::Partition}:iam::{AWS::AccountId}:"
	res := map[grants.Resource][]string{
		grants.Anything:         {"*"},
		grants.ProtectedTrails:  {trailArn},
		grants.EventDataStores:  {"arn:{AWS::Partition}:cloudtrail:*:{AWS::AccountId}:eventdatastore/*"},
		grants.Users:            {iamArn + "user/*"},
		grants.Roles:            {iamArn + "role/*"},
		grants.QuarantinePolicy: {quarantine},
		grants.SelfRole:         {"{" + role + ".Arn}"},
		grants.PrivilegedRoles:  {iamArn + "role/aws-reserved/*", iamArn + "role/aws-service-role/*", iamArn + "role/cdk-*"},
		grants.Topic:            {"{" + topicID + "}"},
		grants.OwnLogGroup:      {"{" + logGroupID + ".Arn}"},
		grants.TrailBucket:      {bucketArn},
		grants.GapWindows:       {bucketArn + "/trailguard/pending/*"},
		grants.GapReports:       {bucketArn + "/trailguard/gap-reports/*"},
		grants.LogGroups:        {"arn:{AWS::Partition}:logs:{AWS::Region}:{AWS::AccountId}:log-group:*"},
		grants.Alarms:           {"arn:{AWS::Partition}:cloudwatch:{AWS::Region}:{AWS::AccountId}:alarm:*"},
	}
	for _, n := range rules {
		res[grants.OwnRules] = append(res[grants.OwnRules], "arn:{AWS::Partition}:events:{AWS::Region}:{AWS::AccountId}:rule/"+n)
	}
	return res
}

// alarmARNs are the ARNs of trailguard's alarms named in TRAILGUARD_ALARMS,
// each checked to be an alarm of the template.
func (s *synthesized) alarmARNs(t *testing.T) []string {
	t.Helper()
	inTemplate := map[string]bool{}
	for _, a := range s.ofType("AWS::CloudWatch::Alarm") {
		n, _ := a.Properties["AlarmName"].(string)
		inTemplate[n] = true
	}
	var out []string
	for _, n := range strings.Split(s.env(t)["TRAILGUARD_ALARMS"], ",") {
		if !inTemplate[n] {
			t.Errorf("TRAILGUARD_ALARMS names %q, which is no alarm of the template", n)
		}
		out = append(out, "arn:{AWS::Partition}:cloudwatch:{AWS::Region}:{AWS::AccountId}:alarm:"+n)
	}
	return out
}

// fromTable is what the grants table (internal/grants) says the responder's
// statements are, for a stack whose resources resolve to res.
func fromTable(res map[grants.Resource][]string) []statement {
	var out []statement
	for _, g := range grants.Table {
		var arns []string
		for _, r := range g.Resources {
			arns = append(arns, res[r]...)
		}
		if len(arns) == 0 {
			continue
		}
		st := statement{Sid: g.Sid, Effect: "Allow", Actions: g.Actions(), Resources: arns}
		if g.Deny {
			st.Effect = "Deny"
		}
		if c := g.Condition; c != nil {
			v := c.Value
			if c.ValueOf != "" {
				v = res[c.ValueOf][0]
			}
			st.Condition = map[string]map[string]string{c.Operator: {c.Key: v}}
		}
		out = append(out, st)
	}
	return out
}
