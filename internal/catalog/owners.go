package catalog

import (
	"encoding/json"
	"sort"
	"strings"
)

// The owners' direct path. An intruder who reconfigures the responder can
// silence or redirect every alert it sends (TRAILGUARD_TOPIC_ARN pointed at a
// topic of theirs: no error, no alarm). So calls on trailguard's own
// resources also go from EventBridge straight to the alert topic, as a
// readable message, without passing through the responder. These rules are
// narrowed to trailguard's own resources (by the catalog's TargetIn fields),
// so that the owners are not paged for every function or rule in the account.

// Owned names trailguard's own resources as deployed. In the CDK app the
// values may be tokens; they are only placed into patterns, never parsed.
type Owned struct {
	// RuleNames are the names of all of trailguard's rules.
	RuleNames []string
	// FunctionName is the responder function's name.
	FunctionName string
	// TopicARN is the alert topic.
	TopicARN string
	// RoleName is the responder's role.
	RoleName string
	// Alarms are trailguard's CloudWatch alarms.
	Alarms []string
}

// OwnerRule is one rule of the owners' direct path: the catalog's calls on
// trailguard's own resources of one service, sent to the alert topic with an
// input transformer.
type OwnerRule struct {
	// ID is "owners-<service>", usable in construct ids and rule names.
	ID          string
	EventSource string
	GlobalOnly  bool
	// Pattern is the rule's event pattern as generic JSON values.
	Pattern map[string]any
	// InputPathsMap and InputTemplate are the target's input transformer.
	InputPathsMap map[string]string
	InputTemplate string
}

// OwnerRuleIDPrefix starts every owner rule's ID.
const OwnerRuleIDPrefix = "owners-"

// ownedResources are the resources whose calls take the direct path.
var ownedResources = map[Resource]bool{EventRule: true, Function: true, Topic: true, Role: true, Alarm: true}

// OwnerRules returns the owners' direct rules, sorted by ID. A service whose
// resources o does not name (no function name, say) gets no rule.
func OwnerRules(o Owned) []OwnerRule {
	type group struct {
		names  []string
		fields map[string][]any
	}
	bySource := map[string]*group{}
	for _, e := range entries {
		if !ownedResources[e.Resource] {
			continue
		}
		vals := ownedValues(e.Resource, o)
		if len(vals) == 0 {
			continue
		}
		g := bySource[e.Source]
		if g == nil {
			g = &group{fields: map[string][]any{}}
			bySource[e.Source] = g
		}
		g.names = append(g.names, e.EventNames()...)
		for _, f := range e.TargetIn {
			if _, ok := g.fields[f]; !ok {
				g.fields[f] = vals
			}
		}
	}
	var out []OwnerRule
	for src, g := range bySource {
		sort.Strings(g.names)
		g.names = compactStrings(g.names)
		detail := map[string]any{"eventSource": []any{src}, "eventName": toAny(g.names)}
		var fields []string
		for f := range g.fields {
			fields = append(fields, f)
		}
		sort.Strings(fields)
		if len(fields) == 1 {
			detail["requestParameters"] = map[string]any{fields[0]: g.fields[fields[0]]}
		} else {
			var or []any
			for _, f := range fields {
				or = append(or, map[string]any{"requestParameters": map[string]any{f: g.fields[f]}})
			}
			detail["$or"] = or
		}
		paths := map[string]string{
			"actor": "$.detail.userIdentity.arn", "event": "$.detail.eventName", "region": "$.detail.awsRegion",
			"time": "$.detail.eventTime", "account": "$.detail.recipientAccountId", "error": "$.detail.errorCode",
		}
		target := ""
		for _, f := range fields {
			paths[f] = "$.detail.requestParameters." + f
			target += "<" + f + ">"
		}
		id := strings.TrimPrefix(EventBridgeSource(src), "aws.")
		out = append(out, OwnerRule{
			ID:          OwnerRuleIDPrefix + id,
			EventSource: src,
			GlobalOnly:  globalSources[src],
			Pattern: map[string]any{
				"source":      []any{EventBridgeSource(src)},
				"detail-type": []any{DetailType},
				"detail":      detail,
			},
			InputPathsMap: paths,
			InputTemplate: `"trailguard (direct from EventBridge, not through the responder): <actor> called <event> on trailguard's own ` +
				string(ownedKind(src)) + ` ` + target + ` in <region>, account <account>, at <time> (error code, if it failed: <error>). ` +
				`If no alert from the trailguard responder follows, the responder may be silenced or redirected: check its configuration and redeploy trailguard."`,
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// ownedValues are the pattern values that name o's resource of kind r, in
// every form the APIs accept.
func ownedValues(r Resource, o Owned) []any {
	switch r {
	case EventRule:
		if len(o.RuleNames) == 0 {
			return nil
		}
		var out []any
		for _, n := range o.RuleNames {
			// A rule is named by name or ARN (arn:...:rule/NAME or
			// arn:...:rule/BUS/NAME).
			out = append(out, n, map[string]any{"suffix": "/" + n})
		}
		return out
	case Function:
		if o.FunctionName == "" {
			return nil
		}
		// Name, name:qualifier, full or partial ARN, with or without a
		// qualifier.
		n := o.FunctionName
		return []any{n, map[string]any{"prefix": n + ":"}, map[string]any{"suffix": ":function:" + n}, map[string]any{"wildcard": "*:function:" + n + ":*"}}
	case Topic:
		if o.TopicARN == "" {
			return nil
		}
		// A subscription ARN is the topic's ARN and a suffix.
		return []any{o.TopicARN, map[string]any{"prefix": o.TopicARN + ":"}}
	case Role:
		if o.RoleName == "" {
			return nil
		}
		return []any{o.RoleName}
	case Alarm:
		// alarmNames is a list: EventBridge matches when one element does.
		return toAny(o.Alarms)
	}
	return nil
}

func ownedKind(source string) Resource {
	for _, e := range entries {
		if e.Source == source && ownedResources[e.Resource] {
			return e.Resource
		}
	}
	return ""
}

func compactStrings(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// PatternJSON renders an owner rule's pattern as EventBridge stores it.
func (r OwnerRule) PatternJSON() string {
	b, err := json.Marshal(r.Pattern)
	if err != nil { // cannot happen: only strings, lists and maps
		panic(err)
	}
	return string(b)
}
