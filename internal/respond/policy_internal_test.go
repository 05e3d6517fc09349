package respond

import (
	"encoding/json"
	"testing"
)

func TestStatementCovers(t *testing.T) {
	for _, tc := range []struct {
		action, asked string
		want          bool
	}{
		{`"*"`, "s3:PutObject", true},
		{`"s3:*"`, "s3:PutObject", true},
		{`"S3:putobject"`, "s3:PutObject", true},
		{`["s3:GetObject","s3:PutObject"]`, "s3:PutObject", true},
		{`"s3:Put*"`, "s3:PutObject", true},
		{`"s3:GetObject"`, "s3:PutObject", false},
		{`"kms:*"`, "kms:GenerateDataKey*", true},
		{`"kms:GenerateDataKey"`, "kms:GenerateDataKey*", true},
		{`"kms:Decrypt"`, "kms:GenerateDataKey*", false},
		{`"sqs:*"`, "s3:PutObject", false},
	} {
		st := statement{Action: json.RawMessage(tc.action)}
		if got := st.covers(tc.asked); got != tc.want {
			t.Errorf("Action %s covers %s = %v, want %v", tc.action, tc.asked, got, tc.want)
		}
	}
}

func TestBlocksCloudTrail(t *testing.T) {
	for name, tc := range map[string]struct {
		policy, want string
	}{
		"grant":         {`{"Statement":[{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject"}]}`, ""},
		"single object": {`{"Statement":{"Effect":"Allow","Principal":{"Service":["cloudtrail.amazonaws.com"]},"Action":["s3:*"]}}`, ""},
		"no grant":      {`{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"s3:*"}]}`, "no grant for CloudTrail s3:PutObject"},
		"deny everyone": {`{"Statement":[{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject"},{"Effect":"Deny","Principal":"*","Action":"s3:*"}]}`, "denies CloudTrail s3:PutObject"},
		"TLS-only deny": {`{"Statement":[{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject"},{"Effect":"Deny","Principal":"*","Action":"s3:*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`, ""},
		"not JSON":      {`policy`, "no policy"},
	} {
		if got := blocksCloudTrail(json.RawMessage(tc.policy), "s3:PutObject"); got != tc.want {
			t.Errorf("%s: %q, want %q", name, got, tc.want)
		}
	}
}
