package judgment_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard/internal/judgment"
	jt "github.com/trailguard/trailguard/internal/judgment/judgmenttest"
	"github.com/trailguard/trailguard/internal/policy"
)

var now = time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)

func TestBucketPolicyCases(t *testing.T) {
	for _, tc := range jt.BucketCases {
		t.Run(tc.Name, func(t *testing.T) {
			j := judgment.BucketPolicy([]byte(tc.Policy), jt.Delivery)
			if j.Verdict != tc.Want || !slices.Equal(j.Culprits, tc.Culprits) {
				t.Errorf("verdict %v culprits %v (%s), want %v %v", j.Verdict, j.Culprits, j.Reason, tc.Want, tc.Culprits)
			}
			if j.Reason == "" {
				t.Error("no reason")
			}
		})
	}
}

// Every repairable case is repaired: the result lets CloudTrail deliver,
// keeps every statement that was not a culprit, byte for byte, and drops
// the culprits.
func TestRepairBucketPolicyCases(t *testing.T) {
	for _, tc := range jt.BucketCases {
		if tc.Want != judgment.Harmful {
			continue
		}
		t.Run(tc.Name, func(t *testing.T) {
			out, err := judgment.RepairBucketPolicy([]byte(tc.Policy), jt.Account, jt.Delivery)
			if err != nil {
				t.Fatal(err)
			}
			if j := judgment.BucketPolicy([]byte(out), jt.Delivery); j.Verdict != judgment.OK && j.Verdict != judgment.Unscoped {
				t.Fatalf("repaired policy judged %v: %s\n%s", j.Verdict, j.Reason, out)
			}
			if tc.Policy == "" {
				return
			}
			before, _ := policy.Parse([]byte(tc.Policy))
			for i, s := range before.Statements {
				kept := strings.Contains(out, string(compact(t, s.Raw)))
				if slices.Contains(tc.Culprits, i) == kept {
					t.Errorf("statement %d (%s): kept=%v, culprit=%v\n%s", i, s.Sid, kept, slices.Contains(tc.Culprits, i), out)
				}
			}
		})
	}
}

func compact(t *testing.T, raw json.RawMessage) []byte {
	t.Helper()
	var v json.RawMessage
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRepairRefusesWhatItCannotJudge(t *testing.T) {
	for _, tc := range jt.BucketCases {
		if tc.Want != judgment.CannotTell || !strings.HasPrefix(tc.Policy, "{") {
			continue
		}
		if _, err := judgment.RepairBucketPolicy([]byte(tc.Policy), jt.Account, jt.Delivery); err == nil {
			t.Errorf("%s: repaired a policy it cannot judge", tc.Name)
		}
	}
}

func TestRepairAddsTLSDenyOnlyWhenMissing(t *testing.T) {
	out, err := judgment.RepairBucketPolicy(nil, jt.Account, jt.Delivery)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out, "aws:SecureTransport"); n != 1 {
		t.Errorf("new policy has %d TLS statements:\n%s", n, out)
	}
	again, err := judgment.RepairBucketPolicy([]byte(out), jt.Account, jt.Delivery)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(again, "aws:SecureTransport") != 1 || strings.Count(again, "TrailguardCloudTrailWrite") != 1 {
		t.Errorf("repairing twice duplicated statements:\n%s", again)
	}
}

func TestKeyPolicyCases(t *testing.T) {
	for _, tc := range jt.KeyCases {
		t.Run(tc.Name, func(t *testing.T) {
			j := judgment.KeyPolicy([]byte(tc.Policy), jt.Encryption)
			if j.Verdict != tc.Want || !slices.Equal(j.Culprits, tc.Culprits) {
				t.Errorf("verdict %v culprits %v (%s), want %v %v", j.Verdict, j.Culprits, j.Reason, tc.Want, tc.Culprits)
			}
		})
	}
}

