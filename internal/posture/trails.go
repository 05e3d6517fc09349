package posture

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Controls cited by the trail checks. Security Hub control IDs and CIS AWS
// Foundations Benchmark numbers (v3.0.0 unless marked) as Security Hub maps
// them.
var (
	ctrlMultiRegion = Control{SecurityHub: "CloudTrail.1", CIS: "CIS v3.0.0 3.1"}
	ctrlEncryption  = Control{SecurityHub: "CloudTrail.2", CIS: "CIS v3.0.0 3.5"}
	ctrlEnabled     = Control{SecurityHub: "CloudTrail.3"}
	ctrlValidation  = Control{SecurityHub: "CloudTrail.4", CIS: "CIS v3.0.0 3.2"}
	ctrlCloudWatch  = Control{SecurityHub: "CloudTrail.5", CIS: "CIS v1.4.0 3.4"}
	ctrlPublic      = Control{SecurityHub: "CloudTrail.6", CIS: "CIS v1.2.0 2.3"}
	ctrlS3Public    = Control{SecurityHub: "S3.8", CIS: "CIS v3.0.0 2.1.4"}
	ctrlAccessLog   = Control{SecurityHub: "CloudTrail.7", CIS: "CIS v3.0.0 3.4"}
	ctrlVersioning  = Control{SecurityHub: "S3.14"}
)

func pf(ok bool) Status {
	if ok {
		return Pass
	}
	return Fail
}

