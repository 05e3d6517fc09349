// Package cli is trailguard's command line: a thin cobra layer that parses
// flags, builds AWS configuration and hands over to the packages that do the
// work (posture for `check`; the responder engine and the emulator for the
// commands added next to it). Nothing here decides what is safe; it only
// wires and prints, so the same logic runs in tests without a terminal.
//
// Exit codes, the contract scripts rely on:
//
//	0  ok: nothing at or above the threshold failed
//	1  check: a finding at or above --fail-on failed (or could not be checked);
//	   respond/demo: the response failed
//	2  usage or setup error: bad flags, no credentials or region, output not writable
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/logging"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/trailguard/trailguard/internal/posture"
)

// Exit codes returned by Main.
const (
	ExitOK       = 0
	ExitFindings = 1 // findings at/above the threshold (check), response failed (respond, demo)
	ExitUsage    = 2 // usage or setup error
)

// ExitError makes Main exit with Code, printing Err when it is not nil. A
// command returns it for outcomes that are not usage errors: failed findings
// or a failed response.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// env is what commands read from the process: streams, environment and
// terminal detection, replaceable in tests.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	isTerminal     func(w io.Writer) bool
	// newClients builds the check's AWS clients; tests wrap it to add what
	// an emulator lacks.
	newClients func(aws.Config) posture.Clients
}

// globals are the flags every command shares.
type globals struct {
	region  string
	profile string
}

// awsConfig loads the SDK's default configuration: the standard credential
// chain, shared config files, and AWS_ENDPOINT_URL (honoured by the SDK
// itself), with --region and --profile on top.
//
// The SDK's own logger is off: it prints warnings such as "falling back to
// IMDSv1" on stderr, in the middle of the command's output, about a lookup
// whose outcome the command reports itself (no credentials, for example).
func (g *globals) awsConfig(ctx context.Context) (aws.Config, error) {
	opts := []func(*config.LoadOptions) error{config.WithLogger(logging.Nop{})}
	if g.region != "" {
		opts = append(opts, config.WithRegion(g.region))
	}
	if g.profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(g.profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load aws configuration: %w", err)
	}
	return cfg, nil
}

const rootLong = `trailguard keeps AWS CloudTrail on, whatever an intruder does.

An intruder with admin rights first blinds CloudTrail: stops the trail,
deletes it, strips its event selectors or expires its bucket. trailguard
deploys EventBridge rules for every such call and a Lambda responder that
restores the trail, contains the actor and tells you what happened. This
command line checks an account's posture, replays events through the
responder and demonstrates the whole attack offline.

AWS access uses the SDK's standard chain (environment, shared config and
SSO, instance roles); AWS_ENDPOINT_URL points every call at another
endpoint, e.g. a local emulator.

Exit codes:
  0  ok
  1  check: a finding at or above --fail-on failed or could not be checked;
     respond, demo: the response failed
  2  usage or setup error`

// newRoot builds the command tree.
func newRoot(e *env) *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:           "trailguard",
		Short:         "Keep AWS CloudTrail on, whatever an intruder does",
		Long:          rootLong,
		SilenceErrors: true,
		SilenceUsage:  true,
		Version:       version(), // version.go
	}
	root.SetVersionTemplate("trailguard {{.Version}}\n")
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.PersistentFlags().StringVar(&g.region, "region", "", "AWS region for regional defaults (default: from the SDK chain: AWS_REGION, profile)")
	root.PersistentFlags().StringVar(&g.profile, "profile", "", "shared config profile (default: AWS_PROFILE or \"default\")")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })

	// Commands: one line each, one file each.
	root.AddCommand(newCheckCmd(e, g))       // check.go
	root.AddCommand(newRespondCmd(e, g))     // respond.go
	root.AddCommand(newDemoCmd(e, g))        // demo.go
	root.AddCommand(newGuardrailsCmd(e, g))  // guardrails.go
	root.AddCommand(newLambdaResponderCmd()) // demo.go: the demo's function process

	return root
}

// usageError marks an error as the user's to fix (exit 2).
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

// Main runs trailguard with args (without the program name) and returns the
// process exit code. Errors are printed on stderr.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return run(ctx, args, &env{stdout: stdout, stderr: stderr, getenv: os.Getenv, isTerminal: isTerminal, newClients: posture.NewClients})
}

func run(ctx context.Context, args []string, e *env) int {
	root := newRoot(e)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		if ee.Err != nil {
			fmt.Fprintln(e.stderr, "trailguard:", ee.Err)
		}
		return ee.Code
	}
	fmt.Fprintln(e.stderr, "trailguard:", err)
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintln(e.stderr, "Run 'trailguard --help' for usage.")
	}
	return ExitUsage
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
