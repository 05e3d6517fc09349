package trailguardcdk_test

import (
	"testing"

	"github.com/trailguard/trailguard/internal/config"
)

// The responder's event table: the key and TTL attribute internal/dedup
// writes, on demand, with point-in-time recovery, named to the function.
func TestEventTable(t *testing.T) {
	s := defaultStack()
	id, table := s.only(t, "AWS::DynamoDB::Table")
	p := table.Properties
	keys := list(p["KeySchema"])
	if len(keys) != 1 || keys[0].(map[string]any)["AttributeName"] != config.DedupKeyAttribute || keys[0].(map[string]any)["KeyType"] != "HASH" {
		t.Errorf("key schema %v", p["KeySchema"])
	}
	if ttl, _ := p["TimeToLiveSpecification"].(map[string]any); ttl["AttributeName"] != config.DedupTTLAttribute || ttl["Enabled"] != true {
		t.Errorf("TTL %v", p["TimeToLiveSpecification"])
	}
	if p["BillingMode"] != "PAY_PER_REQUEST" {
		t.Errorf("billing %v", p["BillingMode"])
	}
	if pitr, _ := p["PointInTimeRecoverySpecification"].(map[string]any); pitr["PointInTimeRecoveryEnabled"] != true {
		t.Errorf("point-in-time recovery %v", p["PointInTimeRecoverySpecification"])
	}
	_, fn := s.only(t, "AWS::Lambda::Function")
	vars := fn.Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
	if got := resolve(vars[config.EnvDedupTable]); got != "{"+id+"}" {
		t.Errorf("%s = %s, want the table {%s}", config.EnvDedupTable, got, id)
	}
}
