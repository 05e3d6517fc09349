package respond

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/trailguard/trailguard/internal/catalog"
	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/trail"
)

// This file keeps trailguard's own EventBridge rules as deployed: the pattern
// (the catalog's), the state, the reconcile schedule, and the targets (the
// responder without a replaced input, or for the owners' direct rules the
// alert topic with the catalog's message). A PutRule or PutTargets that keeps
// all of that is no tampering (a deployment, or the responder's own restore);
// one that changes it is undone, by event and by reconciliation alike.

// ruleTarget is one target of a PutTargets request as CloudTrail records it.
type ruleTarget struct {
	ID               string          `json:"id"`
	ARN              string          `json:"arn"`
	Input            string          `json:"input"`
	InputPath        string          `json:"inputPath"`
	InputTransformer json.RawMessage `json:"inputTransformer"`
}

// deployedRule is what one of trailguard's rules was deployed with.
type deployedRule struct {
	// known is false when the settings do not say which rule this is.
	known bool
	// spoke is true for an organization member's spoke rule.
	spoke bool
	// pattern is the canonical pattern JSON ("" for the schedule).
	pattern string
	// schedule is the reconcile rule's expression ("" when unknown or not
	// a schedule).
	schedule string
	// target is the ARN the rule must invoke ("" when unknown), with the
	// owners' input transformer for the direct rules.
	target        string
	inputPaths    map[string]string
	inputTemplate string
}

// owned names trailguard's own resources from the settings, as the
// infrastructure named them for the owners' rules.
func owned(s config.Settings) catalog.Owned {
	return catalog.Owned{RuleNames: s.Rules, FunctionName: s.FunctionName, TopicARN: s.TopicARN, RoleName: trail.RoleName(s.SelfRoleARN)}
}

// deployed returns what the rule called name was deployed with.
func deployed(s config.Settings, name string) deployedRule {
	if isSpokeRule(name) {
		// A member's spoke rule forwards to the hub's bus: the hub
		// reconciles it (orgreconcile.go) and a redeploy rebuilds it.
		return deployedRule{spoke: true}
	}
	id, ok := s.RuleIDs[name]
	d := deployedRule{target: s.FunctionARN()}
	if !ok {
		return d
	}
	if id == config.ReconcileRuleID {
		d.known, d.schedule = true, s.ReconcileSchedule
		return d
	}
	if strings.HasPrefix(id, catalog.OwnerRuleIDPrefix) {
		for _, r := range catalog.OwnerRules(owned(s)) {
			if r.ID == id {
				b, _ := json.Marshal(r.Pattern)
				return deployedRule{known: true, pattern: canonicalPattern(string(b)), target: s.TopicARN,
					inputPaths: r.InputPathsMap, inputTemplate: r.InputTemplate}
			}
		}
		return d
	}
	for _, r := range catalog.Rules() {
		if r.ID == id {
			d.known, d.pattern = true, canonicalPattern(r.Pattern.JSON())
		}
	}
	return d
}

// canonicalPattern renders a pattern with sorted keys and sorted lists, so
// that two spellings of the same pattern compare equal. A pattern that is not
// JSON is returned as it is (it then differs from any deployed one).
func canonicalPattern(raw string) string {
	var v any
	if json.Unmarshal([]byte(raw), &v) != nil {
		return raw
	}
	b, _ := json.Marshal(sortLists(v))
	return string(b)
}

func sortLists(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = sortLists(e)
		}
	case []any:
		for i, e := range x {
			x[i] = sortLists(e)
		}
		sort.SliceStable(x, func(i, j int) bool {
			a, _ := json.Marshal(x[i])
			b, _ := json.Marshal(x[j])
			return string(a) < string(b)
		})
	}
	return v
}

// ruleName reduces a rule name or ARN (…:rule/NAME or …:rule/BUS/NAME) to
// the name.
func ruleName(s string) string {
	if _, ok := trail.ParseARN(s); ok {
		return lastSegment(s)
	}
	return s
}

