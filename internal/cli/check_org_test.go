package cli

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/testworld/orgemu"
)

func TestCheckOrgChecksEveryAccountThroughItsRole(t *testing.T) {
	const mgmt, hub, member, locked = "123456789012", "222222222222", "111111111111", "444444444444"
	w, err := orgemu.NewWorld(t.Context(), orgemu.WorldSpec{Management: mgmt, Hub: hub, Members: []string{member, locked}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	if err := w.Org.Do(member, func(a *orgemu.Account) {
		a.PutTrail("us-east-1", orgemu.Trail{Name: "member-only-trail", Bucket: "b", MultiRegion: true, Logging: true, ManagementEvents: true})
	}); err != nil {
		t.Fatal(err)
	}
	if err := w.Org.Do(locked, func(a *orgemu.Account) {
		a.PutRole(config.DefaultMemberRoleName, orgemu.MemberTrust("arn:aws:iam::"+locked+":role/other", w.Org.ID, ""))
	}); err != nil {
		t.Fatal(err)
	}
	// The caller is the hub's responder role (a delegated administrator),
	// through the SDK's standard environment.
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL": w.Org.URL, "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": w.HubCreds.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY": w.HubCreds.SecretAccessKey, "AWS_SESSION_TOKEN": w.HubCreds.SessionToken,
		"AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull, "AWS_PROFILE": "", "AWS_EC2_METADATA_DISABLED": "true",
	} {
		t.Setenv(k, v)
	}
	e, out, errb := testEnv(false, nil)
	code := run(t.Context(), []string{"check", "--org", "--regions", "us-east-1", "--output", "json"}, e)
	var rep OrgReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("exit %d, not an organization report: %v\n%s\nstderr: %s", code, err, out, errb)
	}
	if code != ExitFindings || !rep.Organization || len(rep.Accounts) != 4 {
		t.Fatalf("exit %d, %d accounts; want 1 and 4 (management, hub, two members)", code, len(rep.Accounts))
	}
	for _, a := range rep.Accounts {
		switch {
		case a.ID == locked:
			if a.Error == "" || !strings.Contains(a.Error, "AccessDenied") || a.Report != nil {
				t.Errorf("account %s whose role refuses the caller: error %q", a.ID, a.Error)
			}
		case a.Report == nil:
			t.Errorf("account %s not checked: %s", a.ID, a.Error)
		case a.Report.Account != a.ID:
			t.Errorf("account %s was checked with the credentials of %s", a.ID, a.Report.Account)
		default:
			raw, _ := json.Marshal(a.Report)
			if has := strings.Contains(string(raw), "member-only-trail"); has != (a.ID == member) {
				t.Errorf("account %s report mentions the member's trail: %v", a.ID, has)
			}
		}
	}
	// The organization trail is the coverage of a member without a trail
	// of its own: no false "no trail is logging" there.
	var judged int
	for _, a := range rep.Accounts {
		if a.ID != hub || a.Report == nil {
			continue
		}
		for _, f := range a.Report.Findings {
			if f.ID == "account.trail-enabled" {
				judged++
				if f.Status != "pass" || !strings.Contains(f.Detail, "org-trail") {
					t.Errorf("account %s: %s %s %q, want pass through the organization trail", a.ID, f.ID, f.Status, f.Detail)
				}
			}
		}
	}
	if judged != 1 {
		t.Errorf("the hub account's trail coverage was judged %d times, want 1", judged)
	}
	// The table: one summary line per account, then each account's report.
	e, out, _ = testEnv(false, nil)
	run(t.Context(), []string{"check", "--org", "--regions", "us-east-1"}, e)
	for _, want := range []string{"ACCOUNT", member + " ", "member-001", locked, "not checked", "=== account " + member} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}
