package judgment

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Rule is one lifecycle rule reduced to what decides whether it expires
// logs: whether it is on, which objects it selects, and when it expires them.
// Transitions and ExpiredObjectDeleteMarker delete no log and are not kept.
type Rule struct {
	ID      string
	Enabled bool
	// Prefix is the filter's prefix ("" selects every key).
	Prefix string
	// Tags and Size are true when the filter also selects by object tags or
	// by object size.
	Tags, Size bool
	// ExpirationDays, ExpirationDate and NoncurrentDays are nil when unset.
	ExpirationDays *int
	ExpirationDate *time.Time
	NoncurrentDays *int
}

// Lifecycle judges a bucket's lifecycle rules against the trails' key
// prefixes (s3KeyPrefix values; "" for none): does an enabled rule selecting
// the logs (<prefix>/AWSLogs/…) expire them, or their old versions, within
// minDays? An expiration date expires every log on that date, the ones
// written in the minDays before it included, so any date is early. Rules
// selecting by tag or size as well cannot be decided (CloudTrail writes no
// tags, but anyone allowed s3:PutObjectTagging can add them): CannotTell.
// Harmful's culprits are the rules that expire logs early.
func Lifecycle(rules []Rule, prefixes []string, minDays int, now time.Time) Judgment {
	out := Judgment{Verdict: OK}
	var harmful, undecided []string
	for i, r := range rules {
		if !r.Enabled || !selectsLogs(r.Prefix, prefixes) {
			continue
		}
		why := r.expiresEarly(minDays, now)
		if why == "" {
			continue
		}
		name := r.ID
		if name == "" {
			name = "(unnamed)"
		}
		if r.Tags || r.Size {
			by := "tag"
			if r.Size {
				by = "size"
			}
			undecided = append(undecided, fmt.Sprintf("rule %s %s, but only for logs it selects by %s", name, why, by))
			continue
		}
		harmful = append(harmful, fmt.Sprintf("rule %s %s", name, why))
		out.Culprits = append(out.Culprits, i)
	}
	switch {
	case len(harmful) > 0:
		out.Verdict, out.Reason = Harmful, strings.Join(harmful, "; ")
	case len(undecided) > 0:
		out.Verdict, out.Reason = CannotTell, "cannot tell: "+strings.Join(undecided, "; ")
	default:
		out.Reason = fmt.Sprintf("%d rule(s), none expiring trail logs within %d days", len(rules), minDays)
	}
	return out
}

// expiresEarly says how the rule expires logs too early, or "".
func (r Rule) expiresEarly(minDays int, now time.Time) string {
	var whys []string
	if r.ExpirationDays != nil && *r.ExpirationDays < minDays {
		whys = append(whys, fmt.Sprintf("expires logs after %d day(s)", *r.ExpirationDays))
	}
	if r.ExpirationDate != nil {
		days := int(r.ExpirationDate.Sub(now).Hours() / 24)
		when := fmt.Sprintf("in %d day(s)", days)
		if days <= 0 {
			when = "already"
		}
		whys = append(whys, fmt.Sprintf("expires every log on %s (%s)", r.ExpirationDate.UTC().Format("2006-01-02"), when))
	}
	if r.NoncurrentDays != nil && *r.NoncurrentDays < minDays {
		whys = append(whys, fmt.Sprintf("deletes overwritten or deleted logs after %d day(s)", *r.NoncurrentDays))
	}
	return strings.Join(whys, " and ")
}

// selectsLogs reports whether a rule prefix selects any key a trail writes:
// the rule's prefix and the logs' prefix overlap (one starts with the other).
func selectsLogs(rulePrefix string, prefixes []string) bool {
	if rulePrefix == "" {
		return true
	}
	if len(prefixes) == 0 {
		prefixes = []string{""}
	}
	for _, p := range prefixes {
		logs := LogPrefix(p)
		if strings.HasPrefix(logs, rulePrefix) || strings.HasPrefix(rulePrefix, logs) {
			return true
		}
	}
	return false
}

// RulesFromSDK converts the rules GetBucketLifecycleConfiguration returns.
func RulesFromSDK(in []s3types.LifecycleRule) []Rule {
	out := make([]Rule, 0, len(in))
	for _, r := range in {
		//lint:ignore SA1019 the deprecated rule-level Prefix is still returned for rules written before Filter existed
		rule := Rule{ID: aws.ToString(r.ID), Enabled: r.Status == s3types.ExpirationStatusEnabled, Prefix: aws.ToString(r.Prefix)}
		if f := r.Filter; f != nil {
			switch {
			case f.Prefix != nil:
				rule.Prefix = aws.ToString(f.Prefix)
			case f.Tag != nil:
				rule.Tags = true
			case f.ObjectSizeGreaterThan != nil || f.ObjectSizeLessThan != nil:
				rule.Size = true
			case f.And != nil:
				rule.Prefix = aws.ToString(f.And.Prefix)
				rule.Tags = len(f.And.Tags) > 0
				rule.Size = f.And.ObjectSizeGreaterThan != nil || f.And.ObjectSizeLessThan != nil
			}
		}
		if e := r.Expiration; e != nil {
			if e.Days != nil {
				d := int(*e.Days)
				rule.ExpirationDays = &d
			}
			rule.ExpirationDate = e.Date
		}
		if n := r.NoncurrentVersionExpiration; n != nil && n.NoncurrentDays != nil {
			d := int(*n.NoncurrentDays)
			rule.NoncurrentDays = &d
		}
		out = append(out, rule)
	}
	return out
}

