package posture

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Severity ranks how much a failed check helps an intruder stay unseen.
type Severity int

// Severities, lowest first.
const (
	Info Severity = iota
	Low
	Medium
	High
	Critical
)

var severityNames = []string{"info", "low", "medium", "high", "critical"}

// String returns the lowercase name used in the table, the JSON and --fail-on.
func (s Severity) String() string {
	if s < Info || s > Critical {
		return "unknown"
	}
	return severityNames[s]
}

// ParseSeverity reads a severity name as --fail-on takes it.
func ParseSeverity(s string) (Severity, error) {
	i := slices.Index(severityNames, strings.ToLower(strings.TrimSpace(s)))
	if i < 0 {
		return 0, fmt.Errorf("unknown severity %q (want one of %s)", s, strings.Join(severityNames, ", "))
	}
	return Severity(i), nil
}

// MarshalText writes the severity's name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a severity's name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Status is the outcome of one check on one resource.
type Status string

// Statuses. Error means the check could not be made (the API call failed,
// or the content read cannot be judged: see package judgment).
const (
	Pass  Status = "pass"
	Fail  Status = "fail"
	Error Status = "error"
)

func (s Status) rank() int {
	switch s {
	case Fail:
		return 0
	case Error:
		return 1
	}
	return 2
}

// Control names the benchmark requirements a check corresponds to, so a
// finding can be matched with what Security Hub or an auditor reports.
type Control struct {
	// SecurityHub is the AWS Security Hub control ID, e.g. "CloudTrail.1".
	SecurityHub string `json:"securityHub,omitempty"`
	// CIS is the CIS AWS Foundations Benchmark recommendation, with its
	// version, e.g. "CIS v3.0.0 3.1".
	CIS string `json:"cis,omitempty"`
}

// String renders the control compactly for the table.
func (c Control) String() string {
	var parts []string
	if c.SecurityHub != "" {
		parts = append(parts, c.SecurityHub)
	}
	if c.CIS != "" {
		parts = append(parts, c.CIS)
	}
	return strings.Join(parts, ", ")
}

// Finding is the outcome of one check on one resource.
type Finding struct {
	// ID names the check, e.g. "trail.logging"; stable across releases.
	ID       string   `json:"id"`
	Severity Severity `json:"severity"`
	Status   Status   `json:"status"`
	// Region is where the resource was checked; empty for account-wide checks.
	Region string `json:"region,omitempty"`
	// Resource is what was checked: a trail name, a bucket name, "account"
	// or the region itself.
	Resource string `json:"resource"`
	// ARN is the resource's ARN when it has one.
	ARN   string `json:"arn,omitempty"`
	Title string `json:"title"`
	// Detail says what was found, e.g. the read/write scope or the API error.
	Detail string `json:"detail,omitempty"`
	// Why says what an intruder gains when the check fails.
	Why string `json:"why"`
	// Fix is a concrete step (AWS CLI command or console path).
	Fix      string    `json:"fix"`
	Controls []Control `json:"controls,omitempty"`
}

// Counts summarises a report.
type Counts struct {
	Pass  int `json:"pass"`
	Fail  int `json:"fail"`
	Error int `json:"error"`
	// AtOrAboveThreshold counts failed or errored findings whose severity is
	// at or above the report's FailOn; non-zero means exit code 1.
	AtOrAboveThreshold int `json:"atOrAboveThreshold"`
}

// SchemaVersion is the version of Report's JSON shape. It changes only when a
// field is removed or changes meaning; new fields may appear without it.
const SchemaVersion = 1

// Report is the result of a check, ready to print or encode as JSON.
type Report struct {
	SchemaVersion int `json:"schemaVersion"`
	// Account is the account ID the credentials belong to, when known.
	Account string `json:"account,omitempty"`
	// Regions lists the regions checked, sorted.
	Regions []string `json:"regions"`
	// RegionSource says how Regions was obtained: "flag", "ec2:DescribeRegions",
	// "account:ListRegions" or "configured" (listing was not possible; a
	// finding "account.regions" says why).
	RegionSource string   `json:"regionSource"`
	FailOn       Severity `json:"failOn"`
	Counts       Counts   `json:"counts"`
	// OnlyFailed: Findings holds only the failed and errored findings;
	// Counts still counts every finding.
	OnlyFailed bool      `json:"onlyFailed,omitempty"`
	Findings   []Finding `json:"findings"`
}

// FailedOnly returns the report with only its failed and errored findings
// (the view of `check --only-failed`); the counts still cover everything.
func (r *Report) FailedOnly() *Report {
	out := *r
	out.OnlyFailed = true
	out.Findings = nil
	for _, f := range r.Findings {
		if f.Status != Pass {
			out.Findings = append(out.Findings, f)
		}
	}
	if out.Findings == nil {
		out.Findings = []Finding{}
	}
	return &out
}

// Failing reports whether any finding at or above the threshold failed or
// could not be checked.
func (r *Report) Failing() bool { return r.Counts.AtOrAboveThreshold > 0 }

// finish sorts the findings and computes the counts.
func (r *Report) finish() {
	slices.SortStableFunc(r.Findings, compareFindings)
	r.Counts = Counts{}
	for _, f := range r.Findings {
		switch f.Status {
		case Pass:
			r.Counts.Pass++
			continue
		case Fail:
			r.Counts.Fail++
		case Error:
			r.Counts.Error++
		}
		if f.Severity >= r.FailOn {
			r.Counts.AtOrAboveThreshold++
		}
	}
}

// compareFindings orders account-wide findings first, then regions by name;
// within a region failures first, then errors, then passes; then by severity
// (highest first), ID and resource.
func compareFindings(a, b Finding) int {
	return cmp.Or(
		cmp.Compare(a.Region, b.Region), // "" (account-wide) sorts first
		cmp.Compare(a.Status.rank(), b.Status.rank()),
		cmp.Compare(b.Severity, a.Severity),
		cmp.Compare(a.ID, b.ID),
		cmp.Compare(a.Resource, b.Resource),
	)
}
