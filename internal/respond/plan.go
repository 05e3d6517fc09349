package respond

import (
	"fmt"
	"strings"
	"time"

	"github.com/trailguard/trailguard/internal/catalog"
	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/trail"
)

// Step is the phase an action belongs to. Steps run in this order: restoring
// the audit trail matters more than anything else, so it goes first; the
// alert goes last so that it can tell what every other action achieved.
type Step string

// Steps, in execution order.
const (
	StepRestore Step = "restore"
	StepContain Step = "contain"
	StepNotify  Step = "notify"
)

// Kind is what an action does; each kind maps to one AWS call (or none).
type Kind string

// Action kinds.
const (
	KindStartLogging            Kind = "start-logging"
	KindCreateTrail             Kind = "create-trail"
	KindUpdateTrail             Kind = "update-trail"
	KindPutEventSelectors       Kind = "put-event-selectors"
	KindRestoreEventDataStore   Kind = "restore-event-data-store"
	KindStartIngestion          Kind = "start-event-data-store-ingestion"
	KindAttachUserPolicy        Kind = "attach-user-policy"
	KindDeactivateAccessKey     Kind = "deactivate-access-key"
	KindRevokeRoleSessions      Kind = "revoke-role-sessions"
	KindFixLifecycle            Kind = "fix-bucket-lifecycle"
	KindRestoreBucketPolicy     Kind = "restore-bucket-policy"
	KindRecreateBucket          Kind = "recreate-bucket"
	KindEnableKey               Kind = "enable-key"
	KindCancelKeyDeletion       Kind = "cancel-key-deletion"
	KindCreateLogGroup          Kind = "create-log-group"
	KindEnableRule              Kind = "enable-rule"
	KindRestoreRule             Kind = "restore-rule"
	KindRestoreTargets          Kind = "restore-rule-targets"
	KindRestoreQuarantinePolicy Kind = "restore-quarantine-policy"
	KindEnableVersioning        Kind = "enable-bucket-versioning"
	KindBlockPublicAccess       Kind = "block-public-access"
	KindPutRetention            Kind = "put-log-retention"
	KindEnableAlarmActions      Kind = "enable-alarm-actions"
	// KindManual is a step trailguard cannot take; the alert tells a person.
	KindManual Kind = "manual"
	KindNotify Kind = "notify"
)

// Action is one planned action. Only the fields its Kind needs are set.
type Action struct {
	Step   Step   `json:"step"`
	Kind   Kind   `json:"kind"`
	Target string `json:"target,omitempty"`
	Region string `json:"region,omitempty"`
	// Reason says why, for people reading the log or the alert.
	Reason string `json:"reason"`

	Trail       *trail.Config `json:"trail,omitempty"`
	PolicyARN   string        `json:"policyArn,omitempty"`
	UserName    string        `json:"userName,omitempty"`
	AccessKeyID string        `json:"accessKeyId,omitempty"`
	RoleName    string        `json:"roleName,omitempty"`
	// IssuedBefore: sessions issued before this time are revoked.
	IssuedBefore time.Time `json:"issuedBefore,omitzero"`
	// Principals: the contained principals' ARNs a record names.
	Principals []string `json:"principals,omitempty"`

	// For the trail bucket: CloudTrail's grants name the trails writing
	// there (SourceARNs), under KeyPrefix/AWSLogs/Account/.
	Bucket     string   `json:"bucket,omitempty"`
	KeyPrefix  string   `json:"keyPrefix,omitempty"`
	Account    string   `json:"account,omitempty"`
	SourceARNs []string `json:"sourceArns,omitempty"`
	// MinRetentionDays: lifecycle rules expiring logs sooner are removed.
	MinRetentionDays int `json:"minRetentionDays,omitempty"`
	// KeyPrefixes: the prefix of each trail in SourceARNs (or of each
	// protected trail writing to Bucket), when any is set: CloudTrail's
	// grants cover each, lifecycle rules selecting other keys are left alone.
	KeyPrefixes []string `json:"keyPrefixes,omitempty"`

	// For trailguard's own rules: the deployed pattern or schedule, and
	// the deployed target with its input transformer (owners' rules).
	Pattern       string            `json:"pattern,omitempty"`
	Schedule      string            `json:"schedule,omitempty"`
	TargetARN     string            `json:"targetArn,omitempty"`
	InputPaths    map[string]string `json:"inputPaths,omitempty"`
	InputTemplate string            `json:"inputTemplate,omitempty"`
}

