package catalog

import "slices"

// Permission is what IAM authorises a catalog entry's call with: the actions
// a policy names to allow or deny it. The event name and the IAM action differ
// often enough (PutBucketLifecycle is s3:PutLifecycleConfiguration, Lambda
// logs versioned names) that guessing one from the other is wrong, so the map
// is written out and checked against the Service Authorization Reference.
type Permission struct {
	// Actions are the IAM actions ("service:Action") that authorise the call.
	Actions []string
	// NoDeny, when set, says why a guardrail cannot deny the call on the
	// protected resource alone even though it is tampering.
	NoDeny string
}

// iamActions maps each entry (by eventSource and Name) to its permission. A
// test proves every entry has a row and every row an entry: whoever adds a
// catalog row adds its IAM action here.
var iamActions = map[eventKey]Permission{
	{cloudtrail, "StopLogging"}:                  {Actions: []string{"cloudtrail:StopLogging"}},
	{cloudtrail, "DeleteTrail"}:                  {Actions: []string{"cloudtrail:DeleteTrail"}},
	{cloudtrail, "UpdateTrail"}:                  {Actions: []string{"cloudtrail:UpdateTrail"}},
	{cloudtrail, "PutEventSelectors"}:            {Actions: []string{"cloudtrail:PutEventSelectors"}},
	{cloudtrail, "DeleteEventDataStore"}:         {Actions: []string{"cloudtrail:DeleteEventDataStore"}},
	{cloudtrail, "StopEventDataStoreIngestion"}:  {Actions: []string{"cloudtrail:StopEventDataStoreIngestion"}},
	{cloudtrail, "UpdateEventDataStore"}:         {Actions: []string{"cloudtrail:UpdateEventDataStore"}},
	{cloudtrail, "CreateTrail"}:                  {Actions: []string{"cloudtrail:CreateTrail"}},
	{cloudtrail, "StartLogging"}:                 {Actions: []string{"cloudtrail:StartLogging"}},
	{cloudtrail, "AddTags"}:                      {Actions: []string{"cloudtrail:AddTags"}},
	{cloudtrail, "RemoveTags"}:                   {Actions: []string{"cloudtrail:RemoveTags"}},
	{cloudtrail, "PutInsightSelectors"}:          {Actions: []string{"cloudtrail:PutInsightSelectors"}},
	{cloudtrail, "CreateEventDataStore"}:         {Actions: []string{"cloudtrail:CreateEventDataStore"}},
	{cloudtrail, "StartEventDataStoreIngestion"}: {Actions: []string{"cloudtrail:StartEventDataStoreIngestion"}},

	// S3 logs the API operation; IAM authorises the configuration.
	{s3, "PutBucketLifecycle"}: {Actions: []string{"s3:PutLifecycleConfiguration"}},
	{s3, "PutBucketPolicy"}:    {Actions: []string{"s3:PutBucketPolicy"}},
	{s3, "DeleteBucketPolicy"}: {Actions: []string{"s3:DeleteBucketPolicy"}},
	{s3, "DeleteBucket"}:       {Actions: []string{"s3:DeleteBucket"}},

	{s3, "PutBucketVersioning"}:        {Actions: []string{"s3:PutBucketVersioning"}},
	{s3, "PutBucketPublicAccessBlock"}: {Actions: []string{"s3:PutBucketPublicAccessBlock"}},
	// Deleting the block is authorised as putting one.
	{s3, "DeleteBucketPublicAccessBlock"}: {Actions: []string{"s3:PutBucketPublicAccessBlock"}},
	{s3, "PutBucketAcl"}:                  {Actions: []string{"s3:PutBucketAcl"}},
	{s3, "PutBucketEncryption"}:           {Actions: []string{"s3:PutEncryptionConfiguration"}},
	{s3, "PutBucketReplication"}:          {Actions: []string{"s3:PutReplicationConfiguration"}},
	{s3, "PutBucketOwnershipControls"}:    {Actions: []string{"s3:PutBucketOwnershipControls"}},

	{logs, "PutRetentionPolicy"}:       {Actions: []string{"logs:PutRetentionPolicy"}},
	{logs, "DeleteMetricFilter"}:       {Actions: []string{"logs:DeleteMetricFilter"}},
	{logs, "DeleteSubscriptionFilter"}: {Actions: []string{"logs:DeleteSubscriptionFilter"}},

	{organizations, "DisableAWSServiceAccess"}: {Actions: []string{"organizations:DisableAWSServiceAccess"},
		NoDeny: "a management-account call, and SCPs do not bind the management account"},
	{organizations, "DeregisterDelegatedAdministrator"}: {Actions: []string{"organizations:DeregisterDelegatedAdministrator"},
		NoDeny: "a management-account call, and SCPs do not bind the management account"},
	{organizations, "DetachPolicy"}: {Actions: []string{"organizations:DetachPolicy"},
		NoDeny: "a management-account call, and SCPs do not bind the management account"},

	{lambda, "AddPermission"}:                   {Actions: []string{"lambda:AddPermission"}},
	{lambda, "PutFunctionEventInvokeConfig"}:    {Actions: []string{"lambda:PutFunctionEventInvokeConfig"}},
	{lambda, "UpdateFunctionEventInvokeConfig"}: {Actions: []string{"lambda:UpdateFunctionEventInvokeConfig"}},
	{lambda, "DeleteFunctionEventInvokeConfig"}: {Actions: []string{"lambda:DeleteFunctionEventInvokeConfig"}},
	{lambda, "UpdateAlias"}:                     {Actions: []string{"lambda:UpdateAlias"}},
	{lambda, "DeleteAlias"}:                     {Actions: []string{"lambda:DeleteAlias"}},
	{sns, "SetTopicAttributes"}:                 {Actions: []string{"sns:SetTopicAttributes"}},
	{sns, "RemovePermission"}:                   {Actions: []string{"sns:RemovePermission"}},

	{monitoring, "DisableAlarmActions"}: {Actions: []string{"cloudwatch:DisableAlarmActions"}, NoDeny: alarmNoDeny},
	{monitoring, "DeleteAlarms"}:        {Actions: []string{"cloudwatch:DeleteAlarms"}, NoDeny: alarmNoDeny},
	{monitoring, "PutMetricAlarm"}:      {Actions: []string{"cloudwatch:PutMetricAlarm"}, NoDeny: alarmNoDeny},

	{kms, "DisableKey"}:          {Actions: []string{"kms:DisableKey"}},
	{kms, "ScheduleKeyDeletion"}: {Actions: []string{"kms:ScheduleKeyDeletion"}},
	{kms, "PutKeyPolicy"}:        {Actions: []string{"kms:PutKeyPolicy"}},

	{logs, "DeleteLogGroup"}: {Actions: []string{"logs:DeleteLogGroup"}},

	{organizations, "LeaveOrganization"}: {Actions: []string{"organizations:LeaveOrganization"}},

	{events, "DisableRule"}:   {Actions: []string{"events:DisableRule"}},
	{events, "DeleteRule"}:    {Actions: []string{"events:DeleteRule"}},
	{events, "RemoveTargets"}: {Actions: []string{"events:RemoveTargets"}},
	{events, "PutRule"}:       {Actions: []string{"events:PutRule"}},
	{events, "PutTargets"}:    {Actions: []string{"events:PutTargets"}},

	// Lambda logs names with API versions (UpdateFunctionCode20150331v2);
	// IAM knows the unversioned action.
	{lambda, "DeleteFunction"}:              {Actions: []string{"lambda:DeleteFunction"}},
	{lambda, "UpdateFunctionCode"}:          {Actions: []string{"lambda:UpdateFunctionCode"}},
	{lambda, "UpdateFunctionConfiguration"}: {Actions: []string{"lambda:UpdateFunctionConfiguration"}},
	{lambda, "PutFunctionConcurrency"}:      {Actions: []string{"lambda:PutFunctionConcurrency"}},
	{lambda, "DeleteFunctionConcurrency"}:   {Actions: []string{"lambda:DeleteFunctionConcurrency"}},
	{lambda, "RemovePermission"}:            {Actions: []string{"lambda:RemovePermission"}},

	{sns, "DeleteTopic"}: {Actions: []string{"sns:DeleteTopic"}},
	{sns, "Unsubscribe"}: {
		Actions: []string{"sns:Unsubscribe"},
		NoDeny:  "sns:Unsubscribe names the subscription, not the topic, in IAM: a policy can deny it only for every topic at once",
	},

	{iam, "PutRolePolicy"}:                 {Actions: []string{"iam:PutRolePolicy"}},
	{iam, "DeleteRolePolicy"}:              {Actions: []string{"iam:DeleteRolePolicy"}},
	{iam, "AttachRolePolicy"}:              {Actions: []string{"iam:AttachRolePolicy"}},
	{iam, "DetachRolePolicy"}:              {Actions: []string{"iam:DetachRolePolicy"}},
	{iam, "UpdateAssumeRolePolicy"}:        {Actions: []string{"iam:UpdateAssumeRolePolicy"}},
	{iam, "PutRolePermissionsBoundary"}:    {Actions: []string{"iam:PutRolePermissionsBoundary"}},
	{iam, "DeleteRolePermissionsBoundary"}: {Actions: []string{"iam:DeleteRolePermissionsBoundary"}},
	{iam, "DeleteRole"}:                    {Actions: []string{"iam:DeleteRole"}},

	// Undoing a containment.
	{iam, "DetachUserPolicy"}: {
		Actions: []string{"iam:DetachUserPolicy"},
		NoDeny:  "the contained users are known only at run time, and IAM cannot condition iam:DetachUserPolicy on the policy being detached's tag",
	},
	{iam, "CreatePolicyVersion"}: {
		Actions: []string{"iam:CreatePolicyVersion"},
		NoDeny:  "the quarantine policy is a setting of the responder, not of the guardrails: deny iam:CreatePolicyVersion and iam:SetDefaultPolicyVersion on it in your own SCP",
	},
	{iam, "SetDefaultPolicyVersion"}: {
		Actions: []string{"iam:SetDefaultPolicyVersion"},
		NoDeny:  "the quarantine policy is a setting of the responder, not of the guardrails: deny iam:CreatePolicyVersion and iam:SetDefaultPolicyVersion on it in your own SCP",
	},
}

