package respond

import (
	"errors"
	"strings"

	"github.com/aws/smithy-go"
)

// Gone is done: containment acts on a principal or key so that it can no
// longer be used. When IAM answers NoSuchEntity the user, key or role has
// been deleted meanwhile (by its owners, by the intruder covering tracks, or
// by an earlier attempt of a cleanup), and nothing can use it any more: the
// action has achieved what it was for. Counting it as failed would make
// Lambda retry the whole response and alert "contain FAILED" three times
// over a key that no longer exists.

// DetailGone is the detail of a containment action whose target is gone.
const DetailGone = "already gone"

// gone turns IAM's NoSuchEntity into a done action with DetailGone. ignore,
// when set, is a name whose absence is not the target's (the quarantine
// policy of AttachUserPolicy): an error naming it stays a failure.
func gone(err error, what, ignore string) (string, error) {
	var ae smithy.APIError
	if err == nil || !errors.As(err, &ae) || ae.ErrorCode() != "NoSuchEntity" {
		return "", err
	}
	if ignore != "" && strings.Contains(ae.ErrorMessage(), ignore) {
		return "", err
	}
	return DetailGone + ": " + what + " no longer exists", nil
}
