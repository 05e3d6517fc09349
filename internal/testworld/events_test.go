package testworld

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
)

// kumo lacks DisableRule and EnableRule; the front's double keeps the rule's
// pattern and flips its state through kumo's PutRule.
func TestDisableAndEnableRule(t *testing.T) {
	ctx := context.Background()
	s, err := Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	eb := eventbridge.NewFromConfig(s.Config(ctx))
	name := "events-double-rule"
	pattern := `{"source":["aws.cloudtrail"]}`
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(name), EventPattern: aws.String(pattern)}); err != nil {
		t.Fatal(err)
	}
	defer eb.DeleteRule(ctx, &eventbridge.DeleteRuleInput{Name: aws.String(name)})
	for _, step := range []struct {
		call  func() error
		state string
	}{
		{func() error {
			_, err := eb.DisableRule(ctx, &eventbridge.DisableRuleInput{Name: aws.String(name)})
			return err
		}, "DISABLED"},
		{func() error {
			_, err := eb.EnableRule(ctx, &eventbridge.EnableRuleInput{Name: aws.String(name)})
			return err
		}, "ENABLED"},
	} {
		if err := step.call(); err != nil {
			t.Fatal(err)
		}
		out, err := eb.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		if string(out.State) != step.state || aws.ToString(out.EventPattern) != pattern {
			t.Errorf("state %s pattern %s, want %s and the pattern kept", out.State, aws.ToString(out.EventPattern), step.state)
		}
	}
	if _, err := eb.EnableRule(ctx, &eventbridge.EnableRuleInput{Name: aws.String("no-such-rule")}); err == nil {
		t.Error("enabling a missing rule succeeded")
	}
}
