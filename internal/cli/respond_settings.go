package cli

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trailguard/trailguard/internal/config"
)

// dryRunTopic stands in for the topic when a dry-run has none: the settings
// contract requires one, but a dry-run sends no alert. It never leaves
// respondSettings.
const dryRunTopic = "arn:aws:sns:us-east-1:000000000000:trailguard-dry-run-no-topic"

// respondSettings reads the settings contract through e.getenv with the
// flags on top, as the Lambda would see them.
func respondSettings(cmd *cobra.Command, e *env, in *respondInput) (config.Settings, error) {
	vars := map[string]string{}
	for _, k := range []string{config.EnvTopicARN, config.EnvQuarantinePolicyARN, config.EnvAllow, config.EnvSelfRoleARN, config.EnvTrails} {
		vars[k] = e.getenv(k)
	}
	f := cmd.Flags()
	if f.Changed("topic-arn") {
		vars[config.EnvTopicARN] = in.topicARN
	}
	if f.Changed("quarantine-policy-arn") {
		vars[config.EnvQuarantinePolicyARN] = in.quarantinePolicyARN
	}
	if f.Changed("self-role-arn") {
		vars[config.EnvSelfRoleARN] = in.selfRoleARN
	}
	if f.Changed("allow") {
		vars[config.EnvAllow] = strings.Join(in.allow, ",")
	}
	if in.trailsFile != "" {
		b, err := os.ReadFile(in.trailsFile)
		if err != nil {
			return config.Settings{}, fmt.Errorf("--trails: %w", err)
		}
		vars[config.EnvTrails] = string(b)
	}
	vars[config.EnvMode] = string(config.DryRun)
	if in.enforce {
		vars[config.EnvMode] = string(config.Enforce)
	}
	noTopic := !in.enforce && strings.TrimSpace(vars[config.EnvTopicARN]) == ""
	if noTopic {
		vars[config.EnvTopicARN] = dryRunTopic
	}
	s, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		return config.Settings{}, fmt.Errorf("%w (flags override the TRAILGUARD_* variables: --topic-arn, --trails, --allow, --quarantine-policy-arn, --self-role-arn)", err)
	}
	if noTopic {
		s.TopicARN = ""
	}
	return s, nil
}
