package trail

import "strings"

// ARN is an Amazon Resource Name split into its parts.
type ARN struct {
	Partition, Service, Region, Account, Resource string
}

// ParseARN splits s; ok is false when s is not an ARN.
func ParseARN(s string) (a ARN, ok bool) {
	rest, ok := strings.CutPrefix(s, "arn:")
	if !ok {
		return ARN{}, false
	}
	// Cut instead of SplitN: ARNs are parsed several times per event and
	// this allocates nothing.
	parts := [...]*string{&a.Partition, &a.Service, &a.Region, &a.Account}
	for _, p := range parts {
		if *p, rest, ok = strings.Cut(rest, ":"); !ok {
			return ARN{}, false
		}
	}
	if a.Partition == "" || a.Service == "" {
		return ARN{}, false
	}
	a.Resource = rest
	return a, true
}

// TrailRef is how an event names a trail: a bare name or a trail ARN.
type TrailRef struct {
	// Given is the value as it appeared in the event.
	Given string
	// Name is the trail's name (the last part of the ARN).
	Name string
	// Region and Account are known only when Given is an ARN.
	Region, Account string
}

// ParseTrailRef accepts a trail name or ARN.
func ParseTrailRef(s string) TrailRef {
	ref := TrailRef{Given: s, Name: s}
	if a, ok := ParseARN(s); ok && a.Service == "cloudtrail" && strings.HasPrefix(a.Resource, "trail/") {
		ref.Name = strings.TrimPrefix(a.Resource, "trail/")
		ref.Region, ref.Account = a.Region, a.Account
	}
	return ref
}

// RoleName returns the role's name from a role ARN
// (arn:aws:iam::123456789012:role/path/name) or an assumed-role ARN
// (arn:aws:sts::123456789012:assumed-role/name/session), or "" for others.
func RoleName(arn string) string {
	a, ok := ParseARN(arn)
	if !ok {
		return ""
	}
	switch {
	case a.Service == "iam" && strings.HasPrefix(a.Resource, "role/"):
		r := strings.TrimPrefix(a.Resource, "role/")
		return r[strings.LastIndex(r, "/")+1:]
	case a.Service == "sts" && strings.HasPrefix(a.Resource, "assumed-role/"):
		r := strings.TrimPrefix(a.Resource, "assumed-role/")
		if i := strings.Index(r, "/"); i >= 0 {
			return r[:i]
		}
		return r
	}
	return ""
}

// RolePath returns the path of a role ARN ("/" when none), or "" when arn is
// not a role ARN.
func RolePath(arn string) string {
	a, ok := ParseARN(arn)
	if !ok || a.Service != "iam" || !strings.HasPrefix(a.Resource, "role/") {
		return ""
	}
	r := strings.TrimPrefix(a.Resource, "role/")
	i := strings.LastIndex(r, "/")
	if i < 0 {
		return "/"
	}
	return "/" + r[:i+1]
}
