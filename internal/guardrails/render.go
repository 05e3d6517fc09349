package guardrails

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// WriteJSON writes the policies as an array of {name, type, document}, the
// shape `aws organizations create-policy` and pipelines take them in.
func WriteJSON(w io.Writer, r Result) error {
	pols := r.Policies
	if pols == nil {
		pols = []Policy{}
	}
	b, err := json.MarshalIndent(pols, "", "  ")
	if err != nil {
		return fmt.Errorf("encode policies: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// WriteText explains each policy and statement for a person: what it denies,
// on what, why, whom it exempts, what stays allowed and what stays
// unprotected.
func WriteText(w io.Writer, r Result) error {
	var b strings.Builder
	counts := map[Type]int{}
	for _, p := range r.Policies {
		counts[p.Type]++
	}
	fmt.Fprintf(&b, "trailguard guardrails: %d service control %s, %d resource control %s; deny the catalog's tampering calls outright\n",
		counts[SCP], plural(counts[SCP], "policy", "policies"), counts[RCP], plural(counts[RCP], "policy", "policies"))
	for _, p := range r.Policies {
		kind := "SCP (binds the principals of the accounts it is attached to)"
		if p.Type == RCP {
			kind = "RCP (binds every principal, from any account, calling these resources)"
		}
		fmt.Fprintf(&b, "\n%s  %s, %d of %d characters\n", p.Name, kind, len(p.Document), MaxPolicySize)
		for _, s := range p.Statements {
			fmt.Fprintf(&b, "  %s\n", s.Sid)
			fmt.Fprintf(&b, "    denies  %s\n", strings.Join(s.Actions, ", "))
			fmt.Fprintf(&b, "    on      %s\n", strings.Join(s.Resources, ", "))
			for i, why := range s.Why {
				label := "why"
				if i > 0 {
					label = "   "
				}
				fmt.Fprintf(&b, "    %s     %s\n", label, why)
			}
		}
	}
	fmt.Fprintf(&b, "\nexempt (every statement: ArnNotLike aws:PrincipalARN)\n")
	for _, e := range r.Exempt {
		fmt.Fprintf(&b, "  %-60s %s\n", e.Pattern, e.Why)
	}
	fmt.Fprintf(&b, "\nrestores never denied: %s\n", strings.Join(r.NeverDenied, ", "))
	fmt.Fprintf(&b, "restores that are tampering too, left to the exempt principals: %s\n", strings.Join(r.Reserved, ", "))
	fmt.Fprintf(&b, "calls the responder judges by content (lifecycle, policies, selectors, trail settings) are denied whatever their content, on the protected resources only\n")
	fmt.Fprintf(&b, "\nunprotected\n")
	for _, u := range r.Unprotected {
		fmt.Fprintf(&b, "  - %s\n", u)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