// trailFindings judges one trail's own settings (checked in its home region).
func trailFindings(t *trailState) []Finding {
	tr := t.trail
	name, arn, region := aws.ToString(tr.Name), aws.ToString(tr.TrailARN), aws.ToString(tr.HomeRegion)
	at := " --region " + region
	base := func(id string, sev Severity, title string) Finding {
		return Finding{ID: id, Severity: sev, Region: region, Resource: name, ARN: arn, Title: title}
	}
	var out []Finding

	// Status: logging and delivery.
	f := base("trail.logging", Critical, "Trail is logging")
	f.Why = "a stopped trail records nothing: everything done from now on is invisible"
	f.Fix = "aws cloudtrail start-logging --name " + name + at
	f.Controls = []Control{ctrlEnabled}
	if t.statusErr != nil {
		f.Status, f.Detail, f.Fix = Error, errorDetail(t.statusErr), errorAdvice(t.statusErr, "cloudtrail:GetTrailStatus")
		out = append(out, f)
	} else {
		f.Status = pf(t.logging())
		if f.Status == Fail {
			f.Detail = "IsLogging is false"
		}
		out = append(out, f)
		st := t.status
		f = base("trail.delivery", High, "Log files are delivered to S3")
		f.Why = "CloudTrail cannot write to the bucket (policy, deleted bucket or KMS key): the trail looks on but no log reaches storage"
		f.Fix = "fix what the error names: restore the bucket policy granting cloudtrail.amazonaws.com s3:PutObject, or the KMS key policy/state; then watch LatestDeliveryTime in aws cloudtrail get-trail-status --name " + name + at
		f.Status = pf(aws.ToString(st.LatestDeliveryError) == "")
		if f.Status == Fail {
			f.Detail = "LatestDeliveryError: " + aws.ToString(st.LatestDeliveryError)
		}
		out = append(out, f)
		if aws.ToBool(tr.LogFileValidationEnabled) {
			f = base("trail.digest-delivery", Medium, "Digest files are delivered to S3")
			f.Why = "without digest files, log file validation cannot prove that logs were not altered or deleted"
			f.Fix = "fix the bucket or KMS permission the error names; digests use the same bucket and key as the logs"
			f.Status = pf(aws.ToString(st.LatestDigestDeliveryError) == "")
			if f.Status == Fail {
				f.Detail = "LatestDigestDeliveryError: " + aws.ToString(st.LatestDigestDeliveryError)
			}
			out = append(out, f)
		}
		if aws.ToString(tr.CloudWatchLogsLogGroupArn) != "" {
			f = base("trail.cloudwatch-delivery", Low, "Events are delivered to CloudWatch Logs")
			f.Why = "metric filters and alarms on the log group see nothing while delivery fails"
			f.Fix = "check that the log group exists and that the trail's CloudWatch Logs role allows logs:CreateLogStream and logs:PutLogEvents on it"
			f.Controls = []Control{ctrlCloudWatch}
			f.Status = pf(aws.ToString(st.LatestCloudWatchLogsDeliveryError) == "")
			if f.Status == Fail {
				f.Detail = "LatestCloudWatchLogsDeliveryError: " + aws.ToString(st.LatestCloudWatchLogsDeliveryError)
			}
			out = append(out, f)
		}
	}

	// Configuration.
	f = base("trail.multi-region", Medium, "Trail is multi-region")
	f.Why = "a single-region trail leaves every other region unrecorded: an intruder simply works there"
	f.Fix = "aws cloudtrail update-trail --name " + name + " --is-multi-region-trail" + at
	f.Controls = []Control{ctrlMultiRegion}
	f.Status = pf(aws.ToBool(tr.IsMultiRegionTrail))
	out = append(out, f)

	f = base("trail.global-events", Medium, "Trail includes global service events")
	f.Why = "IAM, STS and CloudFront calls are global: without them, new users, keys and role assumptions go unrecorded"
	f.Fix = "aws cloudtrail update-trail --name " + name + " --include-global-service-events" + at
	f.Status = pf(aws.ToBool(tr.IncludeGlobalServiceEvents))
	out = append(out, f)

	f = base("trail.management-events", High, "Trail records all management events")
	f.Why = "selectors that drop management events (or only reads, or only writes, or exclude a source such as KMS) leave a trail that looks alive but is blind"
	f.Fix = "aws cloudtrail put-event-selectors --trail-name " + name + at + ` --event-selectors '[{"ReadWriteType":"All","IncludeManagementEvents":true}]' (keep your data-event selectors in the list)`
	f.Controls = []Control{ctrlMultiRegion}
	if t.selErr != nil {
		f.Status, f.Detail, f.Fix = Error, errorDetail(t.selErr), errorAdvice(t.selErr, "cloudtrail:GetEventSelectors")
	} else {
		cov, _ := t.coverage()
		f.Status = pf(cov.Full())
		f.Detail = "records " + cov.String()
		if len(t.selectors.AdvancedEventSelectors) > 0 {
			f.Detail += " (advanced selectors)"
			f.Fix = "add an advanced selector with only eventCategory = Management: aws cloudtrail put-event-selectors --trail-name " + name + at + ` --advanced-event-selectors '[{"Name":"Management events","FieldSelectors":[{"Field":"eventCategory","Equals":["Management"]}]}, ...your data selectors]'`
		}
	}
	out = append(out, f)

	f = base("trail.log-validation", Medium, "Log file validation is enabled")
	f.Why = "without digest files nobody can prove that delivered logs were not edited or deleted after the fact"
	f.Fix = "aws cloudtrail update-trail --name " + name + " --enable-log-file-validation" + at
	f.Controls = []Control{ctrlValidation}
	f.Status = pf(aws.ToBool(tr.LogFileValidationEnabled))
	out = append(out, f)

	f = base("trail.kms", Medium, "Logs are encrypted with a KMS key")
	f.Why = "with SSE-KMS, reading the logs needs kms:Decrypt as well as s3:GetObject: one more permission an intruder must hold, and key use is itself logged"
	f.Fix = "aws cloudtrail update-trail --name " + name + " --kms-key-id <key-arn>" + at + " (the key policy must allow cloudtrail.amazonaws.com kms:GenerateDataKey*)"
	f.Controls = []Control{ctrlEncryption}
	f.Status = pf(aws.ToString(tr.KmsKeyId) != "")
	out = append(out, f)

	f = base("trail.cloudwatch-logs", Low, "Trail sends events to CloudWatch Logs")
	f.Why = "a CloudWatch Logs copy enables metric filters and alarms within minutes, and survives tampering with the bucket"
	f.Fix = "aws cloudtrail update-trail --name " + name + " --cloud-watch-logs-log-group-arn <log-group-arn> --cloud-watch-logs-role-arn <role-arn>" + at
	f.Controls = []Control{ctrlCloudWatch}
	f.Status = pf(aws.ToString(tr.CloudWatchLogsLogGroupArn) != "")
	out = append(out, f)

	return out
}

