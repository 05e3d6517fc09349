package catalog

// The rows about the trail itself and what it depends on: the CloudTrail
// API, the bucket, the key, the log groups and the organization.

// trailAPI are CloudTrail's own calls, most damaging first.
var trailAPI = []Entry{
	{
		Source: cloudtrail, Name: "StopLogging", Resource: Trail,
		Severity: Critical, FailedSeverity: Medium,
		Response: StartLogging, Contain: true,
		Blinds: "the trail stops delivering events",
		Undo:   "StartLogging on the trail in its home region",
	},
	{
		Source: cloudtrail, Name: "DeleteTrail", Resource: Trail,
		Severity: Critical, FailedSeverity: Medium,
		Response: RecreateTrail, Contain: true,
		Blinds: "the trail is gone",
		Undo:   "CreateTrail from the baseline, PutEventSelectors, StartLogging",
	},
	{
		Source: cloudtrail, Name: "UpdateTrail", Resource: Trail,
		Severity: High, FailedSeverity: Medium,
		Response: RevertTrail, Contain: true, Judged: true,
		Blinds: "can move the bucket, turn off multi-region, global service events or log file validation, drop the KMS key or CloudWatch Logs",
		Undo:   "UpdateTrail back to the baseline, only the fields that got worse",
	},
	{
		Source: cloudtrail, Name: "PutEventSelectors", Resource: Trail,
		Severity: High, FailedSeverity: Medium,
		Response: RestoreSelectors, Contain: true, Judged: true,
		Blinds: "the trail looks alive but records no (or only some) management events",
		Undo:   "PutEventSelectors back to the baseline, or all management events keeping the data selectors",
	},
	{
		Source: cloudtrail, Name: "DeleteEventDataStore", Resource: EventDataStore,
		Severity: Critical, FailedSeverity: Medium,
		Response: RestoreEventDataStore, Contain: true,
		Blinds: "the CloudTrail Lake event data store is gone (restorable for 7 days)",
		Undo:   "RestoreEventDataStore",
	},
	{
		Source: cloudtrail, Name: "StopEventDataStoreIngestion", Resource: EventDataStore,
		Severity: High, FailedSeverity: Medium,
		Response: StartIngestion, Contain: true,
		Blinds: "the CloudTrail Lake event data store stops ingesting events",
		Undo:   "StartEventDataStoreIngestion",
	},
	{
		Source: cloudtrail, Name: "UpdateEventDataStore", Resource: EventDataStore,
		Severity: High, FailedSeverity: Medium,
		Response: Alert, Contain: false,
		Blinds: "can cut the event data store's retention, turn off termination protection or narrow its selectors",
		Undo:   "review the store's retention, termination protection and selectors and set them back with UpdateEventDataStore",
	},
	{
		Source: cloudtrail, Name: "CreateTrail", Resource: Trail,
		Severity: Info, FailedSeverity: Info, Response: Alert,
		Blinds: "a new trail; harmless by itself, but worth knowing who configures logging",
		Undo:   "none needed",
	},
	{
		Source: cloudtrail, Name: "StartLogging", Resource: Trail,
		Severity: Info, FailedSeverity: Info, Response: Alert,
		Blinds: "logging (re)started",
		Undo:   "none needed",
	},
	{
		Source: cloudtrail, Name: "AddTags", Resource: Trail,
		Severity: Info, FailedSeverity: Info, Response: Alert,
		Blinds: "tags changed; tags can steer tag-based policies and automation",
		Undo:   "none needed",
	},
	{
		Source: cloudtrail, Name: "RemoveTags", Resource: Trail,
		Severity: Info, FailedSeverity: Info, Response: Alert,
		Blinds: "tags removed; tags can steer tag-based policies and automation",
		Undo:   "none needed",
	},
	{
		Source: cloudtrail, Name: "PutInsightSelectors", Resource: Trail,
		Severity: Info, FailedSeverity: Info, Response: Alert,
		Blinds: "CloudTrail Insights changed: unusual-activity detection may be off",
		Undo:   "review the trail's Insights selectors",
	},
	{
		Source: cloudtrail, Name: "CreateEventDataStore", Resource: EventDataStore,
		Severity: Info, FailedSeverity: Info, Response: Alert,
		Blinds: "a new CloudTrail Lake event data store",
		Undo:   "none needed",
	},
	{
		Source: cloudtrail, Name: "StartEventDataStoreIngestion", Resource: EventDataStore,
		Severity: Info, FailedSeverity: Info, Response: Alert,
		Blinds: "a CloudTrail Lake event data store ingests again",
		Undo:   "none needed",
	},
}

