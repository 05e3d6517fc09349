package posture

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/account"
	accounttypes "github.com/aws/aws-sdk-go-v2/service/account/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/trailguard/trailguard/internal/parallel"
	"github.com/trailguard/trailguard/internal/trail"
)

// Defaults of Options.
const (
	DefaultConcurrency      = 8
	DefaultMinRetentionDays = 365
)

// Options tune a check.
type Options struct {
	// Regions to check. Empty: every region enabled for the account
	// (EC2 DescribeRegions, else account ListRegions, else DefaultRegion).
	Regions []string
	// DefaultRegion is the configured region, the fallback when regions
	// cannot be listed.
	DefaultRegion string
	// Concurrency bounds how many regions (and buckets) are read at once.
	Concurrency int
	// MinRetentionDays: a bucket lifecycle rule expiring trail logs sooner
	// fails the check.
	MinRetentionDays int
	// FailOn is the severity at and above which a failed or errored finding
	// makes Report.Failing true.
	FailOn Severity
	// Progress, when set, is called after each region or bucket is read.
	// Calls are serialised.
	Progress func(done, total int)
}

// trailState is what was read about one trail in its home region.
type trailState struct {
	trail     cttypes.Trail
	status    *cloudtrail.GetTrailStatusOutput
	statusErr error
	selectors *cloudtrail.GetEventSelectorsOutput
	selErr    error
}

// coverage is the trail's management-event coverage, or false when the
// selectors could not be read.
func (t *trailState) coverage() (trail.ManagementCoverage, bool) {
	if t.selectors == nil {
		return trail.ManagementCoverage{}, false
	}
	return trail.Coverage(classicSelectors(t.selectors.EventSelectors), advancedSelectors(t.selectors.AdvancedEventSelectors)), true
}

func (t *trailState) logging() bool {
	return t.status != nil && aws.ToBool(t.status.IsLogging)
}

// regionScan is what was read in one region.
type regionScan struct {
	region string
	// trails are every trail that applies to the region, home or shadow.
	trails   []cttypes.Trail
	trailErr error
	// home maps ARN to the trails whose home region this is.
	home     map[string]*trailState
	rules    []ebtypes.Rule
	rulesErr error
}

// checker holds one run's inputs.
type checker struct {
	clients Clients
	opts    Options

	progressMu sync.Mutex
	done       int
	total      int
}

// Check reads the CloudTrail posture of the account behind clients and
// returns the findings. Problems reading AWS become findings; the error is
// only for a check that cannot start (no region to check).
func Check(ctx context.Context, clients Clients, opts Options) (*Report, error) {
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	if opts.MinRetentionDays <= 0 {
		opts.MinRetentionDays = DefaultMinRetentionDays
	}
	c := &checker{clients: clients, opts: opts}
	rep := &Report{SchemaVersion: SchemaVersion, FailOn: opts.FailOn}

	// Credentials and reachability first: a check that cannot reach AWS
	// must say so, not report what it could not read as findings.
	if clients.Caller != nil {
		out, err := clients.Caller.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			return nil, callerError(err)
		}
		rep.Account = aws.ToString(out.Account)
	}

	regions, source, listErr := c.regions(ctx)
	var se *SetupError
	if errors.As(listErr, &se) {
		return nil, se
	}
	if len(regions) == 0 {
		if listErr != nil {
			return nil, fmt.Errorf("no region to check: %w", listErr)
		}
		return nil, errors.New("no region to check: set --region, AWS_REGION or a profile region")
	}
	rep.Regions, rep.RegionSource = regions, source
	if listErr != nil {
		rep.Findings = append(rep.Findings, regionListFinding(regions, listErr))
	}

	c.total = len(regions)
	scans := c.scanRegions(ctx, regions)

	// Trails are judged in their home region. A shadow trail whose home
	// region was not scanned is read there, so coverage can still be judged.
	homes := map[string]*trailState{}
	for _, s := range scans {
		for arn, t := range s.home {
			homes[arn] = t
		}
	}
	for _, s := range scans {
		for _, t := range s.trails {
			arn := aws.ToString(t.TrailARN)
			if _, ok := homes[arn]; ok || aws.ToString(t.HomeRegion) == "" {
				continue
			}
			homes[arn] = c.readTrail(ctx, aws.ToString(t.HomeRegion), t)
		}
	}

	buckets := c.checkBuckets(ctx, homes)

	rep.Findings = append(rep.Findings, accountFindings(homes, unread(scans, homes, listErr))...)
	for _, s := range scans {
		rep.Findings = append(rep.Findings, regionFindings(s, homes)...)
	}
	for _, arn := range sortedKeys(homes) {
		rep.Findings = append(rep.Findings, trailFindings(homes[arn])...)
	}
	rep.Findings = append(rep.Findings, buckets...)
	rep.finish()
	return rep, nil
}

