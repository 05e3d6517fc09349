package guardrails

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/trailguard/trailguard/internal/catalog"
	"github.com/trailguard/trailguard/internal/trail"
)

// What the input resolves to: the protected resources' ARNs and the
// principals exempt from every policy.

// resolved is Input with every resource as an ARN.
type resolved struct {
	in   Input
	arns map[catalog.Resource][]string
}

func (in Input) resolve() (resolved, error) {
	if in.Partition == "" {
		in.Partition = "aws"
	}
	r := resolved{in: in, arns: map[catalog.Resource][]string{}}
	var errs []error
	add := func(res catalog.Resource, arn string) {
		if !slices.Contains(r.arns[res], arn) {
			r.arns[res] = append(r.arns[res], arn)
		}
	}
	// regional builds the ARN of a named resource, or checks a given ARN.
	regional := func(what, service, region, value, resourcePrefix string) (string, bool) {
		if a, ok := trail.ParseARN(value); ok {
			if a.Service != service || !strings.HasPrefix(a.Resource, resourcePrefix) {
				errs = append(errs, fmt.Errorf("%s %q is not a %s ARN", what, value, service+" "+strings.TrimSuffix(resourcePrefix, "/")))
				return "", false
			}
			return value, true
		}
		if region == "" || in.Account == "" {
			errs = append(errs, fmt.Errorf("%s %q is a name: give its ARN, or the account and region", what, value))
			return "", false
		}
		return fmt.Sprintf("arn:%s:%s:%s:%s:%s%s", in.Partition, service, region, in.Account, resourcePrefix, value), true
	}

	if in.ResponderRoleARN == "" {
		errs = append(errs, errors.New("the responder role ARN is required: it must stay exempt to restore"))
	}
	for _, role := range []*string{&in.ResponderRoleARN, &in.MemberRoleARN} {
		if *role == "" {
			continue
		}
		arn, ok := roleARN(*role)
		if !ok {
			errs = append(errs, fmt.Errorf("%q is not an IAM role ARN", *role))
			continue
		}
		*role = arn
		add(catalog.Role, arn)
	}
	r.in = in

	for _, t := range in.Trails {
		region := t.Region
		if region == "" {
			region = in.Region
		}
		if t.Name != "" {
			if arn, ok := regional("trail", "cloudtrail", region, t.Name, "trail/"); ok {
				add(catalog.Trail, arn)
			}
		}
		if t.Bucket != "" {
			if strings.ContainsAny(t.Bucket, ":/*") {
				errs = append(errs, fmt.Errorf("bucket %q is not a bucket name", t.Bucket))
			} else {
				add(catalog.Bucket, fmt.Sprintf("arn:%s:s3:::%s", in.Partition, t.Bucket))
			}
		}
		if t.Key != "" {
			if arn, ok := regional("KMS key", "kms", region, t.Key, "key/"); ok {
				add(catalog.Key, arn)
			}
		}
		if t.LogGroup != "" {
			// CloudTrail names the group arn:…:log-group:NAME:*; IAM's
			// resource is the group without the trailing ":*".
			if arn, ok := regional("log group", "logs", region, strings.TrimSuffix(t.LogGroup, ":*"), "log-group:"); ok {
				add(catalog.LogGroup, arn)
			}
		}
	}
	for _, s := range in.EventDataStores {
		if a, ok := trail.ParseARN(s); !ok || a.Service != "cloudtrail" || !strings.HasPrefix(a.Resource, "eventdatastore/") {
			errs = append(errs, fmt.Errorf("event data store %q is not an event data store ARN", s))
			continue
		}
		add(catalog.EventDataStore, s)
	}
	for _, v := range in.Rules {
		if arn, ok := regional("rule", "events", in.Region, v, "rule/"); ok {
			add(catalog.EventRule, arn)
		}
	}
	for _, v := range in.Functions {
		if arn, ok := regional("function", "lambda", in.Region, v, "function:"); ok {
			add(catalog.Function, arn)
		}
	}
	for _, v := range in.Topics {
		if a, ok := trail.ParseARN(v); ok && (a.Service != "sns" || a.Resource == "") {
			errs = append(errs, fmt.Errorf("topic %q is not an SNS topic ARN", v))
			continue
		}
		if arn, ok := regional("topic", "sns", in.Region, v, ""); ok {
			add(catalog.Topic, arn)
		}
	}
	for _, p := range in.Allow {
		if !strings.HasPrefix(p, "arn:") {
			errs = append(errs, fmt.Errorf("allow-list entry %q is not a principal ARN or ARN glob", p))
		} else if strings.Trim(p, "*") == "arn:" || p == "arn:*" {
			errs = append(errs, fmt.Errorf("allow-list entry %q would exempt every principal", p))
		}
	}
	add(catalog.Organization, "*")
	if err := errors.Join(errs...); err != nil {
		return resolved{}, fmt.Errorf("guardrails: %w", err)
	}
	return r, nil
}

// roleARN accepts a role ARN, or an assumed-role ARN (its role, path unknown).
func roleARN(s string) (string, bool) {
	a, ok := trail.ParseARN(s)
	if !ok {
		return "", false
	}
	switch {
	case a.Service == "iam" && strings.HasPrefix(a.Resource, "role/"):
		return s, true
	case a.Service == "sts" && strings.HasPrefix(a.Resource, "assumed-role/"):
		name, _, _ := strings.Cut(strings.TrimPrefix(a.Resource, "assumed-role/"), "/")
		return fmt.Sprintf("arn:%s:iam::%s:role/%s", a.Partition, a.Account, name), true
	}
	return "", false
}

// exemptions are the aws:PrincipalARN patterns every statement leaves alone.
// aws:PrincipalARN of a role session is the role's ARN, so an allow-list
// entry naming a session exempts its role, with or without a path.
func (r resolved) exemptions() []Exemption {
	p := r.in.Partition
	out := []Exemption{{r.in.ResponderRoleARN, "trailguard's responder: its restores call some of the denied actions"}}
	if r.in.MemberRoleARN != "" {
		out = append(out, Exemption{r.in.MemberRoleARN, "trailguard's member role (organization mode)"})
	}
	for _, a := range r.in.Allow {
		if pa, ok := trail.ParseARN(a); ok && pa.Service == "sts" && strings.HasPrefix(pa.Resource, "assumed-role/") {
			role, _, _ := strings.Cut(strings.TrimPrefix(pa.Resource, "assumed-role/"), "/")
			out = append(out,
				Exemption{fmt.Sprintf("arn:%s:iam::%s:role/%s", pa.Partition, pa.Account, role), "allow list (break-glass): " + a},
				Exemption{fmt.Sprintf("arn:%s:iam::%s:role/*/%s", pa.Partition, pa.Account, role), "allow list (break-glass): " + a + ", the role with a path"})
			continue
		}
		out = append(out, Exemption{a, "allow list (break-glass)"})
	}
	out = append(out,
		Exemption{"arn:" + p + ":iam::*:role/stacksets-exec-*", "CloudFormation StackSets execution roles (self-managed and service-managed)"},
		Exemption{"arn:" + p + ":iam::*:role/AWSControlTowerExecution", "AWS Control Tower's execution role"},
		Exemption{"arn:" + p + ":iam::*:role/cdk-*-cfn-exec-role-*", "the CDK deploy role: redeploying trailguard and the trail"},
	)
	// Drop duplicates, keeping the first reason.
	seen := map[string]bool{}
	return slices.DeleteFunc(out, func(e Exemption) bool {
		if seen[e.Pattern] {
			return true
		}
		seen[e.Pattern] = true
		return false
	})
}
