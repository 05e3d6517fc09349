package demo

import (
	"strings"
	"testing"

	"github.com/trailguard/trailguard/internal/notify"
	"github.com/trailguard/trailguard/internal/respond"
)

// The scenarios themselves are played on the emulator once, in the e2e
// tests (the whole chain, real bootstrap); the demo's one real run is the
// command's test in internal/cli. What is the demo's own is its verdict:
// whether it says PASS only when the response really happened. That is
// decided on the result alone, so it is checked here, for every scenario,
// on results made by hand: the states the e2e tests observe.

// responded is a scenario's result when the response happened.
func responded(sc Scenario) Result {
	n := DefaultNames()
	deployed := State{TrailExists: true, Logging: true, ManagementEvents: true, KeyStatus: "Active"}
	attacked, after := deployed, deployed
	after.UserPolicies, after.KeyStatus = []string{n.Policy}, "Inactive"
	done := []Outcome{
		{Action: "restore: start-logging " + n.Trail, Status: string(respond.StatusDone)},
		{Action: "contain: attach-user-policy " + n.User, Status: string(respond.StatusDone)},
		{Action: "contain: deactivate-access-key", Status: string(respond.StatusDone)},
		{Action: string(respond.StepNotify) + ": publish", Status: string(respond.StatusDone)},
	}
	severity, errorCode := "CRITICAL", ""
	switch sc {
	case StopLogging:
		attacked.Logging = false
	case DeleteTrail:
		attacked = State{KeyStatus: "Active"}
	case BlindSelectors:
		attacked.ManagementEvents = false
	case RoleSession:
		attacked.Logging = false
		after = deployed
		after.RoleRevokedBefore = "2026-01-02T03:04:05Z"
		done = []Outcome{done[0], {Action: "contain: revoke-role-sessions " + n.Role, Status: string(respond.StatusDone)}, done[3]}
	case FailedAttempt:
		after = deployed
		done = done[3:]
		severity, errorCode = "MEDIUM", "AccessDenied"
	}
	def := scenarios[sc]
	return Result{
		Scenario: sc, Names: n, EventID: "ev-1",
		Before: deployed, Attacked: attacked, After: after,
		Handled: &Handled{Level: "INFO", Outcomes: done},
		Alert: &Alert{Subject: severity + " " + def.eventName() + " by " + n.User,
			Document: notify.Alert{Event: notify.AlertEvent{ID: "ev-1", Name: def.eventName(), ErrorCode: errorCode}}},
	}
}

// mutations spoil one part of a result; mustSee lists, per scenario, the
// ones its checks must catch.
var mutations = map[string]func(*Result){
	"trail gone":            func(r *Result) { r.After.TrailExists = false },
	"not logging":           func(r *Result) { r.After.Logging = false },
	"no management events":  func(r *Result) { r.After.ManagementEvents = false },
	"user not quarantined":  func(r *Result) { r.After.UserPolicies = nil },
	"user quarantined":      func(r *Result) { r.After.UserPolicies = []string{r.Names.Policy} },
	"key active":            func(r *Result) { r.After.KeyStatus = "Active" },
	"key inactive":          func(r *Result) { r.After.KeyStatus = "Inactive" },
	"sessions not revoked":  func(r *Result) { r.After.RoleRevokedBefore = "" },
	"sessions revoked":      func(r *Result) { r.After.RoleRevokedBefore = "2026-01-02T03:04:05Z" },
	"already logging":       func(r *Result) { r.Attacked.Logging = true },
	"trail never deleted":   func(r *Result) { r.Attacked.TrailExists = true },
	"selectors never blind": func(r *Result) { r.Attacked.ManagementEvents = true },
	"acted": func(r *Result) {
		r.Handled = &Handled{Level: "INFO", Outcomes: []Outcome{{Action: "contain: attach-user-policy " + r.Names.User, Status: string(respond.StatusDone)}}}
	},
	"not reported as denied": func(r *Result) {
		a := *r.Alert
		a.Document.Event.ErrorCode = ""
		r.Alert = &a
	},
}

var mustSee = map[Scenario][]string{
	StopLogging:    {"not logging", "already logging", "user not quarantined", "key active"},
	DeleteTrail:    {"trail gone", "trail never deleted", "not logging", "no management events", "user not quarantined", "key active"},
	BlindSelectors: {"no management events", "selectors never blind", "user not quarantined", "key active"},
	RoleSession:    {"not logging", "already logging", "sessions not revoked", "user quarantined"},
	FailedAttempt:  {"trail gone", "not logging", "no management events", "user quarantined", "key inactive", "sessions revoked", "acted", "not reported as denied"},
}

func failing(cs []Check) []string {
	var names []string
	for _, c := range cs {
		if !c.OK {
			names = append(names, c.Name)
		}
	}
	return names
}

func TestVerdict(t *testing.T) {
	for _, sc := range Scenarios() {
		def := scenarios[sc]
		t.Run(string(sc), func(t *testing.T) {
			res := responded(sc)
			if bad := failing(verdict(def, &res)); len(bad) != 0 {
				t.Errorf("a response that happened fails %q", bad)
			}

			// The responder says done and alerts, but one part of the world
			// is not as the response must leave it: the scenario's own checks
			// must see each such part.
			for _, name := range mustSee[sc] {
				bad := res
				bad.After.UserPolicies = append([]string(nil), res.After.UserPolicies...)
				mutations[name](&bad)
				if got := failing(def.verify(&bad)); len(got) == 0 {
					t.Errorf("%s: the verdict passes", name)
				}
			}
			// No alert and no report from the responder.
			silent := res
			silent.Handled, silent.Alert = nil, nil
			if bad := failing(verdict(def, &silent)); len(bad) < 3 {
				t.Errorf("a silent responder fails only %q", bad)
			}

			// A failed action, or an alert about another event, fails it too.
			failed := res
			failed.Handled = &Handled{Level: "ERROR", Outcomes: append([]Outcome{{Action: "restore: x", Status: string(respond.StatusFailed), Error: "throttled"}}, res.Handled.Outcomes...)}
			if bad := strings.Join(failing(verdict(def, &failed)), "; "); !strings.Contains(bad, "none failed") {
				t.Errorf("a failed action passes: failing checks %q", bad)
			}
			other := res
			other.Alert = &Alert{Subject: res.Alert.Subject, Document: notify.Alert{Event: notify.AlertEvent{ID: "ev-2", Name: def.eventName()}}}
			if bad := strings.Join(failing(verdict(def, &other)), "; "); !strings.Contains(bad, "alert about the event") {
				t.Errorf("an alert about another event passes: failing checks %q", bad)
			}
			long := res
			long.Alert = &Alert{Subject: strings.Repeat("x", 100), Document: res.Alert.Document}
			if bad := strings.Join(failing(verdict(def, &long)), "; "); !strings.Contains(bad, "subject is valid") {
				t.Errorf("a 100-character subject passes: failing checks %q", bad)
			}
		})
	}
}
