package cli

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
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

// RespondSchema names the version of `respond --output json` documents.
const RespondSchema = "trailguard.respond/v1"

// maxInputFile bounds one --event file (after gunzip): CloudTrail log files
// are a few MB; anything far larger is not an incident's evidence.
const maxInputFile = 256 << 20

// dryRunTopic stands in for the topic when a dry-run has none: the settings
// contract requires one, but a dry-run sends no alert. It never leaves
// respondSettings.
const dryRunTopic = "arn:aws:sns:us-east-1:000000000000:trailguard-dry-run-no-topic"

// respondNow is the clock plans are made with (the cut-off of revoked role
// sessions); golden tests fix it.
var respondNow = time.Now

// respondInput is `trailguard respond`'s flags.
type respondInput struct {
	events  []string
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
		return errors.New("--event is required: a file of CloudTrail events, or - for stdin")
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

Inputs (--event FILE, repeatable; - reads stdin):
  - one event, as EventBridge delivers it (the envelope with "detail") or as
    a bare CloudTrail record (event history, log files);
  - JSON lines: one event per line; several JSON objects one after another;
  - a JSON array of events;
  - a CloudTrail log file: {"Records":[...]}, also gzipped (.json.gz).
A malformed event is reported with its file and line; the others are still
processed.

Dry-run (the default) prints, per event, the classification (event, actor
and its type, target, severity, tamper, exemptions, changes) and the
numbered plan with each action's reason. Nothing touches AWS: no credentials
are needed and no alert is sent, so no topic is needed either. The
responder's own role cannot be discovered without AWS: give --self-role-arn
to see how its own calls are treated.

--enforce executes the plan against the account (or endpoint) the SDK's
standard chain points at: AWS_ENDPOINT_URL is honoured, --region and
--profile apply. It asks for no confirmation; it prints a banner on stderr.
The alert is published to the topic, which is then required. Without
--self-role-arn, the identity the command runs as (sts:GetCallerIdentity)
is treated as the responder's own and never contained. Events outside
trailguard's catalog are skipped: the deployed rules never deliver them.

Settings come from the Lambda's environment contract, the flags below
override them: TRAILGUARD_TOPIC_ARN, TRAILGUARD_TRAILS (JSON baseline),
TRAILGUARD_ALLOW, TRAILGUARD_QUARANTINE_POLICY_ARN, TRAILGUARD_SELF_ROLE_ARN.
TRAILGUARD_MODE is ignored: --enforce decides.

Output: --output text for people, json for one JSON document per event
(schema "` + RespondSchema + `", see docs/cli.md).

Exit codes: 0 every event read and every action done (or planned);
1 an event could not be read or an action failed; 2 usage or setup error,
or no event could be read at all.`

func newRespondCmd(e *env, g *globals) *cobra.Command {
	in := &respondInput{}
	cmd := &cobra.Command{
		Use:   "respond --event FILE",
		Short: "Replay CloudTrail events through the responder (dry-run by default)",
		Long:  respondLong,
		Example: `  trailguard respond --event stoplogging.json
  trailguard respond --event incident.jsonl --trails baseline.json --output json
  aws cloudtrail lookup-events ... | jq -c '.Events[].CloudTrailEvent | fromjson' | trailguard respond --event -
  TRAILGUARD_TOPIC_ARN=arn:aws:sns:us-east-1:123456789012:alerts trailguard respond --event stoplogging.json --enforce`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := in.validate(); err != nil {
				return usageError{err}
			}
			return runRespond(cmd, e, g, in)
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&in.events, "event", "e", nil, "file of events (one, JSON lines, a JSON array or a CloudTrail log file); - for stdin; repeatable")
	f.BoolVar(&in.enforce, "enforce", false, "execute the plan against AWS (default: dry-run, nothing touches AWS)")
	f.StringVarP(&in.output, "output", "o", "text", "output format: text or json")
	f.StringVar(&in.topicARN, "topic-arn", "", "SNS topic for the alert (default: "+config.EnvTopicARN+"; required with --enforce)")
	f.StringVar(&in.trailsFile, "trails", "", "file with the protected trails' JSON baseline (default: "+config.EnvTrails+")")
	f.StringSliceVar(&in.allow, "allow", nil, "principal ARNs or globs never contained (comma-separated, repeatable; default: "+config.EnvAllow+")")
	f.StringVar(&in.quarantinePolicyARN, "quarantine-policy-arn", "", "policy attached to offending IAM users (default: "+config.EnvQuarantinePolicyARN+" or AWSDenyAll)")
	f.StringVar(&in.selfRoleARN, "self-role-arn", "", "the responder's own role, never contained (default: "+config.EnvSelfRoleARN+"; with --enforce, the caller's identity)")
	return cmd
}

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

// responder handles one parsed event: plans it (dry-run) or executes it.
type responder func(ctx context.Context, ev trail.Event) (respondResult, error)

// respondResult is what is printed for one event.
type respondResult struct {
	plan     respond.Plan
	outcomes []respond.Outcome
	mode     config.Mode
	skipped  string
	duration time.Duration
}

func runRespond(cmd *cobra.Command, e *env, g *globals, in *respondInput) error {
	ctx := cmd.Context()
	s, err := respondSettings(cmd, e, in)
	if err != nil {
		return err
	}
	var handle responder
	if in.enforce {
		if handle, err = enforcer(ctx, e, g, s); err != nil {
			return err
		}
	} else {
		if s.SelfRoleARN == "" {
			fmt.Fprintf(e.stderr, "note: dry-run cannot discover the responder's own role (no AWS calls); its own calls are classified like anyone's. Set --self-role-arn or %s.\n", config.EnvSelfRoleARN)
		}
		handle = dryRunner(s)
	}

	w := &respondWriter{e: e, json: in.output == "json"}
	var read, unreadable, failed int
	for _, name := range in.events {
		items, err := readEvents(cmd.InOrStdin(), name)
		if err != nil {
			unreadable++
			fmt.Fprintln(e.stderr, "trailguard:", err)
			continue
		}
		for _, it := range items {
			if it.err != nil {
				unreadable++
				fmt.Fprintf(e.stderr, "trailguard: %s: %v\n", it.source, it.err)
				if err := w.malformed(it.source, it.err); err != nil {
					return err
				}
				continue
			}
			read++
			res, respErr := handle(ctx, it.ev)
			if err := w.event(it.source, it.ev, res); err != nil {
				return err
			}
			if respErr != nil {
				failed++
				fmt.Fprintf(e.stderr, "trailguard: %s: %v\n", it.source, respErr)
			}
		}
	}
	switch {
	case read == 0 && unreadable == 0:
		return &ExitError{Code: ExitUsage, Err: errors.New("no events in the input")}
	case read == 0:
		return &ExitError{Code: ExitUsage, Err: errors.New("no event could be read")}
	case unreadable > 0 || failed > 0:
		var parts []string
		if unreadable > 0 {
			parts = append(parts, fmt.Sprintf("%d input(s) could not be read", unreadable))
		}
		if failed > 0 {
			parts = append(parts, fmt.Sprintf("the response to %d event(s) failed", failed))
		}
		return &ExitError{Code: ExitFindings, Err: fmt.Errorf("%s (%d event(s) processed)", strings.Join(parts, "; "), read)}
	}
	return nil
}

// dryRunner plans without executing: every enforcing action is reported as
// dry-run, manual steps as manual, and no alert is sent.
func dryRunner(s config.Settings) responder {
	return func(_ context.Context, ev trail.Event) (respondResult, error) {
		p := respond.NewPlan(respond.Classify(ev, s), s, respondNow())
		res := respondResult{plan: p, mode: config.DryRun}
		for _, a := range p.Actions {
			o := respond.Outcome{Action: a, Status: respond.StatusDryRun}
			if a.Kind == respond.KindManual {
				o.Status = respond.StatusManual
			}
			res.outcomes = append(res.outcomes, o)
		}
		return res, nil
	}
}

// enforcer builds the Lambda's engine from the SDK's configuration and
// prints the banner.
func enforcer(ctx context.Context, e *env, g *globals, s config.Settings) (responder, error) {
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
	fmt.Fprintf(e.stderr, "ENFORCING: trailguard will restore trails, contain actors and publish alerts.\n"+
		"  endpoint: %s, region: %s\n  alerts:   %s\n  never contained: %s (self)", endpoint, orNone(cfg.Region), s.TopicARN, s.SelfRoleARN)
	if len(s.Allow) > 0 {
		fmt.Fprintf(e.stderr, ", %s", strings.Join(s.Allow, ", "))
	}
	fmt.Fprintln(e.stderr)

	engine := awsx.NewEngine(s, clients, respond.WithClock(respondNow))
	return func(ctx context.Context, ev trail.Event) (respondResult, error) {
		p := engine.Plan(ev)
		if !p.Classification.Known {
			return respondResult{plan: p, mode: config.Enforce, skipped: "not in trailguard's catalog: the deployed rules never deliver it"}, nil
		}
		rep, err := engine.Respond(ctx, ev)
		return respondResult{plan: rep.Plan, outcomes: rep.Outcomes, mode: rep.Mode, duration: rep.Duration}, err
	}, nil
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// eventItem is one event of the input, or why it could not be read.
type eventItem struct {
	source string // FILE:LINE
	ev     trail.Event
	err    error
}

// readEvents reads one --event file and splits it into events. An error
// means the file itself could not be read.
func readEvents(stdin io.Reader, name string) ([]eventItem, error) {
	label := name
	var r io.Reader
	if name == "-" {
		label, r = "stdin", stdin
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("read events: %w", err)
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxInputFile+1))
	if err != nil {
		return nil, fmt.Errorf("read events from %s: %w", label, err)
	}
	if len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("read events from %s: %w", label, err)
		}
		if b, err = io.ReadAll(io.LimitReader(zr, maxInputFile+1)); err != nil {
			return nil, fmt.Errorf("read events from %s: gunzip: %w", label, err)
		}
	}
	if len(b) > maxInputFile {
		return nil, fmt.Errorf("read events from %s: over %d MiB", label, maxInputFile>>20)
	}
	return splitEvents(label, b), nil
}

// splitEvents finds the events in b. The whole input is first read as a
// sequence of JSON values (one object, JSON lines, objects one after
// another, an array, a log file's Records); if that fails somewhere, it is
// read again line by line so that one bad line costs one event.
func splitEvents(label string, b []byte) []eventItem {
	var out []eventItem
	dec := json.NewDecoder(bytes.NewReader(b))
	for {
		off := int(dec.InputOffset())
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if err == io.EOF {
			return out
		}
		if err != nil {
			return splitLines(label, b)
		}
		out = append(out, expand(label, raw, lineAt(b, off))...)
	}
}

// splitLines reads b as JSON lines.
func splitLines(label string, b []byte) []eventItem {
	var out []eventItem
	for i, line := range bytes.Split(b, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		if !json.Valid(line) {
			var v any
			err := json.Unmarshal(line, &v)
			out = append(out, eventItem{source: fmt.Sprintf("%s:%d", label, i+1), err: fmt.Errorf("%w: not JSON: %w", trail.ErrMalformed, err)})
			continue
		}
		out = append(out, expand(label, line, i+1)...)
	}
	return out
}

// expand turns one JSON value starting at line into events: an array's or a
// log file's records one by one, anything else as one event.
func expand(label string, raw []byte, line int) []eventItem {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '{' {
		var log struct {
			Records json.RawMessage `json:"Records"`
		}
		if json.Unmarshal(raw, &log) == nil && len(log.Records) > 0 && log.Records[0] == '[' {
			if i := bytes.Index(raw, log.Records); i >= 0 {
				return expand(label, log.Records, line+bytes.Count(raw[:i], []byte("\n")))
			}
		}
	}
	if len(raw) == 0 || raw[0] != '[' {
		ev, err := trail.Parse(raw)
		return []eventItem{{source: fmt.Sprintf("%s:%d", label, line), ev: ev, err: err}}
	}
	var out []eventItem
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return []eventItem{{source: fmt.Sprintf("%s:%d", label, line), err: fmt.Errorf("%w: %w", trail.ErrMalformed, err)}}
	}
	for dec.More() {
		off := int(dec.InputOffset())
		var el json.RawMessage
		if err := dec.Decode(&el); err != nil {
			return append(out, eventItem{source: fmt.Sprintf("%s:%d", label, line+lineAt(raw, off)-1), err: fmt.Errorf("%w: %w", trail.ErrMalformed, err)})
		}
		at := line + lineAt(raw, off) - 1
		el = bytes.TrimSpace(el)
		if len(el) > 0 && el[0] == '[' {
			out = append(out, eventItem{source: fmt.Sprintf("%s:%d", label, at), err: fmt.Errorf("%w: an array inside an array of events", trail.ErrMalformed)})
			continue
		}
		out = append(out, expand(label, el, at)...)
	}
	return out
}

// lineAt returns the 1-based line of the first byte at or after off that is
// neither white space nor a separating comma.
func lineAt(b []byte, off int) int {
	for off < len(b) && strings.IndexByte(" \t\r\n,", b[off]) >= 0 {
		off++
	}
	return 1 + bytes.Count(b[:off], []byte("\n"))
}

// respondWriter prints results as text or as JSON documents.
type respondWriter struct {
	e    *env
	json bool
	n    int
}

func (w *respondWriter) malformed(source string, err error) error {
	if !w.json {
		return nil // reported on stderr only
	}
	return w.write(respondDoc{Schema: RespondSchema, Input: source, Error: err.Error(), Actions: []respondDocAction{}})
}

func (w *respondWriter) event(source string, ev trail.Event, res respondResult) error {
	if w.json {
		return w.write(newRespondDoc(source, ev, res))
	}
	var b strings.Builder
	if w.n > 0 {
		b.WriteString("\n")
	}
	w.n++
	writeRespondText(&b, source, ev, res)
	if _, err := io.WriteString(w.e.stdout, b.String()); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

func (w *respondWriter) write(d respondDoc) error {
	enc := json.NewEncoder(w.e.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// writeRespondText renders one event's classification and plan for people.
func writeRespondText(b *strings.Builder, source string, ev trail.Event, res respondResult) {
	c := res.plan.Classification
	rec := ev.Record
	line := func(label, format string, a ...any) {
		fmt.Fprintf(b, "%-11s %s\n", label, fmt.Sprintf(format, a...))
	}
	fmt.Fprintf(b, "=== %s\n", source)

	status := "succeeded"
	if rec.Failed() {
		status = "FAILED with " + rec.ErrorCode
	}
	line("event", "%s (%s), %s", rec.EventName, rec.EventSource, status)
	when := "unknown time"
	if !rec.EventTime.IsZero() {
		when = rec.EventTime.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	account := rec.RecipientAccountID
	if account == "" {
		account = ev.Account
	}
	line("", "%s in %s, account %s, id %s", when, rec.AWSRegion, orDash(account), orDash(rec.EventID))
	if c.Known {
		line("catalog", "%s", c.Entry.Blinds)
	} else {
		line("catalog", "not in trailguard's catalog: the deployed rules never deliver it")
	}

	a := c.Actor
	line("actor", "%s (%s) %s", a.Display, a.Type, orDash(a.ARN))
	detail := []string{}
	if a.AccessKeyID != "" {
		detail = append(detail, "access key "+a.AccessKeyID)
	}
	detail = append(detail, "MFA "+yesNo(a.MFA))
	if a.InvokedBy != "" {
		detail = append(detail, "through "+a.InvokedBy)
	}
	detail = append(detail, "containment "+string(a.Containment))
	line("", "%s", strings.Join(detail, ", "))
	if a.Manual != "" {
		line("", "manual: %s", a.Manual)
	}

	t := c.Target
	target := t.ID
	if target == "" {
		target = "(not named in the event)"
	}
	kind := string(t.Kind)
	if kind == "" {
		kind = "resource"
	}
	baseline := ""
	if t.Kind == "trail" {
		baseline = ", no baseline"
		if t.Baseline != nil {
			baseline = ", baseline from " + config.EnvTrails
		}
	}
	line("target", "%s %s (%s%s)", kind, target, orDash(t.Region), baseline)
	line("severity", "%s", c.Severity)
	line("tamper", "%s", yesNo(c.Tamper()))
	if len(c.Exemptions) == 0 {
		line("exemptions", "none")
	}
	for i, x := range c.Exemptions {
		line(map[bool]string{true: "exemptions"}[i == 0], "%s", x)
	}
	if len(c.Changes) == 0 {
		line("changes", "none")
	}
	for i, ch := range c.Changes {
		how := "fixable"
		switch {
		case ch.Review:
			how = "review"
		case !ch.Fixable:
			how = "set back by hand"
		}
		line(map[bool]string{true: "changes"}[i == 0], "%s: now %s, want %s (%s)", ch.Field, ch.Now, ch.Want, how)
	}

	switch {
	case res.skipped != "":
		line("response", "skipped: %s", res.skipped)
		return
	case res.mode == config.DryRun:
		line("plan", "dry-run: nothing executed, no alert sent")
	default:
		line("response", "%s, %s", res.mode, res.duration.Round(time.Millisecond))
	}
	if len(res.outcomes) == 0 {
		line("", "nothing to do (the responder's own call)")
	}
	for i, o := range res.outcomes {
		act := o.Action.String()
		if o.Action.Kind == respond.KindNotify && o.Action.Target == "" {
			act += " (no topic)"
		}
		fmt.Fprintf(b, "  %d. [%s] %s: %s\n", i+1, statusWord(o.Status), o.Action.Step, act)
		fmt.Fprintf(b, "     why: %s\n", o.Action.Reason)
		if o.Detail != "" {
			fmt.Fprintf(b, "     note: %s\n", o.Detail)
		}
		if o.Error != "" {
			fmt.Fprintf(b, "     error: %s\n", o.Error)
		}
	}
}

func statusWord(s respond.Status) string {
	switch s {
	case respond.StatusFailed:
		return "FAILED"
	case respond.StatusManual:
		return "MANUAL"
	}
	return string(s)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func yesNo(v bool) string {
	if v {
		return "yes"
	}
	return "no"
}

// respondDoc is one event in `respond --output json` (schema
// "trailguard.respond/v1"). Fields are only added, never renamed, within a
// schema version.
type respondDoc struct {
	Schema string `json:"schema"`
	// Input is where the event was read: FILE:LINE (stdin:LINE).
	Input string `json:"input"`
	// Error is set, and nothing else, when the event could not be read.
	Error          string                    `json:"error,omitempty"`
	Mode           config.Mode               `json:"mode,omitempty"`
	Event          *respondDocEvent          `json:"event,omitempty"`
	Classification *respondDocClassification `json:"classification,omitempty"`
	// Skipped says why an --enforce run did not respond to the event.
	Skipped    string             `json:"skipped,omitempty"`
	Actions    []respondDocAction `json:"actions"`
	DurationMs float64            `json:"durationMs,omitempty"`
}

type respondDocEvent struct {
	ID           string    `json:"eventId,omitempty"`
	Name         string    `json:"eventName"`
	Source       string    `json:"eventSource"`
	Region       string    `json:"region"`
	Account      string    `json:"account,omitempty"`
	Time         time.Time `json:"time,omitzero"`
	ErrorCode    string    `json:"errorCode,omitempty"`
	ErrorMessage string    `json:"errorMessage,omitempty"`
	// EnvelopeID is the EventBridge event id, when an envelope was read.
	EnvelopeID string `json:"envelopeId,omitempty"`
}

type respondDocClassification struct {
	Known      bool                `json:"known"`
	Blinds     string              `json:"blinds,omitempty"`
	Succeeded  bool                `json:"succeeded"`
	Severity   string              `json:"severity"`
	Tamper     bool                `json:"tamper"`
	Self       bool                `json:"self"`
	Quiet      bool                `json:"quiet"`
	Actor      respond.Actor       `json:"actor"`
	Target     respondDocTarget    `json:"target"`
	Exemptions []respond.Exemption `json:"exemptions"`
	Changes    []respond.Change    `json:"changes"`
}

type respondDocTarget struct {
	Kind     string `json:"kind,omitempty"`
	ID       string `json:"id"`
	Region   string `json:"region"`
	Baseline bool   `json:"baseline"`
}

// respondDocAction is a planned action (the engine's own JSON fields) with
// its outcome.
type respondDocAction struct {
	N int `json:"n"`
	respond.Action
	Status     respond.Status `json:"status"`
	Detail     string         `json:"detail,omitempty"`
	Error      string         `json:"error,omitempty"`
	DurationMs float64        `json:"durationMs,omitempty"`
}

func newRespondDoc(source string, ev trail.Event, res respondResult) respondDoc {
	c := res.plan.Classification
	rec := ev.Record
	account := rec.RecipientAccountID
	if account == "" {
		account = ev.Account
	}
	d := respondDoc{
		Schema: RespondSchema, Input: source, Mode: res.mode, Skipped: res.skipped,
		Event: &respondDocEvent{ID: rec.EventID, Name: rec.EventName, Source: rec.EventSource, Region: rec.AWSRegion,
			Account: account, Time: rec.EventTime, ErrorCode: rec.ErrorCode, ErrorMessage: rec.ErrorMessage, EnvelopeID: ev.ID},
		Classification: &respondDocClassification{
			Known: c.Known, Succeeded: c.Succeeded, Severity: c.Severity.String(), Tamper: c.Tamper(),
			Self: c.Self, Quiet: res.plan.Quiet, Actor: c.Actor,
			Target:     respondDocTarget{Kind: string(c.Target.Kind), ID: c.Target.ID, Region: c.Target.Region, Baseline: c.Target.Baseline != nil},
			Exemptions: append([]respond.Exemption{}, c.Exemptions...),
			Changes:    append([]respond.Change{}, c.Changes...),
		},
		Actions:    []respondDocAction{},
		DurationMs: ms(res.duration),
	}
	if c.Known {
		d.Classification.Blinds = c.Entry.Blinds
	}
	for i, o := range res.outcomes {
		d.Actions = append(d.Actions, respondDocAction{N: i + 1, Action: o.Action, Status: o.Status, Detail: o.Detail, Error: o.Error, DurationMs: ms(o.Duration)})
	}
	return d
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
