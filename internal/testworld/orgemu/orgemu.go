// Package orgemu is a multi-account AWS Organization for tests: many member
// accounts with separate state behind one loopback endpoint, reached by the
// real AWS SDK. It exists because kumo (package testworld) keeps one account
// per process and its services are process-wide singletons, so two kumo
// servers cannot hold two accounts.
//
// # Routing by credentials
//
// Every request is signed (SigV4); its access key names the caller. The org
// issues every member key itself — long-term keys for the accounts' users
// (CreateUser) and temporary ones from its STS AssumeRole — so the key alone
// gives the account the request acts in and the principal making it.
// Requests signed with a key the org did not issue (the hub's kumo
// credentials) go to the fallback handler (the hub's kumo front) unchanged,
// except STS and Organizations, which the org always answers: the hub is an
// account of the organization like any other.
//
// # What the doubles serve
//
// Only what trailguard's hub needs in a member account, per account and
// region: STS AssumeRole (refusing a role whose trust policy does not name
// the caller or whose conditions — aws:PrincipalOrgID, sts:ExternalId — do
// not hold) and GetCallerIdentity; CloudTrail StartLogging, StopLogging,
// GetTrail, GetTrailStatus, GetEventSelectors, DescribeTrails; IAM
// AttachUserPolicy, UpdateAccessKey, PutRolePolicy, GetRolePolicy,
// ListAccountAliases; EventBridge DescribeRule, ListTargetsByRule,
// EnableRule, DisableRule, DeleteRule, RemoveTargets; Organizations
// ListAccounts, DescribeAccount, ListParents. Anything else is refused with
// UnknownOperationException, so a test cannot pass by accident.
//
// # Events
//
// A successful write in a member account produces the CloudTrail record AWS
// would (who, what, where, the request), matched against the account's
// EventBridge rules in that region: a rule targeting an event bus (the spoke
// rules forwarding to the hub) hands the whole EventBridge envelope to
// Org.Forward. A deleted or disabled rule forwards nothing, as in AWS.
//
// Every request is counted per service and operation (Calls), which is how
// the scale measurement counts API calls.
package orgemu

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Region is the default region of clients built by Config.
const Region = "us-east-1"

// Org is a running organization. Close it when done.
type Org struct {
	// URL is the endpoint of every account: "http://127.0.0.1:<port>".
	URL string
	// ID is the organization id (o-...); Root its root (r-...).
	ID, Root string
	// Management is the management account's id.
	Management string
	// Forward receives the EventBridge envelope of every event a rule in a
	// member account sends to an event bus (the hub). Set it before the
	// first write; nil drops them.
	Forward func(ctx context.Context, envelope []byte) error

	fallback http.Handler
	srv      *http.Server
	ln       net.Listener
	done     chan struct{}

	mu        sync.Mutex
	accounts  map[string]*Account
	order     []string
	ous       map[string]string // OU id -> parent id
	keys      map[string]*Principal
	calls     map[string]int
	seq       int
	forwards  []error
	delegated map[string]bool
}

// Principal is who a key belongs to.
type Principal struct {
	Account string
	// ARN is the caller's ARN (user, or assumed-role session).
	ARN string
	// Type is CloudTrail's userIdentity.type: IAMUser or AssumedRole.
	Type string
	// UserName (IAMUser) or RoleName/Session (AssumedRole).
	UserName, RoleName, Session string
	AccessKeyID, Secret, Token  string
	Expires                     time.Time
	Hub                         bool
}

// Account is one member account's state.
type Account struct {
	ID, Name, Email, Parent string
	Alias                   string
	Users                   map[string]*User
	Roles                   map[string]*Role
	// Trails by region, then name.
	Trails map[string]map[string]*Trail
	// Rules by region, then name.
	Rules map[string]map[string]*Rule
}

// User is an IAM user.
type User struct {
	Name     string
	Keys     map[string]string // key id -> Active|Inactive
	Attached []string
}

// Role is an IAM role with its trust policy and inline policies.
type Role struct {
	Name   string
	Trust  string
	Inline map[string]string
}

