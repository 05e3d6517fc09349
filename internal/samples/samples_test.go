package samples

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// wantNames is the corpus the brief asks for; a file added or lost must show
// up here.
var wantNames = []string{
	"addtags",
	"cloudwatch-deletealarms",
	"cloudwatch-disablealarmactions",
	"cloudwatch-putmetricalarm",
	"createtrail",
	"deleteeventdatastore",
	"deletetrail-failed",
	"deletetrail-iamuser",
	"events-deleterule",
	"events-disablerule",
	"events-putrule-disabled",
	"events-putrule-never-matches",
	"events-putrule-slower",
	"events-puttargets-hijack",
	"events-puttargets-input",
	"events-removetargets",
	"iam-createpolicyversion-quarantine",
	"iam-deleterolepolicy-revocation",
	"iam-detachuserpolicy-quarantine",
	"iam-setdefaultpolicyversion-quarantine",
	"kms-disablekey",
	"kms-putkeypolicy",
	"kms-schedulekeydeletion",
	"lambda-addpermission",
	"lambda-deletefunction",
	"lambda-putfunctionconcurrency",
	"lambda-putfunctioneventinvokeconfig",
	"lambda-updatefunctioncode",
	"lambda-updatefunctionconfiguration-topic",
	"logs-deleteloggroup",
	"logs-deletemetricfilter",
	"logs-deletesubscriptionfilter",
	"logs-putretentionpolicy",
	"organizations-deregisterdelegatedadministrator",
	"organizations-detachpolicy",
	"organizations-disableawsserviceaccess",
	"organizations-leaveorganization",
	"organizations-leaveorganization-failed",
	"puteventselectors-advanced-no-management",
	"puteventselectors-exclusions",
	"puteventselectors-failed",
	"puteventselectors-harmless",
	"puteventselectors-many-data-resources",
	"puteventselectors-no-management",
	"puteventselectors-readonly",
	"putinsightselectors",
	"removetags",
	"s3-deletebucket",
	"s3-deletebucketpolicy",
	"s3-deletebucketpublicaccessblock",
	"s3-putbucketacl-public",
	"s3-putbucketencryption-foreign-key",
	"s3-putbucketlifecycle",
	"s3-putbucketownershipcontrols",
	"s3-putbucketpolicy",
	"s3-putbucketpublicaccessblock-weakened",
	"s3-putbucketreplication",
	"s3-putbucketversioning-suspended",
	"sns-deletetopic",
	"sns-settopicattributes",
	"sns-unsubscribe",
	"startlogging",
	"stopeventdatastoreingestion",
	"stoplogging-assumedrole",
	"stoplogging-awsaccount",
	"stoplogging-awsservice",
	"stoplogging-by-name",
	"stoplogging-cloudformation",
	"stoplogging-failed",
	"stoplogging-federated",
	"stoplogging-iamuser",
	"stoplogging-iamuser-long-name",
	"stoplogging-responder",
	"stoplogging-root",
	"stoplogging-service-linked-role",
	"stoplogging-sso",
	"updateeventdatastore",
	"updatetrail-bucket-moved",
	"updatetrail-degrade",
	"updatetrail-harmless",
}

var wantMalformed = []string{
	"array", "detail-not-object", "empty-object", "huge-nesting", "missing-eventname",
	"missing-useridentity", "not-json", "null", "truncated", "wrong-detail-type",
}

const (
	account        = "123456789012"
	foreignAccount = "111122223333"
	trailARN       = "arn:aws:cloudtrail:us-east-1:123456789012:trail/management-trail"
)

var (
	uuidRE      = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	uuidAnyRE   = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)
	twelveDigit = regexp.MustCompile(`\d{12,}`)
	ipv4RE      = regexp.MustCompile(`\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b`)
	accessKeyRE = regexp.MustCompile(`\b(AKIA|ASIA)[A-Z0-9]{16}\b`)
)

