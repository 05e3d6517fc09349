package orgemu

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/trailguard/trailguard/internal/catalog"
	"github.com/trailguard/trailguard/internal/config"
)

// World is an organization deployed as trailguard's organization mode
// expects: a hub account (a delegated administrator) whose responder role
// the member roles trust, and members each holding a logging trail, the
// spoke's rules in every region (forwarding to the hub's bus) and the member
// role. The management account holds an organization trail.
type World struct {
	Org *Org
	// Hub is the hub's account; HubCreds the responder role's session.
	Hub      string
	HubCreds aws.Credentials
	// HubRoleARN is the responder's role; HubBus the central bus.
	HubRoleARN, HubBus string
	// Members are the member accounts (the management account excluded).
	Members []string
	// OrgTrailARN is the management account's organization trail.
	OrgTrailARN string
	Regions     []string
}

// WorldSpec sizes a World.
type WorldSpec struct {
	Management, Hub string
	Members         []string
	Regions         []string
	// ExternalID, when set, is required by the member roles' trust.
	ExternalID string
	// Fallback receives the hub's own calls (its kumo), when set.
	Fallback Option
}

// HubResponderRole is the hub responder's role name in worlds (the CDK hub
// stack's fixed name).
const HubResponderRole = "trailguard-hub-responder"

// MemberTrust is the member role's trust policy as the spoke deploys it.
func MemberTrust(hubRoleARN, orgID, externalID string) string {
	cond := `"aws:PrincipalOrgID":"` + orgID + `"`
	if externalID != "" {
		cond += `,"sts:ExternalId":"` + externalID + `"`
	}
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + hubRoleARN +
		`"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{` + cond + `}}}]}`
}

// NewWorld starts an organization laid out by spec.
func NewWorld(ctx context.Context, spec WorldSpec) (*World, error) {
	var opts []Option
	if spec.Fallback != nil {
		opts = append(opts, spec.Fallback)
	}
	o, err := Start(ctx, spec.Management, opts...)
	if err != nil {
		return nil, err
	}
	w := &World{Org: o, Hub: spec.Hub, Members: spec.Members, Regions: spec.Regions,
		HubRoleARN: "arn:aws:iam::" + spec.Hub + ":role/" + HubResponderRole}
	if len(w.Regions) == 0 {
		w.Regions = []string{catalog.GlobalRegion}
	}
	w.HubBus = "arn:aws:events:" + w.Regions[0] + ":" + spec.Hub + ":event-bus/" + config.HubBusName
	o.AddAccount(spec.Hub, "security", o.Root)
	o.Delegate(spec.Hub)
	w.HubCreds = o.IssueSession(spec.Hub, HubResponderRole, "responder")
	spoke := append([]string{spec.Management}, spec.Members...)
	for i, id := range spec.Members {
		o.AddAccount(id, fmt.Sprintf("member-%03d", i+1), o.Root)
	}
	trust := MemberTrust(w.HubRoleARN, o.ID, spec.ExternalID)
	for _, id := range spoke {
		if err := o.Do(id, func(a *Account) {
			a.PutRole(config.DefaultMemberRoleName, trust)
			for _, region := range w.Regions {
				for _, r := range catalog.SpokeRulesIn(region) {
					a.PutRule(region, Rule{Name: catalog.SpokeRuleName(r), Pattern: r.Pattern.JSON(), Targets: []string{w.HubBus}})
				}
			}
		}); err != nil {
			o.Close()
			return nil, err
		}
	}
	_ = o.Do(spec.Management, func(a *Account) {
		a.PutTrail(catalog.GlobalRegion, Trail{Name: "org-trail", Bucket: "org-trail-logs", MultiRegion: true, Global: true,
			Validated: true, Organization: true, Logging: true, ManagementEvents: true})
	})
	w.OrgTrailARN = "arn:aws:cloudtrail:" + catalog.GlobalRegion + ":" + spec.Management + ":trail/org-trail"
	return w, nil
}

// Close stops the organization.
func (w *World) Close() { w.Org.Close() }

// Settings are the hub responder's environment for this world.
func (w *World) Settings(topicARN string) map[string]string {
	env := map[string]string{
		config.EnvTopicARN:       topicARN,
		config.EnvSelfRoleARN:    w.HubRoleARN,
		config.EnvHub:            "true",
		config.EnvOrganizationID: w.Org.ID,
		config.EnvTrails:         `[{"name":"` + w.OrgTrailARN + `","isMultiRegionTrail":true,"includeGlobalServiceEvents":true,"isOrganizationTrail":true,"homeRegion":"us-east-1"}]`,
	}
	if len(w.Regions) > 0 {
		r := w.Regions[0]
		for _, x := range w.Regions[1:] {
			r += "," + x
		}
		env[config.EnvRegions] = r
	}
	return env
}
