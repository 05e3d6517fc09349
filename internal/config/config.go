// Package config reads and validates the responder's settings, the contract
// between the deployed infrastructure and the Lambda (see the README's
// settings table).
//
// Settings are checked completely at start-up: a responder with half a
// configuration (no topic to alert, an allow list it cannot parse, a baseline
// it cannot restore) must refuse to start with a message that names the
// setting, rather than act on a guess at the first tamper event.
//
// config.go is a little over 400 lines because it holds the one table of
// setting names (each with its meaning) beside the loader that checks them;
// org.go holds the organization mode's settings.
package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/trailguard/trailguard/internal/trail"
)

// Names of the environment variables (the settings contract).
const (
	EnvTopicARN            = "TRAILGUARD_TOPIC_ARN"
	EnvMode                = "TRAILGUARD_MODE"
	EnvQuarantinePolicyARN = "TRAILGUARD_QUARANTINE_POLICY_ARN"
	EnvAllow               = "TRAILGUARD_ALLOW"
	EnvSelfRoleARN         = "TRAILGUARD_SELF_ROLE_ARN"
	EnvTrails              = "TRAILGUARD_TRAILS"
	// EnvRules lists trailguard's own EventBridge rule names (comma-separated),
	// so that disabling or deleting them is recognised and reconciled.
	EnvRules = "TRAILGUARD_RULES"
	// EnvMinRetentionDays is the shortest log retention a lifecycle rule on
	// a trail bucket may set before it counts as tampering.
	EnvMinRetentionDays = "TRAILGUARD_MIN_RETENTION_DAYS"
	// EnvSecurityHub, when "true", also imports each response and each
	// reconciliation drift into AWS Security Hub as an ASFF finding
	// (securityhub:BatchImportFindings on the account's default product).
	EnvSecurityHub = "TRAILGUARD_SECURITYHUB"
	// EnvFunctionName is set by Lambda itself: the responder's own function.
	EnvFunctionName = "AWS_LAMBDA_FUNCTION_NAME"

	// Organization mode (see org.go): the hub's responder acts in member
	// accounts through a role it assumes there.

	// EnvHub turns organization (hub) mode on: "true" or "false".
	EnvHub = "TRAILGUARD_HUB"
	// EnvMemberRoleName is the role the hub assumes in each member account.
	EnvMemberRoleName = "TRAILGUARD_MEMBER_ROLE_NAME"
	// EnvMemberExternalID is the external ID the member role's trust requires.
	EnvMemberExternalID = "TRAILGUARD_MEMBER_EXTERNAL_ID"
	// EnvOrganizationID is the organization the hub protects (o-...).
	EnvOrganizationID = "TRAILGUARD_ORGANIZATION_ID"
	// EnvSkipAccounts lists account ids and OU ids (ou-...) left alone.
	EnvSkipAccounts = "TRAILGUARD_SKIP_ACCOUNTS"
	// EnvDryRunAccounts lists account ids and OU ids answered in dry-run.
	EnvDryRunAccounts = "TRAILGUARD_DRY_RUN_ACCOUNTS"
	// EnvRegions lists the regions organization reconciliation covers.
	EnvRegions = "TRAILGUARD_REGIONS"
	// EnvOrgConcurrency is how many accounts organization reconciliation
	// checks at a time.
	EnvOrgConcurrency = "TRAILGUARD_ORG_CONCURRENCY"

	// EnvDedupTable names the DynamoDB table where the responder's execution
	// environments claim each event, so that a duplicate delivery is
	// answered once (containment and alert) whichever environment gets it.
	// Optional: without it each environment remembers only its own events.
	EnvDedupTable = "TRAILGUARD_DEDUP_TABLE"
	// EnvReconcileSchedule is the reconcile rule's deployed schedule
	// expression, e.g. "rate(5 minutes)": a slower one set with PutRule is
	// put back.
	EnvReconcileSchedule = "TRAILGUARD_RECONCILE_SCHEDULE"
	// EnvRegion is set by Lambda itself: the region the responder runs in,
	// where its own rules and function live.
	EnvRegion = "AWS_REGION"
	// EnvLogGroupName is set by Lambda itself: the responder's own log
	// group, protected like the trail's.
	EnvLogGroupName = "AWS_LAMBDA_LOG_GROUP_NAME"
	// EnvAlarms lists trailguard's own CloudWatch alarm names
	// (comma-separated), so that disabling, deleting or rewriting them is
	// recognised.
	EnvAlarms = "TRAILGUARD_ALARMS"
)

