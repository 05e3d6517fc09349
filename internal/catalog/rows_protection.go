package catalog

// The rows about trailguard itself: its rules, function, topic, alarms and
// role, and the containment it put in place.

// The protection itself: disabling trailguard is tampering too.
var protection = []Entry{
	{
		Source: events, Name: "DisableRule", Resource: EventRule, TargetIn: []string{"name"},
		Severity: Critical, FailedSeverity: Medium, Response: EnableRule, Contain: true,
		Blinds: "a disabled trailguard rule sees nothing, not even its own disabling (reconciliation catches it)",
		Undo:   "EnableRule",
	},
	{
		Source: events, Name: "PutRule", Resource: EventRule, TargetIn: []string{"name"},
		Severity: Critical, FailedSeverity: Medium, Response: RestoreRule, Contain: true, Judged: true,
		Blinds: "a trailguard rule overwritten: a pattern that never matches, State=DISABLED, or a slower reconcile schedule",
		Undo:   "PutRule back to the catalog's pattern (or the deployed schedule), enabled",
	},
	{
		Source: events, Name: "PutTargets", Resource: EventRule, TargetIn: []string{"rule"},
		Severity: Critical, FailedSeverity: Medium, Response: RestoreTargets, Contain: true, Judged: true,
		Blinds: "a trailguard rule's target replaced, or its input changed (a reconcile schedule that no longer asks to reconcile)",
		Undo:   "PutTargets back to the deployed target without a replaced input; RemoveTargets of the others",
	},
	{
		Source: events, Name: "DeleteRule", Resource: EventRule, TargetIn: []string{"name"},
		Severity: Critical, FailedSeverity: Medium, Response: Alert, Contain: true,
		Blinds: "trailguard no longer receives these events",
		Undo:   redeploy,
	},
	{
		Source: events, Name: "RemoveTargets", Resource: EventRule, TargetIn: []string{"rule"},
		Severity: Critical, FailedSeverity: Medium, Response: RestoreTargets, Contain: true,
		Blinds: "trailguard's rule no longer invokes the responder",
		Undo:   "PutTargets back to the deployed target",
	},
	{
		Source: lambda, Name: "DeleteFunction", LoggedAs: []string{"DeleteFunction20150331", "DeleteFunction"}, Resource: Function, TargetIn: []string{"functionName"},
		Severity: Critical, FailedSeverity: Medium, Response: Alert, Contain: true,
		Blinds: "the responder is gone: nothing restores or alerts any more",
		Undo:   redeploy,
	},
	{
		Source: lambda, Name: "UpdateFunctionCode", LoggedAs: []string{"UpdateFunctionCode20150331v2", "UpdateFunctionCode20150331", "UpdateFunctionCode"}, Resource: Function, TargetIn: []string{"functionName"},
		Severity: Critical, FailedSeverity: Medium, Response: Alert, Contain: true,
		Blinds: "the responder's code was replaced: it may do nothing, or worse",
		Undo:   redeploy,
	},
	{
		Source: lambda, Name: "UpdateFunctionConfiguration", LoggedAs: []string{"UpdateFunctionConfiguration20150331v2", "UpdateFunctionConfiguration20150331", "UpdateFunctionConfiguration"}, Resource: Function, TargetIn: []string{"functionName"},
		Severity: High, FailedSeverity: Medium, Response: Alert, Contain: true,
		Blinds: "the responder's settings (mode, allow list, topic) or role may have changed",
		Undo:   redeploy,
	},
	{
		Source: lambda, Name: "PutFunctionConcurrency", LoggedAs: []string{"PutFunctionConcurrency20171031", "PutFunctionConcurrency"}, Resource: Function, TargetIn: []string{"functionName"},
		Severity: Critical, FailedSeverity: Medium, Response: Alert, Contain: true,
		Blinds: "a reserved concurrency of 0 stops the responder from running at all",
		Undo:   redeploy,
	},
	{
		Source: lambda, Name: "DeleteFunctionConcurrency", LoggedAs: []string{"DeleteFunctionConcurrency20171031", "DeleteFunctionConcurrency"}, Resource: Function, TargetIn: []string{"functionName"},
		Severity: Medium, FailedSeverity: Info, Response: Alert, Contain: false,
		Blinds: "the responder's reserved capacity is gone: a busy account can starve it",
		Undo:   redeploy,
	},
	{
		Source: lambda, Name: "RemovePermission", LoggedAs: []string{"RemovePermission20150331v2", "RemovePermission20150331", "RemovePermission"}, Resource: Function, TargetIn: []string{"functionName"},
		Severity: Critical, FailedSeverity: Medium, Response: Alert, Contain: true,
		Blinds: "EventBridge may no longer be allowed to invoke the responder",
		Undo:   redeploy,
	},
	{
		Source: sns, Name: "DeleteTopic", Resource: Topic, TargetIn: []string{"topicArn"},
		Severity: Critical, FailedSeverity: Medium, Response: Alert, Contain: true,
		Blinds: "trailguard's alerts have nowhere to go (this one may not arrive either: check the function's logs)",
		Undo:   redeploy + "; confirm the email subscriptions again",
	},
	{
		Source: sns, Name: "Unsubscribe", Resource: Topic, TargetIn: []string{"subscriptionArn"},
		Severity: High, FailedSeverity: Medium, Response: Alert, Contain: true,
		Blinds: "an owner no longer receives trailguard's alerts",
		Undo:   "subscribe the address again and confirm it",
	},
}

