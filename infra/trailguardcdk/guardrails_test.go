package trailguardcdk_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/trailguard/trailguard/infra/trailguardcdk"
	"github.com/trailguard/trailguard/internal/guardrails"
)

func guardrailsInput() guardrails.Input {
	return guardrails.Input{
		Account: "123456789012", Region: "us-east-1",
		Trails:           []guardrails.Trail{{Name: "management-trail", Bucket: "trailguard-logs-123456789012"}},
		ResponderRoleARN: "arn:aws:iam::123456789012:role/trailguard-responder",
	}
}

// The construct attaches exactly the generated documents, as policies of
// their type, to the chosen targets only.
func TestGuardrailsTemplate(t *testing.T) {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("org"), nil)
	targets := []string{"ou-ab12-34cd56ef", "111111111111"}
	g, err := trailguardcdk.NewGuardrails(stack, "Guardrails", &trailguardcdk.GuardrailsProps{Input: guardrailsInput(), TargetIds: targets})
	if err != nil {
		t.Fatal(err)
	}
	var tpl struct {
		Resources map[string]struct {
			Type       string
			Properties struct {
				Name      string
				Type      string
				Content   map[string]any
				TargetIds []string
			}
		}
	}
	b, _ := json.Marshal(app.Synth(nil).GetStackByName(jsii.String("org")).Template())
	if err := json.Unmarshal(b, &tpl); err != nil {
		t.Fatal(err)
	}
	byName := map[string]int{}
	for _, r := range tpl.Resources {
		if r.Type != "AWS::Organizations::Policy" {
			t.Errorf("unexpected resource %s", r.Type)
			continue
		}
		byName[r.Properties.Name]++
		var want guardrails.Policy
		for _, p := range g.Result.Policies {
			if p.Name == r.Properties.Name {
				want = p
			}
		}
		var doc map[string]any
		if err := json.Unmarshal(want.Document, &doc); err != nil {
			t.Fatalf("%s: not generated", r.Properties.Name)
		}
		if r.Properties.Type != string(want.Type) || !reflect.DeepEqual(r.Properties.Content, doc) || !reflect.DeepEqual(r.Properties.TargetIds, targets) {
			t.Errorf("%s: type %s, targets %v, content differs: %v", r.Properties.Name, r.Properties.Type, r.Properties.TargetIds, !reflect.DeepEqual(r.Properties.Content, doc))
		}
	}
	if len(byName) != len(g.Result.Policies) || byName["trailguard-deny-tampering"] != 1 || byName["trailguard-protect-trail-resources"] != 1 {
		t.Errorf("policies %v, generated %d", byName, len(g.Result.Policies))
	}
}

func TestGuardrailsNeedTargetsAndGoodInput(t *testing.T) {
	for name, props := range map[string]*trailguardcdk.GuardrailsProps{
		"no targets":   {Input: guardrailsInput()},
		"bad target":   {Input: guardrailsInput(), TargetIds: []string{"production"}},
		"no responder": {Input: guardrails.Input{Account: "123456789012", Region: "us-east-1", Trails: []guardrails.Trail{{Name: "t"}}}, TargetIds: []string{"r-ab12"}},
	} {
		stack := awscdk.NewStack(awscdk.NewApp(nil), jsii.String("org"), nil)
		if _, err := trailguardcdk.NewGuardrails(stack, "Guardrails", props); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
