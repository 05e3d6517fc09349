package reliability_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/trailguard/trailguard/internal/catalog"
	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/testworld"
	"github.com/trailguard/trailguard/internal/testworld/worldtest"
)

// handledBy returns fn's "event handled" log lines for eventID.
func handledBy(t *testing.T, fn *testworld.Function, eventID string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for l := range strings.Lines(fn.Output()) {
		if !strings.Contains(l, `"event handled`) || !strings.Contains(l, eventID) {
			continue
		}
		var line map[string]any
		if err := json.Unmarshal([]byte(l), &line); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		out = append(out, line)
	}
	return out
}

// TestDuplicatesAcrossExecutionEnvironmentsAnsweredOnce: two processes of
// the real bootstrap, two execution environments sharing the event table
// (TRAILGUARD_DEDUP_TABLE), each behind its own rule, so that every event
// EventBridge delivers reaches both; and each event is put three times.
// Six deliveries of each event, across two environments: one round of IAM
// writes and one alert per event, and every delivery restores.
func TestDuplicatesAcrossExecutionEnvironmentsAnsweredOnce(t *testing.T) {
	const puts = 3
	calls := &counter{n: map[string]int{}}
	srv, ctx := worldtest.Start(t, testworld.WithFault(calls.hook))
	w := worldtest.Target(t, srv, ctx, "envs")
	table := "trailguard-events-envs"
	if err := srv.CreateDedupTable(ctx, table); err != nil {
		t.Fatal(err)
	}
	w.ResponderWorld.Extra = map[string]string{config.EnvDedupTable: table}
	var second *testworld.Function
	secondRule := w.Responder + "-2-cloudtrail"
	t.Cleanup(func() {
		// kumo's rules outlive the Server: remove ours (as Teardown does).
		eb := eventbridge.NewFromConfig(srv.Config(ctx))
		_, _ = eb.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{Rule: aws.String(secondRule), Ids: []string{"target"}})
		_, _ = eb.DeleteRule(ctx, &eventbridge.DeleteRuleInput{Name: aws.String(secondRule)})
		if second != nil {
			_ = second.Stop()
		}
		w.Teardown()
		if t.Failed() && w.Fn != nil && second != nil {
			t.Logf("first environment:\n%s\nsecond environment:\n%s", tail(w.Fn.Output()), tail(second.Output()))
		}
	})
	if err := w.ResponderWorld.Deploy(ctx, bootstrapBin); err != nil {
		t.Fatal(err)
	}
	// The second environment: the same code and settings, its own process.
	name2 := w.Responder + "-2"
	arn2, err := srv.CreateFunction(ctx, name2, w.SelfRoleARN, nil)
	if err != nil {
		t.Fatal(err)
	}
	if second, err = srv.StartFunction(ctx, name2, bootstrapBin, w.Env(w.SelfRoleARN)); err != nil {
		t.Fatal(err)
	}
	pattern := ""
	for _, r := range catalog.Rules() {
		if r.ID == "cloudtrail" {
			pattern = r.Pattern.JSON()
		}
	}
	if _, err := srv.CreateRule(ctx, secondRule, pattern, arn2); err != nil {
		t.Fatal(err)
	}

	w.StopLogging()
	before := calls.snapshot()
	user, userID := w.Event("stoplogging-iamuser", nil)
	role, roleID := w.Event("stoplogging-assumedrole", nil)
	for range puts {
		w.Put(user)
		w.Put(role)
	}
	handled := func(id string) (a, b int) { return len(handledBy(t, w.Fn, id)), len(handledBy(t, second, id)) }
	w.WaitFor(60*time.Second, "every delivery handled in both environments", func() bool {
		ua, ub := handled(userID)
		ra, rb := handled(roleID)
		return ua == puts && ub == puts && ra == puts && rb == puts
	})
	answered := 0
	for _, fn := range []*testworld.Function{w.Fn, second} {
		for _, id := range []string{userID, roleID} {
			for _, l := range handledBy(t, fn, id) {
				if l["level"] != "INFO" {
					t.Errorf("%s: event %s logged at %v", fn.Name, id, l["level"])
				}
				if l["duplicate"] == "" {
					answered++
				}
			}
		}
	}
	if answered != 2 {
		t.Errorf("%d deliveries answered (contained and alerted), want 2: one per event", answered)
	}
	if !w.Logging() {
		t.Error("trail does not log")
	}
	if n := (world{w, calls}).attached(); n != 1 {
		t.Errorf("deny-all attached %d times, want 1", n)
	}
	c := calls.snapshot()
	t.Logf("%d puts of two events, delivered to two environments: AttachUserPolicy %d, UpdateAccessKey %d, PutRolePolicy %d, SNS Publish %d, DynamoDB UpdateItem %d, StartLogging %d",
		puts, c["iam:AttachUserPolicy"], c["iam:UpdateAccessKey"], c["iam:PutRolePolicy"], c["sns:Publish"], c["dynamodb:UpdateItem"],
		c["cloudtrail:StartLogging"]-before["cloudtrail:StartLogging"])
	for _, op := range []string{"iam:AttachUserPolicy", "iam:UpdateAccessKey", "iam:PutRolePolicy"} {
		if c[op] != 1 {
			t.Errorf("%s reached IAM %d times, want 1", op, c[op])
		}
	}
	if c["sns:Publish"] != 2 {
		t.Errorf("%d alerts, want 2 (one per event)", c["sns:Publish"])
	}
	// Every delivery restored: the restore waits for no claim.
	if n := c["cloudtrail:StartLogging"] - before["cloudtrail:StartLogging"]; n != 4*puts {
		t.Errorf("StartLogging %d times, want %d (every delivery restores)", n, 4*puts)
	}
}

func tail(s string) string {
	if len(s) > 20000 {
		return "…" + s[len(s)-20000:]
	}
	return s
}
