package trailguardcdk_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/jsii-runtime-go"

	"github.com/trailguard/trailguard/infra/trailguardcdk"
	"github.com/trailguard/trailguard/internal/catalog"
	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/grants"
	"github.com/trailguard/trailguard/internal/trail"
)

// defaultStack is the ready stack with its defaults: a new trail, no KMS,
// region-agnostic (so global-service rules are included).
var defaultStack = sync.OnceValue(func() *synthesized {
	return synth(&trailguardcdk.TrailguardStackProps{Protection: trailguardcdk.ProtectionProps{
		AlertEmails: jsii.Strings("sec@example.com", "ops@example.com"),
		Allow:       jsii.Strings("arn:aws:iam::111111111111:role/deployer", "arn:aws:iam::*:role/cdk-*"),
		Code:        fakeCode(&tempDirer{}),
	}})
})

func TestDefaultRulesAreTheCatalogs(t *testing.T) {
	defaultStack().checkRules(t, expectedRules(true))
}

func TestDefaultOwnRulesNamed(t *testing.T) {
	defaultStack().checkOwnRules(t, expectedRules(true))
}

func TestDefaultReconcileSchedule(t *testing.T) {
	s := defaultStack()
	fnID, _ := s.only(t, "AWS::Lambda::Function")
	n := 0
	for id, r := range s.ofType("AWS::Events::Rule") {
		if r.Properties["ScheduleExpression"] == nil {
			continue
		}
		n++
		if got := r.Properties["ScheduleExpression"]; got != "rate(5 minutes)" {
			t.Errorf("schedule %v, want rate(5 minutes)", got)
		}
		if _, ok := r.Properties["EventPattern"]; ok {
			t.Errorf("schedule rule %s also has a pattern", id)
		}
		tg := list(r.Properties["Targets"])[0].(map[string]any)
		if _, custom := tg["Input"]; custom {
			t.Errorf("schedule sends a custom input; the responder expects the default Scheduled Event")
		}
		s.checkTarget(t, id, r, fnID)
	}
	if n != 1 {
		t.Errorf("%d schedule rules, want 1", n)
	}
}

func TestDefaultFunction(t *testing.T) {
	s := defaultStack()
	_, fn := s.only(t, "AWS::Lambda::Function")
	p := fn.Properties
	for k, want := range map[string]any{
		"Runtime": "provided.al2023", "Handler": "bootstrap", "MemorySize": 256.0, "Timeout": 60.0,
		"ReservedConcurrentExecutions": 5.0,
	} {
		if p[k] != want {
			t.Errorf("%s = %v, want %v", k, p[k], want)
		}
	}
	equalJSON(t, "architectures", p["Architectures"], `["arm64"]`)
	lc := p["LoggingConfig"].(map[string]any)
	if lc["LogFormat"] != "JSON" || lc["ApplicationLogLevel"] != "INFO" || lc["SystemLogLevel"] != "WARN" {
		t.Errorf("logging config %v", lc)
	}
	lg := s.resources[ref(lc["LogGroup"])]
	if lg.Type != "AWS::Logs::LogGroup" || lg.Properties["RetentionInDays"] != 365.0 {
		t.Errorf("log group %+v, want one with a one-year retention", lg)
	}

	env := s.env(t)
	topicID, _ := s.only(t, "AWS::SNS::Topic")
	_, role := s.responderPolicy(t)
	want := map[string]string{
		"TRAILGUARD_TOPIC_ARN":             "{" + topicID + "}",
		"TRAILGUARD_MODE":                  "enforce",
		"TRAILGUARD_QUARANTINE_POLICY_ARN": "arn:aws:iam::aws:policy/AWSDenyAll",
		"TRAILGUARD_ALLOW":                 "arn:aws:iam::111111111111:role/deployer,arn:aws:iam::*:role/cdk-*",
		"TRAILGUARD_SELF_ROLE_ARN":         "{" + role + ".Arn}",
		"TRAILGUARD_MIN_RETENTION_DAYS":    "365",
		"TRAILGUARD_SECURITYHUB":           "false",
	}
	tableID, _ := s.only(t, "AWS::DynamoDB::Table")
	want[config.EnvDedupTable] = "{" + tableID + "}"
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}

	// TRAILGUARD_TRAILS resolves to the created trail's configuration.
	var trails []trail.Config
	if err := json.Unmarshal([]byte(env["TRAILGUARD_TRAILS"]), &trails); err != nil {
		t.Fatalf("TRAILGUARD_TRAILS is not JSON once resolved: %v\n%s", err, env["TRAILGUARD_TRAILS"])
	}
	_, tr := s.only(t, "AWS::CloudTrail::Trail")
	wantTrail := trail.Config{
		Name:                       "trailguard",
		S3BucketName:               "{" + ref(tr.Properties["S3BucketName"]) + "}",
		S3KeyPrefix:                jsii.String(""),
		IsMultiRegionTrail:         jsii.Bool(true),
		IncludeGlobalServiceEvents: jsii.Bool(true),
		EnableLogFileValidation:    jsii.Bool(true),
		EventSelectors:             []trail.EventSelector{{ReadWriteType: "All", IncludeManagementEvents: jsii.Bool(true)}},
		HomeRegion:                 "{AWS::Region}",
	}
	if len(trails) != 1 || !reflect.DeepEqual(trails[0], wantTrail) {
		t.Errorf("TRAILGUARD_TRAILS = %s", env["TRAILGUARD_TRAILS"])
	}
	for k := range env {
		if _, ok := want[k]; !ok && k != "TRAILGUARD_TRAILS" && k != "TRAILGUARD_RULES" && k != "TRAILGUARD_RECONCILE_SCHEDULE" && k != "TRAILGUARD_ALARMS" { // TestDefaultOwnRulesNamed, TestDefaultOwnersPath
			t.Errorf("unexpected environment variable %s", k)
		}
	}
}

