// Package policy reads IAM policy documents and evaluates one request against
// them with IAM's semantics, so that trailguard judges a bucket or key policy
// by what it means rather than by what its text contains.
//
// Why its own evaluator: the questions trailguard asks ("may CloudTrail still
// write here?") depend on Effect, Action/NotAction, Principal/NotPrincipal,
// Resource/NotResource and a handful of condition keys, and a wrong answer
// either leaves CloudTrail blind or rewrites an owner's policy for nothing.
// The evaluator therefore answers in four ways: Allow, Deny (an explicit deny
// applies), ImplicitDeny (nothing allows) and CannotTell, whenever an operator,
// a condition key or a principal form it does not understand could change the
// answer. It never guesses.
//
// Only resource-based policies (bucket and key policies) are in scope: there
// are no identity policies, permission boundaries, SCPs or session policies in
// the evaluation, which is what CloudTrail's own access to its bucket and key
// depends on.
//
// eval.go holds the evaluation in one file (about 500 lines) on purpose: it
// is IAM's evaluation order, statement by statement and operator by
// operator, and reads best top to bottom beside the documentation.
package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Document is a parsed policy. Statements keep their original JSON so that a
// repair can write the statements it keeps back exactly as they were.
type Document struct {
	Version    string
	ID         string
	Statements []Statement
}

// Statement is one statement in every shape the grammar allows: each list
// field may have been a single string, Principal may have been "*".
type Statement struct {
	Sid    string
	Effect string

	// Principal and NotPrincipal are nil when absent.
	Principal    *Principals
	NotPrincipal *Principals

	// Action/NotAction and Resource/NotResource: exactly one of each pair is
	// normally present; HasX tells which.
	Action, NotAction           []string
	HasAction, HasNotAction     bool
	Resource, NotResource       []string
	HasResource, HasNotResource bool

	Conditions []Condition

	// Raw is the statement as written.
	Raw json.RawMessage
}

// Principals is a Principal or NotPrincipal element. All is "*" (or
// {"AWS":"*"}, which IAM treats the same). Other holds principal types this
// package does not know, which make any match undecidable.
type Principals struct {
	All           bool
	AWS           []string
	Service       []string
	Federated     []string
	CanonicalUser []string
	Other         []string
}

// Condition is one (operator, key, values) triple of a Condition block.
type Condition struct {
	Operator string
	Key      string
	Values   []string
}

// ErrNoStatement is returned for a document without statements.
var ErrNoStatement = errors.New("policy has no Statement")

// Parse reads a policy document. Every string-or-list field and both forms of
// Statement (one object or a list) are accepted; anything else is an error.
func Parse(raw []byte) (Document, error) {
	var top struct {
		Version   string          `json:"Version"`
		ID        string          `json:"Id"`
		Statement json.RawMessage `json:"Statement"`
	}
	if err := json.Unmarshal(raw, &top); err != nil {
		return Document{}, fmt.Errorf("parse policy: %w", err)
	}
	doc := Document{Version: top.Version, ID: top.ID}
	st := bytes.TrimSpace(top.Statement)
	if len(st) == 0 || bytes.Equal(st, []byte("null")) {
		return doc, ErrNoStatement
	}
	var raws []json.RawMessage
	if st[0] == '[' {
		if err := json.Unmarshal(st, &raws); err != nil {
			return doc, fmt.Errorf("parse policy Statement: %w", err)
		}
	} else {
		raws = []json.RawMessage{st}
	}
	for i, r := range raws {
		s, err := parseStatement(r)
		if err != nil {
			return doc, fmt.Errorf("parse policy statement %d: %w", i, err)
		}
		doc.Statements = append(doc.Statements, s)
	}
	return doc, nil
}

