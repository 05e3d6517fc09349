// Package dedup is the DynamoDB table in which the responder's execution
// environments claim each event, so that a duplicate delivery is answered
// (contained and alerted) once, whichever environment receives it.
//
// One item per event ID: a conditional write claims it (the event is new,
// or its earlier attempt failed, or the environment that claimed it stopped
// answering more than Lease ago); the claimer then records the outcome,
// done or failed. The first attempt's outcome stays in the item, so that a
// retry's alert can say what changed since. Items expire (the table's TTL
// attribute) after Retention, well past EventBridge's and Lambda's retries.
//
// The same table remembers the principals trailguard contained, in one item
// that never expires, so that reconciliation still checks them after a cold
// start (contained.go).
package dedup

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/respond"
)

// Attribute names: the table's partition key and TTL attribute are part of
// the settings contract with the stack that creates the table.
const (
	KeyAttribute = config.DedupKeyAttribute
	TTLAttribute = config.DedupTTLAttribute
)

// Lease is how long a claim in progress holds: longer than the function's
// longest run (Lambda stops any invocation after 15 minutes).
const Lease = 15 * time.Minute

// Retention is how long an event is remembered: longer than EventBridge's
// retries (24 h) and Lambda's asynchronous retries (6 h).
const Retention = 48 * time.Hour

// API is the part of DynamoDB the table uses.
type API interface {
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	// GetItem reads the contained principals (contained.go).
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
}

// Table claims events in a DynamoDB table. It satisfies respond.Claimer,
// and remembers contained principals as respond.ContainmentStore.
type Table struct {
	Client API
	Name   string
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

func (t Table) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

// Claim claims the event for this environment, in one conditional write.
func (t Table) Claim(ctx context.Context, eventID string) (respond.Claim, error) {
	now := t.now()
	token, err := newToken()
	if err != nil {
		return respond.Claim{}, err
	}
	out, err := t.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(t.Name),
		Key:       map[string]ddbtypes.AttributeValue{KeyAttribute: &ddbtypes.AttributeValueMemberS{Value: eventID}},
		ConditionExpression: aws.String("attribute_not_exists(#id) OR #state = :failed OR " +
			"(#state = :progress AND claimedAt < :stale)"),
		UpdateExpression: aws.String("SET #state = :progress, claimToken = :token, claimedAt = :now, #ttl = :ttl " +
			"ADD attempts :one"),
		ExpressionAttributeNames: map[string]string{"#id": KeyAttribute, "#state": "state", "#ttl": TTLAttribute},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
			":failed":   &ddbtypes.AttributeValueMemberS{Value: respond.ClaimFailed},
			":progress": &ddbtypes.AttributeValueMemberS{Value: respond.ClaimInProgress},
			":stale":    number(now.Add(-Lease).Unix()),
			":now":      number(now.Unix()),
			":ttl":      number(now.Add(Retention).Unix()),
			":token":    &ddbtypes.AttributeValueMemberS{Value: token},
			":one":      number(1),
		},
		ReturnValues:                        ddbtypes.ReturnValueAllOld,
		ReturnValuesOnConditionCheckFailure: ddbtypes.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var cf *ddbtypes.ConditionalCheckFailedException
	switch {
	case errors.As(err, &cf):
		// Another environment holds it, or answered it already.
		return respond.Claim{EventID: eventID, State: str(cf.Item, "state")}, nil
	case err != nil:
		return respond.Claim{}, fmt.Errorf("claim event %s in %s: %w", eventID, t.Name, err)
	}
	c := respond.Claim{EventID: eventID, Mine: true, Token: token}
	if first := str(out.Attributes, "firstAttempt"); first != "" {
		var a respond.Attempt
		if json.Unmarshal([]byte(first), &a) == nil {
			c.Earlier = &a
		}
	}
	return c, nil
}

// Finish records the outcome of this environment's answer, if the claim is
// still its own. The first attempt's outcome is kept for later retries.
func (t Table) Finish(ctx context.Context, c respond.Claim, a respond.Attempt) error {
	if !c.Mine {
		return nil
	}
	state := respond.ClaimDone
	if a.Failed {
		state = respond.ClaimFailed
	}
	doc, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("encode attempt: %w", err)
	}
	_, err = t.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(t.Name),
		Key:                      map[string]ddbtypes.AttributeValue{KeyAttribute: &ddbtypes.AttributeValueMemberS{Value: c.EventID}},
		ConditionExpression:      aws.String("claimToken = :token"),
		UpdateExpression:         aws.String("SET #state = :state, lastAttempt = :attempt, firstAttempt = if_not_exists(firstAttempt, :attempt)"),
		ExpressionAttributeNames: map[string]string{"#state": "state"},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
			":token":   &ddbtypes.AttributeValueMemberS{Value: c.Token},
			":state":   &ddbtypes.AttributeValueMemberS{Value: state},
			":attempt": &ddbtypes.AttributeValueMemberS{Value: string(doc)},
		},
	})
	if err != nil {
		return fmt.Errorf("record event %s as %s in %s: %w", c.EventID, state, t.Name, err)
	}
	return nil
}

func number(n int64) ddbtypes.AttributeValue {
	return &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func str(item map[string]ddbtypes.AttributeValue, name string) string {
	if v, ok := item[name].(*ddbtypes.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func newToken() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("claim token: %w", err)
	}
	return hex.EncodeToString(b), nil
}