const alarmNoDeny = "the guardrails are not given trailguard's alarm names: deny cloudwatch:DisableAlarmActions, DeleteAlarms and PutMetricAlarm on arn:aws:cloudwatch:*:<account>:alarm:trailguard-* in your own SCP"

// IAMPermission returns the IAM permission of an entry's call; ok is false
// only for an entry the map lacks (a test keeps that from shipping).
func IAMPermission(e Entry) (p Permission, ok bool) {
	p, ok = iamActions[eventKey{e.Source, e.Name}]
	p.Actions = slices.Clone(p.Actions)
	return p, ok
}

// restoreActions are the IAM actions each restoring response calls: what a
// guardrail must leave to the responder (and, for the calls that are not
// themselves tampering, to everyone).
var restoreActions = map[Response][]string{
	StartLogging:          {"cloudtrail:StartLogging"},
	RecreateTrail:         {"cloudtrail:CreateTrail", "cloudtrail:AddTags", "cloudtrail:PutEventSelectors", "cloudtrail:StartLogging"},
	RevertTrail:           {"cloudtrail:UpdateTrail"},
	RestoreSelectors:      {"cloudtrail:PutEventSelectors"},
	RestoreEventDataStore: {"cloudtrail:RestoreEventDataStore"},
	StartIngestion:        {"cloudtrail:StartEventDataStoreIngestion"},
	// DeleteBucketLifecycle is authorised by s3:PutLifecycleConfiguration too.
	FixLifecycle:        {"s3:PutLifecycleConfiguration"},
	RestoreBucketPolicy: {"s3:PutBucketPolicy"},
	RecreateBucket:      {"s3:CreateBucket", "s3:PutBucketPolicy", "s3:PutBucketVersioning", "s3:PutBucketPublicAccessBlock"},
	EnableKey:           {"kms:EnableKey"},
	CancelKeyDeletion:   {"kms:CancelKeyDeletion", "kms:EnableKey"},
	RecreateLogGroup:    {"logs:CreateLogGroup"},
	EnableRule:          {"events:EnableRule"},
	RestoreRule:         {"events:DescribeRule", "events:PutRule"},
	EnableVersioning:    {"s3:PutBucketVersioning"},
	BlockPublicAccess:   {"s3:PutBucketPublicAccessBlock"},
	RestoreRetention:    {"logs:PutRetentionPolicy"},
	RestoreTargets:      {"events:ListTargetsByRule", "events:PutTargets", "events:RemoveTargets"},
	EnableAlarmActions:  {"cloudwatch:EnableAlarmActions"},
	Requarantine:        {"iam:AttachUserPolicy"},
	RestoreRevocation:   {"iam:GetRolePolicy", "iam:PutRolePolicy"},
	// Five versions at most: the oldest non-default one is deleted to make room.
	RestoreQuarantinePolicy: {"iam:CreatePolicyVersion", "iam:ListPolicyVersions", "iam:DeletePolicyVersion"},
}

// RestoreActions returns the IAM actions the restore of r calls (none for
// Alert).
func RestoreActions(r Response) []string {
	return slices.Clone(restoreActions[r])
}
