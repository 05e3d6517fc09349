package policy

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/trailguard/trailguard/internal/config"
)

// Result is the outcome of evaluating a request against a policy.
type Result int

// Results. The zero value is CannotTell, so a forgotten assignment never
// reads as a decision.
const (
	// CannotTell: a condition, operator or principal form this package does
	// not understand could change the answer.
	CannotTell Result = iota
	// Allow: a statement allows the request and no statement denies it.
	Allow
	// Deny: a statement explicitly denies the request (deny always wins).
	Deny
	// ImplicitDeny: no statement allows the request.
	ImplicitDeny
)

func (r Result) String() string {
	switch r {
	case Allow:
		return "Allow"
	case Deny:
		return "Deny"
	case ImplicitDeny:
		return "ImplicitDeny"
	}
	return "CannotTell"
}

// Principal is who makes the request: an AWS service (Service, e.g.
// "cloudtrail.amazonaws.com") or an IAM principal (ARN and Account).
type Principal struct {
	Service string
	ARN     string
	Account string
}

func (p Principal) String() string {
	if p.Service != "" {
		return p.Service
	}
	return p.ARN
}

// Request is one request to evaluate. Context holds the condition keys whose
// values are known (single-valued keys have one value); Absent lists keys
// known to be missing from the request. A condition on any other key cannot
// be evaluated and makes its statement undecidable.
type Request struct {
	Principal Principal
	Action    string
	Resource  string
	Context   map[string][]string
	Absent    []string
}

// value looks a condition key up: its values, and whether it is known
// (present, or known to be absent: then values is nil and known is true).
func (r Request) value(key string) (vals []string, present, known bool) {
	for k, v := range r.Context {
		if strings.EqualFold(k, key) {
			return v, true, true
		}
	}
	for _, k := range r.Absent {
		if strings.EqualFold(k, key) {
			return nil, false, true
		}
	}
	return nil, false, false
}

// tri is a three-valued truth: IAM conditions we cannot evaluate are unknown.
type tri int

const (
	no tri = iota
	yes
	unknown
)

func and(a, b tri) tri {
	switch {
	case a == no || b == no:
		return no
	case a == unknown || b == unknown:
		return unknown
	}
	return yes
}

func not(a tri) tri {
	switch a {
	case yes:
		return no
	case no:
		return yes
	}
	return unknown
}

func truth(b bool) tri {
	if b {
		return yes
	}
	return no
}

// Match is how one statement relates to a request.
type Match struct {
	// Index is the statement's position in the document.
	Index int
	Sid   string
	// Effect is the statement's effect.
	Effect string
	// Why says, for an undecidable match, what could not be evaluated.
	Why string
}

// Decision is the answer with the statements that decided it: the denying
// statements for Deny, the allowing ones for Allow, and the undecidable ones
// for CannotTell (with why).
type Decision struct {
	Result    Result
	Denies    []Match
	Allows    []Match
	Undecided []Match
}

// Reason says in one line why the decision came out as it did.
func (d Decision) Reason() string {
	name := func(ms []Match) string {
		var out []string
		for _, m := range ms {
			s := fmt.Sprintf("statement %d", m.Index)
			if m.Sid != "" {
				s = fmt.Sprintf("statement %q", m.Sid)
			}
			if m.Why != "" {
				s += " (" + m.Why + ")"
			}
			out = append(out, s)
		}
		return strings.Join(out, ", ")
	}
	switch d.Result {
	case Deny:
		return "denied by " + name(d.Denies)
	case Allow:
		return "allowed by " + name(d.Allows)
	case ImplicitDeny:
		return "no statement allows it"
	}
	return "cannot tell: " + name(d.Undecided)
}

// Evaluate decides the request against the document: an explicit deny wins;
// otherwise an allow allows; otherwise the request is implicitly denied. A
// statement that may or may not apply makes the answer CannotTell whenever
// it could change it (an undecidable Deny over an Allow, or an undecidable
// Allow with nothing else allowing).
func Evaluate(doc Document, req Request) Decision {
	var d Decision
	var maybeDeny, maybeAllow []Match
	for i, s := range doc.Statements {
		got, why := s.applies(req)
		m := Match{Index: i, Sid: s.Sid, Effect: s.Effect, Why: why}
		switch {
		case got == yes && s.Effect == "Deny":
			d.Denies = append(d.Denies, m)
		case got == yes:
			d.Allows = append(d.Allows, m)
		case got == unknown && s.Effect == "Deny":
			maybeDeny = append(maybeDeny, m)
		case got == unknown:
			maybeAllow = append(maybeAllow, m)
		}
	}
	switch {
	case len(d.Denies) > 0:
		d.Result = Deny
	case len(maybeDeny) > 0:
		d.Result, d.Undecided = CannotTell, maybeDeny
	case len(d.Allows) > 0:
		d.Result = Allow
	case len(maybeAllow) > 0:
		d.Result, d.Undecided = CannotTell, maybeAllow
	default:
		d.Result = ImplicitDeny
	}
	return d
}

