package notify

// The ASFF document as Security Hub reads it (JSON names as in the API),
// restricted to the fields trailguard fills.

// Finding is one ASFF finding.
type Finding struct {
	SchemaVersion         string                 `json:"SchemaVersion"`
	ID                    string                 `json:"Id"`
	ProductARN            string                 `json:"ProductArn"`
	GeneratorID           string                 `json:"GeneratorId"`
	AwsAccountID          string                 `json:"AwsAccountId"`
	Region                string                 `json:"Region,omitempty"`
	Types                 []string               `json:"Types"`
	FirstObservedAt       string                 `json:"FirstObservedAt,omitempty"`
	LastObservedAt        string                 `json:"LastObservedAt,omitempty"`
	CreatedAt             string                 `json:"CreatedAt"`
	UpdatedAt             string                 `json:"UpdatedAt"`
	Severity              Severity               `json:"Severity"`
	Title                 string                 `json:"Title"`
	Description           string                 `json:"Description"`
	Remediation           *Remediation           `json:"Remediation,omitempty"`
	SourceURL             string                 `json:"SourceUrl,omitempty"`
	ProductFields         map[string]string      `json:"ProductFields,omitempty"`
	Resources             []Resource             `json:"Resources"`
	Action                *APICallAction         `json:"Action,omitempty"`
	Compliance            *Compliance            `json:"Compliance,omitempty"`
	Workflow              *Workflow              `json:"Workflow,omitempty"`
	RecordState           string                 `json:"RecordState,omitempty"`
	Note                  *Note                  `json:"Note,omitempty"`
	FindingProviderFields *FindingProviderFields `json:"FindingProviderFields,omitempty"`
}

// Severity is the finding's severity; Original keeps trailguard's own word.
type Severity struct {
	Label    string `json:"Label"`
	Original string `json:"Original,omitempty"`
}

// Remediation says what to do about the finding.
type Remediation struct {
	Recommendation Recommendation `json:"Recommendation"`
}

// Recommendation is the remediation text and a link.
type Recommendation struct {
	Text string `json:"Text"`
	URL  string `json:"Url,omitempty"`
}

// Resource is one resource the finding is about.
type Resource struct {
	Type      string           `json:"Type"`
	ID        string           `json:"Id"`
	Partition string           `json:"Partition,omitempty"`
	Region    string           `json:"Region,omitempty"`
	Details   *ResourceDetails `json:"Details,omitempty"`
}

// ResourceDetails carries free-form details (ASFF's Other object).
type ResourceDetails struct {
	Other map[string]string `json:"Other,omitempty"`
}

// APICallAction is the API call that caused the finding (ASFF Action of type
// AWS_API_CALL).
type APICallAction struct {
	ActionType       string      `json:"ActionType"`
	AwsAPICallAction APICallInfo `json:"AwsApiCallAction"`
}

// APICallInfo describes the call.
type APICallInfo struct {
	API             string           `json:"Api,omitempty"`
	ServiceName     string           `json:"ServiceName,omitempty"`
	CallerType      string           `json:"CallerType,omitempty"`
	FirstSeen       string           `json:"FirstSeen,omitempty"`
	LastSeen        string           `json:"LastSeen,omitempty"`
	RemoteIPDetails *RemoteIPDetails `json:"RemoteIpDetails,omitempty"`
}

// RemoteIPDetails is the caller's address.
type RemoteIPDetails struct {
	IPAddressV4 string `json:"IpAddressV4"`
}

// Compliance ties a finding to the controls it fails.
type Compliance struct {
	Status              string   `json:"Status"`
	RelatedRequirements []string `json:"RelatedRequirements,omitempty"`
	SecurityControlID   string   `json:"SecurityControlId,omitempty"`
}

// Workflow is the finding's investigation status.
type Workflow struct {
	Status string `json:"Status"`
}

// Note is a note on the finding.
type Note struct {
	Text      string `json:"Text"`
	UpdatedBy string `json:"UpdatedBy"`
	UpdatedAt string `json:"UpdatedAt"`
}

// FindingProviderFields is where a finding provider updates severity and
// types after the finding is created (the top-level fields then belong to
// the customer).
type FindingProviderFields struct {
	Severity *Severity `json:"Severity,omitempty"`
	Types    []string  `json:"Types,omitempty"`
}
