// Package guardrails turns the tamper catalog into AWS Organizations
// policies that deny the tampering calls outright, so that most attacks never
// need a response.
//
// A service control policy (SCP) binds the principals of the member
// accounts; a resource control policy (RCP) binds whoever calls a resource of
// those accounts, from any account, but AWS supports RCPs only for S3, STS,
// KMS, SQS and Secrets Manager, so the trail's bucket and key get both. Every
// denied action comes from the catalog's IAM action map
// (catalog.IAMPermission): a catalog row added is a guardrail added.
//
// Three rules shape the policies:
//   - Restores stay possible. A restore that is not itself tampering
//     (StartLogging, EnableKey, CancelKeyDeletion, EnableRule, …) is never
//     denied; the ones that are (UpdateTrail, PutEventSelectors, PutBucketPolicy,
//     s3:PutLifecycleConfiguration) are denied to everyone but the exempt
//     principals, trailguard's responder first.
//   - A guardrail cannot read a call's content, so the calls the responder
//     judges by content (a 400-day lifecycle rule is fine, a 1-day one is
//     not) become plain denies, scoped to the protected resources' ARNs only.
//   - Exemptions are one ArnNotLike aws:PrincipalARN condition per statement:
//     the responder's and member roles, the allow list (break-glass), and the
//     roles deployments run as (StackSets, Control Tower, CDK).
//
// What no policy can protect is said, not hidden: Unprotected lists it.
package guardrails

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/trailguard/trailguard/internal/catalog"
)

// MaxPolicySize is the largest SCP or RCP document AWS Organizations accepts,
// in characters, whitespace included (the documents here are minified).
const MaxPolicySize = 5120

// Type is an AWS Organizations policy type, spelled as its API spells it.
type Type string

// Policy types.
const (
	SCP Type = "SERVICE_CONTROL_POLICY"
	RCP Type = "RESOURCE_CONTROL_POLICY"
)

// rcpServices are the services RCPs support, by IAM prefix.
var rcpServices = map[string]bool{"s3": true, "sts": true, "kms": true, "sqs": true, "secretsmanager": true}

// Input names what to protect and whom to exempt. Resources may be given by
// name (then Account and Region build their ARNs) or by ARN.
type Input struct {
	// Partition defaults to "aws".
	Partition string
	// Account and Region complete resources given by name.
	Account, Region string
	// Trails are the protected trails (name or ARN), with what they depend on.
	Trails []Trail
	// EventDataStores are protected CloudTrail Lake stores (ARNs).
	EventDataStores []string
	// Rules are trailguard's EventBridge rules (names or ARNs).
	Rules []string
	// Functions are trailguard's responder functions (names or ARNs).
	Functions []string
	// Topics are trailguard's alert topics (names or ARNs).
	Topics []string
	// ResponderRoleARN is trailguard's responder role: exempt, and protected
	// from changes. Required: without it the responder's own restores of
	// UpdateTrail or PutBucketPolicy would be denied.
	ResponderRoleARN string
	// MemberRoleARN is the role trailguard assumes in member accounts
	// (organization mode), if any: exempt, and protected from changes.
	MemberRoleARN string
	// Allow are the break-glass principals (TRAILGUARD_ALLOW): ARNs or globs.
	Allow []string
}

// Trail is a protected trail and what it depends on.
type Trail struct {
	// Name is the trail's name or ARN.
	Name string
	// Region is the trail's home region (default Input.Region).
	Region string
	// Bucket is the trail's S3 bucket name.
	Bucket string
	// Key is the trail's KMS key (ID or ARN).
	Key string
	// LogGroup is the trail's CloudWatch Logs log group (name or ARN).
	LogGroup string
}

// Policy is one generated policy.
type Policy struct {
	Name string `json:"name"`
	Type Type   `json:"type"`
	// Document is the minified policy document.
	Document json.RawMessage `json:"document"`
	// Statements explain the document's statements, in its order.
	Statements []Explanation `json:"-"`
}

// Explanation says what one statement denies and why.
type Explanation struct {
	Sid       string
	Actions   []string
	Resources []string
	// Why are the catalog's reasons, one per denied event.
	Why []string
}

// Exemption is a principal pattern every statement leaves alone.
type Exemption struct {
	Pattern string
	Why     string
}

// Result is the generated policies and what they leave unprotected.
type Result struct {
	Policies []Policy
	// Exempt are the principals no statement denies.
	Exempt []Exemption
	// NeverDenied are the restores' IAM actions no statement denies to
	// anyone; Reserved the restores that are tampering too, left to Exempt.
	NeverDenied, Reserved []string
	// Unprotected says what these policies cannot protect, and why.
	Unprotected []string
}

