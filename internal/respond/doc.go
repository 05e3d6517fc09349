// Package respond is trailguard's engine: it turns a CloudTrail event into a
// classification, the classification into a plan, and the plan into actions
// and a report — the one-way flow event → classification → plan → actions →
// report.
//
// Classify and NewPlan are pure functions so every decision can be
// table-tested and printed (in logs, alerts and dry-runs) before anything
// touches AWS. The executor then runs the plan: restore is started first and
// waits for nothing (the audit trail matters most); containment, which does
// not depend on it, runs alongside; one alert goes last and reports every
// outcome, because an alert that cannot say whether the actor was contained
// is worth less to the owner than the millisecond it would save. A failed
// action never stops the others; the caller gets an error so Lambda retries, and every action is idempotent so a
// retry or a duplicate delivery converges on the same state.
//
// The AWS interfaces are declared here, narrowed to the calls the engine
// makes, and satisfied by the SDK clients as they are.
//
// reconcile.go (about 480 lines) is one stage, comparing each deployed
// resource with what was deployed; it is cut by stage like its neighbours,
// not by resource. rules.go (about 410 lines) is the one home of what "as
// deployed" means for trailguard's own rules (pattern, state, schedule,
// targets), read the same way by the event path and by reconciliation;
// split, the two readings would drift apart.
package respond
