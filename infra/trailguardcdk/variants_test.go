package trailguardcdk_test

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/trailguard/trailguard/infra/trailguardcdk"
	"github.com/trailguard/trailguard/internal/grants"
	"github.com/trailguard/trailguard/internal/trail"
)

const existingBucket = "org-trail-logs"

// existingStack protects a trail created elsewhere, in us-east-1, in
// dry-run mode with a custom quarantine policy.
var existingStack = sync.OnceValue(func() *synthesized {
	return synth(&trailguardcdk.TrailguardStackProps{
		StackProps: awscdk.StackProps{Env: &awscdk.Environment{Account: jsii.String("111111111111"), Region: jsii.String("us-east-1")}},
		Protection: trailguardcdk.ProtectionProps{
			ExistingTrail: &trailguardcdk.ExistingTrail{
				Name:                      jsii.String("arn:aws:cloudtrail:eu-central-1:111111111111:trail/org"),
				BucketName:                jsii.String(existingBucket),
				KmsKeyArn:                 jsii.String("arn:aws:kms:eu-central-1:111111111111:key/abc"),
				CloudWatchLogsLogGroupArn: jsii.String("arn:aws:logs:eu-central-1:111111111111:log-group:trail:*"),
				CloudWatchLogsRoleArn:     jsii.String("arn:aws:iam::111111111111:role/trail-to-logs"),
			},
			Mode:                jsii.String(trailguardcdk.ModeDryRun),
			QuarantinePolicyArn: jsii.String("arn:aws:iam::111111111111:policy/Quarantine"),
			ReconcileEvery:      awscdk.Duration_Minutes(jsii.Number(15)),
			MinRetentionDays:    jsii.Number(400),
			Code:                fakeCode(&tempDirer{}),
		},
	})
})

func TestExistingTrailIsNotCreated(t *testing.T) {
	s := existingStack()
	for _, typ := range []string{"AWS::CloudTrail::Trail", "AWS::S3::Bucket", "AWS::KMS::Key"} {
		if n := len(s.ofType(typ)); n != 0 {
			t.Errorf("%d %s with an existing trail, want 0", n, typ)
		}
	}
	s.checkRules(t, expectedRules(true))
}

func TestExistingTrailBaselineAndPermissions(t *testing.T) {
	s := existingStack()
	_, fn := s.only(t, "AWS::Lambda::Function")
	vars := fn.Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
	if vars["TRAILGUARD_MODE"] != "dry-run" || vars["TRAILGUARD_QUARANTINE_POLICY_ARN"] != "arn:aws:iam::111111111111:policy/Quarantine" ||
		vars["TRAILGUARD_MIN_RETENTION_DAYS"] != "400" {
		t.Errorf("environment %v", vars)
	}
	var trails []trail.Config
	if err := json.Unmarshal([]byte(resolve(vars["TRAILGUARD_TRAILS"])), &trails); err != nil {
		t.Fatal(err)
	}
	want := trail.Config{
		Name: "org", S3BucketName: existingBucket, HomeRegion: "eu-central-1",
		IsMultiRegionTrail: jsii.Bool(true), IncludeGlobalServiceEvents: jsii.Bool(true), EnableLogFileValidation: jsii.Bool(true),
		KmsKeyID:                  jsii.String("arn:aws:kms:eu-central-1:111111111111:key/abc"),
		CloudWatchLogsLogGroupArn: jsii.String("arn:aws:logs:eu-central-1:111111111111:log-group:trail:*"),
		CloudWatchLogsRoleArn:     jsii.String("arn:aws:iam::111111111111:role/trail-to-logs"),
		EventSelectors:            []trail.EventSelector{{ReadWriteType: "All", IncludeManagementEvents: jsii.Bool(true)}},
	}
	if len(trails) != 1 || !reflect.DeepEqual(trails[0], want) {
		t.Errorf("TRAILGUARD_TRAILS = %s", resolve(vars["TRAILGUARD_TRAILS"]))
	}

	got, role := s.responderPolicy(t)
	topicID, _ := s.only(t, "AWS::SNS::Topic")
	logGroupID, _ := s.only(t, "AWS::Logs::LogGroup")
	_, eic := s.only(t, "AWS::Lambda::EventInvokeConfig")
	failures := ref(eic.Properties["DestinationConfig"].(map[string]any)["OnFailure"].(map[string]any)["Destination"])
	res := stackResources("arn:aws:cloudtrail:eu-central-1:111111111111:trail/org",
		"arn:aws:iam::111111111111:policy/Quarantine", topicID, logGroupID, role,
		"arn:{AWS::Partition}:s3:::"+existingBucket, s.checkOwnRules(t, expectedRules(true)))
	res[grants.TrailKey] = []string{"arn:aws:kms:eu-central-1:111111111111:key/abc"}
	res[grants.TrailLogGroup] = []string{"arn:aws:logs:eu-central-1:111111111111:log-group:trail:*"}
	res[grants.TrailLogsRole] = []string{"arn:aws:iam::111111111111:role/trail-to-logs"}
	tableID, _ := s.only(t, "AWS::DynamoDB::Table")
	res[grants.DedupTable] = []string{"{" + tableID + ".Arn}"}
	res[grants.OwnAlarms] = s.alarmARNs(t)
	fnID, _ := s.only(t, "AWS::Lambda::Function")
	res[grants.OwnFunction] = []string{"{" + fnID + ".Arn}"}
	expect := fromTable(res)
	expect = append(expect,
		statement{Effect: "Allow", Actions: []string{"sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SendMessage"},
			Resources: []string{"{" + failures + ".Arn}"}})
	compareStatements(t, got, expect)

	for _, r := range s.ofType("AWS::Events::Rule") {
		if e := r.Properties["ScheduleExpression"]; e != nil && e != "rate(15 minutes)" {
			t.Errorf("schedule %v, want rate(15 minutes)", e)
		}
	}
}