// putRuleChanges judges a PutRule on one of trailguard's rules against what
// it was deployed with.
func putRuleChanges(p params, s config.Settings) []Change {
	name := ruleName(p.Name)
	d := deployed(s, name)
	var out []Change
	if strings.EqualFold(p.State, "DISABLED") {
		out = append(out, Change{Field: "state", Now: "DISABLED", Want: "ENABLED", Fixable: true})
	}
	if !d.known {
		if p.EventPattern != "" || p.ScheduleExpression != "" {
			out = append(out, Change{Field: "rule", Now: "overwritten", Want: "as deployed (" + config.EnvRules + " does not give this rule's id, so its deployed pattern is unknown: redeploy)", Fixable: false})
		}
		return out
	}
	if d.pattern != "" && canonicalPattern(p.EventPattern) != d.pattern {
		now := "another pattern"
		if p.EventPattern == "" {
			now = "no pattern"
		}
		out = append(out, Change{Field: "eventPattern", Now: now, Want: "the catalog's pattern", Fixable: true})
	}
	if d.schedule != "" && p.ScheduleExpression != d.schedule {
		out = append(out, Change{Field: "scheduleExpression", Now: firstNonEmpty(p.ScheduleExpression, "none"), Want: d.schedule, Fixable: true})
	}
	return out
}

// putTargetsChanges judges a PutTargets on one of trailguard's rules: every
// target must be the deployed one, with its deployed input.
func putTargetsChanges(p params, s config.Settings) []Change {
	d := deployed(s, ruleName(p.Rule))
	var out []Change
	// Without the responder's name (AWS_LAMBDA_FUNCTION_NAME) its rules'
	// targets cannot be told from others: only their input is judged.
	knowsTarget := !d.spoke && (d.inputTemplate != "" || s.FunctionName != "")
	for _, t := range p.Targets {
		if knowsTarget && !d.isTarget(t.ARN, s) {
			out = append(out, Change{Field: "target " + t.ID, Now: t.ARN, Want: firstNonEmpty(d.target, "trailguard's responder"), Fixable: d.target != ""})
			continue
		}
		if !d.sameInput(t.Input, t.InputPath, t.InputTransformer) {
			out = append(out, Change{Field: "target " + t.ID + " input", Now: "replaced", Want: d.wantInput(), Fixable: d.target != ""})
		}
	}
	return out
}

// isTarget reports whether arn is the rule's deployed target (the responder
// in any of its names, or the alert topic).
func (d deployedRule) isTarget(arn string, s config.Settings) bool {
	if d.inputTemplate != "" {
		return arn == d.target
	}
	if arn == d.target && arn != "" {
		return true
	}
	a, ok := trail.ParseARN(arn)
	return ok && a.Service == "lambda" && s.FunctionName != "" && functionName(arn) == s.FunctionName &&
		!strings.Contains(strings.TrimPrefix(a.Resource, "function:"+s.FunctionName), ":")
}

// sameInput reports whether a target's input is the deployed one: none for
// the responder (it gets the event, or the scheduled event), the catalog's
// message for the owners' rules.
func (d deployedRule) sameInput(input, path string, transformer json.RawMessage) bool {
	if d.inputTemplate == "" {
		return input == "" && path == "" && isNull(transformer)
	}
	if input != "" || path != "" {
		return false
	}
	var t struct {
		InputPathsMap map[string]string `json:"inputPathsMap"`
		InputTemplate string            `json:"inputTemplate"`
	}
	if json.Unmarshal(transformer, &t) != nil {
		return false
	}
	return t.InputTemplate == d.inputTemplate && maps.Equal(t.InputPathsMap, d.inputPaths)
}

func (d deployedRule) wantInput() string {
	if d.inputTemplate != "" {
		return "trailguard's message for the owners"
	}
	return "none (the event itself, or the scheduled event)"
}

func isNull(raw json.RawMessage) bool {
	s := strings.TrimSpace(string(raw))
	return s == "" || s == "null" || s == "{}"
}

