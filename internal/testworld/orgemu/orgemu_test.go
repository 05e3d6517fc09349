package orgemu_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/trailguard/trailguard/internal/catalog"
	"github.com/trailguard/trailguard/internal/testworld/orgemu"
)

const (
	mgmt    = "123456789012"
	hub     = "222222222222"
	memberA = "111111111111"
	memberB = "333333333333"
	hubRole = "trailguard-hub-responder"
	bus     = "arn:aws:events:us-east-1:" + hub + ":event-bus/trailguard-hub"
)

func trust(principal, externalID string) string {
	cond := `"StringEquals":{"aws:PrincipalOrgID":"o-exampleorg1"`
	if externalID != "" {
		cond += `,"sts:ExternalId":"` + externalID + `"`
	}
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + principal + `"},"Action":"sts:AssumeRole","Condition":{` + cond + `}}}]}`
}

func start(t *testing.T) (*orgemu.Org, aws.Credentials) {
	t.Helper()
	o, err := orgemu.Start(context.Background(), mgmt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(o.Close)
	o.AddAccount(hub, "security", o.Root)
	o.Delegate(hub)
	for _, id := range []string{memberA, memberB} {
		o.AddAccount(id, "member-"+id, o.Root)
		if err := o.Do(id, func(a *orgemu.Account) {
			a.PutTrail("us-east-1", orgemu.Trail{Name: "main", Bucket: "logs-" + id, MultiRegion: true, Global: true, Validated: true, Logging: true, ManagementEvents: true})
			a.PutRole("TrailguardMember", trust("arn:aws:iam::"+hub+":role/"+hubRole, "ext-123"))
			for _, r := range catalog.Rules() {
				a.PutRule("us-east-1", orgemu.Rule{Name: "trailguard-spoke-" + r.ID, Pattern: r.Pattern.JSON(), Targets: []string{bus}})
			}
		}); err != nil {
			t.Fatal(err)
		}
	}
	hubCreds, err := o.CreateUser(hub, "responder-stand-in")
	if err != nil {
		t.Fatal(err)
	}
	return o, hubCreds
}

func assumed(o *orgemu.Org, from aws.Credentials, account, externalID string) aws.Config {
	cfg := o.Config(from)
	p := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), "arn:aws:iam::"+account+":role/TrailguardMember", func(x *stscreds.AssumeRoleOptions) {
		x.RoleSessionName = "trailguard-hub"
		if externalID != "" {
			x.ExternalID = aws.String(externalID)
		}
	})
	cfg.Credentials = aws.NewCredentialsCache(p)
	return cfg
}

func TestAssumeRoleHonoursTheTrustPolicy(t *testing.T) {
	ctx := context.Background()
	o, userCreds := start(t)
	// The trust names the hub's role, not a user of the hub account.
	if _, err := sts.NewFromConfig(assumed(o, userCreds, memberA, "ext-123")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Fatalf("a principal the trust does not name assumed the member role: %v", err)
	}
	// A role of the hub account trusted by the members, as the hub's responder is.
	if err := o.Do(hub, func(a *orgemu.Account) {
		a.PutRole(hubRole, `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::`+hub+`:root"},"Action":"sts:AssumeRole"}]}`)
	}); err != nil {
		t.Fatal(err)
	}
	hubRoleCfg := assumed(o, userCreds, hub, "")
	hubRoleCfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(o.Config(userCreds)), "arn:aws:iam::"+hub+":role/"+hubRole))
	hubCreds, err := hubRoleCfg.Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		name, account, ext string
		ok                 bool
	}{
		{"right role and external id", memberA, "ext-123", true},
		{"wrong external id", memberA, "ext-999", false},
		{"no external id", memberA, "", false},
		{"account outside the organization", "444444444444", "ext-123", false},
	} {
		out, err := sts.NewFromConfig(assumed(o, hubCreds, c.account, c.ext)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		switch {
		case c.ok && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case !c.ok && err == nil:
			t.Errorf("%s: assumed as %s", c.name, aws.ToString(out.Arn))
		case c.ok && aws.ToString(out.Arn) != "arn:aws:sts::"+c.account+":assumed-role/TrailguardMember/trailguard-hub":
			t.Errorf("%s: caller %s", c.name, aws.ToString(out.Arn))
		}
	}

	// The credentials act in their own account only.
	ct := cloudtrail.NewFromConfig(assumed(o, hubCreds, memberA, "ext-123"))
	if _, err := ct.StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String("main")}); err != nil {
		t.Fatal(err)
	}
	logging := map[string]bool{}
	for _, id := range []string{memberA, memberB} {
		_ = o.Do(id, func(a *orgemu.Account) { logging[id] = a.Trails["us-east-1"]["main"].Logging })
	}
	if logging[memberA] || !logging[memberB] {
		t.Errorf("after StopLogging in %s: logging %v", memberA, logging)
	}
}