func TestExistingTrailNoUnsuppressedNagFindings(t *testing.T) {
	for _, f := range existingStack().nag {
		t.Errorf("cdk-nag: %s", f)
	}
}

// kmsStack encrypts with a customer key and adds Slack, in a region other
// than us-east-1 (so global-service rules are left out).
var kmsStack = sync.OnceValue(func() *synthesized {
	return synth(&trailguardcdk.TrailguardStackProps{
		StackProps: awscdk.StackProps{Env: &awscdk.Environment{Account: jsii.String("111111111111"), Region: jsii.String("eu-west-1")}},
		Protection: trailguardcdk.ProtectionProps{
			AlertEmails:         jsii.Strings("sec@example.com"),
			EncryptWithKms:      jsii.Bool(true),
			SlackWorkspaceID:    jsii.String("T0123456"),
			SlackChannelID:      jsii.String("C0123456"),
			ReservedConcurrency: jsii.Number(0),
			SecurityHub:         jsii.Bool(true),
			Code:                fakeCode(&tempDirer{}),
		},
	})
})

// With SecurityHub the responder is told to import findings and may call
// exactly BatchImportFindings, on the account's default product only.
func TestSecurityHubOptInSetsTheSettingAndTheOneGrant(t *testing.T) {
	s := kmsStack()
	if env := s.env(t); env["TRAILGUARD_SECURITYHUB"] != "true" {
		t.Errorf("TRAILGUARD_SECURITYHUB = %q, want true", env["TRAILGUARD_SECURITYHUB"])
	}
	got, _ := s.responderPolicy(t)
	var hub []statement
	for _, st := range got {
		for _, a := range st.Actions {
			if strings.HasPrefix(a, "securityhub:") {
				hub = append(hub, st)
				break
			}
		}
	}
	compareStatements(t, hub, []statement{{Sid: "ImportFindings", Effect: "Allow", Actions: []string{"securityhub:BatchImportFindings"},
		Resources: []string{"arn:{AWS::Partition}:securityhub:{AWS::Region}:{AWS::AccountId}:product/{AWS::AccountId}/default"}}})
}

