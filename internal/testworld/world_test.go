package testworld_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/trailguard/trailguard/internal/testworld"
)

// cloudTrailEvent is an EventBridge event carrying a CloudTrail record, as
// AWS delivers it.
func cloudTrailEvent(eventID, eventName, identityType string) []byte {
	return fmt.Appendf(nil, `{"version":"0","id":"x","source":"aws.cloudtrail","detail-type":"AWS API Call via CloudTrail",
"account":"000000000000","region":"us-east-1","resources":[],
"detail":{"eventVersion":"1.08","eventID":%q,"eventName":%q,"eventSource":"cloudtrail.amazonaws.com",
"userIdentity":{"type":%q,"userName":"mallory"},"requestParameters":{"name":"main"}}}`, eventID, eventName, identityType)
}

const tamperPattern = `{"source":["aws.cloudtrail"],"detail-type":["AWS API Call via CloudTrail"],
"detail":{"eventSource":["cloudtrail.amazonaws.com"],"eventName":["StopLogging","DeleteTrail"],"userIdentity":{"type":["IAMUser"]}}}`

func TestCreateLoggingTrail(t *testing.T) {
	srv, ctx := start(t)

	arn, err := srv.CreateLoggingTrail(ctx, "world-trail", "world-trail-bucket")
	if err != nil {
		t.Fatal(err)
	}

	st, err := cloudtrail.NewFromConfig(srv.Config(ctx)).GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String(arn)})
	if err != nil || !aws.ToBool(st.IsLogging) {
		t.Errorf("trail not logging: %+v, %v", st, err)
	}
}

