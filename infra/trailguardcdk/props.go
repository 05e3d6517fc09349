package trailguardcdk

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"

	"github.com/trailguard/trailguard/internal/config"
)

// Modes of the responder (TRAILGUARD_MODE), as the settings contract
// (internal/config) names them.
const (
	// ModeEnforce restores, contains and notifies.
	ModeEnforce = string(config.Enforce)
	// ModeDryRun plans, logs and notifies only.
	ModeDryRun = string(config.DryRun)
)

// DefaultQuarantinePolicyArn is the managed policy attached to offending IAM users.
const DefaultQuarantinePolicyArn = config.DefaultQuarantinePolicyARN

// DefaultTrailName names the trail Protection creates when no existing trail
// is given.
const DefaultTrailName = "trailguard"

// DefaultReservedConcurrency caps the responder's concurrency (see
// ProtectionProps.ReservedConcurrency).
const DefaultReservedConcurrency = 5

// DefaultMinRetentionDays is the shortest expiry a lifecycle rule on the
// trail bucket may set before the responder treats it as tampering (one
// year, what CIS and most audit frameworks ask of CloudTrail logs).
const DefaultMinRetentionDays = config.DefaultMinRetentionDays

// ProtectionProps configures Protection. The zero value is a working
// configuration: a new trail, enforce mode, AWSDenyAll as quarantine, SSE-S3
// and SQS-managed encryption, reconciliation every 5 minutes, no subscribers.
type ProtectionProps struct {
	// AlertEmails are subscribed to the alert topic (each confirms by mail).
	AlertEmails *[]*string
	// ExistingTrail protects a trail created elsewhere instead of creating one.
	ExistingTrail *ExistingTrail
	// TrailName names the trail to create (ignored with ExistingTrail).
	// Default DefaultTrailName.
	TrailName *string
	// QuarantinePolicyArn is attached to offending IAM users; the responder
	// may attach no other policy. Default DefaultQuarantinePolicyArn.
	QuarantinePolicyArn *string
	// Allow lists principal ARNs or globs that are never contained, e.g. the
	// deployment pipeline's role (revoking a role's sessions hits every user
	// of that role).
	Allow *[]*string
	// Mode is ModeEnforce (default) or ModeDryRun.
	Mode *string
	// EncryptWithKms creates one customer-managed KMS key (with rotation) and
	// uses it for the trail's logs and bucket, the alert topic and the
	// queues. Default false: SSE-S3, SNS without SSE, SQS-managed SSE.
	EncryptWithKms *bool
	// SlackWorkspaceID and SlackChannelID, both set, add an Amazon Q Developer
	// in chat applications (AWS Chatbot) Slack channel subscribed to the
	// topic. The workspace must have been authorised once in the console.
	SlackWorkspaceID *string
	SlackChannelID   *string
	// SlackConfigurationName names the Slack channel configuration (unique
	// per account). Default "trailguard-<stack name>".
	SlackConfigurationName *string
	// ReconcileEvery is the rate of the reconciliation schedule. Default 5 minutes.
	ReconcileEvery awscdk.Duration
	// ReservedConcurrency caps the responder's concurrent executions and
	// reserves them. Default DefaultReservedConcurrency; 0 leaves the function
	// unreserved (needed in accounts whose concurrency quota is still the
	// new-account 10, where any reservation is refused).
	ReservedConcurrency *float64
	// MinRetentionDays is the shortest log expiry (days) a lifecycle rule on
	// the trail bucket may set; shorter is tampering and is reverted
	// (TRAILGUARD_MIN_RETENTION_DAYS). Default DefaultMinRetentionDays.
	MinRetentionDays *float64
	// Code is the responder's code. Default: BuildResponder into
	// build/trailguard-responder under the current directory.
	Code awslambda.Code
}

