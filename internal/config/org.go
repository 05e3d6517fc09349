package config

import (
	"fmt"
	"regexp"
	"strings"
)

// Organization (hub) mode: one responder in a security account protects every
// account of an AWS Organization. Member accounts only forward events to the
// hub's bus and hold a role the hub assumes; everything else (the function,
// the topic, the settings) lives in the hub, out of a member admin's reach.

// DefaultMemberRoleName is the member role's name when none is set.
const DefaultMemberRoleName = "TrailguardMember"

// MemberSessionName is the session name the hub uses when it assumes a
// member role. CloudTrail shows the hub's own calls in a member account as
// assumed-role/<member role>/<MemberSessionName>, which is how the self
// exemption and loop suppression recognise them.
const MemberSessionName = "trailguard-hub"

// HubBusName is the hub's central event bus, the spoke rules' target.
const HubBusName = "trailguard-hub"

// DefaultOrgConcurrency is how many accounts organization reconciliation
// checks at a time.
const DefaultOrgConcurrency = 8

// DeploymentPrincipals are the roles that deploy into an organization's
// accounts: CloudFormation StackSets' execution role, Control Tower's, and
// the CDK's deploy and execution roles. In hub mode their changes are
// alerted, never fought: trailguard must not undo a landing zone's own
// deployment or lock its pipeline out.
var DeploymentPrincipals = []string{
	"arn:*:iam::*:role/stacksets-exec-*",
	"arn:*:iam::*:role/AWSControlTowerExecution",
	"arn:*:iam::*:role/cdk-*-deploy-role-*",
	"arn:*:iam::*:role/cdk-*-cfn-exec-role-*",
}

// Org is the organization mode's settings.
type Org struct {
	// Hub is true when this responder is an organization's hub.
	Hub bool
	// MemberRoleName is the role assumed in each member account.
	MemberRoleName string
	// ExternalID is passed to AssumeRole when set.
	ExternalID string
	// OrganizationID is the organization protected (o-...), when set.
	OrganizationID string
	// Skip holds account ids and OU ids (ou-...) left alone entirely.
	Skip []string
	// DryRun holds account ids and OU ids answered in dry-run.
	DryRun []string
	// Regions are the regions organization reconciliation covers; empty
	// means the responder's own region only.
	Regions []string
	// Concurrency is how many accounts reconciliation checks at a time.
	Concurrency int
}

var (
	accountIDRe = regexp.MustCompile(`^[0-9]{12}$`)
	ouIDRe      = regexp.MustCompile(`^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$`)
	orgIDRe     = regexp.MustCompile(`^o-[a-z0-9]{10,32}$`)
	roleNameRe  = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	regionRe    = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]$`)
	extIDRe     = regexp.MustCompile(`^[\w+=,.@:/-]+$`)
)

// ValidAccountID reports whether s is a 12-digit AWS account id.
func ValidAccountID(s string) bool { return accountIDRe.MatchString(s) }

func list(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// loadOrg reads the organization settings, appending problems to errs.
func loadOrg(getenv func(string) string, errs []error) (Org, []error) {
	o := Org{
		MemberRoleName: strings.TrimSpace(getenv(EnvMemberRoleName)),
		ExternalID:     strings.TrimSpace(getenv(EnvMemberExternalID)),
		OrganizationID: strings.TrimSpace(getenv(EnvOrganizationID)),
		Skip:           list(getenv(EnvSkipAccounts)),
		DryRun:         list(getenv(EnvDryRunAccounts)),
		Regions:        list(getenv(EnvRegions)),
	}
	o.Concurrency = DefaultOrgConcurrency
	if n, ok, err := intSetting(getenv, EnvOrgConcurrency, 1, 256, "a number of accounts from 1 to 256"); err != nil {
		errs = append(errs, err)
	} else if ok {
		o.Concurrency = n
	}
	var err error
	if o.Hub, err = boolSetting(getenv, EnvHub); err != nil {
		errs = append(errs, err)
	}
	if o.MemberRoleName == "" {
		o.MemberRoleName = DefaultMemberRoleName
	} else if !roleNameRe.MatchString(o.MemberRoleName) {
		errs = append(errs, fmt.Errorf("%s: %q is not an IAM role name", EnvMemberRoleName, o.MemberRoleName))
	}
	if o.ExternalID != "" && (len(o.ExternalID) < 2 || len(o.ExternalID) > 1224 || !extIDRe.MatchString(o.ExternalID)) {
		errs = append(errs, fmt.Errorf("%s: an external ID is 2 to 1224 characters of [\\w+=,.@:/-]", EnvMemberExternalID))
	}
	if o.OrganizationID != "" && !orgIDRe.MatchString(o.OrganizationID) {
		errs = append(errs, fmt.Errorf("%s: %q is not an organization id (o-...)", EnvOrganizationID, o.OrganizationID))
	}
	for _, k := range []struct {
		env string
		ids []string
	}{{EnvSkipAccounts, o.Skip}, {EnvDryRunAccounts, o.DryRun}} {
		for _, id := range k.ids {
			if !accountIDRe.MatchString(id) && !ouIDRe.MatchString(id) {
				errs = append(errs, fmt.Errorf("%s: %q is neither an account id nor an OU id (ou-...)", k.env, id))
			}
		}
	}
	for _, r := range o.Regions {
		if !regionRe.MatchString(r) {
			errs = append(errs, fmt.Errorf("%s: %q is not a region name", EnvRegions, r))
		}
	}
	if !o.Hub {
		for _, k := range []string{EnvSkipAccounts, EnvDryRunAccounts} {
			if strings.TrimSpace(getenv(k)) != "" {
				errs = append(errs, fmt.Errorf("%s applies to organization mode only: set %s=true", k, EnvHub))
			}
		}
	}
	return o, errs
}

// Scope is how the hub treats one account.
type Scope string

// Scopes.
const (
	ScopeEnforce Scope = "enforce"
	ScopeDryRun  Scope = "dry-run"
	ScopeSkip    Scope = "skip"
)

// ScopeOf returns how the hub treats an account, given the OUs it sits in
// (its parents up to the root; nil when unknown). Skip wins over dry-run,
// and a hub in dry-run mode is dry-run everywhere.
func (s Settings) ScopeOf(account string, ous []string) Scope {
	in := func(ids []string) bool {
		for _, id := range ids {
			if id == account {
				return true
			}
			for _, ou := range ous {
				if id == ou {
					return true
				}
			}
		}
		return false
	}
	switch {
	case in(s.Org.Skip):
		return ScopeSkip
	case s.Mode == DryRun || in(s.Org.DryRun):
		return ScopeDryRun
	}
	return ScopeEnforce
}

// NeedsOUs reports whether scoping an account needs its OUs looked up.
func (s Settings) NeedsOUs() bool {
	for _, id := range append(append([]string(nil), s.Org.Skip...), s.Org.DryRun...) {
		if strings.HasPrefix(id, "ou-") {
			return true
		}
	}
	return false
}

// MemberRoleARN is the member role's ARN in an account.
func (s Settings) MemberRoleARN(partition, account string) string {
	if partition == "" {
		partition = "aws"
	}
	return "arn:" + partition + ":iam::" + account + ":role/" + s.Org.MemberRoleName
}

// Deployment reports whether a principal ARN is a built-in deployment
// principal (organization mode only).
func (s Settings) Deployment(arn string) bool {
	if !s.Org.Hub || arn == "" {
		return false
	}
	for _, p := range DeploymentPrincipals {
		if Glob(p, arn) {
			return true
		}
	}
	return false
}
