package cli

import (
	"encoding/json"
	"fmt"
	"sort"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/spf13/cobra"

	"github.com/trailguard/trailguard/internal/awsx"
	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/parallel"
	"github.com/trailguard/trailguard/internal/posture"
)

// `trailguard check --org`: the same posture check in every account of the
// organization, through the member role organization mode deploys (or any
// read-only role of that name), a few accounts at a time.

// orgInput is check's organization flags.
type orgInput struct {
	org         bool
	memberRole  string
	externalID  string
	concurrency int
}

func addOrgFlags(cmd *cobra.Command, in *orgInput) {
	f := cmd.Flags()
	f.BoolVar(&in.org, "org", false, "check every account of the organization (credentials of the management account or a delegated administrator)")
	f.StringVar(&in.memberRole, "member-role", config.DefaultMemberRoleName, "with --org: the role assumed in each account")
	f.StringVar(&in.externalID, "external-id", "", "with --org: the external ID the member role requires")
	f.IntVar(&in.concurrency, "org-concurrency", 4, "with --org: accounts checked at once")
}

// OrgAccountReport is one account's check in `check --org`'s JSON.
type OrgAccountReport struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	// Error says why the account could not be checked (its role could not
	// be assumed); Report is then absent.
	Error  string          `json:"error,omitempty"`
	Report *posture.Report `json:"report,omitempty"`
}

// OrgReport is `check --org`'s JSON: each account's report, unchanged, in
// the single-account schema.
type OrgReport struct {
	SchemaVersion int                `json:"schemaVersion"`
	Organization  bool               `json:"organization"`
	Accounts      []OrgAccountReport `json:"accounts"`
}

func (r *OrgReport) failing() bool {
	for _, a := range r.Accounts {
		if a.Error != "" || (a.Report != nil && a.Report.Failing()) {
			return true
		}
	}
	return false
}

func runCheckOrg(cmd *cobra.Command, e *env, cfg aws.Config, in *checkInput, opts posture.Options) error {
	ctx := cmd.Context()
	if in.securityHub {
		return usageError{fmt.Errorf("--securityhub cannot be combined with --org yet: import each account's findings from that account")}
	}
	opts.Progress = nil // one line of progress per account instead
	accounts, err := awsx.OrgAccounts{API: organizations.NewFromConfig(cfg)}.Accounts(ctx)
	if err != nil {
		return fmt.Errorf("check --org: %w", err)
	}
	self := ""
	if id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err == nil {
		self = aws.ToString(id.Account)
	}
	rep := &OrgReport{SchemaVersion: 1, Organization: true, Accounts: make([]OrgAccountReport, len(accounts))}
	sort.Slice(accounts, func(i, j int) bool { return accounts[i].ID < accounts[j].ID })
	var mu sync.Mutex
	done := 0
	progress := e.isTerminal(e.stderr)
	parallel.Each(len(accounts), in.org.concurrency, func(i int) {
		a := accounts[i]
		ar := OrgAccountReport{ID: a.ID, Name: a.Name}
		acfg := cfg
		if a.ID != self {
			acfg = memberConfig(cfg, "arn:aws:iam::"+a.ID+":role/"+in.org.memberRole, in.org.externalID)
		}
		if _, err := acfg.Credentials.Retrieve(ctx); err != nil {
			ar.Error = "cannot assume " + in.org.memberRole + ": " + err.Error()
		} else if r, err := posture.Check(ctx, e.newClients(acfg), opts); err != nil {
			ar.Error = err.Error()
		} else {
			ar.Report = r
		}
		rep.Accounts[i] = ar
		mu.Lock()
		done++
		if progress {
			fmt.Fprintf(e.stderr, "\rchecking the organization: %d/%d accounts", done, len(accounts))
		}
		mu.Unlock()
	})
	if progress {
		fmt.Fprint(e.stderr, "\r\x1b[K")
	}
	if err := writeOrgReport(e, in.output, rep); err != nil {
		return err
	}
	if rep.failing() {
		return &ExitError{Code: ExitFindings}
	}
	return nil
}

func memberConfig(cfg aws.Config, roleARN, externalID string) aws.Config {
	c := cfg.Copy()
	p := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), roleARN, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = "trailguard-check"
		if externalID != "" {
			o.ExternalID = aws.String(externalID)
		}
	})
	c.Credentials = aws.NewCredentialsCache(p)
	return c
}

// writeOrgReport prints the per-account summary, then each account's report.
func writeOrgReport(e *env, output string, rep *OrgReport) error {
	if output == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(rep); err != nil {
			return fmt.Errorf("encode report: %w", err)
		}
		return nil
	}
	fmt.Fprintf(e.stdout, "trailguard check --org: %d account(s)\n\n", len(rep.Accounts))
	fmt.Fprintf(e.stdout, "%-14s %-24s %6s %6s %6s  %s\n", "ACCOUNT", "NAME", "PASS", "FAIL", "ERROR", "STATUS")
	for _, a := range rep.Accounts {
		switch {
		case a.Error != "":
			fmt.Fprintf(e.stdout, "%-14s %-24s %6s %6s %6s  not checked: %s\n", a.ID, a.Name, "-", "-", "-", a.Error)
		default:
			status := "ok"
			if a.Report.Failing() {
				status = "failing"
			}
			c := a.Report.Counts
			fmt.Fprintf(e.stdout, "%-14s %-24s %6d %6d %6d  %s\n", a.ID, a.Name, c.Pass, c.Fail, c.Error, status)
		}
	}
	for _, a := range rep.Accounts {
		if a.Report == nil {
			continue
		}
		fmt.Fprintf(e.stdout, "\n=== account %s (%s)\n", a.ID, a.Name)
		if err := posture.WriteTable(e.stdout, a.Report, posture.TableOptions{Color: colorOK(e, e.stdout)}); err != nil {
			return err
		}
	}
	return nil
}
