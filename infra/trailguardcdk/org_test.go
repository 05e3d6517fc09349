package trailguardcdk_test

import (
	"encoding/json"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/trailguard/trailguard/infra/trailguardcdk"
	"github.com/trailguard/trailguard/internal/catalog"
)

const (
	orgID      = "o-a1b2c3d4e5"
	hubAccount = "222222222222"
)

var hubSynth *synthesized

func hub(t *testing.T) *synthesized {
	t.Helper()
	if hubSynth == nil {
		os.Setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
		app := awscdk.NewApp(nil)
		hubSynth = synthStack(trailguardcdk.NewHubStack(app, jsii.String("Hub"), &trailguardcdk.HubStackProps{
			StackProps:   awscdk.StackProps{Env: &awscdk.Environment{Account: jsii.String(hubAccount), Region: jsii.String("eu-west-1")}},
			Protection:   trailguardcdk.ProtectionProps{Code: fakeCode(&tempDirer{})},
			Org:          trailguardcdk.Org{OrganizationID: jsii.String(orgID), ExternalID: jsii.String("trailguard-ext-0001")},
			SpokeTargets: jsii.Strings("r-ab12"),
			SpokeRegions: jsii.Strings("us-east-1", "eu-west-1"),
			SkipAccounts: jsii.Strings("333333333333"),
		}))
	}
	return hubSynth
}

// spoke is the StackSet's template, read back from the hub.
func spoke(t *testing.T) *synthesized {
	t.Helper()
	_, ss := hub(t).only(t, "AWS::CloudFormation::StackSet")
	var doc struct {
		Resources  map[string]resource `json:"Resources"`
		Conditions map[string]any      `json:"Conditions"`
	}
	if err := json.Unmarshal([]byte(ss.Properties["TemplateBody"].(string)), &doc); err != nil {
		t.Fatal(err)
	}
	return &synthesized{resources: doc.Resources}
}

func TestHubIsNagClean(t *testing.T) {
	if n := hub(t).nag; len(n) > 0 {
		t.Errorf("cdk-nag findings on the hub:\n%s", strings.Join(n, "\n"))
	}
}

func TestHubBusAcceptsTheOrganizationOnly(t *testing.T) {
	_, p := hub(t).only(t, "AWS::Events::EventBusPolicy")
	st := p.Properties["Statement"].(map[string]any)
	cond, _ := json.Marshal(st["Condition"])
	if st["Effect"] != "Allow" || st["Action"] != "events:PutEvents" || string(cond) != `{"StringEquals":{"aws:PrincipalOrgID":"`+orgID+`"}}` {
		t.Errorf("bus policy %v", st)
	}
	// Every catalog rule listens on the hub bus and invokes the responder.
	var onBus int
	for _, r := range hub(t).ofType("AWS::Events::Rule") {
		if r.Properties["EventBusName"] != nil {
			onBus++
		}
	}
	if onBus != len(catalog.Rules()) {
		t.Errorf("%d rules on the hub bus, want %d", onBus, len(catalog.Rules()))
	}
}

func TestStackSetDeploysSpokesAutomatically(t *testing.T) {
	_, ss := hub(t).only(t, "AWS::CloudFormation::StackSet")
	p := ss.Properties
	auto, _ := json.Marshal(p["AutoDeployment"])
	if p["PermissionModel"] != "SERVICE_MANAGED" || string(auto) != `{"Enabled":true,"RetainStacksOnAccountRemoval":false}` {
		t.Errorf("StackSet permission model %v, auto-deployment %s", p["PermissionModel"], auto)
	}
	groups, _ := json.Marshal(p["StackInstancesGroup"])
	if string(groups) != `[{"DeploymentTargets":{"OrganizationalUnitIds":["r-ab12"]},"Regions":["us-east-1","eu-west-1"]}]` {
		t.Errorf("instances %s", groups)
	}
}