func TestDefaultAsyncInvokeConfig(t *testing.T) {
	s := defaultStack()
	_, c := s.only(t, "AWS::Lambda::EventInvokeConfig")
	if c.Properties["MaximumRetryAttempts"] != 2.0 || c.Properties["MaximumEventAgeInSeconds"] != 3600.0 {
		t.Errorf("event invoke config %v", c.Properties)
	}
	dest := ref(c.Properties["DestinationConfig"].(map[string]any)["OnFailure"].(map[string]any)["Destination"])
	q, ok := s.resources[dest]
	if !ok || q.Type != "AWS::SQS::Queue" {
		t.Fatalf("on-failure destination %q is not a queue of the stack", dest)
	}
}

func TestDefaultQueuesEncryptedAndTLSOnly(t *testing.T) {
	s := defaultStack()
	queues := s.ofType("AWS::SQS::Queue")
	if len(queues) != 2 {
		t.Fatalf("%d queues, want 2 (EventBridge dead letters, Lambda on-failure)", len(queues))
	}
	for id, q := range queues {
		if q.Properties["SqsManagedSseEnabled"] != true {
			t.Errorf("queue %s not encrypted: %v", id, q.Properties)
		}
		if !s.deniesInsecureTransport("AWS::SQS::QueuePolicy", "Queues", id) {
			t.Errorf("queue %s: no policy denying aws:SecureTransport=false", id)
		}
	}
}

// deniesInsecureTransport reports whether a resource policy of typ, attached
// through field to logical id, denies requests without TLS.
func (s *synthesized) deniesInsecureTransport(typ, field, id string) bool {
	for _, p := range s.ofType(typ) {
		attached := false
		for _, r := range list(p.Properties[field]) {
			attached = attached || ref(r) == id
		}
		if !attached {
			continue
		}
		for _, st := range statements(p.Properties["PolicyDocument"]) {
			if st.Effect == "Deny" && st.Condition["Bool"]["aws:SecureTransport"] == "false" {
				return true
			}
		}
	}
	return false
}

func TestDefaultResponderPermissions(t *testing.T) {
	s := defaultStack()
	got, role := s.responderPolicy(t)
	topicID, _ := s.only(t, "AWS::SNS::Topic")
	logGroupID, _ := s.only(t, "AWS::Logs::LogGroup")
	_, eic := s.only(t, "AWS::Lambda::EventInvokeConfig")
	failures := ref(eic.Properties["DestinationConfig"].(map[string]any)["OnFailure"].(map[string]any)["Destination"])
	_, tr := s.only(t, "AWS::CloudTrail::Trail")
	res := stackResources("arn:{AWS::Partition}:cloudtrail:{AWS::Region}:{AWS::AccountId}:trail/trailguard",
		"arn:aws:iam::aws:policy/AWSDenyAll", topicID, logGroupID, role,
		"arn:{AWS::Partition}:s3:::{"+ref(tr.Properties["S3BucketName"])+"}", s.checkOwnRules(t, expectedRules(true)))
	res[grants.PrivilegedRoles] = append(res[grants.PrivilegedRoles], "arn:aws:iam::111111111111:role/deployer", "arn:aws:iam::*:role/cdk-*")
	tableID, _ := s.only(t, "AWS::DynamoDB::Table")
	res[grants.DedupTable] = []string{"{" + tableID + ".Arn}"}
	res[grants.OwnAlarms] = s.alarmARNs(t)
	fnID, _ := s.only(t, "AWS::Lambda::Function")
	res[grants.OwnFunction] = []string{"{" + fnID + ".Arn}"}
	want := fromTable(res)
	want = append(want, statement{Effect: "Allow",
		Actions:   []string{"sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SendMessage"},
		Resources: []string{"{" + failures + ".Arn}"}})
	compareStatements(t, got, want)

	_, r := s.only(t, "AWS::IAM::Role")
	if r.Properties["ManagedPolicyArns"] != nil {
		t.Errorf("responder role has managed policies: %v", r.Properties["ManagedPolicyArns"])
	}
}

