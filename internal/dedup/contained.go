package dedup

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/trailguard/trailguard/internal/respond"
)

// The principals trailguard contained are remembered in the same table, so
// that reconciliation can check them after a cold start (respond's
// ContainmentStore). They are one item, under a key no event ID can take
// (event IDs are UUIDs), holding a string set of principal ARNs:
//   - recording is one UpdateItem (ADD to the set: idempotent, and safe when
//     several execution environments record at once);
//   - reading is one strongly consistent GetItem, whatever the number of
//     principals: reconciliation costs one DynamoDB read per run;
//   - forgetting is one UpdateItem (DELETE from the set).
//
// The item has no TTL: a containment lasts until the owners lift it (the
// allow list) or the principal is deleted, and reconciliation then drops it.
// An expiry would hand an intruder who waits it out a principal no one
// checks any more. The bound is DynamoDB's item size (400 KB): some 5,000
// principals, far more than any account's incidents; beyond it the record
// fails, visibly (a failed outcome), and the older records still hold.

// ContainedKey is the item's key.
const ContainedKey = "trailguard#contained"

// containedAttribute is the item's string set of principal ARNs.
const containedAttribute = "principals"

var _ respond.ContainmentStore = Table{}

// Where implements respond.ContainmentStore.
func (t Table) Where() string { return "DynamoDB table " + t.Name }

func (t Table) containedKey() map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{KeyAttribute: &ddbtypes.AttributeValueMemberS{Value: ContainedKey}}
}

// RecordContained adds principals to the record.
func (t Table) RecordContained(ctx context.Context, principals []string) error {
	if len(principals) == 0 {
		return nil
	}
	_, err := t.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(t.Name),
		Key:                      t.containedKey(),
		UpdateExpression:         aws.String("SET updatedAt = :now ADD #p :p"),
		ExpressionAttributeNames: map[string]string{"#p": containedAttribute},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
			":p":   &ddbtypes.AttributeValueMemberSS{Value: principals},
			":now": number(t.now().Unix()),
		},
	})
	if err != nil {
		return fmt.Errorf("record contained %v in %s: %w", principals, t.Name, err)
	}
	return nil
}

// Contained returns every recorded principal, sorted.
func (t Table) Contained(ctx context.Context) ([]string, error) {
	out, err := t.Client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:            aws.String(t.Name),
		Key:                  t.containedKey(),
		ConsistentRead:       aws.Bool(true),
		ProjectionExpression: aws.String("#p"),
		ExpressionAttributeNames: map[string]string{
			"#p": containedAttribute,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("read contained principals from %s: %w", t.Name, err)
	}
	ss, ok := out.Item[containedAttribute].(*ddbtypes.AttributeValueMemberSS)
	if !ok {
		return nil, nil
	}
	ps := slices.Clone(ss.Value)
	slices.Sort(ps)
	return ps, nil
}

// ForgetContained drops a principal from the record.
func (t Table) ForgetContained(ctx context.Context, principal string) error {
	_, err := t.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(t.Name),
		Key:                      t.containedKey(),
		UpdateExpression:         aws.String("SET updatedAt = :now DELETE #p :p"),
		ExpressionAttributeNames: map[string]string{"#p": containedAttribute},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
			":p":   &ddbtypes.AttributeValueMemberSS{Value: []string{principal}},
			":now": number(t.now().Unix()),
		},
	})
	if err != nil {
		return fmt.Errorf("forget contained %s in %s: %w", principal, t.Name, err)
	}
	return nil
}
