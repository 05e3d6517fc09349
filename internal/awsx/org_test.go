package awsx_test

import (
	"context"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/trailguard/trailguard/internal/awsx"
	"github.com/trailguard/trailguard/internal/config"
)

// countingSTS is the real STS client against the emulator, recording each
// AssumeRole request.
type countingSTS struct {
	*sts.Client
	mu    sync.Mutex
	calls []sts.AssumeRoleInput
}

func (c *countingSTS) AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, o ...func(*sts.Options)) (*sts.AssumeRoleOutput, error) {
	c.mu.Lock()
	c.calls = append(c.calls, *in)
	c.mu.Unlock()
	return c.Client.AssumeRole(ctx, in, o...)
}

func TestMemberClientsAssumeOncePerAccount(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	s, err := config.Load(func(k string) string {
		return map[string]string{
			config.EnvTopicARN:         "arn:aws:sns:us-east-1:123456789012:alerts",
			config.EnvSelfRoleARN:      "arn:aws:iam::123456789012:role/trailguard-hub-responder",
			config.EnvHub:              "true",
			config.EnvMemberExternalID: "trailguard-example-external-id",
		}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := srv.Config(ctx)
	stsc := &countingSTS{Client: sts.NewFromConfig(cfg)}
	hub := awsx.NewClients(cfg)
	p := awsx.NewMemberClients(s, cfg, stsc, nil, hub)

	set, err := p.Clients(ctx, "111111111111")
	if err != nil {
		t.Fatal(err)
	}
	if len(stsc.calls) != 0 {
		t.Fatalf("building an account's clients called STS %d times; credentials must be fetched on first use", len(stsc.calls))
	}
	for range 3 {
		if _, err := set.CloudTrail.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String(w.trailName)}); err != nil {
			t.Fatal(err)
		}
	}
	again, err := p.Clients(ctx, "111111111111")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := again.CloudTrail.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String(w.trailName)}); err != nil {
		t.Fatal(err)
	}
	if len(stsc.calls) != 1 {
		t.Fatalf("%d AssumeRole calls for 4 calls in one account, want 1 (cached)", len(stsc.calls))
	}
	in := stsc.calls[0]
	if aws.ToString(in.RoleArn) != "arn:aws:iam::111111111111:role/TrailguardMember" || aws.ToString(in.RoleSessionName) != config.MemberSessionName ||
		aws.ToString(in.ExternalId) != "trailguard-example-external-id" {
		t.Errorf("AssumeRole(%s, session %s, external id %s)", aws.ToString(in.RoleArn), aws.ToString(in.RoleSessionName), aws.ToString(in.ExternalId))
	}

	// The hub's own account uses the hub's clients: no role to assume.
	own, err := p.Clients(ctx, "123456789012")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := own.CloudTrail.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String(w.trailName)}); err != nil {
		t.Fatal(err)
	}
	if len(stsc.calls) != 1 {
		t.Errorf("the hub's own account assumed a role")
	}
	if _, err := p.Clients(ctx, "not-an-account"); err == nil {
		t.Error("a malformed account id was accepted")
	}
}
