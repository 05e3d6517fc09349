// Package judgment is the one home of trailguard's judgments on what a trail
// depends on: does a bucket policy still let CloudTrail deliver (and only for
// this account's trails)? does a key policy still let CloudTrail encrypt? does
// a lifecycle configuration expire logs before the minimum retention?
//
// The responder (judging an event's new content), reconciliation (judging
// the live configuration) and `trailguard check` all ask these questions
// here, so that they cannot disagree. Policies are evaluated by IAM's
// semantics (package policy), never read as text.
//
// Each judgment returns a verdict, a reason for people, and the culprits:
// the statements or rules that caused a harmful verdict, which a repair
// removes and nothing else. When a judgment cannot decide (an unknown
// condition operator or key, a tag-filtered rule) it says CannotTell, and the
// callers alert rather than repair.
package judgment

import "slices"

// Verdict is the outcome of one judgment.
type Verdict string

// Verdicts. The zero value is CannotTell, so a forgotten assignment never
// reads as a decision.
const (
	CannotTell Verdict = ""
	// OK: CloudTrail can deliver/encrypt, logs are kept long enough.
	OK Verdict = "ok"
	// Unscoped: CloudTrail can deliver, but the grant also lets other
	// accounts' trails write into the bucket (no aws:SourceArn or
	// aws:SourceAccount scoping): not blinding, but a confused deputy.
	Unscoped Verdict = "unscoped"
	// Harmful: CloudTrail cannot deliver or encrypt, or logs expire early.
	Harmful Verdict = "harmful"
)

func (v Verdict) String() string {
	if v == CannotTell {
		return "cannot-tell"
	}
	return string(v)
}

// Judgment is a verdict with its reason and culprits.
type Judgment struct {
	Verdict Verdict
	// Reason says why, in one line, for alerts and findings.
	Reason string
	// Culprits are the indices of the statements (policies) or rules
	// (lifecycle) that caused a Harmful or Unscoped verdict. A repair removes
	// exactly these. A missing grant has no culprit: the repair adds one.
	Culprits []int
}

// worse orders verdicts for combining several questions: a harmful answer
// to any of them decides, then an undecidable one, then a weaker grant.
func worse(a, b Verdict) bool {
	rank := map[Verdict]int{OK: 0, Unscoped: 1, CannotTell: 2, Harmful: 3}
	return rank[a] > rank[b]
}

// Worst combines judgments of the same content asked for several trails or
// prefixes: the worst verdict decides, with the reasons and culprits of the
// judgments that reached it.
func Worst(js ...Judgment) Judgment {
	if len(js) == 0 {
		return Judgment{Verdict: CannotTell, Reason: "nothing to judge"}
	}
	out := js[0]
	out.Culprits = append([]int(nil), out.Culprits...)
	for _, j := range js[1:] {
		switch {
		case worse(j.Verdict, out.Verdict):
			out = j
			out.Culprits = append([]int(nil), j.Culprits...)
		case j.Verdict == out.Verdict && j.Reason != out.Reason:
			if out.Verdict != OK {
				out.Reason += "; " + j.Reason
			}
			for _, c := range j.Culprits {
				if !slices.Contains(out.Culprits, c) {
					out.Culprits = append(out.Culprits, c)
				}
			}
		}
	}
	slices.Sort(out.Culprits)
	return out
}
