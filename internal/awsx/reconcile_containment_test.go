package awsx_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go/middleware"

	"github.com/trailguard/trailguard/internal/awsx"
	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/dedup"
	"github.com/trailguard/trailguard/internal/respond"
)

// calls counts the SDK calls per service made through the clients built
// from the configurations it instruments.
type calls struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *calls) instrument(ctx context.Context) awsx.Clients {
	cfg := srv.Config(ctx)
	cfg.APIOptions = append(cfg.APIOptions, func(st *middleware.Stack) error {
		return st.Initialize.Add(middleware.InitializeMiddlewareFunc("countCalls",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				c.mu.Lock()
				c.n[awsmiddleware.GetServiceID(ctx)+":"+awsmiddleware.GetOperationName(ctx)]++
				c.mu.Unlock()
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
	})
	return awsx.NewClients(cfg)
}

// take returns the counts so far and starts again.
func (c *calls) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.n
	c.n = map[string]int{}
	return n
}

func (w *world) revoked(t *testing.T) bool {
	t.Helper()
	_, err := w.clients.IAM.GetRolePolicy(context.Background(), &iam.GetRolePolicyInput{RoleName: aws.String(w.role), PolicyName: aws.String(respond.RevokePolicyName)})
	return err == nil
}

// Containment survives a cold start: one execution environment contains a
// user and a role through real events; a new one (empty memory) reads the
// record from the table. The owners' allow list is not involved, so when the
// quarantine is detached and the revocation deleted behind trailguard's back
// (no event delivered), reconciliation in the new environment puts both back
// and alerts once. A recorded principal that no longer exists is dropped.
func TestContainmentSurvivesColdStart(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	table := w.dedupTable(t)
	s := w.settings(t, map[string]string{config.EnvDedupTable: table})

	warm := awsx.NewEngine(s, awsx.NewClients(srv.Config(ctx)))
	w.stop(t)
	for _, sample := range []string{"stoplogging-iamuser", "stoplogging-assumedrole"} {
		rep, err := warm.Respond(ctx, w.event(t, sample))
		if err != nil {
			t.Fatalf("%s: %v", sample, err)
		}
		var recorded bool
		for _, o := range rep.Outcomes {
			recorded = recorded || o.Action.Kind == respond.KindRecordContainment && o.Status == respond.StatusDone
		}
		if !recorded {
			t.Errorf("%s: containment not recorded: %+v", sample, rep.Outcomes)
		}
	}
	if !w.quarantined(t) || !w.revoked(t) {
		t.Fatal("not contained by the events")
	}
	if n := len(w.alerts(t, 2)); n != 2 {
		t.Fatalf("%d event alerts, want 2", n)
	}

	// Lifted with no event delivered, and a contained user deleted since.
	if _, err := w.clients.IAM.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String(w.user), PolicyArn: aws.String(w.policyARN)}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.clients.IAM.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(w.role), PolicyName: aws.String(respond.RevokePolicyName)}); err != nil {
		t.Fatal(err)
	}
	store := dedup.Table{Client: dynamodb.NewFromConfig(srv.Config(ctx)), Name: table}
	deleted := respond.PrincipalARN("000000000000", "user", "comp-deleted-"+w.user)
	if err := store.RecordContained(ctx, []string{deleted}); err != nil {
		t.Fatal(err)
	}

	counter := &calls{n: map[string]int{}}
	cold := awsx.NewEngine(s, counter.instrument(ctx))
	rep, err := cold.Reconcile(ctx)
	if err != nil {
		t.Fatalf("reconcile: %v (%+v)", err, rep.Outcomes)
	}
	for _, res := range []string{"user " + w.user, "role " + w.role} {
		if !strings.Contains(fmt.Sprint(rep.Drifts), res) {
			t.Errorf("no drift for %s: %+v", res, rep.Drifts)
		}
	}
	if !w.quarantined(t) || !w.revoked(t) {
		t.Error("containment not put back after the cold start")
	}
	alerts := w.alerts(t, 1)
	if len(alerts) != 1 || !strings.Contains(alerts[0].Message, w.user) || !strings.Contains(alerts[0].Message, w.role) {
		t.Fatalf("drift alerts %+v, want one naming %s and %s", alerts, w.user, w.role)
	}
	if ps, err := store.Contained(ctx); err != nil || strings.Contains(strings.Join(ps, ","), deleted) || len(ps) != 2 {
		t.Errorf("records after the run: %q %v (the deleted user dropped, the two others kept)", ps, err)
	}
	n := counter.take()
	t.Logf("cold reconcile, 3 contained principals: DynamoDB GetItem %d, UpdateItem %d; IAM ListAttachedUserPolicies %d, GetRolePolicy %d, GetRole %d",
		n["DynamoDB:GetItem"], n["DynamoDB:UpdateItem"], n["IAM:ListAttachedUserPolicies"], n["IAM:GetRolePolicy"], n["IAM:GetRole"])
	if n["DynamoDB:GetItem"] != 1 || n["DynamoDB:UpdateItem"] != 1 {
		t.Errorf("DynamoDB calls %v: want one read, and one write to drop the deleted user", n)
	}

	// Converged: checked, nothing to do, nothing said.
	rep, err = cold.Reconcile(ctx)
	if err != nil || hasDrift(rep, "quarantine") || hasDrift(rep, "session revocation") {
		t.Errorf("converged run: err %v drifts %+v", err, rep.Drifts)
	}
	if n := counter.take(); n["DynamoDB:GetItem"] != 1 || n["DynamoDB:UpdateItem"] != 0 {
		t.Errorf("converged run's DynamoDB calls %v, want one read", n)
	}
}

