package notify

import (
	"fmt"
	"strings"

	"github.com/trailguard/trailguard/internal/catalog"
	"github.com/trailguard/trailguard/internal/respond"
	"github.com/trailguard/trailguard/internal/trail"
)

// The resources of a finding: what the response or drift is about, the
// protected trail's bucket and key, and the principal who acted, each in
// the ASFF resource type Security Hub knows it by.

// responseResources lists what the finding is about: the target (and, for a
// protected trail, its bucket and key), then the actor.
func responseResources(r respond.Report, region string) []Resource {
	c := r.Plan.Classification
	account := firstOf(c.Target.Account, r.Event.Record.RecipientAccountID)
	var out []Resource
	if res, ok := targetResource(c.Target, account, region); ok {
		out = append(out, res)
	}
	if b := c.Target.Baseline; b != nil && c.Target.Kind == catalog.Trail {
		if b.S3BucketName != "" {
			out = append(out, bucketResource(b.S3BucketName, region))
		}
		if b.KmsKeyID != nil && *b.KmsKeyID != "" {
			out = append(out, keyResource(*b.KmsKeyID, account, region))
		}
	}
	out = append(out, actorResource(c.Actor, r.Event.Record, region))
	if len(out) > MaxResources {
		out = out[:MaxResources]
	}
	return out
}

func targetResource(t respond.Target, account, region string) (Resource, bool) {
	if t.ID == "" {
		return Resource{}, false
	}
	where := firstOf(t.Region, region)
	p := Partition(where)
	switch t.Kind {
	case catalog.Trail:
		id := t.ID
		if !strings.HasPrefix(id, "arn:") {
			id = fmt.Sprintf("arn:%s:cloudtrail:%s:%s:trail/%s", p, where, account, id)
		}
		return Resource{Type: "AwsCloudTrailTrail", ID: id, Partition: p, Region: Clip(where, 16)}, true
	case catalog.Bucket:
		return bucketResource(t.ID, where), true
	case catalog.Key:
		return keyResource(t.ID, account, where), true
	case catalog.Function:
		id := t.ID
		if !strings.HasPrefix(id, "arn:") {
			id = fmt.Sprintf("arn:%s:lambda:%s:%s:function:%s", p, where, account, id)
		}
		return Resource{Type: "AwsLambdaFunction", ID: id, Partition: p, Region: Clip(where, 16)}, true
	case catalog.Topic:
		return Resource{Type: "AwsSnsTopic", ID: t.ID, Partition: p, Region: Clip(where, 16)}, true
	case catalog.Role:
		id := t.ID
		if !strings.HasPrefix(id, "arn:") {
			id = fmt.Sprintf("arn:%s:iam::%s:role/%s", p, account, id)
		}
		return Resource{Type: "AwsIamRole", ID: id, Partition: p, Region: Clip(where, 16)}, true
	case catalog.Organization:
		return Resource{Type: "AwsAccount", ID: fmt.Sprintf("AWS::::Account:%s", account), Partition: p, Region: Clip(where, 16)}, true
	}
	return Resource{Type: "Other", ID: Clip(t.ID, MaxID), Partition: p, Region: Clip(where, 16),
		Details: &ResourceDetails{Other: map[string]string{"kind": string(t.Kind)}}}, true
}

func bucketResource(name, region string) Resource {
	p := Partition(region)
	id := name
	if !strings.HasPrefix(id, "arn:") {
		id = "arn:" + p + ":s3:::" + name
	}
	return Resource{Type: "AwsS3Bucket", ID: id, Partition: p, Region: Clip(region, 16)}
}

func keyResource(key, account, region string) Resource {
	p := Partition(region)
	id := key
	if !strings.HasPrefix(id, "arn:") {
		id = fmt.Sprintf("arn:%s:kms:%s:%s:key/%s", p, region, account, key)
	}
	return Resource{Type: "AwsKmsKey", ID: id, Partition: p, Region: Clip(region, 16)}
}

// actorResource names the principal: an IAM user or the role behind a
// session as such, anything else (root, a federated user, a service, another
// account) as Other with its type.
func actorResource(a respond.Actor, rec trail.Record, region string) Resource {
	p := Partition(region)
	other := map[string]string{"principalType": a.Type, "display": a.Display}
	if a.AccessKeyID != "" {
		other["accessKeyId"] = a.AccessKeyID
	}
	if a.InvokedBy != "" {
		other["invokedBy"] = a.InvokedBy
	}
	if rec.SourceIPAddress != "" {
		other["sourceIpAddress"] = rec.SourceIPAddress
	}
	for k, v := range other {
		if v == "" {
			delete(other, k)
			continue
		}
		other[k] = Clip(v, MaxOtherValue)
	}
	res := Resource{Type: "Other", ID: Clip(firstOf(a.ARN, a.Display, "unknown principal"), MaxID), Partition: p, Region: Clip(region, 16), Details: &ResourceDetails{Other: other}}
	switch {
	case a.Type == "IAMUser" && a.ARN != "":
		res.Type = "AwsIamUser"
	case a.Type == "AssumedRole" && a.RoleName != "":
		res.Type = "AwsIamRole"
		other["session"] = Clip(a.ARN, MaxOtherValue)
		if acct := firstOf(a.Account, rec.RecipientAccountID); acct != "" {
			res.ID = fmt.Sprintf("arn:%s:iam::%s:role/%s", p, acct, a.RoleName)
		}
	}
	return res
}

func driftResource(what, account, region string) Resource {
	kind, name, _ := strings.Cut(what, " ")
	switch kind {
	case "trail":
		return Resource{Type: "AwsCloudTrailTrail", ID: fmt.Sprintf("arn:%s:cloudtrail:%s:%s:trail/%s", Partition(region), region, account, name), Partition: Partition(region), Region: Clip(region, 16)}
	case "bucket":
		return bucketResource(name, region)
	case "key":
		return keyResource(name, account, region)
	}
	return Resource{Type: "Other", ID: Clip(what, MaxID), Partition: Partition(region), Region: Clip(region, 16)}
}

func shortName(id string) string {
	if a, ok := trail.ParseARN(id); ok {
		if i := strings.LastIndexAny(a.Resource, "/:"); i >= 0 {
			return a.Resource[i+1:]
		}
		return a.Resource
	}
	return id
}