func TestHubResponderSettingsAndGrants(t *testing.T) {
	env := hub(t).env(t)
	for k, want := range map[string]string{
		"TRAILGUARD_HUB": "true", "TRAILGUARD_MEMBER_ROLE_NAME": "TrailguardMember", "TRAILGUARD_ORGANIZATION_ID": orgID,
		"TRAILGUARD_REGIONS": "us-east-1,eu-west-1", "TRAILGUARD_SKIP_ACCOUNTS": "333333333333",
		"TRAILGUARD_MEMBER_EXTERNAL_ID": "trailguard-ext-0001", "TRAILGUARD_ORG_CONCURRENCY": "16",
	} {
		if env[k] != want {
			t.Errorf("%s=%q, want %q", k, env[k], want)
		}
	}
	if _, fn := hub(t).only(t, "AWS::Lambda::Function"); fn.Properties["Timeout"] != float64(900) {
		t.Errorf("hub timeout %v, want 900 s (reconciling the organization takes minutes)", fn.Properties["Timeout"])
	}
	var assume *statement
	for _, r := range hub(t).ofType("AWS::IAM::Policy") {
		for _, s := range statements(r.Properties["PolicyDocument"]) {
			if s.Sid == "AssumeMemberRoles" {
				assume = &s
			}
		}
	}
	if assume == nil || strings.Join(assume.Actions, ",") != "sts:AssumeRole" || assume.Condition["StringEquals"]["aws:ResourceOrgID"] != orgID ||
		!strings.HasSuffix(assume.Resources[0], ":iam::*:role/TrailguardMember") {
		t.Errorf("the hub may assume: %+v", assume)
	}
}

