package notify

import (
	"fmt"
	"strings"
	"time"

	"github.com/trailguard/trailguard/internal/catalog"
	"github.com/trailguard/trailguard/internal/respond"
)

// OCSF: the alert as an Open Cybersecurity Schema Framework event, for
// Security Lake custom sources and SIEMs that read OCSF.
//
// The response is a Detection Finding (class 2004, category Findings). The
// CloudTrail call that caused it is carried as the finding's evidence in the
// API Activity shape (class 6003: api.operation, api.service.name,
// actor.user, src_endpoint) and named as a related API Activity event; the
// account and region are the cloud profile's. The finding's uid is the
// Security Hub finding's Id, so both copies of one response can be joined.

// OCSFVersion is the OCSF schema version the documents follow.
const OCSFVersion = "1.3.0"

// OCSF class and category numbers used.
const (
	OCSFDetectionFinding = 2004
	OCSFFindings         = 2
	OCSFAPIActivity      = 6003
)

// OCSFFinding is a Detection Finding.
type OCSFFinding struct {
	ClassUID     int               `json:"class_uid"`
	ClassName    string            `json:"class_name"`
	CategoryUID  int               `json:"category_uid"`
	CategoryName string            `json:"category_name"`
	ActivityID   int               `json:"activity_id"`
	ActivityName string            `json:"activity_name"`
	TypeUID      int               `json:"type_uid"`
	TypeName     string            `json:"type_name"`
	Time         int64             `json:"time"`
	SeverityID   int               `json:"severity_id"`
	Severity     string            `json:"severity"`
	StatusID     int               `json:"status_id"`
	Status       string            `json:"status"`
	Message      string            `json:"message"`
	Metadata     OCSFMetadata      `json:"metadata"`
	FindingInfo  OCSFFindingInfo   `json:"finding_info"`
	Cloud        OCSFCloud         `json:"cloud"`
	Resources    []OCSFResource    `json:"resources,omitempty"`
	Evidences    []OCSFEvidence    `json:"evidences,omitempty"`
	Remediation  *OCSFRemediation  `json:"remediation,omitempty"`
	Unmapped     map[string]string `json:"unmapped,omitempty"`
}

// OCSFMetadata names the product and schema version.
type OCSFMetadata struct {
	Version string      `json:"version"`
	Product OCSFProduct `json:"product"`
	// UID is the CloudTrail event ID.
	UID string `json:"uid,omitempty"`
}

// OCSFProduct is trailguard.
type OCSFProduct struct {
	Name       string `json:"name"`
	VendorName string `json:"vendor_name"`
}

// OCSFFindingInfo identifies the finding.
type OCSFFindingInfo struct {
	UID           string             `json:"uid"`
	Title         string             `json:"title"`
	Desc          string             `json:"desc,omitempty"`
	CreatedTime   int64              `json:"created_time"`
	FirstSeenTime int64              `json:"first_seen_time,omitempty"`
	LastSeenTime  int64              `json:"last_seen_time,omitempty"`
	Types         []string           `json:"types"`
	Analytic      *OCSFAnalytic      `json:"analytic,omitempty"`
	RelatedEvents []OCSFRelatedEvent `json:"related_events,omitempty"`
}

// OCSFAnalytic is the catalog entry that matched.
type OCSFAnalytic struct {
	Name   string `json:"name"`
	Type   string `json:"type"`
	TypeID int    `json:"type_id"`
}

// OCSFRelatedEvent names the original call as an API Activity event.
type OCSFRelatedEvent struct {
	UID      string `json:"uid"`
	TypeUID  int    `json:"type_uid"`
	TypeName string `json:"type_name"`
}

// OCSFCloud is the cloud profile: where the call was made.
type OCSFCloud struct {
	Provider string       `json:"provider"`
	Region   string       `json:"region,omitempty"`
	Account  *OCSFAccount `json:"account,omitempty"`
}

// OCSFAccount is an AWS account.
type OCSFAccount struct {
	UID    string `json:"uid"`
	Type   string `json:"type"`
	TypeID int    `json:"type_id"`
	Name   string `json:"name,omitempty"`
}

