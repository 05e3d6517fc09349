// Package awsx wires the AWS SDK clients into trailguard's engine. It exists
// so that the Lambda's main and the CLI's `respond --enforce` build the same
// engine the same way, and so that main packages only wire.
//
// Clients are built once, from one aws.Config; the SDK honours the standard
// AWS_ENDPOINT_URL (and AWS_ENDPOINT_URL_<SERVICE>) settings, which is how the
// same binary runs against AWS, the Lambda runtime emulator and a local AWS
// emulator.
package awsx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/dedup"
	"github.com/trailguard/trailguard/internal/forensics"
	"github.com/trailguard/trailguard/internal/notify"
	"github.com/trailguard/trailguard/internal/respond"
)

// Clients are the SDK clients the responder uses.
type Clients struct {
	CloudTrail *cloudtrail.Client
	IAM        *iam.Client
	SNS        *sns.Client
	STS        *sts.Client
	S3         *s3.Client
	KMS        *kms.Client
	Logs       *cloudwatchlogs.Client
	Events     *eventbridge.Client
	// CloudWatch reads and re-enables trailguard's own alarms.
	CloudWatch *cloudwatch.Client
	// Lambda reads the responder function's own configuration.
	Lambda *lambda.Client
	// Orgs names accounts and their OUs in organization mode.
	Orgs *organizations.Client
	// SecurityHub imports findings when the settings opt in.
	SecurityHub *securityhub.Client
	// DynamoDB holds the event claims and the contained principals
	// (TRAILGUARD_DEDUP_TABLE).
	DynamoDB *dynamodb.Client
}

// NewClients builds every client once from cfg. Building a client makes no
// call, so the ones an event never needs cost nothing but memory.
func NewClients(cfg aws.Config) Clients {
	return Clients{
		CloudTrail: cloudtrail.NewFromConfig(cfg),
		IAM:        iam.NewFromConfig(cfg),
		SNS:        sns.NewFromConfig(cfg),
		STS:        sts.NewFromConfig(cfg),
		// Path-style addressing works with every endpoint, including
		// AWS_ENDPOINT_URL pointing at a local emulator.
		S3:          s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = cfg.BaseEndpoint != nil }),
		KMS:         kms.NewFromConfig(cfg),
		Logs:        cloudwatchlogs.NewFromConfig(cfg),
		Events:      eventbridge.NewFromConfig(cfg),
		CloudWatch:  cloudwatch.NewFromConfig(cfg),
		Lambda:      lambda.NewFromConfig(cfg),
		Orgs:        organizations.NewFromConfig(cfg),
		SecurityHub: securityhub.NewFromConfig(cfg),
		DynamoDB:    dynamodb.NewFromConfig(cfg),
	}
}

// CallerIdentityAPI is the part of STS used to find the responder's own role.
type CallerIdentityAPI interface {
	GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// ResolveSelf fills in the responder's own role ARN from STS when the
// settings do not name it: the responder must never contain itself.
func ResolveSelf(ctx context.Context, s config.Settings, api CallerIdentityAPI) (config.Settings, error) {
	if !s.NeedsSelf() {
		return s, nil
	}
	out, err := api.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return s, fmt.Errorf("find own role (set %s to skip this call): %w", config.EnvSelfRoleARN, err)
	}
	s.SelfRoleARN = aws.ToString(out.Arn)
	return s, nil
}

// AliasAPI is the part of IAM used to name the account in alerts.
type AliasAPI interface {
	ListAccountAliases(context.Context, *iam.ListAccountAliasesInput, ...func(*iam.Options)) (*iam.ListAccountAliasesOutput, error)
}

// AccountAlias returns a function that looks the account alias up once, on
// first use (not at start-up, to keep cold starts short), and remembers the
// answer. A failed lookup (denied by an SCP, say) is remembered as "no alias"
// too: the alias only decorates alerts and must not cost a call per event.
func AccountAlias(api AliasAPI) func(context.Context) string {
	var once sync.Once
	var alias string
	return func(ctx context.Context) string {
		once.Do(func() {
			out, err := api.ListAccountAliases(ctx, &iam.ListAccountAliasesInput{})
			if err == nil && len(out.AccountAliases) > 0 {
				alias = out.AccountAliases[0]
			}
		})
		return alias
	}
}

// NewEngine builds the engine from settings and clients.
func NewEngine(s config.Settings, c Clients, opts ...respond.Option) *respond.Engine {
	return newEngine(s, c, slog.Default(), nil, opts...)
}

