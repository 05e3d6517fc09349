package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"

	"github.com/trailguard/trailguard/internal/awsx"
	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/respond"
	"github.com/trailguard/trailguard/internal/trail"
)

// respondNow is the clock plans are made with (the cut-off of revoked role
// sessions); golden tests fix it.
var respondNow = time.Now

// respondInput is `trailguard respond`'s flags and arguments.
type respondInput struct {
	events  []string // --event and the positional arguments
	enforce bool
	output  string

	topicARN            string
	trailsFile          string
	allow               []string
	quarantinePolicyARN string
	selfRoleARN         string
}

func (in *respondInput) validate() error {
	switch in.output {
	case "text", "json":
	default:
		return fmt.Errorf("--output %q: want text or json", in.output)
	}
	if len(in.events) == 0 {
		return errors.New("--event is required: a file of CloudTrail events (or files, a directory, a glob as arguments), or - for stdin")
	}
	stdin := 0
	for _, f := range in.events {
		if strings.TrimSpace(f) == "" {
			return errors.New("--event: empty file name")
		}
		if f == "-" {
			stdin++
		}
	}
	if stdin > 1 {
		return errors.New("--event -: stdin can be read only once")
	}
	if in.trailsFile == "-" {
		return errors.New("--trails -: stdin is for events; give the baseline as a file")
	}
	return nil
}

const respondLong = `Replay CloudTrail events through trailguard's responder, the very engine
the Lambda runs: classify each event, plan the response (restore, then
contain, then notify) and, with --enforce, execute it.

Inputs (arguments or --event, repeatable; - reads stdin; a directory is
read for its *.json, *.jsonl and *.gz files; a quoted glob is expanded):
  - one event, as EventBridge delivers it (the envelope with "detail") or as
    a bare CloudTrail record (event history, log files);
  - JSON lines: one event per line; several JSON objects one after another;
  - a JSON array of events;
  - a CloudTrail log file: {"Records":[...]}, also gzipped (.json.gz).
Input is streamed: a log file of any size is read one record at a time.
Each event is named FILE:LINE, or FILE#Records[i] in a log file. A
malformed event is reported with that name; the others are still processed.

Only events in trailguard's catalog are answered, in dry-run as with
--enforce: the deployed rules never deliver the others. They are counted
in the summary at the end, not printed as text.

Dry-run (the default) prints, per event, the classification (event, actor
and its type, target, severity, tamper, exemptions, changes) and the
numbered plan with each action's reason. Nothing touches AWS: no credentials
are needed and no alert is sent, so no topic is needed either. The
responder's own role cannot be discovered without AWS: give --self-role-arn
to see how its own calls are treated. Buckets, keys and log groups are
protected only when the baseline (--trails) names a trail that uses them;
examples/trails.json shows its shape.

--enforce executes the plan against the account (or endpoint) the SDK's
standard chain points at: AWS_ENDPOINT_URL is honoured, --region and
--profile apply. It asks for no confirmation; it prints a banner on stderr.
The alert is published to the topic, which is then required. Without
--self-role-arn, the identity the command runs as (sts:GetCallerIdentity)
is treated as the responder's own and never contained.

Settings come from the Lambda's environment contract, the flags below
override them: TRAILGUARD_TOPIC_ARN, TRAILGUARD_TRAILS (JSON baseline),
TRAILGUARD_ALLOW, TRAILGUARD_QUARANTINE_POLICY_ARN, TRAILGUARD_SELF_ROLE_ARN.
TRAILGUARD_MODE is ignored: --enforce decides.

Output: --output text for people, json for one JSON document per event
(schema "` + RespondSchema + `", see docs/cli.md). The summary goes to
stdout with text, to stderr with json.

Exit codes: 0 every event read and every action done (or planned);
1 an event could not be read or an action failed; 2 usage or setup error,
or no event could be read at all.`