// regions decides which regions to check and says how. A listing error is
// returned together with the fallback region so it can be reported.
func (c *checker) regions(ctx context.Context) ([]string, string, error) {
	if len(c.opts.Regions) > 0 {
		rs := slices.Clone(c.opts.Regions)
		slices.Sort(rs)
		rs = slices.Compact(rs)
		if err := c.validateRegions(ctx, rs); err != nil {
			return nil, "", err
		}
		return rs, "flag", nil
	}
	var errs []error
	if c.clients.EC2 != nil {
		out, err := c.clients.EC2.DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
		if err == nil && len(out.Regions) > 0 {
			var rs []string
			for _, r := range out.Regions {
				rs = append(rs, aws.ToString(r.RegionName))
			}
			sort.Strings(rs)
			return rs, "ec2:DescribeRegions", nil
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("ec2 describe regions: %w", err))
		}
	}
	if c.clients.Account != nil {
		rs, err := c.accountRegions(ctx)
		if err == nil && len(rs) > 0 {
			return rs, "account:ListRegions", nil
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("account list regions: %w", err))
		}
	}
	err := errors.Join(errs...)
	if err == nil {
		err = errors.New("no region listed")
	}
	if c.opts.DefaultRegion == "" {
		return nil, "", err
	}
	return []string{c.opts.DefaultRegion}, "configured", err
}

func (c *checker) accountRegions(ctx context.Context) ([]string, error) {
	var rs []string
	in := &account.ListRegionsInput{RegionOptStatusContains: []accounttypes.RegionOptStatus{
		accounttypes.RegionOptStatusEnabled, accounttypes.RegionOptStatusEnabledByDefault,
	}}
	for {
		out, err := c.clients.Account.ListRegions(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, r := range out.Regions {
			rs = append(rs, aws.ToString(r.RegionName))
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	sort.Strings(rs)
	return rs, nil
}

func (c *checker) step(delta int) {
	c.progressMu.Lock()
	defer c.progressMu.Unlock()
	c.done += delta
	if c.opts.Progress != nil {
		c.opts.Progress(c.done, c.total)
	}
}

func (c *checker) addTotal(n int) {
	c.progressMu.Lock()
	c.total += n
	c.progressMu.Unlock()
}

// scanRegions reads every region with at most Concurrency at once.
func (c *checker) scanRegions(ctx context.Context, regions []string) []*regionScan {
	scans := make([]*regionScan, len(regions))
	parallel.Each(len(regions), c.opts.Concurrency, func(i int) {
		scans[i] = c.scanRegion(ctx, regions[i])
		c.step(1)
	})
	return scans
}

func (c *checker) scanRegion(ctx context.Context, region string) *regionScan {
	s := &regionScan{region: region, home: map[string]*trailState{}}
	ct := c.clients.CloudTrail(region)
	out, err := ct.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{IncludeShadowTrails: aws.Bool(true)})
	if err != nil {
		s.trailErr = fmt.Errorf("cloudtrail describe trails in %s: %w", region, err)
	} else {
		s.trails = out.TrailList
		for _, t := range out.TrailList {
			if aws.ToString(t.HomeRegion) == region {
				s.home[aws.ToString(t.TrailARN)] = readTrailWith(ctx, ct, t)
			}
		}
	}
	s.rules, s.rulesErr = listRules(ctx, c.clients.EventBridge(region))
	if s.rulesErr != nil {
		s.rulesErr = fmt.Errorf("eventbridge list rules in %s: %w", region, s.rulesErr)
	}
	return s
}

// readTrail reads a trail's status and selectors in its home region.
func (c *checker) readTrail(ctx context.Context, region string, t cttypes.Trail) *trailState {
	return readTrailWith(ctx, c.clients.CloudTrail(region), t)
}

func readTrailWith(ctx context.Context, ct CloudTrailAPI, t cttypes.Trail) *trailState {
	st := &trailState{trail: t}
	name := t.TrailARN
	if name == nil {
		name = t.Name
	}
	st.status, st.statusErr = ct.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: name})
	if st.statusErr != nil {
		st.statusErr = fmt.Errorf("cloudtrail get trail status: %w", st.statusErr)
	}
	st.selectors, st.selErr = ct.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: name})
	if st.selErr != nil {
		st.selErr = fmt.Errorf("cloudtrail get event selectors: %w", st.selErr)
	}
	return st
}

func listRules(ctx context.Context, eb EventBridgeAPI) ([]ebtypes.Rule, error) {
	var rules []ebtypes.Rule
	in := &eventbridge.ListRulesInput{}
	for {
		out, err := eb.ListRules(ctx, in)
		if err != nil {
			return nil, err
		}
		rules = append(rules, out.Rules...)
		if aws.ToString(out.NextToken) == "" {
			return rules, nil
		}
		in.NextToken = out.NextToken
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// classicSelectors converts the SDK's classic selectors to trail's shape.
func classicSelectors(in []cttypes.EventSelector) []trail.EventSelector {
	var out []trail.EventSelector
	for _, s := range in {
		out = append(out, trail.EventSelector{
			ReadWriteType:                 string(s.ReadWriteType),
			IncludeManagementEvents:       s.IncludeManagementEvents,
			ExcludeManagementEventSources: s.ExcludeManagementEventSources,
		})
	}
	return out
}

// advancedSelectors converts the SDK's advanced selectors to trail's shape.
func advancedSelectors(in []cttypes.AdvancedEventSelector) []trail.AdvancedEventSelector {
	var out []trail.AdvancedEventSelector
	for _, a := range in {
		as := trail.AdvancedEventSelector{Name: aws.ToString(a.Name)}
		for _, f := range a.FieldSelectors {
			as.FieldSelectors = append(as.FieldSelectors, trail.FieldSelector{
				Field:         aws.ToString(f.Field),
				Equals:        f.Equals,
				StartsWith:    f.StartsWith,
				EndsWith:      f.EndsWith,
				NotEquals:     f.NotEquals,
				NotStartsWith: f.NotStartsWith,
				NotEndsWith:   f.NotEndsWith,
			})
		}
		out = append(out, as)
	}
	return out
}