// RulesFromEvent reads the LifecycleConfiguration of a PutBucketLifecycle
// event. CloudTrail renders S3's XML as JSON: Rule is an object or a list,
// numbers may be strings, a Tag may be one object or a list.
func RulesFromEvent(raw json.RawMessage) ([]Rule, error) {
	var cfg struct {
		Rule json.RawMessage `json:"Rule"`
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, fmt.Errorf("read lifecycle configuration: %w", err)
	}
	type xmlRule struct {
		ID     string  `json:"ID"`
		Status string  `json:"Status"`
		Prefix *string `json:"Prefix"`
		Filter *struct {
			Prefix                *string         `json:"Prefix"`
			Tag                   json.RawMessage `json:"Tag"`
			ObjectSizeGreaterThan json.RawMessage `json:"ObjectSizeGreaterThan"`
			ObjectSizeLessThan    json.RawMessage `json:"ObjectSizeLessThan"`
			And                   *struct {
				Prefix                *string         `json:"Prefix"`
				Tag                   json.RawMessage `json:"Tag"`
				ObjectSizeGreaterThan json.RawMessage `json:"ObjectSizeGreaterThan"`
				ObjectSizeLessThan    json.RawMessage `json:"ObjectSizeLessThan"`
			} `json:"And"`
		} `json:"Filter"`
		Expiration *struct {
			Days json.RawMessage `json:"Days"`
			Date string          `json:"Date"`
		} `json:"Expiration"`
		NoncurrentVersionExpiration *struct {
			NoncurrentDays json.RawMessage `json:"NoncurrentDays"`
		} `json:"NoncurrentVersionExpiration"`
	}
	var rules []xmlRule
	body := bytes.TrimSpace(cfg.Rule)
	switch {
	case len(body) == 0 || bytes.Equal(body, []byte("null")):
	case body[0] == '[':
		if err := json.Unmarshal(body, &rules); err != nil {
			return nil, fmt.Errorf("read lifecycle rules: %w", err)
		}
	default:
		var one xmlRule
		if err := json.Unmarshal(body, &one); err != nil {
			return nil, fmt.Errorf("read lifecycle rule: %w", err)
		}
		rules = []xmlRule{one}
	}
	present := func(raw json.RawMessage) bool {
		return len(raw) > 0 && !bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
	}
	out := make([]Rule, 0, len(rules))
	for i, x := range rules {
		r := Rule{ID: x.ID, Enabled: x.Status == "Enabled"}
		if x.Prefix != nil {
			r.Prefix = *x.Prefix
		}
		if f := x.Filter; f != nil {
			switch {
			case f.And != nil:
				if f.And.Prefix != nil {
					r.Prefix = *f.And.Prefix
				}
				r.Tags = present(f.And.Tag)
				r.Size = present(f.And.ObjectSizeGreaterThan) || present(f.And.ObjectSizeLessThan)
			default:
				if f.Prefix != nil {
					r.Prefix = *f.Prefix
				}
				r.Tags = present(f.Tag)
				r.Size = present(f.ObjectSizeGreaterThan) || present(f.ObjectSizeLessThan)
			}
		}
		if e := x.Expiration; e != nil {
			if present(e.Days) {
				d, err := number(e.Days)
				if err != nil {
					return nil, fmt.Errorf("lifecycle rule %d Expiration Days: %w", i, err)
				}
				r.ExpirationDays = &d
			}
			if e.Date != "" {
				t, err := time.Parse(time.RFC3339, e.Date)
				if err != nil {
					t, err = time.Parse("2006-01-02", e.Date)
				}
				if err != nil {
					return nil, fmt.Errorf("lifecycle rule %d Expiration Date: %w", i, err)
				}
				r.ExpirationDate = &t
			}
		}
		if n := x.NoncurrentVersionExpiration; n != nil && present(n.NoncurrentDays) {
			d, err := number(n.NoncurrentDays)
			if err != nil {
				return nil, fmt.Errorf("lifecycle rule %d NoncurrentDays: %w", i, err)
			}
			r.NoncurrentDays = &d
		}
		out = append(out, r)
	}
	return out, nil
}

// number reads a JSON number or a number written as a string.
func number(raw json.RawMessage) (int, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return strconv.Atoi(strings.TrimSpace(s))
	}
	var n int
	err := json.Unmarshal(raw, &n)
	return n, err
}
