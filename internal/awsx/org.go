package awsx

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/respond"
	"github.com/trailguard/trailguard/internal/trail"
)

// Organization mode: the hub acts in a member account through the member
// role there. Each account's clients are built once, on the account's first
// event, with credentials that are fetched on first use and cached until
// shortly before they expire: a warm path makes no STS call before the
// restore, and a cold one makes exactly one (AssumeRole), inside the
// restore's own first call.

// MemberCredentialsDuration is how long assumed member credentials last.
const MemberCredentialsDuration = time.Hour

// MemberCredentialsRefresh is how long before expiry they are renewed, so
// that no action ever starts with credentials about to lapse.
const MemberCredentialsRefresh = 5 * time.Minute

// OrganizationsAPI is the part of Organizations the hub reads: account names
// for alerts, and parents for scoping by OU.
type OrganizationsAPI interface {
	DescribeAccount(context.Context, *organizations.DescribeAccountInput, ...func(*organizations.Options)) (*organizations.DescribeAccountOutput, error)
	ListParents(context.Context, *organizations.ListParentsInput, ...func(*organizations.Options)) (*organizations.ListParentsOutput, error)
	ListAccounts(context.Context, *organizations.ListAccountsInput, ...func(*organizations.Options)) (*organizations.ListAccountsOutput, error)
}

// OrgAccounts lists the organization's active accounts (the hub must be the
// management account or a delegated administrator).
type OrgAccounts struct{ API OrganizationsAPI }

// Accounts implements respond.AccountLister.
func (l OrgAccounts) Accounts(ctx context.Context) ([]respond.OrgAccount, error) {
	var out []respond.OrgAccount
	p := organizations.NewListAccountsPaginator(l.API, &organizations.ListAccountsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list the organization's accounts: %w", err)
		}
		for _, a := range page.Accounts {
			if a.Status == "" || a.Status == orgtypes.AccountStatusActive {
				out = append(out, respond.OrgAccount{ID: aws.ToString(a.Id), Name: aws.ToString(a.Name)})
			}
		}
	}
	return out, nil
}

// MemberClients is the hub's respond.ClientProvider: the hub's own clients
// for the hub's account, the member role's elsewhere.
type MemberClients struct {
	settings  config.Settings
	base      aws.Config
	sts       stscreds.AssumeRoleAPIClient
	orgs      OrganizationsAPI
	hub       respond.Set
	hubID     string
	partition string

	mu sync.Mutex
	m  map[string]respond.Set
}

// NewMemberClients builds the provider. base is the hub's AWS configuration
// (region, endpoint, retries); hub are the hub's own clients; the hub's
// account and partition come from the responder's own role ARN.
func NewMemberClients(s config.Settings, base aws.Config, stsAPI stscreds.AssumeRoleAPIClient, orgs OrganizationsAPI, hub Clients) *MemberClients {
	self, _ := trail.ParseARN(s.SelfRoleARN)
	m := &MemberClients{settings: s, base: base, sts: stsAPI, orgs: orgs, hubID: self.Account, partition: self.Partition, m: map[string]respond.Set{}}
	m.hub = m.set(self.Account, hub)
	return m
}

// Clients returns the account's clients. It makes no network call, except
// to look up the account's OUs once when the settings scope by OU.
func (m *MemberClients) Clients(ctx context.Context, account string) (respond.Set, error) {
	if !config.ValidAccountID(account) {
		return respond.Set{}, fmt.Errorf("%q is not an account id", account)
	}
	m.mu.Lock()
	s, ok := m.m[account]
	m.mu.Unlock()
	if ok {
		return s, nil
	}
	if account == m.hubID {
		s = m.hub
	} else {
		cfg := m.memberConfig(account)
		s = m.set(account, NewClients(cfg))
		s.Access = func(ctx context.Context) error {
			_, err := cfg.Credentials.Retrieve(ctx)
			return err
		}
	}
	if m.settings.NeedsOUs() {
		ous, err := m.parents(ctx, account)
		if err != nil {
			return respond.Set{}, fmt.Errorf("find the OUs of account %s: %w", account, err)
		}
		s.OUs = ous
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if prev, ok := m.m[account]; ok {
		return prev, nil
	}
	m.m[account] = s
	return s, nil
}

// RoleARN is the member role the hub assumes in account.
func (m *MemberClients) RoleARN(account string) string {
	return m.settings.MemberRoleARN(m.partition, account)
}

// memberConfig is the hub's configuration with the member role's cached
// credentials.
func (m *MemberClients) memberConfig(account string) aws.Config {
	cfg := m.base.Copy()
	p := stscreds.NewAssumeRoleProvider(m.sts, m.RoleARN(account), func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = config.MemberSessionName
		o.Duration = MemberCredentialsDuration
		if m.settings.Org.ExternalID != "" {
			o.ExternalID = aws.String(m.settings.Org.ExternalID)
		}
	})
	cfg.Credentials = aws.NewCredentialsCache(p, func(o *aws.CredentialsCacheOptions) { o.ExpiryWindow = MemberCredentialsRefresh })
	return cfg
}

func (m *MemberClients) set(account string, c Clients) respond.Set {
	return respond.Set{
		CloudTrail: c.CloudTrail,
		IAM:        c.IAM,
		Resources:  respond.Resources{Trails: c.CloudTrail, S3: c.S3, KMS: c.KMS, Logs: c.Logs, Events: c.Events},
		Name:       AccountName(m.orgs, account),
	}
}

// parents lists the OUs above an account, nearest first, up to the root.
func (m *MemberClients) parents(ctx context.Context, account string) ([]string, error) {
	var ous []string
	child := account
	for range 6 { // Organizations nests OUs at most five deep
		out, err := m.orgs.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String(child)})
		if err != nil {
			return nil, err
		}
		if len(out.Parents) == 0 || out.Parents[0].Type == orgtypes.ParentTypeRoot {
			break
		}
		child = aws.ToString(out.Parents[0].Id)
		ous = append(ous, child)
	}
	return ous, nil
}

// AccountName returns a function that looks an account's name up in
// Organizations once, on first use, and remembers it (a failed lookup as
// ""): names only decorate alerts and must not cost a call per event.
func AccountName(api OrganizationsAPI, account string) func(context.Context) string {
	var once sync.Once
	var name string
	return func(ctx context.Context) string {
		if api == nil {
			return ""
		}
		once.Do(func() {
			out, err := api.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(account)})
			if err == nil && out.Account != nil {
				name = aws.ToString(out.Account.Name)
			}
		})
		return name
	}
}