// Without a table, the responder says once, when it starts, that the
// containments it makes are remembered in its execution environment only;
// with one it has nothing to say.
func TestNewHandlerSaysWhenContainmentIsForgottenOnColdStart(t *testing.T) {
	for _, kv := range srv.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	w := newWorld(t)
	table := w.dedupTable(t)
	for _, tc := range []struct {
		table string
		warns int
	}{{"", 1}, {table, 0}} {
		env := map[string]string{config.EnvTopicARN: w.topicARN, config.EnvQuarantinePolicyARN: w.policyARN,
			config.EnvSelfRoleARN: "arn:aws:iam::000000000000:role/trailguard-responder", config.EnvDedupTable: tc.table}
		var logs strings.Builder
		h, err := awsx.NewHandler(context.Background(), func(k string) string { return env[k] }, slog.New(slog.NewJSONHandler(&logs, nil)))
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(logs.String(), "contained principals are remembered in this execution environment only"); n != tc.warns {
			t.Errorf("table %q: said %d times, want %d:\n%s", tc.table, n, tc.warns, logs.String())
		}
		if (h.Claims != nil) != (tc.table != "") {
			t.Errorf("table %q: claims %v", tc.table, h.Claims)
		}
	}
}

// What checking containment costs: with N contained principals, one
// DynamoDB read per run whatever N, and one IAM read per principal.
func TestContainmentCheckCost(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	table := w.dedupTable(t)
	const n = 60
	var ps []string
	for i := range n {
		name := fmt.Sprintf("%s-%d", w.user, i)
		if _, err := w.clients.IAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.clients.IAM.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String(name), PolicyArn: aws.String(w.policyARN)}); err != nil {
			t.Fatal(err)
		}
		ps = append(ps, respond.PrincipalARN("000000000000", "user", name))
	}
	if err := (dedup.Table{Client: dynamodb.NewFromConfig(srv.Config(ctx)), Name: table}).RecordContained(ctx, ps); err != nil {
		t.Fatal(err)
	}
	counter := &calls{n: map[string]int{}}
	e := awsx.NewEngine(w.settings(t, map[string]string{config.EnvDedupTable: table, config.EnvTrails: ""}), counter.instrument(ctx))
	rep, err := e.Reconcile(ctx)
	if err != nil || len(rep.Drifts) != 0 || len(rep.Checked) < n {
		t.Fatalf("err %v drifts %+v, %d checked", err, rep.Drifts, len(rep.Checked))
	}
	c := counter.take()
	t.Logf("%d contained users, one reconcile: DynamoDB GetItem %d, UpdateItem %d; IAM ListAttachedUserPolicies %d", n,
		c["DynamoDB:GetItem"], c["DynamoDB:UpdateItem"], c["IAM:ListAttachedUserPolicies"])
	if c["DynamoDB:GetItem"] != 1 || c["DynamoDB:UpdateItem"] != 0 || c["IAM:ListAttachedUserPolicies"] != n {
		t.Errorf("calls %v", c)
	}
}