// OCSFResource is a resource the finding is about.
type OCSFResource struct {
	UID            string `json:"uid"`
	Name           string `json:"name,omitempty"`
	Type           string `json:"type"`
	Region         string `json:"region,omitempty"`
	CloudPartition string `json:"cloud_partition,omitempty"`
}

// OCSFEvidence is the call, in API Activity's shape.
type OCSFEvidence struct {
	API         OCSFAPI       `json:"api"`
	Actor       OCSFActor     `json:"actor"`
	SrcEndpoint *OCSFEndpoint `json:"src_endpoint,omitempty"`
}

// OCSFAPI is the API call.
type OCSFAPI struct {
	Operation string           `json:"operation"`
	Service   OCSFService      `json:"service"`
	Response  *OCSFAPIResponse `json:"response,omitempty"`
}

// OCSFService is the AWS service called.
type OCSFService struct {
	Name string `json:"name"`
}

// OCSFAPIResponse carries a failed call's error.
type OCSFAPIResponse struct {
	Error        string `json:"error,omitempty"`
	ErrorMessage string `json:"error_message,omitempty"`
}

// OCSFActor is who made the call.
type OCSFActor struct {
	User      OCSFUser     `json:"user"`
	Session   *OCSFSession `json:"session,omitempty"`
	InvokedBy string       `json:"invoked_by,omitempty"`
}

// OCSFUser is the principal.
type OCSFUser struct {
	UID           string       `json:"uid,omitempty"`
	Name          string       `json:"name,omitempty"`
	Type          string       `json:"type,omitempty"`
	CredentialUID string       `json:"credential_uid,omitempty"`
	Account       *OCSFAccount `json:"account,omitempty"`
}

// OCSFSession says how the principal authenticated.
type OCSFSession struct {
	IsMFA bool `json:"is_mfa"`
}

// OCSFEndpoint is where the call came from.
type OCSFEndpoint struct {
	IP      string `json:"ip,omitempty"`
	SvcName string `json:"svc_name,omitempty"`
}

// OCSFRemediation is what to do.
type OCSFRemediation struct {
	Desc string `json:"desc"`
}

// ocsfSeverity maps the catalog's severity to OCSF's severity_id.
func ocsfSeverity(s catalog.Severity) (int, string) {
	switch s {
	case catalog.Medium:
		return 3, "Medium"
	case catalog.High:
		return 4, "High"
	case catalog.Critical:
		return 5, "Critical"
	}
	return 1, "Informational"
}

// ocsfStatus maps the Security Hub workflow to OCSF's finding status.
func ocsfStatus(workflow string) (int, string) {
	switch workflow {
	case WorkflowResolved:
		return 4, "Resolved"
	case WorkflowNotified:
		return 2, "In Progress"
	}
	return 1, "New"
}

