package respond

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/trailguard/trailguard/internal/catalog"
	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/judgment"
	"github.com/trailguard/trailguard/internal/trail"
)

// This file classifies the events on what a trail depends on (its bucket,
// key and log group, the organization) and on trailguard itself (its rules,
// function, topic and role). Such calls are tampering only on the protected
// resources; the same call on any other bucket or key is logged and ignored.

// surroundingTarget fills the target of a non-trail event: its ID, and
// whether it is one trailguard protects.
func surroundingTarget(t *Target, r trail.Record, p params, s config.Settings) {
	switch t.Kind {
	case catalog.Bucket:
		t.ID = p.BucketName
		for _, b := range s.Trails {
			if b.S3BucketName != "" && b.S3BucketName == p.BucketName {
				t.Protected = true
				t.Trails = append(t.Trails, trailARN(b, r))
				t.KeyPrefix = deref(b.S3KeyPrefix)
				t.KeyPrefixes = append(t.KeyPrefixes, t.KeyPrefix)
			}
		}
		if !slices.ContainsFunc(t.KeyPrefixes, func(p string) bool { return p != "" }) {
			t.KeyPrefixes = nil // all under AWSLogs/: the default
		}
	case catalog.Key:
		t.ID = p.KeyID
		if a, ok := trail.ParseARN(p.KeyID); ok && a.Region != "" {
			t.Region = a.Region
		}
		for _, b := range s.Trails {
			if b.KmsKeyID != nil && keyID(*b.KmsKeyID) == keyID(p.KeyID) {
				t.Protected = true
				t.Trails = append(t.Trails, trailARN(b, r))
			}
		}
	case catalog.LogGroup:
		t.ID = p.LogGroupName
		for _, b := range s.Trails {
			if b.CloudWatchLogsLogGroupArn != nil && logGroupName(*b.CloudWatchLogsLogGroupArn) == p.LogGroupName {
				t.Protected = true
			}
		}
	case catalog.Organization:
		t.ID = "account " + r.RecipientAccountID
		t.Protected = true
	case catalog.EventRule:
		t.ID = ruleName(firstNonEmpty(p.Rule, p.Name))
		t.Protected = slices.Contains(s.Rules, t.ID)
		// In organization mode the members' spoke rules are the hub's eyes.
		t.Protected = t.Protected || (s.Org.Hub && isSpokeRule(t.ID))
	case catalog.Function:
		t.ID = p.FunctionName
		t.Protected = s.FunctionName != "" && functionName(p.FunctionName) == s.FunctionName
	case catalog.Topic:
		t.ID = firstNonEmpty(p.TopicArn, p.SubscriptionArn)
		t.Protected = p.TopicArn == s.TopicARN || (p.SubscriptionArn != "" && strings.HasPrefix(p.SubscriptionArn, s.TopicARN+":"))
	case catalog.Role:
		t.ID = p.RoleName
		t.Protected = p.RoleName != "" && p.RoleName == trail.RoleName(s.SelfRoleARN)
	}
}

// surroundingChanges judges the calls on a trail's surroundings whose
// content decides whether they are tampering (catalog.Entry.Judged): a
// lifecycle rule, a bucket policy, a key policy. The judgments live in
// package judgment, shared with reconciliation and `check`.
func surroundingChanges(e catalog.Entry, p params, t Target, s config.Settings, now time.Time) []Change {
	switch {
	case e.Response == catalog.FixLifecycle:
		rules, err := judgment.RulesFromEvent(p.LifecycleConfiguration)
		if err != nil {
			return []Change{{Field: "lifecycle", Now: "cannot tell: " + err.Error(), Want: keepLogsFor(s.MinRetentionDays), Undecided: true}}
		}
		return judgedChanges("lifecycle", judgment.Lifecycle(rules, t.KeyPrefixes, s.MinRetentionDays, now), keepLogsFor(s.MinRetentionDays), true)
	case e.Response == catalog.RestoreBucketPolicy:
		return judgedChanges("bucketPolicy", judgment.BucketPolicyFor(p.BucketPolicy, t.deliveries()), "lets cloudtrail.amazonaws.com deliver, scoped by aws:SourceArn", true)
	case e.Resource == catalog.Key:
		return judgedChanges("keyPolicy", judgment.KeyPolicy([]byte(p.Policy), t.encryption()), "lets cloudtrail.amazonaws.com kms:GenerateDataKey*", false)
	}
	return nil
}

func keepLogsFor(days int) string { return fmt.Sprintf("no rule expiring logs within %d days", days) }

// judgedChanges turns a judgment into the changes the plan acts on: a
// harmful verdict is a change for the worse (fixable when trailguard repairs
// that kind of content), an unscoped grant one for a person to review, and
// "cannot tell" one to alert on without repairing or containing.
func judgedChanges(field string, j judgment.Judgment, want string, fixable bool) []Change {
	switch j.Verdict {
	case judgment.OK:
		return nil
	case judgment.Harmful:
		return []Change{{Field: field, Now: j.Reason, Want: want, Fixable: fixable}}
	case judgment.Unscoped:
		return []Change{{Field: field, Now: j.Reason, Want: want, Review: true}}
	}
	return []Change{{Field: field, Now: "cannot tell: " + j.Reason, Want: want, Undecided: true}}
}

// deliveries are where CloudTrail writes into a protected bucket: its
// trails grouped by prefix (KeyPrefixes is nil or one per trail).
func (t Target) deliveries() []judgment.Delivery {
	return judgment.Deliveries(t.ID, t.Trails, t.KeyPrefixes)
}

// encryption is what CloudTrail encrypts with, for a protected key.
func (t Target) encryption() judgment.Encryption {
	return judgment.Encryption{Key: t.ID, Region: t.Region, Account: t.Account, Trails: t.Trails}
}

// trailARN is the ARN of a baseline trail (its name may already be one).
func trailARN(b trail.Config, r trail.Record) string {
	ref := trail.ParseTrailRef(b.Name)
	if ref.Region != "" {
		return b.Name
	}
	region := firstNonEmpty(b.HomeRegion, r.AWSRegion)
	return "arn:aws:cloudtrail:" + region + ":" + r.RecipientAccountID + ":trail/" + ref.Name
}

// keyID reduces a key ARN or ID to the key ID (aliases stay as they are).
func keyID(s string) string {
	if a, ok := trail.ParseARN(s); ok {
		return strings.TrimPrefix(a.Resource, "key/")
	}
	return s
}

// logGroupName takes the name from a log group ARN
// (arn:aws:logs:region:account:log-group:NAME[:*]).
func logGroupName(arn string) string {
	a, ok := trail.ParseARN(arn)
	if !ok {
		return arn
	}
	name := strings.TrimPrefix(a.Resource, "log-group:")
	return strings.TrimSuffix(name, ":*")
}

// functionName takes the name from a function name, full or partial ARN
// (123456789012:function:NAME), or name:qualifier.
func functionName(s string) string {
	if a, ok := trail.ParseARN(s); ok {
		s = a.Resource
	} else if _, rest, ok := strings.Cut(s, ":function:"); ok {
		s = rest
	}
	name, _, _ := strings.Cut(strings.TrimPrefix(s, "function:"), ":")
	return name
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
