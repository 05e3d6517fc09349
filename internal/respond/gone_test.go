package respond_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/smithy-go"

	"github.com/trailguard/trailguard/internal/respond"
)

func noSuchEntity(msg string) error {
	return &smithy.GenericAPIError{Code: "NoSuchEntity", Message: msg}
}

func TestGoneIsDone(t *testing.T) {
	for _, c := range []struct {
		sample, op, msg string
		kind            respond.Kind
		// wantGone: the action is done "already gone"; otherwise failed.
		wantGone bool
	}{
		{"stoplogging-iamuser", "AttachUserPolicy", "The user with name mallory cannot be found.", respond.KindAttachUserPolicy, true},
		{"stoplogging-iamuser", "UpdateAccessKey", "The Access Key with id AKIAIOSFODNN7EXAMPLE cannot be found.", respond.KindDeactivateAccessKey, true},
		{"stoplogging-iamuser", "UpdateAccessKey", "The user with name mallory cannot be found.", respond.KindDeactivateAccessKey, true},
		{"stoplogging-assumedrole", "PutRolePolicy", "The role with name ci-deployer cannot be found.", respond.KindRevokeRoleSessions, true},
		// A missing quarantine policy is a setup error, not a gone user.
		{"stoplogging-iamuser", "AttachUserPolicy", "Policy " + denyAll + " does not exist or is not attachable.", respond.KindAttachUserPolicy, false},
	} {
		t.Run(c.op+"/"+c.msg, func(t *testing.T) {
			f := newFake()
			f.fail[c.op] = noSuchEntity(c.msg)
			rep, err := engine(t, f, nil).Respond(context.Background(), event(t, c.sample))
			if (err == nil) != c.wantGone {
				t.Fatalf("Respond error %v, want gone=%v", err, c.wantGone)
			}
			found := false
			for _, o := range rep.Outcomes {
				if o.Action.Kind != c.kind {
					continue
				}
				found = true
				switch {
				case c.wantGone && (o.Status != respond.StatusDone || !strings.HasPrefix(o.Detail, respond.DetailGone)):
					t.Errorf("%s: %s %q %s, want done %q", o.Action, o.Status, o.Detail, o.Error, respond.DetailGone)
				case !c.wantGone && o.Status != respond.StatusFailed:
					t.Errorf("%s: %s, want failed", o.Action, o.Status)
				}
			}
			if !found {
				t.Fatalf("no containment outcome for %s in %+v", c.op, rep.Outcomes)
			}
			// The alert reports the same outcome, never "FAILED" for a gone principal.
			if len(f.notified) != 1 {
				t.Fatalf("%d alerts, want 1", len(f.notified))
			}
			if c.wantGone && len(f.notified[0].Failed()) != 0 {
				t.Errorf("alert reports failures %+v", f.notified[0].Failed())
			}
		})
	}
}
