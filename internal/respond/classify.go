package respond

import (
	"encoding/json"
	"strings"

	"github.com/trailguard/trailguard/internal/catalog"
	"github.com/trailguard/trailguard/internal/config"
	"github.com/trailguard/trailguard/internal/trail"
)

// Containment is how an actor of a given principal type can be contained.
type Containment string

// Containments, from the tamper catalog's table.
const (
	// ContainUser attaches the quarantine policy to an IAM user and
	// deactivates the long-term access key used.
	ContainUser Containment = "quarantine-user"
	// ContainRole revokes the role's sessions issued before now.
	ContainRole Containment = "revoke-role-sessions"
	// ContainManual means IAM cannot contain the actor: the alert names the
	// manual step (root, Identity Center roles, service-linked roles).
	ContainManual Containment = "manual"
	// ContainNone means there is nothing to contain (AWS services, unknown).
	ContainNone Containment = "none"
)

// Actor is who made the call, reduced to what containment needs.
type Actor struct {
	Type        string `json:"type"`
	ARN         string `json:"arn,omitempty"`
	Account     string `json:"account,omitempty"`
	AccessKeyID string `json:"accessKeyId,omitempty"`
	MFA         bool   `json:"mfa"`
	InvokedBy   string `json:"invokedBy,omitempty"`
	// Display is a short name for people: user name, role/session, "root".
	Display string `json:"display"`
	// Containment and its target: the IAM user name or role name to act on.
	Containment Containment `json:"containment"`
	UserName    string      `json:"userName,omitempty"`
	RoleName    string      `json:"roleName,omitempty"`
	// Manual is the step a person must take when Containment is manual.
	Manual string `json:"manual,omitempty"`
}

// Target is the resource the call acted on.
type Target struct {
	Kind catalog.Resource `json:"kind"`
	// Ref is the trail as the event named it (name or ARN), for trails.
	Ref trail.TrailRef `json:"-"`
	// ID is the name or ARN to pass to the undoing call.
	ID string `json:"id"`
	// Region is where undoing calls must be made (a trail's home region).
	Region string `json:"region"`
	// Baseline is the protected trail's baseline, when one is configured.
	Baseline *trail.Config `json:"-"`
	// Protected is false when the call acted on something trailguard does
	// not protect (another bucket, key or rule): such events are only logged.
	Protected bool `json:"protected"`
	// Trails are the ARNs of the protected trails writing to a bucket, and
	// KeyPrefix their log prefix, to restore CloudTrail's bucket grants.
	Trails    []string `json:"trails,omitempty"`
	KeyPrefix string   `json:"keyPrefix,omitempty"`
	// KeyPrefixes are all the prefixes the protected trails write under in a
	// bucket, when any is set (lifecycle rules are judged against each).
	KeyPrefixes []string `json:"keyPrefixes,omitempty"`
	// Account is the account the call was made in.
	Account string `json:"account,omitempty"`
}

// Exemption is why the actor is not contained although the event is tampering.
type Exemption string

// Exemptions.
const (
	ExemptFailed         Exemption = "the call failed: nothing changed"
	ExemptAllowed        Exemption = "the principal is on the allow list"
	ExemptSelf           Exemption = "the principal is trailguard's own responder"
	ExemptCloudFormation Exemption = "the change was made by CloudFormation (a deployment)"
	ExemptNotDegrading   Exemption = "nothing got worse"
	// ExemptDeployment: a built-in deployment principal (organization mode).
	ExemptDeployment Exemption = "the change was made by a deployment principal (StackSets, Control Tower, CDK)"
)

