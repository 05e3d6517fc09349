package testworld

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// This file is what tests and the demo read back from a ResponderWorld (and
// the attacker's one call): the state the response must have changed, and
// the alerts the subscriber received.

// Logging reports whether the trail logs.
func (w *ResponderWorld) Logging(ctx context.Context) (bool, error) {
	st, err := cloudtrail.NewFromConfig(w.Srv.Config(ctx)).GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String(w.Trail)})
	if err != nil {
		return false, fmt.Errorf("get trail status: %w", err)
	}

	return aws.ToBool(st.IsLogging), nil
}

// StopLogging is the attacker's call.
func (w *ResponderWorld) StopLogging(ctx context.Context) error {
	if _, err := cloudtrail.NewFromConfig(w.Srv.Config(ctx)).StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String(w.Trail)}); err != nil {
		return fmt.Errorf("stop logging: %w", err)
	}

	return nil
}

// AttachedPolicies returns the ARNs of the user's managed policies.
func (w *ResponderWorld) AttachedPolicies(ctx context.Context) ([]string, error) {
	out, err := iam.NewFromConfig(w.Srv.Config(ctx)).ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String(w.User)})
	if err != nil {
		return nil, fmt.Errorf("list attached user policies: %w", err)
	}

	var arns []string
	for _, p := range out.AttachedPolicies {
		arns = append(arns, aws.ToString(p.PolicyArn))
	}

	return arns, nil
}

// KeyStatus returns the status of the user's access key.
func (w *ResponderWorld) KeyStatus(ctx context.Context) (iamtypes.StatusType, error) {
	out, err := iam.NewFromConfig(w.Srv.Config(ctx)).ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(w.User)})
	if err != nil {
		return "", fmt.Errorf("list access keys: %w", err)
	}

	for _, k := range out.AccessKeyMetadata {
		if aws.ToString(k.AccessKeyId) == w.KeyID {
			return k.Status, nil
		}
	}

	return "", fmt.Errorf("user %s has no key %s", w.User, w.KeyID)
}

// Notification is one alert the subscriber received, unwrapped from SNS's
// notification envelope.
type Notification struct {
	Subject, Message string
}

// Notifications receives (and deletes) up to want alerts from the
// subscriber queue within wait, as ReceiveMessages does. The world must have
// been made without rawAlerts.
func (w *ResponderWorld) Notifications(ctx context.Context, want int, wait time.Duration) ([]Notification, error) {
	msgs, err := w.Srv.ReceiveMessages(ctx, w.QueueURL, want, wait)
	if err != nil {
		return nil, err
	}

	out := make([]Notification, 0, len(msgs))

	for _, m := range msgs {
		var n struct{ Type, Subject, Message string }
		if err := json.Unmarshal([]byte(m), &n); err != nil || n.Type != "Notification" {
			return nil, fmt.Errorf("not an SNS notification: %q (%v)", m, err)
		}

		out = append(out, Notification{Subject: n.Subject, Message: n.Message})
	}

	return out, nil
}
