package respond

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/trailguard/trailguard/internal/catalog"
	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/policy"
	"github.com/trailguard/trailguard/internal/trail"
)

// Containment must hold: an intruder who lifts it (detaches the quarantine
// policy, deletes the revocation policy, rewrites a customer-managed
// quarantine policy) undoes trailguard's answer as surely as stopping the
// trail undoes CloudTrail. Such calls are undone and their actor contained in
// turn. The owners lift a containment on purpose by putting the principal on
// the allow list first: lifting the quarantine of an allow-listed principal is
// no tampering.

// containmentTarget fills the target of the calls that can undo a
// containment.
func containmentTarget(t *Target, r trail.Record, p params, e catalog.Entry, s config.Settings) {
	switch e.Response {
	case catalog.Requarantine:
		t.ID = p.UserName
		t.Protected = p.UserName != "" && p.PolicyArn == s.QuarantinePolicyARN
	case catalog.RestoreQuarantinePolicy:
		t.ID = p.PolicyArn
		t.Protected = p.PolicyArn != "" && p.PolicyArn == s.QuarantinePolicyARN
	case catalog.RestoreRevocation:
		// The responder's own role (surroundingTarget), or any role whose
		// revocation policy is removed.
		t.Protected = t.Protected || (p.RoleName != "" && p.PolicyName == RevokePolicyName)
	}
}

// containmentChanges judges a call that may lift a containment: it does,
// unless the principal is on the allow list (the owners' way to lift one).
func containmentChanges(e catalog.Entry, c Classification, p params, s config.Settings) []Change {
	account := c.Target.Account
	switch e.Response {
	case catalog.Requarantine:
		if s.Allowed("arn:aws:iam::" + account + ":user/" + p.UserName) {
			return nil
		}
		return []Change{{Field: "quarantine of user " + p.UserName, Now: "quarantine policy detached", Want: "attached", Fixable: true}}
	case catalog.RestoreRevocation:
		if p.RoleName == trail.RoleName(s.SelfRoleARN) && p.RoleName != "" {
			return []Change{{Field: "responder role " + p.RoleName, Now: "inline policy " + p.PolicyName + " deleted", Want: "as deployed", Fixable: false}}
		}
		if s.Allowed("arn:aws:iam::" + account + ":role/" + p.RoleName) {
			return nil
		}
		return []Change{{Field: "session revocation of role " + p.RoleName, Now: "removed", Want: "in place", Fixable: true}}
	case catalog.RestoreQuarantinePolicy:
		if !p.SetAsDefault || denyAll(p.PolicyDocument) {
			return nil
		}
		return []Change{{Field: "quarantine policy", Now: "a new default version that does not deny everything", Want: "deny all", Fixable: true}}
	}
	return nil
}

// denyAll reports whether a policy document denies every action on every
// resource without condition (AWSDenyAll's document). IAM documents in
// CloudTrail may be URL-encoded.
func denyAll(doc string) bool {
	if d, err := url.QueryUnescape(doc); err == nil {
		doc = d
	}
	d, err := policy.Parse([]byte(doc))
	if err != nil {
		return false
	}
	for _, st := range d.Statements {
		if st.Effect == "Deny" && slices.Contains(st.Action, "*") && slices.Contains(st.Resource, "*") && len(st.Conditions) == 0 && st.NotPrincipal == nil {
			return true
		}
	}
	return false
}

// DenyAllDocument is the quarantine policy's document (AWSDenyAll's).
const DenyAllDocument = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`

// containmentRestore plans the undo of a lifted containment. A revocation's
// cut-off is the plan's time, set by NewPlan.
func containmentRestore(c Classification, s config.Settings) []Action {
	t := c.Target
	switch c.Entry.Response {
	case catalog.Requarantine:
		return []Action{{Step: StepRestore, Kind: KindAttachUserPolicy, Target: t.ID, UserName: t.ID, PolicyARN: s.QuarantinePolicyARN,
			Reason: "the quarantine policy was detached from user " + t.ID + "; attach it again (to lift a quarantine, first add the user to " + config.EnvAllow + ")"}}
	case catalog.RestoreRevocation:
		if !degrading(c.Changes) || !c.Changes[0].Fixable {
			return []Action{manual(StepRestore, t.ID, "the responder's role was changed: "+redeployStep)}
		}
		return []Action{{Step: StepRestore, Kind: KindRevokeRoleSessions, Target: t.ID, RoleName: t.ID,
			Reason: "trailguard's session revocation was removed from role " + t.ID + "; revoke every session issued until now again (to lift it, first add the role to " + config.EnvAllow + ")"}}
	case catalog.RestoreQuarantinePolicy:
		return []Action{{Step: StepRestore, Kind: KindRestoreQuarantinePolicy, Target: t.ID, PolicyARN: t.ID,
			Reason: "the quarantine policy no longer denies everything; make a deny-all version its default again"}}
	}
	return nil
}

// PolicyVersionAPI is the part of IAM that rewrites a customer-managed
// quarantine policy. The SDK's IAM client satisfies it; an IAM client
// without it makes the action fail with a clear error.
type PolicyVersionAPI interface {
	CreatePolicyVersion(context.Context, *iam.CreatePolicyVersionInput, ...func(*iam.Options)) (*iam.CreatePolicyVersionOutput, error)
	ListPolicyVersions(context.Context, *iam.ListPolicyVersionsInput, ...func(*iam.Options)) (*iam.ListPolicyVersionsOutput, error)
	DeletePolicyVersion(context.Context, *iam.DeletePolicyVersionInput, ...func(*iam.Options)) (*iam.DeletePolicyVersionOutput, error)
}

// restoreQuarantinePolicy makes a deny-all version the policy's default. IAM
// keeps five versions: when they are all used, the oldest non-default one
// (the intruder's, or an old one) is deleted first.
func (e *Engine) restoreQuarantinePolicy(ctx context.Context, a Action) (string, error) {
	api, ok := e.iam.(PolicyVersionAPI)
	if !ok {
		return "", errNoClient
	}
	in := &iam.CreatePolicyVersionInput{PolicyArn: aws.String(a.PolicyARN), PolicyDocument: aws.String(DenyAllDocument), SetAsDefault: true}
	_, err := api.CreatePolicyVersion(ctx, in)
	if errorCode(err) != "LimitExceeded" {
		return "", err
	}
	vs, lerr := api.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: aws.String(a.PolicyARN)})
	if lerr != nil {
		return "", fmt.Errorf("list versions (five are kept): %w", lerr)
	}
	var old []string
	for _, v := range vs.Versions {
		if !v.IsDefaultVersion {
			old = append(old, aws.ToString(v.VersionId))
		}
	}
	if len(old) == 0 {
		return "", err
	}
	sort.Slice(old, func(i, j int) bool {
		return len(old[i]) < len(old[j]) || (len(old[i]) == len(old[j]) && old[i] < old[j])
	})
	if _, derr := api.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(a.PolicyARN), VersionId: aws.String(old[0])}); derr != nil {
		return "", fmt.Errorf("make room for a new version: %w", derr)
	}
	_, err = api.CreatePolicyVersion(ctx, in)
	return "deleted version " + old[0] + " to make room", err
}