// ruleRestore plans the undo of a change to one of trailguard's rules.
func ruleRestore(c Classification, s config.Settings) []Action {
	t := c.Target
	d := deployed(s, t.ID)
	switch c.Entry.Response {
	case catalog.RestoreRule:
		if !d.known {
			acts := []Action{}
			if hasField(c.Changes, "state") {
				acts = append(acts, Action{Step: StepRestore, Kind: KindEnableRule, Target: t.ID, Region: t.Region, Reason: "trailguard's rule was disabled"})
			}
			if fl := fieldList(c.Changes, false); fl != "" {
				acts = append(acts, manual(StepRestore, t.ID, "trailguard's rule "+t.ID+" was overwritten: "+redeployStep))
			}
			return acts
		}
		return []Action{{Step: StepRestore, Kind: KindRestoreRule, Target: t.ID, Region: t.Region, Pattern: d.pattern, Schedule: d.schedule,
			Reason: "put trailguard's rule back as deployed: " + firstNonEmpty(fieldList(c.Changes, true), "enabled, pattern or schedule as deployed")}}
	case catalog.RestoreTargets:
		if d.target == "" {
			return []Action{manual(StepRestore, t.ID, "trailguard's rule "+t.ID+" no longer invokes what it was deployed with, and the responder's ARN is unknown here: "+redeployStep)}
		}
		return []Action{{Step: StepRestore, Kind: KindRestoreTargets, Target: t.ID, Region: t.Region, TargetARN: d.target,
			InputPaths: d.inputPaths, InputTemplate: d.inputTemplate,
			Reason: "put trailguard's rule's target back as deployed (" + d.target + ", " + d.wantInput() + ") and remove the others"}}
	}
	return nil
}

func hasField(cs []Change, field string) bool {
	return slices.ContainsFunc(cs, func(c Change) bool { return c.Field == field })
}

// restoreRule writes the rule back with PutRule, keeping what the deployment
// set besides the pattern, schedule and state (description, role, bus).
func (e *Engine) restoreRule(ctx context.Context, a Action) (string, error) {
	region := func(o *eventbridge.Options) { setRegion(&o.Region, a.Region) }
	cur, err := e.res.Events.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String(a.Target)}, region)
	if err != nil {
		return "", fmt.Errorf("read rule: %w", err)
	}
	in := &eventbridge.PutRuleInput{Name: aws.String(a.Target), State: ebtypes.RuleStateEnabled,
		Description: cur.Description, RoleArn: cur.RoleArn, EventBusName: cur.EventBusName,
		EventPattern: cur.EventPattern, ScheduleExpression: cur.ScheduleExpression}
	if a.Pattern != "" {
		in.EventPattern, in.ScheduleExpression = aws.String(a.Pattern), nil
	}
	if a.Schedule != "" {
		in.ScheduleExpression, in.EventPattern = aws.String(a.Schedule), nil
	}
	same := cur.State == ebtypes.RuleStateEnabled &&
		(a.Pattern == "" || canonicalPattern(aws.ToString(cur.EventPattern)) == a.Pattern) &&
		(a.Schedule == "" || aws.ToString(cur.ScheduleExpression) == a.Schedule)
	if same {
		return "the rule is as deployed already", nil
	}
	_, err = e.res.Events.PutRule(ctx, in, region)
	return "", err
}

// restoreTargets makes the deployed target the rule's only target: the
// target that invokes it (or the first one) gets its ARN back and loses a
// replaced input; the others are removed. Dead-letter and retry settings of
// the kept target stay.
func (e *Engine) restoreTargets(ctx context.Context, a Action) (string, error) {
	region := func(o *eventbridge.Options) { setRegion(&o.Region, a.Region) }
	out, err := e.res.Events.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String(a.Target)}, region)
	if err != nil {
		return "", fmt.Errorf("read targets: %w", err)
	}
	keep := ebtypes.Target{Id: aws.String("Target0")}
	for _, t := range out.Targets {
		if aws.ToString(t.Arn) == a.TargetARN {
			keep = t
			break
		}
	}
	if aws.ToString(keep.Arn) != a.TargetARN && len(out.Targets) > 0 {
		keep = out.Targets[0]
	}
	var remove []string
	for _, t := range out.Targets {
		if aws.ToString(t.Id) != aws.ToString(keep.Id) {
			remove = append(remove, aws.ToString(t.Id))
		}
	}
	var want *ebtypes.InputTransformer
	if a.InputTemplate != "" {
		want = &ebtypes.InputTransformer{InputTemplate: aws.String(a.InputTemplate), InputPathsMap: a.InputPaths}
	}
	inPlace := aws.ToString(keep.Arn) == a.TargetARN && keep.Input == nil && keep.InputPath == nil &&
		((want == nil && keep.InputTransformer == nil) ||
			(want != nil && keep.InputTransformer != nil && aws.ToString(keep.InputTransformer.InputTemplate) == a.InputTemplate && maps.Equal(keep.InputTransformer.InputPathsMap, a.InputPaths)))
	if inPlace && len(remove) == 0 {
		return "the rule's target is as deployed already", nil
	}
	var done []string
	if !inPlace {
		t := ebtypes.Target{Id: keep.Id, Arn: aws.String(a.TargetARN), DeadLetterConfig: keep.DeadLetterConfig, RetryPolicy: keep.RetryPolicy, InputTransformer: want}
		res, err := e.res.Events.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(a.Target), Targets: []ebtypes.Target{t}}, region)
		if err == nil && res.FailedEntryCount > 0 {
			err = fmt.Errorf("put target %s: %s", aws.ToString(keep.Id), failedEntry(res.FailedEntries))
		}
		if err != nil {
			return "", err
		}
		done = append(done, "target "+aws.ToString(keep.Id)+" → "+a.TargetARN)
	}
	if len(remove) > 0 {
		res, err := e.res.Events.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{Rule: aws.String(a.Target), Ids: remove}, region)
		if err == nil && res.FailedEntryCount > 0 {
			err = fmt.Errorf("remove targets %v: failed", remove)
		}
		if err != nil {
			return strings.Join(done, "; "), err
		}
		done = append(done, "removed targets "+strings.Join(remove, ", "))
	}
	return strings.Join(done, "; "), nil
}