// roleStatements pins, written out, the statements whose resources are not
// this stack's own: a change of them must change this test. The rest is
// checked against the grants table (fromTable).
func TestDefaultPutRolePolicyBound(t *testing.T) {
	got, role := defaultStack().responderPolicy(t)
	iamArn := "arn:{AWS::Partition}:iam::{AWS::AccountId}:"
	want := statement{Sid: "NeverEditPrivilegedRoles", Effect: "Deny", Actions: []string{"iam:PutRolePolicy"}, Resources: []string{
		"{" + role + ".Arn}", iamArn + "role/aws-reserved/*", iamArn + "role/aws-service-role/*", iamArn + "role/cdk-*",
		"arn:aws:iam::111111111111:role/deployer", "arn:aws:iam::*:role/cdk-*",
	}}
	for _, st := range got {
		if st.Sid == want.Sid {
			compareStatements(t, []statement{st}, []statement{want})
			return
		}
	}
	t.Errorf("no %s statement", want.Sid)
}

func compareStatements(t *testing.T, got, want []statement) {
	t.Helper()
	key := func(s statement) string {
		s.Resources = slices.Sorted(slices.Values(s.Resources))
		b, _ := json.Marshal(s)
		return string(b)
	}
	var g, w []string
	for _, s := range got {
		g = append(g, key(s))
	}
	for _, s := range want {
		w = append(w, key(s))
	}
	sort.Strings(g)
	sort.Strings(w)
	if !reflect.DeepEqual(g, w) {
		t.Errorf("responder statements differ:\n got\n  %s\nwant\n  %s", strings.Join(g, "\n  "), strings.Join(w, "\n  "))
	}
}

func TestDefaultTrail(t *testing.T) {
	s := defaultStack()
	_, tr := s.only(t, "AWS::CloudTrail::Trail")
	for k, want := range map[string]any{
		"TrailName": "trailguard", "IsLogging": true, "IsMultiRegionTrail": true,
		"IncludeGlobalServiceEvents": true, "EnableLogFileValidation": true,
	} {
		if tr.Properties[k] != want {
			t.Errorf("trail %s = %v, want %v", k, tr.Properties[k], want)
		}
	}
	equalJSON(t, "event selectors", tr.Properties["EventSelectors"], `[{"IncludeManagementEvents":true,"ReadWriteType":"All"}]`)
	if tr.Properties["KmsKeyId"] != nil {
		t.Errorf("KMS key without EncryptWithKms")
	}
}

func TestDefaultTrailBucketHardened(t *testing.T) {
	s := defaultStack()
	_, tr := s.only(t, "AWS::CloudTrail::Trail")
	id := ref(tr.Properties["S3BucketName"])
	s.checkTrailBucket(t, id, "arn:{AWS::Partition}:cloudtrail:{AWS::Region}:{AWS::AccountId}:trail/trailguard")
	b := s.resources[id]
	equalJSON(t, "encryption", b.Properties["BucketEncryption"],
		`{"ServerSideEncryptionConfiguration":[{"ServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}]}`)
	logs := b.Properties["LoggingConfiguration"].(map[string]any)
	if target := s.resources[ref(logs["DestinationBucketName"])]; target.Type != "AWS::S3::Bucket" || target.DeletionPolicy != "Retain" {
		t.Errorf("server access logs go to %v", logs)
	}
}

