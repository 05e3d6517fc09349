package trail

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// DetailType is the EventBridge detail-type of CloudTrail API-call events.
const DetailType = "AWS API Call via CloudTrail"

// MaxEventSize bounds the input accepted by Parse. EventBridge events are at
// most 256 KB; anything much larger is not an event trailguard should trust.
const MaxEventSize = 1 << 20

// ErrMalformed is wrapped by every error Parse returns for input that is not
// a CloudTrail API-call event.
var ErrMalformed = errors.New("malformed event")

// Event is a CloudTrail API-call record, with the EventBridge envelope when it
// came in one.
type Event struct {
	// Envelope fields; empty when a bare CloudTrail record was parsed.
	ID         string    `json:"id,omitempty"`
	DetailType string    `json:"detail-type,omitempty"`
	Source     string    `json:"source,omitempty"`
	Account    string    `json:"account,omitempty"`
	Region     string    `json:"region,omitempty"`
	Time       time.Time `json:"time,omitzero"`

	Record Record `json:"detail"`
	// Raw is the input exactly as received, for the alert's raw section.
	Raw json.RawMessage `json:"-"`
}

// Record is the CloudTrail record of one API call (EventBridge's detail),
// reduced to the fields trailguard reads: decoding a field costs time and an
// allocation per event, and the whole record stays in Event.Raw for the alert.
type Record struct {
	EventID            string          `json:"eventID,omitempty"`
	EventTime          time.Time       `json:"eventTime,omitzero"`
	EventSource        string          `json:"eventSource"`
	EventName          string          `json:"eventName"`
	AWSRegion          string          `json:"awsRegion"`
	SourceIPAddress    string          `json:"sourceIPAddress,omitempty"`
	UserAgent          string          `json:"userAgent,omitempty"`
	ErrorCode          string          `json:"errorCode,omitempty"`
	ErrorMessage       string          `json:"errorMessage,omitempty"`
	RequestParameters  json.RawMessage `json:"requestParameters,omitempty"`
	RecipientAccountID string          `json:"recipientAccountId,omitempty"`
	UserIdentity       Identity        `json:"userIdentity"`
}

// Failed reports whether the call was refused or failed: CloudTrail records
// an errorCode for those.
func (r Record) Failed() bool { return r.ErrorCode != "" }

// Identity is the record's userIdentity: who made the call.
type Identity struct {
	// Type is IAMUser, AssumedRole, Root, FederatedUser, AWSService,
	// AWSAccount, IdentityCenterUser, or another value AWS may add.
	Type           string          `json:"type"`
	PrincipalID    string          `json:"principalId,omitempty"`
	ARN            string          `json:"arn,omitempty"`
	AccountID      string          `json:"accountId,omitempty"`
	AccessKeyID    string          `json:"accessKeyId,omitempty"`
	UserName       string          `json:"userName,omitempty"`
	InvokedBy      string          `json:"invokedBy,omitempty"`
	SessionContext *SessionContext `json:"sessionContext,omitempty"`
}

// SessionContext describes the temporary credentials of a session.
type SessionContext struct {
	SessionIssuer *SessionIssuer     `json:"sessionIssuer,omitempty"`
	Attributes    *SessionAttributes `json:"attributes,omitempty"`
}

// SessionIssuer is the principal that issued a session: the role of an
// assumed-role session, or the IAM user (or root) of a federated one.
type SessionIssuer struct {
	Type        string `json:"type,omitempty"`
	PrincipalID string `json:"principalId,omitempty"`
	ARN         string `json:"arn,omitempty"`
	AccountID   string `json:"accountId,omitempty"`
	UserName    string `json:"userName,omitempty"`
}

// SessionAttributes holds when the session was issued and whether with MFA.
type SessionAttributes struct {
	CreationDate     string `json:"creationDate,omitempty"`
	MFAAuthenticated string `json:"mfaAuthenticated,omitempty"`
}

// Issuer returns the session issuer, or a zero value when there is none.
func (i Identity) Issuer() SessionIssuer {
	if i.SessionContext == nil || i.SessionContext.SessionIssuer == nil {
		return SessionIssuer{}
	}
	return *i.SessionContext.SessionIssuer
}

// MFA reports whether the session was authenticated with MFA.
func (i Identity) MFA() bool {
	return i.SessionContext != nil && i.SessionContext.Attributes != nil &&
		i.SessionContext.Attributes.MFAAuthenticated == "true"
}

// Parse decodes a CloudTrail API-call event, either as EventBridge delivers
// it (the envelope with the record in detail) or as a bare CloudTrail record
// (as found in log files and in the CloudTrail console's event history).
// Any error wraps ErrMalformed and says what is wrong.
func Parse(b []byte) (Event, error) {
	if len(b) > MaxEventSize {
		return Event{}, fmt.Errorf("%w: %d bytes is over the %d-byte limit", ErrMalformed, len(b), MaxEventSize)
	}
	trimmed := bytes.TrimSpace(b)
	if len(trimmed) == 0 {
		return Event{}, fmt.Errorf("%w: empty input", ErrMalformed)
	}
	if trimmed[0] != '{' {
		return Event{}, fmt.Errorf("%w: not a JSON object", ErrMalformed)
	}
	// One decoding pass serves both shapes: the envelope's detail, or the
	// record's own fields at the top level of a bare record.
	var w struct {
		Event
		Detail     Record `json:"detail"`
		DetailType string `json:"detail-type"`
		Record
	}
	if err := json.Unmarshal(trimmed, &w); err != nil {
		return Event{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	ev := w.Event
	// An envelope without a usable detail leaves Record empty, which the
	// validation below reports field by field.
	switch {
	case w.DetailType == "":
		ev.Record = w.Record
	case w.DetailType != DetailType:
		return Event{}, fmt.Errorf("%w: detail-type %q is not %q", ErrMalformed, w.DetailType, DetailType)
	default:
		ev.DetailType = w.DetailType
		ev.Record = w.Detail
	}
	if err := ev.Record.validate(); err != nil {
		return Event{}, err
	}
	// Raw aliases the input: the caller hands over the buffer.
	ev.Raw = json.RawMessage(trimmed)
	return ev, nil
}

func (r Record) validate() error {
	var missing []string
	if r.EventSource == "" {
		missing = append(missing, "eventSource")
	}
	if r.EventName == "" {
		missing = append(missing, "eventName")
	}
	if r.AWSRegion == "" {
		missing = append(missing, "awsRegion")
	}
	if r.UserIdentity.Type == "" {
		missing = append(missing, "userIdentity.type")
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: CloudTrail record without %s", ErrMalformed, strings.Join(missing, ", "))
	}
	if v := bytes.TrimSpace(r.RequestParameters); len(v) > 0 && v[0] != '{' && !bytes.Equal(v, []byte("null")) {
		return fmt.Errorf("%w: requestParameters is neither an object nor null", ErrMalformed)
	}
	return nil
}

// Params decodes the record's requestParameters into v. A record without
// parameters leaves v untouched.
func (r Record) Params(v any) error {
	if len(r.RequestParameters) == 0 || bytes.Equal(bytes.TrimSpace(r.RequestParameters), []byte("null")) {
		return nil
	}
	if err := json.Unmarshal(r.RequestParameters, v); err != nil {
		return fmt.Errorf("%w: requestParameters of %s: %w", ErrMalformed, r.EventName, err)
	}
	return nil
}
