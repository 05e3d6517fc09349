package catalog_test

import (
	"encoding/json"
	"flag"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/trailguard/trailguard/internal/catalog"
)

var update = flag.Bool("update", false, "rewrite docs/catalog.md from the catalog")

// The tamper catalog (shared/docs/tamper-catalog.md) rows of the CloudTrail
// API, plus the informational CloudTrail changes the responder issue names.
func TestCloudTrailRowsPresent(t *testing.T) {
	for _, name := range []string{
		"StopLogging", "DeleteTrail", "UpdateTrail", "PutEventSelectors",
		"DeleteEventDataStore", "StopEventDataStoreIngestion", "UpdateEventDataStore",
		"CreateTrail", "StartLogging", "AddTags", "RemoveTags", "PutInsightSelectors",
	} {
		e, ok := catalog.Lookup("cloudtrail.amazonaws.com", name)
		if !ok {
			t.Errorf("%s missing", name)
			continue
		}
		if e.Blinds == "" || e.Undo == "" {
			t.Errorf("%s: undocumented", name)
		}
	}
	if _, ok := catalog.Lookup("cloudtrail.amazonaws.com", "DescribeTrails"); ok {
		t.Error("a read-only call is in the catalog")
	}
}

// Issue 5's rows: the trail's surroundings and the protection itself.
func TestBeyondTheTrailAPI(t *testing.T) {
	rows := map[string][]string{
		"s3.amazonaws.com":            {"PutBucketLifecycle", "PutBucketPolicy", "DeleteBucketPolicy", "DeleteBucket"},
		"kms.amazonaws.com":           {"DisableKey", "ScheduleKeyDeletion", "PutKeyPolicy"},
		"logs.amazonaws.com":          {"DeleteLogGroup"},
		"organizations.amazonaws.com": {"LeaveOrganization"},
		"events.amazonaws.com":        {"DisableRule", "DeleteRule", "RemoveTargets"},
		"lambda.amazonaws.com":        {"DeleteFunction20150331", "UpdateFunctionCode20150331v2", "PutFunctionConcurrency20171031", "DeleteFunctionConcurrency20171031", "UpdateFunctionConfiguration20150331v2", "RemovePermission20150331v2"},
		"sns.amazonaws.com":           {"DeleteTopic", "Unsubscribe"},
		"iam.amazonaws.com":           {"PutRolePolicy", "AttachRolePolicy", "DetachRolePolicy", "DeleteRolePolicy", "UpdateAssumeRolePolicy"},
	}
	for src, names := range rows {
		for _, n := range names {
			if _, ok := catalog.Lookup(src, n); !ok {
				t.Errorf("%s %s missing", src, n)
			}
		}
	}
	if e, _ := catalog.Lookup("organizations.amazonaws.com", "LeaveOrganization"); e.FailedSeverity != catalog.Critical {
		t.Error("a failed LeaveOrganization must still be critical")
	}
	global := map[string]bool{}
	for _, r := range catalog.Rules() {
		global[r.EventSource] = r.GlobalOnly
	}
	if !global["iam.amazonaws.com"] || !global["organizations.amazonaws.com"] || global["s3.amazonaws.com"] {
		t.Errorf("IAM and Organizations events arrive only in us-east-1: %v", global)
	}
}

func TestEntriesAreConsistent(t *testing.T) {
	seen := map[string]bool{}
	for _, e := range catalog.All() {
		for _, n := range e.EventNames() {
			k := e.Source + "/" + n
			if seen[k] {
				t.Errorf("%s listed twice", k)
			}
			seen[k] = true
		}
		if e.FailedSeverity > e.Severity {
			t.Errorf("%s: a failed attempt is rated above a successful one", e.Name)
		}
		if e.Contain && !e.Tamper() {
			t.Errorf("%s: contains the actor of a change that is not tampering", e.Name)
		}
		if e.Blinds == "" || e.Undo == "" {
			t.Errorf("%s: undocumented", e.Name)
		}
		if e.Tamper() && e.Severity < catalog.High {
			t.Errorf("%s: tampering below high severity", e.Name)
		}
	}
}

func TestRulesCoverTheCatalogExactly(t *testing.T) {
	var fromRules []string
	for _, r := range catalog.Rules() {
		p := r.Pattern
		if !slices.Equal(p.DetailType, []string{"AWS API Call via CloudTrail"}) {
			t.Errorf("%s: detail-type %q", r.ID, p.DetailType)
		}
		// Pinned source: a pattern on detail alone would match events
		// forged with PutEvents under any source.
		if len(p.Source) != 1 || p.Source[0] != catalog.EventBridgeSource(r.EventSource) || !strings.HasPrefix(p.Source[0], "aws.") {
			t.Errorf("%s: source %q", r.ID, p.Source)
		}
		if !slices.Equal(p.Detail.EventSource, []string{r.EventSource}) {
			t.Errorf("%s: eventSource %q", r.ID, p.Detail.EventSource)
		}
		for _, n := range p.Detail.EventName {
			fromRules = append(fromRules, r.EventSource+"/"+n)
		}
		var back map[string]any
		if err := json.Unmarshal([]byte(p.JSON()), &back); err != nil || len(back) != 3 {
			t.Errorf("%s: pattern JSON %s", r.ID, p.JSON())
		}
		if len(p.Map()) != 3 {
			t.Errorf("%s: Map() = %v", r.ID, p.Map())
		}
	}
	var fromCatalog []string
	for _, e := range catalog.All() {
		for _, n := range e.EventNames() {
			fromCatalog = append(fromCatalog, e.Source+"/"+n)
		}
	}
	slices.Sort(fromRules)
	slices.Sort(fromCatalog)
	if !slices.Equal(fromRules, fromCatalog) {
		t.Errorf("rules match %q\ncatalog has %q", fromRules, fromCatalog)
	}
}

func TestCloudTrailRulePattern(t *testing.T) {
	var ct *catalog.Rule
	for _, r := range catalog.Rules() {
		if r.ID == "cloudtrail" {
			ct = &r
		}
	}
	if ct == nil || ct.GlobalOnly {
		t.Fatalf("cloudtrail rule: %+v", ct)
	}
	want := `{"source":["aws.cloudtrail"],"detail-type":["AWS API Call via CloudTrail"],"detail":{"eventSource":["cloudtrail.amazonaws.com"],"eventName":["AddTags","CreateEventDataStore","CreateTrail","DeleteEventDataStore","DeleteTrail","PutEventSelectors","PutInsightSelectors","RemoveTags","StartEventDataStoreIngestion","StartLogging","StopEventDataStoreIngestion","StopLogging","UpdateEventDataStore","UpdateTrail"]}}`
	if got := ct.Pattern.JSON(); got != want {
		t.Errorf("pattern\n%s\nwant\n%s", got, want)
	}
}

func TestDocsAreGenerated(t *testing.T) {
	const path = "../../docs/catalog.md"
	got := catalog.Markdown()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/catalog -update)", err)
	}
	if string(b) != got {
		t.Error("docs/catalog.md is out of date: run go test ./internal/catalog -update")
	}
}