// String renders the action on one line for logs and alerts.
func (a Action) String() string {
	s := string(a.Kind)
	if a.Target != "" {
		s += " " + a.Target
	}
	if a.Region != "" {
		s += " (" + a.Region + ")"
	}
	return s
}

// Plan is the ordered list of actions for one event, with the classification
// it was derived from.
type Plan struct {
	Classification Classification `json:"classification"`
	Actions        []Action       `json:"actions"`
	// Quiet is true for events that need no alert: informational calls made
	// by the responder itself (its own restores), so it never alerts twice.
	Quiet bool `json:"quiet"`
}

// NewPlan computes what to do about a classified event. It is a pure function
// of its inputs; now is the time session revocation cuts off at.
func NewPlan(c Classification, s config.Settings, now time.Time) Plan {
	p := Plan{Classification: c, Actions: make([]Action, 0, 4)}
	if c.Known && !c.Target.Protected && c.Target.Kind != catalog.Trail {
		// Another bucket's policy, another key: not trailguard's business.
		// Another trail is: its tampering is alerted (with the command that
		// undoes it) and its actor contained, but trailguard changes only
		// the trails it protects.
		p.Quiet = true
		return p
	}
	if c.Self && !c.Tamper() {
		p.Quiet = true
		return p
	}
	restore := c.Succeeded && c.Known && !c.exempt(ExemptCloudFormation) && !c.exempt(ExemptDeployment)
	if restore && (!c.judged || degrading(c.Changes)) {
		p.Actions = append(p.Actions, restoreActions(c, s)...)
		for i := range p.Actions {
			if a := &p.Actions[i]; a.Kind == KindRevokeRoleSessions && a.IssuedBefore.IsZero() {
				a.IssuedBefore = now.UTC().Truncate(time.Second).Add(time.Second)
			}
		}
	}
	if restore && c.judged && undecided(c.Changes) {
		for _, ch := range c.Changes {
			if ch.Undecided {
				p.Actions = append(p.Actions, manual(StepRestore, c.Target.ID,
					"trailguard cannot judge the new "+ch.Field+" ("+ch.Now+"): nothing was changed; check by hand that it "+ch.Want))
			}
		}
	}
	contain := c.Succeeded && c.Known && c.Entry.Contain && c.Tamper() &&
		!c.exempt(ExemptAllowed) && !c.exempt(ExemptSelf) && !c.exempt(ExemptCloudFormation) && !c.exempt(ExemptDeployment)
	if contain {
		p.Actions = appendContain(p.Actions, c.Actor, s, now)
	}
	p.Actions = append(p.Actions, Action{
		Step:   StepNotify,
		Kind:   KindNotify,
		Target: s.TopicARN,
		Reason: "tell the account's owners what happened and what was done",
	})
	return p
}

