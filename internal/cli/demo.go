package cli

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/spf13/cobra"

	"github.com/trailguard/trailguard/internal/awsx"
	"github.com/trailguard/trailguard/internal/demo"
)

// lambdaResponderCmd is the hidden command the demo starts as its Lambda
// function's runtime process.
const lambdaResponderCmd = "lambda-responder"

const demoLong = `Play the attack and trailguard's response offline, in one command.

An embedded AWS emulator gets a logging trail, an admin user "mallory", an
SNS topic with a subscriber standing in for your mailbox, the catalog's
EventBridge rule and the responder Lambda function (this very program, run
as the Lambda runtime runs the bootstrap). Then mallory attacks, and the
demo prints what happened, millisecond by millisecond, read back from the
emulator: the state before and after, the responder's actions, and the
alert as the subscriber received it.

No AWS account, credentials, network or build is needed. Exit 0 only when
the response really happened (logging back on, actor contained, alert
received; for a failed attempt: alert received, nothing changed), 1
otherwise.`

type demoInput struct {
	scenario string
	json     bool
}

func newDemoCmd(e *env, _ *globals) *cobra.Command {
	in := &demoInput{}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Play the attack and the response offline on an embedded AWS emulator",
		Long:  demoLong,
		Example: `  trailguard demo
  trailguard demo --scenario role-session
  trailguard demo --scenario all --json | jq '.[] | {scenario, ok}'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sc, err := demo.ParseScenario(in.scenario)
			if err != nil {
				return usageError{err}
			}
			return runDemo(cmd.Context(), e, sc, in.json)
		},
	}
	f := cmd.Flags()
	f.StringVar(&in.scenario, "scenario", string(demo.StopLogging), fmt.Sprintf("attack to play: %v or all", demo.Scenarios()))
	f.BoolVar(&in.json, "json", false, "print the results as JSON (a list, one entry per scenario)")
	return cmd
}

func runDemo(ctx context.Context, e *env, sc demo.Scenario, asJSON bool) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find this program to serve the responder: %w", err)
	}
	out := e.stdout
	if e.stdout == io.Writer(os.Stdout) {
		// kumo logs every request on stdout; keep ours readable.
		real, restore, err := demo.QuietStdout()
		if err != nil {
			return err
		}
		defer restore()
		out = real
	}
	opts := demo.Options{Responder: demo.Responder{Path: self, Args: []string{lambdaResponderCmd}}}
	var results []demo.Result
	if sc == demo.All {
		results, err = demo.RunAll(ctx, opts)
	} else {
		var res demo.Result
		res, err = demo.Run(ctx, sc, opts)
		results = append(results, res)
	}
	if err != nil {
		return &ExitError{Code: ExitFindings, Err: err}
	}
	if asJSON {
		err = demo.WriteJSON(out, results)
	} else {
		for i, res := range results {
			if i > 0 {
				fmt.Fprintln(out)
			}
			if err = demo.WriteText(out, res); err != nil {
				break
			}
		}
	}
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	for _, res := range results {
		if !res.OK {
			return &ExitError{Code: ExitFindings, Err: fmt.Errorf("demo %s: the response did not happen", res.Scenario)}
		}
	}
	return nil
}

// newLambdaResponderCmd serves the responder Lambda function from this
// program, exactly as cmd/responder does, for the demo's function process.
func newLambdaResponderCmd() *cobra.Command {
	return &cobra.Command{
		Use:    lambdaResponderCmd,
		Short:  "Serve the responder Lambda function through the Lambda runtime API (used by demo)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log := lambdacontext.NewLogger()
			h, err := awsx.NewHandler(cmd.Context(), os.Getenv, log)
			if err != nil {
				log.Error("responder cannot start", "error", err.Error())
				return &ExitError{Code: ExitFindings, Err: fmt.Errorf("responder: %w", err)}
			}
			lambda.Start(h.Handle)
			return nil
		},
	}
}