// ms is a time as OCSF's timestamp_t (milliseconds since the epoch).
func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// OCSF renders the response to one event as an OCSF Detection Finding.
func OCSF(r respond.Report) OCSFFinding {
	c := r.Plan.Classification
	rec := r.Event.Record
	region := rec.AWSRegion
	account, id, generator := eventFindingNames(r, region)
	seen := rec.EventTime
	if seen.IsZero() {
		seen = r.Started
	}
	sevID, sev := ocsfSeverity(c.Severity)
	statusID, status := ocsfStatus(workflow(r))
	cloudAccount := &OCSFAccount{UID: account, Type: "AWS Account", TypeID: 10, Name: r.AccountAlias}
	f := OCSFFinding{
		ClassUID: OCSFDetectionFinding, ClassName: "Detection Finding",
		CategoryUID: OCSFFindings, CategoryName: "Findings",
		ActivityID: 1, ActivityName: "Create",
		TypeUID: OCSFDetectionFinding*100 + 1, TypeName: "Detection Finding: Create",
		Time:       ms(seen),
		SeverityID: sevID, Severity: sev,
		StatusID: statusID, Status: status,
		Message:  headline(r),
		Metadata: OCSFMetadata{Version: OCSFVersion, Product: OCSFProduct{Name: "trailguard", VendorName: "trailguard"}, UID: rec.EventID},
		FindingInfo: OCSFFindingInfo{
			UID: id, Title: Clip(title(r), MaxTitle), Desc: Clip(description(r), MaxDescription),
			CreatedTime: ms(seen), FirstSeenTime: ms(seen), LastSeenTime: ms(seen),
			Types:    responseTypes(c),
			Analytic: &OCSFAnalytic{Name: generator, Type: "Rule", TypeID: 1},
			RelatedEvents: []OCSFRelatedEvent{{UID: rec.EventID, TypeUID: OCSFAPIActivity*100 + apiActivityID(rec.EventName),
				TypeName: "API Activity: " + apiActivityName(apiActivityID(rec.EventName))}},
		},
		Cloud: OCSFCloud{Provider: "AWS", Region: region, Account: cloudAccount},
		Evidences: []OCSFEvidence{{
			API: OCSFAPI{Operation: rec.EventName, Service: OCSFService{Name: rec.EventSource}},
			Actor: OCSFActor{User: OCSFUser{UID: c.Actor.ARN, Name: c.Actor.Display, Type: c.Actor.Type, CredentialUID: c.Actor.AccessKeyID},
				Session: &OCSFSession{IsMFA: c.Actor.MFA}, InvokedBy: c.Actor.InvokedBy},
		}},
		Unmapped: map[string]string{"trailguard.mode": string(r.Mode), "trailguard.outcome": outcome(r)},
	}
	ev := &f.Evidences[0]
	if c.Actor.Account != "" {
		ev.Actor.User.Account = &OCSFAccount{UID: c.Actor.Account, Type: "AWS Account", TypeID: 10}
	}
	if rec.ErrorCode != "" {
		ev.API.Response = &OCSFAPIResponse{Error: rec.ErrorCode, ErrorMessage: rec.ErrorMessage}
	}
	if rec.SourceIPAddress != "" {
		ev.SrcEndpoint = &OCSFEndpoint{IP: rec.SourceIPAddress}
		if strings.HasSuffix(rec.SourceIPAddress, ".amazonaws.com") {
			ev.SrcEndpoint = &OCSFEndpoint{SvcName: rec.SourceIPAddress}
		}
	}
	for _, res := range responseResources(r, region) {
		f.Resources = append(f.Resources, OCSFResource{UID: res.ID, Name: shortName(res.ID), Type: res.Type, Region: res.Region, CloudPartition: res.Partition})
	}
	if text := remediationText(r); text != "" {
		f.Remediation = &OCSFRemediation{Desc: Clip(text, MaxRecommendation)}
	}
	for i, o := range r.Outcomes {
		if i < MaxProductFields {
			f.Unmapped[fmt.Sprintf("trailguard.action.%02d", i+1)] = Clip(actionLine(o), MaxFieldValue)
		}
	}
	return f
}

// apiActivityID classifies a call as API Activity does: 1 Create, 2 Read,
// 3 Update, 4 Delete, 99 Other.
func apiActivityID(op string) int {
	for _, p := range []struct {
		prefix string
		id     int
	}{{"Create", 1}, {"Put", 3}, {"Get", 2}, {"List", 2}, {"Describe", 2}, {"Lookup", 2},
		{"Update", 3}, {"Stop", 3}, {"Start", 3}, {"Enable", 3}, {"Disable", 3}, {"Restore", 3}, {"Cancel", 3}, {"Schedule", 3},
		{"Add", 3}, {"Remove", 3}, {"Attach", 3}, {"Detach", 3}, {"Leave", 3},
		{"Delete", 4}, {"Unsubscribe", 4}} {
		if strings.HasPrefix(op, p.prefix) {
			return p.id
		}
	}
	return 99
}

func apiActivityName(id int) string {
	switch id {
	case 1:
		return "Create"
	case 2:
		return "Read"
	case 3:
		return "Update"
	case 4:
		return "Delete"
	}
	return "Other"
}