func restoreActions(c Classification, s config.Settings) []Action {
	t := c.Target
	base := t.Baseline
	if t.Kind == catalog.Trail && !t.Protected {
		return unprotectedTrail(c)
	}
	switch c.Entry.Response {
	case catalog.StartLogging:
		return []Action{{Step: StepRestore, Kind: KindStartLogging, Target: t.ID, Region: t.Region,
			Reason: "logging was stopped"}}

	case catalog.RecreateTrail:
		if base == nil {
			return []Action{manual(StepRestore, t.ID, "trail "+t.Ref.Name+" was deleted and has no baseline in "+config.EnvTrails+
				": recreate it (CreateTrail with its bucket, multi-region, global service events, log file validation), then StartLogging")}
		}
		create := *base
		create.Name = t.Ref.Name
		acts := []Action{{Step: StepRestore, Kind: KindCreateTrail, Target: t.Ref.Name, Region: t.Region, Trail: &create,
			Reason: "the trail was deleted; recreate it from its baseline"}}
		if len(base.EventSelectors) > 0 || len(base.AdvancedEventSelectors) > 0 {
			sel := trail.Config{Name: t.Ref.Name, EventSelectors: base.EventSelectors, AdvancedEventSelectors: base.AdvancedEventSelectors}
			acts = append(acts, Action{Step: StepRestore, Kind: KindPutEventSelectors, Target: t.Ref.Name, Region: t.Region, Trail: &sel,
				Reason: "restore the recreated trail's baseline event selectors"})
		}
		return append(acts, Action{Step: StepRestore, Kind: KindStartLogging, Target: t.Ref.Name, Region: t.Region,
			Reason: "a recreated trail does not log until started"})

	case catalog.RevertTrail:
		fix, ok := fixedTrail(t.ID, c.Changes)
		var acts []Action
		if ok {
			if (fix.CloudWatchLogsLogGroupArn != nil || fix.CloudWatchLogsRoleArn != nil) && base != nil {
				// CloudTrail takes the log group and its role together.
				fix.CloudWatchLogsLogGroupArn, fix.CloudWatchLogsRoleArn = base.CloudWatchLogsLogGroupArn, base.CloudWatchLogsRoleArn
			}
			acts = append(acts, Action{Step: StepRestore, Kind: KindUpdateTrail, Target: t.ID, Region: t.Region, Trail: &fix,
				Reason: "put back what got worse: " + fieldList(c.Changes, true)})
		}
		if unfixable := fieldList(c.Changes, false); unfixable != "" {
			acts = append(acts, manual(StepRestore, t.ID, "set back by hand (no baseline to restore from): "+unfixable))
		}
		return acts

	case catalog.RestoreSelectors:
		if !degrading(c.Changes) {
			return nil
		}
		sel := repairedSelectors(c, base)
		return []Action{{Step: StepRestore, Kind: KindPutEventSelectors, Target: t.ID, Region: t.Region, Trail: &sel,
			Reason: "the selectors record " + c.Changes[0].Now + "; restore " + c.Changes[0].Want}}

	case catalog.RestoreEventDataStore:
		return []Action{{Step: StepRestore, Kind: KindRestoreEventDataStore, Target: t.ID, Region: t.Region,
			Reason: "the event data store was deleted; it can be restored within 7 days"}}

	case catalog.StartIngestion:
		return []Action{{Step: StepRestore, Kind: KindStartIngestion, Target: t.ID, Region: t.Region,
			Reason: "the event data store stopped ingesting"}}

	case catalog.FixLifecycle:
		return []Action{{Step: StepRestore, Kind: KindFixLifecycle, Target: t.ID, Region: t.Region, Bucket: t.ID, MinRetentionDays: s.MinRetentionDays, KeyPrefixes: t.KeyPrefixes,
			Reason: fmt.Sprintf("a lifecycle rule expires trail logs early; remove the rules expiring them within %d days", s.MinRetentionDays)}}

	case catalog.RestoreBucketPolicy:
		return []Action{bucketPolicyAction(c, "CloudTrail lost its grant on the trail bucket; put it back")}

	case catalog.RecreateBucket:
		return []Action{
			{Step: StepRestore, Kind: KindRecreateBucket, Target: t.ID, Region: t.Region, Bucket: t.ID,
				Reason: "the trail bucket was deleted; create it again (public access blocked, versioned)"},
			bucketPolicyAction(c, "a recreated bucket needs CloudTrail's grants"),
		}

	case catalog.EnableKey:
		return []Action{{Step: StepRestore, Kind: KindEnableKey, Target: t.ID, Region: t.Region,
			Reason: "the trail's KMS key was disabled"}}

	case catalog.CancelKeyDeletion:
		return []Action{
			{Step: StepRestore, Kind: KindCancelKeyDeletion, Target: t.ID, Region: t.Region,
				Reason: "the trail's KMS key is scheduled for deletion"},
			{Step: StepRestore, Kind: KindEnableKey, Target: t.ID, Region: t.Region,
				Reason: "a key whose deletion is cancelled stays disabled until enabled"},
		}

	case catalog.RecreateLogGroup:
		return []Action{{Step: StepRestore, Kind: KindCreateLogGroup, Target: t.ID, Region: t.Region,
			Reason: "the trail's CloudWatch Logs log group was deleted (its metric filters and retention must be set again by hand)"}}

	case catalog.EnableRule:
		return []Action{{Step: StepRestore, Kind: KindEnableRule, Target: t.ID, Region: t.Region,
			Reason: "trailguard's rule was disabled"}}

	case catalog.EnableAlarmActions:
		return []Action{{Step: StepRestore, Kind: KindEnableAlarmActions, Target: t.ID, Region: t.Region,
			Reason: "trailguard's alarms were silenced (actions disabled); enable their actions again"}}

	case catalog.RestoreRule, catalog.RestoreTargets:
		return ruleRestore(c, s)

	case catalog.Requarantine, catalog.RestoreRevocation, catalog.RestoreQuarantinePolicy:
		return containmentRestore(c, s)

	case catalog.EnableVersioning, catalog.BlockPublicAccess, catalog.RestoreRetention:
		return protectionRestore(c, s)

	case catalog.Alert:
		if c.Entry.Tamper() {
			return []Action{manual(StepRestore, t.ID, c.Entry.Undo)}
		}
	}
	return nil
}

