package respond

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/trailguard/trailguard/internal/catalog"
	"github.com/trailguard/trailguard/internal/trail"
)

// AlarmsAPI is the part of CloudWatch the responder calls on trailguard's
// own alarms (TRAILGUARD_ALARMS).
type AlarmsAPI interface {
	DescribeAlarms(context.Context, *cloudwatch.DescribeAlarmsInput, ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error)
	EnableAlarmActions(context.Context, *cloudwatch.EnableAlarmActionsInput, ...func(*cloudwatch.Options)) (*cloudwatch.EnableAlarmActionsOutput, error)
}

const monitoringSource = "monitoring.amazonaws.com"

// describeAlarmsMax is the most names one DescribeAlarms takes.
const describeAlarmsMax = 100

// alarmDrift compares trailguard's alarms with what was deployed: each
// exists (a deleted one is alerted: only a redeploy recreates its metric and
// threshold), has its actions enabled (switched back on, as after
// DisableAlarmActions: a safe undo), and still notifies the alert topic (a
// rewritten alarm is alerted, as after PutMetricAlarm).
func (e *Engine) alarmDrift(ctx context.Context) ([]Drift, error) {
	names := e.settings.Alarms
	region := e.settings.Region
	in := func(o *cloudwatch.Options) { setRegion(&o.Region, region) }
	found := map[string]cwtypes.MetricAlarm{}
	for chunk := range slices.Chunk(names, describeAlarmsMax) {
		req := &cloudwatch.DescribeAlarmsInput{AlarmNames: chunk, AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm}}
		out, err := e.res.Alarms.DescribeAlarms(ctx, req, in)
		if err != nil {
			return nil, fmt.Errorf("read trailguard's alarms: %w", err)
		}
		for _, a := range out.MetricAlarms {
			found[aws.ToString(a.AlarmName)] = a
		}
	}
	var ds []Drift
	for _, n := range names {
		res := "alarm " + n
		t := Target{Kind: catalog.Alarm, ID: n, Region: region, Protected: true}
		a, ok := found[n]
		switch {
		case !ok:
			ds = append(ds, Drift{Resource: res, Field: "alarm", Want: "exists", Got: "deleted",
				Actions: e.asIf(monitoringSource, "DeleteAlarms", t, nil, trail.Config{})})
			continue
		case !aws.ToBool(a.ActionsEnabled):
			ds = append(ds, Drift{Resource: res, Field: "actionsEnabled", Want: "true", Got: "false",
				Actions: e.asIf(monitoringSource, "DisableAlarmActions", t, nil, trail.Config{})})
		}
		if e.settings.TopicARN != "" && !slices.Contains(a.AlarmActions, e.settings.TopicARN) {
			ds = append(ds, Drift{Resource: res, Field: "alarmActions", Want: "notify " + e.settings.TopicARN, Got: firstNonEmpty(strings.Join(a.AlarmActions, ", "), "none"),
				Actions: e.asIf(monitoringSource, "PutMetricAlarm", t, nil, trail.Config{})})
		}
	}
	return ds, nil
}

// enableAlarmActions switches the actions of the alarms in a.Target (comma
// separated) back on.
func (e *Engine) enableAlarmActions(ctx context.Context, a Action) (string, error) {
	if e.res.Alarms == nil {
		return "", errNoClient
	}
	_, err := e.res.Alarms.EnableAlarmActions(ctx, &cloudwatch.EnableAlarmActionsInput{AlarmNames: strings.Split(a.Target, ",")},
		func(o *cloudwatch.Options) { setRegion(&o.Region, a.Region) })
	return "", err
}