// Trail is a CloudTrail trail.
type Trail struct {
	Name, Bucket                   string
	MultiRegion, Global, Validated bool
	Organization                   bool
	Logging                        bool
	ManagementEvents               bool
}

// Rule is an EventBridge rule on the default bus.
type Rule struct {
	Name, Pattern, State string
	Targets              []string // target ARNs
}

// Option configures Start.
type Option func(*Org)

// WithFallback sends requests signed with keys the org did not issue (and
// that are not STS or Organizations) to h, e.g. the hub's kumo front.
func WithFallback(h http.Handler) Option { return func(o *Org) { o.fallback = h } }

// Start runs an organization with a management account and no members.
func Start(ctx context.Context, management string, opts ...Option) (*Org, error) {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen on loopback: %w", err)
	}
	o := &Org{
		URL: "http://" + ln.Addr().String(), ID: "o-exampleorg1", Root: "r-ex01", Management: management,
		ln: ln, done: make(chan struct{}),
		accounts: map[string]*Account{}, ous: map[string]string{}, keys: map[string]*Principal{}, calls: map[string]int{},
	}
	for _, f := range opts {
		f(o)
	}
	o.AddAccount(management, "management", o.Root)
	o.srv = &http.Server{Handler: o, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(o.done)
		_ = o.srv.Serve(ln)
	}()
	return o, nil
}

// Close stops the server.
func (o *Org) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := o.srv.Shutdown(ctx); err != nil {
		_ = o.srv.Close()
	}
	<-o.done
}

// AddOU creates an organizational unit under parent (the root or an OU).
func (o *Org) AddOU(id, parent string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.ous[id] = parent
}

// AddAccount creates an account under parent (the root or an OU id).
func (o *Org) AddAccount(id, name, parent string) *Account {
	o.mu.Lock()
	defer o.mu.Unlock()
	if a, ok := o.accounts[id]; ok {
		return a
	}
	a := &Account{ID: id, Name: name, Email: name + "@example.com", Parent: parent,
		Users: map[string]*User{}, Roles: map[string]*Role{},
		Trails: map[string]map[string]*Trail{}, Rules: map[string]map[string]*Rule{}}
	o.accounts[id] = a
	o.order = append(o.order, id)
	return a
}

// Do runs f on an account's state under the org's lock (setup and
// assertions). It fails when the account does not exist.
func (o *Org) Do(account string, f func(*Account)) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	a, ok := o.accounts[account]
	if !ok {
		return fmt.Errorf("no account %s", account)
	}
	f(a)
	return nil
}

// CreateUser creates an IAM user with an active access key and returns the
// key's credentials.
func (o *Org) CreateUser(account, name string) (aws.Credentials, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	a, ok := o.accounts[account]
	if !ok {
		return aws.Credentials{}, fmt.Errorf("no account %s", account)
	}
	p := o.newKeyLocked("AKIA", &Principal{Account: account, Type: "IAMUser", UserName: name,
		ARN: "arn:aws:iam::" + account + ":user/" + name})
	u := a.Users[name]
	if u == nil {
		u = &User{Name: name, Keys: map[string]string{}}
		a.Users[name] = u
	}
	u.Keys[p.AccessKeyID] = "Active"
	return aws.Credentials{AccessKeyID: p.AccessKeyID, SecretAccessKey: p.Secret, Source: "orgemu"}, nil
}

// HubIdentity registers the credentials the hub's responder signs with (the
// fallback's static key) as a session of role in account: the org's STS
// then knows who calls AssumeRole. Requests with that key other than STS and
// Organizations still go to the fallback.
func (o *Org) HubIdentity(accessKeyID, account, role, session string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.AddAccountLocked(account)
	o.keys[accessKeyID] = &Principal{Account: account, Type: "AssumedRole", RoleName: role, Session: session,
		ARN: "arn:aws:sts::" + account + ":assumed-role/" + role + "/" + session, AccessKeyID: accessKeyID, Hub: true}
}