// The trail's surroundings: the bucket, key and log group it depends on.
var surroundings = []Entry{
	{
		Source: s3, Name: "PutBucketLifecycle", Resource: Bucket,
		Severity: High, FailedSeverity: Medium, Response: FixLifecycle, Contain: true, Judged: true,
		Blinds: "a lifecycle rule on the trail bucket deletes logs early (one day, in the known attack)",
		Undo:   "remove the lifecycle rules that expire logs before the minimum retention",
	},
	{
		Source: s3, Name: "PutBucketPolicy", Resource: Bucket,
		Severity: High, FailedSeverity: Medium, Response: RestoreBucketPolicy, Contain: true, Judged: true,
		Blinds: "a bucket policy without CloudTrail's grant (or denying it) stops log delivery",
		Undo:   "put CloudTrail's grants back into the bucket policy",
	},
	{
		Source: s3, Name: "DeleteBucketPolicy", Resource: Bucket,
		Severity: High, FailedSeverity: Medium, Response: RestoreBucketPolicy, Contain: true,
		Blinds: "without a bucket policy CloudTrail cannot write its logs",
		Undo:   "put the bucket policy with CloudTrail's grants back",
	},
	{
		Source: s3, Name: "DeleteBucket", Resource: Bucket,
		Severity: Critical, FailedSeverity: Medium, Response: RecreateBucket, Contain: true,
		Blinds: "the trail's delivery target is gone",
		Undo:   "create the bucket again (public access blocked, versioned) with CloudTrail's grants; if the name was taken meanwhile, point the trail at a new bucket",
	},
	{
		Source: kms, Name: "DisableKey", Resource: Key,
		Severity: High, FailedSeverity: Medium, Response: EnableKey, Contain: true,
		Blinds: "CloudTrail cannot encrypt with a disabled key: delivery stops",
		Undo:   "EnableKey",
	},
	{
		Source: kms, Name: "ScheduleKeyDeletion", Resource: Key,
		Severity: Critical, FailedSeverity: Medium, Response: CancelKeyDeletion, Contain: true,
		Blinds: "the trail's key is disabled now and deleted later, with every log encrypted by it",
		Undo:   "CancelKeyDeletion, then EnableKey",
	},
	{
		Source: kms, Name: "PutKeyPolicy", Resource: Key,
		Severity: High, FailedSeverity: Medium, Response: Alert, Contain: true, Judged: true,
		Blinds: "a key policy without CloudTrail's grant stops encrypted delivery",
		Undo:   "review the key policy: CloudTrail needs kms:GenerateDataKey* with an aws:SourceArn condition naming the trail (restoring a key policy automatically is riskier than a person doing it)",
	},
	{
		Source: logs, Name: "DeleteLogGroup", Resource: LogGroup,
		Severity: High, FailedSeverity: Medium, Response: RecreateLogGroup, Contain: true,
		Blinds: "the trail's real-time copy in CloudWatch Logs (and its metric filters and alarms) is lost",
		Undo:   "CreateLogGroup with the same name; recreate its metric filters and retention",
	},
	{
		Source: organizations, Name: "LeaveOrganization", Resource: Organization,
		Severity: Critical, FailedSeverity: Critical, Response: Alert, Contain: true,
		Blinds: "the organization trail and the SCPs stop applying to this account",
		Undo:   "from the management account, invite the account back (InviteAccountToOrganization) and accept; then check the organization trail and SCPs cover it again",
	},
}

