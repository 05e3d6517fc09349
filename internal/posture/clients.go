package posture

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/account"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// CloudTrailAPI is what the check reads from CloudTrail in one region.
type CloudTrailAPI interface {
	DescribeTrails(context.Context, *cloudtrail.DescribeTrailsInput, ...func(*cloudtrail.Options)) (*cloudtrail.DescribeTrailsOutput, error)
	GetTrailStatus(context.Context, *cloudtrail.GetTrailStatusInput, ...func(*cloudtrail.Options)) (*cloudtrail.GetTrailStatusOutput, error)
	GetEventSelectors(context.Context, *cloudtrail.GetEventSelectorsInput, ...func(*cloudtrail.Options)) (*cloudtrail.GetEventSelectorsOutput, error)
}

// S3API is what the check reads about a trail's bucket.
type S3API interface {
	GetPublicAccessBlock(context.Context, *s3.GetPublicAccessBlockInput, ...func(*s3.Options)) (*s3.GetPublicAccessBlockOutput, error)
	GetBucketPolicy(context.Context, *s3.GetBucketPolicyInput, ...func(*s3.Options)) (*s3.GetBucketPolicyOutput, error)
	GetBucketVersioning(context.Context, *s3.GetBucketVersioningInput, ...func(*s3.Options)) (*s3.GetBucketVersioningOutput, error)
	GetBucketLifecycleConfiguration(context.Context, *s3.GetBucketLifecycleConfigurationInput, ...func(*s3.Options)) (*s3.GetBucketLifecycleConfigurationOutput, error)
	GetBucketLogging(context.Context, *s3.GetBucketLoggingInput, ...func(*s3.Options)) (*s3.GetBucketLoggingOutput, error)
}

// EventBridgeAPI lists the rules of a region's default event bus.
type EventBridgeAPI interface {
	ListRules(context.Context, *eventbridge.ListRulesInput, ...func(*eventbridge.Options)) (*eventbridge.ListRulesOutput, error)
}

// EC2RegionsAPI lists the regions enabled for the account.
type EC2RegionsAPI interface {
	DescribeRegions(context.Context, *ec2.DescribeRegionsInput, ...func(*ec2.Options)) (*ec2.DescribeRegionsOutput, error)
}

// AccountRegionsAPI lists regions with their opt-in status; tried when EC2's
// DescribeRegions is denied.
type AccountRegionsAPI interface {
	ListRegions(context.Context, *account.ListRegionsInput, ...func(*account.Options)) (*account.ListRegionsOutput, error)
}

// CallerAPI tells which account the credentials belong to.
type CallerAPI interface {
	GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// Clients gives the check its AWS clients. Regional clients are made per
// region by the functions; nil EC2, Account or Caller skip what they serve.
type Clients struct {
	EC2         EC2RegionsAPI
	Account     AccountRegionsAPI
	Caller      CallerAPI
	CloudTrail  func(region string) CloudTrailAPI
	EventBridge func(region string) EventBridgeAPI
	S3          func(region string) S3API
}

// NewClients builds SDK clients from cfg (normally config.LoadDefaultConfig,
// which honours AWS_ENDPOINT_URL and the standard credential chain). Regional
// clients share cfg and differ only in their region.
func NewClients(cfg aws.Config) Clients {
	return Clients{
		EC2:     ec2.NewFromConfig(cfg),
		Account: account.NewFromConfig(cfg),
		Caller:  sts.NewFromConfig(cfg),
		CloudTrail: func(region string) CloudTrailAPI {
			return cloudtrail.NewFromConfig(cfg, func(o *cloudtrail.Options) { o.Region = region })
		},
		EventBridge: func(region string) EventBridgeAPI {
			return eventbridge.NewFromConfig(cfg, func(o *eventbridge.Options) { o.Region = region })
		},
		S3: func(region string) S3API {
			return s3.NewFromConfig(cfg, func(o *s3.Options) { o.Region = region })
		},
	}
}
