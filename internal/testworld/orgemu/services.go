package orgemu

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

func (o *Org) serve(w http.ResponseWriter, r *http.Request, p *Principal, service, region string) {
	q, err := decode(r, service, region)
	if err == nil {
		o.count(service, q.op)
	}
	var out any
	var xmlResult string
	var ev *emitted
	if err == nil {
		switch service {
		case "sts":
			xmlResult, err = o.sts(q, p)
		case "organizations":
			out, err = o.organizations(q, p)
		case "cloudtrail":
			out, ev, err = o.cloudtrail(q, p)
		case "events":
			out, ev, err = o.events(q, p)
		case "iam":
			xmlResult, ev, err = o.iam(q, p)
		default:
			err = errf(400, "UnknownOperationException", "orgemu does not serve %s", service)
		}
	}
	if err != nil {
		if q.query() {
			writeQueryError(w, err)
		} else {
			writeJSONError(w, err)
		}
		return
	}
	if q.query() {
		writeQuery(w, q.op, xmlResult)
	} else {
		writeJSON(w, out)
	}
	if ev != nil {
		o.emit(r.Context(), p, q, ev)
	}
}

// emitted describes the CloudTrail event a successful write produces.
type emitted struct {
	source, name, region string
}

func unknown(q request) error {
	return errf(400, "UnknownOperationException", "orgemu %s does not serve %s", q.service, q.op)
}

// account returns the caller's account state (o.mu held).
func (o *Org) accountLocked(p *Principal) (*Account, error) {
	a, ok := o.accounts[p.Account]
	if !ok {
		return nil, errf(403, "AccessDenied", "account %s is not in the organization", p.Account)
	}
	return a, nil
}

// --- CloudTrail ------------------------------------------------------------

func trailARN(account, region, name string) string {
	return "arn:aws:cloudtrail:" + region + ":" + account + ":trail/" + name
}

// findTrail resolves a trail name or ARN: its home region first, then a
// multi-region trail seen from another region (a shadow trail).
func findTrail(a *Account, region, ref string) (*Trail, string) {
	name := ref
	if i := strings.LastIndex(ref, ":trail/"); i >= 0 {
		name = ref[i+len(":trail/"):]
		if parts := strings.Split(ref, ":"); len(parts) > 3 && parts[3] != "" {
			region = parts[3]
		}
	}
	if t, ok := a.Trails[region][name]; ok {
		return t, region
	}
	for home, ts := range a.Trails {
		if t, ok := ts[name]; ok && t.MultiRegion {
			return t, home
		}
	}
	return nil, ""
}

func trailJSON(account, home string, t *Trail) map[string]any {
	return map[string]any{
		"Name": t.Name, "S3BucketName": t.Bucket, "IsMultiRegionTrail": t.MultiRegion, "IncludeGlobalServiceEvents": t.Global,
		"LogFileValidationEnabled": t.Validated, "IsOrganizationTrail": t.Organization, "HomeRegion": home,
		"TrailARN": trailARN(account, home, t.Name), "HasCustomEventSelectors": !t.ManagementEvents,
	}
}