// bucketProtections are the trail bucket's settings beyond its policy and
// lifecycle. Versioning and the public access block have a safe undo; the
// others depend on what the owners chose and are alerted with the command.
var bucketProtections = []Entry{
	{
		Source: s3, Name: "PutBucketVersioning", Resource: Bucket, TargetIn: []string{"bucketName"},
		Severity: High, FailedSeverity: Medium, Response: EnableVersioning, Contain: true, Judged: true,
		Blinds: "versioning suspended on the trail bucket: an overwritten or deleted log file cannot be recovered",
		Undo:   "PutBucketVersioning Status=Enabled",
	},
	{
		Source: s3, Name: "PutBucketPublicAccessBlock", Resource: Bucket, TargetIn: []string{"bucketName"},
		Severity: High, FailedSeverity: Medium, Response: BlockPublicAccess, Contain: true, Judged: true,
		Blinds: "the trail bucket's public access block weakened: a policy or ACL can now publish the logs",
		Undo:   "PutPublicAccessBlock with BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy and RestrictPublicBuckets on",
	},
	{
		Source: s3, Name: "DeleteBucketPublicAccessBlock", Resource: Bucket, TargetIn: []string{"bucketName"},
		Severity: High, FailedSeverity: Medium, Response: BlockPublicAccess, Contain: true,
		Blinds: "the trail bucket's public access block removed: a policy or ACL can now publish the logs",
		Undo:   "PutPublicAccessBlock with all four switches on",
	},
	{
		Source: s3, Name: "PutBucketAcl", Resource: Bucket, TargetIn: []string{"bucketName"},
		Severity: High, FailedSeverity: Medium, Response: Alert, Contain: true, Judged: true,
		Blinds: "an ACL on the trail bucket grants the public or another account access to the logs",
		Undo:   "aws s3api put-bucket-acl --bucket <bucket> --acl private (then check aws s3api get-bucket-acl)",
	},
	{
		Source: s3, Name: "PutBucketEncryption", Resource: Bucket, TargetIn: []string{"bucketName"},
		Severity: High, FailedSeverity: Medium, Response: Alert, Contain: true, Judged: true,
		Blinds: "the trail bucket's default encryption uses a key of another account: its owner can make new objects unreadable",
		Undo:   "aws s3api put-bucket-encryption --bucket <bucket> with a key of this account (or SSE-S3: SSEAlgorithm=AES256)",
	},
	{
		Source: s3, Name: "PutBucketReplication", Resource: Bucket, TargetIn: []string{"bucketName"},
		Severity: High, FailedSeverity: Medium, Response: Alert,
		Blinds: "the trail bucket replicates its logs elsewhere (possibly another account): the record leaves the account",
		Undo:   "review aws s3api get-bucket-replication --bucket <bucket>; remove it with aws s3api delete-bucket-replication --bucket <bucket>",
	},
	{
		Source: s3, Name: "PutBucketOwnershipControls", Resource: Bucket, TargetIn: []string{"bucketName"},
		Severity: High, FailedSeverity: Medium, Response: Alert,
		Blinds: "the trail bucket's object ownership changed: ACLs apply again and objects may belong to the writer",
		Undo:   "aws s3api put-bucket-ownership-controls --bucket <bucket> --ownership-controls 'Rules=[{ObjectOwnership=BucketOwnerEnforced}]'",
	},
}

// logGroupChanges are the calls that thin out the trail's CloudWatch Logs
// copy or the responder's own log.
var logGroupChanges = []Entry{
	{
		Source: logs, Name: "PutRetentionPolicy", Resource: LogGroup, TargetIn: []string{"logGroupName"},
		Severity: High, FailedSeverity: Medium, Response: RestoreRetention, Contain: true, Judged: true,
		Blinds: "a retention shorter than the minimum deletes the log group's events early",
		Undo:   "PutRetentionPolicy back to the minimum retention",
	},
	{
		Source: logs, Name: "DeleteMetricFilter", Resource: LogGroup, TargetIn: []string{"logGroupName"},
		Severity: High, FailedSeverity: Medium, Response: Alert, Contain: true,
		Blinds: "a metric filter on the log group is gone: the alarms built on it (CIS 4.x) stay silent",
		Undo:   "recreate the metric filter (aws logs put-metric-filter) as your monitoring defines it, and check its alarm",
	},
	{
		Source: logs, Name: "DeleteSubscriptionFilter", Resource: LogGroup, TargetIn: []string{"logGroupName"},
		Severity: High, FailedSeverity: Medium, Response: Alert, Contain: true,
		Blinds: "a subscription filter on the log group is gone: events no longer stream to the SIEM or archive",
		Undo:   "recreate the subscription filter (aws logs put-subscription-filter) as your pipeline defines it",
	},
}

// organizationSwitches are the organization's settings, seen from the
// management account, that turn the organization trail or the SCPs off.
var organizationSwitches = []Entry{
	{
		Source: organizations, Name: "DisableAWSServiceAccess", Resource: Organization, TargetIn: []string{"servicePrincipal"},
		Severity: Critical, FailedSeverity: Medium, Response: Alert, Contain: true, Judged: true,
		Blinds: "CloudTrail's trusted access in the organization turned off: organization trails stop covering the member accounts",
		Undo:   "aws organizations enable-aws-service-access --service-principal cloudtrail.amazonaws.com, then check the organization trail logs every account",
	},
	{
		Source: organizations, Name: "DeregisterDelegatedAdministrator", Resource: Organization, TargetIn: []string{"servicePrincipal"},
		Severity: High, FailedSeverity: Medium, Response: Alert, Contain: true, Judged: true,
		Blinds: "CloudTrail's delegated administrator removed: the security account no longer manages the organization trail",
		Undo:   "aws organizations register-delegated-administrator --account-id <security account> --service-principal cloudtrail.amazonaws.com",
	},
	{
		Source: organizations, Name: "DetachPolicy", Resource: Organization, TargetIn: []string{"policyId"},
		Severity: High, FailedSeverity: Medium, Response: Alert, Contain: true,
		Blinds: "a policy (an SCP, possibly trailguard's guardrails) detached from a root, OU or account",
		Undo:   "aws organizations attach-policy --policy-id <policy> --target-id <target> (both in the event's requestParameters)",
	},
}
