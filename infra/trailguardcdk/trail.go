package trailguardcdk

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudtrail"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/trailguard/trailguard/internal/trail"
)

// allManagementEvents is the event selector of the baseline: every
// management event, read and write.
func allManagementEvents() []trail.EventSelector {
	return []trail.EventSelector{{ReadWriteType: "All", IncludeManagementEvents: jsii.Bool(true)}}
}

// newTrail creates the protected trail and its hardened bucket, and returns
// the trail's baseline and ARN.
func newTrail(scope constructs.Construct, name string, key awskms.Key) (trail.Config, *string) {
	stack := awscdk.Stack_Of(scope)
	// Computed, not read from the trail: the bucket policy must name the
	// trail before the trail exists.
	trailArn := stack.FormatArn(&awscdk.ArnComponents{
		Service:      jsii.String("cloudtrail"),
		Resource:     jsii.String("trail"),
		ResourceName: jsii.String(name),
		ArnFormat:    awscdk.ArnFormat_SLASH_RESOURCE_NAME,
	})
	cloudtrail := awsiam.NewServicePrincipal(jsii.String("cloudtrail.amazonaws.com"), nil)

	accessLogs := awss3.NewBucket(scope, jsii.String("AccessLogs"), &awss3.BucketProps{
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:        jsii.Bool(true),
		Versioned:         jsii.Bool(true),
		// S3 server access logs can only be delivered to SSE-S3 buckets.
		Encryption:    awss3.BucketEncryption_S3_MANAGED,
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	bucketProps := &awss3.BucketProps{
		BlockPublicAccess:      awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:             jsii.Bool(true),
		Versioned:              jsii.Bool(true),
		Encryption:             awss3.BucketEncryption_S3_MANAGED,
		ObjectOwnership:        awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		ServerAccessLogsBucket: accessLogs,
		ServerAccessLogsPrefix: jsii.String("trail-bucket/"),
		RemovalPolicy:          awscdk.RemovalPolicy_RETAIN,
	}
	if key != nil {
		bucketProps.Encryption = awss3.BucketEncryption_KMS
		bucketProps.EncryptionKey = key
		bucketProps.BucketKeyEnabled = jsii.Bool(true)
	}
	bucket := awss3.NewBucket(scope, jsii.String("TrailBucket"), bucketProps)
	onlyThisTrail := map[string]interface{}{"aws:SourceArn": trailArn}
	bucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudTrailAclCheck"),
		Principals: &[]awsiam.IPrincipal{cloudtrail},
		Actions:    jsii.Strings("s3:GetBucketAcl"),
		Resources:  &[]*string{bucket.BucketArn()},
		Conditions: &map[string]interface{}{"StringEquals": onlyThisTrail},
	}))
	bucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudTrailWrite"),
		Principals: &[]awsiam.IPrincipal{cloudtrail},
		Actions:    jsii.Strings("s3:PutObject"),
		Resources:  &[]*string{bucket.ArnForObjects(jsii.String("AWSLogs/" + *stack.Account() + "/*"))},
		Conditions: &map[string]interface{}{"StringEquals": map[string]interface{}{
			"aws:SourceArn": trailArn,
			"s3:x-amz-acl":  "bucket-owner-full-control",
		}},
	}))

	var kmsKeyID *string
	if key != nil {
		kmsKeyID = key.KeyArn()
		key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("CloudTrailEncryptLogs"),
			Principals: &[]awsiam.IPrincipal{cloudtrail},
			Actions:    jsii.Strings("kms:GenerateDataKey*"),
			Resources:  jsii.Strings("*"),
			Conditions: &map[string]interface{}{
				"StringEquals": onlyThisTrail,
				"StringLike": map[string]interface{}{
					"kms:EncryptionContext:aws:cloudtrail:arn": "arn:" + *stack.Partition() + ":cloudtrail:*:" + *stack.Account() + ":trail/*",
				},
			},
		}), jsii.Bool(false))
		key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("CloudTrailDescribeKey"),
			Principals: &[]awsiam.IPrincipal{cloudtrail},
			Actions:    jsii.Strings("kms:DescribeKey"),
			Resources:  jsii.Strings("*"),
			Conditions: &map[string]interface{}{"StringEquals": onlyThisTrail},
		}), jsii.Bool(false))
	}

	baseline := trail.Config{
		Name:         name,
		S3BucketName: *bucket.BucketName(),
		// No prefix: one set later (UpdateTrail) is reverted.
		S3KeyPrefix:                jsii.String(""),
		IsMultiRegionTrail:         jsii.Bool(true),
		IncludeGlobalServiceEvents: jsii.Bool(true),
		EnableLogFileValidation:    jsii.Bool(true),
		KmsKeyID:                   kmsKeyID,
		EventSelectors:             allManagementEvents(),
		HomeRegion:                 *stack.Region(),
	}
	t := awscloudtrail.NewCfnTrail(scope, jsii.String("Trail"), &awscloudtrail.CfnTrailProps{
		TrailName:                  jsii.String(name),
		S3BucketName:               bucket.BucketName(),
		IsLogging:                  jsii.Bool(true),
		IsMultiRegionTrail:         baseline.IsMultiRegionTrail,
		IncludeGlobalServiceEvents: baseline.IncludeGlobalServiceEvents,
		EnableLogFileValidation:    baseline.EnableLogFileValidation,
		KmsKeyId:                   kmsKeyID,
		EventSelectors: &[]*awscloudtrail.CfnTrail_EventSelectorProperty{{
			ReadWriteType:           jsii.String("All"),
			IncludeManagementEvents: jsii.Bool(true),
		}},
	})
	// CloudTrail checks the bucket policy when the trail is created.
	t.Node().AddDependency(bucket.Policy())
	return baseline, trailArn
}

// existingBaseline returns the baseline and ARN of a trail created elsewhere.
func existingBaseline(stack awscdk.Stack, e *ExistingTrail) (trail.Config, *string) {
	name, region, _ := e.nameAndRegion() // validated by ProtectionProps.validate
	if region == "" {
		region = str(e.HomeRegion, *stack.Region())
	}
	trailArn := e.Name
	if name == *e.Name {
		trailArn = jsii.String("arn:" + *stack.Partition() + ":cloudtrail:" + region + ":" + *stack.Account() + ":trail/" + name)
	}
	return trail.Config{
		Name:                       name,
		S3BucketName:               *e.BucketName,
		S3KeyPrefix:                e.S3KeyPrefix,
		IsMultiRegionTrail:         jsii.Bool(true),
		IncludeGlobalServiceEvents: jsii.Bool(true),
		EnableLogFileValidation:    jsii.Bool(true),
		KmsKeyID:                   e.KmsKeyArn,
		CloudWatchLogsLogGroupArn:  e.CloudWatchLogsLogGroupArn,
		CloudWatchLogsRoleArn:      e.CloudWatchLogsRoleArn,
		EventSelectors:             allManagementEvents(),
		HomeRegion:                 region,
	}, trailArn
}