// responderChanges are the other calls that weaken the responder or its
// topic (besides the protection rows above): who may invoke it, how its
// asynchronous invocations are retried, the alias it may be invoked through,
// the topic's policy, key and delivery.
var responderChanges = []Entry{
	{
		Source: lambda, Name: "AddPermission", LoggedAs: []string{"AddPermission20150331v2", "AddPermission20150331", "AddPermission"}, Resource: Function, TargetIn: []string{"functionName"},
		Severity: High, FailedSeverity: Medium, Response: Alert, Contain: true,
		Blinds: "someone else may now invoke the responder (forged events, floods that starve it)",
		Undo:   "aws lambda get-policy --function-name <responder>; remove the statement with aws lambda remove-permission; " + redeploy,
	},
	{
		Source: lambda, Name: "PutFunctionEventInvokeConfig", LoggedAs: []string{"PutFunctionEventInvokeConfig20190925", "PutFunctionEventInvokeConfig"}, Resource: Function, TargetIn: []string{"functionName"},
		Severity: High, FailedSeverity: Medium, Response: Alert, Contain: true,
		Blinds: "the responder's asynchronous invocation changed: no retries, a short maximum event age, or failures sent elsewhere",
		Undo:   redeploy,
	},
	{
		Source: lambda, Name: "UpdateFunctionEventInvokeConfig", LoggedAs: []string{"UpdateFunctionEventInvokeConfig20190925", "UpdateFunctionEventInvokeConfig"}, Resource: Function, TargetIn: []string{"functionName"},
		Severity: High, FailedSeverity: Medium, Response: Alert, Contain: true,
		Blinds: "the responder's asynchronous invocation changed: no retries, a short maximum event age, or failures sent elsewhere",
		Undo:   redeploy,
	},
	{
		Source: lambda, Name: "DeleteFunctionEventInvokeConfig", LoggedAs: []string{"DeleteFunctionEventInvokeConfig20190925", "DeleteFunctionEventInvokeConfig"}, Resource: Function, TargetIn: []string{"functionName"},
		Severity: High, FailedSeverity: Medium, Response: Alert, Contain: true,
		Blinds: "the responder's on-failure destination and retry settings are gone: failed events vanish",
		Undo:   redeploy,
	},
	{
		Source: lambda, Name: "UpdateAlias", LoggedAs: []string{"UpdateAlias20150331", "UpdateAlias"}, Resource: Function, TargetIn: []string{"functionName"},
		Severity: High, FailedSeverity: Medium, Response: Alert, Contain: true,
		Blinds: "an alias of the responder points at another version: a rule invoking it runs other code",
		Undo:   "aws lambda update-alias back to the deployed version; " + redeploy,
	},
	{
		Source: lambda, Name: "DeleteAlias", LoggedAs: []string{"DeleteAlias20150331", "DeleteAlias"}, Resource: Function, TargetIn: []string{"functionName"},
		Severity: High, FailedSeverity: Medium, Response: Alert, Contain: true,
		Blinds: "an alias of the responder is gone: a rule invoking it fails",
		Undo:   redeploy,
	},
	{
		Source: sns, Name: "SetTopicAttributes", Resource: Topic, TargetIn: []string{"topicArn"},
		Severity: High, FailedSeverity: Medium, Response: Alert, Contain: true,
		Blinds: "the alert topic's policy, key or delivery policy changed: alerts (and alarms) may no longer be delivered",
		Undo:   redeploy + "; check aws sns get-topic-attributes --topic-arn <topic>",
	},
	{
		Source: sns, Name: "RemovePermission", Resource: Topic, TargetIn: []string{"topicArn"},
		Severity: High, FailedSeverity: Medium, Response: Alert, Contain: true,
		Blinds: "a statement of the alert topic's policy removed: the alarms or the owners' rules may no longer publish",
		Undo:   redeploy,
	},
}

