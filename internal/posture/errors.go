package posture

import (
	"errors"
	"net"
	"net/url"
	"strings"
	"syscall"

	"github.com/aws/smithy-go"
)

// errorKind sorts API errors into what the operator must do about them.
type errorKind int

const (
	errOther errorKind = iota
	errDenied
	errRegionDisabled
	errThrottled
	errUnreachable
	errNoCredentials
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
	case code == "" && unreachable(err) != "":
		return errUnreachable
	case code == "" && noCredentials(err):
		return errNoCredentials
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
	case errUnreachable:
		return "the endpoint could not be reached: check the network, a proxy, AWS_ENDPOINT_URL and the region, then run the check again"
	case errNoCredentials:
		return noCredentialsAdvice
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
	case errUnreachable:
		return "cannot connect: " + unreachable(err)
	case errNoCredentials:
		return "no credentials: " + compactError(err)
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

const noCredentialsAdvice = "give the SDK credentials: AWS_PROFILE (and aws sso login), AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where an instance or task role applies"

// unreachable says why err is a failure to reach the endpoint at all
// (refused, unresolvable, timed out, reset), naming the endpoint; "" when
// err is not a network failure.
func unreachable(err error) string {
	where := ""
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil && u.Host != "" {
			where = " (" + u.Scheme + "://" + u.Host + ")"
		}
	}
	var dns *net.DNSError
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused" + where
	case errors.As(err, &dns):
		return "cannot resolve " + dns.Name + where
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset" + where
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "host or network unreachable" + where
	case errors.As(err, &ne) && ne.Timeout():
		return "timed out" + where
	}
	return ""
}

// noCredentials reports whether err is the SDK finding no credentials in
// its chain (environment, shared config, SSO, container or instance role).
// The SDK has no error type for it; its message is stable.
func noCredentials(err error) bool {
	return strings.Contains(err.Error(), "get credentials:") || strings.Contains(err.Error(), "failed to retrieve credentials")
}

// SetupError means the check could not start: the credentials or the
// endpoint do not work, or the regions asked for do not exist. Nothing was
// judged, so nothing is reported as a finding.
type SetupError struct {
	// Reason is what went wrong, for people.
	Reason string
	Err    error
	// named: Reason already says everything Err would.
	named bool
}

func (e *SetupError) Error() string {
	if e.Err == nil || e.named {
		return e.Reason
	}
	return e.Reason + ": " + compactError(e.Err)
}

func (e *SetupError) Unwrap() error { return e.Err }

// callerError turns a failed sts:GetCallerIdentity, the check's first call,
// into the reason the check cannot run.
func callerError(err error) *SetupError {
	switch classify(err) {
	case errUnreachable:
		return &SetupError{Reason: "cannot reach AWS: " + unreachable(err) + "; check the network, a proxy, AWS_ENDPOINT_URL and the region", Err: err, named: true}
	case errNoCredentials:
		return &SetupError{Reason: "no AWS credentials found; " + noCredentialsAdvice, Err: err}
	}
	switch apiCode(err) {
	case "InvalidClientTokenId", "UnrecognizedClientException", "SignatureDoesNotMatch", "InvalidAccessKeyId", "AuthFailure":
		return &SetupError{Reason: "AWS rejected the credentials (unknown key or wrong secret)", Err: err}
	case "ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired":
		return &SetupError{Reason: "the credentials have expired; refresh them (aws sso login, or a new session)", Err: err}
	}
	return &SetupError{Reason: "cannot verify the credentials with sts:GetCallerIdentity", Err: err}
}
