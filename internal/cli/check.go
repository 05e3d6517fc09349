package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/trailguard/trailguard/internal/posture"
)

// checkInput is `trailguard check`'s flags.
type checkInput struct {
	output           string
	failOn           string
	regions          []string
	concurrency      int
	minRetentionDays int
	securityHub      bool
	org              orgInput
	onlyFailed       bool

	failOnSeverity posture.Severity
}

func (in *checkInput) validate() error {
	switch in.output {
	case "table", "json":
	default:
		return fmt.Errorf("--output %q: want table or json", in.output)
	}
	sev, err := posture.ParseSeverity(in.failOn)
	if err != nil {
		return fmt.Errorf("--fail-on: %w", err)
	}
	in.failOnSeverity = sev
	if in.concurrency < 1 {
		return fmt.Errorf("--concurrency %d: want at least 1", in.concurrency)
	}
	if in.minRetentionDays < 1 {
		return fmt.Errorf("--min-retention-days %d: want at least 1", in.minRetentionDays)
	}
	return nil
}

const checkLong = `Check the CloudTrail posture of the account behind your credentials, in
every enabled region: each trail (logging, delivery errors, multi-region,
global service events, all management events, log file validation, KMS,
CloudWatch Logs), each trail bucket (public access block, CloudTrail grant
scoped by aws:SourceArn/aws:SourceAccount, versioning, lifecycle expiry,
access logging), trailguard's EventBridge rule, and the account as a whole.
Findings cite the AWS Security Hub control and CIS AWS Foundations Benchmark
recommendation they correspond to.

The credentials and the endpoint are verified first (sts:GetCallerIdentity):
no credentials, rejected or expired credentials, or an endpoint that cannot
be reached stop the check with exit 2 and the reason; nothing is reported as
a finding. Region names given with --regions must exist and be enabled for
the account.

A region that cannot be read (access denied, opt-in region not enabled,
throttling) is reported as findings with status "error"; other regions are
still checked. Errors count against --fail-on like failures: not being able
to look is not proof of safety. An account-wide judgment ("no trail is
logging") is an error, not a failure, when some of what it needs could not
be read.

Read-only: the AWS managed policy SecurityAudit allows every call made.

Exit codes: 0 ok; 1 a finding at or above --fail-on failed or errored;
2 usage or setup error.`

func newCheckCmd(e *env, g *globals) *cobra.Command {
	in := &checkInput{}
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Check CloudTrail posture across every enabled region",
		Long:  checkLong,
		Example: `  trailguard check
  trailguard check --profile audit --fail-on critical
  trailguard check --output json | jq '.findings[] | select(.status != "pass")'
  trailguard check --regions us-east-1,eu-west-1 --concurrency 2
  trailguard check --only-failed`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := in.validate(); err != nil {
				return usageError{err}
			}
			return runCheck(cmd, e, g, in)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&in.output, "output", "o", "table", "output format: table or json")
	f.StringVar(&in.failOn, "fail-on", "high", "exit 1 when a finding of this severity or higher fails: critical, high, medium, low or info")
	f.StringSliceVar(&in.regions, "regions", nil, "check only these regions (comma-separated; default: every enabled region)")
	f.IntVar(&in.concurrency, "concurrency", posture.DefaultConcurrency, "regions read at once")
	f.IntVar(&in.minRetentionDays, "min-retention-days", posture.DefaultMinRetentionDays, "fail a bucket lifecycle rule that expires trail logs sooner than this")
	f.BoolVar(&in.securityHub, "securityhub", false, "also import the failures into AWS Security Hub (the region's, the account's default product) as findings mapped to their controls")
	addOrgFlags(cmd, &in.org)
	f.BoolVar(&in.onlyFailed, "only-failed", false, "show only failed and errored findings (the counts still cover all)")
	return cmd
}

func runCheck(cmd *cobra.Command, e *env, g *globals, in *checkInput) error {
	ctx := cmd.Context()
	cfg, err := g.awsConfig(ctx)
	if err != nil {
		return err
	}
	opts := posture.Options{
		Regions:          in.regions,
		DefaultRegion:    cfg.Region,
		Concurrency:      in.concurrency,
		MinRetentionDays: in.minRetentionDays,
		FailOn:           in.failOnSeverity,
	}
	progress := e.isTerminal(e.stderr)
	if progress {
		opts.Progress = func(done, total int) {
			fmt.Fprintf(e.stderr, "\rchecking CloudTrail posture: %d/%d", done, total)
		}
	}
	if in.org.org {
		return runCheckOrg(cmd, e, cfg, in, opts)
	}
	rep, err := posture.Check(ctx, e.newClients(cfg), opts)
	if progress {
		fmt.Fprint(e.stderr, "\r\x1b[K")
	}
	if err != nil {
		return fmt.Errorf("check: %w", err)
	}
	shown := rep
	if in.onlyFailed {
		shown = rep.FailedOnly()
	}
	if err := writeReport(e, in.output, shown); err != nil {
		return err
	}
	if in.securityHub {
		if err := importCheckFindings(ctx, e, cfg, rep); err != nil {
			return err
		}
	}
	if rep.Failing() {
		return &ExitError{Code: ExitFindings}
	}
	return nil
}

func writeReport(e *env, output string, rep *posture.Report) error {
	if output == "json" {
		return posture.WriteJSON(e.stdout, rep)
	}
	return posture.WriteTable(e.stdout, rep, posture.TableOptions{Color: colorOK(e, e.stdout)})
}

// colorOK: colours only on a terminal, and never when NO_COLOR is set.
func colorOK(e *env, w io.Writer) bool {
	return e.isTerminal(w) && e.getenv("NO_COLOR") == ""
}
