package policy

import (
	"encoding/json"
	"strings"
	"testing"
)

const (
	bucket   = "arn:aws:s3:::logs"
	object   = "arn:aws:s3:::logs/AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/30/x.json.gz"
	trailARN = "arn:aws:cloudtrail:us-east-1:123456789012:trail/main"
)

// cloudTrailPut is CloudTrail delivering a log file, as S3 sees it.
func cloudTrailPut() Request {
	return Request{
		Principal: Principal{Service: "cloudtrail.amazonaws.com"},
		Action:    "s3:PutObject",
		Resource:  object,
		Context: map[string][]string{
			"aws:SourceArn":             {trailARN},
			"aws:SourceAccount":         {"123456789012"},
			"aws:SecureTransport":       {"true"},
			"s3:x-amz-acl":              {"bucket-owner-full-control"},
			"aws:PrincipalIsAWSService": {"true"},
		},
		Absent: []string{"aws:PrincipalOrgID", "aws:SourceIp"},
	}
}

func doc(statements ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(statements, ",") + `]}`
}

const (
	grant      = `{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::logs/AWSLogs/123456789012/*"}`
	grantCond  = `{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::logs/AWSLogs/123456789012/*","Condition":{"StringEquals":{"aws:SourceArn":"` + trailARN + `"}}}`
	denyAll    = `{"Sid":"DenyAll","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::logs","arn:aws:s3:::logs/*"]}`
	denyTLS    = `{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::logs/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}`
	denyTLSyes = `{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::logs/*","Condition":{"Bool":{"aws:SecureTransport":true}}}`
)

