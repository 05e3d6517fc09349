package awsx_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/trailguard/trailguard/internal/awsx"
	"github.com/trailguard/trailguard/internal/catalog"
	"github.com/trailguard/trailguard/internal/config"
)

// The topic redirected in the function's settings: an intruder points
// TRAILGUARD_TOPIC_ARN at a topic of theirs. The responder's own alert about
// it then goes to the intruder, but the owners' direct rule (EventBridge →
// the owners' topic, with the catalog's message) still tells the owners.
func TestTopicRedirectStillReachesTheOwners(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	fn := "comp-responder-" + w.trailName
	var rule catalog.OwnerRule
	for _, r := range catalog.OwnerRules(catalog.Owned{FunctionName: fn, TopicARN: w.topicARN}) {
		if r.ID == "owners-lambda" {
			rule = r
		}
	}
	if rule.ID == "" {
		t.Fatal("no owners' rule for the function")
	}
	name := "comp-owners-" + w.trailName
	if _, err := w.clients.Events.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(name), EventPattern: aws.String(rule.PatternJSON())}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.clients.Events.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(name), Targets: []ebtypes.Target{{
		Id: aws.String("Target0"), Arn: aws.String(w.topicARN),
		InputTransformer: &ebtypes.InputTransformer{InputPathsMap: rule.InputPathsMap, InputTemplate: aws.String(rule.InputTemplate)}}}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = w.clients.Events.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{Rule: aws.String(name), Ids: []string{"Target0"}})
		_, _ = w.clients.Events.DeleteRule(ctx, &eventbridge.DeleteRuleInput{Name: aws.String(name)})
	})
	intruderTopic, intruderQueue, err := srv.CreateTopicWithQueue(ctx, "comp-intruder-"+w.trailName, false)
	if err != nil {
		t.Fatal(err)
	}

	// The intruder's UpdateFunctionConfiguration, as CloudTrail delivers it.
	raw := strings.ReplaceAll(string(w.event(t, "lambda-updatefunctionconfiguration-topic").Raw), `"trailguard-responder"`, `"`+fn+`"`)
	if err := srv.PutCloudTrailEvent(ctx, []byte(raw)); err != nil {
		t.Fatal(err)
	}
	got := w.alerts(t, 1)
	if len(got) != 1 || !strings.Contains(got[0].Message, "UpdateFunctionConfiguration20150331v2") || !strings.Contains(got[0].Message, "not through the responder") ||
		!strings.Contains(got[0].Message, "arn:aws:iam::123456789012:user/") || !strings.Contains(got[0].Message, fn) {
		t.Fatalf("the owners' direct message: %+v", got)
	}

	// The redirected responder alerts the intruder's topic, not the owners'.
	redirected := w.settings(t, map[string]string{config.EnvTopicARN: intruderTopic, config.EnvFunctionName: fn})
	if _, err := awsx.NewEngine(redirected, w.clients).Respond(ctx, w.rulesEvent(t, "lambda-updatefunctionconfiguration-topic", "trailguard-responder", fn)); err != nil {
		t.Fatal(err)
	}
	msgs, err := srv.ReceiveMessages(ctx, intruderQueue, 1, 5e9)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("the redirected alert: %v %d", err, len(msgs))
	}
	var n struct{ Subject string }
	_ = json.Unmarshal([]byte(msgs[0]), &n)
	if !strings.Contains(n.Subject, "UpdateFunctionConfiguration") {
		t.Errorf("redirected alert %q", n.Subject)
	}
	if more := w.alertsWithin(t, 1, 5e8); len(more) != 0 {
		t.Errorf("the owners got the responder's alert although it was redirected: %+v", more)
	}
	// A call on another function does not page the owners.
	other := strings.ReplaceAll(raw, `"`+fn+`"`, `"someone-elses-function"`)
	if err := srv.PutCloudTrailEvent(ctx, []byte(other)); err != nil {
		t.Fatal(err)
	}
	if more := w.alertsWithin(t, 1, 5e8); len(more) != 0 {
		t.Errorf("another function's change reached the owners: %+v", more)
	}
}