func TestWritesReachTheHubThroughSpokeRules(t *testing.T) {
	ctx := context.Background()
	o, _ := start(t)
	var mu sync.Mutex
	var got []map[string]any
	o.Forward = func(_ context.Context, env []byte) error {
		var m map[string]any
		if err := json.Unmarshal(env, &m); err != nil {
			return err
		}
		mu.Lock()
		got = append(got, m)
		mu.Unlock()
		return nil
	}
	admin, err := o.CreateUser(memberA, "admin")
	if err != nil {
		t.Fatal(err)
	}
	cfg := o.Config(admin)
	if _, err := cloudtrail.NewFromConfig(cfg).StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String("main")}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("%d events forwarded, want 1", len(got))
	}
	d := got[0]["detail"].(map[string]any)
	id := d["userIdentity"].(map[string]any)
	if d["eventName"] != "StopLogging" || d["recipientAccountId"] != memberA || id["arn"] != "arn:aws:iam::"+memberA+":user/admin" ||
		id["accessKeyId"] != admin.AccessKeyID || d["requestParameters"].(map[string]any)["name"] != "main" {
		t.Errorf("forwarded record: %v", d)
	}

	// The admin removes the spoke's CloudTrail rule; the next stop is not seen.
	ev := eventbridge.NewFromConfig(cfg)
	if _, err := ev.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{Rule: aws.String("trailguard-spoke-cloudtrail"), Ids: []string{"t0"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ev.DeleteRule(ctx, &eventbridge.DeleteRuleInput{Name: aws.String("trailguard-spoke-cloudtrail")}); err != nil {
		t.Fatal(err)
	}
	n := len(got)
	if _, err := cloudtrail.NewFromConfig(cfg).StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String("main")}); err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Errorf("an event was forwarded by a deleted rule")
	}
	if _, err := ev.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String("trailguard-spoke-cloudtrail")}); err == nil || !strings.Contains(err.Error(), "ResourceNotFoundException") {
		t.Errorf("DescribeRule of the deleted rule: %v", err)
	}
}

func TestOrganizationsListsEveryAccountToAdminsOnly(t *testing.T) {
	ctx := context.Background()
	o, hubUser := start(t)
	for i := range 45 {
		o.AddAccount(fmt.Sprintf("5%011d", i), fmt.Sprintf("bulk-%d", i), o.Root)
	}
	var ids []string
	p := organizations.NewListAccountsPaginator(organizations.NewFromConfig(o.Config(hubUser)), &organizations.ListAccountsInput{})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range out.Accounts {
			ids = append(ids, aws.ToString(a.Id))
		}
	}
	if len(ids) != 49 {
		t.Errorf("listed %d accounts, want 49", len(ids))
	}
	member, err := o.CreateUser(memberA, "admin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := organizations.NewFromConfig(o.Config(member)).ListAccounts(ctx, &organizations.ListAccountsInput{}); err == nil {
		t.Error("a member account listed the organization")
	}
	out, err := organizations.NewFromConfig(o.Config(hubUser)).DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(memberA)})
	if err != nil || aws.ToString(out.Account.Name) != "member-"+memberA {
		t.Errorf("DescribeAccount: %v %v", out, err)
	}
}