func TestKmsEncryptsTrailTopicQueuesAndBucket(t *testing.T) {
	s := kmsStack()
	keyID, key := s.only(t, "AWS::KMS::Key")
	if key.Properties["EnableKeyRotation"] != true || key.DeletionPolicy != "Retain" {
		t.Errorf("key %v (deletion %s)", key.Properties, key.DeletionPolicy)
	}
	keyArn := "{" + keyID + ".Arn}"
	_, tr := s.only(t, "AWS::CloudTrail::Trail")
	if resolve(tr.Properties["KMSKeyId"]) != keyArn {
		t.Errorf("trail KmsKeyId %v", tr.Properties["KMSKeyId"])
	}
	_, topic := s.only(t, "AWS::SNS::Topic")
	if resolve(topic.Properties["KmsMasterKeyId"]) != keyArn {
		t.Errorf("topic key %v", topic.Properties["KmsMasterKeyId"])
	}
	for id, q := range s.ofType("AWS::SQS::Queue") {
		if resolve(q.Properties["KmsMasterKeyId"]) != keyArn {
			t.Errorf("queue %s key %v", id, q.Properties["KmsMasterKeyId"])
		}
	}
	bucketID := ref(tr.Properties["S3BucketName"])
	trailArn := "arn:{AWS::Partition}:cloudtrail:eu-west-1:111111111111:trail/trailguard"
	s.checkTrailBucket(t, bucketID, trailArn)
	enc := s.resources[bucketID].Properties["BucketEncryption"].(map[string]any)["ServerSideEncryptionConfiguration"].([]any)[0].(map[string]any)
	def := enc["ServerSideEncryptionByDefault"].(map[string]any)
	if def["SSEAlgorithm"] != "aws:kms" || resolve(def["KMSMasterKeyID"]) != keyArn {
		t.Errorf("bucket encryption %v", enc)
	}

	// The key lets CloudTrail encrypt for this trail only, and CloudWatch
	// and EventBridge publish to the topic and dead-letter queue.
	bySid := map[string]statement{}
	for _, st := range statements(key.Properties["KeyPolicy"]) {
		bySid[st.Sid] = st
	}
	if st := bySid["CloudTrailEncryptLogs"]; st.Condition["StringEquals"]["aws:SourceArn"] != trailArn ||
		st.Condition["StringLike"]["kms:EncryptionContext:aws:cloudtrail:arn"] != "arn:{AWS::Partition}:cloudtrail:*:111111111111:trail/*" {
		t.Errorf("CloudTrail key grant %+v", st)
	}
	for _, sid := range []string{"CloudTrailDescribeKey", "AllowPublishFromcloudwatch", "AllowPublishFromevents"} {
		if _, ok := bySid[sid]; !ok {
			t.Errorf("key policy lacks %s", sid)
		}
	}

	// The responder gets the key through grants: a data key for the topic
	// (ours) and CDK's grant for the encrypted on-failure queue.
	got, _ := s.responderPolicy(t)
	var keyGrants [][]string
	for _, st := range got {
		if st.Sid == "" && len(st.Resources) == 1 && st.Resources[0] == keyArn {
			keyGrants = append(keyGrants, st.Actions)
		}
	}
	sort.Slice(keyGrants, func(i, j int) bool { return len(keyGrants[i]) < len(keyGrants[j]) })
	if want := [][]string{{"kms:Decrypt", "kms:GenerateDataKey"}, {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"}}; !reflect.DeepEqual(keyGrants, want) {
		t.Errorf("key keyGrants to the responder %v, want %v", keyGrants, want)
	}
	// And issue 5's grants, the key's recovery among them.
	mine := map[string]bool{"RestoreTrailBucket": true, "ReEnableOwnRules": true, "RecoverTrailKey": true, "ReadEventHistory": true, "KeepGapReports": true, "ListGapReports": true}
	var got5 []statement
	for _, st := range got {
		if mine[st.Sid] {
			got5 = append(got5, st)
		}
	}
	res := stackResources("", "", "", "", "", "arn:{AWS::Partition}:s3:::{"+bucketID+"}", s.checkOwnRules(t, expectedRules(false)))
	res[grants.TrailKey] = []string{keyArn}
	var want5 []statement
	for _, st := range fromTable(res) {
		if mine[st.Sid] {
			want5 = append(want5, st)
		}
	}
	compareStatements(t, got5, want5)

	// The baseline names the key.
	_, fn := s.only(t, "AWS::Lambda::Function")
	var trails []trail.Config
	vars := fn.Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
	if err := json.Unmarshal([]byte(resolve(vars["TRAILGUARD_TRAILS"])), &trails); err != nil || len(trails) != 1 ||
		trails[0].KmsKeyID == nil || *trails[0].KmsKeyID != keyArn || trails[0].HomeRegion != "eu-west-1" {
		t.Errorf("TRAILGUARD_TRAILS = %s", resolve(vars["TRAILGUARD_TRAILS"]))
	}
}

func TestKmsStackSlackAndRegion(t *testing.T) {
	s := kmsStack()
	_, slack := s.only(t, "AWS::Chatbot::SlackChannelConfiguration")
	topicID, _ := s.only(t, "AWS::SNS::Topic")
	p := slack.Properties
	if p["SlackWorkspaceId"] != "T0123456" || p["SlackChannelId"] != "C0123456" ||
		len(list(p["SnsTopicArns"])) != 1 || ref(list(p["SnsTopicArns"])[0]) != topicID {
		t.Errorf("slack configuration %v", p)
	}
	s.checkRules(t, expectedRules(false))
	_, fn := s.only(t, "AWS::Lambda::Function")
	if _, ok := fn.Properties["ReservedConcurrentExecutions"]; ok {
		t.Errorf("ReservedConcurrency 0 should leave the function unreserved")
	}
}

func TestKmsStackNoUnsuppressedNagFindings(t *testing.T) {
	for _, f := range kmsStack().nag {
		t.Errorf("cdk-nag: %s", f)
	}
}