// The dedup table's schema, part of the same contract: the stack creates the
// table with this partition key (a string) and TTL attribute.
const (
	DedupKeyAttribute = "eventId"
	DedupTTLAttribute = "expiresAt"
)

// The heartbeat metric: after each successful reconciliation the responder
// writes it (an embedded-metric log line, dimension FunctionName), and the
// infrastructure's heartbeat alarm pages when it goes missing.
const (
	HeartbeatNamespace = "trailguard"
	HeartbeatMetric    = "ReconcileSucceeded"
)

// ReconcileRuleID is the rule id, in TRAILGUARD_RULES' id=name entries, of
// the reconcile schedule (the other ids are the catalog's rule ids).
const ReconcileRuleID = "reconcile"

// The responder's asynchronous invocation as the stack deploys it (one
// place for both): Lambda retries a failed event this many times and keeps
// an event this long before dropping it. Reconciliation alerts when the
// function's configuration is weaker.
const (
	AsyncRetryAttempts      = 2
	AsyncMaxEventAgeSeconds = 3600
)

// DefaultMinRetentionDays is one year, the retention CIS and most audit
// frameworks ask of CloudTrail logs.
const DefaultMinRetentionDays = 365

// DefaultQuarantinePolicyARN is AWS's managed deny-everything policy.
const DefaultQuarantinePolicyARN = "arn:aws:iam::aws:policy/AWSDenyAll"

// Mode says whether the responder changes anything.
type Mode string

// Modes.
const (
	// Enforce restores, contains and notifies.
	Enforce Mode = "enforce"
	// DryRun plans, logs and notifies, and changes nothing.
	DryRun Mode = "dry-run"
)

// Settings are the responder's validated settings.
type Settings struct {
	TopicARN            string
	Mode                Mode
	QuarantinePolicyARN string
	// Allow holds principal ARNs or globs (* and ?) never contained.
	Allow []string
	// SelfRoleARN is the responder's own role (or assumed-role) ARN; empty
	// until resolved, see NeedsSelf.
	SelfRoleARN string
	// Trails are the protected trails' baselines.
	Trails []trail.Config
	// Rules are trailguard's own EventBridge rules.
	Rules []string
	// RuleIDs maps a rule's name to its id (a catalog rule id, or
	// ReconcileRuleID) when TRAILGUARD_RULES gives it as id=name: the id
	// says which pattern, schedule and target the rule was deployed with.
	RuleIDs map[string]string
	// ReconcileSchedule is the reconcile rule's schedule expression, when known.
	ReconcileSchedule string
	// Region is where the responder runs, when known.
	Region string
	// LogGroupName is the responder's own log group, when known.
	LogGroupName string
	// Alarms are trailguard's own CloudWatch alarms.
	Alarms []string
	// MinRetentionDays: lifecycle rules expiring trail logs sooner are
	// tampering.
	MinRetentionDays int
	// FunctionName is the responder's own Lambda function, when known.
	FunctionName string
	// Org holds the organization (hub) mode settings; Org.Hub is false in
	// single-account mode.
	Org Org
	// SecurityHub: findings are imported into Security Hub as well as
	// alerted on SNS.
	SecurityHub bool
	// DedupTable is the DynamoDB table events are claimed in; empty: none.
	DedupTable string
}

