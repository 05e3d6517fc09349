package respond

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/trailguard/trailguard/internal/catalog"
	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/judgment"
	"github.com/trailguard/trailguard/internal/trail"
)

// Reconciliation exists because EventBridge delivery is best effort: an event
// can be lost, a disabled rule cannot report its own disabling, and with every
// trail stopped later API calls may not arrive at all. On a schedule the
// engine compares each protected trail and what it depends on with the
// baseline and repairs the drift no event announced. Each drift is mapped to
// the catalog entry whose undo repairs it, so reconciliation restores exactly
// as the event path would.
//
// The event path's exemptions are about the caller (a failed call, the allow
// list, the responder itself, a CloudFormation deployment). Reconciliation
// sees state, not callers, so it honours none of them, on purpose: a drift
// from the baseline is repaired and alerted whoever caused it. In particular
// a CloudFormation deployment that changes a protected trail must change its
// baseline (TRAILGUARD_TRAILS) in the same deployment, or the next run puts
// the baseline back. Reconciliation never contains anyone: with no caller
// there is no one to contain.

// Drift is one difference between a protected resource and its baseline.
type Drift struct {
	// Resource names what drifted, e.g. "trail management-trail".
	Resource string `json:"resource"`
	Field    string `json:"field"`
	Want     string `json:"want"`
	Got      string `json:"got"`
	// Actions repair it (manual ones tell a person what to do).
	Actions []Action `json:"actions"`
	// New is true the first time this drift is seen: only new drifts are
	// alerted, so a drift that cannot be repaired does not alert every run.
	New bool `json:"new"`
}

func (d Drift) key() string { return d.Resource + "|" + d.Field + "|" + d.Got }

