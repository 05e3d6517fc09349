package respond

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/trailguard/trailguard/internal/judgment"
)

// S3API is the part of S3 the responder calls on a trail's bucket.
type S3API interface {
	GetBucketLifecycleConfiguration(context.Context, *s3.GetBucketLifecycleConfigurationInput, ...func(*s3.Options)) (*s3.GetBucketLifecycleConfigurationOutput, error)
	PutBucketLifecycleConfiguration(context.Context, *s3.PutBucketLifecycleConfigurationInput, ...func(*s3.Options)) (*s3.PutBucketLifecycleConfigurationOutput, error)
	DeleteBucketLifecycle(context.Context, *s3.DeleteBucketLifecycleInput, ...func(*s3.Options)) (*s3.DeleteBucketLifecycleOutput, error)
	GetBucketPolicy(context.Context, *s3.GetBucketPolicyInput, ...func(*s3.Options)) (*s3.GetBucketPolicyOutput, error)
	PutBucketPolicy(context.Context, *s3.PutBucketPolicyInput, ...func(*s3.Options)) (*s3.PutBucketPolicyOutput, error)
	CreateBucket(context.Context, *s3.CreateBucketInput, ...func(*s3.Options)) (*s3.CreateBucketOutput, error)
	PutPublicAccessBlock(context.Context, *s3.PutPublicAccessBlockInput, ...func(*s3.Options)) (*s3.PutPublicAccessBlockOutput, error)
	PutBucketVersioning(context.Context, *s3.PutBucketVersioningInput, ...func(*s3.Options)) (*s3.PutBucketVersioningOutput, error)
}

// KMSAPI is the part of KMS the responder calls on a trail's key.
type KMSAPI interface {
	EnableKey(context.Context, *kms.EnableKeyInput, ...func(*kms.Options)) (*kms.EnableKeyOutput, error)
	CancelKeyDeletion(context.Context, *kms.CancelKeyDeletionInput, ...func(*kms.Options)) (*kms.CancelKeyDeletionOutput, error)
	DescribeKey(context.Context, *kms.DescribeKeyInput, ...func(*kms.Options)) (*kms.DescribeKeyOutput, error)
	GetKeyPolicy(context.Context, *kms.GetKeyPolicyInput, ...func(*kms.Options)) (*kms.GetKeyPolicyOutput, error)
}

// LogsAPI is the part of CloudWatch Logs the responder calls.
type LogsAPI interface {
	CreateLogGroup(context.Context, *cloudwatchlogs.CreateLogGroupInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.CreateLogGroupOutput, error)
	PutRetentionPolicy(context.Context, *cloudwatchlogs.PutRetentionPolicyInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutRetentionPolicyOutput, error)
	// DescribeLogGroups: reconciliation reads a log group's existence and
	// retention.
	DescribeLogGroups(context.Context, *cloudwatchlogs.DescribeLogGroupsInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeLogGroupsOutput, error)
}

// EventsAPI is the part of EventBridge the responder calls on its own rules.
type EventsAPI interface {
	EnableRule(context.Context, *eventbridge.EnableRuleInput, ...func(*eventbridge.Options)) (*eventbridge.EnableRuleOutput, error)
	DescribeRule(context.Context, *eventbridge.DescribeRuleInput, ...func(*eventbridge.Options)) (*eventbridge.DescribeRuleOutput, error)
	ListTargetsByRule(context.Context, *eventbridge.ListTargetsByRuleInput, ...func(*eventbridge.Options)) (*eventbridge.ListTargetsByRuleOutput, error)
	PutRule(context.Context, *eventbridge.PutRuleInput, ...func(*eventbridge.Options)) (*eventbridge.PutRuleOutput, error)
	PutTargets(context.Context, *eventbridge.PutTargetsInput, ...func(*eventbridge.Options)) (*eventbridge.PutTargetsOutput, error)
	RemoveTargets(context.Context, *eventbridge.RemoveTargetsInput, ...func(*eventbridge.Options)) (*eventbridge.RemoveTargetsOutput, error)
}