// Load reads the settings through getenv (os.Getenv in production) and
// validates them. Every problem found is reported, not only the first.
func Load(getenv func(string) string) (Settings, error) {
	var errs []error
	s := Settings{
		TopicARN:            strings.TrimSpace(getenv(EnvTopicARN)),
		Mode:                Mode(strings.TrimSpace(getenv(EnvMode))),
		QuarantinePolicyARN: strings.TrimSpace(getenv(EnvQuarantinePolicyARN)),
		SelfRoleARN:         strings.TrimSpace(getenv(EnvSelfRoleARN)),
		FunctionName:        strings.TrimSpace(getenv(EnvFunctionName)),
		MinRetentionDays:    DefaultMinRetentionDays,
		DedupTable:          strings.TrimSpace(getenv(EnvDedupTable)),
		ReconcileSchedule:   strings.TrimSpace(getenv(EnvReconcileSchedule)),
		Region:              strings.TrimSpace(getenv(EnvRegion)),
		LogGroupName:        strings.TrimSpace(getenv(EnvLogGroupName)),
	}
	for _, a := range strings.Split(getenv(EnvAlarms), ",") {
		if a = strings.TrimSpace(a); a != "" {
			s.Alarms = append(s.Alarms, a)
		}
	}
	if t := s.DedupTable; t != "" && !validTableName(t) {
		errs = append(errs, fmt.Errorf("%s: %q is not a DynamoDB table name (3-255 of A-Z a-z 0-9 _ - .)", EnvDedupTable, t))
	}

	// Each entry is a rule name, or id=name (the id names what the rule
	// was deployed with; plain names, the older form, stay valid).
	for _, r := range strings.Split(getenv(EnvRules), ",") {
		r = strings.TrimSpace(r)
		if r == "" {
			continue
		}
		if id, name, ok := strings.Cut(r, "="); ok {
			id, name = strings.TrimSpace(id), strings.TrimSpace(name)
			if id == "" || name == "" {
				errs = append(errs, fmt.Errorf("%s: %q is neither a rule name nor id=name", EnvRules, r))
				continue
			}
			if s.RuleIDs == nil {
				s.RuleIDs = map[string]string{}
			}
			s.RuleIDs[name] = id
			r = name
		}
		s.Rules = append(s.Rules, r)
	}
	if v := s.ReconcileSchedule; v != "" && !strings.HasPrefix(v, "rate(") && !strings.HasPrefix(v, "cron(") {
		errs = append(errs, fmt.Errorf("%s: %q is not an EventBridge schedule expression (rate(...) or cron(...))", EnvReconcileSchedule, v))
	}
	if n, ok, err := intSetting(getenv, EnvMinRetentionDays, 1, math.MaxInt, "a positive number of days"); err != nil {
		errs = append(errs, err)
	} else if ok {
		s.MinRetentionDays = n
	}

	var err error
	if s.SecurityHub, err = boolSetting(getenv, EnvSecurityHub); err != nil {
		errs = append(errs, err)
	}

	switch a, ok := trail.ParseARN(s.TopicARN); {
	case s.TopicARN == "":
		errs = append(errs, fmt.Errorf("%s is required: the SNS topic that receives alerts", EnvTopicARN))
	case !ok || a.Service != "sns" || a.Region == "" || a.Account == "" || a.Resource == "":
		errs = append(errs, fmt.Errorf("%s: %q is not an SNS topic ARN", EnvTopicARN, s.TopicARN))
	}

	switch s.Mode {
	case "":
		s.Mode = Enforce
	case Enforce, DryRun:
	default:
		errs = append(errs, fmt.Errorf("%s: %q is neither %q nor %q", EnvMode, s.Mode, Enforce, DryRun))
	}

	if s.QuarantinePolicyARN == "" {
		s.QuarantinePolicyARN = DefaultQuarantinePolicyARN
	} else if a, ok := trail.ParseARN(s.QuarantinePolicyARN); !ok || a.Service != "iam" || !strings.HasPrefix(a.Resource, "policy/") {
		errs = append(errs, fmt.Errorf("%s: %q is not an IAM managed policy ARN", EnvQuarantinePolicyARN, s.QuarantinePolicyARN))
	}

	for _, p := range strings.Split(getenv(EnvAllow), ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if !strings.HasPrefix(p, "arn:") && p != "*" {
			errs = append(errs, fmt.Errorf("%s: %q is not a principal ARN or ARN glob", EnvAllow, p))
			continue
		}
		if p == "*" {
			errs = append(errs, fmt.Errorf("%s: %q would exempt every principal; use %s=%s instead", EnvAllow, p, EnvMode, DryRun))
			continue
		}
		s.Allow = append(s.Allow, p)
	}

	if s.SelfRoleARN != "" {
		if trail.RoleName(s.SelfRoleARN) == "" {
			errs = append(errs, fmt.Errorf("%s: %q is not a role or assumed-role ARN", EnvSelfRoleARN, s.SelfRoleARN))
		}
	}

	if raw := strings.TrimSpace(getenv(EnvTrails)); raw != "" {
		dec := json.NewDecoder(strings.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&s.Trails); err != nil {
			errs = append(errs, fmt.Errorf("%s: not a JSON list of trail baselines: %w", EnvTrails, err))
		} else {
			seen := map[string]bool{}
			for i, t := range s.Trails {
				if err := t.Validate(); err != nil {
					errs = append(errs, fmt.Errorf("%s[%d]: %w", EnvTrails, i, err))
					continue
				}
				name := trail.ParseTrailRef(t.Name).Name
				if seen[name] {
					errs = append(errs, fmt.Errorf("%s[%d]: trail %q is listed twice", EnvTrails, i, name))
				}
				seen[name] = true
			}
		}
	}

	s.Org, errs = loadOrg(getenv, errs)

	if len(errs) > 0 {
		return Settings{}, fmt.Errorf("invalid settings: %w", errors.Join(errs...))
	}
	return s, nil
}

