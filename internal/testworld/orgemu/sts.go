package orgemu

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Delegate registers account as a delegated administrator (it may then read
// the organization, as the hub does from a security account).
func (o *Org) Delegate(account string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.delegated == nil {
		o.delegated = map[string]bool{}
	}
	o.delegated[account] = true
}

func (o *Org) delegatedLocked(account string) bool { return o.delegated[account] }

// PutTrail creates or replaces a trail in its home region.
func (a *Account) PutTrail(region string, t Trail) *Trail {
	if a.Trails[region] == nil {
		a.Trails[region] = map[string]*Trail{}
	}
	a.Trails[region][t.Name] = &t
	return &t
}

// PutRule creates or replaces a rule on the default bus of a region.
func (a *Account) PutRule(region string, r Rule) {
	if a.Rules[region] == nil {
		a.Rules[region] = map[string]*Rule{}
	}
	if r.State == "" {
		r.State = "ENABLED"
	}
	a.Rules[region][r.Name] = &r
}

// PutRole creates or replaces a role with its trust policy.
func (a *Account) PutRole(name, trust string) {
	a.Roles[name] = &Role{Name: name, Trust: trust, Inline: map[string]string{}}
}

func (o *Org) sts(q request, p *Principal) (string, error) {
	switch q.op {
	case "GetCallerIdentity":
		return tag("Arn", p.ARN) + tag("UserId", p.AccessKeyID) + tag("Account", p.Account), nil
	case "AssumeRole":
		return o.assumeRole(q, p)
	}
	return "", unknown(q)
}

func (o *Org) assumeRole(q request, p *Principal) (string, error) {
	roleARN := q.str("RoleArn")
	parts := strings.SplitN(roleARN, ":", 6)
	if len(parts) != 6 || parts[2] != "iam" || !strings.HasPrefix(parts[5], "role/") {
		return "", errf(400, "ValidationError", "%s is not a role ARN", roleARN)
	}
	account, name := parts[4], parts[5][strings.LastIndex(parts[5], "/")+1:]
	session := q.str("RoleSessionName")
	denied := errf(403, "AccessDenied", "User: %s is not authorized to perform: sts:AssumeRole on resource: %s", p.ARN, roleARN)
	o.mu.Lock()
	defer o.mu.Unlock()
	a, ok := o.accounts[account]
	if !ok {
		return "", denied
	}
	role := a.Roles[name]
	if role == nil || !o.trusts(role.Trust, p, q.str("ExternalId")) {
		return "", denied
	}
	dur := 3600
	if d, err := strconv.Atoi(q.str("DurationSeconds")); err == nil && d > 0 {
		dur = d
	}
	np := o.newKeyLocked("ASIA", &Principal{Account: account, Type: "AssumedRole", RoleName: name, Session: session,
		ARN: "arn:aws:sts::" + account + ":assumed-role/" + name + "/" + session, Expires: time.Now().Add(time.Duration(dur) * time.Second)})
	np.Token = "orgemu-token-" + np.AccessKeyID
	return "<Credentials>" + tag("AccessKeyId", np.AccessKeyID) + tag("SecretAccessKey", np.Secret) + tag("SessionToken", np.Token) +
		tag("Expiration", np.Expires.UTC().Format(time.RFC3339)) + "</Credentials>" +
		"<AssumedRoleUser>" + tag("AssumedRoleId", "AROA"+np.AccessKeyID[4:]+":"+session) + tag("Arn", np.ARN) + "</AssumedRoleUser>", nil
}

// trusts evaluates a trust policy for the caller: an Allow statement for
// sts:AssumeRole whose AWS principal names the caller (its role, its user,
// its account's root or its account id) and whose every condition holds.
// Conditions other than StringEquals on aws:PrincipalOrgID and sts:ExternalId
// are not understood and make the statement not apply: an emulator that
// cannot evaluate a condition must refuse, not allow.
func (o *Org) trusts(doc string, p *Principal, externalID string) bool {
	var pol struct {
		Statement json.RawMessage
	}
	if json.Unmarshal([]byte(doc), &pol) != nil {
		return false
	}
	type stmt struct {
		Effect    string
		Action    any
		Principal map[string]any
		Condition map[string]map[string]any
	}
	var ss []stmt
	if json.Unmarshal(pol.Statement, &ss) != nil {
		var s stmt
		if json.Unmarshal(pol.Statement, &s) != nil {
			return false
		}
		ss = []stmt{s}
	}
	caller := []string{p.ARN, p.Account, "arn:aws:iam::" + p.Account + ":root"}
	if p.Type == "AssumedRole" {
		caller = append(caller, "arn:aws:iam::"+p.Account+":role/"+p.RoleName)
	}
	ctx := map[string]string{"aws:PrincipalOrgID": "", "sts:ExternalId": externalID}
	if _, in := o.accounts[p.Account]; in {
		ctx["aws:PrincipalOrgID"] = o.ID
	}
	for _, s := range ss {
		if s.Effect != "Allow" || !anyOf(s.Action, "sts:AssumeRole") || !anyOf(s.Principal["AWS"], caller...) {
			continue
		}
		ok := true
		for op, kv := range s.Condition {
			for k, v := range kv {
				got, known := ctx[k]
				if op != "StringEquals" || !known || got == "" || !anyOf(v, got) {
					ok = false
				}
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// anyOf reports whether v (a string or a list of strings) holds one of want.
func anyOf(v any, want ...string) bool {
	var vals []string
	switch x := v.(type) {
	case string:
		vals = []string{x}
	case []any:
		for _, e := range x {
			if s, ok := e.(string); ok {
				vals = append(vals, s)
			}
		}
	}
	for _, s := range vals {
		for _, w := range want {
			if s == w {
				return true
			}
		}
	}
	return false
}

// IssueSession returns credentials of a session of role in account, as if
// the role had been assumed (the hub's responder role, which Lambda gives
// the function). The role need not exist.
func (o *Org) IssueSession(account, role, session string) aws.Credentials {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.AddAccountLocked(account)
	p := o.newKeyLocked("ASIA", &Principal{Account: account, Type: "AssumedRole", RoleName: role, Session: session,
		ARN: "arn:aws:sts::" + account + ":assumed-role/" + role + "/" + session})
	p.Token = "orgemu-token-" + p.AccessKeyID
	return aws.Credentials{AccessKeyID: p.AccessKeyID, SecretAccessKey: p.Secret, SessionToken: p.Token, Source: "orgemu"}
}
