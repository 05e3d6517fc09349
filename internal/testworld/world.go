package testworld

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/judgment"
)

// DenyAllDocument is the policy document of AWS's AWSDenyAll, which kumo
// lacks.
const DenyAllDocument = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`

// S3 returns an S3 client for this server (path-style addressing).
func (s *Server) S3(ctx context.Context) *s3.Client {
	return s3.NewFromConfig(s.Config(ctx), func(o *s3.Options) { o.UsePathStyle = true })
}

// CreateLoggingTrail creates the bucket and a trail writing to it, and starts
// logging. It returns the trail's ARN.
func (s *Server) CreateLoggingTrail(ctx context.Context, trail, bucket string) (string, error) {
	if _, err := s.S3(ctx).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		return "", fmt.Errorf("create bucket %s: %w", bucket, err)
	}

	// CloudTrail's grant on the bucket, as the stack writes it (AWS checks it
	// before it creates the trail; reconciliation judges it afterwards).
	trailARN := "arn:aws:cloudtrail:" + Region + ":" + CloudTrailAccountID + ":trail/" + trail
	pol, err := judgment.RepairBucketPolicy(nil, CloudTrailAccountID, judgment.Delivery{Bucket: bucket, Trails: []string{trailARN}})
	if err != nil {
		return "", fmt.Errorf("bucket policy of %s: %w", bucket, err)
	}
	if _, err := s.S3(ctx).PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(bucket), Policy: aws.String(pol)}); err != nil {
		return "", fmt.Errorf("put the policy of bucket %s: %w", bucket, err)
	}

	ct := cloudtrail.NewFromConfig(s.Config(ctx))

	out, err := ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{
		Name: aws.String(trail), S3BucketName: aws.String(bucket),
		IsMultiRegionTrail: aws.Bool(true), IncludeGlobalServiceEvents: aws.Bool(true), EnableLogFileValidation: aws.Bool(true),
	})
	if err != nil {
		return "", fmt.Errorf("create trail %s: %w", trail, err)
	}

	if _, err := ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String(trail)}); err != nil {
		return "", fmt.Errorf("start logging %s: %w", trail, err)
	}

	return aws.ToString(out.TrailARN), nil
}

// CreateTopicWithQueue creates an SNS topic and an SQS queue subscribed to
// it. With raw, messages arrive as published; otherwise wrapped in SNS's JSON
// notification envelope. It returns the topic ARN and the queue URL.
func (s *Server) CreateTopicWithQueue(ctx context.Context, name string, raw bool) (topicARN, queueURL string, err error) {
	cfg := s.Config(ctx)

	topic, err := sns.NewFromConfig(cfg).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name)})
	if err != nil {
		return "", "", fmt.Errorf("create topic %s: %w", name, err)
	}

	q := sqs.NewFromConfig(cfg)

	queue, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name + "-subscriber")})
	if err != nil {
		return "", "", fmt.Errorf("create queue for %s: %w", name, err)
	}

	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: queue.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		return "", "", fmt.Errorf("get queue arn for %s: %w", name, err)
	}

	sub := &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(attrs.Attributes["QueueArn"])}
	if raw {
		sub.Attributes = map[string]string{"RawMessageDelivery": "true"}
	}

	if _, err := sns.NewFromConfig(cfg).Subscribe(ctx, sub); err != nil {
		return "", "", fmt.Errorf("subscribe queue to %s: %w", name, err)
	}

	return aws.ToString(topic.TopicArn), aws.ToString(queue.QueueUrl), nil
}

// receiveVisibilitySeconds hides a received message only briefly: long
// enough for ReceiveMessages to delete it, short enough that a message
// taken by a receive whose answer was lost comes back within a wait.
const receiveVisibilitySeconds = 5

// ReceiveMessages receives and deletes messages from queueURL until it has
// want of them or wait has passed, and returns their bodies. Fewer than want
// is not an error: the caller decides what a missing message means.
func (s *Server) ReceiveMessages(ctx context.Context, queueURL string, want int, wait time.Duration) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()

	q := sqs.NewFromConfig(s.Config(ctx))

	var bodies []string

	for len(bodies) < want {
		// A short visibility timeout: a receive whose answer is lost (cut by
		// the deadline, or an attempt the SDK retries) leaves its messages
		// in flight, and with the queue's default of 30 s they stayed hidden
		// past every wait of 30 s or less: the alert "never arrived".
		out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(queueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
			VisibilityTimeout: receiveVisibilitySeconds,
		})
		if err != nil {
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return bodies, nil
			}
			// An answer cut on its way (observed: status 200, then
			// "unexpected EOF" in the body) took its messages in flight;
			// they come back after the visibility timeout, so receive again
			// rather than fail the test on the harness's lost answer.
			if lostAnswer(err) {
				frontLog.Printf("receive from %s: answer lost (%v); receiving again", queueURL, err)
				continue
			}
			return bodies, fmt.Errorf("receive from %s: %w", queueURL, err)
		}

		// Messages that did arrive count even when the deadline passed
		// meanwhile.
		for _, m := range out.Messages {
			bodies = append(bodies, aws.ToString(m.Body))

			if _, err := q.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(queueURL), ReceiptHandle: m.ReceiptHandle}); err != nil {
				return bodies, fmt.Errorf("delete from %s: %w", queueURL, err)
			}
		}
	}

	return bodies, nil
}

// lostAnswer reports whether err is an answer cut short on the wire rather
// than an answer of the service.
func lostAnswer(err error) bool {
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
}

// QueueDepth returns how many messages queueURL holds visible and in
// flight (received, not yet deleted), so a wait that found nothing can say
// whether a message never arrived or was taken by another receive.
func (s *Server) QueueDepth(ctx context.Context, queueURL string) (visible, inFlight string, err error) {
	out, err := sqs.NewFromConfig(s.Config(ctx)).GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(queueURL),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible},
	})
	if err != nil {
		return "", "", fmt.Errorf("read depth of %s: %w", queueURL, err)
	}
	return out.Attributes["ApproximateNumberOfMessages"], out.Attributes["ApproximateNumberOfMessagesNotVisible"], nil
}

// CreateUserWithKey creates an IAM user with an access key and returns the
// user's ARN and the key's id.
func (s *Server) CreateUserWithKey(ctx context.Context, name string) (userARN, accessKeyID string, err error) {
	c := iam.NewFromConfig(s.Config(ctx))

	user, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)})
	if err != nil {
		return "", "", fmt.Errorf("create user %s: %w", name, err)
	}

	key, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		return "", "", fmt.Errorf("create access key for %s: %w", name, err)
	}

	return aws.ToString(user.User.Arn), aws.ToString(key.AccessKey.AccessKeyId), nil
}

// lambdaTrust lets Lambda assume a role.
const lambdaTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

// CreateRole creates an IAM role Lambda may assume and returns its ARN.
func (s *Server) CreateRole(ctx context.Context, name string) (string, error) {
	out, err := iam.NewFromConfig(s.Config(ctx)).CreateRole(ctx, &iam.CreateRoleInput{
		RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(lambdaTrust),
	})
	if err != nil {
		return "", fmt.Errorf("create role %s: %w", name, err)
	}

	return aws.ToString(out.Role.Arn), nil
}

// CreateDenyAllPolicy creates a customer-managed policy equal to AWSDenyAll
// and returns its ARN (for TRAILGUARD_QUARANTINE_POLICY_ARN).
func (s *Server) CreateDenyAllPolicy(ctx context.Context, name string) (string, error) {
	out, err := iam.NewFromConfig(s.Config(ctx)).CreatePolicy(ctx, &iam.CreatePolicyInput{
		PolicyName: aws.String(name), PolicyDocument: aws.String(DenyAllDocument),
	})
	if err != nil {
		return "", fmt.Errorf("create policy %s: %w", name, err)
	}

	return aws.ToString(out.Policy.Arn), nil
}

// dummyZip is a deployment package kumo accepts; the code that runs is
// whatever StartFunction starts.
func dummyZip() ([]byte, error) {
	var buf bytes.Buffer

	zw := zip.NewWriter(&buf)

	f, err := zw.Create("bootstrap")
	if err != nil {
		return nil, fmt.Errorf("build dummy zip: %w", err)
	}

	if _, err := io.WriteString(f, "#!/bin/sh\n"); err != nil {
		return nil, fmt.Errorf("build dummy zip: %w", err)
	}

	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("build dummy zip: %w", err)
	}

	return buf.Bytes(), nil
}

// CreateFunction registers a Lambda function (provided.al2023, handler
// bootstrap, 30 s timeout) with the given role and environment, and returns
// its ARN. Serve it with StartFunction.
func (s *Server) CreateFunction(ctx context.Context, name, roleARN string, env map[string]string) (string, error) {
	code, err := dummyZip()
	if err != nil {
		return "", err
	}

	out, err := lambda.NewFromConfig(s.Config(ctx)).CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName:  aws.String(name),
		Runtime:       lambdatypes.RuntimeProvidedal2023,
		Handler:       aws.String("bootstrap"),
		Role:          aws.String(roleARN),
		Code:          &lambdatypes.FunctionCode{ZipFile: code},
		Timeout:       aws.Int32(30),
		Architectures: []lambdatypes.Architecture{lambdatypes.ArchitectureArm64},
		Environment:   &lambdatypes.Environment{Variables: env},
	})
	if err != nil {
		return "", fmt.Errorf("create function %s: %w", name, err)
	}

	return aws.ToString(out.FunctionArn), nil
}

// ConfigureFunctionAsDeployed gives the function what the stack gives it
// around its code: the asynchronous invoke configuration (the deployed
// retries and maximum event age, failures to failureARN) and, for each rule
// ARN, EventBridge's permission to invoke it. Reconciliation compares the
// function with exactly this, so a world without it would report drift.
func (s *Server) ConfigureFunctionAsDeployed(ctx context.Context, name, failureARN string, ruleARNs ...string) error {
	fns := lambda.NewFromConfig(s.Config(ctx))
	if _, err := fns.PutFunctionEventInvokeConfig(ctx, &lambda.PutFunctionEventInvokeConfigInput{FunctionName: aws.String(name),
		MaximumRetryAttempts: aws.Int32(config.AsyncRetryAttempts), MaximumEventAgeInSeconds: aws.Int32(config.AsyncMaxEventAgeSeconds),
		DestinationConfig: &lambdatypes.DestinationConfig{OnFailure: &lambdatypes.OnFailure{Destination: aws.String(failureARN)}}}); err != nil {
		return fmt.Errorf("configure asynchronous invocations of %s: %w", name, err)
	}
	for _, r := range ruleARNs {
		id := r[strings.LastIndex(r, "/")+1:]
		if _, err := fns.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String(name), StatementId: aws.String(id),
			Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("events.amazonaws.com"), SourceArn: aws.String(r)}); err != nil {
			return fmt.Errorf("let rule %s invoke %s: %w", id, name, err)
		}
	}
	return nil
}

// CreateRule creates an EventBridge rule on the default bus with pattern
// (JSON) targeting targetARN, and returns the rule's ARN.
func (s *Server) CreateRule(ctx context.Context, name, pattern, targetARN string) (string, error) {
	eb := eventbridge.NewFromConfig(s.Config(ctx))

	rule, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(name), EventPattern: aws.String(pattern)})
	if err != nil {
		return "", fmt.Errorf("put rule %s: %w", name, err)
	}

	out, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{
		Rule: aws.String(name), Targets: []ebtypes.Target{{Id: aws.String("target"), Arn: aws.String(targetARN)}},
	})
	if err != nil {
		return "", fmt.Errorf("put target of rule %s: %w", name, err)
	}

	if out.FailedEntryCount > 0 {
		return "", fmt.Errorf("put target of rule %s: %s", name, aws.ToString(out.FailedEntries[0].ErrorMessage))
	}

	return aws.ToString(rule.RuleArn), nil
}

// cloudTrailEnvelope is the part of an EventBridge event PutEvents takes.
type cloudTrailEnvelope struct {
	Source     string          `json:"source"`
	DetailType string          `json:"detail-type"`
	Time       *time.Time      `json:"time"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
}

