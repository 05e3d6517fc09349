package catalog

import (
	"encoding/json"
	"sort"
	"strings"

	"github.com/trailguard/trailguard/internal/trail"
)

// DetailType is the EventBridge detail-type of CloudTrail API-call events.
const DetailType = trail.DetailType

// Pattern is an EventBridge event pattern for CloudTrail API calls. It always
// pins source and detail-type: a pattern on detail alone would also match
// events forged with PutEvents.
type Pattern struct {
	Source     []string      `json:"source"`
	DetailType []string      `json:"detail-type"`
	Detail     PatternDetail `json:"detail"`
}

// PatternDetail matches fields of the CloudTrail record.
type PatternDetail struct {
	EventSource []string `json:"eventSource"`
	EventName   []string `json:"eventName"`
}

// JSON returns the pattern as EventBridge expects it.
func (p Pattern) JSON() string {
	b, err := json.Marshal(p)
	if err != nil { // cannot happen: the struct holds only strings
		panic(err)
	}
	return string(b)
}

// Map returns the pattern as generic JSON values, the form the CDK's
// EventPattern detail field takes.
func (p Pattern) Map() map[string]any {
	var m map[string]any
	if err := json.Unmarshal([]byte(p.JSON()), &m); err != nil {
		panic(err)
	}
	return m
}

// Rule is one EventBridge rule trailguard deploys: the events of one AWS
// service, and where the rule must live to see them.
type Rule struct {
	// ID is a short stable identifier, e.g. "cloudtrail", usable in
	// construct ids and rule names.
	ID string
	// EventSource is the CloudTrail eventSource the rule watches.
	EventSource string
	// GlobalOnly is true for services whose events EventBridge delivers only
	// in us-east-1 (IAM, Organizations); other rules are deployed in every
	// region the protection covers.
	GlobalOnly bool
	// Pattern is the rule's event pattern.
	Pattern Pattern
}

// Rules returns one rule per AWS service in the catalog, sorted by ID. Each
// rule matches exactly the catalog's event names for that service.
func Rules() []Rule {
	var out []Rule
	for _, src := range sources() {
		var names []string
		for _, e := range entries {
			if e.Source == src {
				names = append(names, e.EventNames()...)
			}
		}
		sort.Strings(names)
		out = append(out, Rule{
			ID:          strings.TrimPrefix(EventBridgeSource(src), "aws."),
			EventSource: src,
			GlobalOnly:  globalSources[src],
			Pattern: Pattern{
				Source:     []string{EventBridgeSource(src)},
				DetailType: []string{DetailType},
				Detail: PatternDetail{
					EventSource: []string{src},
					EventName:   names,
				},
			},
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
