// Package trail models what CloudTrail itself says, in its own JSON shapes:
// the API-call records that EventBridge delivers (wrapped in its envelope),
// and trail configurations as CloudTrail's requests spell them.
//
// It is the first stop of trailguard's one-way data flow (event →
// classification → plan → actions → report): it turns bytes into typed values
// or a clear error, and never decides anything. Input comes from the network
// and from files an operator replays, so parsing is strict about the fields the
// responder relies on and forgiving about everything else.
package trail
