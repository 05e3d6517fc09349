package reliability_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// TestDuplicateDeliveriesConverge: EventBridge delivers at least once, so
// the same event (same id, same bytes) arrives three times. Every delivery
// is handled, the end state is the state one delivery gives (one deny-all
// attachment, the key inactive, one revocation policy), and the containment
// is not tripled: each IAM write and each alert happens once per event.
func TestDuplicateDeliveriesConverge(t *testing.T) {
	const deliveries = 3
	w := deploy(t, "dup")
	w.StopLogging()

	user, userID := w.Event("stoplogging-iamuser", nil)
	role, roleID := w.Event("stoplogging-assumedrole", nil)
	for range deliveries {
		w.Put(user)
		w.Put(role)
	}
	w.WaitFor(30*time.Second, "every delivery handled", func() bool {
		return len(w.Handled(userID)) == deliveries && len(w.Handled(roleID)) == deliveries
	})
	for _, id := range []string{userID, roleID} {
		for i, l := range w.Handled(id) {
			if l["level"] != "INFO" {
				t.Errorf("event %s delivery %d logged at %v: %v", id, i+1, l["level"], l)
			}
		}
	}

	if !w.Logging() {
		t.Error("trail does not log")
	}
	if n := w.attached(); n != 1 {
		t.Errorf("deny-all attached %d times, want 1", n)
	}
	if got := w.KeyStatus(); got != iamtypes.StatusTypeInactive {
		t.Errorf("access key %s, want Inactive", got)
	}
	pol, err := w.IAM.ListRolePolicies(w.Ctx, &iam.ListRolePoliciesInput{RoleName: aws.String(w.Role)})
	if err != nil {
		t.Fatal(err)
	}
	if len(pol.PolicyNames) != 1 {
		t.Errorf("role %s has inline policies %v, want the one revocation", w.Role, pol.PolicyNames)
	}

	calls := w.calls.snapshot()
	t.Logf("IAM writes for %d deliveries of each event: AttachUserPolicy %d, UpdateAccessKey %d, PutRolePolicy %d; SNS Publish %d",
		deliveries, calls["iam:AttachUserPolicy"], calls["iam:UpdateAccessKey"], calls["iam:PutRolePolicy"], calls["sns:Publish"])
	if got := calls["iam:PutRolePolicy"]; got != 1 {
		t.Errorf("PutRolePolicy reached IAM %d times, want 1: a duplicate must find the revocation in place", got)
	}
	// The responder remembers events it answered without failure: the
	// duplicates are neither contained nor alerted again.
	for _, op := range []string{"iam:AttachUserPolicy", "iam:UpdateAccessKey"} {
		if got := calls[op]; got != 1 {
			t.Errorf("%s reached IAM %d times for %d deliveries, want 1", op, got, deliveries)
		}
	}
	if got := calls["sns:Publish"]; got != 2 {
		t.Errorf("%d alerts for %d deliveries of two events, want 2", got, deliveries)
	}
}