func parseStatement(raw json.RawMessage) (Statement, error) {
	var f map[string]json.RawMessage
	if err := json.Unmarshal(raw, &f); err != nil {
		return Statement{}, err
	}
	s := Statement{Raw: raw}
	var err error
	get := func(name string) (json.RawMessage, bool) {
		for k, v := range f {
			if strings.EqualFold(k, name) {
				return v, true
			}
		}
		return nil, false
	}
	if v, ok := get("Sid"); ok {
		if err = json.Unmarshal(v, &s.Sid); err != nil {
			return s, fmt.Errorf("field Sid: %w", err)
		}
	}
	v, ok := get("Effect")
	if !ok {
		return s, errors.New("no Effect")
	}
	if err = json.Unmarshal(v, &s.Effect); err != nil {
		return s, fmt.Errorf("field Effect: %w", err)
	}
	if s.Effect != "Allow" && s.Effect != "Deny" {
		return s, fmt.Errorf("effect %q is neither Allow nor Deny", s.Effect)
	}
	for _, l := range []struct {
		name string
		dst  *[]string
		has  *bool
	}{
		{"Action", &s.Action, &s.HasAction}, {"NotAction", &s.NotAction, &s.HasNotAction},
		{"Resource", &s.Resource, &s.HasResource}, {"NotResource", &s.NotResource, &s.HasNotResource},
	} {
		if v, ok := get(l.name); ok {
			if *l.dst, err = stringList(v); err != nil {
				return s, fmt.Errorf("field %s: %w", l.name, err)
			}
			*l.has = true
		}
	}
	if s.HasAction == s.HasNotAction {
		return s, errors.New("exactly one of Action and NotAction is required")
	}
	if v, ok := get("Principal"); ok {
		if s.Principal, err = parsePrincipals(v); err != nil {
			return s, fmt.Errorf("field Principal: %w", err)
		}
	}
	if v, ok := get("NotPrincipal"); ok {
		if s.NotPrincipal, err = parsePrincipals(v); err != nil {
			return s, fmt.Errorf("field NotPrincipal: %w", err)
		}
	}
	if v, ok := get("Condition"); ok {
		if s.Conditions, err = parseConditions(v); err != nil {
			return s, fmt.Errorf("field Condition: %w", err)
		}
	}
	return s, nil
}

// stringList reads a string or a list of strings. Booleans and numbers are
// accepted as their text (condition values are often written unquoted).
func stringList(raw json.RawMessage) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '[' {
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, err
		}
		out := make([]string, 0, len(items))
		for _, it := range items {
			s, err := scalar(it)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	}
	s, err := scalar(raw)
	if err != nil {
		return nil, err
	}
	return []string{s}, nil
}

func scalar(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var b bool
	if err := json.Unmarshal(raw, &b); err == nil {
		return fmt.Sprint(b), nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		return n.String(), nil
	}
	return "", fmt.Errorf("want a string, got %s", raw)
}

func parsePrincipals(raw json.RawMessage) (*Principals, error) {
	raw = bytes.TrimSpace(raw)
	p := &Principals{}
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		if s != "*" {
			return nil, fmt.Errorf("a string principal must be \"*\", got %q", s)
		}
		p.All = true
		return p, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	for k, v := range m {
		vals, err := stringList(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		switch k {
		case "AWS":
			for _, a := range vals {
				if a == "*" {
					p.All = true
				}
			}
			p.AWS = append(p.AWS, vals...)
		case "Service":
			p.Service = append(p.Service, vals...)
		case "Federated":
			p.Federated = append(p.Federated, vals...)
		case "CanonicalUser":
			p.CanonicalUser = append(p.CanonicalUser, vals...)
		default:
			p.Other = append(p.Other, k)
		}
	}
	return p, nil
}

func parseConditions(raw json.RawMessage) ([]Condition, error) {
	var ops map[string]map[string]json.RawMessage
	if err := json.Unmarshal(raw, &ops); err != nil {
		return nil, err
	}
	var out []Condition
	for op, keys := range ops {
		for k, v := range keys {
			vals, err := stringList(v)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", op, k, err)
			}
			out = append(out, Condition{Operator: op, Key: k, Values: vals})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Operator != out[j].Operator {
			return out[i].Operator < out[j].Operator
		}
		return out[i].Key < out[j].Key
	})
	return out, nil
}

// Encode writes a document with the given statements (each as written, see
// Statement.Raw), keeping the version and id.
func Encode(version, id string, statements []json.RawMessage) ([]byte, error) {
	doc := struct {
		Version   string            `json:"Version,omitempty"`
		ID        string            `json:"Id,omitempty"`
		Statement []json.RawMessage `json:"Statement"`
	}{version, id, statements}
	if doc.Statement == nil {
		doc.Statement = []json.RawMessage{}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode policy: %w", err)
	}
	return b, nil
}