// Resources are the clients for what a trail depends on and for trailguard's
// own rules. A nil client makes the actions that need it fail with a clear
// error (never a panic), and the other actions still run.
type Resources struct {
	// Trails reads trails for reconciliation (the CloudTrail client).
	Trails TrailReader
	S3     S3API
	KMS    KMSAPI
	Logs   LogsAPI
	Events EventsAPI
	// Topic reads the alert topic for reconciliation (the SNS client).
	Topic TopicAPI
	// Alarms reads and re-enables trailguard's alarms (the CloudWatch client).
	Alarms AlarmsAPI
	// Function reads the responder function's own configuration (the
	// Lambda client).
	Function FunctionAPI
}

// WithResources sets the clients for bucket, key, log group and rule actions.
func WithResources(r Resources) Option { return func(e *Engine) { e.res = r } }

var errNoClient = errors.New("no client configured for this service")

func s3Region(region string) func(*s3.Options) {
	return func(o *s3.Options) {
		if region != "" {
			o.Region = region
		}
	}
}

// callResource makes the calls of the bucket, key, log group and rule actions.
func (e *Engine) callResource(ctx context.Context, a Action) (string, error) {
	switch a.Kind {
	case KindFixLifecycle:
		if e.res.S3 == nil {
			return "", errNoClient
		}
		return e.fixLifecycle(ctx, a)
	case KindRestoreBucketPolicy:
		if e.res.S3 == nil {
			return "", errNoClient
		}
		return e.restoreBucketPolicy(ctx, a)
	case KindRecreateBucket:
		if e.res.S3 == nil {
			return "", errNoClient
		}
		return e.recreateBucket(ctx, a)
	case KindEnableKey:
		if e.res.KMS == nil {
			return "", errNoClient
		}
		_, err := e.res.KMS.EnableKey(ctx, &kms.EnableKeyInput{KeyId: aws.String(a.Target)}, func(o *kms.Options) { setRegion(&o.Region, a.Region) })
		return "", err
	case KindCancelKeyDeletion:
		if e.res.KMS == nil {
			return "", errNoClient
		}
		_, err := e.res.KMS.CancelKeyDeletion(ctx, &kms.CancelKeyDeletionInput{KeyId: aws.String(a.Target)}, func(o *kms.Options) { setRegion(&o.Region, a.Region) })
		if errorCode(err) == "KMSInvalidStateException" {
			return "the key is not pending deletion (cancelled already?)", nil
		}
		return "", err
	case KindCreateLogGroup:
		if e.res.Logs == nil {
			return "", errNoClient
		}
		_, err := e.res.Logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(a.Target)}, func(o *cloudwatchlogs.Options) { setRegion(&o.Region, a.Region) })
		if errorCode(err) == "ResourceAlreadyExistsException" {
			return "the log group exists already", nil
		}
		return "", err
	case KindEnableRule:
		if e.res.Events == nil {
			return "", errNoClient
		}
		_, err := e.res.Events.EnableRule(ctx, &eventbridge.EnableRuleInput{Name: aws.String(a.Target)}, func(o *eventbridge.Options) { setRegion(&o.Region, a.Region) })
		return "", err
	case KindEnableVersioning, KindBlockPublicAccess, KindPutRetention:
		return e.callProtection(ctx, a)
	case KindRestoreQuarantinePolicy:
		return e.restoreQuarantinePolicy(ctx, a)
	case KindEnableAlarmActions:
		return e.enableAlarmActions(ctx, a)
	case KindRestoreRule, KindRestoreTargets:
		if e.res.Events == nil {
			return "", errNoClient
		}
		if a.Kind == KindRestoreRule {
			return e.restoreRule(ctx, a)
		}
		return e.restoreTargets(ctx, a)
	}
	return "", fmt.Errorf("unknown action kind %q", a.Kind)
}

func setRegion(dst *string, region string) {
	if region != "" {
		*dst = region
	}
}

