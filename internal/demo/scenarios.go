package demo

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/trailguard/trailguard/internal/respond"
)

// scenarioDef is one attack: the call the intruder makes on the emulator,
// the CloudTrail sample that records it, and what must be true afterwards.
type scenarioDef struct {
	title  string
	sample string
	attack func(ctx context.Context, r *run) (string, error)
	verify func(res *Result) []Check
}

func (d scenarioDef) eventName() string {
	switch d.sample {
	case "deletetrail-iamuser":
		return "DeleteTrail"
	case "puteventselectors-no-management":
		return "PutEventSelectors"
	}
	return "StopLogging"
}

var scenarios = map[Scenario]scenarioDef{
	StopLogging: {
		title:  "an admin user stops the trail",
		sample: "stoplogging-iamuser",
		attack: func(ctx context.Context, r *run) (string, error) {
			n := r.opts.Names
			_, err := r.ct.StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String(n.Trail)})
			return fmt.Sprintf("%s (IAM user, key %s) calls cloudtrail:StopLogging on %s", n.User, r.w.KeyID, n.Trail), err
		},
		verify: func(res *Result) []Check {
			return []Check{logsAgain(res), quarantined(res), keyInactive(res)}
		},
	},
	DeleteTrail: {
		title:  "an admin user deletes the trail",
		sample: "deletetrail-iamuser",
		attack: func(ctx context.Context, r *run) (string, error) {
			n := r.opts.Names
			_, err := r.ct.DeleteTrail(ctx, &cloudtrail.DeleteTrailInput{Name: aws.String(n.Trail)})
			return fmt.Sprintf("%s (IAM user) calls cloudtrail:DeleteTrail on %s", n.User, n.Trail), err
		},
		verify: func(res *Result) []Check {
			exists := Check{Name: "the trail exists again (recreated from its baseline)", OK: res.After.TrailExists && !res.Attacked.TrailExists}
			return []Check{exists, logsAgain(res), management(res), quarantined(res), keyInactive(res)}
		},
	},
	BlindSelectors: {
		title:  "an admin user strips management events from the trail's selectors",
		sample: "puteventselectors-no-management",
		attack: func(ctx context.Context, r *run) (string, error) {
			n := r.opts.Names
			no := false
			_, err := r.ct.PutEventSelectors(ctx, &cloudtrail.PutEventSelectorsInput{
				TrailName: aws.String(n.Trail),
				EventSelectors: []cttypes.EventSelector{{
					ReadWriteType: cttypes.ReadWriteTypeAll, IncludeManagementEvents: &no,
					DataResources: []cttypes.DataResource{
						{Type: aws.String("AWS::S3::Object"), Values: []string{}},
						{Type: aws.String("AWS::Lambda::Function"), Values: []string{}},
					},
				}},
			})
			return fmt.Sprintf("%s (IAM user) calls cloudtrail:PutEventSelectors on %s: includeManagementEvents=false (the trail logs but sees nothing)", n.User, n.Trail), err
		},
		verify: func(res *Result) []Check {
			blinded := Check{Name: "management events are recorded again", OK: res.After.ManagementEvents && !res.Attacked.ManagementEvents}
			return []Check{blinded, quarantined(res), keyInactive(res)}
		},
	},
	RoleSession: {
		title:  "a session of an assumed role stops the trail",
		sample: "stoplogging-assumedrole",
		attack: func(ctx context.Context, r *run) (string, error) {
			n := r.opts.Names
			_, err := r.ct.StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String(n.Trail)})
			return fmt.Sprintf("session %s/mallory-session (assumed role, temporary credentials) calls cloudtrail:StopLogging on %s", n.Role, n.Trail), err
		},
		verify: func(res *Result) []Check {
			revoked := Check{Name: "the role's sessions issued until the response are revoked (aws:TokenIssueTime deny)",
				OK: res.After.RoleRevokedBefore != "" && res.Before.RoleRevokedBefore == "", Detail: res.After.RoleRevokedBefore}
			untouched := Check{Name: "no IAM user was quarantined", OK: len(res.After.UserPolicies) == 0}
			return []Check{logsAgain(res), revoked, untouched}
		},
	},
	FailedAttempt: {
		title:  "an admin user tries to stop the trail and is denied",
		sample: "stoplogging-failed",
		attack: func(_ context.Context, r *run) (string, error) {
			n := r.opts.Names
			// AWS refuses the call: nothing reaches the trail, only CloudTrail's record.
			return fmt.Sprintf("%s (IAM user) calls cloudtrail:StopLogging on %s and gets AccessDenied: the trail is untouched", n.User, n.Trail), nil
		},
		verify: func(res *Result) []Check {
			b, a := res.Before, res.After
			same := Check{Name: "nothing was changed (trail, user's policies and key, role)",
				OK: b.TrailExists == a.TrailExists && b.Logging == a.Logging && b.ManagementEvents == a.ManagementEvents &&
					slices.Equal(b.UserPolicies, a.UserPolicies) && b.KeyStatus == a.KeyStatus && b.RoleRevokedBefore == a.RoleRevokedBefore}
			noAction := Check{Name: "the responder took no action beyond alerting", OK: res.Handled != nil}
			if h := res.Handled; h != nil {
				for _, o := range h.Outcomes {
					if o.Status == string(respond.StatusDone) && !strings.HasPrefix(o.Action, string(respond.StepNotify)+":") {
						noAction.OK, noAction.Detail = false, o.Action
					}
				}
			}
			denied := Check{Name: "the alert reports the AccessDenied attempt", OK: res.Alert != nil && res.Alert.Document.Event.ErrorCode == "AccessDenied"}
			return []Check{same, noAction, denied}
		},
	},
}

func logsAgain(res *Result) Check {
	return Check{Name: "the trail logs again", OK: res.After.Logging && !res.Attacked.Logging}
}

func management(res *Result) Check {
	return Check{Name: "the trail records management events", OK: res.After.ManagementEvents}
}

func quarantined(res *Result) Check {
	c := Check{Name: "the user is quarantined (deny-all policy attached)", OK: slices.Contains(res.After.UserPolicies, res.Names.Policy)}
	c.Detail = strings.Join(res.After.UserPolicies, ", ")
	return c
}

func keyInactive(res *Result) Check {
	return Check{Name: "the user's access key is inactive", OK: res.After.KeyStatus == "Inactive", Detail: res.After.KeyStatus}
}

// describe renders a state for the timeline.
func describe(n Names, s State, keyID string) []string {
	tr := fmt.Sprintf("trail %s: ", n.Trail)
	if !s.TrailExists {
		tr += "DOES NOT EXIST"
	} else {
		tr += "logging " + onOff(s.Logging) + ", management events " + onOff(s.ManagementEvents)
	}
	pols := "none"
	if len(s.UserPolicies) > 0 {
		pols = strings.Join(s.UserPolicies, ", ")
	}
	role := "no session revocation"
	if s.RoleRevokedBefore != "" {
		role = "sessions issued before " + s.RoleRevokedBefore + " revoked"
	}
	return []string{
		tr,
		fmt.Sprintf("user %s: attached policies %s; access key %s %s", n.User, pols, keyID, s.KeyStatus),
		fmt.Sprintf("role %s: %s", n.Role, role),
	}
}

func onOff(b bool) string {
	if b {
		return "ON"
	}
	return "OFF"
}

func baseName(p string) string { return filepath.Base(p) }
