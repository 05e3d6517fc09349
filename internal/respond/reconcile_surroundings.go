package respond

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/trailguard/trailguard/internal/catalog"
	"github.com/trailguard/trailguard/internal/trail"
)

// Reconciliation of what trailguard deploys around the trail and itself:
// the log groups (the trail's CloudWatch Logs group and the responder's own),
// trailguard's alarms, the alert topic and the responder function. An event
// announces each change to them (the catalog's rows); this is the check for
// the events that were lost, or that arrived while the responder could not
// act. Each drift is repaired where the event path repairs it (the plan comes
// from the same catalog row through asIf), otherwise alerted once with the
// manual step. A family whose client is not wired is not checked; a read
// that fails is an error of the run, never a drift and never a success.

// reconcileSurroundings adds the drifts of the surroundings to rep; record
// keeps each read error.
func (e *Engine) reconcileSurroundings(ctx context.Context, rep *ReconcileReport, record func(error)) {
	add := func(checked string, ds []Drift, err error) {
		rep.Checked = append(rep.Checked, checked)
		rep.Drifts = append(rep.Drifts, ds...)
		record(err)
	}
	for _, g := range e.logGroups() {
		ds, err := e.logGroupDrift(ctx, g.name, g.region)
		add("log group "+g.name, ds, err)
	}
	if e.res.Alarms != nil && len(e.settings.Alarms) > 0 {
		ds, err := e.alarmDrift(ctx) // reconcile_alarms.go
		add("alarms "+strings.Join(e.settings.Alarms, ", "), ds, err)
	}
	if e.res.Function != nil && e.settings.FunctionName != "" {
		ds, err := e.functionDrift(ctx) // reconcile_function.go
		add("function "+e.settings.FunctionName, ds, err)
	}
	if e.res.Topic != nil && e.settings.TopicARN != "" {
		ds, err := e.topicDrift(ctx) // reconcile_topic.go
		add("topic "+e.settings.TopicARN, ds, err)
	}
}

const logsSource = "logs.amazonaws.com"

type logGroupRef struct{ name, region string }

// logGroups are the log groups reconciliation keeps: each protected trail's
// CloudWatch Logs group (from its baseline) and the responder's own
// (AWS_LAMBDA_LOG_GROUP_NAME), once each. None without a Logs client.
func (e *Engine) logGroups() []logGroupRef {
	if e.res.Logs == nil {
		return nil
	}
	var out []logGroupRef
	seen := map[string]bool{}
	add := func(name, region string) {
		if name != "" && !seen[name+"|"+region] {
			seen[name+"|"+region] = true
			out = append(out, logGroupRef{name, region})
		}
	}
	for _, b := range e.settings.Trails {
		if b.CloudWatchLogsLogGroupArn == nil || *b.CloudWatchLogsLogGroupArn == "" {
			continue
		}
		region := b.HomeRegion
		if a, ok := trail.ParseARN(*b.CloudWatchLogsLogGroupArn); ok && a.Region != "" {
			region = a.Region
		}
		add(logGroupName(*b.CloudWatchLogsLogGroupArn), region)
	}
	add(e.settings.LogGroupName, e.settings.Region)
	return out
}

// logGroupDrift compares one log group with what the event path keeps: it
// exists (a deleted group is created again, as after DeleteLogGroup) and
// keeps its events at least TRAILGUARD_MIN_RETENTION_DAYS (a shorter
// retention is set back, as after PutRetentionPolicy). No retention means
// the events never expire, which keeps them long enough. Metric and
// subscription filters are not compared: trailguard deploys none and is
// given no list of the owners' filters, so there is nothing to compare
// with; their deletion is alerted by event (DeleteMetricFilter,
// DeleteSubscriptionFilter).
func (e *Engine) logGroupDrift(ctx context.Context, name, region string) ([]Drift, error) {
	res := "log group " + name
	t := Target{Kind: catalog.LogGroup, ID: name, Region: region, Protected: true}
	g, err := e.findLogGroup(ctx, name, region)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", res, err)
	}
	if g == nil {
		return []Drift{{Resource: res, Field: "log group", Want: "exists", Got: "deleted",
			Actions: e.asIf(logsSource, "DeleteLogGroup", t, nil, trail.Config{})}}, nil
	}
	min := e.settings.MinRetentionDays
	if days := g.RetentionInDays; days != nil && int(*days) < min {
		cs := []Change{{Field: "retention", Now: fmt.Sprintf("%d days", *days), Want: fmt.Sprintf("at least %d days", min), Fixable: true}}
		return []Drift{{Resource: res, Field: "retention", Want: cs[0].Want, Got: cs[0].Now,
			Actions: e.asIf(logsSource, "PutRetentionPolicy", t, cs, trail.Config{})}}, nil
	}
	return nil, nil
}

// logGroupPages bounds the pages read for one name: a prefix shared by more
// than a few thousand groups is an error of the run, not a deleted group.
const logGroupPages = 20

// findLogGroup returns the log group called name, or nil when it does not
// exist.
func (e *Engine) findLogGroup(ctx context.Context, name, region string) (*cwltypes.LogGroup, error) {
	in := &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(name)}
	for range logGroupPages {
		out, err := e.res.Logs.DescribeLogGroups(ctx, in, func(o *cloudwatchlogs.Options) { setRegion(&o.Region, region) })
		if err != nil {
			return nil, err
		}
		for i, g := range out.LogGroups {
			if aws.ToString(g.LogGroupName) == name {
				return &out.LogGroups[i], nil
			}
		}
		if aws.ToString(out.NextToken) == "" {
			return nil, nil
		}
		in.NextToken = out.NextToken
	}
	return nil, fmt.Errorf("more than %d pages of log groups named %s*", logGroupPages, name)
}