// applies reports whether the statement applies to the request (ignoring its
// effect): yes, no or unknown, with why when unknown.
func (s Statement) applies(req Request) (tri, string) {
	t := yes
	var whys []string
	step := func(x tri, why string) {
		t = and(t, x)
		if x == unknown && why != "" {
			whys = append(whys, why)
		}
	}
	if s.HasAction {
		step(truth(anyGlob(s.Action, req.Action, true)), "")
	} else {
		step(truth(!anyGlob(s.NotAction, req.Action, true)), "")
	}
	if t == no {
		return no, ""
	}
	switch {
	case s.HasResource:
		step(truth(anyGlob(s.Resource, req.Resource, false)), "")
	case s.HasNotResource:
		step(truth(!anyGlob(s.NotResource, req.Resource, false)), "")
	}
	if t == no {
		return no, ""
	}
	switch {
	case s.Principal != nil:
		x, why := s.Principal.matches(req.Principal)
		step(x, why)
	case s.NotPrincipal != nil:
		x, why := s.NotPrincipal.matches(req.Principal)
		step(not(x), why)
	}
	if t == no {
		return no, ""
	}
	for _, c := range s.Conditions {
		x, why := c.eval(req)
		step(x, why)
		if t == no {
			return no, ""
		}
	}
	return t, strings.Join(whys, "; ")
}

// anyGlob matches value against IAM patterns (* and ?); actions compare
// case-insensitively, resources (ARNs) case-sensitively.
func anyGlob(patterns []string, value string, fold bool) bool {
	if fold {
		value = strings.ToLower(value)
	}
	for _, p := range patterns {
		if fold {
			p = strings.ToLower(p)
		}
		if config.Glob(p, value) {
			return true
		}
	}
	return false
}

// matches reports whether the principal element names the request's
// principal. Account principals ("123456789012" or the account's root ARN)
// stand for every IAM principal of the account, never for a service.
func (p *Principals) matches(who Principal) (tri, string) {
	if p.All {
		return yes, ""
	}
	if who.Service != "" {
		for _, s := range p.Service {
			if strings.EqualFold(s, who.Service) {
				return yes, ""
			}
		}
	} else {
		for _, a := range p.AWS {
			switch {
			case a == who.ARN:
				return yes, ""
			case who.Account != "" && (a == who.Account || a == "arn:aws:iam::"+who.Account+":root"):
				return yes, ""
			}
		}
	}
	if len(p.Other) > 0 {
		return unknown, "unknown principal type " + strings.Join(p.Other, ", ")
	}
	return no, ""
}

// eval evaluates one condition: the operator (with its IfExists suffix and
// ForAnyValue/ForAllValues qualifier) on the request's value for the key.
func (c Condition) eval(req Request) (tri, string) {
	op := c.Operator
	qualifier := ""
	if q, rest, ok := strings.Cut(op, ":"); ok {
		qualifier, op = q, rest
		if qualifier != "ForAnyValue" && qualifier != "ForAllValues" {
			return unknown, "unknown condition qualifier " + q
		}
	}
	ifExists := strings.HasSuffix(op, "IfExists")
	op = strings.TrimSuffix(op, "IfExists")
	match, negated, ok := operator(op)
	if !ok {
		return unknown, "unknown condition operator " + c.Operator
	}
	for _, v := range c.Values {
		if strings.Contains(v, "${") {
			return unknown, "policy variable in " + c.Key
		}
	}
	vals, present, known := req.value(c.Key)
	if op == "Null" {
		if !known {
			return unknown, "condition key " + c.Key + " not known"
		}
		want := anyFold(c.Values, "true")
		return truth(want != present), ""
	}
	if !known {
		return unknown, "condition key " + c.Key + " not known"
	}
	if !present {
		switch {
		case ifExists:
			return yes, ""
		case qualifier == "ForAllValues":
			return yes, ""
		case qualifier == "ForAnyValue":
			return no, ""
		}
		// A missing key fails every positive operator; the negated ones
		// (StringNotEquals…) are satisfied by it.
		return truth(negated), ""
	}
	one := func(v string) (tri, string) {
		any := false
		for _, pv := range c.Values {
			m, err := match(pv, v)
			if err != nil {
				return unknown, fmt.Sprintf("%s %s: %v", c.Operator, c.Key, err)
			}
			if m {
				any = true
				break
			}
		}
		if negated {
			return truth(!any), ""
		}
		return truth(any), ""
	}
	switch qualifier {
	case "ForAllValues":
		t := yes
		for _, v := range vals {
			x, why := one(v)
			if x == unknown {
				return x, why
			}
			t = and(t, x)
		}
		return t, ""
	default:
		// ForAnyValue, and a single-valued key (one value).
		t := no
		for _, v := range vals {
			x, why := one(v)
			if x == unknown {
				return x, why
			}
			if x == yes {
				t = yes
			}
		}
		return t, ""
	}
}

