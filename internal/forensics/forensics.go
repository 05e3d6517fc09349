// Package forensics reports what happened while a trail was blind.
//
// When the responder restores logging it knows the blind window: from the
// blinding call (or the trail's StopLoggingTime) to the restore. The trail
// recorded nothing in it, but CloudTrail's Event History still holds the
// window's management events for 90 days, per region. Event History lags by
// up to about 15 minutes, so the report cannot be part of the first alert:
// the window is kept in the trail's own bucket (trailguard/pending/), and a
// later reconciliation run, once the lag has passed, collects the events
// (LookupEvents, paginated, bounded, at most 2 requests per second per
// account and region), sends a follow-up alert that refers to the first one,
// and stores the full list beside the logs (trailguard/gap-reports/), so the
// evidence lives with the logs it fills in for.
//
// Data events (S3 object reads and writes, Lambda invocations, ...) are not
// in Event History: the report says so instead of pretending to be complete.
//
// forensics.go (about 500 lines) keeps the window, the collection and the
// report in one file because they share one lifecycle: a window is kept,
// collected once the lag has passed, reported, then forgotten.
package forensics

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/trailguard/trailguard/internal/respond"
	"github.com/trailguard/trailguard/internal/trail"
)

// Defaults.
const (
	// DefaultDelay is how long after the window closes the report is
	// collected: Event History can lag by up to about 15 minutes.
	DefaultDelay = 15 * time.Minute
	// DefaultMaxPages bounds the LookupEvents pages per region (50 events
	// each): a report is evidence for people, not a full export.
	DefaultMaxPages = 20
	// RequestsPerSecond is LookupEvents' quota per account and region.
	RequestsPerSecond = 2
	// PendingPrefix and ReportPrefix are where windows and reports live in
	// the trail's bucket.
	PendingPrefix = "trailguard/pending/"
	ReportPrefix  = "trailguard/gap-reports/"
)

// LookupAPI is the part of CloudTrail the collector calls; the region of
// each call is set per call.
type LookupAPI interface {
	LookupEvents(context.Context, *cloudtrail.LookupEventsInput, ...func(*cloudtrail.Options)) (*cloudtrail.LookupEventsOutput, error)
}