// PutCloudTrailEvent sends a CloudTrail API-call event the way AWS delivers
// it to EventBridge: envelope is a whole EventBridge event ("source",
// "detail-type", "detail" with the CloudTrail record, optional "time" and
// "resources"), whose parts become one PutEvents entry on the default bus.
func (s *Server) PutCloudTrailEvent(ctx context.Context, envelope []byte) error {
	var env cloudTrailEnvelope
	if err := json.Unmarshal(envelope, &env); err != nil {
		return fmt.Errorf("decode event envelope: %w", err)
	}

	if env.Source == "" || env.DetailType == "" || len(env.Detail) == 0 {
		return errors.New("decode event envelope: source, detail-type and detail are required")
	}

	entry := ebtypes.PutEventsRequestEntry{
		Source: aws.String(env.Source), DetailType: aws.String(env.DetailType),
		Detail: aws.String(string(env.Detail)), Time: env.Time, Resources: env.Resources,
	}

	out, err := eventbridge.NewFromConfig(s.Config(ctx)).PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{entry}})
	if err != nil {
		return fmt.Errorf("put event: %w", err)
	}

	if out.FailedEntryCount > 0 {
		return fmt.Errorf("put event: %s", aws.ToString(out.Entries[0].ErrorMessage))
	}

	return nil
}

// DeliveredEvent is kumo's record of an event a rule matched and sent to a
// target (kumo's /kumo/eventbridge/delivered-events).
type DeliveredEvent struct {
	EventID    string `json:"EventId"`
	Source     string `json:"Source"`
	DetailType string `json:"DetailType"`
	Detail     string `json:"Detail"`
	RuleName   string `json:"RuleName"`
	TargetArn  string `json:"TargetArn"`
}

// DeliveredEvents lists the rule matches kumo has recorded, in order. kumo
// records a match synchronously within PutEvents, before delivering it.
func (s *Server) DeliveredEvents(ctx context.Context) ([]DeliveredEvent, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/kumo/eventbridge/delivered-events", nil)
	if err != nil {
		return nil, fmt.Errorf("build delivered-events request: %w", err)
	}

	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("get delivered events: %w", err)
	}
	defer resp.Body.Close()

	var out []DeliveredEvent
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("decode delivered events: %w", err)
	}

	return out, nil
}