// Classification is everything the planner needs to know about an event.
type Classification struct {
	Entry catalog.Entry `json:"-"`
	// Known is false for events outside the catalog (alert only).
	Known     bool             `json:"known"`
	Succeeded bool             `json:"succeeded"`
	Severity  catalog.Severity `json:"-"`
	Actor     Actor            `json:"actor"`
	Target    Target           `json:"target"`
	// Request is the call's requestParameters decoded as a trail
	// configuration, for calls on trails (UpdateTrail, PutEventSelectors…).
	Request trail.Config `json:"-"`
	// Changes lists what an UpdateTrail or PutEventSelectors made worse.
	Changes []Change `json:"changes,omitempty"`
	// Exemptions explain why restoring or containing does not happen.
	Exemptions []Exemption `json:"exemptions,omitempty"`
	// Self is true when the responder itself made the call.
	Self bool `json:"self"`
	// judged is true for calls whose content decides whether they are
	// tampering (UpdateTrail, PutEventSelectors, lifecycle, policies).
	judged bool
}

// Tamper reports whether the event, as classified, blinded or tried to blind
// CloudTrail (and so deserves more than an informational alert).
func (c Classification) Tamper() bool {
	if !c.Known || !c.Entry.Tamper() {
		return false
	}
	if c.judged {
		return !c.Succeeded || degrading(c.Changes)
	}
	return true
}

func (c Classification) exempt(e Exemption) bool {
	for _, x := range c.Exemptions {
		if x == e {
			return true
		}
	}
	return false
}

// Classify decides what an event is: which catalog entry, which target, which
// actor, whether it succeeded and what made things worse. It is pure.
func Classify(ev trail.Event, s config.Settings) Classification {
	r := ev.Record
	entry, known := catalog.Lookup(r.EventSource, r.EventName)
	c := Classification{
		Entry:     entry,
		Known:     known,
		Succeeded: !r.Failed(),
		Actor:     classifyActor(r.UserIdentity),
	}
	c.Self = isSelf(r.UserIdentity, s.SelfRoleARN) || isMemberSelf(r.UserIdentity, s)
	// requestParameters are decoded once; a shape error leaves them empty,
	// which means no target and nothing to compare (the alert still goes).
	var p params
	if known {
		_ = r.Params(&p)
	}
	c.Request = p.Config
	c.Target = classifyTarget(r, p, entry, s)

	if known && entry.Judged {
		c.Changes, c.judged = judge(entry, r, c, p, s), true
	}

	switch {
	case !known:
		c.Severity = catalog.Info
	case !c.Succeeded:
		c.Severity = entry.FailedSeverity
	default:
		c.Severity = entry.Severity
	}
	if c.Succeeded && c.judged && !degrading(c.Changes) && !undecided(c.Changes) {
		c.Severity = catalog.Info
		c.Exemptions = append(c.Exemptions, ExemptNotDegrading)
	}

	if !c.Succeeded {
		c.Exemptions = append(c.Exemptions, ExemptFailed)
	}
	if c.Self {
		c.Exemptions = append(c.Exemptions, ExemptSelf)
	}
	if r.UserIdentity.InvokedBy == "cloudformation.amazonaws.com" && !serviceLinked(r.UserIdentity) {
		c.Exemptions = append(c.Exemptions, ExemptCloudFormation)
	}
	if s.Deployment(r.UserIdentity.ARN) || s.Deployment(r.UserIdentity.Issuer().ARN) {
		c.Exemptions = append(c.Exemptions, ExemptDeployment)
	}
	if allowed(r.UserIdentity, s) {
		c.Exemptions = append(c.Exemptions, ExemptAllowed)
	}
	return c
}

// judge returns what a call whose content decides made worse.
func judge(entry catalog.Entry, r trail.Record, c Classification, p params, s config.Settings) []Change {
	switch entry.Response {
	case catalog.RevertTrail:
		return trailChanges(c.Request, c.Target.Baseline)
	case catalog.RestoreSelectors:
		return selectorChanges(c.Request, c.Target.Baseline)
	case catalog.RestoreRule:
		return putRuleChanges(p, s)
	case catalog.RestoreTargets:
		return putTargetsChanges(p, s)
	case catalog.Requarantine, catalog.RestoreRevocation, catalog.RestoreQuarantinePolicy:
		return containmentChanges(entry, c, p, s)
	}
	if cs := protectionChanges(entry, r, p.protectionParams, s); cs != nil {
		return cs
	}
	return surroundingChanges(entry, p, c.Target, s, r.EventTime)
}

