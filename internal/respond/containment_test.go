package respond_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"

	"github.com/trailguard/trailguard/internal/catalog"
	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/respond"
)

const customQuarantine = "arn:aws:iam::123456789012:policy/trailguard-deny-all"

// A containment lifted by a second principal (trent) is put back, and trent
// is contained in turn; every variant behaves like the other rows.
func TestLiftedContainmentRestored(t *testing.T) {
	trent := []string{"contain:attach-user-policy", "contain:deactivate-access-key", "notify:notify"}
	cases := []struct {
		sample string
		env    map[string]string
		check  func(t *testing.T, a respond.Action)
	}{
		{"iam-detachuserpolicy-quarantine", nil, func(t *testing.T, a respond.Action) {
			if a.Kind != respond.KindAttachUserPolicy || a.UserName != "mallory" || a.PolicyARN != denyAll {
				t.Errorf("restore %+v", a)
			}
		}},
		{"iam-deleterolepolicy-revocation", nil, func(t *testing.T, a respond.Action) {
			if a.Kind != respond.KindRevokeRoleSessions || a.RoleName != "ci-deployer" || !a.IssuedBefore.After(now) {
				t.Errorf("restore %+v", a)
			}
		}},
		{"iam-createpolicyversion-quarantine", map[string]string{config.EnvQuarantinePolicyARN: customQuarantine}, func(t *testing.T, a respond.Action) {
			if a.Kind != respond.KindRestoreQuarantinePolicy || a.PolicyARN != customQuarantine {
				t.Errorf("restore %+v", a)
			}
		}},
		{"iam-setdefaultpolicyversion-quarantine", map[string]string{config.EnvQuarantinePolicyARN: customQuarantine}, func(t *testing.T, a respond.Action) {
			if a.Kind != respond.KindRestoreQuarantinePolicy || a.PolicyARN != customQuarantine {
				t.Errorf("restore %+v", a)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.sample, func(t *testing.T) {
			s := settings(t, tc.env)
			c := respond.Classify(event(t, tc.sample), s)
			if !c.Tamper() || !c.Target.Protected || c.Severity != catalog.Critical {
				t.Fatalf("tamper=%v protected=%v severity=%s changes=%+v", c.Tamper(), c.Target.Protected, c.Severity, c.Changes)
			}
			p := respond.NewPlan(c, s, now)
			got := kinds(p)
			if len(got) != 4 || got[0][:8] != "restore:" || !slices.Equal(got[1:], trent) || p.Actions[1].UserName != "trent" {
				t.Fatalf("plan %q (%+v)", got, p.Actions)
			}
			tc.check(t, p.Actions[0])

			failed := event(t, tc.sample)
			failed.Record.ErrorCode = "AccessDenied"
			if got := kinds(respond.NewPlan(respond.Classify(failed, s), s, now)); !slices.Equal(got, []string{"notify:notify"}) {
				t.Errorf("failed attempt: %q", got)
			}
			allow := settings(t, withEnv(map[string]string{config.EnvAllow: "arn:aws:iam::123456789012:user/trent"}, tc.env))
			if got := kinds(respond.NewPlan(respond.Classify(event(t, tc.sample), allow), allow, now)); len(got) != 2 || got[1] != "notify:notify" {
				t.Errorf("allow-listed actor: %q, want restored, not contained", got)
			}
			deployedOrSelf(t, s, tc.sample, now)
		})
	}
}

// The owners lift a containment by allow-listing the principal first; the
// same calls on other users, roles and policies are not trailguard's.
func TestLiftingContainmentOnPurpose(t *testing.T) {
	owners := settings(t, map[string]string{config.EnvAllow: "arn:aws:iam::123456789012:user/mallory,arn:aws:iam::123456789012:role/ci-deployer"})
	for _, name := range []string{"iam-detachuserpolicy-quarantine", "iam-deleterolepolicy-revocation"} {
		if c := respond.Classify(event(t, name), owners); c.Tamper() {
			t.Errorf("%s of an allow-listed principal judged tampering: %+v", name, c.Changes)
		}
	}
	s := settings(t, nil)
	for name, params := range map[string]string{
		"iam-detachuserpolicy-quarantine":    `{"userName":"mallory","policyArn":"arn:aws:iam::123456789012:policy/ReadOnly"}`,
		"iam-deleterolepolicy-revocation":    `{"roleName":"ci-deployer","policyName":"something-else"}`,
		"iam-createpolicyversion-quarantine": `{"policyArn":"arn:aws:iam::123456789012:policy/other","policyDocument":"{}","setAsDefault":true}`,
	} {
		ev := event(t, name)
		ev.Record.RequestParameters = json.RawMessage(params)
		if p := respond.NewPlan(respond.Classify(ev, s), s, now); !p.Quiet {
			t.Errorf("%s on something else: %q", name, kinds(p))
		}
	}
	// The responder's own repair of the quarantine policy (deny-all, as the
	// default) is no tampering and stays quiet.
	custom := settings(t, map[string]string{config.EnvQuarantinePolicyARN: customQuarantine})
	ev := event(t, "iam-createpolicyversion-quarantine")
	ev.Record.RequestParameters, _ = json.Marshal(map[string]any{"policyArn": customQuarantine, "policyDocument": respond.DenyAllDocument, "setAsDefault": true})
	ev.Record.UserIdentity = event(t, "stoplogging-responder").Record.UserIdentity
	if p := respond.NewPlan(respond.Classify(ev, custom), custom, now); !p.Quiet {
		t.Errorf("the responder's own policy repair: %q", kinds(p))
	}
	// DeleteRolePolicy on the responder's own role is still a redeploy.
	ev = event(t, "iam-deleterolepolicy-revocation")
	ev.Record.RequestParameters = json.RawMessage(`{"roleName":"trailguard-responder","policyName":"Permissions"}`)
	if got := kinds(respond.NewPlan(respond.Classify(ev, s), s, now)); len(got) == 0 || got[0] != "restore:manual" {
		t.Errorf("responder role: %q", got)
	}
}

// policyIAM records what the quarantine-policy repair calls; its policy
// already holds five versions, so the oldest non-default one must go first.
type policyIAM struct {
	respond.IAMAPI
	calls    []string
	versions []string
}

func (f *policyIAM) CreatePolicyVersion(_ context.Context, in *iam.CreatePolicyVersionInput, _ ...func(*iam.Options)) (*iam.CreatePolicyVersionOutput, error) {
	f.calls = append(f.calls, "create "+aws.ToString(in.PolicyDocument))
	if len(f.versions) >= 5 {
		return nil, &smithy.GenericAPIError{Code: "LimitExceeded", Message: "A managed policy can have up to 5 versions"}
	}
	f.versions = append(f.versions, "new")
	return &iam.CreatePolicyVersionOutput{}, nil
}

func (f *policyIAM) ListPolicyVersions(context.Context, *iam.ListPolicyVersionsInput, ...func(*iam.Options)) (*iam.ListPolicyVersionsOutput, error) {
	var out iam.ListPolicyVersionsOutput
	for i, v := range f.versions {
		out.Versions = append(out.Versions, iamtypes.PolicyVersion{VersionId: aws.String(v), IsDefaultVersion: i == len(f.versions)-1})
	}
	return &out, nil
}

func (f *policyIAM) DeletePolicyVersion(_ context.Context, in *iam.DeletePolicyVersionInput, _ ...func(*iam.Options)) (*iam.DeletePolicyVersionOutput, error) {
	f.calls = append(f.calls, "delete "+aws.ToString(in.VersionId))
	f.versions = slices.DeleteFunc(f.versions, func(v string) bool { return v == aws.ToString(in.VersionId) })
	return &iam.DeletePolicyVersionOutput{}, nil
}

type nopNotifier struct{}

func (nopNotifier) Notify(context.Context, respond.Report) error { return nil }

func TestQuarantinePolicyRepairMakesRoom(t *testing.T) {
	s := settings(t, map[string]string{config.EnvQuarantinePolicyARN: customQuarantine})
	f := &policyIAM{versions: []string{"v10", "v2", "v3", "v4", "v5"}}
	e := respond.New(s, nil, f, nopNotifier{}, respond.WithClock(func() time.Time { return now }))
	rep, err := e.Respond(context.Background(), event(t, "iam-setdefaultpolicyversion-quarantine"))
	o := rep.Outcomes[0]
	if o.Action.Kind != respond.KindRestoreQuarantinePolicy || o.Status != respond.StatusDone {
		t.Fatalf("outcome %+v (err %v)", o, err)
	}
	want := []string{"create " + respond.DenyAllDocument, "delete v2", "create " + respond.DenyAllDocument}
	if !slices.Equal(f.calls, want) {
		t.Errorf("calls %q\nwant %q", f.calls, want)
	}
}
