// Package posture is `trailguard check`: it reads an account's CloudTrail
// set-up in every enabled region and says, finding by finding, what would let
// an intruder go unseen and how to fix it.
//
// It is independent of the command line so that tests, the docs generator and
// a future reconciliation job can run the same checks. Every AWS call goes
// through the small interfaces of clients.go, which the SDK clients satisfy as
// they are; tests swap in an emulator or recorded responses behind them.
//
// Decisions worth knowing:
//
//   - A region that cannot be read (access denied, opt-in region not enabled,
//     throttling) becomes findings with status "error"; it never stops the
//     other regions. An error is not a pass: it counts against --fail-on like
//     a failure of the same severity, because "could not look" is not "safe".
//   - A trail's own settings are checked once, in its home region; other
//     regions only ask whether some logging trail (home or shadow) covers them.
//   - A bucket shared by several trails is checked once.
//   - trailguard's EventBridge rule is recognised by its pattern, not by its
//     name: a rule named "trailguard" that matches nothing protects nothing.
//   - Reports are deterministic (no timestamps, stable order) so that the JSON
//     can be diffed between runs and the table can be golden-tested.
package posture
