// Package trailguardcdk is trailguard's infrastructure as CDK v2 constructs:
// Protection, the reusable construct a user adds to their own CDK app, and
// TrailguardStack, a ready stack around it with cdk-nag's AWS Solutions checks.
//
// Decisions recorded here so they are not re-litigated in review:
//
//   - The EventBridge rules are not written here: one rule per entry of
//     catalog.Rules(), with the catalog's pattern copied verbatim into the
//     template. A service added to the catalog is watched on the next deploy.
//     Rules marked GlobalOnly (IAM, Organizations: EventBridge delivers them
//     only in us-east-1) are created only in us-east-1 or in a
//     region-agnostic stack, where CloudFormation decides the region and an
//     unused rule costs nothing.
//   - The trail is a CfnTrail with its own bucket policy because the L2 Trail
//     grants CloudTrail access to the bucket without an aws:SourceArn
//     condition. The trail's ARN is computed from its fixed name so the bucket
//     policy can name it before the trail exists (CloudTrail checks the
//     policy when the trail is created).
//   - The rules have explicit physical names (trailguard-<rule id>-<hash of
//     stack name and construct path>, see ruleNamer), passed literally to the
//     responder in TRAILGUARD_RULES and used to build the ARNs of its
//     events:EnableRule grant: a reference to the rules from the function or
//     its policy would be a dependency cycle (the rules target the function).
//   - The responder's code is a bootstrap binary built with the local Go
//     toolchain (BuildResponder), not with Docker: cross-compiling a pure Go
//     program for linux/arm64 needs nothing else.
//   - Every IAM permission of the responder is written out in iam.go, with
//     the reason for each wildcard next to its cdk-nag suppression.
//
// protection.go and org.go each stay one construct in one file (a little over
// 400 lines): the single-account protection, and the organization's hub,
// spoke and StackSet, each read top to bottom as the resources they create.
package trailguardcdk
