package judgment

import (
	"slices"
	"strings"

	"github.com/trailguard/trailguard/internal/policy"
	"github.com/trailguard/trailguard/internal/trail"
)

// Encryption is what CloudTrail encrypts with: the key (an ARN or ID; with an
// ID, Region and Account name it) and the trails using it.
type Encryption struct {
	Key     string
	Region  string
	Account string
	Bucket  string
	Trails  []string
}

// keyARN is the key as IAM names it in a key policy's Resource.
func (e Encryption) keyARN() string {
	if a, ok := trail.ParseARN(e.Key); ok && strings.HasPrefix(a.Resource, "key/") {
		return e.Key
	}
	return "arn:aws:kms:" + e.Region + ":" + e.Account + ":key/" + e.Key
}

// KeyPolicy judges a key policy: may CloudTrail still generate data keys
// (kms:GenerateDataKey*) for each trail using the key, with the encryption
// context CloudTrail sends (kms:EncryptionContext:aws:cloudtrail:arn) and
// its aws:SourceArn? Harmful's culprits are the deny statements that stop it.
func KeyPolicy(doc []byte, e Encryption) Judgment {
	if len(strings.TrimSpace(string(doc))) == 0 {
		return Judgment{Verdict: CannotTell, Reason: "no key policy to judge"}
	}
	p, err := policy.Parse(doc)
	if err != nil && err != policy.ErrNoStatement {
		return Judgment{Verdict: CannotTell, Reason: "the key policy cannot be read: " + err.Error()}
	}
	if len(e.Trails) == 0 {
		return Judgment{Verdict: CannotTell, Reason: "no trail known to use key " + e.Key}
	}
	out := Judgment{Verdict: OK}
	var reasons []string
	for _, arn := range e.Trails {
		ctx := map[string][]string{
			"kms:EncryptionContext:aws:cloudtrail:arn": {arn},
			"kms:EncryptionContextKeys":                {"aws:cloudtrail:arn", "aws:s3:arn"},
		}
		if e.Bucket != "" {
			ctx["kms:EncryptionContext:aws:s3:arn"] = []string{"arn:aws:s3:::" + e.Bucket + "/AWSLogs/"}
		}
		req := cloudTrailRequest("kms:GenerateDataKey", e.keyARN(), arn, ctx)
		dec := policy.Evaluate(p, req)
		v, why := OK, ""
		switch dec.Result {
		case policy.Deny:
			v, why = Harmful, "CloudTrail kms:GenerateDataKey for "+trailName(arn)+" "+dec.Reason()
		case policy.ImplicitDeny:
			v, why = Harmful, "no statement allows CloudTrail kms:GenerateDataKey for "+trailName(arn)
		case policy.CannotTell:
			v, why = CannotTell, "CloudTrail kms:GenerateDataKey for "+trailName(arn)+": "+dec.Reason()
		}
		if worse(v, out.Verdict) {
			out.Verdict, reasons, out.Culprits = v, nil, nil
		}
		if v == out.Verdict && why != "" {
			reasons = appendNew(reasons, why)
			if v == Harmful {
				for _, m := range dec.Denies {
					if !slices.Contains(out.Culprits, m.Index) {
						out.Culprits = append(out.Culprits, m.Index)
					}
				}
			}
		}
	}
	out.Reason = strings.Join(reasons, "; ")
	if out.Verdict == OK {
		out.Reason = "cloudtrail.amazonaws.com may generate data keys for its trails"
	}
	return out
}