func newRespondCmd(e *env, g *globals) *cobra.Command {
	in := &respondInput{}
	cmd := &cobra.Command{
		Use:   "respond [FILE|DIR|GLOB ...]",
		Short: "Replay CloudTrail events through the responder (dry-run by default)",
		Long:  respondLong,
		Example: `  trailguard respond stoplogging.json
  trailguard respond --trails examples/trails.json AWSLogs/123456789012/CloudTrail/us-east-1/2025/03/14/
  trailguard respond 'incident/*.jsonl' --output json
  aws cloudtrail lookup-events ... | jq -c '.Events[].CloudTrailEvent | fromjson' | trailguard respond -
  TRAILGUARD_TOPIC_ARN=arn:aws:sns:us-east-1:123456789012:alerts trailguard respond stoplogging.json --enforce`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			in.events = append(in.events, args...)
			if err := in.validate(); err != nil {
				return usageError{err}
			}
			return runRespond(cmd, e, g, in)
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&in.events, "event", "e", nil, "file, directory or glob of events (one, JSON lines, a JSON array or a CloudTrail log file); - for stdin; repeatable")
	f.BoolVar(&in.enforce, "enforce", false, "execute the plan against AWS (default: dry-run, nothing touches AWS)")
	f.StringVarP(&in.output, "output", "o", "text", "output format: text or json")
	f.StringVar(&in.topicARN, "topic-arn", "", "SNS topic for the alert (default: "+config.EnvTopicARN+"; required with --enforce)")
	f.StringVar(&in.trailsFile, "trails", "", "file with the protected trails' JSON baseline, as examples/trails.json (default: "+config.EnvTrails+")")
	f.StringSliceVar(&in.allow, "allow", nil, "principal ARNs or globs never contained (comma-separated, repeatable; default: "+config.EnvAllow+")")
	f.StringVar(&in.quarantinePolicyARN, "quarantine-policy-arn", "", "policy attached to offending IAM users (default: "+config.EnvQuarantinePolicyARN+" or AWSDenyAll)")
	f.StringVar(&in.selfRoleARN, "self-role-arn", "", "the responder's own role, never contained (default: "+config.EnvSelfRoleARN+"; with --enforce, the caller's identity)")
	return cmd
}

// respondResult is what is printed for one event.
type respondResult struct {
	report respond.Report
	// skipped says why the event was not answered (outside the catalog).
	skipped string
	// quiet says why there is nothing to do, when there is not.
	quiet string
}

func runRespond(cmd *cobra.Command, e *env, g *globals, in *respondInput) error {
	ctx := cmd.Context()
	s, err := respondSettings(cmd, e, in)
	if err != nil {
		return err
	}
	inputs, err := expandInputs(in.events)
	if err != nil {
		return usageError{err}
	}
	var engine *respond.Engine
	if in.enforce {
		if engine, err = enforcingEngine(ctx, e, g, s); err != nil {
			return err
		}
	} else {
		if s.SelfRoleARN == "" {
			fmt.Fprintf(e.stderr, "note: dry-run cannot discover the responder's own role (no AWS calls); its own calls are classified like anyone's. Set --self-role-arn or %s.\n", config.EnvSelfRoleARN)
		}
		// A dry-run engine has no clients: Preview makes no call.
		engine = respond.New(s, nil, nil, nil, respond.WithClock(respondNow))
	}

	w := &respondWriter{e: e, json: in.output == "json"}
	n := respondCounts{enforce: in.enforce, inputs: len(inputs)}
	for _, name := range inputs {
		if err := respondFile(ctx, cmd.InOrStdin(), name, engine, s, in.enforce, w, &n); err != nil {
			return err
		}
	}
	if err := w.summary(n); err != nil {
		return err
	}
	switch {
	case n.read == 0 && n.unreadable == 0:
		return &ExitError{Code: ExitUsage, Err: errors.New("no events in the input")}
	case n.read == 0:
		return &ExitError{Code: ExitUsage, Err: errors.New("no event could be read")}
	case n.unreadable > 0 || n.failed > 0:
		return &ExitError{Code: ExitFindings} // the summary said why
	}
	return nil
}

