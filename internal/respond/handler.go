package respond

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/trail"
)

// Handler is the Lambda entry point: one invocation, one event, one
// structured log line with the classification, the plan and the outcomes.
type Handler struct {
	Engine *Engine
	Log    *slog.Logger
	// Reconcile answers scheduled invocations; nil means they are refused.
	Reconcile func(ctx context.Context) error
	// Delivered remembers the events handled without failure, so that a
	// duplicate delivery is not answered (and alerted) again; nil disables it.
	Delivered *Deliveries
	// Claims, when set, replaces Delivered with a memory shared by every
	// execution environment (see once.go).
	Claims Claimer
}

// Deliveries remembers the IDs of the last events handled without failure.
// EventBridge delivers at least once; every action is idempotent, so a
// duplicate would converge anyway, but it would also repeat the alert and the
// IAM writes. Only successes are remembered: Lambda's retry of a failed event
// must run again. The memory is per execution environment, so a duplicate
// reaching another one is answered again, harmlessly.
type Deliveries struct {
	mu    sync.Mutex
	max   int
	order []string
	set   map[string]bool
}

// NewDeliveries remembers up to max event IDs.
func NewDeliveries(max int) *Deliveries {
	return &Deliveries{max: max, set: make(map[string]bool, max)}
}

// Seen reports whether the event was handled without failure already.
func (d *Deliveries) Seen(id string) bool {
	if d == nil || id == "" {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.set[id]
}

// Done records an event handled without failure.
func (d *Deliveries) Done(id string) {
	if d == nil || id == "" {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.set[id] {
		return
	}
	if len(d.order) >= d.max {
		delete(d.set, d.order[0])
		d.order = d.order[1:]
	}
	d.order = append(d.order, id)
	d.set[id] = true
}

// Handle processes one invocation payload. A malformed event is an error (it
// lands in the function's on-failure destination with the reason), never a
// panic and never an action.
func (h Handler) Handle(ctx context.Context, raw json.RawMessage) error {
	t0 := time.Now()
	ev, err := trail.Parse(raw)
	if err != nil {
		// Only a payload that is not a CloudTrail event can be the
		// schedule: the common path scans the input once.
		if isScheduled(raw) {
			if h.Reconcile == nil {
				return fmt.Errorf("reconcile request: reconciliation is not configured")
			}
			return h.Reconcile(ctx)
		}
		h.Log.ErrorContext(ctx, "event rejected", slog.String("error", err.Error()), slog.Int("bytes", len(raw)))
		return fmt.Errorf("parse event: %w", err)
	}
	if h.Claims != nil && ev.Record.EventID != "" {
		return h.handleClaimed(ctx, ev, t0)
	}
	if id := ev.Record.EventID; h.Delivered.Seen(id) {
		h.Log.InfoContext(ctx, "event handled: duplicate delivery, answered already",
			slog.Group("event", slog.String("id", id), slog.String("name", ev.Record.EventName)))
		return nil
	}
	rep, err := h.Engine.Respond(ctx, ev)
	LogReport(ctx, h.Log, rep, err, time.Since(t0))
	if err == nil {
		h.Delivered.Done(ev.Record.EventID)
	}
	return err
}

// isScheduled reports whether the payload is an EventBridge scheduled event
// (the reconciliation schedule).
func isScheduled(raw []byte) bool {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return false
	}
	var p struct {
		Source     string `json:"source"`
		DetailType string `json:"detail-type"`
	}
	return json.Unmarshal(raw, &p) == nil && p.Source == "aws.events" && p.DetailType == "Scheduled Event"
}

// LogReport writes the one log line that describes how an event was handled.
func LogReport(ctx context.Context, log *slog.Logger, rep Report, err error, took time.Duration) {
	c := rep.Plan.Classification
	r := rep.Event.Record
	plan := make([]string, 0, len(rep.Plan.Actions))
	for _, a := range rep.Plan.Actions {
		plan = append(plan, string(a.Step)+": "+a.String())
	}
	type outcomeLine struct {
		Action string  `json:"action"`
		Status Status  `json:"status"`
		Ms     float64 `json:"ms"`
		Detail string  `json:"detail,omitempty"`
		Error  string  `json:"error,omitempty"`
	}
	outcomes := make([]outcomeLine, 0, len(rep.Outcomes))
	for _, o := range rep.Outcomes {
		outcomes = append(outcomes, outcomeLine{Action: string(o.Action.Step) + ": " + o.Action.String(), Status: o.Status, Ms: ms(o.Duration), Detail: o.Detail, Error: o.Error})
	}
	exemptions := make([]string, 0, len(c.Exemptions))
	for _, x := range c.Exemptions {
		exemptions = append(exemptions, string(x))
	}
	level, msg := slog.LevelInfo, "event handled"
	if err != nil {
		level, msg = slog.LevelError, "event handled with failures"
	}
	log.Log(ctx, level, msg,
		slog.Group("event",
			slog.String("id", r.EventID), slog.String("name", r.EventName), slog.String("source", r.EventSource),
			slog.String("region", r.AWSRegion), slog.String("account", r.RecipientAccountID), slog.String("accountName", rep.AccountAlias),
			slog.String("errorCode", r.ErrorCode),
			// The whole event: an alert too large for SNS carries it cut.
			slog.Any("raw", json.RawMessage(rawOrNull(rep.Event.Raw)))),
		slog.Group("classification",
			slog.Bool("known", c.Known), slog.Bool("tamper", c.Tamper()), slog.Bool("succeeded", c.Succeeded),
			slog.String("severity", c.Severity.String()), slog.String("target", c.Target.ID),
			slog.String("actor", c.Actor.ARN), slog.String("actorType", c.Actor.Type),
			slog.String("containment", string(c.Actor.Containment)), slog.Any("exemptions", exemptions)),
		slog.String("mode", string(rep.Mode)),
		slog.Bool("quiet", rep.Plan.Quiet),
		slog.Bool("outOfScope", rep.OutOfScope),
		slog.String("duplicate", rep.Duplicate),
		slog.Any("plan", plan),
		slog.Any("outcomes", outcomes),
		slog.Float64("durationMs", ms(took)),
	)
}

func rawOrNull(b []byte) []byte {
	if len(b) == 0 || !json.Valid(b) {
		return []byte("null")
	}
	return b
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// LogReconcile writes the one log line that describes a reconciliation run.
func LogReconcile(ctx context.Context, log *slog.Logger, rep ReconcileReport, err error) {
	drifts := make([]string, 0, len(rep.Drifts))
	for _, d := range rep.Drifts {
		s := d.Resource + " " + d.Field + ": " + d.Got + " (want " + d.Want + ")"
		if d.New {
			s += " [new]"
		}
		drifts = append(drifts, s)
	}
	outcomes := make([]string, 0, len(rep.Outcomes))
	for _, o := range rep.Outcomes {
		s := string(o.Status) + " " + o.Action.String()
		if o.Error != "" {
			s += ": " + o.Error
		}
		outcomes = append(outcomes, s)
	}
	level, msg := slog.LevelInfo, "reconciled"
	if err != nil {
		level, msg = slog.LevelError, "reconciled with failures"
	}
	log.Log(ctx, level, msg,
		slog.String("mode", string(rep.Mode)),
		slog.Any("checked", rep.Checked),
		slog.Any("drifts", drifts),
		slog.Any("outcomes", outcomes),
		slog.Any("errors", rep.Errors),
		slog.Bool("alerted", rep.Alerted),
		slog.Float64("durationMs", ms(rep.Duration)),
	)
}

// LogHeartbeat writes the heartbeat metric of a successful reconciliation as
// a CloudWatch embedded-metric line, so that the heartbeat alarm (missing
// data breaching) pages when reconciliation stops running or succeeding.
func LogHeartbeat(ctx context.Context, log *slog.Logger, functionName string, at time.Time) {
	if functionName == "" {
		return
	}
	log.InfoContext(ctx, "reconcile heartbeat",
		slog.Group("_aws",
			slog.Int64("Timestamp", at.UnixMilli()),
			slog.Any("CloudWatchMetrics", []map[string]any{{
				"Namespace":  config.HeartbeatNamespace,
				"Dimensions": [][]string{{"FunctionName"}},
				"Metrics":    []map[string]string{{"Name": config.HeartbeatMetric, "Unit": "Count"}},
			}})),
		slog.String("FunctionName", functionName),
		slog.Int(config.HeartbeatMetric, 1),
	)
}