func allowed(id trail.Identity, s config.Settings) bool {
	return s.Allowed(id.ARN) || s.Allowed(id.Issuer().ARN)
}

// isSelf reports whether the identity is the responder's own role.
func isSelf(id trail.Identity, selfARN string) bool {
	if selfARN == "" || id.Type != "AssumedRole" {
		return false
	}
	self := trail.RoleName(selfARN)
	iss := id.Issuer()
	if iss.ARN != "" && trail.RoleName(iss.ARN) == self && sameAccount(iss.ARN, selfARN) {
		return true
	}
	return trail.RoleName(id.ARN) == self && sameAccount(id.ARN, selfARN)
}

func sameAccount(a, b string) bool {
	x, ok1 := trail.ParseARN(a)
	y, ok2 := trail.ParseARN(b)
	return ok1 && ok2 && x.Account == y.Account
}

func serviceLinked(id trail.Identity) bool {
	return strings.HasPrefix(trail.RolePath(id.Issuer().ARN), "/aws-service-role/")
}

// classifyActor applies the tamper catalog's containment table.
func classifyActor(id trail.Identity) Actor {
	a := Actor{
		Type:        id.Type,
		ARN:         id.ARN,
		Account:     id.AccountID,
		AccessKeyID: id.AccessKeyID,
		MFA:         id.MFA(),
		InvokedBy:   id.InvokedBy,
	}
	iss := id.Issuer()
	switch id.Type {
	case "IAMUser":
		a.Display = firstNonEmpty(id.UserName, lastSegment(id.ARN), id.PrincipalID)
		a.UserName = firstNonEmpty(id.UserName, lastSegment(id.ARN))
		a.Containment = ContainUser
		if a.UserName == "" {
			a.Containment = ContainManual
			a.Manual = "the event does not name the IAM user: find the owner of access key " + id.AccessKeyID + " and attach a deny-all policy"
		}
	case "AssumedRole":
		role := firstNonEmpty(iss.UserName, trail.RoleName(iss.ARN), trail.RoleName(id.ARN))
		path := trail.RolePath(iss.ARN)
		a.Display = firstNonEmpty(lastTwo(id.ARN), role)
		a.RoleName = role
		switch {
		case strings.HasPrefix(path, "/aws-reserved/sso.amazonaws.com/") || strings.HasPrefix(role, "AWSReservedSSO_"):
			a.Containment = ContainManual
			a.Manual = "IAM Identity Center roles cannot be changed through IAM: in IAM Identity Center, add an inline deny-all policy to the permission set behind " + role + " (or deny the user with an SCP), then revoke the user's active sessions"
		case strings.HasPrefix(path, "/aws-service-role/"):
			a.Containment = ContainManual
			a.Manual = "service-linked role " + role + " cannot be changed: find which service or person drove it (invokedBy, sourceIPAddress) and act on that principal"
		case role == "":
			a.Containment = ContainManual
			a.Manual = "the event does not name the role: revoke the session " + id.ARN + " by hand"
		default:
			a.Containment = ContainRole
		}
	case "Root":
		a.Display = "root"
		a.Containment = ContainManual
		a.Manual = "the root user cannot be restricted by IAM: sign in as root, change its password, rotate its MFA, delete any root access keys, and review who holds the root credentials (in an organization, an SCP or centralized root access can restrict it)"
	case "FederatedUser":
		a.Display = firstNonEmpty(lastSegment(id.ARN), id.PrincipalID)
		switch {
		case iss.Type == "IAMUser" && iss.UserName != "":
			a.Containment = ContainUser
			a.UserName = iss.UserName
		case iss.Type == "Root":
			a.Containment = ContainManual
			a.Manual = "the federation token was issued by the root user: secure the root user (password, MFA, access keys)"
		default:
			a.Containment = ContainManual
			a.Manual = "the federated session's issuer is unknown: find who called GetFederationToken and deny that user"
		}
	case "AWSAccount":
		a.Display = "account " + firstNonEmpty(id.AccountID, id.PrincipalID)
		a.Containment = ContainManual
		a.Manual = "a principal of account " + firstNonEmpty(id.AccountID, "unknown") + " made the call: review and remove the trust (role trust policies, resource policies) that lets it in"
	case "AWSService":
		a.Display = firstNonEmpty(id.InvokedBy, "AWS service")
		a.Containment = ContainNone
	default:
		a.Display = firstNonEmpty(id.ARN, id.PrincipalID, id.Type)
		a.Containment = ContainNone
	}
	return a
}