func newEngine(s config.Settings, c Clients, log *slog.Logger, members *MemberClients, opts ...respond.Option) *respond.Engine {
	alerts := Notifier(s, c, log, members)
	opts = append([]respond.Option{
		respond.WithAccountAlias(AccountAlias(c.IAM)),
		respond.WithResources(respond.Resources{Trails: c.CloudTrail, S3: c.S3, KMS: c.KMS, Logs: c.Logs, Events: c.Events, Topic: c.SNS, Alarms: c.CloudWatch, Function: c.Lambda}),
		respond.WithDriftNotifier(alerts),
	}, opts...)
	if s.DedupTable != "" && c.DynamoDB != nil {
		// Contained principals outlive the execution environment.
		opts = append(opts, respond.WithContainmentStore(dedup.Table{Client: c.DynamoDB, Name: s.DedupTable}))
	}
	return respond.New(s, c.CloudTrail, c.IAM, alerts, opts...)
}

// NewReporter builds the gap reporter: it keeps the blind windows the
// engine's restores close in the protected trails' buckets, and reports on
// them once Event History has caught up.
func NewReporter(s config.Settings, c Clients) *forensics.Reporter {
	var buckets []string
	for _, t := range s.Trails {
		buckets = append(buckets, t.S3BucketName)
	}
	return &forensics.Reporter{CloudTrail: c.CloudTrail, S3: c.S3, Notifier: notify.SNS{Client: c.SNS, TopicARN: s.TopicARN}, Buckets: buckets}
}

// NewHandler does the responder's whole initialisation, once: read and check
// the settings, load the AWS configuration, build the clients, resolve the
// responder's own role and assemble the engine. Any error means the function
// must not start.
func NewHandler(ctx context.Context, getenv func(string) string, log *slog.Logger) (respond.Handler, error) {
	settings, err := config.Load(getenv)
	if err != nil {
		return respond.Handler{}, err
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return respond.Handler{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	clients := NewClients(cfg)
	if settings, err = ResolveSelf(ctx, settings, clients.STS); err != nil {
		return respond.Handler{}, err
	}
	log.Info("responder ready", "mode", settings.Mode, "hub", settings.Org.Hub, "memberRole", settings.Org.MemberRoleName, "trails", len(settings.Trails), "rules", len(settings.Rules), "allow", len(settings.Allow), "self", settings.SelfRoleARN, "securityHub", settings.SecurityHub)
	var opts []respond.Option
	var gaps *forensics.Reporter
	var members *MemberClients
	if settings.Org.Hub {
		members = NewMemberClients(settings, cfg, clients.STS, clients.Orgs, clients)
		opts = append(opts, respond.WithClients(members))
	} else {
		// Gap reports read and write the account's own trail buckets; the
		// members' buckets (organization mode) would need the member
		// clients, which the reporter does not use yet.
		gaps = NewReporter(settings, clients)
		gaps.Log = log
		opts = append(opts, respond.WithGapRecorder(gaps))
	}
	engine := newEngine(settings, clients, log, members, opts...)
	reconcile := func(ctx context.Context) error {
		rep, err := engine.Reconcile(ctx)
		respond.LogReconcile(ctx, log, rep, err)
		if err == nil {
			respond.LogHeartbeat(ctx, log, settings.FunctionName, rep.Started)
		}
		if gaps == nil {
			return err
		}
		// Gap reports are due a while after their restore: each run sends
		// the ones whose time has come.
		reports, gerr := gaps.Run(ctx)
		forensics.LogReports(ctx, log, reports, gerr)
		return errors.Join(err, gerr)
	}
	if settings.Org.Hub {
		reconcile = func(ctx context.Context) error {
			rep, err := engine.ReconcileOrg(ctx, OrgAccounts{API: clients.Orgs}, settings.Org.Concurrency)
			respond.LogReconcile(ctx, log, rep.Reconcile, err)
			return err
		}
	}
	h := respond.Handler{Engine: engine, Log: log, Reconcile: reconcile}
	if settings.DedupTable != "" {
		// Shared by every execution environment: each event answered once.
		h.Claims = dedup.Table{Client: clients.DynamoDB, Name: settings.DedupTable}
	} else {
		h.Delivered = respond.NewDeliveries(1024)
		log.Warn("no "+config.EnvDedupTable+": duplicate deliveries and contained principals are remembered in this execution environment only; "+
			"after a cold start, reconciliation no longer checks that earlier containments are still in place", "setting", config.EnvDedupTable)
	}
	return h, nil
}