// Both shapes of the same rules (as S3 returns them, as CloudTrail records
// them in an event) get the same judgment.
func TestLifecycleCases(t *testing.T) {
	for _, tc := range jt.LifecycleCases {
		t.Run(tc.Name, func(t *testing.T) {
			fromEvent, err := judgment.RulesFromEvent(jt.EventLifecycle(tc.Rules))
			if err != nil {
				t.Fatal(err)
			}
			for shape, rules := range map[string][]judgment.Rule{"sdk": judgment.RulesFromSDK(tc.Rules), "event": fromEvent} {
				j := judgment.Lifecycle(rules, []string{""}, jt.MinDays, now)
				if j.Verdict != tc.Want || !slices.Equal(j.Culprits, tc.Culprits) {
					t.Errorf("%s: verdict %v culprits %v (%s), want %v %v", shape, j.Verdict, j.Culprits, j.Reason, tc.Want, tc.Culprits)
				}
			}
		})
	}
}

func TestLifecycleWithKeyPrefix(t *testing.T) {
	rules := []judgment.Rule{{ID: "a", Enabled: true, Prefix: "AWSLogs/", ExpirationDays: ptr(1)}, {ID: "b", Enabled: true, Prefix: "org/AW", ExpirationDays: ptr(1)}}
	j := judgment.Lifecycle(rules, []string{"org/"}, 365, now)
	if j.Verdict != judgment.Harmful || !slices.Equal(j.Culprits, []int{1}) {
		t.Errorf("got %v %v (%s)", j.Verdict, j.Culprits, j.Reason)
	}
}

func TestLifecycleDateReason(t *testing.T) {
	j := judgment.Lifecycle(judgment.RulesFromSDK(jt.LifecycleCases[7].Rules), nil, 365, now)
	if !strings.Contains(j.Reason, "2027-06-01 (in 182 day(s))") {
		t.Errorf("reason %q", j.Reason)
	}
}

func TestRulesFromEventErrors(t *testing.T) {
	for _, raw := range []string{`[]`, `{"Rule":"x"}`, `{"Rule":{"Expiration":{"Days":"soon"}}}`, `{"Rule":{"Expiration":{"Date":"tomorrow"}}}`} {
		if _, err := judgment.RulesFromEvent(json.RawMessage(raw)); err == nil {
			t.Errorf("%s: no error", raw)
		}
	}
}

func ptr(n int) *int { return &n }

// Two trails writing under different prefixes of one bucket: each must be
// able to deliver under its own prefix, and the repair grants both.
func TestBucketPolicySharedByPrefixes(t *testing.T) {
	other := "arn:aws:cloudtrail:us-east-1:123456789012:trail/app"
	ds := judgment.Deliveries(jt.Bucket, []string{jt.TrailARN, other}, []string{"", "app/"})
	if len(ds) != 2 || ds[1].Prefix != "app" || ds[1].Trails[0] != other {
		t.Fatalf("deliveries %+v", ds)
	}
	// The table's scoped grants name only the first trail and its prefix.
	var ok string
	for _, tc := range jt.BucketCases {
		if tc.Name == "scoped grants" {
			ok = tc.Policy
		}
	}
	if j := judgment.BucketPolicyFor([]byte(ok), ds); j.Verdict != judgment.Harmful || !strings.Contains(j.Reason, "for app") {
		t.Errorf("the second trail's delivery: %v %s", j.Verdict, j.Reason)
	}
	out, err := judgment.RepairBucketPolicy([]byte(ok), jt.Account, ds...)
	if err != nil {
		t.Fatal(err)
	}
	if j := judgment.BucketPolicyFor([]byte(out), ds); j.Verdict != judgment.OK {
		t.Errorf("repaired: %v %s\n%s", j.Verdict, j.Reason, out)
	}
	if !strings.Contains(out, jt.Bucket+"/app/AWSLogs/"+jt.Account+"/*") {
		t.Errorf("no grant under app/:\n%s", out)
	}
}
