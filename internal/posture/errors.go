package posture

import (
	"errors"
	"strings"

	"github.com/aws/smithy-go"
)

// errorKind sorts API errors into what the operator must do about them.
type errorKind int

const (
	errOther errorKind = iota
	errDenied
	errRegionDisabled
	errThrottled
)

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func classify(err error) errorKind {
	code := apiCode(err)
	switch {
	case code == "":
		return errOther
	case strings.HasPrefix(code, "AccessDenied"), code == "UnauthorizedOperation",
		code == "AuthorizationError", code == "UnauthorizedException":
		return errDenied
	case code == "UnrecognizedClientException", code == "InvalidClientTokenId",
		code == "AuthFailure", code == "OptInRequired", code == "InvalidToken":
		// An opt-in region that is not enabled rejects the credentials.
		return errRegionDisabled
	case strings.Contains(code, "Throttl"), code == "TooManyRequestsException",
		code == "RequestLimitExceeded", code == "SlowDown":
		return errThrottled
	}
	return errOther
}

// errorAdvice says what to do about an error, for the finding's Fix.
func errorAdvice(err error, permission string) string {
	switch classify(err) {
	case errDenied:
		return "grant the checking principal " + permission + " (the AWS managed policy SecurityAudit covers every call trailguard check makes), then run the check again"
	case errRegionDisabled:
		return "the region is not enabled for this account (opt-in region) or the credentials are not valid there: enable it in the console (Account > AWS Regions) if it should be used, or leave it out with --regions"
	case errThrottled:
		return "the API throttled the check after the SDK's retries: run again with a lower --concurrency"
	}
	return "run the check again; if it persists, run the failing call with the AWS CLI to see the full error"
}

// errorDetail renders an error for a finding, kind first.
func errorDetail(err error) string {
	prefix := ""
	switch classify(err) {
	case errDenied:
		prefix = "access denied: "
	case errRegionDisabled:
		prefix = "region not enabled or credentials rejected: "
	case errThrottled:
		prefix = "throttled: "
	}
	return prefix + compactError(err)
}

// compactError renders an AWS error as "Service Operation: Code: message",
// without the request ID and HTTP details the SDK adds, so reports stay
// readable and identical between runs.
func compactError(err error) string {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return err.Error()
	}
	s := ae.ErrorCode()
	if m := ae.ErrorMessage(); m != "" {
		s += ": " + m
	}
	var oe *smithy.OperationError
	if errors.As(err, &oe) {
		s = oe.Service() + " " + oe.Operation() + ": " + s
	}
	return s
}