// params are the requestParameters fields the classifier reads: a trail
// configuration (UpdateTrail, CreateTrail, PutEventSelectors) and the names
// other calls use for their target.
type params struct {
	trail.Config
	TrailName              string          `json:"trailName"`
	EventDataStore         string          `json:"eventDataStore"`
	BucketName             string          `json:"bucketName"`
	BucketPolicy           json.RawMessage `json:"bucketPolicy"`
	LifecycleConfiguration json.RawMessage `json:"LifecycleConfiguration"`
	KeyID                  string          `json:"keyId"`
	Policy                 string          `json:"policy"`
	LogGroupName           string          `json:"logGroupName"`
	Rule                   string          `json:"rule"`
	FunctionName           string          `json:"functionName"`
	TopicArn               string          `json:"topicArn"`
	SubscriptionArn        string          `json:"subscriptionArn"`
	RoleName               string          `json:"roleName"`
	// PutRule and PutTargets on trailguard's rules.
	EventPattern       string       `json:"eventPattern"`
	ScheduleExpression string       `json:"scheduleExpression"`
	State              string       `json:"state"`
	Targets            []ruleTarget `json:"targets"`
	// Calls that can lift a containment.
	UserName       string `json:"userName"`
	PolicyArn      string `json:"policyArn"`
	PolicyName     string `json:"policyName"`
	PolicyDocument string `json:"policyDocument"`
	SetAsDefault   bool   `json:"setAsDefault"`
	protectionParams
}

// classifyTarget finds the resource in requestParameters and where to act on it.
func classifyTarget(r trail.Record, p params, e catalog.Entry, s config.Settings) Target {
	t := Target{Kind: e.Resource, Region: r.AWSRegion, Account: r.RecipientAccountID}
	switch e.Resource {
	case catalog.Trail:
		t.Ref = trail.ParseTrailRef(firstNonEmpty(p.Name, p.TrailName))
		t.ID = t.Ref.Given
		if b, ok := s.Baseline(t.Ref); ok {
			t.Baseline = &b
			if b.HomeRegion != "" {
				t.Region = b.HomeRegion
			}
		}
		// Only the trails in the baseline are protected (the role may act on
		// them alone); with no baseline at all (the CLI replaying events),
		// every trail is.
		t.Protected = t.Baseline != nil || len(s.Trails) == 0
		if t.Ref.Region != "" {
			t.Region = t.Ref.Region
		}
	case catalog.EventDataStore:
		t.Protected = true
		t.ID = p.EventDataStore
		if a, ok := trail.ParseARN(p.EventDataStore); ok && a.Region != "" {
			t.Region = a.Region
		}
	default:
		surroundingTarget(&t, r, p, s)
		protectionTarget(&t, p, s)
		containmentTarget(&t, r, p, e, s)
	}
	return t
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

func lastSegment(arn string) string {
	if i := strings.LastIndex(arn, "/"); i >= 0 {
		return arn[i+1:]
	}
	return ""
}

// lastTwo returns "role/session" from an assumed-role ARN.
func lastTwo(arn string) string {
	a, ok := trail.ParseARN(arn)
	if !ok {
		return ""
	}
	return strings.TrimPrefix(a.Resource, "assumed-role/")
}