// ReconcileReport is the account of one reconciliation run.
type ReconcileReport struct {
	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"durationNs"`
	Mode     config.Mode   `json:"mode"`
	Checked  []string      `json:"checked"`
	Drifts   []Drift       `json:"drifts"`
	Outcomes []Outcome     `json:"outcomes"`
	// Errors are what could not be read; the run is then incomplete.
	Errors []string `json:"errors,omitempty"`
	// Alerted is true when a drift alert was sent.
	Alerted bool `json:"alerted"`
	// Gaps announce the reports on the blind windows the repairs closed.
	Gaps []GapNotice `json:"gaps,omitempty"`
}

// NewDrifts returns the drifts seen for the first time.
func (r ReconcileReport) NewDrifts() []Drift {
	var out []Drift
	for _, d := range r.Drifts {
		if d.New {
			out = append(out, d)
		}
	}
	return out
}

// DriftNotifier delivers a reconciliation report. The SNS notifier is one.
// It is wired explicitly (WithDriftNotifier): an engine without one reports
// every new drift as an error instead of dropping its alert.
type DriftNotifier interface {
	NotifyDrift(ctx context.Context, r ReconcileReport) error
}

// WithDriftNotifier sets who receives reconciliation's drift alerts.
func WithDriftNotifier(d DriftNotifier) Option { return func(e *Engine) { e.drift = d } }

// TrailReader is the part of CloudTrail reconciliation reads.
type TrailReader interface {
	GetTrail(context.Context, *cloudtrail.GetTrailInput, ...func(*cloudtrail.Options)) (*cloudtrail.GetTrailOutput, error)
	GetTrailStatus(context.Context, *cloudtrail.GetTrailStatusInput, ...func(*cloudtrail.Options)) (*cloudtrail.GetTrailStatusOutput, error)
	GetEventSelectors(context.Context, *cloudtrail.GetEventSelectorsInput, ...func(*cloudtrail.Options)) (*cloudtrail.GetEventSelectorsOutput, error)
}

// Reconcile checks every protected resource, repairs drift, and alerts once
// per new drift. The error is non-nil when a repair failed or a resource
// could not be read, so the scheduled invocation is retried and counted.
func (e *Engine) Reconcile(ctx context.Context) (ReconcileReport, error) {
	rep := ReconcileReport{Started: e.now(), Mode: e.settings.Mode}
	var errs []error
	record := func(err error) {
		if err != nil {
			errs = append(errs, err)
			rep.Errors = append(rep.Errors, describeErr(err))
		}
	}
	reader := e.res.Trails
	if reader == nil && len(e.settings.Trails) > 0 {
		record(errors.New("reconcile: no CloudTrail client to read trails with (Resources.Trails)"))
	}
	for _, b := range e.settings.Trails {
		if reader == nil {
			break
		}
		ds, arn, err := e.trailDrift(ctx, reader, b)
		rep.Checked = append(rep.Checked, "trail "+trail.ParseTrailRef(b.Name).Name)
		rep.Drifts = append(rep.Drifts, ds...)
		record(err)
		if b.S3BucketName != "" && e.res.S3 != nil {
			ds, err := e.bucketDrift(ctx, b, arn)
			rep.Checked = append(rep.Checked, "bucket "+b.S3BucketName)
			rep.Drifts = append(rep.Drifts, ds...)
			record(err)
			ds, err = e.bucketProtectionDrift(ctx, b)
			rep.Drifts = append(rep.Drifts, ds...)
			record(err)
		}
		if b.KmsKeyID != nil && *b.KmsKeyID != "" && e.res.KMS != nil {
			ds, err := e.keyDrift(ctx, b, arn)
			rep.Checked = append(rep.Checked, "key "+keyID(*b.KmsKeyID))
			rep.Drifts = append(rep.Drifts, ds...)
			record(err)
		}
	}
	if e.res.Events != nil {
		for _, name := range e.settings.Rules {
			ds, err := e.ruleDrift(ctx, name)
			rep.Checked = append(rep.Checked, "rule "+name)
			rep.Drifts = append(rep.Drifts, ds...)
			record(err)
		}
	}
	e.reconcileSurroundings(ctx, &rep, record) // reconcile_surroundings.go
	e.containmentDrift(ctx, &rep, record)      // reconcile_containment.go

	e.markNew(rep.Drifts)
	for _, d := range rep.Drifts {
		for _, a := range d.Actions {
			o := e.run(ctx, a)
			rep.Outcomes = append(rep.Outcomes, o)
			if o.Status == StatusFailed {
				errs = append(errs, fmt.Errorf("%s: %s", a, o.Error))
			}
		}
	}
	e.recordDriftGaps(ctx, &rep) // gap.go
	if len(rep.NewDrifts()) > 0 {
		rep.Duration = e.now().Sub(rep.Started)
		switch err := e.notifyDrift(ctx, rep); {
		case err != nil:
			errs = append(errs, fmt.Errorf("drift alert: %w", err))
			e.forgetDrifts(rep.NewDrifts()) // so the next run alerts them again
		default:
			rep.Alerted = true
		}
	}
	rep.Duration = e.now().Sub(rep.Started)
	if len(errs) > 0 {
		return rep, fmt.Errorf("reconcile: %w", errors.Join(errs...))
	}
	return rep, nil
}

func (e *Engine) notifyDrift(ctx context.Context, rep ReconcileReport) error {
	if e.drift == nil {
		return fmt.Errorf("no drift notifier wired: %d new drift(s) not alerted", len(rep.NewDrifts()))
	}
	return e.drift.NotifyDrift(ctx, rep)
}

// markNew flags the drifts not seen by the previous run, and forgets the
// drifts that are gone, so that a recurring drift alerts again. The memory
// lives as long as the function's execution environment: a cold start may
// alert once more about a drift that could not be repaired, which is a
// reminder rather than noise.
func (e *Engine) markNew(ds []Drift) {
	e.mu.Lock()
	defer e.mu.Unlock()
	seen := make(map[string]bool, len(ds))
	for i := range ds {
		k := ds[i].key()
		ds[i].New = !e.seen[k]
		seen[k] = true
	}
	e.seen = seen
}

// forgetDrifts drops drifts from the memory of alerted ones: their alert could
// not be sent, so they count as new again on the next run.
func (e *Engine) forgetDrifts(ds []Drift) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, d := range ds {
		delete(e.seen, d.key())
	}
}

// asIf plans the restore the event path would make for entry on target.
func (e *Engine) asIf(source, name string, t Target, changes []Change, req trail.Config) []Action {
	entry, _ := catalog.Lookup(source, name)
	c := Classification{Entry: entry, Known: true, Succeeded: true, Target: t, Changes: changes, Request: req}
	return restoreActions(c, e.settings)
}

// trailDrift compares one trail with its baseline. It also returns the
// trail's ARN as CloudTrail reports it ("" when the trail is gone).
func (e *Engine) trailDrift(ctx context.Context, ct TrailReader, b trail.Config) ([]Drift, string, error) {
	ref := trail.ParseTrailRef(b.Name)
	region := firstNonEmpty(b.HomeRegion, ref.Region)
	t := Target{Kind: catalog.Trail, Ref: ref, ID: b.Name, Region: region, Baseline: &b, Protected: true}
	res := "trail " + ref.Name
	got, err := ct.GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String(b.Name)}, inRegion(region))
	if errorCode(err) == "TrailNotFoundException" {
		return []Drift{{Resource: res, Field: "trail", Want: "exists", Got: "deleted",
			Actions: e.asIf(cloudtrailSource, "DeleteTrail", t, nil, trail.Config{})}}, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("read %s: %w", res, err)
	}
	var arn string
	if got.Trail != nil {
		arn = aws.ToString(got.Trail.TrailARN)
	}
	var ds []Drift
	status, err := ct.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String(b.Name)}, inRegion(region))
	if err != nil {
		return nil, arn, fmt.Errorf("read status of %s: %w", res, err)
	}
	if !aws.ToBool(status.IsLogging) {
		ds = append(ds, Drift{Resource: res, Field: "logging", Want: "on", Got: "off",
			Actions: e.asIf(cloudtrailSource, "StopLogging", t, nil, trail.Config{})})
	}

	now := observedTrail(got, b)
	if cs := trailChanges(now, &b); degrading(cs) {
		for _, c := range cs {
			if !c.Review {
				ds = append(ds, Drift{Resource: res, Field: c.Field, Want: c.Want, Got: c.Now})
			}
		}
		ds[len(ds)-1].Actions = e.asIf(cloudtrailSource, "UpdateTrail", t, cs, now)
	}

	sel, err := ct.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: aws.String(b.Name)}, inRegion(region))
	if err != nil {
		return ds, arn, fmt.Errorf("read selectors of %s: %w", res, err)
	}
	req := selectorsFromSDK(b.Name, sel)
	if cs := selectorChanges(req, &b); len(cs) > 0 {
		ds = append(ds, Drift{Resource: res, Field: cs[0].Field, Want: cs[0].Want, Got: cs[0].Now,
			Actions: e.asIf(cloudtrailSource, "PutEventSelectors", t, cs, req)})
	}
	return ds, arn, nil
}

const cloudtrailSource = "cloudtrail.amazonaws.com"

// observedTrail is the live trail reduced to the fields the baseline sets,
// so that only those are compared (a field the baseline leaves open is the
// owner's choice).
func observedTrail(out *cloudtrail.GetTrailOutput, b trail.Config) trail.Config {
	tr := out.Trail
	now := trail.Config{Name: b.Name}
	if tr == nil {
		return now
	}
	if b.IsMultiRegionTrail != nil {
		now.IsMultiRegionTrail = aws.Bool(aws.ToBool(tr.IsMultiRegionTrail))
	}
	if b.IncludeGlobalServiceEvents != nil {
		now.IncludeGlobalServiceEvents = aws.Bool(aws.ToBool(tr.IncludeGlobalServiceEvents))
	}
	if b.EnableLogFileValidation != nil {
		now.EnableLogFileValidation = aws.Bool(aws.ToBool(tr.LogFileValidationEnabled))
	}
	if b.IsOrganizationTrail != nil {
		now.IsOrganizationTrail = aws.Bool(aws.ToBool(tr.IsOrganizationTrail))
	}
	if b.S3BucketName != "" {
		now.S3BucketName = aws.ToString(tr.S3BucketName)
	}
	if b.S3KeyPrefix != nil {
		now.S3KeyPrefix = aws.String(aws.ToString(tr.S3KeyPrefix))
	}
	if b.KmsKeyID != nil {
		k := aws.ToString(tr.KmsKeyId)
		if k != "" && keyID(k) == keyID(*b.KmsKeyID) {
			k = *b.KmsKeyID // the same key, named another way
		}
		now.KmsKeyID = &k
	}
	if b.CloudWatchLogsLogGroupArn != nil {
		now.CloudWatchLogsLogGroupArn = aws.String(aws.ToString(tr.CloudWatchLogsLogGroupArn))
	}
	if b.CloudWatchLogsRoleArn != nil {
		now.CloudWatchLogsRoleArn = aws.String(aws.ToString(tr.CloudWatchLogsRoleArn))
	}
	return now
}

func selectorsFromSDK(name string, out *cloudtrail.GetEventSelectorsOutput) trail.Config {
	c := trail.Config{Name: name}
	for _, s := range out.EventSelectors {
		es := trail.EventSelector{ReadWriteType: string(s.ReadWriteType), IncludeManagementEvents: s.IncludeManagementEvents,
			ExcludeManagementEventSources: s.ExcludeManagementEventSources}
		for _, d := range s.DataResources {
			es.DataResources = append(es.DataResources, trail.DataResource{Type: aws.ToString(d.Type), Values: d.Values})
		}
		c.EventSelectors = append(c.EventSelectors, es)
	}
	for _, a := range out.AdvancedEventSelectors {
		as := trail.AdvancedEventSelector{Name: aws.ToString(a.Name)}
		for _, f := range a.FieldSelectors {
			as.FieldSelectors = append(as.FieldSelectors, trail.FieldSelector{Field: aws.ToString(f.Field), Equals: f.Equals, StartsWith: f.StartsWith,
				EndsWith: f.EndsWith, NotEquals: f.NotEquals, NotStartsWith: f.NotStartsWith, NotEndsWith: f.NotEndsWith})
		}
		c.AdvancedEventSelectors = append(c.AdvancedEventSelectors, as)
	}
	return c
}

// bucketDrift checks a trail's bucket: it exists, grants CloudTrail, and
// keeps logs for the minimum retention. observedARN is the trail's ARN as
// CloudTrail reported it, the most reliable source of the account id.
func (e *Engine) bucketDrift(ctx context.Context, b trail.Config, observedARN string) ([]Drift, error) {
	res := "bucket " + b.S3BucketName
	acct := accountOf(observedARN, b.Name, e.settings.SelfRoleARN, e.settings.TopicARN)
	t := Target{Kind: catalog.Bucket, ID: b.S3BucketName, Region: b.HomeRegion, Protected: true, Account: acct}
	for _, x := range e.settings.Trails {
		if x.S3BucketName != b.S3BucketName {
			continue
		}
		arn := trailARN(x, trail.Record{AWSRegion: b.HomeRegion, RecipientAccountID: acct})
		if x.Name == b.Name && observedARN != "" {
			arn = observedARN
		}
		t.Trails = append(t.Trails, arn)
		t.KeyPrefix = deref(x.S3KeyPrefix)
		t.KeyPrefixes = append(t.KeyPrefixes, t.KeyPrefix)
	}
	if !slices.ContainsFunc(t.KeyPrefixes, func(p string) bool { return p != "" }) {
		t.KeyPrefixes = nil
	}
	var ds []Drift
	pol, err := e.res.S3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(b.S3BucketName)}, s3Region(b.HomeRegion))
	switch code := errorCode(err); {
	case code == "NoSuchBucket":
		return []Drift{{Resource: res, Field: "bucket", Want: "exists", Got: "deleted",
			Actions: e.asIf("s3.amazonaws.com", "DeleteBucket", t, nil, trail.Config{})}}, nil
	case code == "NoSuchBucketPolicy":
		ds = append(ds, Drift{Resource: res, Field: "bucketPolicy", Want: "grants CloudTrail", Got: "no policy",
			Actions: e.asIf("s3.amazonaws.com", "DeleteBucketPolicy", t, nil, trail.Config{})})
	case err != nil:
		return nil, fmt.Errorf("read policy of %s: %w", res, err)
	default:
		j := judgment.BucketPolicyFor([]byte(aws.ToString(pol.Policy)), t.deliveries())
		if d, ok := judgedDrift(res, "bucketPolicy", "lets CloudTrail deliver, scoped by aws:SourceArn", j, func() []Action {
			return e.asIf("s3.amazonaws.com", "DeleteBucketPolicy", t, nil, trail.Config{})
		}); ok {
			ds = append(ds, d)
		}
	}
	lc, err := e.res.S3.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(b.S3BucketName)}, s3Region(b.HomeRegion))
	switch {
	case errorCode(err) == "NoSuchLifecycleConfiguration":
	case err != nil:
		return ds, fmt.Errorf("read lifecycle of %s: %w", res, err)
	default:
		j := judgment.Lifecycle(judgment.RulesFromSDK(lc.Rules), t.KeyPrefixes, e.settings.MinRetentionDays, e.now())
		if d, ok := judgedDrift(res, "lifecycle", keepLogsFor(e.settings.MinRetentionDays), j, func() []Action {
			return e.asIf("s3.amazonaws.com", "PutBucketLifecycle", t, nil, trail.Config{})
		}); ok {
			ds = append(ds, d)
		}
	}
	return ds, nil
}

// judgedDrift turns a judgment of live content into a drift: a harmful
// verdict is repaired as the event path would, an unscoped grant or content
// trailguard cannot judge is a step for a person (alerted once).
func judgedDrift(res, field, want string, j judgment.Judgment, repair func() []Action) (Drift, bool) {
	d := Drift{Resource: res, Field: field, Want: want, Got: j.Reason}
	switch j.Verdict {
	case judgment.OK:
		return d, false
	case judgment.Harmful:
		d.Actions = repair()
	case judgment.Unscoped:
		d.Actions = []Action{manual(StepRestore, res, "scope CloudTrail's grant to this account's trails (Condition StringEquals aws:SourceArn = the trail ARN): "+j.Reason)}
	default:
		d.Got = "cannot tell: " + j.Reason
		d.Actions = []Action{manual(StepRestore, res, "trailguard cannot judge the "+field+" ("+j.Reason+"): nothing was changed; check by hand that it "+want)}
	}
	return d, true
}

// keyDrift checks a trail's key: enabled, not pending deletion, and its
// policy still lets CloudTrail encrypt (judged as the event path judges a
// PutKeyPolicy; a key policy is never rewritten automatically, so a harmful
// one is a step for a person).
func (e *Engine) keyDrift(ctx context.Context, b trail.Config, observedARN string) ([]Drift, error) {
	id := *b.KmsKeyID
	res := "key " + keyID(id)
	region := b.HomeRegion
	if a, ok := trail.ParseARN(id); ok && a.Region != "" {
		region = a.Region
	}
	inKeyRegion := func(o *kms.Options) { setRegion(&o.Region, region) }
	out, err := e.res.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(id)}, inKeyRegion)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", res, err)
	}
	// The trails' account (a key may live in another account).
	acct := accountOf(observedARN, b.Name, e.settings.SelfRoleARN, e.settings.TopicARN, aws.ToString(out.KeyMetadata.Arn))
	t := Target{Kind: catalog.Key, ID: id, Region: region, Protected: true, Account: acct}
	switch out.KeyMetadata.KeyState {
	case kmstypes.KeyStateDisabled:
		return []Drift{{Resource: res, Field: "state", Want: "Enabled", Got: "Disabled",
			Actions: e.asIf("kms.amazonaws.com", "DisableKey", t, nil, trail.Config{})}}, nil
	case kmstypes.KeyStatePendingDeletion:
		return []Drift{{Resource: res, Field: "state", Want: "Enabled", Got: "PendingDeletion",
			Actions: e.asIf("kms.amazonaws.com", "ScheduleKeyDeletion", t, nil, trail.Config{})}}, nil
	}
	pol, err := e.res.KMS.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: aws.String(id), PolicyName: aws.String("default")}, inKeyRegion)
	if err != nil {
		return nil, fmt.Errorf("read the policy of %s: %w", res, err)
	}
	for _, x := range e.settings.Trails {
		if x.KmsKeyID == nil || keyID(*x.KmsKeyID) != keyID(id) {
			continue
		}
		arn := trailARN(x, trail.Record{AWSRegion: firstNonEmpty(x.HomeRegion, region), RecipientAccountID: acct})
		if x.Name == b.Name && observedARN != "" {
			arn = observedARN
		}
		t.Trails = append(t.Trails, arn)
	}
	enc := t.encryption()
	enc.Key = firstNonEmpty(aws.ToString(out.KeyMetadata.Arn), id)
	enc.Bucket = b.S3BucketName
	j := judgment.KeyPolicy([]byte(aws.ToString(pol.Policy)), enc)
	if d, ok := judgedDrift(res, "keyPolicy", "lets cloudtrail.amazonaws.com kms:GenerateDataKey*", j, func() []Action {
		return e.asIf("kms.amazonaws.com", "PutKeyPolicy", t, nil, trail.Config{})
	}); ok {
		return []Drift{d}, nil
	}
	return nil, nil
}

const redeployStep = "redeploy trailguard (cd infra && npx aws-cdk@2 deploy) and find out who changed it"

// accountOf finds the account id in the first ARN that has one.
func accountOf(arns ...string) string {
	for _, s := range arns {
		if a, ok := trail.ParseARN(s); ok && a.Account != "" {
			return a.Account
		}
	}
	return ""
}