// Document is an IAM policy document as SCPs and RCPs take it.
type Document struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one policy statement. Principal is set only in RCPs, where it
// must be "*".
type Statement struct {
	Sid       string                    `json:"Sid"`
	Effect    string                    `json:"Effect"`
	Principal string                    `json:"Principal,omitempty"`
	Action    []string                  `json:"Action"`
	Resource  []string                  `json:"Resource"`
	Condition map[string]map[string]any `json:"Condition,omitempty"`
}

// kind is one protected resource kind: which catalog rows it gathers and
// where its ARNs come from.
type kind struct {
	resource catalog.Resource
	sid      string
	// flag names the input that gives its resources, for Unprotected.
	flag string
}

// kinds, in the order statements appear.
var kinds = []kind{
	{catalog.Trail, "DenyTrailTampering", "--trail"},
	{catalog.EventDataStore, "DenyEventDataStoreTampering", "--event-data-store"},
	{catalog.Bucket, "DenyTrailBucketTampering", "--bucket"},
	{catalog.Key, "DenyTrailKeyTampering", "--kms-key"},
	{catalog.LogGroup, "DenyTrailLogGroupTampering", "--log-group"},
	{catalog.Organization, "DenyLeavingTheOrganization", ""},
	{catalog.EventRule, "DenyRuleTampering", "--rule"},
	{catalog.Function, "DenyResponderTampering", "--function"},
	{catalog.Topic, "DenyTopicTampering", "--topic"},
	{catalog.Role, "DenyResponderRoleChanges", "--responder-role-arn"},
	// Undoing a containment: every action says why no policy here denies it.
	{catalog.Contained, "DenyContainmentLifting", ""},
	{catalog.Alarm, "DenyAlarmTampering", ""},
}

// Generate builds the policies for in. Bad input is an error and nothing is
// generated.
func Generate(in Input) (Result, error) {
	r, err := in.resolve()
	if err != nil {
		return Result{}, err
	}
	exempt := r.exemptions()
	patterns := make([]string, len(exempt))
	for i, e := range exempt {
		patterns[i] = e.Pattern
	}

	res := Result{Exempt: exempt}
	var scp, rcp []Statement
	var scpWhy, rcpWhy []Explanation
	denied := map[string]bool{}
	for _, k := range kinds {
		actions, why, noDeny := kindActions(k.resource)
		res.Unprotected = append(res.Unprotected, noDeny...)
		if len(actions) == 0 {
			continue
		}
		arns := r.arns[k.resource]
		if len(arns) == 0 {
			res.Unprotected = append(res.Unprotected, fmt.Sprintf("%s: no %s given (%s)", strings.Join(actions, ", "), k.resource, k.flag))
			continue
		}
		for _, a := range actions {
			denied[a] = true
		}
		st := Statement{
			Sid: k.sid, Effect: "Deny", Action: actions, Resource: arns,
			Condition: map[string]map[string]any{"ArnNotLike": {"aws:PrincipalARN": patterns}},
		}
		scp = append(scp, st)
		scpWhy = append(scpWhy, Explanation{Sid: st.Sid, Actions: actions, Resources: arns, Why: why})
		if rcpCovers(actions) {
			rs := st
			rs.Sid = strings.Replace(st.Sid, "Deny", "DenyAnyAccount", 1)
			rs.Principal = "*"
			rs.Condition = map[string]map[string]any{
				"ArnNotLike": {"aws:PrincipalARN": patterns},
				// AWS services acting for the account (CloudTrail delivering,
				// S3 replicating) carry no principal ARN: leave them alone.
				"BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
			}
			rcp = append(rcp, rs)
			rcpWhy = append(rcpWhy, Explanation{Sid: rs.Sid, Actions: actions, Resources: arns, Why: why})
		}
	}
	if len(scp) == 0 {
		return Result{}, errors.New("nothing to protect: name at least a trail, bucket, key, rule, function or topic")
	}

	for _, p := range []struct {
		name string
		typ  Type
		st   []Statement
		why  []Explanation
	}{{"trailguard-deny-tampering", SCP, scp, scpWhy}, {"trailguard-protect-trail-resources", RCP, rcp, rcpWhy}} {
		if len(p.st) == 0 {
			continue
		}
		pols, err := pack(p.name, p.typ, p.st, p.why)
		if err != nil {
			return Result{}, err
		}
		res.Policies = append(res.Policies, pols...)
	}

	restores := map[string]bool{}
	for _, e := range catalog.All() {
		for _, a := range catalog.RestoreActions(e.Response) {
			restores[a] = true
		}
	}
	for a := range restores {
		if denied[a] {
			res.Reserved = append(res.Reserved, a)
		} else {
			res.NeverDenied = append(res.NeverDenied, a)
		}
	}
	slices.Sort(res.Reserved)
	slices.Sort(res.NeverDenied)

	res.Unprotected = append(res.Unprotected,
		"the organization's management account: SCPs and RCPs never apply to it (keep trailguard's response there)",
		"service-linked roles: SCPs do not restrict them",
		"CloudTrail, CloudWatch Logs, EventBridge, Lambda, SNS and IAM calls by principals outside the member accounts (let in by a resource policy): RCPs do not support these services, so only the SCP, which binds member accounts' principals, denies them",
		"the exempt principals above: they can still make every denied call; trailguard's response still restores and alerts",
	)
	return res, nil
}

