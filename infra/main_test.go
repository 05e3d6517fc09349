package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"
)

func TestPropsFromContext(t *testing.T) {
	ctx := map[string]string{
		"alertEmails": " a@example.com, ,b@example.com", "kms": "true", "allow": "arn:aws:iam::1:role/ci",
		"existingTrail": "org", "existingTrailBucket": "logs", "reservedConcurrency": "0",
		"minRetentionDays": "400", "securityHub": "true",
	}
	p, err := propsFromContext(func(k string) string { return ctx[k] })
	if err != nil {
		t.Fatal(err)
	}
	pp := p.stack.Protection
	if len(*pp.AlertEmails) != 2 || *(*pp.AlertEmails)[1] != "b@example.com" || !*pp.EncryptWithKms ||
		*pp.ExistingTrail.BucketName != "logs" || *pp.ReservedConcurrency != 0 || len(*pp.Allow) != 1 ||
		*pp.MinRetentionDays != 400 || !*pp.SecurityHub {
		t.Errorf("props %+v", pp)
	}
	for _, bad := range []map[string]string{{"kms": "yes please"}, {"reconcileMinutes": "0"}, {"reservedConcurrency": "-1"}, {"minRetentionDays": "0"}, {"minRetentionDays": "1y"}, {"securityHub": "on"}} {
		bad["createTrail"] = "true"
		if _, err := propsFromContext(func(k string) string { return bad[k] }); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

// TestTrailOnlyWhenAsked: the app protects the account's trail, or creates
// one when told to; never a second trail by default.
func TestTrailOnlyWhenAsked(t *testing.T) {
	for _, tc := range []struct {
		ctx  map[string]string
		want string // error substring; "" for none
	}{
		{map[string]string{}, "choose the trail to protect: -c existingTrail="},
		{map[string]string{"alertEmails": "a@example.com"}, "-c createTrail=true creates a new multi-region trail"},
		{map[string]string{"existingTrail": "org", "createTrail": "true"}, "not both"},
		{map[string]string{"createTrail": "maybe"}, "context createTrail"},
		{map[string]string{"createTrail": "true", "regions": "us-east-1,eu-west-1"}, "create it once (one region)"},
		{map[string]string{"createTrail": "true"}, ""},
		{map[string]string{"createTrail": "true", "regions": "eu-west-1"}, ""},
		{map[string]string{"existingTrail": "org", "existingTrailBucket": "logs", "regions": "us-east-1, eu-west-1"}, ""},
	} {
		_, err := propsFromContext(func(k string) string { return tc.ctx[k] })
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%v: %v, want %q", tc.ctx, err, tc.want)
		}
	}
}

// template synthesises the app's stacks for ctx with a stand-in responder
// binary and returns their templates by stack name.
func template(t *testing.T, ctx map[string]string) map[string]map[string]any {
	t.Helper()
	props, err := propsFromContext(func(k string) string { return ctx[k] })
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bootstrap"), []byte("stand-in"), 0o755); err != nil {
		t.Fatal(err)
	}
	props.code = func() awslambda.Code { return awslambda.Code_FromAsset(jsii.String(dir), nil) }
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	stacks, err := newStacks(app, "Trailguard", props)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]any{}
	for _, s := range stacks {
		b, err := json.Marshal(assertions.Template_FromStack(s, nil).ToJSON())
		if err != nil {
			t.Fatal(err)
		}
		var tpl map[string]any
		if err := json.Unmarshal(b, &tpl); err != nil {
			t.Fatal(err)
		}
		region := ""
		if r := s.Region(); r != nil && !strings.HasPrefix(*r, "${Token") {
			region = *r
		}
		out[*s.StackName()+"@"+region] = tpl
	}
	return out
}

func count(tpl map[string]any, typ string) int {
	n := 0
	res, _ := tpl["Resources"].(map[string]any)
	for _, r := range res {
		if m, _ := r.(map[string]any); m["Type"] == typ {
			n++
		}
	}
	return n
}

// TestExistingTrailInEveryRegion: protecting the account's trail from two
// regions gives one stack per region, each bound to its region, none
// creating a trail or a trail bucket, each responder protecting that trail.
func TestExistingTrailInEveryRegion(t *testing.T) {
	tpls := template(t, map[string]string{
		"existingTrail": "arn:aws:cloudtrail:us-east-1:123456789012:trail/org", "existingTrailBucket": "org-logs",
		"regions": "us-east-1,eu-west-1",
	})
	if len(tpls) != 2 || tpls["Trailguard-us-east-1@us-east-1"] == nil || tpls["Trailguard-eu-west-1@eu-west-1"] == nil {
		t.Fatalf("stacks %v, want Trailguard-us-east-1 and Trailguard-eu-west-1 bound to their regions", keys(tpls))
	}
	for name, tpl := range tpls {
		if n := count(tpl, "AWS::CloudTrail::Trail"); n != 0 {
			t.Errorf("%s: %d trails, want none (the existing trail is protected)", name, n)
		}
		if n := count(tpl, "AWS::Lambda::Function"); n == 0 {
			t.Errorf("%s: no responder", name)
		}
		b, _ := json.Marshal(tpl)
		if !strings.Contains(string(b), `\"name\":\"org\"`) || !strings.Contains(string(b), `org-logs`) {
			t.Errorf("%s: the responder's baseline does not name the existing trail and its bucket", name)
		}
	}
	// IAM and Organizations rules only where their events arrive.
	if a, b := count(tpls["Trailguard-us-east-1@us-east-1"], "AWS::Events::Rule"), count(tpls["Trailguard-eu-west-1@eu-west-1"], "AWS::Events::Rule"); a <= b {
		t.Errorf("rules: us-east-1 %d, eu-west-1 %d; want more in us-east-1 (global services)", a, b)
	}
}

// TestCreateTrailWhenAsked: createTrail=true gives the one trail.
func TestCreateTrailWhenAsked(t *testing.T) {
	for name, tpl := range template(t, map[string]string{"createTrail": "true"}) {
		if n := count(tpl, "AWS::CloudTrail::Trail"); n != 1 {
			t.Errorf("%s: %d trails, want 1", name, n)
		}
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestOrgPropsFromContext(t *testing.T) {
	ctx := map[string]string{"org": "o-a1b2c3d4e5", "hubAccount": "222222222222", "hubRegion": "eu-west-1",
		"spokeTargets": "r-ab12", "spokeRegions": "us-east-1,eu-west-1", "externalId": "ext-1", "skipAccounts": "333333333333"}
	props, err := propsFromContext(func(k string) string { return ctx[k] })
	if err != nil {
		t.Fatal(err)
	}
	hub, mgmt := orgProps(func(k string) string { return ctx[k] }, &props.stack)
	if *hub.Env.Account != "222222222222" || *hub.Env.Region != "eu-west-1" || len(*hub.SpokeRegions) != 2 || *hub.Org.ExternalID != "ext-1" ||
		*mgmt.Spoke.Org.HubAccount != "222222222222" || *mgmt.Spoke.Org.OrganizationID != "o-a1b2c3d4e5" || len(*hub.SkipAccounts) != 1 {
		t.Errorf("hub %+v, spoke %+v", hub, mgmt)
	}
}
