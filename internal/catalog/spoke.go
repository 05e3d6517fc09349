package catalog

// SpokePrefix starts the names of the rules an organization's member
// accounts hold (the spoke): they forward the catalog's events to the hub.
const SpokePrefix = "trailguard-spoke-"

// SpokeRuleName is the name of rule r in every member account and region.
// The name is fixed (not generated) because the hub reconciles the spoke
// rules of every account by name, and one name per account and region is
// all EventBridge requires.
func SpokeRuleName(r Rule) string { return SpokePrefix + r.ID }

// SpokeRulesIn returns the rules a spoke holds in a region: every rule, but
// those of global services (IAM, Organizations) only in us-east-1, where
// EventBridge delivers their events.
func SpokeRulesIn(region string) []Rule {
	var out []Rule
	for _, r := range Rules() {
		if !r.GlobalOnly || region == GlobalRegion {
			out = append(out, r)
		}
	}
	return out
}

// GlobalRegion is where EventBridge delivers global services' events.
const GlobalRegion = "us-east-1"