// ObjectStore is the part of S3 that keeps windows and reports.
type ObjectStore interface {
	PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	ListObjectsV2(context.Context, *s3.ListObjectsV2Input, ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	DeleteObject(context.Context, *s3.DeleteObjectInput, ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
}

// Notifier sends the follow-up alert. notify.SNS is one.
type Notifier interface {
	NotifyGap(ctx context.Context, r Report) error
}

// Call is one management event of the window, as a person reads it.
type Call struct {
	Time        time.Time `json:"time"`
	EventID     string    `json:"eventId"`
	EventName   string    `json:"eventName"`
	EventSource string    `json:"eventSource"`
	Region      string    `json:"region"`
	Principal   string    `json:"principal"`
	AccessKeyID string    `json:"accessKeyId,omitempty"`
	ErrorCode   string    `json:"errorCode,omitempty"`
	ReadOnly    bool      `json:"readOnly"`
}

// Count is how many calls one principal or service made.
type Count struct {
	Key   string `json:"key"`
	Calls int    `json:"calls"`
}

// RegionResult is what one region's Event History gave.
type RegionResult struct {
	Region    string `json:"region"`
	Events    int    `json:"events"`
	Pages     int    `json:"pages"`
	Truncated bool   `json:"truncated"`
	Error     string `json:"error,omitempty"`
}

// Report is the account of one blind window.
type Report struct {
	Window      respond.Gap    `json:"window"`
	CollectedAt time.Time      `json:"collectedAt"`
	Regions     []RegionResult `json:"regions"`
	// ActorCalls are the blinding principal's own calls, first.
	ActorCalls  []Call  `json:"actorCalls"`
	ByPrincipal []Count `json:"byPrincipal"`
	ByService   []Count `json:"byService"`
	// Calls are every management event of the window, oldest first.
	Calls []Call `json:"calls"`
	// Unrecoverable says what the report cannot contain.
	Unrecoverable []string `json:"unrecoverable"`
	// Bucket and Key are where the report is stored.
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
}

// Complete reports whether every region answered in full.
func (r Report) Complete() bool {
	for _, g := range r.Regions {
		if g.Error != "" || g.Truncated {
			return false
		}
	}
	return true
}

// Reporter keeps windows and reports on them. It satisfies
// respond.GapRecorder.
type Reporter struct {
	CloudTrail LookupAPI
	S3         ObjectStore
	Notifier   Notifier
	// Buckets are the protected trails' buckets, searched for windows.
	Buckets []string
	// Delay, MaxPages: DefaultDelay and DefaultMaxPages when zero.
	Delay    time.Duration
	MaxPages int
	// Now is the clock (time.Now when nil); Limiter paces LookupEvents
	// (NewLimiter(RequestsPerSecond) when nil).
	Now     func() time.Time
	Limiter *Limiter
	Log     *slog.Logger

	once sync.Once
}

func (r *Reporter) init() {
	r.once.Do(func() {
		if r.Delay == 0 {
			r.Delay = DefaultDelay
		}
		if r.MaxPages == 0 {
			r.MaxPages = DefaultMaxPages
		}
		if r.Now == nil {
			r.Now = time.Now
		}
		if r.Limiter == nil {
			r.Limiter = NewLimiter(RequestsPerSecond)
		}
		if r.Log == nil {
			r.Log = slog.New(slog.DiscardHandler)
		}
	})
}

// due is when the window's report is collected.
func (r *Reporter) due(g respond.Gap) time.Time { return g.To.Add(r.Delay) }

// pendingKey names a window's object by its ID: a retried response (Lambda
// retries an event whose containment failed) overwrites its window instead
// of adding a second one, and so a second report.
func pendingKey(g respond.Gap) string {
	return PendingPrefix + safe(g.ID) + ".json"
}

// reportKey names a report's object: per trail, by blinding time.
func reportKey(g respond.Gap) string {
	return ReportPrefix + safe(g.Trail) + "/" + g.From.UTC().Format("20060102T150405Z") + "-" + safe(g.ID) + ".json"
}

// safe keeps key characters S3 and people handle without escaping.
func safe(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '-'
	}, s)
}

// RecordGap keeps the window in its trail's bucket and returns when its
// report is due.
func (r *Reporter) RecordGap(ctx context.Context, g respond.Gap) (time.Time, error) {
	r.init()
	if g.Bucket == "" {
		return time.Time{}, errors.New("keep blind window: no bucket")
	}
	b, err := json.Marshal(g)
	if err != nil {
		return time.Time{}, fmt.Errorf("encode blind window: %w", err)
	}
	if _, err := r.S3.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(g.Bucket), Key: aws.String(pendingKey(g)),
		Body: bytes.NewReader(b), ContentType: aws.String("application/json"),
	}); err != nil {
		return time.Time{}, fmt.Errorf("keep blind window in s3://%s: %w", g.Bucket, err)
	}
	return r.due(g), nil
}

// Run reports on every window whose report is due: collect, store, alert,
// then forget the window. A window whose alert failed stays, and is reported
// again on the next run (the stored report is overwritten, not doubled).
func (r *Reporter) Run(ctx context.Context) ([]Report, error) {
	r.init()
	var out []Report
	var errs []error
	for _, bucket := range dedupe(r.Buckets) {
		windows, err := r.pending(ctx, bucket)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, w := range windows {
			if r.Now().Before(r.due(w.gap)) {
				continue
			}
			rep, err := r.report(ctx, bucket, w.key, w.gap)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			out = append(out, rep)
		}
	}
	return out, errors.Join(errs...)
}

type pendingWindow struct {
	key string
	gap respond.Gap
}

