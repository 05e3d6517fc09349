// Package testworld is trailguard's test world, and nothing else: a local AWS
// run in process for the tests, the end-to-end and reliability tests, the perf
// program and the offline `trailguard demo` (which plays its scenarios on the
// same world the tests use). It lives under this name, apart from the
// production packages, so nobody mistakes it for one. It is the kumo emulator
// (github.com/sivchari/kumo) behind a small front handler of ours, reachable
// by real aws-sdk-go-v2 clients over loopback HTTP. It must never be linked
// into cmd/responder.
//
// # Why a front handler
//
// kumo's public API only offers kumo.NewServer, an httptest server on a random
// port; its handler and service registry are internal. So Start runs kumo
// that way and puts a reverse proxy of ours on a second loopback port in
// front of it. Server.URL is the front. The front is where we add:
//
//   - test doubles for CloudTrail and IAM operations kumo lacks (below);
//   - fault injection (FailOperation, WithFault);
//   - runtime API bookkeeping, so StartFunction can tell when a child process
//     has started polling for invocations.
//
// cloudtrail.go, the CloudTrail double, is over 400 lines on purpose: it is
// one state machine (a trail's extra fields, its selectors and its logging
// state kept beside kumo's, replaced together on UpdateTrail), and cutting it
// by operation would spread that one state over several files.
//
// # How kumo's self-calls reach this server
//
// kumo's EventBridge delivers to Lambda targets by POSTing to
// http://localhost:$KUMO_PORT/2015-03-31/functions/<name>/invocations, and its
// Lambda service has http://localhost:4566 compiled in. Both base URLs are
// computed in the service packages' init functions, that is at process start,
// before any test code can run: setting KUMO_PORT in Start is too late, and
// binding port 4566 would collide with other test processes (go test runs
// packages in parallel) and with a real kumo on the machine. kumo sends these
// self-calls through an http.Client without a Transport, i.e. through
// http.DefaultTransport. Start therefore replaces http.DefaultTransport, once
// per process, with a clone of it whose dialer sends connections meant for
// kumo's self-address (localhost:4566, or KUMO_HOST/KUMO_PORT as they were at
// process start) to the front of the most recently started live Server. Every
// other dial is untouched, and the value stays an *http.Transport so code that
// type-asserts it keeps working. This is a process-wide side effect, accepted
// because this package only runs in tests and in the demo.
//
// # Several servers in one process
//
// kumo registers its services as package-level singletons at init, so every
// kumo server in a process shares one state: a trail, queue or function made
// through one Server is visible through the next. Sequential Start/Close pairs
// work; use unique resource names per test. Parallel Servers also work but
// share kumo's state, and kumo's self-calls (EventBridge → Lambda) go to the
// newest live Server; the CloudTrail and IAM doubles' state is per Server.
//
// # CloudTrail test double
//
// kumo's CloudTrail serves CreateTrail, DeleteTrail, GetTrail, DescribeTrails,
// StartLogging, StopLogging, GetTrailStatus, LookupEvents (always empty: see
// below) and
// the tag operations, and nothing else. The front answers the operations
// trailguard needs that kumo lacks, from a small in-memory store of ours:
//
//   - UpdateTrail: applied to kumo's own trail by reading it (GetTrail,
//     ListTags, GetTrailStatus), deleting it and creating it again with the
//     changed fields, its tags, and logging restarted if it was on. kumo stays
//     the single source of truth for trail fields, so GetTrail/DescribeTrails
//     show the update. The swap is not atomic: a concurrent reader may briefly
//     see TrailNotFoundException. SnsTopicName is kept by the double only.
//   - PutEventSelectors, GetEventSelectors: classic or advanced selectors per
//     trail ARN; a trail without stored selectors reports AWS's default (all
//     management events, read and write). GetTrail/DescribeTrails responses
//     are rewritten to carry HasCustomEventSelectors and SnsTopicName;
//     CreateTrail and DeleteTrail reset the stored selectors.
//   - CloudTrail Lake: CreateEventDataStore, GetEventDataStore,
//     ListEventDataStores, UpdateEventDataStore, DeleteEventDataStore (to
//     PENDING_DELETION, as AWS does), RestoreEventDataStore,
//     StopEventDataStoreIngestion, StartEventDataStoreIngestion.
//   - LookupEvents (Event History): the CloudTrail records given to
//     Server.RecordEvent, in their awsRegion (the request's signing region),
//     newest first, 50 per page with a NextToken, filtered by StartTime,
//     EndTime and one lookup attribute (lookupevents.go).
//
// # IAM test double
//
// kumo's IAM accepts AttachUserPolicy but cannot list user attachments, and
// has no UpdateAccessKey. The front therefore records the AttachUserPolicy
// and DetachUserPolicy calls kumo accepted and answers
// ListAttachedUserPolicies from them, and answers UpdateAccessKey itself
// (after checking with kumo that the user has that key), writing the new
// status into kumo's ListAccessKeys answers.
//
// # EventBridge test double
//
// kumo stores a rule's State and honours it when matching, but offers no
// DisableRule or EnableRule. The front answers both by reading the rule
// (DescribeRule) and writing it back with the new state (PutRule).
//
// kumo delivers to SQS and Lambda targets only. For rules that target an SNS
// topic (trailguard's owners' rules), the front passes PutEvents to kumo,
// then matches each event against the enabled rules with an SNS target
// (lists of values, prefix, suffix, wildcard, nested fields, $or), applies
// the target's input or input transformer and publishes to the topic.
//
// # CloudWatch test double
//
// kumo's CloudWatch (Smithy RPC v2 CBOR, as the SDK speaks it) stores an
// alarm's ActionsEnabled but has no EnableAlarmActions or
// DisableAlarmActions. The front answers both (alarms.go) by reading the
// named alarms from kumo (DescribeAlarms) and writing each back
// (PutMetricAlarm) with the switch changed; names matching no alarm are
// ignored, as CloudWatch does.
//
// # Lambda configuration test double
//
// kumo's Lambda has no reserved concurrency and no asynchronous invoke
// configuration. The front answers PutFunctionConcurrency,
// GetFunctionConcurrency, DeleteFunctionConcurrency and
// Put/Update/Get/DeleteFunctionEventInvokeConfig itself (lambdaconfig.go),
// keeping both per function name for functions kumo knows (an unknown name
// is ResourceNotFoundException, as is a function without an invoke
// configuration). Qualifiers (versions, aliases) are not modelled.
//
// # Security Hub test double
//
// kumo has no Security Hub. The front answers BatchImportFindings and
// GetFindings itself: each imported finding is validated as Security Hub
// does (ValidateFinding: required fields, limits, 240 KB, the default
// product's account equal to the finding's) and rejected in FailedFindings
// otherwise; accepted findings are upserted by ProductArn and Id, keeping
// what a provider cannot change after creation (CreatedAt, Note,
// UserDefinedFields, VerificationState, Workflow). GetFindings filters on
// Id, GeneratorId, AwsAccountId, ProductArn and Title (EQUALS, PREFIX).
//
// Every other request goes to kumo unchanged.
//
// # Lambda
//
// StartFunction runs a real handler binary (aws-lambda-go's lambda.Start) as
// a child process with AWS_LAMBDA_RUNTIME_API=<front host:port>/_runtime/<name>;
// kumo serves the runtime API under /_runtime/{functionName}/2018-06-01/runtime/.
// kumo only routes invocations to the runtime API once a handler has polled
// for that function (otherwise async invokes are accepted and dropped), so
// StartFunction waits for the first poll. kumo's Close waits for open
// long-polls, so Server.Close stops every child first.
//
// # The responder's world
//
// ResponderWorld deploys what trailguard protects and trailguard itself (a
// logging trail and its bucket, an IAM user with a key, a role, a deny-all
// policy standing in for AWSDenyAll, a topic with an SQS subscriber, the
// responder function served by a real bootstrap, the catalog's CloudTrail
// rule). The end-to-end and reliability tests (through worldtest, which
// turns its errors into test failures) and the perf program share it.
//
// # Verified kumo facts and gaps
//
// Checked over HTTP with the real SDK by this package's tests:
//
//   - EventBridge evaluates patterns on source, detail-type, lists of values
//     inside detail and nested detail fields (detail.userIdentity.type); a
//     forged source does not match. It records each match synchronously in
//     PutEvents (DeliveredEvents) and delivers asynchronously: to an SQS
//     target as the whole EventBridge event, to a Lambda target as an async
//     (Event) invocation through the runtime API.
//   - SNS delivers to SQS subscribers: wrapped in the JSON notification
//     envelope (Type, Subject, Message, TopicArn) by default, as published with
//     RawMessageDelivery=true.
//   - IAM: AttachUserPolicy, CreatePolicy, CreateAccessKey, ListAccessKeys,
//     PutRolePolicy and GetRolePolicy work. GetRolePolicy returns the document
//     as stored, not URL-encoded as AWS does: decode tolerantly.
//   - STS GetCallerIdentity answers account 000000000000,
//     arn:aws:iam::000000000000:root.
//
// Gaps (kumo v0.33.1):
//
//   - No CloudTrail UpdateTrail, PutEventSelectors, GetEventSelectors or
//     CloudTrail Lake operations; no IAM ListAttachedUserPolicies or
//     UpdateAccessKey: doubled, see above.
//   - kumo's CloudTrail uses account 123456789012 in trail ARNs, while the
//     other services use 000000000000.
//   - CloudTrail CreateTrail does not check that the bucket exists; no API
//     call emits a CloudTrail event (send them with PutCloudTrailEvent);
//     kumo's LookupEvents is always empty: doubled, see above.
//   - IAM has no AWS-managed policies (arn:aws:iam::aws:policy/AWSDenyAll is
//     missing): use CreateDenyAllPolicy.
//   - SNS does not enforce Subject rules.
//   - The runtime API reports function ARNs in region "local".
//   - kumo's EventBridge logs every delivery to stdout (text lines starting
//     "time="); it cannot be silenced from outside.
//   - kumo has no way to reset its state: see "Several servers in one process".
package testworld