func (o *Org) cloudtrail(q request, p *Principal) (any, *emitted, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	a, err := o.accountLocked(p)
	if err != nil {
		return nil, nil, err
	}
	ref := firstNonEmpty(q.str("Name"), q.str("TrailName"))
	write := &emitted{source: "cloudtrail.amazonaws.com", name: q.op, region: q.region}
	switch q.op {
	case "DescribeTrails":
		var list []map[string]any
		for home, ts := range a.Trails {
			for _, t := range ts {
				if home == q.region || t.MultiRegion {
					list = append(list, trailJSON(a.ID, home, t))
				}
			}
		}
		// An organization trail appears in every member account.
		for _, id := range o.order {
			if id == a.ID {
				continue
			}
			for home, ts := range o.accounts[id].Trails {
				for _, t := range ts {
					if t.Organization && (home == q.region || t.MultiRegion) {
						list = append(list, trailJSON(id, home, t))
					}
				}
			}
		}
		sort.Slice(list, func(i, j int) bool { return list[i]["TrailARN"].(string) < list[j]["TrailARN"].(string) })
		return map[string]any{"trailList": list}, nil, nil
	}
	t, home := findTrail(a, q.region, ref)
	holder := a.ID
	if t == nil {
		// An organization trail is visible in every member by its ARN.
		if parts := strings.Split(ref, ":"); len(parts) == 6 && parts[4] != a.ID && o.accounts[parts[4]] != nil {
			if ot, oh := findTrail(o.accounts[parts[4]], q.region, ref); ot != nil && ot.Organization {
				t, home, holder = ot, oh, parts[4]
			}
		}
	}
	if t == nil {
		return nil, nil, errf(400, "TrailNotFoundException", "unknown trail: %s for the user: %s", ref, a.ID)
	}
	switch q.op {
	case "GetTrail":
		return map[string]any{"Trail": trailJSON(holder, home, t)}, nil, nil
	case "GetTrailStatus":
		return map[string]any{"IsLogging": t.Logging}, nil, nil
	case "GetEventSelectors":
		return map[string]any{"TrailARN": trailARN(holder, home, t.Name), "EventSelectors": []map[string]any{
			{"ReadWriteType": "All", "IncludeManagementEvents": t.ManagementEvents, "DataResources": []any{}}}}, nil, nil
	case "StartLogging", "StopLogging":
		if holder != a.ID || (t.Organization && a.ID != o.Management) {
			return nil, nil, errf(400, "InvalidHomeRegionException", "an organization trail can be changed only from the management account")
		}
		t.Logging = q.op == "StartLogging"
		return nil, write, nil
	}
	return nil, nil, unknown(q)
}

// --- EventBridge -----------------------------------------------------------

func (o *Org) events(q request, p *Principal) (any, *emitted, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	a, err := o.accountLocked(p)
	if err != nil {
		return nil, nil, err
	}
	name := firstNonEmpty(q.str("Name"), q.str("Rule"))
	rule := a.Rules[q.region][name]
	if rule == nil {
		return nil, nil, errf(400, "ResourceNotFoundException", "Rule %s does not exist on EventBus default.", name)
	}
	write := &emitted{source: "events.amazonaws.com", name: q.op, region: q.region}
	switch q.op {
	case "DescribeRule":
		return map[string]any{"Name": rule.Name, "Arn": "arn:aws:events:" + q.region + ":" + a.ID + ":rule/" + rule.Name,
			"EventPattern": rule.Pattern, "State": rule.State, "EventBusName": "default"}, nil, nil
	case "ListTargetsByRule":
		var ts []map[string]any
		for i, arn := range rule.Targets {
			ts = append(ts, map[string]any{"Id": "t" + strconv.Itoa(i), "Arn": arn})
		}
		return map[string]any{"Targets": ts}, nil, nil
	case "EnableRule":
		rule.State = "ENABLED"
		return nil, write, nil
	case "DisableRule":
		rule.State = "DISABLED"
		return nil, write, nil
	case "RemoveTargets":
		rule.Targets = nil
		return map[string]any{"FailedEntryCount": 0}, write, nil
	case "DeleteRule":
		if len(rule.Targets) > 0 {
			return nil, nil, errf(400, "ValidationException", "Rule can't be deleted since it has targets.")
		}
		delete(a.Rules[q.region], name)
		return nil, write, nil
	}
	return nil, nil, unknown(q)
}

// --- IAM -------------------------------------------------------------------

