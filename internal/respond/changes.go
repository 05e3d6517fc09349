package respond

import (
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/trailguard/trailguard/internal/trail"
)

// Change is one field an UpdateTrail or PutEventSelectors changed for the
// worse (or, with Review, changed in a way only a person can judge).
type Change struct {
	// Field is the field's name as in CloudTrail's requests.
	Field string `json:"field"`
	// Now is what the call set; Want is the baseline (or the safe value).
	Now  string `json:"now"`
	Want string `json:"want"`
	// Fixable is true when trailguard knows the value to put back.
	Fixable bool `json:"fixable"`
	// Review marks a change that is not necessarily worse (e.g. a new bucket
	// with no baseline to compare with): reported, not reverted, and not a
	// reason to contain anyone.
	Review bool `json:"review,omitempty"`
	// Undecided marks content trailguard cannot judge (an unknown policy
	// condition, a tag-filtered lifecycle rule): alerted at the entry's
	// severity with a step for a person, never repaired or contained.
	Undecided bool `json:"undecided,omitempty"`
}

// degrading reports whether any change made things worse.
func degrading(cs []Change) bool {
	for _, c := range cs {
		if !c.Review && !c.Undecided {
			return true
		}
	}
	return false
}

// undecided reports whether trailguard could not judge some content.
func undecided(cs []Change) bool {
	for _, c := range cs {
		if c.Undecided {
			return true
		}
	}
	return false
}

// trailFields are the trail settings an UpdateTrail can make worse, with
// where each lives in a trail.Config. One table serves both the comparison
// (trailChanges) and the repair (fixedTrail).
var (
	boolFields = []struct {
		name string
		ptr  func(*trail.Config) **bool
		// safe: without a baseline, switching it back on is obviously
		// right. Turning an organization trail back on needs the management
		// account's rights; only a baseline can say it was one.
		safe bool
	}{
		{"isMultiRegionTrail", func(c *trail.Config) **bool { return &c.IsMultiRegionTrail }, true},
		{"includeGlobalServiceEvents", func(c *trail.Config) **bool { return &c.IncludeGlobalServiceEvents }, true},
		{"enableLogFileValidation", func(c *trail.Config) **bool { return &c.EnableLogFileValidation }, true},
		{"isOrganizationTrail", func(c *trail.Config) **bool { return &c.IsOrganizationTrail }, false},
	}
	stringFields = []struct {
		name string
		ptr  func(*trail.Config) **string
	}{
		{"s3KeyPrefix", func(c *trail.Config) **string { return &c.S3KeyPrefix }},
		{"kmsKeyId", func(c *trail.Config) **string { return &c.KmsKeyID }},
		{"cloudWatchLogsLogGroupArn", func(c *trail.Config) **string { return &c.CloudWatchLogsLogGroupArn }},
		{"cloudWatchLogsRoleArn", func(c *trail.Config) **string { return &c.CloudWatchLogsRoleArn }},
	}
)

// trailChanges compares what an UpdateTrail set with the baseline, or, with no
// baseline, with what is obviously safe (switches on, keys and log groups set).
func trailChanges(now trail.Config, base *trail.Config) []Change {
	if base == nil {
		base = &trail.Config{}
	}
	var cs []Change
	for _, f := range boolFields {
		got, want := *f.ptr(&now), *f.ptr(base)
		if got == nil || *got {
			continue
		}
		if (want != nil && *want) || (want == nil && f.safe) {
			cs = append(cs, Change{Field: f.name, Now: "false", Want: "true", Fixable: true})
		}
	}
	// Removals ("" in the request) are always worse; other changes are worse
	// only when a baseline says what the value should be.
	strChange := func(field string, got, want *string) {
		switch {
		case got == nil:
		case want != nil && *got != *want:
			cs = append(cs, Change{Field: field, Now: orRemoved(*got), Want: *want, Fixable: true})
		case want == nil && *got == "":
			cs = append(cs, Change{Field: field, Now: "(removed)", Want: "(the previous value; no baseline)", Fixable: false})
		case want == nil:
			cs = append(cs, Change{Field: field, Now: *got, Want: "(no baseline)", Review: true})
		}
	}
	strChange("s3BucketName", nonEmpty(now.S3BucketName), nonEmpty(base.S3BucketName))
	for _, f := range stringFields {
		strChange(f.name, *f.ptr(&now), *f.ptr(base))
	}
	return cs
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func orRemoved(s string) string {
	if s == "" {
		return "(removed)"
	}
	return s
}

// selectorChanges reports event selectors that stop recording management
// events, fully or partly. Data-event changes are not CloudTrail blinding and
// are left alone.
func selectorChanges(req trail.Config, base *trail.Config) []Change {
	got := trail.Coverage(req.EventSelectors, req.AdvancedEventSelectors)
	want := trail.ManagementCoverage{ReadWrite: "All"}
	if base != nil && (len(base.EventSelectors) > 0 || len(base.AdvancedEventSelectors) > 0) {
		want = trail.Coverage(base.EventSelectors, base.AdvancedEventSelectors)
	}
	if !worseCoverage(got, want) {
		return nil
	}
	field := "eventSelectors"
	if len(req.AdvancedEventSelectors) > 0 {
		field = "advancedEventSelectors"
	}
	return []Change{{Field: field, Now: got.String(), Want: want.String(), Fixable: true}}
}

// worseCoverage reports whether got records fewer management events than want.
func worseCoverage(got, want trail.ManagementCoverage) bool {
	if want.None {
		return false
	}
	if got.None {
		return true
	}
	if got.ReadWrite != want.ReadWrite && want.ReadWrite == "All" {
		return true
	}
	for _, x := range got.Excluded {
		excludedByBaseline := false
		for _, y := range want.Excluded {
			if x == y {
				excludedByBaseline = true
			}
		}
		if !excludedByBaseline {
			return true
		}
	}
	return false
}

// fixedTrail is the UpdateTrail request that puts back the fixable fields.
func fixedTrail(id string, cs []Change) (trail.Config, bool) {
	fix := trail.Config{Name: id}
	ok := false
	for _, c := range cs {
		if !c.Fixable || c.Review {
			continue
		}
		ok = true
		if c.Field == "s3BucketName" {
			fix.S3BucketName = c.Want
		}
		for _, f := range boolFields {
			if f.name == c.Field {
				*f.ptr(&fix) = aws.Bool(c.Want == "true")
			}
		}
		for _, f := range stringFields {
			if f.name == c.Field {
				*f.ptr(&fix) = aws.String(c.Want)
			}
		}
	}
	return fix, ok
}