// alarms are the calls on trailguard's own CloudWatch alarms (the failure
// alarms and the reconcile heartbeat).
var alarms = []Entry{
	{
		Source: monitoring, Name: "DisableAlarmActions", Resource: Alarm, TargetIn: []string{"alarmNames"},
		Severity: Critical, FailedSeverity: Medium, Response: EnableAlarmActions, Contain: true,
		Blinds: "trailguard's alarms no longer notify anyone: a silenced responder goes unnoticed",
		Undo:   "EnableAlarmActions on trailguard's alarms named in the call (the owners' direct rule carries this alert too)",
	},
	{
		Source: monitoring, Name: "DeleteAlarms", Resource: Alarm, TargetIn: []string{"alarmNames"},
		Severity: Critical, FailedSeverity: Medium, Response: Alert, Contain: true,
		Blinds: "trailguard's alarms are gone: a silenced responder goes unnoticed",
		Undo:   redeploy,
	},
	{
		Source: monitoring, Name: "PutMetricAlarm", Resource: Alarm, TargetIn: []string{"alarmName"},
		Severity: High, FailedSeverity: Medium, Response: Alert, Contain: true,
		Blinds: "one of trailguard's alarms rewritten: another metric, threshold or action",
		Undo:   redeploy,
	},
}

// roleChanges are the IAM calls that change what the responder's role may do.
var roleChanges = func() []Entry {
	var out []Entry
	for _, name := range []string{"PutRolePolicy", "AttachRolePolicy", "DetachRolePolicy", "UpdateAssumeRolePolicy", "PutRolePermissionsBoundary", "DeleteRolePermissionsBoundary", "DeleteRole"} {
		out = append(out, Entry{
			Source: iam, Name: name, Resource: Role, TargetIn: []string{"roleName"},
			Severity: Critical, FailedSeverity: Medium, Response: Alert, Contain: true,
			Blinds: "the responder's role changed: it may lose the rights to restore and contain, or gain others",
			Undo:   redeploy,
		})
	}
	return out
}()

// containment are the calls that undo a containment: the principal who undid
// it is contained in turn. An active key of a quarantined user is inert (the
// deny-all policy stays attached) and becomes dangerous only once the policy
// is detached, which is watched; so UpdateAccessKey is not a row: without a
// record of which keys trailguard deactivated, every key activation in the
// account would page.
var containment = []Entry{
	{
		Source: iam, Name: "DetachUserPolicy", Resource: Contained, TargetIn: []string{"userName"},
		Severity: Critical, FailedSeverity: Medium, Response: Requarantine, Contain: true, Judged: true,
		Blinds: "the quarantine policy detached from a user trailguard contained: the user acts again",
		Undo:   "AttachUserPolicy of the quarantine policy again (to lift a quarantine, first add the user to TRAILGUARD_ALLOW)",
	},
	{
		Source: iam, Name: "DeleteRolePolicy", Resource: Role, TargetIn: []string{"roleName"},
		Severity: Critical, FailedSeverity: Medium, Response: RestoreRevocation, Contain: true, Judged: true,
		Blinds: "trailguard's session revocation removed from a contained role (its old sessions act again), or the responder's role changed",
		Undo:   "write the revocation policy again, revoking every session issued until now (to lift it, first add the role to TRAILGUARD_ALLOW); on the responder's role: " + redeploy,
	},
	{
		Source: iam, Name: "CreatePolicyVersion", Resource: Contained, TargetIn: []string{"policyArn"},
		Severity: Critical, FailedSeverity: Medium, Response: RestoreQuarantinePolicy, Contain: true, Judged: true,
		Blinds: "the (customer-managed) quarantine policy rewritten: every quarantined user may act again",
		Undo:   "CreatePolicyVersion with the deny-all document, as the default version",
	},
	{
		Source: iam, Name: "SetDefaultPolicyVersion", Resource: Contained, TargetIn: []string{"policyArn"},
		Severity: Critical, FailedSeverity: Medium, Response: RestoreQuarantinePolicy, Contain: true,
		Blinds: "another version of the (customer-managed) quarantine policy made the default: every quarantined user may act again",
		Undo:   "CreatePolicyVersion with the deny-all document, as the default version",
	},
}
