package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/guardrails"
	"github.com/trailguard/trailguard/internal/trail"
)

// guardrailsInput is `trailguard guardrails`'s flags.
type guardrailsInput struct {
	output     string
	partition  string
	account    string
	trailName  string
	bucket     string
	key        string
	logGroup   string
	trailsFile string
	stores     []string
	rules      []string
	functions  []string
	topics     []string
	responder  string
	member     string
	allow      []string
}

func (in *guardrailsInput) validate() error {
	switch in.output {
	case "text", "json":
	default:
		return fmt.Errorf("--output %q: want text or json", in.output)
	}
	if in.trailName == "" && (in.bucket != "" || in.key != "" || in.logGroup != "") && in.trailsFile == "" {
		return fmt.Errorf("--bucket, --kms-key and --log-group belong to a --trail")
	}
	return nil
}

const guardrailsLong = `Generate the AWS Organizations policies that deny the catalog's tampering
calls outright, so that most attacks never need a response: a service control
policy (SCP) for the member accounts' principals and, for the trail's bucket
and key, a resource control policy (RCP) for any account's.

Restores are never denied (StartLogging, EnableKey, CancelKeyDeletion,
EnableRule, ...); the restores that are tampering too (UpdateTrail,
PutEventSelectors, PutBucketPolicy, lifecycle) are left to the exempt
principals: trailguard's responder and member roles, the allow list, and the
StackSets, Control Tower and CDK deployment roles. Calls the responder judges
by content are denied whatever their content, on the protected resources only.
Each policy is minified under 5,120 characters, split when needed. Nothing is
sent to AWS: attach the output with aws organizations create-policy and
attach-policy, or the infra's opt-in construct.

Inputs come from flags, or from the responder's settings in the environment
(TRAILGUARD_TRAILS, TRAILGUARD_RULES, TRAILGUARD_TOPIC_ARN,
TRAILGUARD_SELF_ROLE_ARN, TRAILGUARD_ALLOW, TRAILGUARD_MEMBER_ROLE_NAME);
flags win.`