func TestEvaluate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		policy string
		edit   func(*Request)
		want   Result
	}{
		{"plain grant", doc(grant), nil, Allow},
		{"single statement object", `{"Statement":` + grant + `}`, nil, Allow},
		{"grant with the trail's SourceArn", doc(grantCond), nil, Allow},
		{"grant with another SourceArn", doc(strings.Replace(grantCond, "trail/main", "trail/other", 1)), nil, ImplicitDeny},
		{"StringLike SourceArn", doc(strings.Replace(strings.Replace(grantCond, "StringEquals", "StringLike", 1), "trail/main", "trail/*", 1)), nil, Allow},
		{"ArnLike SourceArn any region", doc(strings.Replace(strings.Replace(grantCond, "StringEquals", "ArnLike", 1), "us-east-1", "*", 1)), nil, Allow},
		{"ArnEquals SourceArn", doc(strings.Replace(grantCond, "StringEquals", "ArnEquals", 1)), nil, Allow},
		{"ArnNotEquals SourceArn", doc(strings.Replace(grantCond, "StringEquals", "ArnNotEquals", 1)), nil, ImplicitDeny},
		{"SourceAccount list", doc(`{"Effect":"Allow","Principal":{"Service":["cloudtrail.amazonaws.com"]},"Action":["s3:PutObject"],"Resource":"*","Condition":{"StringEquals":{"aws:SourceAccount":["111111111111","123456789012"]}}}`), nil, Allow},
		{"s3:Put* grant", doc(strings.Replace(grant, `"s3:PutObject"`, `"s3:Put*"`, 1)), nil, Allow},
		{"action case-insensitive", doc(strings.Replace(grant, `"s3:PutObject"`, `"S3:PUTOBJECT"`, 1)), nil, Allow},
		{"action ? wildcard", doc(strings.Replace(grant, `"s3:PutObject"`, `"s3:PutObj?ct"`, 1)), nil, Allow},
		{"other action", doc(strings.Replace(grant, `"s3:PutObject"`, `"s3:GetObject"`, 1)), nil, ImplicitDeny},
		{"other resource", doc(strings.Replace(grant, "123456789012/*", "111111111111/*", 1)), nil, ImplicitDeny},
		{"resource is case-sensitive", doc(strings.Replace(grant, "AWSLogs", "awslogs", 1)), nil, ImplicitDeny},
		{"NotResource excludes the logs", doc(strings.Replace(grant, `"Resource"`, `"NotResource"`, 1)), nil, ImplicitDeny},
		{"no principal match", doc(strings.Replace(grant, "cloudtrail.amazonaws.com", "config.amazonaws.com", 1)), nil, ImplicitDeny},
		{"account principal is not a service", doc(strings.Replace(grant, `{"Service":"cloudtrail.amazonaws.com"}`, `{"AWS":"arn:aws:iam::123456789012:root"}`, 1)), nil, ImplicitDeny},
		{"AWS * is everyone", doc(strings.Replace(grant, `{"Service":"cloudtrail.amazonaws.com"}`, `{"AWS":"*"}`, 1)), nil, Allow},
		{"deny to everyone wins", doc(grant, denyAll), nil, Deny},
		{"TLS-only deny does not hit TLS", doc(grant, denyTLS), nil, Allow},
		{"SecureTransport true deny hits", doc(grant, denyTLSyes), nil, Deny},
		{"TLS-only deny hits plain HTTP", doc(grant, denyTLS), func(r *Request) { r.Context["aws:SecureTransport"] = []string{"false"} }, Deny},
		{"NotAction deny", doc(grant, `{"Effect":"Deny","Principal":"*","NotAction":"s3:GetObject","Resource":"*"}`), nil, Deny},
		{"NotAction deny sparing PutObject", doc(grant, `{"Effect":"Deny","Principal":"*","NotAction":["s3:Put*"],"Resource":"*"}`), nil, Allow},
		{"NotPrincipal deny sparing CloudTrail", doc(grant, `{"Effect":"Deny","NotPrincipal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:*","Resource":"*"}`), nil, Allow},
		{"NotPrincipal deny hitting CloudTrail", doc(grant, `{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"s3:*","Resource":"*"}`), nil, Deny},
		{"deny NotResource elsewhere", doc(grant, `{"Effect":"Deny","Principal":"*","Action":"s3:*","NotResource":"arn:aws:s3:::logs/*"}`), nil, Allow},
		{"PrincipalOrgID deny for outsiders hits services", doc(grant, `{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-abc"}}}`), nil, Deny},
		{"PrincipalOrgID IfExists deny hits services too", doc(grant, `{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringNotEqualsIfExists":{"aws:PrincipalOrgID":"o-abc"}}}`), nil, Deny},
		{"PrincipalOrgID deny sparing services", doc(grant, `{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringNotEqualsIfExists":{"aws:PrincipalOrgID":"o-abc"},"BoolIfExists":{"aws:PrincipalIsAWSService":"false"}}}`), nil, Allow},
		{"PrincipalOrgID allow does not grant a service", doc(`{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc"}}}`), nil, ImplicitDeny},
		{"Null check", doc(`{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"Null":{"aws:SourceArn":"false"}}}`), nil, Allow},
		{"ForAnyValue on an absent key", doc(`{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"aws:PrincipalOrgID":"o-abc"}}}`), nil, ImplicitDeny},
		{"ForAllValues on an absent key", doc(`{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:PrincipalOrgID":"o-abc"}}}`), nil, Allow},
		{"ForAnyValue on a present key", doc(`{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"ForAnyValue:StringLike":{"aws:SourceArn":["x","arn:aws:cloudtrail:*"]}}}`), nil, Allow},
		{"unknown operator on a deny", doc(grant, `{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringFancy":{"aws:SourceArn":"x"}}}`), nil, CannotTell},
		{"unknown key on a deny", doc(grant, `{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1"}}}`), nil, CannotTell},
		{"unknown key on an allow, nothing else allows", doc(`{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"s3:prefix":"x"}}}`), nil, CannotTell},
		{"unknown key on an allow, another allows", doc(grant, `{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"s3:prefix":"x"}}}`), nil, Allow},
		{"unknown deny that cannot apply", doc(grant, `{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"StringFancy":{"k":"x"}}}`), nil, Allow},
		{"known false condition decides despite an unknown one", doc(grant, `{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"},"StringFancy":{"k":"x"}}}`), nil, Allow},
		{"policy variable", doc(grant, `{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringNotEquals":{"aws:SourceAccount":"${aws:PrincipalAccount}"}}}`), nil, CannotTell},
		{"unknown principal type on a deny", doc(grant, `{"Effect":"Deny","Principal":{"Strange":"x"},"Action":"s3:*","Resource":"*"}`), nil, CannotTell},
		{"empty policy", doc(), nil, ImplicitDeny},
		{"numeric", doc(`{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"NumericLessThan":{"s3:max-keys":"10"}}}`), func(r *Request) { r.Context["s3:max-keys"] = []string{"5"} }, Allow},
		{"date", doc(`{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"2026-01-01T00:00:00Z"}}}`, grant), func(r *Request) { r.Context["aws:TokenIssueTime"] = []string{"2025-06-01T00:00:00Z"} }, Deny},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Parse([]byte(tc.policy))
			if err != nil && err != ErrNoStatement {
				t.Fatal(err)
			}
			req := cloudTrailPut()
			if tc.edit != nil {
				tc.edit(&req)
			}
			got := Evaluate(d, req)
			if got.Result != tc.want {
				t.Errorf("got %v (%s), want %v", got.Result, got.Reason(), tc.want)
			}
			if got.Result == CannotTell && len(got.Undecided) == 0 {
				t.Errorf("CannotTell without the undecided statements")
			}
			if got.Result == Deny && len(got.Denies) == 0 {
				t.Errorf("Deny without the denying statements")
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for name, p := range map[string]string{
		"not JSON":        `policy`,
		"bad effect":      `{"Statement":[{"Effect":"Maybe","Action":"*"}]}`,
		"no action":       `{"Statement":[{"Effect":"Allow","Resource":"*"}]}`,
		"both actions":    `{"Statement":[{"Effect":"Allow","Action":"*","NotAction":"s3:*"}]}`,
		"string princ":    `{"Statement":[{"Effect":"Allow","Action":"*","Principal":"cloudtrail.amazonaws.com"}]}`,
		"object action":   `{"Statement":[{"Effect":"Allow","Action":{"a":1}}]}`,
		"bad conditions":  `{"Statement":[{"Effect":"Allow","Action":"*","Condition":["x"]}]}`,
		"no statement":    `{"Version":"2012-10-17"}`,
		"null statement":  `{"Statement":null}`,
		"statement array": `{"Statement":[1]}`,
	} {
		if _, err := Parse([]byte(p)); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

func TestParseShapes(t *testing.T) {
	d, err := Parse([]byte(`{"Version":"2012-10-17","Id":"x","Statement":{"Sid":"S","Effect":"Deny",
		"Principal":{"AWS":["arn:aws:iam::123456789012:root","*"],"Service":"a.amazonaws.com","Federated":"cognito-identity.amazonaws.com"},
		"NotAction":"s3:Get*","Resource":["a","b"],"Condition":{"Bool":{"aws:SecureTransport":false},"NumericLessThan":{"k":5}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	s := d.Statements[0]
	if d.ID != "x" || s.Sid != "S" || !s.Principal.All || len(s.Principal.AWS) != 2 || s.Principal.Service[0] != "a.amazonaws.com" ||
		len(s.Principal.Federated) != 1 || !s.HasNotAction || s.HasAction || len(s.Resource) != 2 {
		t.Errorf("parsed %+v", s)
	}
	if len(s.Conditions) != 2 || s.Conditions[0].Operator != "Bool" || s.Conditions[0].Values[0] != "false" || s.Conditions[1].Values[0] != "5" {
		t.Errorf("conditions %+v", s.Conditions)
	}
	out, err := Encode(d.Version, d.ID, []json.RawMessage{s.Raw})
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse(out)
	if err != nil || len(again.Statements) != 1 || again.Statements[0].Sid != "S" || again.ID != "x" {
		t.Errorf("round trip: %s, %v", out, err)
	}
}
