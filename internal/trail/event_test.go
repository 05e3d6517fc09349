package trail_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/trailguard/trailguard/internal/samples"
	"github.com/trailguard/trailguard/internal/trail"
)

func TestParseEverySample(t *testing.T) {
	for _, name := range samples.Names() {
		raw, err := samples.Event(name)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := trail.Parse(raw)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		var want struct {
			ID     string `json:"id"`
			Detail struct {
				EventID, EventName, EventSource, AWSRegion, RecipientAccountID, ErrorCode string
				UserIdentity                                                              struct{ Type, ARN string }
			} `json:"detail"`
		}
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatal(err)
		}
		r := ev.Record
		if ev.ID != want.ID || ev.DetailType != trail.DetailType || r.EventID != want.Detail.EventID ||
			r.EventName != want.Detail.EventName || r.EventSource != want.Detail.EventSource || r.AWSRegion != want.Detail.AWSRegion ||
			r.RecipientAccountID != want.Detail.RecipientAccountID || r.UserIdentity.Type != want.Detail.UserIdentity.Type ||
			r.UserIdentity.ARN != want.Detail.UserIdentity.ARN || r.ErrorCode != want.Detail.ErrorCode {
			t.Errorf("%s: parsed %+v does not match the file", name, r)
		}
		if r.Failed() != strings.HasSuffix(name, "-failed") {
			t.Errorf("%s: Failed() = %v", name, r.Failed())
		}
		if r.EventTime.IsZero() {
			t.Errorf("%s: eventTime not parsed", name)
		}
		if !bytes.Equal(ev.Raw, bytes.TrimSpace(raw)) {
			t.Errorf("%s: Raw is not the input", name)
		}
	}
}

