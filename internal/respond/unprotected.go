package respond

import (
	"strings"

	"github.com/trailguard/trailguard/internal/catalog"
	"github.com/trailguard/trailguard/internal/config"
)

// unprotectedTrail is the restore for a trail outside the baseline: a step
// for a person with the exact command, and no call. trailguard changes only
// the trails it protects; its role is granted on those alone, so a call on
// any other trail would be denied, fail the invocation and be retried into
// the failure queue while that trail stayed off. The actor is still
// contained (blinding any trail is tampering), and the alert says which
// trail to add to the baseline to have it restored automatically next time.
func unprotectedTrail(c Classification) []Action {
	t := c.Target
	name, region := t.Ref.Name, t.Region
	if name == "" {
		name = t.ID
	}
	cmd := ""
	switch c.Entry.Response {
	case catalog.StartLogging:
		cmd = "aws cloudtrail start-logging --name " + t.ID + " --region " + region
	case catalog.RecreateTrail:
		cmd = "aws cloudtrail create-trail --name " + name + " --s3-bucket-name <its bucket> --is-multi-region-trail --include-global-service-events --enable-log-file-validation --region " + region +
			" && aws cloudtrail start-logging --name " + name + " --region " + region
	case catalog.RevertTrail:
		var flags, by []string
		for _, ch := range c.Changes {
			if ch.Review || ch.Undecided {
				continue
			}
			switch ch.Field {
			case "isMultiRegionTrail":
				flags = append(flags, "--is-multi-region-trail")
			case "includeGlobalServiceEvents":
				flags = append(flags, "--include-global-service-events")
			case "enableLogFileValidation":
				flags = append(flags, "--enable-log-file-validation")
			default:
				by = append(by, ch.Field+" back to "+ch.Want)
			}
		}
		if len(flags) > 0 {
			cmd = "aws cloudtrail update-trail --name " + t.ID + " " + strings.Join(flags, " ") + " --region " + region
		}
		if len(by) > 0 {
			if cmd != "" {
				cmd += "; and set "
			} else {
				cmd = "set "
			}
			cmd += strings.Join(by, ", ")
		}
	case catalog.RestoreSelectors:
		if !degrading(c.Changes) {
			return nil
		}
		cmd = "aws cloudtrail put-event-selectors --trail-name " + t.ID + " --region " + region +
			` --event-selectors '[{"ReadWriteType":"All","IncludeManagementEvents":true}]' (add back any data event selectors it had)`
	default:
		if !c.Entry.Tamper() {
			return nil
		}
		cmd = c.Entry.Undo
	}
	if cmd == "" {
		return nil
	}
	return []Action{manual(StepRestore, t.ID, "trail "+name+" is not protected by trailguard (not in "+config.EnvTrails+
		"), so it was not changed: "+cmd+"; to have it restored automatically, add it to the baseline")}
}