func TestIAMContainmentCalls(t *testing.T) {
	srv, ctx := start(t)
	c := iam.NewFromConfig(srv.Config(ctx))

	_, key, err := srv.CreateUserWithKey(ctx, "mallory")
	if err != nil {
		t.Fatal(err)
	}

	policy, err := srv.CreateDenyAllPolicy(ctx, "quarantine")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("AttachUserPolicy shows in ListAttachedUserPolicies", func(t *testing.T) {
		if _, err := c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("mallory"), PolicyArn: aws.String(policy)}); err != nil {
			t.Fatal(err)
		}

		out, err := c.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String("mallory")})
		if err != nil || len(out.AttachedPolicies) != 1 || aws.ToString(out.AttachedPolicies[0].PolicyArn) != policy {
			t.Errorf("attached = %+v, %v", out, err)
		}
	})

	t.Run("UpdateAccessKey deactivates", func(t *testing.T) {
		if _, err := c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{
			UserName: aws.String("mallory"), AccessKeyId: aws.String(key), Status: iamtypes.StatusTypeInactive,
		}); err != nil {
			t.Fatal(err)
		}

		out, err := c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("mallory")})
		if err != nil || len(out.AccessKeyMetadata) != 1 || out.AccessKeyMetadata[0].Status != iamtypes.StatusTypeInactive {
			t.Errorf("keys = %+v, %v", out, err)
		}
	})

	t.Run("PutRolePolicy shows in GetRolePolicy", func(t *testing.T) {
		if _, err := srv.CreateRole(ctx, "ops"); err != nil {
			t.Fatal(err)
		}

		doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"2030-01-01T00:00:00Z"}}}]}`
		if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{
			RoleName: aws.String("ops"), PolicyName: aws.String("revoke"), PolicyDocument: aws.String(doc),
		}); err != nil {
			t.Fatal(err)
		}

		out, err := c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("ops"), PolicyName: aws.String("revoke")})
		if err != nil {
			t.Fatal(err)
		}

		// AWS returns the document URL-encoded; accept either form.
		got := aws.ToString(out.PolicyDocument)
		if dec, err := url.QueryUnescape(got); err == nil {
			got = dec
		}

		if !strings.Contains(got, "aws:TokenIssueTime") {
			t.Errorf("GetRolePolicy document = %q", aws.ToString(out.PolicyDocument))
		}

		t.Logf("GetRolePolicy document URL-encoded: %v", got != aws.ToString(out.PolicyDocument))
	})
}

func TestSNSDeliversToSQS(t *testing.T) {
	srv, ctx := start(t)

	for _, raw := range []bool{false, true} {
		t.Run(fmt.Sprintf("raw=%v", raw), func(t *testing.T) {
			topic, queue, err := srv.CreateTopicWithQueue(ctx, fmt.Sprintf("alerts-raw-%v", raw), raw)
			if err != nil {
				t.Fatal(err)
			}

			if _, err := sns.NewFromConfig(srv.Config(ctx)).Publish(ctx, &sns.PublishInput{
				TopicArn: aws.String(topic), Subject: aws.String("trail stopped"), Message: aws.String(`{"hello":"world"}`),
			}); err != nil {
				t.Fatal(err)
			}

			msgs, err := srv.ReceiveMessages(ctx, queue, 1, 20*time.Second)
			if err != nil || len(msgs) != 1 {
				t.Fatalf("messages = %q, %v", msgs, err)
			}

			if raw {
				if msgs[0] != `{"hello":"world"}` {
					t.Errorf("raw delivery body = %q", msgs[0])
				}

				return
			}

			var n struct{ Type, Subject, Message, TopicArn string }
			if err := json.Unmarshal([]byte(msgs[0]), &n); err != nil || n.Type != "Notification" || n.Subject != "trail stopped" ||
				n.Message != `{"hello":"world"}` || n.TopicArn != topic {
				t.Errorf("wrapped delivery = %q (%v)", msgs[0], err)
			}
		})
	}
}

// TestEventBridgeMatchesCloudTrailPatterns checks kumo's pattern matching on
// source, detail-type, lists in detail and nested detail fields, through
// kumo's own record of matches and through delivery to an SQS target.
func TestEventBridgeMatchesCloudTrailPatterns(t *testing.T) {
	srv, ctx := start(t)
	q := sqs.NewFromConfig(srv.Config(ctx))

	queue, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("pattern-target")})
	if err != nil {
		t.Fatal(err)
	}

	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: queue.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		t.Fatal(err)
	}

	if _, err := srv.CreateRule(ctx, "pattern-rule", tamperPattern, attrs.Attributes["QueueArn"]); err != nil {
		t.Fatal(err)
	}

	events := []struct {
		id    string
		body  []byte
		match bool
	}{
		{"wrong-name", cloudTrailEvent("pat-wrong-name", "DescribeTrails", "IAMUser"), false},
		{"wrong-nested", cloudTrailEvent("pat-wrong-nested", "StopLogging", "Root"), false},
		{"wrong-source", []byte(strings.Replace(string(cloudTrailEvent("pat-wrong-source", "StopLogging", "IAMUser")), `"source":"aws.cloudtrail"`, `"source":"forged"`, 1)), false},
		{"stop", cloudTrailEvent("pat-stop", "StopLogging", "IAMUser"), true},
		{"delete", cloudTrailEvent("pat-delete", "DeleteTrail", "IAMUser"), true},
	}

	for _, e := range events {
		if err := srv.PutCloudTrailEvent(ctx, e.body); err != nil {
			t.Fatalf("%s: %v", e.id, err)
		}
	}

	delivered, err := srv.DeliveredEvents(ctx)
	if err != nil {
		t.Fatal(err)
	}

	matched := map[string]bool{}

	for _, d := range delivered {
		if d.RuleName == "pattern-rule" {
			for _, e := range events {
				if strings.Contains(d.Detail, `"pat-`+e.id+`"`) {
					matched[e.id] = true
				}
			}
		}
	}

	for _, e := range events {
		if matched[e.id] != e.match {
			t.Errorf("event %s matched = %v, want %v", e.id, matched[e.id], e.match)
		}
	}

	msgs, err := srv.ReceiveMessages(ctx, aws.ToString(queue.QueueUrl), 2, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}

	if len(msgs) != 2 {
		t.Fatalf("SQS target got %d messages, want 2: %q", len(msgs), msgs)
	}

	for _, m := range msgs {
		var ev struct {
			Source     string          `json:"source"`
			DetailType string          `json:"detail-type"`
			Detail     json.RawMessage `json:"detail"`
		}

		if err := json.Unmarshal([]byte(m), &ev); err != nil || ev.Source != "aws.cloudtrail" || ev.DetailType != "AWS API Call via CloudTrail" || len(ev.Detail) == 0 {
			t.Errorf("SQS target message is not an EventBridge event: %q (%v)", m, err)
		}
	}
}

// TestLambdaChain runs PutEvents → rule → a real handler binary served
// through kumo's runtime API, and checks a non-matching event never arrives.
func TestLambdaChain(t *testing.T) {
	srv, ctx := start(t)

	bin, err := testworld.BuildEchoFunction(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}

	role, err := srv.CreateRole(ctx, "echo-role")
	if err != nil {
		t.Fatal(err)
	}

	fnARN, err := srv.CreateFunction(ctx, "echo", role, nil)
	if err != nil {
		t.Fatal(err)
	}

	fn, err := srv.StartFunction(ctx, "echo", bin, []string{"TRAILGUARD_MODE=dry-run"})
	if err != nil {
		t.Fatal(err)
	}

	if _, err := srv.CreateRule(ctx, "echo-rule", tamperPattern, fnARN); err != nil {
		t.Fatal(err)
	}

	if err := srv.PutCloudTrailEvent(ctx, cloudTrailEvent("chain-ignored", "DescribeTrails", "IAMUser")); err != nil {
		t.Fatal(err)
	}

	if err := srv.PutCloudTrailEvent(ctx, cloudTrailEvent("chain-stop", "StopLogging", "IAMUser")); err != nil {
		t.Fatal(err)
	}

	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(fn.Output(), "chain-stop") {
		if time.Now().After(deadline) || fn.Exited() {
			t.Fatalf("event never reached the function; output:\n%s", fn.Output())
		}

		time.Sleep(50 * time.Millisecond)
	}

	var line struct {
		Msg   string `json:"msg"`
		Event struct {
			Source     string `json:"source"`
			DetailType string `json:"detail-type"`
			Detail     struct {
				EventName string `json:"eventName"`
			} `json:"detail"`
		} `json:"event"`
	}

	for l := range strings.Lines(fn.Output()) {
		if strings.Contains(l, "chain-stop") {
			if err := json.Unmarshal([]byte(l), &line); err != nil {
				t.Fatalf("log line %q: %v", l, err)
			}
		}
	}

	if line.Event.Source != "aws.cloudtrail" || line.Event.DetailType != "AWS API Call via CloudTrail" || line.Event.Detail.EventName != "StopLogging" {
		t.Errorf("function saw %+v", line.Event)
	}

	if strings.Contains(fn.Output(), "chain-ignored") {
		t.Errorf("non-matching event reached the function:\n%s", fn.Output())
	}

	if err := fn.Stop(); err != nil {
		t.Errorf("stop: %v", err)
	}
}