func (o *Org) iam(q request, p *Principal) (string, *emitted, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	a, err := o.accountLocked(p)
	if err != nil {
		return "", nil, err
	}
	// IAM is global: its events are delivered in us-east-1.
	write := &emitted{source: "iam.amazonaws.com", name: q.op, region: "us-east-1"}
	user := func() (*User, error) {
		u := a.Users[q.str("UserName")]
		if u == nil {
			return nil, errf(404, "NoSuchEntity", "The user with name %s cannot be found.", q.str("UserName"))
		}
		return u, nil
	}
	role := func() (*Role, error) {
		r := a.Roles[q.str("RoleName")]
		if r == nil {
			return nil, errf(404, "NoSuchEntity", "The role with name %s cannot be found.", q.str("RoleName"))
		}
		return r, nil
	}
	switch q.op {
	case "ListAccountAliases":
		var m string
		if a.Alias != "" {
			m = tag("member", a.Alias)
		}
		return "<AccountAliases>" + m + "</AccountAliases><IsTruncated>false</IsTruncated>", nil, nil
	case "AttachUserPolicy":
		u, err := user()
		if err != nil {
			return "", nil, err
		}
		for _, x := range u.Attached {
			if x == q.str("PolicyArn") {
				return "", write, nil
			}
		}
		u.Attached = append(u.Attached, q.str("PolicyArn"))
		return "", write, nil
	case "UpdateAccessKey":
		u, err := user()
		if err != nil {
			return "", nil, err
		}
		if _, ok := u.Keys[q.str("AccessKeyId")]; !ok {
			return "", nil, errf(404, "NoSuchEntity", "The Access Key with id %s cannot be found.", q.str("AccessKeyId"))
		}
		u.Keys[q.str("AccessKeyId")] = q.str("Status")
		return "", write, nil
	case "PutRolePolicy":
		r, err := role()
		if err != nil {
			return "", nil, err
		}
		r.Inline[q.str("PolicyName")] = q.str("PolicyDocument")
		return "", write, nil
	case "GetRolePolicy":
		r, err := role()
		if err != nil {
			return "", nil, err
		}
		doc, ok := r.Inline[q.str("PolicyName")]
		if !ok {
			return "", nil, errf(404, "NoSuchEntity", "The role policy with name %s cannot be found.", q.str("PolicyName"))
		}
		return tag("RoleName", r.Name) + tag("PolicyName", q.str("PolicyName")) + tag("PolicyDocument", url.QueryEscape(doc)), nil, nil
	}
	return "", nil, unknown(q)
}

// --- Organizations ---------------------------------------------------------

func (o *Org) organizations(q request, p *Principal) (any, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if p.Account != o.Management && !o.delegatedLocked(p.Account) {
		return nil, errf(400, "AccessDeniedException", "account %s is neither the management account nor a delegated administrator", p.Account)
	}
	desc := func(id string) map[string]any {
		a := o.accounts[id]
		return map[string]any{"Id": a.ID, "Name": a.Name, "Email": a.Email, "Status": "ACTIVE",
			"Arn":             "arn:aws:organizations::" + o.Management + ":account/" + o.ID + "/" + a.ID,
			"JoinedTimestamp": float64(time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC).Unix())}
	}
	switch q.op {
	case "DescribeAccount":
		id := q.str("AccountId")
		if _, ok := o.accounts[id]; !ok {
			return nil, errf(400, "AccountNotFoundException", "account %s is not in the organization", id)
		}
		return map[string]any{"Account": desc(id)}, nil
	case "ListAccounts":
		const page = 20 // Organizations returns at most 20 accounts a page
		start := 0
		if t := q.str("NextToken"); t != "" {
			start, _ = strconv.Atoi(t)
		}
		var list []map[string]any
		end := min(start+page, len(o.order))
		for _, id := range o.order[start:end] {
			list = append(list, desc(id))
		}
		out := map[string]any{"Accounts": list}
		if end < len(o.order) {
			out["NextToken"] = strconv.Itoa(end)
		}
		return out, nil
	case "ListParents":
		child := q.str("ChildId")
		parent := ""
		if a, ok := o.accounts[child]; ok {
			parent = a.Parent
		} else if pr, ok := o.ous[child]; ok {
			parent = pr
		} else {
			return nil, errf(400, "ChildNotFoundException", "%s is not in the organization", child)
		}
		typ := "ORGANIZATIONAL_UNIT"
		if parent == o.Root {
			typ = "ROOT"
		}
		return map[string]any{"Parents": []map[string]any{{"Id": parent, "Type": typ}}}, nil
	}
	return nil, unknown(q)
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