// ExistingTrail describes a trail Protection protects but does not create.
// The baseline trailguard restores is this trail hardened: multi-region,
// global service events, log file validation, all management events.
type ExistingTrail struct {
	// Name is the trail's name or ARN (an ARN also gives the home region).
	Name *string
	// HomeRegion is the trail's home region. Default: from the ARN, else the
	// stack's region.
	HomeRegion *string
	// BucketName is the trail's S3 bucket (required: CreateTrail needs it to
	// recreate a deleted trail).
	BucketName *string
	// S3KeyPrefix is the trail's key prefix, if any.
	S3KeyPrefix *string
	// KmsKeyArn is the trail's KMS key ARN (arn:…:kms:…:key/…), if any. The
	// responder may re-enable it and cancel its deletion; its key policy
	// must let IAM policies of the account grant that (the default key
	// policy does).
	KmsKeyArn *string
	// CloudWatchLogsLogGroupArn and CloudWatchLogsRoleArn are the trail's
	// CloudWatch Logs delivery, if any. The responder may pass that role (and
	// only that one) to CloudTrail, and recreate that log group.
	CloudWatchLogsLogGroupArn *string
	CloudWatchLogsRoleArn     *string
}

// trailName returns the trail's name and, when the Name is an ARN, its region.
func (e *ExistingTrail) nameAndRegion() (name, region string, err error) {
	if e.Name == nil || strings.TrimSpace(*e.Name) == "" {
		return "", "", fmt.Errorf("existing trail: name or ARN required")
	}
	n := *e.Name
	if strings.HasPrefix(n, "arn:") {
		// arn:partition:cloudtrail:region:account:trail/name
		parts := strings.SplitN(n, ":", 6)
		if len(parts) != 6 || parts[2] != "cloudtrail" || !strings.HasPrefix(parts[5], "trail/") {
			return "", "", fmt.Errorf("existing trail: %q is not a trail ARN", n)
		}
		return strings.TrimPrefix(parts[5], "trail/"), parts[3], nil
	}
	return n, "", nil
}

func (p *ProtectionProps) validate() error {
	switch str(p.Mode, ModeEnforce) {
	case ModeEnforce, ModeDryRun:
	default:
		return fmt.Errorf("mode %q: want %q or %q", *p.Mode, ModeEnforce, ModeDryRun)
	}
	if (p.SlackWorkspaceID == nil) != (p.SlackChannelID == nil) {
		return fmt.Errorf("slack: workspace id and channel id go together")
	}
	if e := p.ExistingTrail; e != nil {
		if _, _, err := e.nameAndRegion(); err != nil {
			return err
		}
		if e.BucketName == nil || *e.BucketName == "" {
			return fmt.Errorf("existing trail: bucket name required (the baseline needs it to recreate the trail)")
		}
		// IAM authorises key calls on the key's ARN only (not on an alias or
		// a bare id), and log-group calls on the group's ARN.
		if k := e.KmsKeyArn; k != nil && !isArn(*k, "kms", "key/") {
			return fmt.Errorf("existing trail: KMS key %q is not a key ARN (arn:<partition>:kms:<region>:<account>:key/<id>)", *k)
		}
		if g := e.CloudWatchLogsLogGroupArn; g != nil && !isArn(*g, "logs", "log-group:") {
			return fmt.Errorf("existing trail: log group %q is not a log group ARN (arn:<partition>:logs:<region>:<account>:log-group:<name>)", *g)
		}
	}
	if d := p.MinRetentionDays; d != nil && (*d < 1 || *d != float64(int(*d))) {
		return fmt.Errorf("min retention days %v: want a whole number of days >= 1", *d)
	}
	return nil
}

// isArn reports whether s is an ARN of service whose resource starts with
// resource, with a region and an account.
func isArn(s, service, resource string) bool {
	parts := strings.SplitN(s, ":", 6)
	return len(parts) == 6 && parts[0] == "arn" && parts[1] != "" && parts[2] == service &&
		parts[3] != "" && parts[4] != "" && strings.HasPrefix(parts[5], resource) && len(parts[5]) > len(resource)
}

func str(s *string, def string) string {
	if s == nil || *s == "" {
		return def
	}
	return *s
}

func flag(b *bool) bool { return b != nil && *b }