// FunctionARN is the responder function's ARN, built from its name, region
// and the account of its role; "" when one of them is unknown.
func (s Settings) FunctionARN() string {
	a, ok := trail.ParseARN(s.SelfRoleARN)
	if !ok || a.Account == "" || s.Region == "" || s.FunctionName == "" {
		return ""
	}
	return "arn:" + a.Partition + ":lambda:" + s.Region + ":" + a.Account + ":function:" + s.FunctionName
}

// NeedsSelf reports whether the responder's own role must still be looked up
// (sts:GetCallerIdentity) because TRAILGUARD_SELF_ROLE_ARN was not set.
func (s Settings) NeedsSelf() bool { return s.SelfRoleARN == "" }

// Baseline returns the baseline of the trail a ref names, if it is listed.
func (s Settings) Baseline(ref trail.TrailRef) (trail.Config, bool) {
	for _, t := range s.Trails {
		b := trail.ParseTrailRef(t.Name)
		if b.Name != ref.Name {
			continue
		}
		// Same name in another account or region is another trail.
		if ref.Account != "" && b.Account != "" && ref.Account != b.Account {
			continue
		}
		return t, true
	}
	return trail.Config{}, false
}

// Allowed reports whether a principal ARN matches the allow list.
func (s Settings) Allowed(arn string) bool {
	if arn == "" {
		return false
	}
	for _, p := range s.Allow {
		if Glob(p, arn) {
			return true
		}
	}
	return false
}

// Glob matches s against pattern, where * matches any run of characters
// (slashes included, as in IAM policies) and ? any one character.
func Glob(pattern, s string) bool {
	// Iterative matcher with backtracking to the last star: linear in
	// practice and no recursion on attacker-controlled input.
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// validTableName reports whether s is a valid DynamoDB table name.
func validTableName(s string) bool {
	if len(s) < 3 || len(s) > 255 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

// boolSetting reads a setting that is "true" or "false" (empty: false).
func boolSetting(getenv func(string) string, name string) (bool, error) {
	switch v := strings.TrimSpace(getenv(name)); v {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	default:
		return false, fmt.Errorf("%s: %q is neither \"true\" nor \"false\"", name, v)
	}
}

// intSetting reads a whole number from lo to hi; ok is false when the
// setting is empty (the caller keeps its default). what names the unit in
// the error, e.g. "a positive number of days".
func intSetting(getenv func(string) string, name string, lo, hi int, what string) (n int, ok bool, err error) {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return 0, false, nil
	}
	n, err = strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, false, fmt.Errorf("%s: %q is not %s", name, v, what)
	}
	return n, true, nil
}
