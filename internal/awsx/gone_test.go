package awsx_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/trailguard/trailguard/internal/awsx"
	"github.com/trailguard/trailguard/internal/respond"
)

// A user (and its key) or a role deleted before the responder gets there is
// contained already: the response succeeds, nothing is retried, and the
// alert says "already gone", not "contain FAILED".
func TestDeletedPrincipalIsAlreadyGone(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		sample string
		remove func(t *testing.T, w *world)
		kinds  []respond.Kind
	}{
		{"stoplogging-iamuser", func(t *testing.T, w *world) {
			if _, err := w.clients.IAM.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(w.user), AccessKeyId: aws.String(w.key)}); err != nil {
				t.Fatal(err)
			}
			if _, err := w.clients.IAM.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String(w.user)}); err != nil {
				t.Fatal(err)
			}
		}, []respond.Kind{respond.KindAttachUserPolicy, respond.KindDeactivateAccessKey}},
		{"stoplogging-iamuser", func(t *testing.T, w *world) {
			// Only the key: the user is still quarantined.
			if _, err := w.clients.IAM.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(w.user), AccessKeyId: aws.String(w.key)}); err != nil {
				t.Fatal(err)
			}
		}, []respond.Kind{respond.KindDeactivateAccessKey}},
		{"stoplogging-assumedrole", func(t *testing.T, w *world) {
			if _, err := w.clients.IAM.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(w.role)}); err != nil {
				t.Fatal(err)
			}
		}, []respond.Kind{respond.KindRevokeRoleSessions}},
	} {
		t.Run(c.sample, func(t *testing.T) {
			w := newWorld(t)
			w.stop(t)
			c.remove(t, w)
			rep, err := awsx.NewEngine(w.settings(t, nil), w.clients).Respond(ctx, w.event(t, c.sample))
			if err != nil {
				t.Fatalf("respond failed (Lambda would retry): %v", err)
			}
			gone := map[respond.Kind]bool{}
			for _, o := range rep.Outcomes {
				if o.Status != respond.StatusDone {
					t.Errorf("%s: %s %s", o.Action, o.Status, o.Error)
				}
				if strings.HasPrefix(o.Detail, respond.DetailGone) {
					gone[o.Action.Kind] = true
				}
			}
			for _, k := range c.kinds {
				if !gone[k] {
					t.Errorf("%s is not reported %q: %+v", k, respond.DetailGone, rep.Outcomes)
				}
			}
			if len(gone) != len(c.kinds) {
				t.Errorf("gone %v, want exactly %v", gone, c.kinds)
			}
			if !w.logging(t) {
				t.Error("not restored")
			}
			got := w.alerts(t, 1)
			if len(got) != 1 || strings.Contains(got[0].Subject, "FAILED") || strings.Contains(got[0].Message, `"failed"`) {
				t.Errorf("alerts %+v", got)
			}
		})
	}
}
