package respond

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/trailguard/trailguard/internal/catalog"
	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/trail"
)

// Reconciling containment: every principal the ContainmentStore remembers
// (containment_record.go) must still be contained. A lift no event announced
// (the event lost, the rule off at the time) is repaired exactly as the event
// path repairs DetachUserPolicy or DeleteRolePolicy, and alerted once as a
// drift. Two ends of a containment are not drift, and end the record:
//   - the principal is on the allow list: its owners lifted the containment
//     on purpose (the documented way);
//   - the principal is gone (IAM's NoSuchEntity): nothing can use it any
//     more, gone is done.
//
// A principal whose state cannot be read is an error of the run, never a
// drift and never a success.

// ContainmentReader is the part of IAM reconciliation reads a containment
// with. The SDK's IAM client satisfies it.
type ContainmentReader interface {
	ListAttachedUserPolicies(context.Context, *iam.ListAttachedUserPoliciesInput, ...func(*iam.Options)) (*iam.ListAttachedUserPoliciesOutput, error)
	GetRolePolicy(context.Context, *iam.GetRolePolicyInput, ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error)
	GetRole(context.Context, *iam.GetRoleInput, ...func(*iam.Options)) (*iam.GetRoleOutput, error)
}

// maxPolicyPages bounds the reading of one user's attached policies (IAM
// allows at most 20 managed policies per user: one page in practice).
const maxPolicyPages = 10

const iamSource = "iam.amazonaws.com"

// containmentDrift checks every recorded containment of this engine's
// account; what it checked goes to rep.Checked, what could not be read to
// record.
func (e *Engine) containmentDrift(ctx context.Context, rep *ReconcileReport, record func(error)) {
	store := e.contained
	if store == nil {
		return
	}
	ps, err := store.Contained(ctx)
	if err != nil {
		record(fmt.Errorf("read the contained principals from %s: %w", store.Where(), err))
		return
	}
	api, ok := e.iam.(ContainmentReader)
	if !ok && len(ps) > 0 {
		record(errors.New("reconcile: no IAM client to read containments with (ListAttachedUserPolicies, GetRolePolicy, GetRole)"))
		return
	}
	for _, p := range ps {
		account, kind, name, ok := parsePrincipal(p)
		switch {
		case !ok:
			record(fmt.Errorf("contained principal %q in %s: not an IAM user or role ARN", p, store.Where()))
			continue
		case e.account != "" && account != e.account:
			continue // another account's (organization mode)
		}
		what := "containment of " + kind + " " + name
		if e.settings.Allowed(p) {
			rep.Checked = append(rep.Checked, what+" (allow-listed: lifted by its owners, record dropped)")
			record(e.forget(ctx, p))
			continue
		}
		var d *Drift
		var gone bool
		if kind == "user" {
			d, gone, err = e.userContainment(ctx, api, account, name)
		} else {
			d, gone, err = e.roleContainment(ctx, api, account, name)
		}
		switch {
		case err != nil:
			rep.Checked = append(rep.Checked, what+" (cannot tell)")
			record(err)
		case gone:
			rep.Checked = append(rep.Checked, what+" ("+DetailGone+": record dropped)")
			record(e.forget(ctx, p))
		case d != nil:
			rep.Checked = append(rep.Checked, what)
			rep.Drifts = append(rep.Drifts, *d)
		default:
			rep.Checked = append(rep.Checked, what)
		}
	}
}

// forget drops a record; not in dry-run, which changes nothing.
func (e *Engine) forget(ctx context.Context, principal string) error {
	if e.settings.Mode == config.DryRun {
		return nil
	}
	if err := e.contained.ForgetContained(ctx, principal); err != nil {
		return fmt.Errorf("drop the record of %s from %s: %w", principal, e.contained.Where(), err)
	}
	return nil
}

// userContainment checks that the quarantine policy is still attached.
func (e *Engine) userContainment(ctx context.Context, api ContainmentReader, account, name string) (*Drift, bool, error) {
	in := &iam.ListAttachedUserPoliciesInput{UserName: aws.String(name)}
	for page := 0; page < maxPolicyPages; page++ {
		out, err := api.ListAttachedUserPolicies(ctx, in)
		switch {
		case errorCode(err) == "NoSuchEntity":
			return nil, true, nil
		case err != nil:
			return nil, false, fmt.Errorf("read the policies of contained user %s: %w", name, err)
		}
		for _, p := range out.AttachedPolicies {
			if aws.ToString(p.PolicyArn) == e.settings.QuarantinePolicyARN {
				return nil, false, nil
			}
		}
		if !out.IsTruncated || aws.ToString(out.Marker) == "" {
			t := Target{Kind: catalog.Contained, ID: name, Protected: true, Account: account}
			cs := []Change{{Field: "quarantine of user " + name, Now: "quarantine policy detached", Want: "attached", Fixable: true}}
			return &Drift{Resource: "user " + name, Field: "quarantine", Want: "quarantine policy attached", Got: "detached",
				Actions: e.asIf(iamSource, "DetachUserPolicy", t, cs, trail.Config{})}, false, nil
		}
		in.Marker = out.Marker
	}
	return nil, false, fmt.Errorf("read the policies of contained user %s: more than %d pages", name, maxPolicyPages)
}

// roleContainment checks that the revocation policy is still on the role and
// still revokes. GetRolePolicy answers NoSuchEntity both for a missing policy
// and for a missing role; GetRole tells them apart.
func (e *Engine) roleContainment(ctx context.Context, api ContainmentReader, account, name string) (*Drift, bool, error) {
	got := "revocation policy " + RevokePolicyName + " deleted"
	out, err := api.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(RevokePolicyName)})
	switch {
	case err == nil:
		if _, ok := revokedBefore(aws.ToString(out.PolicyDocument)); ok {
			return nil, false, nil
		}
		got = "revocation policy " + RevokePolicyName + " rewritten (no aws:TokenIssueTime cut-off)"
	case errorCode(err) == "NoSuchEntity":
		_, rerr := api.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
		switch {
		case errorCode(rerr) == "NoSuchEntity":
			return nil, true, nil
		case rerr != nil:
			return nil, false, fmt.Errorf("read contained role %s: %w", name, rerr)
		}
	default:
		return nil, false, fmt.Errorf("read the revocation of contained role %s: %w", name, err)
	}
	t := Target{Kind: catalog.Role, ID: name, Protected: true, Account: account}
	cs := []Change{{Field: "session revocation of role " + name, Now: "removed", Want: "in place", Fixable: true}}
	actions := e.asIf(iamSource, "DeleteRolePolicy", t, cs, trail.Config{})
	for i := range actions {
		// As NewPlan does for the event path: revoke what was issued until now.
		if a := &actions[i]; a.Kind == KindRevokeRoleSessions && a.IssuedBefore.IsZero() {
			a.IssuedBefore = e.now().UTC().Truncate(time.Second).Add(time.Second)
		}
	}
	return &Drift{Resource: "role " + name, Field: "session revocation", Want: "in place", Got: got, Actions: actions}, false, nil
}
