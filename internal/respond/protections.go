package respond

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/trailguard/trailguard/internal/catalog"
	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/trail"
)

// This file judges and undoes the changes to the protections around the
// trail beyond its policy and lifecycle: the bucket's versioning, public
// access block, ACL and default encryption, the log groups' retention, the
// organization's CloudTrail switches, and trailguard's own alarms.

// protectionParams are the requestParameters fields these calls carry. S3
// logs its XML bodies as JSON, where booleans and numbers may be strings.
type protectionParams struct {
	VersioningConfiguration struct {
		Status string `json:"Status"`
	} `json:"VersioningConfiguration"`
	PublicAccessBlockConfiguration map[string]any  `json:"PublicAccessBlockConfiguration"`
	AccessControlPolicy            json.RawMessage `json:"AccessControlPolicy"`
	ACL                            string          `json:"x-amz-acl"`
	GrantRead                      string          `json:"x-amz-grant-read"`
	GrantFullControl               string          `json:"x-amz-grant-full-control"`
	ServerSideEncryption           json.RawMessage `json:"ServerSideEncryptionConfiguration"`
	RetentionInDays                json.Number     `json:"retentionInDays"`
	ServicePrincipal               string          `json:"servicePrincipal"`
	AlarmNames                     []string        `json:"alarmNames"`
	AlarmName                      string          `json:"alarmName"`
}

// publicAccessSwitches are the four settings of a public access block.
var publicAccessSwitches = []string{"BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"}

// protectionChanges judges the content of these calls (catalog.Entry.Judged).
func protectionChanges(e catalog.Entry, r trail.Record, p protectionParams, s config.Settings) []Change {
	switch {
	case e.Response == catalog.EnableVersioning:
		if strings.EqualFold(p.VersioningConfiguration.Status, "Suspended") {
			return []Change{{Field: "versioning", Now: "Suspended", Want: "Enabled", Fixable: true}}
		}
	case e.Response == catalog.BlockPublicAccess:
		var off []string
		for _, k := range publicAccessSwitches {
			if v := fmt.Sprint(p.PublicAccessBlockConfiguration[k]); v != "true" {
				off = append(off, k)
			}
		}
		if len(off) > 0 {
			return []Change{{Field: "public access block", Now: strings.Join(off, ", ") + " off", Want: "all four on", Fixable: true}}
		}
	case e.Response == catalog.RestoreRetention:
		if n, err := strconv.Atoi(p.RetentionInDays.String()); err == nil && n < s.MinRetentionDays {
			return []Change{{Field: "retention", Now: fmt.Sprintf("%d days", n), Want: fmt.Sprintf("at least %d days", s.MinRetentionDays), Fixable: true}}
		}
	case e.Name == "PutBucketAcl":
		if why := publicACL(p); why != "" {
			return []Change{{Field: "bucket ACL", Now: why, Want: "private (bucket owner only)", Fixable: false}}
		}
	case e.Name == "PutBucketEncryption":
		if key := foreignKey(p.ServerSideEncryption, r.RecipientAccountID); key != "" {
			return []Change{{Field: "default encryption", Now: "key " + key + " of another account", Want: "a key of this account, or SSE-S3", Fixable: false}}
		}
	case e.Resource == catalog.Organization:
		if p.ServicePrincipal == "cloudtrail.amazonaws.com" {
			return []Change{{Field: "CloudTrail in the organization", Now: e.Name, Want: "enabled", Fixable: false}}
		}
	}
	return nil
}

// publicACL says how an ACL opens the bucket to everyone (or every AWS
// account), or "" when it does not.
func publicACL(p protectionParams) string {
	switch p.ACL {
	case "public-read", "public-read-write", "authenticated-read":
		return "canned ACL " + p.ACL
	}
	for _, g := range []string{p.GrantRead, p.GrantFullControl, string(p.AccessControlPolicy)} {
		switch {
		case strings.Contains(g, "acs.amazonaws.com/groups/global/AllUsers"):
			return "grants AllUsers (the public)"
		case strings.Contains(g, "acs.amazonaws.com/groups/global/AuthenticatedUsers"):
			return "grants AuthenticatedUsers (every AWS account)"
		}
	}
	return ""
}

