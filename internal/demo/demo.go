// Package demo plays the article's attack and trailguard's response offline,
// on the embedded AWS emulator, through the very chain that runs in an
// account: a CloudTrail event on EventBridge, the catalog's rule, the
// responder served as a Lambda function through the Lambda runtime API, the
// SNS topic and a subscriber. It is independent of the command line so tests
// run the same scenarios the `trailguard demo` command prints.
//
// The demo proves, it does not narrate: every line of its timeline is read
// back from the emulator (trail status, the user's policies and key, the
// role's policies, the responder's own log line, the message the subscriber
// received), and the verdict passes only when the state shows the response
// really happened — or, for a failed attempt, that nothing was changed.
//
// The responder is never linked in: Options.Responder names the program that
// serves the function (the CLI passes itself with its hidden
// `lambda-responder` command; tests pass the built bootstrap), so the code
// path is the Lambda's own.
package demo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/trailguard/trailguard/internal/testworld"
)

// Scenario names an attack the demo plays.
type Scenario string

// Scenarios.
const (
	StopLogging    Scenario = "stop-logging"
	DeleteTrail    Scenario = "delete-trail"
	BlindSelectors Scenario = "blind-selectors"
	RoleSession    Scenario = "role-session"
	FailedAttempt  Scenario = "failed-attempt"
	// All plays every scenario, one after another.
	All Scenario = "all"
)

// Scenarios returns the playable scenarios in the order All plays them.
func Scenarios() []Scenario {
	return []Scenario{StopLogging, DeleteTrail, BlindSelectors, RoleSession, FailedAttempt}
}

// ParseScenario checks a scenario name (All included).
func ParseScenario(s string) (Scenario, error) {
	sc := Scenario(s)
	if sc == All || slices.Contains(Scenarios(), sc) {
		return sc, nil
	}
	return "", fmt.Errorf("unknown scenario %q (want one of %v or %q)", s, Scenarios(), All)
}

// Responder is the program serving the responder function: a binary built
// with aws-lambda-go's lambda.Start, and its arguments.
type Responder struct {
	Path string   `json:"path"`
	Args []string `json:"args,omitempty"`
}

// Names are the resources of one run. The defaults are the names the
// embedded samples use.
type Names struct {
	Trail     string `json:"trail"`
	Bucket    string `json:"bucket"`
	User      string `json:"user"`
	Role      string `json:"role"`
	Topic     string `json:"topic"`
	Responder string `json:"responder"`
	Rule      string `json:"rule"`
	Policy    string `json:"quarantinePolicy"`
}

// DefaultNames returns the samples' names.
func DefaultNames() Names {
	return Names{
		Trail: "management-trail", Bucket: "trailguard-logs-123456789012", User: "mallory", Role: "ci-deployer",
		Topic: "trailguard-alerts", Responder: "trailguard-responder", Rule: "trailguard-cloudtrail", Policy: "trailguard-deny-all",
	}
}

// WithSuffix returns the names with "-suffix" appended to each, so several
// runs can share one emulator process (kumo's state is per process).
func (n Names) WithSuffix(suffix string) Names {
	if suffix == "" {
		return n
	}
	for _, p := range []*string{&n.Trail, &n.Bucket, &n.User, &n.Role, &n.Topic, &n.Responder, &n.Rule, &n.Policy} {
		*p += "-" + suffix
	}
	return n
}

// Options configure a run.
type Options struct {
	// Responder serves the function; required.
	Responder Responder
	// Names default to DefaultNames.
	Names Names
	// Wait bounds each wait on the chain; default 30 s.
	Wait time.Duration
}

// Run plays one scenario on a fresh emulator. The error is for a demo that
// could not be set up or played; a response that did not happen is a
// Result with OK false.
func Run(ctx context.Context, sc Scenario, opts Options) (Result, error) {
	def, ok := scenarios[sc]
	if !ok {
		return Result{}, fmt.Errorf("run demo: unknown scenario %q", sc)
	}
	if opts.Responder.Path == "" {
		return Result{}, errors.New("run demo: no responder program")
	}
	if opts.Names == (Names{}) {
		opts.Names = DefaultNames()
	}
	if opts.Wait <= 0 {
		opts.Wait = 30 * time.Second
	}
	r := &run{def: def, opts: opts, res: Result{Scenario: sc, Title: def.title, Names: opts.Names}, t0: time.Now()}
	srv, err := testworld.Start(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("run demo: start emulator: %w", err)
	}
	defer srv.Close()
	r.srv = srv
	r.step(PhaseSetup, "AWS emulator started on "+srv.URL+" (offline, no account, no credentials)")
	if err := r.play(ctx); err != nil {
		return r.res, fmt.Errorf("run demo %s: %w", sc, err)
	}
	return r.res, nil
}

// RunAll plays every scenario, each on its own names.
func RunAll(ctx context.Context, opts Options) ([]Result, error) {
	base := opts.Names
	if base == (Names{}) {
		base = DefaultNames()
	}
	var out []Result
	for _, sc := range Scenarios() {
		o := opts
		o.Names = base.WithSuffix(string(sc))
		res, err := Run(ctx, sc, o)
		if err != nil {
			return out, err
		}
		out = append(out, res)
	}
	return out, nil
}