// respondFile reads one input and answers each of its events.
func respondFile(ctx context.Context, stdin io.Reader, name string, engine *respond.Engine, s config.Settings, enforce bool, w *respondWriter, n *respondCounts) error {
	label, r := "stdin", stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			n.unreadable++
			fmt.Fprintln(w.e.stderr, "trailguard: read events:", err)
			return nil
		}
		defer f.Close()
		label, r = name, f
	}
	rd, err := trail.NewReader(r, label)
	for err == nil {
		var it trail.Item
		if it, err = rd.Next(); err != nil {
			break
		}
		if it.Err != nil {
			n.unreadable++
			fmt.Fprintf(w.e.stderr, "trailguard: %s: %v\n", it.Source, it.Err)
			if werr := w.malformed(it.Source, it.Err); werr != nil {
				return werr
			}
			continue
		}
		n.read++
		res, respErr := respondTo(ctx, engine, s, enforce, it.Event)
		n.count(res, respErr)
		if werr := w.event(it.Source, res); werr != nil {
			return werr
		}
	}
	if !errors.Is(err, io.EOF) {
		n.unreadable++
		fmt.Fprintln(w.e.stderr, "trailguard:", err)
	}
	return nil
}

// respondTo answers one event the one way both modes share: events outside
// the catalog are skipped; the rest are previewed (dry-run) or executed.
func respondTo(ctx context.Context, engine *respond.Engine, s config.Settings, enforce bool, ev trail.Event) (respondResult, error) {
	mode := config.DryRun
	if enforce {
		mode = config.Enforce
	}
	p := engine.Plan(ev)
	if why := respond.OutsideCatalog(p.Classification); why != "" {
		return respondResult{report: respond.Report{Event: ev, Plan: p, Mode: mode}, skipped: why}, nil
	}
	var rep respond.Report
	var err error
	if enforce {
		rep, err = engine.Respond(ctx, ev)
	} else {
		rep = engine.Preview(ev)
	}
	return respondResult{report: rep, quiet: respond.QuietReason(rep.Plan, s)}, err
}

// respondCounts is the summary printed at the end.
type respondCounts struct {
	enforce                        bool
	inputs                         int
	read, answered, quiet, skipped int
	unreadable, failed             int
}

func (n *respondCounts) count(res respondResult, err error) {
	switch {
	case res.skipped != "":
		n.skipped++
	case err != nil:
		n.failed++
	case res.quiet != "":
		n.quiet++
	default:
		n.answered++
	}
}

func (n respondCounts) String() string {
	verb := "planned (dry-run)"
	if n.enforce {
		verb = "responded"
	}
	parts := []string{fmt.Sprintf("%d %s", n.answered, verb)}
	if n.enforce {
		parts = append(parts, fmt.Sprintf("%d failed", n.failed))
	}
	parts = append(parts,
		fmt.Sprintf("%d with nothing to do", n.quiet),
		fmt.Sprintf("%d skipped (not in the catalog)", n.skipped),
		fmt.Sprintf("%d unreadable", n.unreadable))
	return fmt.Sprintf("summary: %d event(s) read from %d input(s): %s", n.read, n.inputs, strings.Join(parts, ", "))
}

// enforcingEngine builds the Lambda's engine from the SDK's configuration
// and prints the banner.
func enforcingEngine(ctx context.Context, e *env, g *globals, s config.Settings) (*respond.Engine, error) {
	cfg, err := g.awsConfig(ctx)
	if err != nil {
		return nil, err
	}
	clients := awsx.NewClients(cfg)
	if s, err = awsx.ResolveSelf(ctx, s, clients.STS); err != nil {
		return nil, err
	}
	endpoint := "AWS"
	if cfg.BaseEndpoint != nil {
		endpoint = aws.ToString(cfg.BaseEndpoint)
	}
	region := cfg.Region
	if region == "" {
		region = "(none)"
	}
	fmt.Fprintf(e.stderr, "ENFORCING: trailguard will restore trails, contain actors and publish alerts.\n"+
		"  endpoint: %s, region: %s\n  alerts:   %s\n  never contained: %s (self)", endpoint, region, s.TopicARN, s.SelfRoleARN)
	if len(s.Allow) > 0 {
		fmt.Fprintf(e.stderr, ", %s", strings.Join(s.Allow, ", "))
	}
	fmt.Fprintln(e.stderr)
	return awsx.NewEngine(s, clients, respond.WithClock(respondNow)), nil
}
