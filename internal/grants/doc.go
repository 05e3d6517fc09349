package grants

import (
	"fmt"
	"strings"
)

// described says, for people, what each resource is in the deployed stack.
var described = map[Resource]string{
	Anything:           "`*` (no resource-level permissions)",
	ProtectedTrails:    "the protected trail's ARN (home region)",
	EventDataStores:    "`arn:…:cloudtrail:*:<account>:eventdatastore/*`",
	Users:              "`arn:…:iam::<account>:user/*`",
	Roles:              "`arn:…:iam::<account>:role/*`",
	QuarantinePolicy:   "the quarantine policy",
	SelfRole:           "the responder's own role",
	PrivilegedRoles:    "`…:role/aws-reserved/*`, `…:role/aws-service-role/*`, `…:role/cdk-*`, the allow list's roles",
	Topic:              "the alert topic",
	OwnLogGroup:        "the responder's log group",
	TrailBucket:        "the trail bucket, `arn:<partition>:s3:::<bucket>`",
	TrailKey:           "the trail's KMS key (only when the trail is encrypted)",
	TrailLogGroup:      "the trail's log group, `arn:…:log-group:<name>:*` (only with one)",
	TrailLogsRole:      "the trail's CloudWatch Logs role (only with one)",
	OwnRules:           "each of trailguard's rules, `arn:<partition>:events:<region>:<account>:rule/<name>`",
	GapWindows:         "`arn:<partition>:s3:::<trail bucket>/trailguard/pending/*`",
	GapReports:         "`arn:<partition>:s3:::<trail bucket>/trailguard/gap-reports/*`",
	DedupTable:         "trailguard's event table (DynamoDB)",
	MemberRoles:        "the member accounts' trailguard role (organization mode only)",
	Organization:       "`*` (organization mode only)",
	OrganizationID:     "the organization's ID",
	SecurityHubProduct: "the account's default Security Hub product (only with `TRAILGUARD_SECURITYHUB`)",
}

// Markdown renders the table for infra/README.md: one row per statement,
// with the SDK operations that need each.
func Markdown() string {
	var b strings.Builder
	b.WriteString("| Sid | effect: IAM actions | resource | SDK operations | why |\n|---|---|---|---|---|\n")
	for _, s := range Table {
		effect := "Allow"
		if s.Deny {
			effect = "**Deny**"
		}
		var res, ops []string
		for _, r := range s.Resources {
			res = append(res, describe(r))
		}
		if c := s.Condition; c != nil {
			v := c.Value
			if c.ValueOf != "" {
				v = describe(c.ValueOf)
			}
			res = append(res, fmt.Sprintf("condition `%s %s` = %s", c.Operator, c.Key, v))
		}
		for _, c := range s.Calls {
			ops = append(ops, c.Op)
		}
		fmt.Fprintf(&b, "| %s | %s: %s | %s | %s | %s |\n", s.Sid, effect, strings.Join(s.Actions(), ", "),
			strings.Join(res, "; "), strings.Join(ops, ", "), s.Why)
	}
	return b.String()
}

func describe(r Resource) string {
	if d, ok := described[r]; ok {
		return d
	}
	return "`" + string(r) + "`"
}
