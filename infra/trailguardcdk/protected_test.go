package trailguardcdk_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/trailguard/trailguard/internal/trail"
)

// The responder changes only the trails in TRAILGUARD_TRAILS (another
// trail's tampering is alerted with the command to run; see
// internal/respond/unprotected.go). The role must agree: every trail call
// it grants is granted on exactly those trails, never on trail/* or *, and
// each protected trail can be restarted. Were the two to disagree, a
// restore would be denied on AWS and retried into the failure queue.
func TestRoleGrantsTrailCallsOnProtectedTrailsOnly(t *testing.T) {
	trailCalls := []string{"cloudtrail:StartLogging", "cloudtrail:StopLogging", "cloudtrail:UpdateTrail", "cloudtrail:PutEventSelectors",
		"cloudtrail:CreateTrail", "cloudtrail:DeleteTrail"}
	for name, s := range map[string]*synthesized{"default": defaultStack(), "existing trail": existingStack(), "kms": kmsStack()} {
		t.Run(name, func(t *testing.T) {
			var trails []trail.Config
			if err := json.Unmarshal([]byte(s.env(t)["TRAILGUARD_TRAILS"]), &trails); err != nil || len(trails) == 0 {
				t.Fatalf("TRAILGUARD_TRAILS: %v %s", err, s.env(t)["TRAILGUARD_TRAILS"])
			}
			protected := func(resource string) bool {
				return slices.ContainsFunc(trails, func(c trail.Config) bool {
					return strings.HasSuffix(resource, ":trail/"+trail.ParseTrailRef(c.Name).Name)
				})
			}
			stmts, _ := s.responderPolicy(t)
			restartable := map[string]bool{}
			for _, st := range stmts {
				if !slices.ContainsFunc(st.Actions, func(a string) bool { return slices.Contains(trailCalls, a) }) {
					continue
				}
				for _, r := range st.Resources {
					if !protected(r) {
						t.Errorf("trail calls %v granted on %s, which is not a protected trail", st.Actions, r)
					}
					if slices.Contains(st.Actions, "cloudtrail:StartLogging") {
						restartable[r] = true
					}
				}
			}
			for _, c := range trails {
				ok := false
				for r := range restartable {
					ok = ok || strings.HasSuffix(r, ":trail/"+trail.ParseTrailRef(c.Name).Name)
				}
				if !ok {
					t.Errorf("protected trail %s cannot be restarted: no cloudtrail:StartLogging on it", c.Name)
				}
			}
		})
	}
}
