package demo_test

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard/internal/demo"
	"github.com/trailguard/trailguard/internal/testworld"
	"github.com/trailguard/trailguard/internal/testworld/worldtest"
)

// bootstrap is the responder binary, built once: the same code path the
// CLI's hidden lambda-responder command runs.
var bootstrap string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "trailguard-demo-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if bootstrap, err = testworld.BuildResponder(ctx, dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

func play(t *testing.T, sc demo.Scenario, suffix string) demo.Result {
	t.Helper()
	res, err := demo.Run(t.Context(), sc, demo.Options{
		Responder: demo.Responder{Path: bootstrap},
		Names:     demo.DefaultNames().WithSuffix(worldtest.Fresh(suffix)), // -count=N meets fresh names
		Wait:      30 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK {
		var b strings.Builder
		_ = demo.WriteText(&b, res)
		t.Errorf("verdict FAIL:\n%s", b.String())
	}
	return res
}

func TestScenarios(t *testing.T) {
	for _, sc := range demo.Scenarios() {
		t.Run(string(sc), func(t *testing.T) {
			res := play(t, sc, "t-"+string(sc))
			b, a := res.Before, res.After
			if !b.Logging || len(b.UserPolicies) != 0 || b.KeyStatus != "Active" {
				t.Errorf("world not as deployed before the attack: %+v", b)
			}
			if res.Alert == nil || res.Alert.Document.Event.ID != res.EventID {
				t.Errorf("alert = %+v, want one about %s", res.Alert, res.EventID)
			}
			quarantined := slices.Contains(a.UserPolicies, res.Names.Policy) && a.KeyStatus == "Inactive"
			switch sc {
			case demo.StopLogging, demo.DeleteTrail, demo.BlindSelectors:
				if !a.TrailExists || !a.Logging || !a.ManagementEvents || !quarantined {
					t.Errorf("after = %+v, want a logging trail and the user quarantined", a)
				}
			case demo.RoleSession:
				if !a.Logging || a.RoleRevokedBefore == "" || len(a.UserPolicies) != 0 {
					t.Errorf("after = %+v, want logging and the role's sessions revoked", a)
				}
			case demo.FailedAttempt:
				if !reflect.DeepEqual(a, b) {
					t.Errorf("failed attempt changed the state: before %+v, after %+v", b, a)
				}
			}
			switch sc {
			case demo.DeleteTrail:
				if res.Attacked.TrailExists {
					t.Error("the attack did not delete the trail")
				}
			case demo.BlindSelectors:
				if res.Attacked.ManagementEvents {
					t.Error("the attack did not blind the trail")
				}
			case demo.StopLogging, demo.RoleSession:
				if res.Attacked.Logging {
					t.Error("the attack did not stop the trail")
				}
			}
		})
	}
}

// timestamp is the timeline's time column, whose values vary run to run.
var timestamp = regexp.MustCompile(`(?m)^ *\d+\.\d  `)

// TestTimelineStructure pins the shape of the printed demo: the phases in
// order, the state lines, the alert's parts and the verdict; not the
// millisecond values, keys or ids.
func TestTimelineStructure(t *testing.T) {
	res := play(t, demo.StopLogging, "timeline")
	var b strings.Builder
	if err := demo.WriteText(&b, res); err != nil {
		t.Fatal(err)
	}
	var phases []string
	for _, s := range res.Steps {
		if len(phases) == 0 || phases[len(phases)-1] != string(s.Phase) {
			phases = append(phases, string(s.Phase))
		}
	}
	want := []string{"setup", "state", "attack", "state", "detect", "respond", "notify", "state"}
	if !slices.Equal(phases, want) {
		t.Errorf("phases = %v, want %v", phases, want)
	}
	for i := 1; i < len(res.Steps); i++ {
		if res.Steps[i].Ms < res.Steps[i-1].Ms {
			t.Errorf("step %d at %.1f ms is before step %d at %.1f ms", i, res.Steps[i].Ms, i-1, res.Steps[i-1].Ms)
		}
	}
	out := b.String()
	if n := len(timestamp.FindAllString(out, -1)); n != len(res.Steps) {
		t.Errorf("%d timestamped lines, want one per step (%d):\n%s", n, len(res.Steps), out)
	}
	for _, s := range []string{
		"trailguard demo: an admin user stops the trail (scenario stop-logging)\n",
		"\nTIMELINE (ms since start)\n",
		"setup    trail management-trail-timeline logging to bucket",
		"attack   mallory-timeline (IAM user, key ",
		"trail management-trail-timeline: logging OFF",
		"detect   rule trailguard-cloudtrail-timeline matches it",
		"respond  responder handled it in ",
		"done    restore: start-logging ",
		"done    contain: attach-user-policy mallory-timeline",
		"done    contain: deactivate-access-key ",
		"notify   the owner's subscriber receives the alert: ",
		"\nALERT (as the topic's subscriber received it)\n  subject     CRITICAL StopLogging by mallory-timeline",
		"\n  actor       mallory-timeline (IAMUser) arn:aws:iam::123456789012:user/mallory-timeline",
		"\n  response    enforce\n    1. [done] restore: start-logging",
		"\n  console     https://us-east-1.console.aws.amazon.com/cloudtrail/home",
		"\nVERDICT: PASS: the response really happened (",
		"  [ok  ] the trail logs again\n",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}
}

func TestParseScenario(t *testing.T) {
	for _, s := range []string{"stop-logging", "all", "failed-attempt"} {
		if _, err := demo.ParseScenario(s); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	if _, err := demo.ParseScenario("steal-keys"); err == nil {
		t.Error("unknown scenario accepted")
	}
}
