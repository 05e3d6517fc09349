package main

import "testing"

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
	pp := p.Protection
	if len(*pp.AlertEmails) != 2 || *(*pp.AlertEmails)[1] != "b@example.com" || !*pp.EncryptWithKms ||
		*pp.ExistingTrail.BucketName != "logs" || *pp.ReservedConcurrency != 0 || len(*pp.Allow) != 1 ||
		*pp.MinRetentionDays != 400 || !*pp.SecurityHub {
		t.Errorf("props %+v", pp)
	}
	for _, bad := range []map[string]string{{"kms": "yes please"}, {"reconcileMinutes": "0"}, {"reservedConcurrency": "-1"}, {"minRetentionDays": "0"}, {"minRetentionDays": "1y"}, {"securityHub": "on"}} {
		if _, err := propsFromContext(func(k string) string { return bad[k] }); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestOrgPropsFromContext(t *testing.T) {
	ctx := map[string]string{"org": "o-a1b2c3d4e5", "hubAccount": "222222222222", "hubRegion": "eu-west-1",
		"spokeTargets": "r-ab12", "spokeRegions": "us-east-1,eu-west-1", "externalId": "ext-1", "skipAccounts": "333333333333"}
	props, err := propsFromContext(func(k string) string { return ctx[k] })
	if err != nil {
		t.Fatal(err)
	}
	hub, mgmt := orgProps(func(k string) string { return ctx[k] }, props)
	if *hub.Env.Account != "222222222222" || *hub.Env.Region != "eu-west-1" || len(*hub.SpokeRegions) != 2 || *hub.Org.ExternalID != "ext-1" ||
		*mgmt.Spoke.Org.HubAccount != "222222222222" || *mgmt.Spoke.Org.OrganizationID != "o-a1b2c3d4e5" || len(*hub.SkipAccounts) != 1 {
		t.Errorf("hub %+v, spoke %+v", hub, mgmt)
	}
}