func (r *Reporter) pending(ctx context.Context, bucket string) ([]pendingWindow, error) {
	var out []pendingWindow
	var token *string
	for range r.MaxPages {
		page, err := r.S3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(PendingPrefix), ContinuationToken: token})
		if err != nil {
			return nil, fmt.Errorf("list blind windows in s3://%s: %w", bucket, err)
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			obj, err := r.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
			if err != nil {
				return nil, fmt.Errorf("read blind window s3://%s/%s: %w", bucket, key, err)
			}
			b, err := io.ReadAll(io.LimitReader(obj.Body, 1<<20))
			_ = obj.Body.Close()
			if err != nil {
				return nil, fmt.Errorf("read blind window s3://%s/%s: %w", bucket, key, err)
			}
			var g respond.Gap
			if err := json.Unmarshal(b, &g); err != nil || g.To.IsZero() {
				// Not ours, or damaged: leave it for a person, never crash.
				r.Log.Warn("blind window unreadable", "bucket", bucket, "key", key)
				continue
			}
			out = append(out, pendingWindow{key: key, gap: g})
		}
		if !aws.ToBool(page.IsTruncated) || page.NextContinuationToken == nil {
			break
		}
		token = page.NextContinuationToken
	}
	return out, nil
}

func (r *Reporter) report(ctx context.Context, bucket, pendingKey string, g respond.Gap) (Report, error) {
	rep := r.Collect(ctx, g)
	rep.Bucket, rep.Key = bucket, reportKey(g)
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return rep, fmt.Errorf("encode gap report: %w", err)
	}
	if _, err := r.S3.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(rep.Key),
		Body: bytes.NewReader(b), ContentType: aws.String("application/json"),
	}); err != nil {
		return rep, fmt.Errorf("store gap report in s3://%s: %w", bucket, err)
	}
	if r.Notifier != nil {
		if err := r.Notifier.NotifyGap(ctx, rep); err != nil {
			return rep, fmt.Errorf("gap report alert: %w", err)
		}
	}
	if _, err := r.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(pendingKey)}); err != nil {
		return rep, fmt.Errorf("forget blind window s3://%s/%s: %w", bucket, pendingKey, err)
	}
	return rep, nil
}

// Collect reads the window's management events from Event History in each
// of its regions and orders them for people: the actor's calls first.
func (r *Reporter) Collect(ctx context.Context, g respond.Gap) Report {
	r.init()
	rep := Report{Window: g, CollectedAt: r.Now()}
	for _, region := range g.Regions {
		calls, res := r.lookup(ctx, g, region)
		rep.Regions = append(rep.Regions, res)
		rep.Calls = append(rep.Calls, calls...)
	}
	sort.SliceStable(rep.Calls, func(i, j int) bool { return rep.Calls[i].Time.Before(rep.Calls[j].Time) })
	principals, services := map[string]int{}, map[string]int{}
	for _, c := range rep.Calls {
		if isActor(g, c) {
			rep.ActorCalls = append(rep.ActorCalls, c)
		}
		principals[orUnknown(c.Principal)]++
		services[c.EventSource]++
	}
	rep.ByPrincipal, rep.ByService = counts(principals), counts(services)
	rep.Unrecoverable = append(rep.Unrecoverable,
		"data events (S3 object reads and writes, Lambda invocations, DynamoDB items, ...): Event History keeps management events only",
		"calls in other regions: only "+strings.Join(g.Regions, ", ")+" searched (the trail's home region, the blinding call's region, and us-east-1 for global services)")
	if !g.FromExact {
		rep.Unrecoverable = append(rep.Unrecoverable, "the exact start of the window: the trail does not say when it went blind; searched from "+g.From.UTC().Format(time.RFC3339))
	}
	for _, res := range rep.Regions {
		switch {
		case res.Error != "":
			rep.Unrecoverable = append(rep.Unrecoverable, res.Region+": Event History could not be read: "+res.Error)
		case res.Truncated:
			rep.Unrecoverable = append(rep.Unrecoverable, fmt.Sprintf("%s: more than %d events; the rest are in Event History (the console, or aws cloudtrail lookup-events)", res.Region, res.Events))
		}
	}
	return rep
}

