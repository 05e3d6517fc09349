package notify_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/trailguard/trailguard/internal/notify"
	"github.com/trailguard/trailguard/internal/respond"
	"github.com/trailguard/trailguard/internal/samples"
)

// requireOCSF checks the attributes OCSF 1.3 requires of a Detection Finding
// (and of its finding_info and metadata objects), and the API Activity shape
// of the call it carries, on the JSON as a SIEM reads it.
func requireOCSF(t *testing.T, label string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var d map[string]any
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	get := func(path string) any {
		var cur any = d
		for _, k := range strings.Split(path, ".") {
			switch c := cur.(type) {
			case map[string]any:
				cur = c[k]
			case []any:
				if len(c) == 0 {
					return nil
				}
				cur = c[0].(map[string]any)[k]
			default:
				return nil
			}
		}
		return cur
	}
	num := func(path string) float64 {
		n, ok := get(path).(float64)
		if !ok {
			t.Errorf("%s: %s is missing or not a number", label, path)
		}
		return n
	}
	str := func(path string) string {
		s, ok := get(path).(string)
		if !ok || s == "" {
			t.Errorf("%s: %s is missing or empty", label, path)
		}
		return s
	}
	if num("class_uid") != 2004 || num("category_uid") != 2 {
		t.Errorf("%s: not a Detection Finding: class %v category %v", label, get("class_uid"), get("category_uid"))
	}
	act := num("activity_id")
	if act != 1 && act != 2 && act != 3 && act != 99 {
		t.Errorf("%s: activity_id %v", label, act)
	}
	if num("type_uid") != 2004*100+act {
		t.Errorf("%s: type_uid %v is not class_uid*100+activity_id", label, get("type_uid"))
	}
	if sev := num("severity_id"); sev < 0 || (sev > 6 && sev != 99) {
		t.Errorf("%s: severity_id %v", label, sev)
	}
	if st := num("status_id"); st < 0 || (st > 6 && st != 99) {
		t.Errorf("%s: status_id %v", label, st)
	}
	if num("time") <= 0 || num("finding_info.created_time") <= 0 {
		t.Errorf("%s: times %v %v", label, get("time"), get("finding_info.created_time"))
	}
	for _, p := range []string{"metadata.version", "metadata.product.name", "metadata.product.vendor_name",
		"finding_info.uid", "finding_info.title", "cloud.provider", "cloud.account.uid", "cloud.region",
		"evidences.api.operation", "evidences.api.service.name", "evidences.actor.user.type", "resources.uid", "resources.type"} {
		str(p)
	}
	if types, _ := get("finding_info.types").([]any); len(types) == 0 {
		t.Errorf("%s: finding_info.types empty", label)
	}
	if rel := num("finding_info.related_events.type_uid"); int(rel)/100 != 6003 {
		t.Errorf("%s: the call is not named as an API Activity event: type_uid %v", label, rel)
	}
}

func TestOCSFRequiredAttributesForEverySample(t *testing.T) {
	for _, name := range samples.Names() {
		for _, st := range []respond.Status{respond.StatusDone, respond.StatusFailed} {
			requireOCSF(t, name+"/"+string(st), notify.OCSF(report(t, name, st)))
		}
	}
}

func TestOCSFCarriesTheCallAndTheOutcome(t *testing.T) {
	r := report(t, "stoplogging-iamuser", respond.StatusDone)
	f := notify.OCSF(r)
	ev := f.Evidences[0]
	if ev.API.Operation != "StopLogging" || ev.API.Service.Name != "cloudtrail.amazonaws.com" ||
		ev.Actor.User.UID != "arn:aws:iam::123456789012:user/mallory" || ev.Actor.User.Type != "IAMUser" || ev.SrcEndpoint == nil || ev.SrcEndpoint.IP == "" {
		t.Errorf("evidence %+v", ev)
	}
	if f.SeverityID != 5 || f.Status != "Resolved" || f.StatusID != 4 {
		t.Errorf("severity %d status %d %s", f.SeverityID, f.StatusID, f.Status)
	}
	// One response, one identity: the OCSF finding and the Security Hub
	// finding share their id.
	if f.FindingInfo.UID != notify.ASFF(r, "us-east-1", now).ID {
		t.Errorf("finding uid %s differs from the ASFF Id", f.FindingInfo.UID)
	}
	if !strings.Contains(f.Unmapped["trailguard.action.01"], "[done] restore: start-logging") {
		t.Errorf("unmapped %v", f.Unmapped)
	}
	failed := notify.OCSF(report(t, "stoplogging-failed", respond.StatusDone))
	if failed.Evidences[0].API.Response == nil || failed.Evidences[0].API.Response.Error == "" {
		t.Errorf("a failed call's error is not carried: %+v", failed.Evidences[0].API)
	}
}

// The alert's JSON document carries the OCSF rendering.
func TestAlertDocumentCarriesOCSF(t *testing.T) {
	b, err := json.Marshal(notify.Document(report(t, "stoplogging-assumedrole", respond.StatusDone)))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Schema string          `json:"schema"`
		OCSF   json.RawMessage `json:"ocsf"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var f map[string]any
	if err := json.Unmarshal(doc.OCSF, &f); err != nil || doc.Schema != "trailguard.alert/v1" {
		t.Fatalf("document %s: %v", b, err)
	}
	requireOCSF(t, "alert document", f)
}
