package respond

import (
	"strconv"

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
}

// degrading reports whether any change made things worse.
func degrading(cs []Change) bool {
	for _, c := range cs {
		if !c.Review {
			return true
		}
	}
	return false
}

// trailChanges compares what an UpdateTrail set with the baseline, or, with no
// baseline, with what is obviously safe (switches on, keys and log groups set).
func trailChanges(now trail.Config, base *trail.Config) []Change {
	if base == nil {
		base = &trail.Config{}
	}
	var cs []Change

	boolField := func(field string, now, want *bool, safeWithoutBaseline bool) {
		if now == nil || *now {
			return
		}
		switch {
		case want != nil && *want:
			cs = append(cs, Change{Field: field, Now: "false", Want: "true", Fixable: true})
		case want == nil && safeWithoutBaseline:
			cs = append(cs, Change{Field: field, Now: "false", Want: "true", Fixable: true})
		}
	}
	boolField("isMultiRegionTrail", now.IsMultiRegionTrail, base.IsMultiRegionTrail, true)
	boolField("includeGlobalServiceEvents", now.IncludeGlobalServiceEvents, base.IncludeGlobalServiceEvents, true)
	boolField("enableLogFileValidation", now.EnableLogFileValidation, base.EnableLogFileValidation, true)
	// Turning an organization trail back on needs the management account's
	// rights; only a baseline can say it was one.
	boolField("isOrganizationTrail", now.IsOrganizationTrail, base.IsOrganizationTrail, false)

	// Removals ("" in the request) are always worse; other changes are worse
	// only when a baseline says what the value should be.
	strField := func(field string, now *string, want *string) {
		if now == nil {
			return
		}
		switch {
		case want != nil && *now != *want:
			cs = append(cs, Change{Field: field, Now: orNone(*now), Want: *want, Fixable: true})
		case want == nil && *now == "":
			cs = append(cs, Change{Field: field, Now: "(removed)", Want: "(the previous value; no baseline)", Fixable: false})
		case want == nil:
			cs = append(cs, Change{Field: field, Now: *now, Want: "(no baseline)", Review: true})
		}
	}
	var baseBucket *string
	if base.S3BucketName != "" {
		baseBucket = &base.S3BucketName
	}
	var nowBucket *string
	if now.S3BucketName != "" {
		nowBucket = &now.S3BucketName
	}
	strField("s3BucketName", nowBucket, baseBucket)
	strField("s3KeyPrefix", now.S3KeyPrefix, base.S3KeyPrefix)
	strField("kmsKeyId", now.KmsKeyID, base.KmsKeyID)
	strField("cloudWatchLogsLogGroupArn", now.CloudWatchLogsLogGroupArn, base.CloudWatchLogsLogGroupArn)
	strField("cloudWatchLogsRoleArn", now.CloudWatchLogsRoleArn, base.CloudWatchLogsRoleArn)
	return cs
}

func orNone(s string) string {
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
		b, _ := strconv.ParseBool(c.Want)
		v := c.Want
		switch c.Field {
		case "isMultiRegionTrail":
			fix.IsMultiRegionTrail = &b
		case "includeGlobalServiceEvents":
			fix.IncludeGlobalServiceEvents = &b
		case "enableLogFileValidation":
			fix.EnableLogFileValidation = &b
		case "isOrganizationTrail":
			fix.IsOrganizationTrail = &b
		case "s3BucketName":
			fix.S3BucketName = v
		case "s3KeyPrefix":
			fix.S3KeyPrefix = &v
		case "kmsKeyId":
			fix.KmsKeyID = &v
		case "cloudWatchLogsLogGroupArn":
			fix.CloudWatchLogsLogGroupArn = &v
		case "cloudWatchLogsRoleArn":
			fix.CloudWatchLogsRoleArn = &v
		}
	}
	return fix, ok
}
