package e2e_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/testworld"
	"github.com/trailguard/trailguard/internal/testworld/worldtest"
)

// TestContainmentKeptAfterColdStart: the real bootstrap contains mallory
// through the event (TRAILGUARD_DEDUP_TABLE set, as the stack sets it). A
// new execution environment, a second process with the same code and
// settings and nothing in memory, then receives the schedule after the
// quarantine was detached with no event delivered: it reads the record
// from the table, attaches the quarantine again and alerts the drift.
func TestContainmentKeptAfterColdStart(t *testing.T) {
	srv, ctx := worldtest.Start(t)
	w := world{worldtest.Target(t, srv, ctx, "cold")}
	table := "trailguard-events-" + w.Responder
	if err := srv.CreateDedupTable(ctx, table); err != nil {
		t.Fatal(err)
	}
	w.ResponderWorld.Extra = map[string]string{config.EnvDedupTable: table}
	var cold *testworld.Function
	t.Cleanup(func() {
		if cold != nil {
			_ = cold.Stop()
		}
		w.Teardown()
		if t.Failed() && cold != nil {
			t.Logf("new environment's output:\n%s", cold.Output())
		}
	})
	if err := w.ResponderWorld.Deploy(ctx, bootstrapBin); err != nil {
		t.Fatal(err)
	}
	w.stopLogging()
	raw, id := w.Event("stoplogging-iamuser", nil)
	w.Put(raw)
	w.waitHandled(id)
	if got := w.AttachedPolicies(); !slices.Contains(got, w.PolicyARN) {
		t.Fatalf("not quarantined by the event: %v", got)
	}
	w.alert()

	// Lifted behind trailguard's back: no event reaches the responder.
	if _, err := w.IAM.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String(w.User), PolicyArn: aws.String(w.PolicyARN)}); err != nil {
		t.Fatal(err)
	}

	// The new execution environment, and the schedule's payload as
	// EventBridge sends it.
	name := w.Responder + "-cold"
	if _, err := srv.CreateFunction(ctx, name, w.SelfRoleARN, nil); err != nil {
		t.Fatal(err)
	}
	if err := srv.ConfigureFunctionAsDeployed(ctx, name, "arn:aws:sqs:us-east-1:000000000000:"+name+"-failures"); err != nil {
		t.Fatal(err)
	}
	var err error
	if cold, err = srv.StartFunction(ctx, name, bootstrapBin, w.Env(w.SelfRoleARN)); err != nil {
		t.Fatal(err)
	}
	if _, err := lambda.NewFromConfig(srv.Config(ctx)).Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(name),
		InvocationType: lambdatypes.InvocationTypeEvent,
		Payload:        []byte(`{"source":"aws.events","detail-type":"Scheduled Event","detail":{}}`)}); err != nil {
		t.Fatal(err)
	}
	w.WaitFor(handleWait, "the new environment's reconciliation", func() bool { return strings.Contains(cold.Output(), `"reconciled`) })
	if got := w.AttachedPolicies(); !slices.Contains(got, w.PolicyARN) {
		t.Errorf("quarantine not attached again after the cold start: %v", got)
	}
	ns := w.Notifications(1, handleWait)
	if len(ns) != 1 || !strings.Contains(ns[0].Message, "user "+w.User) || !strings.Contains(ns[0].Message, "quarantine") {
		t.Fatalf("drift alerts %+v, want one naming the quarantine of user %s", ns, w.User)
	}
	// Everything else is deployed as the stack deploys it: the quarantine is
	// the only drift.
	var rep struct {
		Drifts []struct{ Resource, Field string } `json:"drifts"`
	}
	if err := json.Unmarshal([]byte(ns[0].Message), &rep); err != nil {
		t.Fatalf("drift alert is not the reconcile report: %v\n%s", err, ns[0].Message)
	}
	if len(rep.Drifts) != 1 || rep.Drifts[0].Resource != "user "+w.User {
		t.Errorf("drifts %+v, want only the quarantine of user %s", rep.Drifts, w.User)
	}
}