func failedEntry(es []ebtypes.PutTargetsResultEntry) string {
	if len(es) == 0 {
		return "failed"
	}
	return aws.ToString(es[0].ErrorCode) + ": " + aws.ToString(es[0].ErrorMessage)
}

// ruleDrift compares one of trailguard's rules with what it was deployed
// with: it exists, is enabled, has the catalog's pattern (or the deployed
// schedule) and invokes the deployed target with the deployed input.
func (e *Engine) ruleDrift(ctx context.Context, name string) ([]Drift, error) {
	res := "rule " + name
	t := Target{Kind: catalog.EventRule, ID: name, Protected: true, Region: e.settings.Region}
	region := func(o *eventbridge.Options) { setRegion(&o.Region, e.settings.Region) }
	out, err := e.res.Events.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String(name)}, region)
	if errorCode(err) == "ResourceNotFoundException" {
		return []Drift{{Resource: res, Field: "rule", Want: "exists", Got: "deleted",
			Actions: []Action{manual(StepRestore, name, "trailguard's rule "+name+" is gone: "+redeployStep)}}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", res, err)
	}
	var ds []Drift
	// The rule as PutRule would have written it: judged like the event.
	p := params{EventPattern: aws.ToString(out.EventPattern), ScheduleExpression: aws.ToString(out.ScheduleExpression), State: string(out.State)}
	p.Name = name
	if !deployed(e.settings, name).known {
		// Without the rule's id only its state can be compared.
		p.EventPattern, p.ScheduleExpression = "", ""
	}
	if cs := putRuleChanges(p, e.settings); len(cs) > 0 {
		for _, c := range cs {
			ds = append(ds, Drift{Resource: res, Field: c.Field, Want: c.Want, Got: c.Now})
		}
		ds[len(ds)-1].Actions = e.asIf("events.amazonaws.com", "PutRule", t, cs, trail.Config{})
	}

	targets, err := e.res.Events.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String(name)}, region)
	if err != nil {
		return ds, fmt.Errorf("read targets of %s: %w", res, err)
	}
	if len(targets.Targets) == 0 {
		return append(ds, Drift{Resource: res, Field: "targets", Want: "the deployed target", Got: "none",
			Actions: e.asIf("events.amazonaws.com", "RemoveTargets", t, nil, trail.Config{})}), nil
	}
	tp := params{Rule: name}
	for _, x := range targets.Targets {
		rt := ruleTarget{ID: aws.ToString(x.Id), ARN: aws.ToString(x.Arn), Input: aws.ToString(x.Input), InputPath: aws.ToString(x.InputPath)}
		if x.InputTransformer != nil {
			rt.InputTransformer, _ = json.Marshal(map[string]any{"inputPathsMap": x.InputTransformer.InputPathsMap, "inputTemplate": aws.ToString(x.InputTransformer.InputTemplate)})
		}
		tp.Targets = append(tp.Targets, rt)
	}
	if cs := putTargetsChanges(tp, e.settings); len(cs) > 0 {
		for _, c := range cs {
			ds = append(ds, Drift{Resource: res, Field: c.Field, Want: c.Want, Got: c.Now})
		}
		ds[len(ds)-1].Actions = e.asIf("events.amazonaws.com", "PutTargets", t, cs, trail.Config{})
	}
	return ds, nil
}
