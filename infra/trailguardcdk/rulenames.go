package trailguardcdk

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
)

// ReconcileRuleID is the rule id (in RuleNames and physical names) of the
// reconcile schedule; catalog rules use their catalog.Rule ID.
const ReconcileRuleID = "reconcile"

// maxRuleName is EventBridge's limit on a rule's name.
const maxRuleName = 64

// ruleNamer gives trailguard's EventBridge rules explicit physical names.
//
// The responder must know its own rules (TRAILGUARD_RULES) to recognise
// DisableRule/DeleteRule/RemoveTargets on them and to re-enable them while
// reconciling. Passing the rules' generated names (Ref) would make the
// function depend on the rules, which already depend on the function (it is
// their target): a dependency cycle. Literal names known at synth avoid it,
// and the rules' ARNs in the responder's policy are built from them the same
// way.
//
// A name is "trailguard-<rule id>-<suffix>", where suffix is a short hash of
// the stack's name and the construct's path: stable across deploys, and
// different for two protections in the same account and region (EventBridge
// rule names are unique per account, region and event bus).
type ruleNamer struct{ suffix string }

func newRuleNamer(scope constructs.Construct) ruleNamer {
	stack := awscdk.Stack_Of(scope)
	seed := *scope.Node().Path()
	if n := stack.StackName(); n != nil && !*awscdk.Token_IsUnresolved(n) {
		seed = *n + "\x00" + seed
	}
	return ruleNamer{suffix: shortHash(seed)}
}

func shortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:4])
}

// name returns the physical name of the rule with id: only the characters
// EventBridge accepts ([.\-_A-Za-z0-9]), at most 64 of them, the hash kept
// whole.
func (n ruleNamer) name(id string) string {
	clean := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '-'
	}, id)
	const prefix = "trailguard-"
	if room := maxRuleName - len(prefix) - 1 - len(n.suffix); len(clean) > room {
		// Two ids sharing a long prefix must not collide: the hash of the
		// whole id replaces the cut tail.
		tail := shortHash(id)
		clean = clean[:room-len(tail)-1] + "-" + tail
	}
	return prefix + clean + "-" + n.suffix
}