// checkTrailBucket asserts the hardening of the trail's bucket and that
// CloudTrail's grants carry aws:SourceArn = the trail.
func (s *synthesized) checkTrailBucket(t *testing.T, id, trailArn string) {
	t.Helper()
	b := s.resources[id]
	if b.Type != "AWS::S3::Bucket" {
		t.Fatalf("trail bucket %s is a %s", id, b.Type)
	}
	equalJSON(t, "public access block", b.Properties["PublicAccessBlockConfiguration"],
		`{"BlockPublicAcls":true,"BlockPublicPolicy":true,"IgnorePublicAcls":true,"RestrictPublicBuckets":true}`)
	equalJSON(t, "versioning", b.Properties["VersioningConfiguration"], `{"Status":"Enabled"}`)
	if b.DeletionPolicy != "Retain" {
		t.Errorf("trail bucket DeletionPolicy %q, want Retain", b.DeletionPolicy)
	}
	if !s.deniesInsecureTransport("AWS::S3::BucketPolicy", "Bucket", id) {
		t.Errorf("trail bucket policy does not deny insecure transport")
	}
	grants := 0
	for _, p := range s.ofType("AWS::S3::BucketPolicy") {
		if ref(p.Properties["Bucket"]) != id {
			continue
		}
		for _, st := range statements(p.Properties["PolicyDocument"]) {
			if st.Effect != "Allow" {
				continue
			}
			if st.Principal != `{"Service":"cloudtrail.amazonaws.com"}` {
				t.Errorf("trail bucket grants %v to %s", st.Actions, st.Principal)
				continue
			}
			grants++
			if st.Condition["StringEquals"]["aws:SourceArn"] != trailArn {
				t.Errorf("CloudTrail grant %v without aws:SourceArn = %s: %v", st.Actions, trailArn, st.Condition)
			}
		}
	}
	if grants != 2 {
		t.Errorf("%d CloudTrail grants on the bucket, want 2 (GetBucketAcl, PutObject)", grants)
	}
}

func TestDefaultAlarms(t *testing.T) {
	s := defaultStack()
	topicID, _ := s.only(t, "AWS::SNS::Topic")
	fnID, _ := s.only(t, "AWS::Lambda::Function")
	seen := map[string]int{}
	for id, a := range s.ofType("AWS::CloudWatch::Alarm") {
		p := a.Properties
		if strings.HasPrefix(id, "TrailguardReconcile") { // TestDefaultOwnersPath
			continue
		}
		if p["Threshold"] != 0.0 || p["ComparisonOperator"] != "GreaterThanThreshold" || p["TreatMissingData"] != "notBreaching" {
			t.Errorf("alarm %s: %v", id, p)
		}
		if acts := list(p["AlarmActions"]); len(acts) != 1 || ref(acts[0]) != topicID {
			t.Errorf("alarm %s does not notify the topic: %v", id, p["AlarmActions"])
		}
		dim := list(p["Dimensions"])[0].(map[string]any)
		switch p["MetricName"] {
		case "Errors", "Throttles":
			if ref(dim["Value"]) != fnID {
				t.Errorf("alarm %s watches %v", id, dim)
			}
		case "ApproximateNumberOfMessagesVisible":
			if s.resources[ref(dim["Value"])].Type != "AWS::SQS::Queue" {
				t.Errorf("alarm %s watches %v", id, dim)
			}
		}
		seen[p["MetricName"].(string)]++
	}
	if seen["Errors"] != 1 || seen["Throttles"] != 1 || seen["ApproximateNumberOfMessagesVisible"] != 2 {
		t.Errorf("alarms by metric: %v", seen)
	}
}

func TestDefaultTopic(t *testing.T) {
	s := defaultStack()
	topicID, _ := s.only(t, "AWS::SNS::Topic")
	if !s.deniesInsecureTransport("AWS::SNS::TopicPolicy", "Topics", topicID) {
		t.Errorf("topic policy does not deny insecure transport")
	}
	var emails []string
	for _, sub := range s.ofType("AWS::SNS::Subscription") {
		if sub.Properties["Protocol"] == "email" && ref(sub.Properties["TopicArn"]) == topicID {
			emails = append(emails, sub.Properties["Endpoint"].(string))
		}
	}
	sort.Strings(emails)
	if !reflect.DeepEqual(emails, []string{"ops@example.com", "sec@example.com"}) {
		t.Errorf("email subscriptions %v", emails)
	}
}

func TestDefaultNoUnsuppressedNagFindings(t *testing.T) {
	for _, f := range defaultStack().nag {
		t.Errorf("cdk-nag: %s", f)
	}
}