// good reports whether a trail logs every management event.
func (t *trailState) good() bool {
	cov, ok := t.coverage()
	return t.logging() && ok && cov.Full()
}

// unreadInputs names what the account-wide judgments needed and could not
// read: the regions list, a region's trails, a trail's status or
// selectors. Status and selectors are kept apart because only the
// multi-region judgment needs the selectors.
type unreadInputs struct {
	trails   []string // the list of regions, or the trails of a region
	status   []string // a trail's status
	selector []string // a trail's selectors
}

// unread collects what could not be read for the account-wide judgments.
func unread(scans []*regionScan, homes map[string]*trailState, listErr error) unreadInputs {
	var u unreadInputs
	if listErr != nil {
		u.trails = append(u.trails, "the enabled regions")
	}
	for _, s := range scans {
		if s.trailErr != nil {
			u.trails = append(u.trails, "the trails of "+s.region)
		}
	}
	for _, arn := range sortedKeys(homes) {
		t := homes[arn]
		if t.statusErr != nil {
			u.status = append(u.status, "the status of "+aws.ToString(t.trail.Name))
		}
		if t.selErr != nil {
			u.selector = append(u.selector, "the event selectors of "+aws.ToString(t.trail.Name))
		}
	}
	return u
}

// unknown turns a failed account-wide judgment into an error when inputs
// were missing: "no trail logs" is only true if every trail was read.
func (f *Finding) unknown(missing []string, seen string) {
	if f.Status != Fail || len(missing) == 0 {
		return
	}
	f.Status = Error
	f.Detail = "could not read " + strings.Join(missing, ", ") + "; of what was read: " + seen
	f.Fix = "fix what stops those reads (see the region and trail errors in this report), then run the check again"
}

// accountFindings judges the account as a whole: is anything logging at all,
// and is there one trail that records everything everywhere. A failure is
// only reported when every input was read; otherwise it is an error.
func accountFindings(homes map[string]*trailState, u unreadInputs) []Finding {
	var logging, multi []string
	for _, arn := range sortedKeys(homes) {
		t := homes[arn]
		if t.logging() {
			logging = append(logging, aws.ToString(t.trail.Name))
		}
		if aws.ToBool(t.trail.IsMultiRegionTrail) && t.good() {
			multi = append(multi, aws.ToString(t.trail.Name))
		}
	}
	enabled := Finding{
		ID: "account.trail-enabled", Severity: Critical, Resource: "account",
		Title:    "At least one trail is logging",
		Why:      "with no trail logging, the account keeps only 90 days of management events in Event history, which cannot be alerted on or kept",
		Fix:      "create a trail: aws cloudtrail create-trail --name trailguard --s3-bucket-name <bucket> --is-multi-region-trail --enable-log-file-validation, then aws cloudtrail start-logging --name trailguard",
		Controls: []Control{ctrlEnabled},
		Status:   pf(len(logging) > 0),
	}
	if len(logging) > 0 {
		enabled.Detail = "logging: " + strings.Join(logging, ", ")
	} else {
		enabled.Detail = fmt.Sprintf("%d trail(s), none logging", len(homes))
		enabled.unknown(append(slices.Clone(u.trails), u.status...), enabled.Detail)
	}
	mr := Finding{
		ID: "account.multi-region-trail", Severity: High, Resource: "account",
		Title:    "A multi-region trail logs all management events",
		Why:      "only a logging multi-region trail with read and write management events and no exclusions records every region, including regions nobody watches",
		Fix:      "make one trail multi-region and record all management events: aws cloudtrail update-trail --name <trail> --is-multi-region-trail, then aws cloudtrail put-event-selectors --trail-name <trail> --event-selectors '[{\"ReadWriteType\":\"All\",\"IncludeManagementEvents\":true}]'",
		Controls: []Control{ctrlMultiRegion},
		Status:   pf(len(multi) > 0),
	}
	if len(multi) > 0 {
		mr.Detail = "satisfied by: " + strings.Join(multi, ", ")
	} else {
		mr.Detail = "no trail is multi-region, logging and recording all management events"
		mr.unknown(append(append(slices.Clone(u.trails), u.status...), u.selector...), mr.Detail)
	}
	return []Finding{enabled, mr}
}