type envelope struct {
	Version    string          `json:"version"`
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Account    string          `json:"account"`
	Time       string          `json:"time"`
	Region     string          `json:"region"`
	Resources  []any           `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
}

// check returns the parsed detail of a well-formed sample, or why it is not
// one. Malformed inputs must all fail it.
func check(raw []byte) (map[string]any, error) {
	if !json.Valid(raw) {
		return nil, errors.New("not valid JSON")
	}
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return nil, fmt.Errorf("envelope: %v", err)
	}
	if env.Version != "0" {
		return nil, fmt.Errorf("version %q", env.Version)
	}
	if !uuidRE.MatchString(env.ID) {
		return nil, fmt.Errorf("envelope id %q is not a UUID", env.ID)
	}
	if env.DetailType != "AWS API Call via CloudTrail" {
		return nil, fmt.Errorf("detail-type %q", env.DetailType)
	}
	if env.Account != account {
		return nil, fmt.Errorf("account %q", env.Account)
	}
	if env.Resources == nil {
		return nil, errors.New("resources missing or not an array")
	}
	var d map[string]any
	if err := json.Unmarshal(env.Detail, &d); err != nil || d == nil {
		return nil, fmt.Errorf("detail is not an object: %v", err)
	}
	str := func(k string) string { s, _ := d[k].(string); return s }
	for _, k := range []string{"eventVersion", "eventTime", "eventSource", "eventName", "awsRegion",
		"sourceIPAddress", "userAgent", "requestID", "eventID", "eventType", "recipientAccountId", "eventCategory"} {
		if str(k) == "" {
			return nil, fmt.Errorf("detail.%s missing", k)
		}
	}
	if str("eventVersion") != "1.11" {
		return nil, fmt.Errorf("eventVersion %q", str("eventVersion"))
	}
	svc, ok := strings.CutSuffix(str("eventSource"), ".amazonaws.com")
	if !ok {
		return nil, fmt.Errorf("eventSource %q", str("eventSource"))
	}
	if svc == "monitoring" { // CloudWatch: eventSource monitoring, EventBridge source aws.cloudwatch
		svc = "cloudwatch"
	}
	if env.Source != "aws."+svc {
		return nil, fmt.Errorf("source %q does not match eventSource %q", env.Source, str("eventSource"))
	}
	if env.Region == "" || env.Region != str("awsRegion") {
		return nil, fmt.Errorf("region %q vs awsRegion %q", env.Region, str("awsRegion"))
	}
	if env.Time != str("eventTime") {
		return nil, fmt.Errorf("time %q vs eventTime %q", env.Time, str("eventTime"))
	}
	if str("recipientAccountId") != account {
		return nil, fmt.Errorf("recipientAccountId %q", str("recipientAccountId"))
	}
	if !uuidRE.MatchString(str("eventID")) {
		return nil, fmt.Errorf("eventID %q is not a UUID", str("eventID"))
	}
	if str("eventType") != "AwsApiCall" || str("eventCategory") != "Management" ||
		d["managementEvent"] != true || d["readOnly"] != false {
		return nil, errors.New("not a write management AwsApiCall")
	}
	ui, _ := d["userIdentity"].(map[string]any)
	if t, _ := ui["type"].(string); t == "" {
		return nil, errors.New("detail.userIdentity.type missing")
	}
	if _, ok := d["requestParameters"]; !ok {
		return nil, errors.New("detail.requestParameters missing")
	}
	resp, ok := d["responseElements"]
	if !ok {
		return nil, errors.New("detail.responseElements missing")
	}
	if code := str("errorCode"); code != "" {
		if str("errorMessage") == "" {
			return nil, errors.New("errorCode without errorMessage")
		}
		if resp != nil {
			return nil, errors.New("failed call with non-null responseElements")
		}
	}
	if err := placeholdersOnly(raw); err != nil {
		return nil, err
	}
	return d, nil
}

// placeholdersOnly rejects anything that looks like a real account, address
// or access key.
func placeholdersOnly(raw []byte) error {
	// UUIDs (event and request IDs) may contain long digit runs by chance.
	raw = uuidAnyRE.ReplaceAll(raw, nil)
	for _, m := range twelveDigit.FindAll(raw, -1) {
		if s := string(m); s != account && s != foreignAccount {
			return fmt.Errorf("non-placeholder account-like number %s", s)
		}
	}
	for _, m := range ipv4RE.FindAll(raw, -1) {
		s := string(m)
		if !strings.HasPrefix(s, "198.51.100.") && !strings.HasPrefix(s, "203.0.113.") {
			return fmt.Errorf("non-documentation IP address %s", s)
		}
	}
	for _, m := range accessKeyRE.FindAll(raw, -1) {
		if !bytes.HasSuffix(m, []byte("EXAMPLE")) {
			return fmt.Errorf("non-example access key %s", m)
		}
	}
	return nil
}

func load(t *testing.T, name string) map[string]any {
	t.Helper()
	raw, err := Event(name)
	if err != nil {
		t.Fatal(err)
	}
	d, err := check(raw)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return d
}

func TestEverySampleIsWellFormed(t *testing.T) {
	eventIDs := map[string]string{}
	envIDs := map[string]string{}
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			raw, err := Event(name)
			if err != nil {
				t.Fatal(err)
			}
			d, err := check(raw)
			if err != nil {
				t.Fatal(err)
			}
			id := d["eventID"].(string)
			if other, dup := eventIDs[id]; dup {
				t.Errorf("eventID %s shared with %s", id, other)
			}
			eventIDs[id] = name
			var env envelope
			_ = json.Unmarshal(raw, &env)
			if other, dup := envIDs[env.ID]; dup {
				t.Errorf("envelope id %s shared with %s", env.ID, other)
			}
			envIDs[env.ID] = name

			_, failed := d["errorCode"]
			if wantFailed := strings.HasSuffix(name, "-failed"); failed != wantFailed {
				t.Errorf("errorCode present = %v, but name says failed = %v", failed, wantFailed)
			}
		})
	}
}

func TestNamesSortedAndComplete(t *testing.T) {
	got := Names()
	if !sort.StringsAreSorted(got) {
		t.Errorf("Names() not sorted: %v", got)
	}
	if !slices.Equal(got, wantNames) {
		t.Errorf("Names() = %v\nwant %v", got, wantNames)
	}
	// Every scenario file on disk is embedded and listed.
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	var onDisk []string
	for _, e := range entries {
		if !e.IsDir() {
			onDisk = append(onDisk, strings.TrimSuffix(e.Name(), ".json"))
		}
	}
	sort.Strings(onDisk)
	if !slices.Equal(onDisk, got) {
		t.Errorf("files on disk %v differ from Names() %v", onDisk, got)
	}
}

func TestEventUnknown(t *testing.T) {
	for _, name := range []string{"nope", "", "malformed/null", "../samples", "stoplogging-iamuser.json"} {
		if _, err := Event(name); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Event(%q) error = %v, want fs.ErrNotExist", name, err)
		}
	}
	_, err := Event("nope")
	if err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("error %v does not name the sample", err)
	}
}

func TestEventReturnsCopy(t *testing.T) {
	a, _ := Event("stoplogging-iamuser")
	a[0] = 'X'
	b, _ := Event("stoplogging-iamuser")
	if b[0] == 'X' {
		t.Error("Event shares its buffer with callers")
	}
}

func TestMalformedAreRejected(t *testing.T) {
	m := Malformed()
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if !slices.Equal(keys, wantMalformed) {
		t.Errorf("Malformed() keys = %v, want %v", keys, wantMalformed)
	}
	for k, raw := range m {
		if _, err := check(raw); err == nil {
			t.Errorf("malformed %s passes as a well-formed sample", k)
		}
	}
	if n := len(m["huge-nesting"]); n == 0 || n >= 100<<10 {
		t.Errorf("huge-nesting is %d bytes, want (0, 100 KiB)", n)
	}
	// Deeper than encoding/json's nesting limit: decoders must fail cleanly.
	var v any
	if err := json.Unmarshal(m["huge-nesting"], &v); err == nil {
		t.Error("huge-nesting decodes; it should exceed the decoder's depth limit")
	}
	for _, k := range []string{"missing-eventname", "missing-useridentity", "detail-not-object", "wrong-detail-type", "array", "null", "empty-object"} {
		if !json.Valid(m[k]) {
			t.Errorf("%s should be valid JSON (only its shape is wrong)", k)
		}
	}
	for _, k := range []string{"not-json", "truncated"} {
		if json.Valid(m[k]) {
			t.Errorf("%s should not be valid JSON", k)
		}
	}
}

func get(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

// TestScenarioShapes pins what each scenario is about, so a consumer can rely
// on it.
func TestScenarioShapes(t *testing.T) {
	cases := []struct {
		name, source, event, identity string
	}{
		{"stoplogging-iamuser", "cloudtrail", "StopLogging", "IAMUser"},
		{"stoplogging-iamuser-long-name", "cloudtrail", "StopLogging", "IAMUser"},
		{"stoplogging-assumedrole", "cloudtrail", "StopLogging", "AssumedRole"},
		{"stoplogging-sso", "cloudtrail", "StopLogging", "AssumedRole"},
		{"stoplogging-service-linked-role", "cloudtrail", "StopLogging", "AssumedRole"},
		{"stoplogging-root", "cloudtrail", "StopLogging", "Root"},
		{"stoplogging-federated", "cloudtrail", "StopLogging", "FederatedUser"},
		{"stoplogging-awsservice", "cloudtrail", "StopLogging", "AWSService"},
		{"stoplogging-awsaccount", "cloudtrail", "StopLogging", "AWSAccount"},
		{"stoplogging-failed", "cloudtrail", "StopLogging", "IAMUser"},
		{"stoplogging-by-name", "cloudtrail", "StopLogging", "IAMUser"},
		{"stoplogging-cloudformation", "cloudtrail", "StopLogging", "AssumedRole"},
		{"stoplogging-responder", "cloudtrail", "StopLogging", "AssumedRole"},
		{"deletetrail-iamuser", "cloudtrail", "DeleteTrail", "IAMUser"},
		{"deletetrail-failed", "cloudtrail", "DeleteTrail", "IAMUser"},
		{"updatetrail-degrade", "cloudtrail", "UpdateTrail", "IAMUser"},
		{"updatetrail-bucket-moved", "cloudtrail", "UpdateTrail", "IAMUser"},
		{"updatetrail-harmless", "cloudtrail", "UpdateTrail", "AssumedRole"},
		{"puteventselectors-no-management", "cloudtrail", "PutEventSelectors", "IAMUser"},
		{"puteventselectors-readonly", "cloudtrail", "PutEventSelectors", "IAMUser"},
		{"puteventselectors-exclusions", "cloudtrail", "PutEventSelectors", "IAMUser"},
		{"puteventselectors-advanced-no-management", "cloudtrail", "PutEventSelectors", "IAMUser"},
		{"puteventselectors-harmless", "cloudtrail", "PutEventSelectors", "AssumedRole"},
		{"puteventselectors-failed", "cloudtrail", "PutEventSelectors", "IAMUser"},
		{"puteventselectors-many-data-resources", "cloudtrail", "PutEventSelectors", "IAMUser"},
		{"deleteeventdatastore", "cloudtrail", "DeleteEventDataStore", "IAMUser"},
		{"stopeventdatastoreingestion", "cloudtrail", "StopEventDataStoreIngestion", "IAMUser"},
		{"updateeventdatastore", "cloudtrail", "UpdateEventDataStore", "IAMUser"},
		{"createtrail", "cloudtrail", "CreateTrail", "AssumedRole"},
		{"startlogging", "cloudtrail", "StartLogging", "AssumedRole"},
		{"addtags", "cloudtrail", "AddTags", "AssumedRole"},
		{"removetags", "cloudtrail", "RemoveTags", "IAMUser"},
		{"putinsightselectors", "cloudtrail", "PutInsightSelectors", "AssumedRole"},
		{"s3-putbucketlifecycle", "s3", "PutBucketLifecycle", "IAMUser"},
		{"s3-putbucketpolicy", "s3", "PutBucketPolicy", "IAMUser"},
		{"s3-deletebucketpolicy", "s3", "DeleteBucketPolicy", "IAMUser"},
		{"s3-deletebucket", "s3", "DeleteBucket", "IAMUser"},
		{"kms-disablekey", "kms", "DisableKey", "IAMUser"},
		{"kms-schedulekeydeletion", "kms", "ScheduleKeyDeletion", "IAMUser"},
		{"kms-putkeypolicy", "kms", "PutKeyPolicy", "IAMUser"},
		{"logs-deleteloggroup", "logs", "DeleteLogGroup", "IAMUser"},
		{"organizations-leaveorganization", "organizations", "LeaveOrganization", "IAMUser"},
		{"organizations-leaveorganization-failed", "organizations", "LeaveOrganization", "IAMUser"},
		{"events-disablerule", "events", "DisableRule", "IAMUser"},
		{"events-deleterule", "events", "DeleteRule", "IAMUser"},
		{"events-removetargets", "events", "RemoveTargets", "IAMUser"},
		{"events-putrule-never-matches", "events", "PutRule", "IAMUser"},
		{"s3-putbucketversioning-suspended", "s3", "PutBucketVersioning", "IAMUser"},
		{"s3-putbucketpublicaccessblock-weakened", "s3", "PutBucketPublicAccessBlock", "IAMUser"},
		{"s3-deletebucketpublicaccessblock", "s3", "DeleteBucketPublicAccessBlock", "IAMUser"},
		{"s3-putbucketacl-public", "s3", "PutBucketAcl", "IAMUser"},
		{"s3-putbucketencryption-foreign-key", "s3", "PutBucketEncryption", "IAMUser"},
		{"s3-putbucketreplication", "s3", "PutBucketReplication", "IAMUser"},
		{"s3-putbucketownershipcontrols", "s3", "PutBucketOwnershipControls", "IAMUser"},
		{"logs-putretentionpolicy", "logs", "PutRetentionPolicy", "IAMUser"},
		{"logs-deletemetricfilter", "logs", "DeleteMetricFilter", "IAMUser"},
		{"logs-deletesubscriptionfilter", "logs", "DeleteSubscriptionFilter", "IAMUser"},
		{"organizations-disableawsserviceaccess", "organizations", "DisableAWSServiceAccess", "IAMUser"},
		{"organizations-deregisterdelegatedadministrator", "organizations", "DeregisterDelegatedAdministrator", "IAMUser"},
		{"organizations-detachpolicy", "organizations", "DetachPolicy", "IAMUser"},
		{"lambda-addpermission", "lambda", "AddPermission20150331v2", "IAMUser"},
		{"lambda-putfunctioneventinvokeconfig", "lambda", "PutFunctionEventInvokeConfig", "IAMUser"},
		{"lambda-updatefunctionconfiguration-topic", "lambda", "UpdateFunctionConfiguration20150331v2", "IAMUser"},
		{"sns-settopicattributes", "sns", "SetTopicAttributes", "IAMUser"},
		{"cloudwatch-disablealarmactions", "monitoring", "DisableAlarmActions", "IAMUser"},
		{"cloudwatch-deletealarms", "monitoring", "DeleteAlarms", "IAMUser"},
		{"cloudwatch-putmetricalarm", "monitoring", "PutMetricAlarm", "IAMUser"},
		{"iam-detachuserpolicy-quarantine", "iam", "DetachUserPolicy", "IAMUser"},
		{"iam-deleterolepolicy-revocation", "iam", "DeleteRolePolicy", "IAMUser"},
		{"iam-createpolicyversion-quarantine", "iam", "CreatePolicyVersion", "IAMUser"},
		{"iam-setdefaultpolicyversion-quarantine", "iam", "SetDefaultPolicyVersion", "IAMUser"},
		{"events-putrule-disabled", "events", "PutRule", "IAMUser"},
		{"events-putrule-slower", "events", "PutRule", "IAMUser"},
		{"events-puttargets-input", "events", "PutTargets", "IAMUser"},
		{"events-puttargets-hijack", "events", "PutTargets", "IAMUser"},
		{"lambda-deletefunction", "lambda", "DeleteFunction20150331", "IAMUser"},
		{"lambda-updatefunctioncode", "lambda", "UpdateFunctionCode20150331v2", "IAMUser"},
		{"lambda-putfunctionconcurrency", "lambda", "PutFunctionConcurrency20171031", "IAMUser"},
		{"sns-deletetopic", "sns", "DeleteTopic", "IAMUser"},
		{"sns-unsubscribe", "sns", "Unsubscribe", "IAMUser"},
	}
	if len(cases) != len(wantNames) {
		t.Errorf("%d shape cases for %d scenarios", len(cases), len(wantNames))
	}
	for _, c := range cases {
		d := load(t, c.name)
		if got := d["eventSource"]; got != c.source+".amazonaws.com" {
			t.Errorf("%s: eventSource %v", c.name, got)
		}
		if got := d["eventName"]; got != c.event {
			t.Errorf("%s: eventName %v, want %s", c.name, got, c.event)
		}
		if got := get(d, "userIdentity", "type"); got != c.identity {
			t.Errorf("%s: userIdentity.type %v, want %s", c.name, got, c.identity)
		}
	}
}

func TestScenarioDetails(t *testing.T) {
	eq := func(name string, want any, path ...string) {
		t.Helper()
		got := get(load(t, name), path...)
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(want)
		if !bytes.Equal(gj, wj) {
			t.Errorf("%s: %s = %s, want %s", name, strings.Join(path, "."), gj, wj)
		}
	}
	eq("stoplogging-iamuser", "mallory", "userIdentity", "userName")
	eq("stoplogging-iamuser", trailARN, "requestParameters", "name")
	eq("stoplogging-iamuser", nil, "responseElements")
	eq("stoplogging-by-name", "management-trail", "requestParameters", "name")
	if n := get(load(t, "stoplogging-iamuser-long-name"), "userIdentity", "userName").(string); len(n) != 64 {
		t.Errorf("long user name has %d characters, want 64", len(n))
	}
	eq("stoplogging-assumedrole", "ci-deployer", "userIdentity", "sessionContext", "sessionIssuer", "userName")
	eq("stoplogging-assumedrole", "arn:aws:sts::123456789012:assumed-role/ci-deployer/mallory-session", "userIdentity", "arn")
	eq("stoplogging-sso", "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_AdministratorAccess_0123456789abcdef",
		"userIdentity", "sessionContext", "sessionIssuer", "arn")
	if a := get(load(t, "stoplogging-service-linked-role"), "userIdentity", "sessionContext", "sessionIssuer", "arn").(string); !strings.Contains(a, ":role/aws-service-role/") {
		t.Errorf("service-linked role ARN %s lacks the aws-service-role path", a)
	}
	eq("stoplogging-root", "arn:aws:iam::123456789012:root", "userIdentity", "arn")
	eq("stoplogging-federated", "IAMUser", "userIdentity", "sessionContext", "sessionIssuer", "type")
	eq("stoplogging-federated", "mallory", "userIdentity", "sessionContext", "sessionIssuer", "userName")
	eq("stoplogging-awsaccount", foreignAccount, "userIdentity", "accountId")
	eq("stoplogging-cloudformation", "cloudformation.amazonaws.com", "userIdentity", "invokedBy")
	eq("stoplogging-responder", "trailguard-responder", "userIdentity", "sessionContext", "sessionIssuer", "userName")
	eq("stoplogging-responder", "arn:aws:sts::123456789012:assumed-role/trailguard-responder/trailguard-responder", "userIdentity", "arn")
	eq("stoplogging-failed", "AccessDenied", "errorCode")

	eq("updatetrail-degrade", false, "requestParameters", "isMultiRegionTrail")
	eq("updatetrail-degrade", false, "responseElements", "logFileValidationEnabled")
	eq("updatetrail-degrade", nil, "responseElements", "kmsKeyId")
	eq("updatetrail-bucket-moved", "attacker-bucket-111122223333", "responseElements", "s3BucketName")
	eq("updatetrail-harmless", true, "responseElements", "isMultiRegionTrail")
	eq("updatetrail-harmless", "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", "responseElements", "kmsKeyId")

	sel := func(name string) map[string]any {
		s := get(load(t, name), "requestParameters", "eventSelectors").([]any)
		return s[0].(map[string]any)
	}
	if sel("puteventselectors-no-management")["includeManagementEvents"] != false {
		t.Error("no-management selector includes management events")
	}
	if sel("puteventselectors-readonly")["readWriteType"] != "ReadOnly" {
		t.Error("readonly selector is not ReadOnly")
	}
	if got := fmt.Sprint(sel("puteventselectors-exclusions")["excludeManagementEventSources"]); got != "[kms.amazonaws.com rdsdata.amazonaws.com]" {
		t.Errorf("exclusions = %s", got)
	}
	if h := sel("puteventselectors-harmless"); h["includeManagementEvents"] != true || h["readWriteType"] != "All" ||
		len(h["excludeManagementEventSources"].([]any)) != 0 || len(h["dataResources"].([]any)) == 0 {
		t.Errorf("harmless selector is not all management events plus data: %v", h)
	}
	adv := fmt.Sprint(get(load(t, "puteventselectors-advanced-no-management"), "requestParameters", "advancedEventSelectors"))
	if strings.Contains(adv, "Management") || !strings.Contains(adv, "Data") {
		t.Errorf("advanced selectors %s", adv)
	}

	eq("s3-putbucketlifecycle", "trailguard-logs-123456789012", "requestParameters", "bucketName")
	eq("s3-putbucketlifecycle", 1, "requestParameters", "LifecycleConfiguration", "Rule", "Expiration", "Days")
	eq("kms-disablekey", "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", "requestParameters", "keyId")
	eq("logs-deleteloggroup", "trailguard-trail", "requestParameters", "logGroupName")
	eq("events-disablerule", "trailguard-cloudtrail-tamper", "requestParameters", "name")
	eq("lambda-deletefunction", "trailguard-responder", "requestParameters", "functionName")
	eq("lambda-putfunctionconcurrency", 0, "requestParameters", "reservedConcurrentExecutions")
	eq("sns-deletetopic", "arn:aws:sns:us-east-1:123456789012:trailguard-alerts", "requestParameters", "topicArn")
}

func TestTestdataFilesAreTidy(t *testing.T) {
	// Scenario files are pretty-printed with a trailing newline so diffs stay
	// readable; malformed ones are whatever they need to be.
	for _, name := range Names() {
		raw, _ := Event(name)
		var buf bytes.Buffer
		if err := json.Indent(&buf, raw, "", "  "); err != nil {
			t.Fatal(err)
		}
		if !bytes.HasSuffix(raw, []byte("}\n")) {
			t.Errorf("%s: missing trailing newline", name)
		}
	}
	if _, err := os.Stat(filepath.Join("testdata", "malformed", "huge-nesting.json")); err != nil {
		t.Fatal(err)
	}
}

func TestSized(t *testing.T) {
	for _, size := range []int{3 << 10, 60 << 10, 255 << 10} {
		b, err := Sized(size)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > size || len(b) < size-200 || !json.Valid(b) {
			t.Errorf("Sized(%d): %d bytes, valid %v", size, len(b), json.Valid(b))
		}
	}
}