// kindActions gathers the IAM actions of the catalog's tampering rows on
// resource r, the reasons they matter, and the rows no guardrail can deny.
func kindActions(r catalog.Resource) (actions, why, noDeny []string) {
	var names, blinds []string
	for _, e := range catalog.All() {
		if e.Resource != r || !e.Tamper() {
			continue
		}
		p, ok := catalog.IAMPermission(e)
		if !ok {
			// The catalog test forbids this; never deny a guessed name.
			noDeny = append(noDeny, fmt.Sprintf("%s: no IAM action known", e.Name))
			continue
		}
		if p.NoDeny != "" {
			noDeny = append(noDeny, fmt.Sprintf("%s: %s", strings.Join(p.Actions, ", "), p.NoDeny))
			continue
		}
		for _, a := range p.Actions {
			if !slices.Contains(actions, a) {
				actions = append(actions, a)
			}
		}
		names = append(names, e.Name)
		blinds = append(blinds, e.Blinds)
	}
	slices.Sort(actions)
	// One line per reason: rows sharing a reason share the line.
	for i, b := range blinds {
		if slices.Index(blinds, b) != i {
			continue
		}
		var same []string
		for j := range blinds {
			if blinds[j] == b {
				same = append(same, names[j])
			}
		}
		why = append(why, strings.Join(same, ", ")+": "+b)
	}
	return actions, why, noDeny
}

// rcpCovers reports whether every action is of a service RCPs support.
func rcpCovers(actions []string) bool {
	for _, a := range actions {
		prefix, _, _ := strings.Cut(a, ":")
		if !rcpServices[prefix] {
			return false
		}
	}
	return true
}

// pack puts statements into as few documents under MaxPolicySize as it can,
// in order, splitting a statement by its resources when it alone is too big.
// The exemptions are never split: two statements with half the exemptions
// each would deny everyone.
func pack(name string, typ Type, sts []Statement, why []Explanation) ([]Policy, error) {
	var flat []Statement
	var flatWhy []Explanation
	for i, st := range sts {
		parts, err := fit(st)
		if err != nil {
			return nil, err
		}
		for j, p := range parts {
			if len(parts) > 1 {
				p.Sid = fmt.Sprintf("%s%d", st.Sid, j+1)
			}
			w := why[i]
			w.Sid, w.Resources = p.Sid, p.Resource
			flat = append(flat, p)
			flatWhy = append(flatWhy, w)
		}
	}
	var out []Policy
	var cur []Statement
	var curWhy []Explanation
	flush := func() {
		doc, _ := minify(cur)
		out = append(out, Policy{Type: typ, Document: doc, Statements: curWhy})
		cur, curWhy = nil, nil
	}
	for i, st := range flat {
		if doc, _ := minify(append(slices.Clone(cur), st)); len(cur) > 0 && len(doc) > MaxPolicySize {
			flush()
		}
		cur = append(cur, st)
		curWhy = append(curWhy, flatWhy[i])
	}
	flush()
	for i := range out {
		out[i].Name = name
		if len(out) > 1 {
			out[i].Name = fmt.Sprintf("%s-%d", name, i+1)
		}
	}
	return out, nil
}

// fit splits st by halving its resources until each part fits a policy alone.
func fit(st Statement) ([]Statement, error) {
	if doc, _ := minify([]Statement{st}); len(doc) <= MaxPolicySize {
		return []Statement{st}, nil
	}
	if len(st.Resource) < 2 {
		return nil, fmt.Errorf("statement %s does not fit in %d characters even for one resource: shorten the exemptions (allow list)", st.Sid, MaxPolicySize)
	}
	half := len(st.Resource) / 2
	a, b := st, st
	a.Resource, b.Resource = st.Resource[:half], st.Resource[half:]
	left, err := fit(a)
	if err != nil {
		return nil, err
	}
	right, err := fit(b)
	if err != nil {
		return nil, err
	}
	return append(left, right...), nil
}

func minify(sts []Statement) (json.RawMessage, error) {
	return json.Marshal(Document{Version: "2012-10-17", Statement: sts})
}