// regionFindings judges one region: can it be read, is it covered by a good
// trail (home or shadow), and is trailguard's rule there.
func regionFindings(s *regionScan, homes map[string]*trailState) []Finding {
	f := Finding{
		ID: "region.covered", Severity: High, Region: s.region, Resource: s.region,
		Title:    "A logging trail records all management events in this region",
		Why:      "API calls in a region no good trail covers are not recorded anywhere an intruder cannot reach",
		Fix:      "make a trail that logs all management events multi-region (aws cloudtrail update-trail --name <trail> --is-multi-region-trail), or create one in " + s.region,
		Controls: []Control{ctrlMultiRegion},
	}
	if s.trailErr != nil {
		f.Status, f.Detail = Error, errorDetail(s.trailErr)
		f.Fix = errorAdvice(s.trailErr, "cloudtrail:DescribeTrails")
		return []Finding{f, ruleFinding(s.region, s.rules, s.rulesErr)}
	}
	var covering, notes []string
	for _, tr := range s.trails {
		arn := aws.ToString(tr.TrailARN)
		name := aws.ToString(tr.Name)
		t, ok := homes[arn]
		switch {
		case !ok:
			notes = append(notes, name+": not readable")
		case t.good():
			covering = append(covering, name)
		case !t.logging():
			notes = append(notes, name+": not logging")
		default:
			cov, _ := t.coverage()
			notes = append(notes, name+": records "+cov.String())
		}
	}
	f.Status = pf(len(covering) > 0)
	switch {
	case len(covering) > 0:
		f.Detail = "covered by " + strings.Join(covering, ", ")
	case len(s.trails) == 0:
		f.Detail = "no trail applies to this region"
	default:
		f.Detail = strings.Join(notes, "; ")
	}
	if len(covering) == 0 {
		// A trail whose status or selectors could not be read may cover
		// the region: that is unknown, not a failure.
		var missing []string
		for _, tr := range s.trails {
			t, ok := homes[aws.ToString(tr.TrailARN)]
			if !ok || t.statusErr != nil || t.selErr != nil {
				missing = append(missing, "trail "+aws.ToString(tr.Name))
			}
		}
		f.unknown(missing, f.Detail)
	}
	return []Finding{f, ruleFinding(s.region, s.rules, s.rulesErr)}
}

// regionListFinding reports that regions could not be listed and which
// region was checked instead. The fix follows the real error: a permission
// only when access was denied.
func regionListFinding(regions []string, err error) Finding {
	fix := errorAdvice(err, "ec2:DescribeRegions (or account:ListRegions)") + "; or name the regions with --regions"
	return Finding{
		ID: "account.regions", Severity: Medium, Status: Error, Resource: "account",
		Title:  "Enabled regions could be listed",
		Detail: "checked only " + strings.Join(regions, ", ") + ": " + errorDetail(err),
		Why:    "regions that are not checked may hold trails that are off, or no coverage at all",
		Fix:    fix,
	}
}