func TestSpokeMemberRoleTrustsOnlyTheHub(t *testing.T) {
	s := spoke(t)
	var role resource
	var roleID string
	for id, r := range s.ofType("AWS::IAM::Role") {
		if r.Properties["RoleName"] == "TrailguardMember" {
			role, roleID = r, id
		}
	}
	if role.Type == "" {
		t.Fatal("no member role in the spoke")
	}
	trust := statements(role.Properties["AssumeRolePolicyDocument"])
	if len(trust) != 1 || !strings.Contains(trust[0].Principal, ":iam::"+hubAccount+":role/trailguard-hub-responder") ||
		trust[0].Condition["StringEquals"]["aws:PrincipalOrgID"] != orgID || trust[0].Condition["StringEquals"]["sts:ExternalId"] != "trailguard-ext-0001" {
		t.Errorf("member role trust %+v", trust)
	}
	if role.Properties["MaxSessionDuration"] != float64(3600) {
		t.Errorf("member role session %v", role.Properties["MaxSessionDuration"])
	}

	// Same actions as the single-account responder, minus the hub's own.
	single := map[string]bool{}
	stmts, _ := synth(&trailguardcdk.TrailguardStackProps{Protection: trailguardcdk.ProtectionProps{
		Code: fakeCode(&tempDirer{}), EncryptWithKms: jsii.Bool(true)}}).responderPolicy(t)
	for _, st := range stmts {
		if st.Sid == "" { // CDK's grants from wiring: the queue, the key for the topic
			continue
		}
		for _, a := range st.Actions {
			single[a] = true
		}
	}
	// Gap reports (Event History, reports kept in the trail's bucket) are
	// not made in members yet.
	for _, a := range []string{"cloudtrail:LookupEvents", "s3:DeleteObject", "s3:GetObject", "s3:PutObject", "s3:ListBucket"} {
		delete(single, a)
	}
	delete(single, "sns:Publish")
	delete(single, "logs:CreateLogStream")
	delete(single, "logs:PutLogEvents")
	delete(single, "dynamodb:UpdateItem") // the event table is the hub's own
	delete(single, "dynamodb:GetItem")    // so are the contained principals recorded there
	// Reconciliation of the hub's own topic, alarms and function.
	for _, a := range hubOwnReads {
		delete(single, a)
	}
	// The responder's own rules put back as deployed (issue 10); the members'
	// spoke rules are reconciled by the hub and redeployed by hand.
	for _, a := range []string{"events:PutRule", "events:PutTargets", "events:RemoveTargets"} {
		delete(single, a)
	}
	member := map[string]bool{}
	for _, r := range s.ofType("AWS::IAM::Policy") {
		if roles := list(r.Properties["Roles"]); len(roles) != 1 || ref(roles[0]) != roleID {
			continue
		}
		for _, st := range statements(r.Properties["PolicyDocument"]) {
			for _, a := range st.Actions {
				if st.Effect == "Allow" {
					member[a] = true
				}
			}
		}
	}
	var missing, extra []string
	for a := range single {
		if !member[a] {
			missing = append(missing, a)
		}
	}
	for a := range member {
		if !single[a] {
			extra = append(extra, a)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 || len(extra) > 0 {
		t.Errorf("member role vs responder: missing %v, extra %v", missing, extra)
	}
}

// hubOwnReads are what reconciliation reads on the hub's own surroundings
// (internal/respond/reconcile_surroundings.go), never in a member.
var hubOwnReads = []string{"sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic", "cloudwatch:DescribeAlarms", "cloudwatch:EnableAlarmActions",
	"lambda:GetFunctionConcurrency", "lambda:GetFunctionEventInvokeConfig", "lambda:GetPolicy"}

func TestSpokeForwardsEveryCatalogRuleToTheHub(t *testing.T) {
	s := spoke(t)
	got := map[string]resource{}
	for _, r := range s.ofType("AWS::Events::Rule") {
		got[r.Properties["Name"].(string)] = r
	}
	for _, r := range catalog.Rules() {
		rule, ok := got[catalog.SpokeRuleName(r)]
		if !ok {
			t.Errorf("no spoke rule %s", catalog.SpokeRuleName(r))
			continue
		}
		tg := list(rule.Properties["Targets"])
		if len(tg) != 1 || !strings.HasSuffix(resolve(tg[0].(map[string]any)["Arn"]), ":events:eu-west-1:"+hubAccount+":event-bus/trailguard-hub") ||
			tg[0].(map[string]any)["RoleArn"] == nil {
			t.Errorf("%s targets %v", catalog.SpokeRuleName(r), tg)
		}
	}
	if len(got) != len(catalog.Rules()) {
		t.Errorf("%d spoke rules, want %d", len(got), len(catalog.Rules()))
	}
	// Nothing else: no function, no topic.
	for _, r := range s.resources {
		if r.Type == "AWS::Lambda::Function" || r.Type == "AWS::SNS::Topic" {
			t.Errorf("the spoke holds a %s", r.Type)
		}
	}
}

func TestManagementSpokeStackIsNagClean(t *testing.T) {
	app := awscdk.NewApp(nil)
	s := synthStack(trailguardcdk.NewSpokeStack(app, jsii.String("Mgmt"), &trailguardcdk.SpokeStackProps{
		Spoke: trailguardcdk.SpokeProps{Org: trailguardcdk.Org{OrganizationID: jsii.String(orgID), HubAccount: jsii.String(hubAccount), HubRegion: jsii.String("eu-west-1")}},
	}))
	if len(s.nag) > 0 {
		t.Errorf("cdk-nag findings on the spoke:\n%s", strings.Join(s.nag, "\n"))
	}
	// Without an external ID the trust has only the organization condition.
	for _, r := range s.ofType("AWS::IAM::Role") {
		if r.Properties["RoleName"] == "TrailguardMember" {
			if c := statements(r.Properties["AssumeRolePolicyDocument"])[0].Condition["StringEquals"]; len(c) != 1 || c["aws:PrincipalOrgID"] != orgID {
				t.Errorf("trust condition %v", c)
			}
		}
	}
}

func TestHubRefusesBadOrgSettings(t *testing.T) {
	for name, props := range map[string]*trailguardcdk.HubStackProps{
		"no organization": {SpokeTargets: jsii.Strings("r-ab12"), SpokeRegions: jsii.Strings("us-east-1")},
		"no us-east-1":    {Org: trailguardcdk.Org{OrganizationID: jsii.String(orgID)}, SpokeTargets: jsii.Strings("r-ab12"), SpokeRegions: jsii.Strings("eu-west-1")},
		"bad target":      {Org: trailguardcdk.Org{OrganizationID: jsii.String(orgID)}, SpokeTargets: jsii.Strings("111111111111"), SpokeRegions: jsii.Strings("us-east-1")},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: accepted", name)
				}
			}()
			trailguardcdk.NewHubStack(awscdk.NewApp(nil), jsii.String("Hub"), props)
		}()
	}
}
