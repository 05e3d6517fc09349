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
			out = append(out, bucketForm.resource(b.S3BucketName, account, region))
		}
		if b.KmsKeyID != nil && *b.KmsKeyID != "" {
			out = append(out, keyForm.resource(*b.KmsKeyID, account, region))
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
		return trailForm.resource(t.ID, account, where), true
	case catalog.Bucket:
		return bucketForm.resource(t.ID, account, where), true
	case catalog.Key:
		return keyForm.resource(t.ID, account, where), true
	case catalog.Function:
		return functionForm.resource(t.ID, account, where), true
	case catalog.Topic:
		return Resource{Type: "AwsSnsTopic", ID: t.ID, Partition: p, Region: Clip(where, 16)}, true
	case catalog.Role:
		return roleForm.resource(t.ID, account, where), true
	case catalog.Organization:
		return Resource{Type: "AwsAccount", ID: fmt.Sprintf("AWS::::Account:%s", account), Partition: p, Region: Clip(where, 16)}, true
	}
	return Resource{Type: "Other", ID: Clip(t.ID, MaxID), Partition: p, Region: Clip(where, 16),
		Details: &ResourceDetails{Other: map[string]string{"kind": string(t.Kind)}}}, true
}

// arnForm is how a resource type's ARN is made from a resource's name:
// arn:PARTITION:SERVICE:REGION:ACCOUNT:PATHNAME, the region and account
// left out where the service's ARNs have none (S3, IAM).
type arnForm struct {
	typ, service, path string
	regional, owned    bool
}

var (
	trailForm    = arnForm{typ: "AwsCloudTrailTrail", service: "cloudtrail", path: "trail/", regional: true, owned: true}
	bucketForm   = arnForm{typ: "AwsS3Bucket", service: "s3"}
	keyForm      = arnForm{typ: "AwsKmsKey", service: "kms", path: "key/", regional: true, owned: true}
	functionForm = arnForm{typ: "AwsLambdaFunction", service: "lambda", path: "function:", regional: true, owned: true}
	roleForm     = arnForm{typ: "AwsIamRole", service: "iam", path: "role/", owned: true}
)

// resource is the resource id names (an ARN, kept, or a name the ARN is
// made from) in account and region.
func (f arnForm) resource(id, account, region string) Resource {
	p := Partition(region)
	if !strings.HasPrefix(id, "arn:") {
		where, owner := "", ""
		if f.regional {
			where = region
		}
		if f.owned {
			owner = account
		}
		id = "arn:" + p + ":" + f.service + ":" + where + ":" + owner + ":" + f.path + id
	}
	return Resource{Type: f.typ, ID: id, Partition: p, Region: Clip(region, 16)}
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
			res.ID = roleForm.resource(a.RoleName, acct, region).ID
		}
	}
	return res
}

func driftResource(what, account, region string) Resource {
	kind, name, _ := strings.Cut(what, " ")
	switch kind {
	case "trail":
		return trailForm.resource(name, account, region)
	case "bucket":
		return bucketForm.resource(name, account, region)
	case "key":
		return keyForm.resource(name, account, region)
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
