package respond

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"

	"github.com/trailguard/trailguard/internal/trail"
)

// CloudTrailAPI is the part of CloudTrail the responder calls. The SDK's
// *cloudtrail.Client satisfies it; the region of each call is set per call.
type CloudTrailAPI interface {
	StartLogging(context.Context, *cloudtrail.StartLoggingInput, ...func(*cloudtrail.Options)) (*cloudtrail.StartLoggingOutput, error)
	CreateTrail(context.Context, *cloudtrail.CreateTrailInput, ...func(*cloudtrail.Options)) (*cloudtrail.CreateTrailOutput, error)
	UpdateTrail(context.Context, *cloudtrail.UpdateTrailInput, ...func(*cloudtrail.Options)) (*cloudtrail.UpdateTrailOutput, error)
	PutEventSelectors(context.Context, *cloudtrail.PutEventSelectorsInput, ...func(*cloudtrail.Options)) (*cloudtrail.PutEventSelectorsOutput, error)
	RestoreEventDataStore(context.Context, *cloudtrail.RestoreEventDataStoreInput, ...func(*cloudtrail.Options)) (*cloudtrail.RestoreEventDataStoreOutput, error)
	StartEventDataStoreIngestion(context.Context, *cloudtrail.StartEventDataStoreIngestionInput, ...func(*cloudtrail.Options)) (*cloudtrail.StartEventDataStoreIngestionOutput, error)
}

// IAMAPI is the part of IAM the responder calls to contain principals.
type IAMAPI interface {
	AttachUserPolicy(context.Context, *iam.AttachUserPolicyInput, ...func(*iam.Options)) (*iam.AttachUserPolicyOutput, error)
	UpdateAccessKey(context.Context, *iam.UpdateAccessKeyInput, ...func(*iam.Options)) (*iam.UpdateAccessKeyOutput, error)
	PutRolePolicy(context.Context, *iam.PutRolePolicyInput, ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error)
	GetRolePolicy(context.Context, *iam.GetRolePolicyInput, ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error)
}

// RevokePolicyName is the inline role policy that revokes older sessions.
const RevokePolicyName = "TrailguardRevokeOlderSessions"

func inRegion(region string) func(*cloudtrail.Options) {
	return func(o *cloudtrail.Options) {
		if region != "" {
			o.Region = region
		}
	}
}

func createTrailInput(c trail.Config) *cloudtrail.CreateTrailInput {
	return &cloudtrail.CreateTrailInput{
		Name:                       aws.String(c.Name),
		S3BucketName:               aws.String(c.S3BucketName),
		S3KeyPrefix:                c.S3KeyPrefix,
		SnsTopicName:               c.SnsTopicName,
		IsMultiRegionTrail:         c.IsMultiRegionTrail,
		IncludeGlobalServiceEvents: c.IncludeGlobalServiceEvents,
		EnableLogFileValidation:    c.EnableLogFileValidation,
		IsOrganizationTrail:        c.IsOrganizationTrail,
		KmsKeyId:                   c.KmsKeyID,
		CloudWatchLogsLogGroupArn:  c.CloudWatchLogsLogGroupArn,
		CloudWatchLogsRoleArn:      c.CloudWatchLogsRoleArn,
	}
}

func updateTrailInput(c trail.Config) *cloudtrail.UpdateTrailInput {
	in := &cloudtrail.UpdateTrailInput{
		Name:                       aws.String(c.Name),
		S3KeyPrefix:                c.S3KeyPrefix,
		IsMultiRegionTrail:         c.IsMultiRegionTrail,
		IncludeGlobalServiceEvents: c.IncludeGlobalServiceEvents,
		EnableLogFileValidation:    c.EnableLogFileValidation,
		IsOrganizationTrail:        c.IsOrganizationTrail,
		KmsKeyId:                   c.KmsKeyID,
		CloudWatchLogsLogGroupArn:  c.CloudWatchLogsLogGroupArn,
		CloudWatchLogsRoleArn:      c.CloudWatchLogsRoleArn,
	}
	if c.S3BucketName != "" {
		in.S3BucketName = aws.String(c.S3BucketName)
	}
	return in
}

func putEventSelectorsInput(c trail.Config) *cloudtrail.PutEventSelectorsInput {
	in := &cloudtrail.PutEventSelectorsInput{TrailName: aws.String(c.Name)}
	for _, s := range c.EventSelectors {
		es := cttypes.EventSelector{
			IncludeManagementEvents:       s.IncludeManagementEvents,
			ExcludeManagementEventSources: s.ExcludeManagementEventSources,
		}
		if s.ReadWriteType != "" {
			es.ReadWriteType = cttypes.ReadWriteType(s.ReadWriteType)
		}
		for _, d := range s.DataResources {
			es.DataResources = append(es.DataResources, cttypes.DataResource{Type: aws.String(d.Type), Values: d.Values})
		}
		in.EventSelectors = append(in.EventSelectors, es)
	}
	for _, a := range c.AdvancedEventSelectors {
		as := cttypes.AdvancedEventSelector{}
		if a.Name != "" {
			as.Name = aws.String(a.Name)
		}
		for _, f := range a.FieldSelectors {
			as.FieldSelectors = append(as.FieldSelectors, cttypes.AdvancedFieldSelector{
				Field: aws.String(f.Field), Equals: f.Equals, StartsWith: f.StartsWith, EndsWith: f.EndsWith,
				NotEquals: f.NotEquals, NotStartsWith: f.NotStartsWith, NotEndsWith: f.NotEndsWith,
			})
		}
		in.AdvancedEventSelectors = append(in.AdvancedEventSelectors, as)
	}
	return in
}

// revokePolicy is the inline policy the IAM console's "revoke active
// sessions" writes: deny everything to credentials issued before a time.
func revokePolicy(before time.Time) string {
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{{
			"Sid":       "RevokeSessionsIssuedBefore",
			"Effect":    "Deny",
			"Action":    "*",
			"Resource":  "*",
			"Condition": map[string]any{"DateLessThan": map[string]string{"aws:TokenIssueTime": before.UTC().Format(time.RFC3339)}},
		}},
	}
	b, _ := json.Marshal(doc)
	return string(b)
}

// revokedBefore reads the cut-off time back from a revocation policy as IAM
// returns it (URL-encoded JSON).
func revokedBefore(doc string) (time.Time, bool) {
	if d, err := url.QueryUnescape(doc); err == nil {
		doc = d
	}
	var p struct {
		Statement []struct {
			Condition map[string]map[string]string
		}
	}
	if json.Unmarshal([]byte(doc), &p) != nil {
		return time.Time{}, false
	}
	for _, s := range p.Statement {
		if v, ok := s.Condition["DateLessThan"]["aws:TokenIssueTime"]; ok {
			t, err := time.Parse(time.RFC3339, v)
			return t, err == nil
		}
	}
	return time.Time{}, false
}

// errorCode returns the AWS error code of err, or "".
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// describeErr renders an AWS error for people: the code and message only.
func describeErr(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return fmt.Sprintf("%s: %s", ae.ErrorCode(), ae.ErrorMessage())
	}
	return err.Error()
}