func newGuardrailsCmd(e *env, g *globals) *cobra.Command {
	in := &guardrailsInput{}
	cmd := &cobra.Command{
		Use:   "guardrails",
		Short: "Generate SCPs and RCPs that deny tampering with the trail outright",
		Long:  guardrailsLong,
		Example: `  trailguard guardrails --region us-east-1 --account 123456789012 --trail management-trail \
    --bucket trailguard-logs-123456789012 --responder-role-arn arn:aws:iam::123456789012:role/trailguard-responder
  trailguard guardrails --trails baseline.json --output json > policies.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := in.validate(); err != nil {
				return usageError{err}
			}
			gi, err := in.build(e, g, cmd)
			if err != nil {
				return usageError{err}
			}
			res, err := guardrails.Generate(gi)
			if err != nil {
				return usageError{err}
			}
			if in.output == "json" {
				return guardrails.WriteJSON(e.stdout, res)
			}
			return guardrails.WriteText(e.stdout, res)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&in.output, "output", "o", "text", "text (each statement explained) or json (an array of {name, type, document})")
	f.StringVar(&in.partition, "partition", "aws", "AWS partition of the ARNs")
	f.StringVar(&in.account, "account", "", "account of resources given by name (default: the responder role's)")
	f.StringVar(&in.trailName, "trail", "", "the protected trail, name or ARN")
	f.StringVar(&in.bucket, "bucket", "", "the trail's S3 bucket name")
	f.StringVar(&in.key, "kms-key", "", "the trail's KMS key, ID or ARN")
	f.StringVar(&in.logGroup, "log-group", "", "the trail's CloudWatch Logs log group, name or ARN")
	f.StringVar(&in.trailsFile, "trails", "", "file with the protected trails' JSON baseline, as "+config.EnvTrails+" (default: "+config.EnvTrails+")")
	f.StringSliceVar(&in.stores, "event-data-store", nil, "protected CloudTrail Lake event data store ARNs")
	f.StringSliceVar(&in.rules, "rule", nil, "trailguard's EventBridge rules, names or ARNs (default: "+config.EnvRules+")")
	f.StringSliceVar(&in.functions, "function", nil, "trailguard's responder functions, names or ARNs")
	f.StringSliceVar(&in.topics, "topic", nil, "trailguard's alert topics, names or ARNs (default: "+config.EnvTopicARN+")")
	f.StringVar(&in.responder, "responder-role-arn", "", "trailguard's responder role, exempt (default: "+config.EnvSelfRoleARN+"); required")
	f.StringVar(&in.member, "member-role-arn", "", "trailguard's member role in organization mode, exempt (default: every account's "+config.EnvMemberRoleName+" role, when set)")
	f.StringSliceVar(&in.allow, "allow", nil, "break-glass principal ARNs or globs, exempt (default: "+config.EnvAllow+")")
	return cmd
}

// build turns flags and environment into the generator's input.
func (in *guardrailsInput) build(e *env, g *globals, cmd *cobra.Command) (guardrails.Input, error) {
	orEnv := func(flag string, v []string, name string) []string {
		if cmd.Flags().Changed(flag) {
			return v
		}
		var out []string
		for _, s := range strings.Split(e.getenv(name), ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	gi := guardrails.Input{
		Partition:        in.partition,
		Account:          in.account,
		Region:           g.region,
		EventDataStores:  in.stores,
		Rules:            orEnv("rule", in.rules, config.EnvRules),
		Functions:        in.functions,
		Topics:           orEnv("topic", in.topics, config.EnvTopicARN),
		ResponderRoleARN: in.responder,
		MemberRoleARN:    in.member,
		Allow:            orEnv("allow", in.allow, config.EnvAllow),
	}
	if gi.Region == "" {
		gi.Region = e.getenv("AWS_REGION")
	}
	if gi.MemberRoleARN == "" {
		// Organization mode: the hub reaches members through a role of this
		// name in every account.
		if name := strings.TrimSpace(e.getenv(config.EnvMemberRoleName)); name != "" {
			gi.MemberRoleARN = "arn:" + in.partition + ":iam::*:role/" + name
		}
	}
	if gi.ResponderRoleARN == "" {
		gi.ResponderRoleARN = strings.TrimSpace(e.getenv(config.EnvSelfRoleARN))
	}
	if gi.Account == "" {
		if a, ok := trail.ParseARN(gi.ResponderRoleARN); ok {
			gi.Account = a.Account
		}
	}
	if in.trailName != "" {
		gi.Trails = append(gi.Trails, guardrails.Trail{Name: in.trailName, Bucket: in.bucket, Key: in.key, LogGroup: in.logGroup})
	}
	raw := e.getenv(config.EnvTrails)
	if in.trailsFile != "" {
		b, err := os.ReadFile(in.trailsFile)
		if err != nil {
			return guardrails.Input{}, fmt.Errorf("--trails: %w", err)
		}
		raw = string(b)
	}
	if strings.TrimSpace(raw) != "" {
		var baselines []trail.Config
		if err := json.Unmarshal([]byte(raw), &baselines); err != nil {
			return guardrails.Input{}, fmt.Errorf("--trails: not a JSON list of trail baselines: %w", err)
		}
		for i, b := range baselines {
			if err := b.Validate(); err != nil {
				return guardrails.Input{}, fmt.Errorf("--trails[%d]: %w", i, err)
			}
			gi.Trails = append(gi.Trails, guardrails.Trail{
				Name: b.Name, Region: b.HomeRegion, Bucket: b.S3BucketName,
				Key: deref(b.KmsKeyID), LogGroup: deref(b.CloudWatchLogsLogGroupArn),
			})
		}
	}
	return gi, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