func TestParseBareRecordEqualsEnvelope(t *testing.T) {
	raw, _ := samples.Event("stoplogging-assumedrole")
	var env struct {
		Detail json.RawMessage `json:"detail"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatal(err)
	}
	a, err := trail.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	b, err := trail.Parse(env.Detail)
	if err != nil {
		t.Fatalf("bare record: %v", err)
	}
	ja, _ := json.Marshal(a.Record)
	jb, _ := json.Marshal(b.Record)
	if !bytes.Equal(ja, jb) {
		t.Errorf("bare record parses differently:\n%s\n%s", ja, jb)
	}
	if iss := b.Record.UserIdentity.Issuer(); iss.UserName != "ci-deployer" || iss.Type != "Role" {
		t.Errorf("session issuer %+v", iss)
	}
}

func TestParseRejectsMalformed(t *testing.T) {
	for name, raw := range samples.Malformed() {
		if _, err := trail.Parse(raw); !errors.Is(err, trail.ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", name, err)
		}
	}
	cases := map[string]string{
		"empty":             ``,
		"spaces":            "  \n",
		"string":            `"StopLogging"`,
		"params not object": `{"eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","awsRegion":"us-east-1","userIdentity":{"type":"Root"},"requestParameters":"x"}`,
		"no region":         `{"eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","userIdentity":{"type":"Root"}}`,
		"bad time":          `{"eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","awsRegion":"us-east-1","userIdentity":{"type":"Root"},"eventTime":"yesterday"}`,
		"oversize":          `{"x":"` + strings.Repeat("a", trail.MaxEventSize) + `"}`,
	}
	for name, raw := range cases {
		_, err := trail.Parse([]byte(raw))
		if !errors.Is(err, trail.ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", name, err)
		}
	}
	// The message says what is missing.
	_, err := trail.Parse([]byte(`{"eventSource":"cloudtrail.amazonaws.com","awsRegion":"us-east-1"}`))
	if err == nil || !strings.Contains(err.Error(), "eventName") || !strings.Contains(err.Error(), "userIdentity.type") {
		t.Errorf("err = %v, want it to name eventName and userIdentity.type", err)
	}
}

func TestTrailRefs(t *testing.T) {
	r := trail.ParseTrailRef("arn:aws:cloudtrail:eu-west-1:123456789012:trail/org/main")
	if r.Name != "org/main" || r.Region != "eu-west-1" || r.Account != "123456789012" {
		t.Errorf("%+v", r)
	}
	if r := trail.ParseTrailRef("management-trail"); r.Name != "management-trail" || r.Region != "" {
		t.Errorf("%+v", r)
	}
	for arn, want := range map[string]string{
		"arn:aws:iam::123456789012:role/ci-deployer":                                               "ci-deployer",
		"arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123":  "AWSReservedSSO_Admin_0123",
		"arn:aws:sts::123456789012:assumed-role/trailguard-responder/trailguard-responder-session": "trailguard-responder",
		"arn:aws:iam::123456789012:user/mallory":                                                   "",
		"not an arn":                                                                               "",
	} {
		if got := trail.RoleName(arn); got != want {
			t.Errorf("RoleName(%s) = %q, want %q", arn, got, want)
		}
	}
	if p := trail.RolePath("arn:aws:iam::123456789012:role/aws-service-role/controltower.amazonaws.com/X"); p != "/aws-service-role/controltower.amazonaws.com/" {
		t.Errorf("RolePath = %q", p)
	}
}

func TestCoverage(t *testing.T) {
	yes, no := true, false
	cases := []struct {
		name     string
		classic  []trail.EventSelector
		advanced []trail.AdvancedEventSelector
		want     string
	}{
		{"default", nil, nil, "all management events"},
		{"all", []trail.EventSelector{{ReadWriteType: "All", IncludeManagementEvents: &yes}}, nil, "all management events"},
		{"none", []trail.EventSelector{{ReadWriteType: "All", IncludeManagementEvents: &no}}, nil, "no management events"},
		{"readonly", []trail.EventSelector{{ReadWriteType: "ReadOnly", IncludeManagementEvents: &yes}}, nil, "readonly management events"},
		{"read+write", []trail.EventSelector{{ReadWriteType: "ReadOnly"}, {ReadWriteType: "WriteOnly"}}, nil, "all management events"},
		{"exclusions", []trail.EventSelector{{ReadWriteType: "All", ExcludeManagementEventSources: []string{"kms.amazonaws.com"}}}, nil, "all management events except kms.amazonaws.com"},
		{"exclusion covered by another selector", []trail.EventSelector{{ExcludeManagementEventSources: []string{"kms.amazonaws.com"}}, {}}, nil, "all management events"},
		{"advanced data only", nil, []trail.AdvancedEventSelector{{FieldSelectors: []trail.FieldSelector{{Field: "eventCategory", Equals: []string{"Data"}}}}}, "no management events"},
		{"advanced management", nil, []trail.AdvancedEventSelector{{FieldSelectors: []trail.FieldSelector{{Field: "eventCategory", Equals: []string{"Management"}}}}}, "all management events"},
		{"advanced write only", nil, []trail.AdvancedEventSelector{{FieldSelectors: []trail.FieldSelector{{Field: "eventCategory", Equals: []string{"Management"}}, {Field: "readOnly", Equals: []string{"false"}}}}}, "writeonly management events"},
		{"advanced exclusion", nil, []trail.AdvancedEventSelector{{FieldSelectors: []trail.FieldSelector{{Field: "eventCategory", Equals: []string{"Management"}}, {Field: "eventSource", NotEquals: []string{"kms.amazonaws.com"}}}}}, "all management events except kms.amazonaws.com"},
	}
	for _, tc := range cases {
		if got := trail.Coverage(tc.classic, tc.advanced).String(); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// FuzzParse checks that no input makes the parser panic, and that whatever
// it accepts carries the fields the responder relies on. The seed corpus is
// every sample, malformed ones included; found inputs live in testdata/fuzz.
func FuzzParse(f *testing.F) {
	for _, name := range samples.Names() {
		raw, _ := samples.Event(name)
		f.Add(raw)
	}
	for _, raw := range samples.Malformed() {
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := trail.Parse(b)
		if err != nil {
			if !errors.Is(err, trail.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		r := ev.Record
		if r.EventName == "" || r.EventSource == "" || r.AWSRegion == "" || r.UserIdentity.Type == "" {
			t.Fatalf("accepted a record without required fields: %+v", r)
		}
		_ = r.Params(&map[string]any{})
	})
}