// AddAccountLocked makes sure an account exists (o.mu held).
func (o *Org) AddAccountLocked(id string) {
	if _, ok := o.accounts[id]; ok {
		return
	}
	o.accounts[id] = &Account{ID: id, Name: "account-" + id, Parent: o.Root, Users: map[string]*User{}, Roles: map[string]*Role{},
		Trails: map[string]map[string]*Trail{}, Rules: map[string]map[string]*Rule{}}
	o.order = append(o.order, id)
}

func (o *Org) newKeyLocked(prefix string, p *Principal) *Principal {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	p.AccessKeyID = prefix + strings.ToUpper(hex.EncodeToString(b))
	s := make([]byte, 20)
	_, _ = rand.Read(s)
	p.Secret = hex.EncodeToString(s)
	o.keys[p.AccessKeyID] = p
	return p
}

// Config returns SDK settings for credentials issued by the org.
func (o *Org) Config(c aws.Credentials) aws.Config {
	return aws.Config{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken),
		BaseEndpoint: aws.String(o.URL),
	}
}

// Calls returns how many requests each "service Operation" received.
func (o *Org) Calls() map[string]int {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make(map[string]int, len(o.calls))
	for k, v := range o.calls {
		out[k] = v
	}
	return out
}

// ResetCalls forgets the call counts.
func (o *Org) ResetCalls() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls = map[string]int{}
}

// Accounts returns the account ids in creation order.
func (o *Org) Accounts() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.order...)
}

// ForwardErrors returns the errors Forward returned, if any.
func (o *Org) ForwardErrors() []error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]error(nil), o.forwards...)
}

// apiError is an AWS error answer.
type apiError struct {
	status        int
	code, message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func errf(status int, code, format string, a ...any) error {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, a...)}
}

// ServeHTTP routes a request by its signing key and service.
func (o *Org) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key, service, region := signer(r)
	o.mu.Lock()
	p := o.keys[key]
	inactive := p != nil && p.Type == "IAMUser" && o.accounts[p.Account] != nil &&
		o.accounts[p.Account].Users[p.UserName] != nil && o.accounts[p.Account].Users[p.UserName].Keys[key] == "Inactive"
	o.mu.Unlock()
	if inactive { // a deactivated key authenticates nothing, as in AWS
		writeJSONError(w, errf(http.StatusForbidden, "InvalidClientTokenId", "the security token included in the request is invalid"))
		return
	}
	own := service == "sts" || service == "organizations"
	if !own && (p == nil || p.Hub) {
		if o.fallback == nil {
			writeJSONError(w, errf(http.StatusForbidden, "UnrecognizedClientException", "the security token included in the request is invalid"))
			return
		}
		o.fallback.ServeHTTP(w, r)
		return
	}
	if p == nil {
		writeQueryError(w, errf(http.StatusForbidden, "InvalidClientTokenId", "the security token included in the request is invalid"))
		return
	}
	if !p.Expires.IsZero() && time.Now().After(p.Expires) {
		writeQueryError(w, errf(http.StatusForbidden, "ExpiredToken", "the security token included in the request is expired"))
		return
	}
	if region == "" {
		region = Region
	}
	o.serve(w, r, p, service, region)
}

// signer reads the access key, service and region from a SigV4
// Authorization header.
func signer(r *http.Request) (key, service, region string) {
	h := r.Header.Get("Authorization")
	i := strings.Index(h, "Credential=")
	if i < 0 {
		return "", "", ""
	}
	cred := h[i+len("Credential="):]
	if j := strings.IndexAny(cred, ", "); j >= 0 {
		cred = cred[:j]
	}
	parts := strings.Split(cred, "/")
	if len(parts) < 5 {
		return "", "", ""
	}
	return parts[0], parts[3], parts[2]
}

func (o *Org) count(service, op string) {
	o.mu.Lock()
	o.calls[service+" "+op]++
	o.mu.Unlock()
}

// CallSummary renders Calls sorted, one "service Operation n" per line.
func CallSummary(calls map[string]int) string {
	keys := make([]string, 0, len(calls))
	for k := range calls {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s %d\n", k, calls[k])
	}
	return b.String()
}