// The owners' path that does not run through the responder: one direct rule
// per service of trailguard's own resources, with the catalog's pattern
// narrowed to them and the catalog's message, allowed to publish to the
// topic; and two heartbeat alarms on the reconcile schedule, missing data
// breaching.
func TestDefaultOwnersPath(t *testing.T) {
	s := defaultStack()
	topicID, _ := s.only(t, "AWS::SNS::Topic")
	fnID, _ := s.only(t, "AWS::Lambda::Function")
	_, role := s.responderPolicy(t)
	env := s.env(t)
	if env["TRAILGUARD_RECONCILE_SCHEDULE"] != "rate(5 minutes)" {
		t.Errorf("TRAILGUARD_RECONCILE_SCHEDULE = %q", env["TRAILGUARD_RECONCILE_SCHEDULE"])
	}
	var names []string
	for _, e := range strings.Split(env["TRAILGUARD_RULES"], ",") {
		_, n, _ := strings.Cut(e, "=")
		names = append(names, n)
	}
	// The catalog's rules, filled with the template's references as the
	// resolver renders them.
	alarmNames := strings.Split(env["TRAILGUARD_ALARMS"], ",")
	named := map[string]bool{}
	for _, a := range s.ofType("AWS::CloudWatch::Alarm") {
		named[a.Properties["AlarmName"].(string)] = true
	}
	if len(alarmNames) != 6 || len(named) != 6 {
		t.Errorf("TRAILGUARD_ALARMS = %v, the template's alarms are named %v", alarmNames, named)
	}
	for _, a := range alarmNames {
		if !named[a] {
			t.Errorf("TRAILGUARD_ALARMS names %q, which is no alarm of the template", a)
		}
	}
	want := catalog.OwnerRules(catalog.Owned{RuleNames: names, FunctionName: "{" + fnID + "}", TopicARN: "{" + topicID + "}", RoleName: "{" + role + "}", Alarms: alarmNames})
	got := s.ownersRules()
	if len(got) != len(want) || len(want) < 5 {
		t.Fatalf("owners' rules %d in the template, %d in the catalog", len(got), len(want))
	}
	for _, w := range want {
		r, ok := got[w.ID]
		if !ok {
			t.Errorf("no rule %s", w.ID)
			continue
		}
		equalJSON(t, "pattern of "+w.ID, resolveDeep(r.Properties["EventPattern"]), w.PatternJSON())
		targets := list(r.Properties["Targets"])
		if len(targets) != 1 {
			t.Fatalf("%s: %d targets", w.ID, len(targets))
		}
		tg := targets[0].(map[string]any)
		it := tg["InputTransformer"].(map[string]any)
		if ref(tg["Arn"]) != topicID || it["InputTemplate"] != w.InputTemplate {
			t.Errorf("%s targets %v with %v", w.ID, tg["Arn"], it["InputTemplate"])
		}
		b, _ := json.Marshal(w.InputPathsMap)
		equalJSON(t, "input paths of "+w.ID, it["InputPathsMap"], string(b))
	}
	published := false
	for _, p := range s.ofType("AWS::SNS::TopicPolicy") {
		for _, st := range statements(p.Properties["PolicyDocument"]) {
			if st.Sid == "OwnersRulesPublish" && st.Effect == "Allow" && strings.Contains(st.Principal, "events.amazonaws.com") {
				published = true
			}
		}
	}
	if !published {
		t.Error("the topic policy does not let the owners' rules publish")
	}

	alarms := map[string]bool{}
	for id, a := range s.ofType("AWS::CloudWatch::Alarm") {
		p := a.Properties
		if !strings.HasPrefix(id, "TrailguardReconcile") {
			continue
		}
		if p["Threshold"] != 1.0 || p["ComparisonOperator"] != "LessThanThreshold" || p["TreatMissingData"] != "breaching" || p["Period"] != 900.0 {
			t.Errorf("heartbeat %s: %v", id, p)
		}
		if acts := list(p["AlarmActions"]); len(acts) != 1 || ref(acts[0]) != topicID {
			t.Errorf("heartbeat %s does not notify the topic", id)
		}
		dim := list(p["Dimensions"])[0].(map[string]any)
		alarms[p["Namespace"].(string)+"/"+p["MetricName"].(string)+"/"+resolve(dim["Value"])] = true
	}
	var schedule string
	for _, n := range names {
		if strings.HasPrefix(n, "trailguard-reconcile-") {
			schedule = n
		}
	}
	for _, k := range []string{"AWS/Events/Invocations/" + schedule, "trailguard/ReconcileSucceeded/{" + fnID + "}"} {
		if !alarms[k] {
			t.Errorf("no heartbeat alarm on %s (have %v)", k, alarms)
		}
	}
}

// resolveDeep resolves the intrinsics inside a JSON value.
func resolveDeep(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if _, ok := x["Ref"]; ok {
			return resolve(x)
		}
		if _, ok := x["Fn::GetAtt"]; ok {
			return resolve(x)
		}
		if _, ok := x["Fn::Join"]; ok {
			return resolve(x)
		}
		out := map[string]any{}
		for k, e := range x {
			out[k] = resolveDeep(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = resolveDeep(e)
		}
		return out
	}
	return v
}