func bucketPolicyAction(c Classification, reason string) Action {
	t := c.Target
	return Action{Step: StepRestore, Kind: KindRestoreBucketPolicy, Target: t.ID, Region: t.Region, Bucket: t.ID,
		KeyPrefix: t.KeyPrefix, KeyPrefixes: t.KeyPrefixes, Account: t.Account, SourceARNs: t.Trails, Reason: reason}
}

// repairedSelectors returns the baseline's selectors, or, with no baseline,
// the event's own selectors widened to record every management event while
// keeping their data-event parts.
func repairedSelectors(c Classification, base *trail.Config) trail.Config {
	out := trail.Config{Name: c.Target.ID}
	if base != nil && (len(base.EventSelectors) > 0 || len(base.AdvancedEventSelectors) > 0) {
		out.EventSelectors, out.AdvancedEventSelectors = base.EventSelectors, base.AdvancedEventSelectors
		return out
	}
	req := c.Request
	if len(req.AdvancedEventSelectors) > 0 {
		// Keep the data selectors, drop any management selector (it was
		// narrowed), and add one that records all management events.
		out.AdvancedEventSelectors = []trail.AdvancedEventSelector{{
			Name:           "Management events (restored by trailguard)",
			FieldSelectors: []trail.FieldSelector{{Field: "eventCategory", Equals: []string{"Management"}}},
		}}
		for _, a := range req.AdvancedEventSelectors {
			if !isManagementSelector(a) {
				out.AdvancedEventSelectors = append(out.AdvancedEventSelectors, a)
			}
		}
		return out
	}
	all, yes := "All", true
	hasMgmt := false
	for _, s := range req.EventSelectors {
		s.ExcludeManagementEventSources = nil
		if s.IncludeManagementEvents == nil || *s.IncludeManagementEvents {
			s.ReadWriteType = all
			hasMgmt = true
		}
		out.EventSelectors = append(out.EventSelectors, s)
	}
	if !hasMgmt {
		out.EventSelectors = append([]trail.EventSelector{{ReadWriteType: all, IncludeManagementEvents: &yes}}, out.EventSelectors...)
	}
	return out
}

func isManagementSelector(a trail.AdvancedEventSelector) bool {
	for _, f := range a.FieldSelectors {
		if f.Field == "eventCategory" {
			for _, v := range f.Equals {
				if v == "Management" {
					return true
				}
			}
		}
	}
	return false
}

// appendContain appends the containment actions for the actor to dst.
func appendContain(dst []Action, a Actor, s config.Settings, now time.Time) []Action {
	switch a.Containment {
	case ContainUser:
		dst = append(dst, Action{Step: StepContain, Kind: KindAttachUserPolicy, Target: a.UserName, UserName: a.UserName, PolicyARN: s.QuarantinePolicyARN,
			Reason: "quarantine the IAM user who did it"})
		// Long-term keys (AKIA…) outlive any session: deactivate the one
		// used. Temporary keys (ASIA…) are covered by the deny policy.
		if strings.HasPrefix(a.AccessKeyID, "AKIA") && a.Type == "IAMUser" {
			dst = append(dst, Action{Step: StepContain, Kind: KindDeactivateAccessKey, Target: a.AccessKeyID, UserName: a.UserName, AccessKeyID: a.AccessKeyID,
				Reason: "deactivate the access key used"})
		}
	case ContainRole:
		dst = append(dst, Action{Step: StepContain, Kind: KindRevokeRoleSessions, Target: a.RoleName, RoleName: a.RoleName, IssuedBefore: now.UTC().Truncate(time.Second).Add(time.Second),
			Reason: "revoke every session of the role issued until now (the actor's included)"})
	case ContainManual:
		dst = append(dst, manual(StepContain, a.Display, a.Manual))
	}
	return dst
}

func manual(step Step, target, instruction string) Action {
	return Action{Step: step, Kind: KindManual, Target: target, Reason: instruction}
}

// fieldList names the changes that are (fixable=true) or are not fixable.
func fieldList(cs []Change, fixable bool) string {
	var out []string
	for _, c := range cs {
		if c.Review || c.Fixable != fixable {
			continue
		}
		out = append(out, fmt.Sprintf("%s %s → %s", c.Field, c.Now, c.Want))
	}
	return strings.Join(out, "; ")
}