// fixLifecycle removes the enabled rules that expire objects (or old
// versions) sooner than the minimum retention, and keeps all others.
func (e *Engine) fixLifecycle(ctx context.Context, a Action) (string, error) {
	out, err := e.res.S3.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(a.Bucket)}, s3Region(a.Region))
	if errorCode(err) == "NoSuchLifecycleConfiguration" {
		return "the bucket has no lifecycle rules (removed already?)", nil
	}
	if err != nil {
		return "", fmt.Errorf("read lifecycle: %w", err)
	}
	j := judgment.Lifecycle(judgment.RulesFromSDK(out.Rules), a.KeyPrefixes, a.MinRetentionDays, e.now())
	switch j.Verdict {
	case judgment.OK:
		return "no rule expires logs early (fixed already?)", nil
	case judgment.CannotTell:
		return "", fmt.Errorf("lifecycle left unchanged: %s: review it by hand", j.Reason)
	}
	var keep []s3types.LifecycleRule
	var removed []string
	for i, r := range out.Rules {
		if slices.Contains(j.Culprits, i) {
			removed = append(removed, aws.ToString(r.ID))
			continue
		}
		keep = append(keep, r)
	}
	detail := "removed lifecycle rules " + strings.Join(removed, ", ")
	if len(keep) == 0 {
		_, err = e.res.S3.DeleteBucketLifecycle(ctx, &s3.DeleteBucketLifecycleInput{Bucket: aws.String(a.Bucket)}, s3Region(a.Region))
		return detail, err
	}
	_, err = e.res.S3.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{
		Bucket: aws.String(a.Bucket), LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: keep},
	}, s3Region(a.Region))
	return detail, err
}

// restoreBucketPolicy judges the bucket's live policy and, when it stops
// CloudTrail, removes exactly the statements that do and puts CloudTrail's
// grants back (package judgment). A policy it cannot judge is left alone
// and the failure says why: a person must look.
func (e *Engine) restoreBucketPolicy(ctx context.Context, a Action) (string, error) {
	var current []byte
	out, err := e.res.S3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(a.Bucket)}, s3Region(a.Region))
	switch {
	case err == nil:
		current = []byte(aws.ToString(out.Policy))
	case errorCode(err) != "NoSuchBucketPolicy":
		return "", fmt.Errorf("read bucket policy: %w", err)
	}
	ds := judgment.Deliveries(a.Bucket, a.SourceARNs, a.KeyPrefixes)
	switch j := judgment.BucketPolicyFor(current, ds); j.Verdict {
	case judgment.OK, judgment.Unscoped:
		return "the bucket policy grants CloudTrail already", nil
	case judgment.CannotTell:
		return "", fmt.Errorf("bucket policy left unchanged: %s: review it by hand", j.Reason)
	}
	doc, err := judgment.RepairBucketPolicy(current, a.Account, ds...)
	if err != nil {
		return "", err
	}
	_, err = e.res.S3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(a.Bucket), Policy: aws.String(doc)}, s3Region(a.Region))
	return "", err
}

// recreateBucket creates the bucket again, hardened. A name taken by another
// account meanwhile is a failure the alert explains.
func (e *Engine) recreateBucket(ctx context.Context, a Action) (string, error) {
	in := &s3.CreateBucketInput{Bucket: aws.String(a.Bucket)}
	if a.Region != "" && a.Region != "us-east-1" {
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(a.Region)}
	}
	detail := ""
	_, err := e.res.S3.CreateBucket(ctx, in, s3Region(a.Region))
	switch errorCode(err) {
	case "":
	case "BucketAlreadyOwnedByYou":
		detail = "the bucket exists already"
	case "BucketAlreadyExists":
		return "", fmt.Errorf("the name %s is now owned by another account: point the trail at a new bucket: %w", a.Bucket, err)
	default:
		return "", err
	}
	if _, err := e.res.S3.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String(a.Bucket),
		PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{
			BlockPublicAcls: aws.Bool(true), BlockPublicPolicy: aws.Bool(true), IgnorePublicAcls: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true),
		}}, s3Region(a.Region)); err != nil {
		return detail, fmt.Errorf("block public access: %w", err)
	}
	if _, err := e.res.S3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(a.Bucket),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}, s3Region(a.Region)); err != nil {
		return detail, fmt.Errorf("enable versioning: %w", err)
	}
	return detail, nil
}
