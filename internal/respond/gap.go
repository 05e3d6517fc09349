package respond

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"

	"github.com/trailguard/trailguard/internal/catalog"
	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/trail"
)

// A restore of logging closes a window in which the trail recorded nothing.
// The engine only says so (a Gap) to a GapRecorder, which keeps the window
// and later reports what happened in it (internal/forensics): Event History
// lags, so the report cannot be part of the first alert.

// Gap is a window in which a protected trail was blind, known once its
// logging is restored.
type Gap struct {
	// ID names the window: the blinding event's ID, or the drift's key.
	ID string `json:"id"`
	// Trail is the trail's name (or ARN, as the baseline names it).
	Trail string `json:"trail"`
	// HomeRegion is the trail's home region; Regions are the regions whose
	// Event History covers the window (home, the blinding call's region and
	// us-east-1 for global services).
	HomeRegion string   `json:"homeRegion"`
	Regions    []string `json:"regions"`
	Account    string   `json:"account,omitempty"`
	// Bucket is the trail's bucket, where the window and its report are kept.
	Bucket string `json:"bucket"`
	// Cause is what blinded the trail, e.g. "StopLogging" or "reconcile: logging off".
	Cause string `json:"cause"`
	// Actor is the blinding principal's ARN, and ActorKey its access key,
	// when known (reconciliation does not know who).
	Actor        string `json:"actor,omitempty"`
	ActorDisplay string `json:"actorDisplay,omitempty"`
	ActorKey     string `json:"actorKey,omitempty"`
	// AlertEventID is the event ID of the first alert, which the gap report
	// refers to.
	AlertEventID string `json:"alertEventId,omitempty"`
	// From is when the trail went blind; To when logging was restored.
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// FromExact is false when From is an estimate (the start is unknown).
	FromExact bool `json:"fromExact"`
}

// GapRecorder keeps a blind window until its report is due, and says when
// that will be.
type GapRecorder interface {
	RecordGap(ctx context.Context, g Gap) (due time.Time, err error)
}

// GapNotice is what the first alert says about the gap report to come.
type GapNotice struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Due is when the report is collected (by the first reconciliation run
	// after it); zero when it could not be scheduled.
	Due   time.Time `json:"due,omitzero"`
	Error string    `json:"error,omitempty"`
}

// WithGapRecorder makes the engine keep the blind windows its restores close.
func WithGapRecorder(g GapRecorder) Option { return func(e *Engine) { e.gaps = g } }

// gapRegion is where Event History holds the global services' events.
const gapRegion = "us-east-1"

// blindingResponses are the restores that end a blind window: logging back
// on, the trail back, management events back.
var blindingResponses = map[catalog.Response]bool{
	catalog.StartLogging: true, catalog.RecreateTrail: true, catalog.RestoreSelectors: true,
}

// recordGap hands the window closed by a successful restore to the recorder
// and returns the notice for the alert; nil when no window was closed.
func (e *Engine) recordGap(ctx context.Context, rep *Report, restored []Outcome) *GapNotice {
	c := rep.Plan.Classification
	if e.gaps == nil || !c.Succeeded || !blindingResponses[c.Entry.Response] || len(restored) == 0 {
		return nil
	}
	for _, o := range restored {
		if o.Status != StatusDone {
			return nil // still blind (or dry-run): no window closed
		}
	}
	rec := rep.Event.Record
	g := Gap{
		ID: rec.EventID, Trail: c.Target.Ref.Name, HomeRegion: c.Target.Region, Account: rec.RecipientAccountID,
		Cause: rec.EventName, Actor: c.Actor.ARN, ActorDisplay: c.Actor.Display, ActorKey: c.Actor.AccessKeyID,
		AlertEventID: rec.EventID, From: rec.EventTime, To: e.now(), FromExact: true,
	}
	if b := c.Target.Baseline; b != nil {
		g.Trail, g.Bucket = trail.ParseTrailRef(b.Name).Name, b.S3BucketName
	}
	g.Regions = gapRegions(g.HomeRegion, rec.AWSRegion)
	return e.keepGap(ctx, g)
}

func (e *Engine) keepGap(ctx context.Context, g Gap) *GapNotice {
	n := &GapNotice{From: g.From, To: g.To}
	if g.Bucket == "" {
		n.Error = "no gap report: the trail's bucket is not known (no baseline in " + config.EnvTrails + ")"
		return n
	}
	due, err := e.gaps.RecordGap(ctx, g)
	if err != nil {
		n.Error = "no gap report: " + describeErr(err)
		return n
	}
	n.Due = due
	return n
}

// gapRegions lists the distinct non-empty regions to search, home first.
func gapRegions(rs ...string) []string {
	var out []string
	for _, r := range append(rs, gapRegion) {
		if r == "" {
			continue
		}
		dup := false
		for _, o := range out {
			dup = dup || o == r
		}
		if !dup {
			out = append(out, r)
		}
	}
	return out
}

// GapLookback is how far back a window found by reconciliation is taken to
// start when the trail does not say when it stopped (a deleted trail,
// selectors): far enough to cover the runs that missed it, bounded so the
// report stays readable.
const GapLookback = time.Hour

// recordDriftGaps keeps the windows closed by reconciliation's repairs of a
// trail found off, deleted or blind by its selectors. rep.Outcomes follow
// rep.Drifts' actions in order.
func (e *Engine) recordDriftGaps(ctx context.Context, rep *ReconcileReport) {
	if e.gaps == nil {
		return
	}
	i := 0
	for _, d := range rep.Drifts {
		n := len(d.Actions)
		if i+n > len(rep.Outcomes) {
			return
		}
		outs := rep.Outcomes[i : i+n]
		i += n
		name, blinding, done := "", false, n > 0
		for j, a := range d.Actions {
			switch a.Kind {
			case KindStartLogging, KindCreateTrail, KindPutEventSelectors:
				blinding = true
				if name == "" {
					name = a.Target
				}
				if name == "" && a.Trail != nil {
					name = a.Trail.Name
				}
			}
			done = done && outs[j].Status == StatusDone
		}
		if !blinding || !done {
			continue
		}
		ref := trail.ParseTrailRef(name)
		b, ok := e.settings.Baseline(ref)
		if !ok {
			continue
		}
		region := firstNonEmpty(b.HomeRegion, ref.Region)
		now := e.now()
		g := Gap{
			Trail: trail.ParseTrailRef(b.Name).Name, HomeRegion: region, Regions: gapRegions(region),
			Bucket: b.S3BucketName, Cause: "reconcile: " + d.Field + " " + d.Got,
			From: now.Add(-GapLookback), To: now,
		}
		if r := e.res.Trails; r != nil && d.Field == "logging" {
			if st, err := r.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String(b.Name)}, inRegion(region)); err == nil && st.StopLoggingTime != nil && st.StopLoggingTime.Before(now) {
				g.From, g.FromExact = *st.StopLoggingTime, true
			}
		}
		g.ID = "reconcile-" + g.Trail + "-" + g.From.UTC().Format("20060102T150405Z")
		rep.Gaps = append(rep.Gaps, *e.keepGap(ctx, g))
	}
}