func anyFold(vals []string, want string) bool {
	for _, v := range vals {
		if strings.EqualFold(v, want) {
			return true
		}
	}
	return false
}

// operator returns the positive comparison behind a condition operator and
// whether the operator negates it.
func operator(op string) (match func(policyValue, requestValue string) (bool, error), negated, ok bool) {
	switch op {
	case "StringEquals", "StringNotEquals":
		return func(p, v string) (bool, error) { return p == v, nil }, op == "StringNotEquals", true
	case "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase":
		return func(p, v string) (bool, error) { return strings.EqualFold(p, v), nil }, op == "StringNotEqualsIgnoreCase", true
	case "StringLike", "StringNotLike":
		return func(p, v string) (bool, error) { return config.Glob(p, v), nil }, op == "StringNotLike", true
	case "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike":
		return arnLike, op == "ArnNotEquals" || op == "ArnNotLike", true
	case "Bool":
		return func(p, v string) (bool, error) { return strings.EqualFold(p, v), nil }, false, true
	case "Null":
		return nil, false, true
	case "NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals", "NumericGreaterThan", "NumericGreaterThanEquals":
		return numeric(op), op == "NumericNotEquals", true
	case "DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals":
		return date(op), op == "DateNotEquals", true
	}
	return nil, false, false
}

// arnLike compares ARNs component by component (IAM's ArnEquals and ArnLike
// behave the same): each of the six colon-separated parts may hold * and ?.
func arnLike(p, v string) (bool, error) {
	pp, vv := strings.SplitN(p, ":", 6), strings.SplitN(v, ":", 6)
	if len(pp) != 6 || len(vv) != 6 {
		return config.Glob(p, v), nil
	}
	for i := range pp {
		if !config.Glob(pp[i], vv[i]) {
			return false, nil
		}
	}
	return true, nil
}

func numeric(op string) func(p, v string) (bool, error) {
	return func(p, v string) (bool, error) {
		a, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return false, fmt.Errorf("request value %q is not a number", v)
		}
		b, err := strconv.ParseFloat(p, 64)
		if err != nil {
			return false, fmt.Errorf("policy value %q is not a number", p)
		}
		return compare(strings.TrimPrefix(op, "Numeric"), cmp(a, b)), nil
	}
}

func date(op string) func(p, v string) (bool, error) {
	parse := func(s string) (time.Time, error) {
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			return t, nil
		}
		if t, err := time.Parse("2006-01-02", s); err == nil {
			return t, nil
		}
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return time.Unix(n, 0), nil
		}
		return time.Time{}, fmt.Errorf("%q is not a date", s)
	}
	return func(p, v string) (bool, error) {
		a, err := parse(v)
		if err != nil {
			return false, err
		}
		b, err := parse(p)
		if err != nil {
			return false, err
		}
		return compare(strings.TrimPrefix(op, "Date"), a.Compare(b)), nil
	}
}

func cmp(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compare applies a comparison suffix to request-vs-policy ordering. The
// negated forms are handled by the caller, so NotEquals tests equality.
func compare(suffix string, c int) bool {
	switch suffix {
	case "Equals", "NotEquals":
		return c == 0
	case "LessThan":
		return c < 0
	case "LessThanEquals":
		return c <= 0
	case "GreaterThan":
		return c > 0
	case "GreaterThanEquals":
		return c >= 0
	}
	return false
}