// foreignKey returns the KMS key of a default-encryption configuration when
// it belongs to another account than account.
func foreignKey(raw json.RawMessage, account string) string {
	var cfg struct {
		Rule json.RawMessage `json:"Rule"`
	}
	if json.Unmarshal(raw, &cfg) != nil {
		return ""
	}
	type rule struct {
		Default struct {
			KMSMasterKeyID string `json:"KMSMasterKeyID"`
		} `json:"ApplyServerSideEncryptionByDefault"`
	}
	var rules []rule
	if json.Unmarshal(cfg.Rule, &rules) != nil {
		var one rule
		if json.Unmarshal(cfg.Rule, &one) != nil {
			return ""
		}
		rules = append(rules, one)
	}
	for _, r := range rules {
		key := r.Default.KMSMasterKeyID
		if a, ok := trail.ParseARN(key); ok && a.Account != "" && a.Account != account {
			return key
		}
	}
	return ""
}

// protectionTarget fills the target of a log group or alarm call.
func protectionTarget(t *Target, p params, s config.Settings) {
	switch t.Kind {
	case catalog.LogGroup:
		t.Protected = t.Protected || (s.LogGroupName != "" && p.LogGroupName == s.LogGroupName)
	case catalog.Alarm:
		names := p.AlarmNames
		if p.AlarmName != "" {
			names = append(names, p.AlarmName)
		}
		var ours []string
		for _, n := range names {
			if slices.Contains(s.Alarms, n) {
				ours = append(ours, n)
			}
		}
		t.ID, t.Protected = strings.Join(ours, ","), len(ours) > 0
	case catalog.Role:
		// The role CloudTrail writes to CloudWatch Logs with.
		for _, b := range s.Trails {
			if b.CloudWatchLogsRoleArn != nil && p.RoleName != "" && trail.RoleName(*b.CloudWatchLogsRoleArn) == p.RoleName {
				t.Protected = true
			}
		}
	}
}

// protectionRestore plans the undo of a weakened bucket or log group.
func protectionRestore(c Classification, s config.Settings) []Action {
	t := c.Target
	switch c.Entry.Response {
	case catalog.EnableVersioning:
		return []Action{{Step: StepRestore, Kind: KindEnableVersioning, Target: t.ID, Region: t.Region, Bucket: t.ID,
			Reason: "versioning was suspended on the trail bucket; enable it again"}}
	case catalog.BlockPublicAccess:
		return []Action{{Step: StepRestore, Kind: KindBlockPublicAccess, Target: t.ID, Region: t.Region, Bucket: t.ID,
			Reason: "the trail bucket's public access block was weakened or removed; turn all four switches on"}}
	case catalog.RestoreRetention:
		days := retentionAtLeast(s.MinRetentionDays)
		return []Action{{Step: StepRestore, Kind: KindPutRetention, Target: t.ID, Region: t.Region, MinRetentionDays: days,
			Reason: fmt.Sprintf("the log group's retention was shortened; set it to %d days", days)}}
	}
	return nil
}

// logRetentions are the values CloudWatch Logs accepts for a retention.
var logRetentions = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// retentionAtLeast is the shortest retention CloudWatch Logs accepts that
// keeps events at least min days.
func retentionAtLeast(min int) int {
	for _, d := range logRetentions {
		if d >= min {
			return d
		}
	}
	return logRetentions[len(logRetentions)-1]
}