// lookup pages through one region's Event History for the window.
func (r *Reporter) lookup(ctx context.Context, g respond.Gap, region string) ([]Call, RegionResult) {
	res := RegionResult{Region: region}
	var calls []Call
	var token *string
	for {
		if res.Pages == r.MaxPages {
			res.Truncated = true
			break
		}
		if err := r.Limiter.Wait(ctx, g.Account+"/"+region); err != nil {
			res.Error = err.Error()
			break
		}
		out, err := r.CloudTrail.LookupEvents(ctx, &cloudtrail.LookupEventsInput{
			StartTime: aws.Time(g.From), EndTime: aws.Time(g.To),
			MaxResults: aws.Int32(50), NextToken: token,
		}, func(o *cloudtrail.Options) { o.Region = region })
		if err != nil {
			res.Error = err.Error()
			break
		}
		res.Pages++
		for _, e := range out.Events {
			calls = append(calls, toCall(e, region))
		}
		if out.NextToken == nil || *out.NextToken == "" {
			break
		}
		token = out.NextToken
	}
	res.Events = len(calls)
	return calls, res
}

// toCall reads an Event History entry; the full record (CloudTrailEvent)
// gives the principal's ARN and the error code.
func toCall(e cttypes.Event, region string) Call {
	c := Call{
		Time: aws.ToTime(e.EventTime), EventID: aws.ToString(e.EventId), EventName: aws.ToString(e.EventName),
		EventSource: aws.ToString(e.EventSource), Region: region, AccessKeyID: aws.ToString(e.AccessKeyId),
		ReadOnly: aws.ToString(e.ReadOnly) == "true", Principal: aws.ToString(e.Username),
	}
	if raw := aws.ToString(e.CloudTrailEvent); raw != "" {
		if ev, err := trail.Parse([]byte(raw)); err == nil {
			rec := ev.Record
			if rec.UserIdentity.ARN != "" {
				c.Principal = rec.UserIdentity.ARN
			}
			c.ErrorCode = rec.ErrorCode
			if rec.AWSRegion != "" {
				c.Region = rec.AWSRegion
			}
			if c.AccessKeyID == "" {
				c.AccessKeyID = rec.UserIdentity.AccessKeyID
			}
		}
	}
	return c
}

func isActor(g respond.Gap, c Call) bool {
	return (g.Actor != "" && c.Principal == g.Actor) || (g.ActorKey != "" && c.AccessKeyID == g.ActorKey)
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown principal)"
	}
	return s
}

// counts orders a tally by calls, most first, then by key.
func counts(m map[string]int) []Count {
	out := make([]Count, 0, len(m))
	for k, n := range m {
		out = append(out, Count{Key: k, Calls: n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Calls != out[j].Calls {
			return out[i].Calls > out[j].Calls
		}
		return out[i].Key < out[j].Key
	})
	return out
}

func dedupe(in []string) []string {
	var out []string
	for _, s := range in {
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// Limiter spaces requests per key (account and region) at a fixed rate.
type Limiter struct {
	interval time.Duration
	mu       sync.Mutex
	next     map[string]time.Time
	// now and sleep are the clock; tests replace them.
	now   func() time.Time
	sleep func(context.Context, time.Duration) error
}

// NewLimiter allows perSecond requests per second per key.
func NewLimiter(perSecond int) *Limiter {
	return &Limiter{interval: time.Second / time.Duration(perSecond), next: map[string]time.Time{}, now: time.Now, sleep: sleepCtx}
}

// Wait blocks until key may make its next request, or ctx ends.
func (l *Limiter) Wait(ctx context.Context, key string) error {
	l.mu.Lock()
	now := l.now()
	at := l.next[key]
	if at.Before(now) {
		at = now
	}
	l.next[key] = at.Add(l.interval)
	l.mu.Unlock()
	if d := at.Sub(now); d > 0 {
		return l.sleep(ctx, d)
	}
	return ctx.Err()
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// LogReports writes one log line per gap report sent, and the run's error.
func LogReports(ctx context.Context, log *slog.Logger, reports []Report, err error) {
	for _, r := range reports {
		log.InfoContext(ctx, "gap report sent",
			slog.String("trail", r.Window.Trail), slog.String("cause", r.Window.Cause),
			slog.Time("from", r.Window.From), slog.Time("to", r.Window.To),
			slog.Int("calls", len(r.Calls)), slog.Int("actorCalls", len(r.ActorCalls)),
			slog.Bool("complete", r.Complete()), slog.String("stored", "s3://"+r.Bucket+"/"+r.Key))
	}
	if err != nil {
		log.ErrorContext(ctx, "gap reports failed", slog.String("error", err.Error()))
	}
}