// callProtection makes the calls of the bucket and log group restores.
func (e *Engine) callProtection(ctx context.Context, a Action) (string, error) {
	switch a.Kind {
	case KindEnableVersioning:
		if e.res.S3 == nil {
			return "", errNoClient
		}
		_, err := e.res.S3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(a.Bucket),
			VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}, s3Region(a.Region))
		return "", err
	case KindBlockPublicAccess:
		if e.res.S3 == nil {
			return "", errNoClient
		}
		_, err := e.res.S3.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String(a.Bucket),
			PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{
				BlockPublicAcls: aws.Bool(true), BlockPublicPolicy: aws.Bool(true), IgnorePublicAcls: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true),
			}}, s3Region(a.Region))
		return "", err
	case KindPutRetention:
		if e.res.Logs == nil {
			return "", errNoClient
		}
		_, err := e.res.Logs.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String(a.Target), RetentionInDays: aws.Int32(int32(a.MinRetentionDays))},
			func(o *cloudwatchlogs.Options) { setRegion(&o.Region, a.Region) })
		return "", err
	}
	return "", fmt.Errorf("unknown action kind %q", a.Kind)
}

// bucketProtectionReader reads what bucketProtectionDrift compares; the
// SDK's S3 client satisfies it (a client without it skips the check).
type bucketProtectionReader interface {
	GetBucketVersioning(context.Context, *s3.GetBucketVersioningInput, ...func(*s3.Options)) (*s3.GetBucketVersioningOutput, error)
	GetPublicAccessBlock(context.Context, *s3.GetPublicAccessBlockInput, ...func(*s3.Options)) (*s3.GetPublicAccessBlockOutput, error)
}

// bucketProtectionDrift compares a trail bucket's versioning and public
// access block with what the event path keeps: versioning suspended, or a
// public access block with a switch off, is repaired as the event would be.
// A bucket that never had them (an existing trail's) is the owners' choice,
// reported by `trailguard check`, not changed here.
func (e *Engine) bucketProtectionDrift(ctx context.Context, b trail.Config) ([]Drift, error) {
	api, ok := e.res.S3.(bucketProtectionReader)
	if !ok {
		return nil, nil
	}
	res := "bucket " + b.S3BucketName
	t := Target{Kind: catalog.Bucket, ID: b.S3BucketName, Region: b.HomeRegion, Protected: true}
	var ds []Drift
	v, err := api.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(b.S3BucketName)}, s3Region(b.HomeRegion))
	switch {
	case errorCode(err) == "NoSuchBucket":
		return nil, nil // bucketDrift reports it
	case err != nil:
		return nil, fmt.Errorf("read versioning of %s: %w", res, err)
	case v.Status == s3types.BucketVersioningStatusSuspended:
		cs := []Change{{Field: "versioning", Now: "Suspended", Want: "Enabled", Fixable: true}}
		ds = append(ds, Drift{Resource: res, Field: "versioning", Want: "Enabled", Got: "Suspended",
			Actions: e.asIf("s3.amazonaws.com", "PutBucketVersioning", t, cs, trail.Config{})})
	}
	pab, err := api.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(b.S3BucketName)}, s3Region(b.HomeRegion))
	switch {
	case errorCode(err) == "NoSuchPublicAccessBlockConfiguration":
	case err != nil:
		return ds, fmt.Errorf("read public access block of %s: %w", res, err)
	case pab.PublicAccessBlockConfiguration != nil:
		c := pab.PublicAccessBlockConfiguration
		var off []string
		for i, on := range []*bool{c.BlockPublicAcls, c.IgnorePublicAcls, c.BlockPublicPolicy, c.RestrictPublicBuckets} {
			if !aws.ToBool(on) {
				off = append(off, publicAccessSwitches[i])
			}
		}
		if len(off) > 0 {
			ds = append(ds, Drift{Resource: res, Field: "public access block", Want: "all four on", Got: strings.Join(off, ", ") + " off",
				Actions: e.asIf("s3.amazonaws.com", "DeleteBucketPublicAccessBlock", t, nil, trail.Config{})})
		}
	}
	return ds, nil
}
