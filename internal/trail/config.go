package trail

import (
	"fmt"
	"slices"
	"strings"
)

// Config is a trail's configuration in the JSON shape of CloudTrail's own
// requests (CreateTrail and PutEventSelectors, camelCase as CloudTrail records
// them in requestParameters). The same type carries a protected trail's
// baseline (TRAILGUARD_TRAILS) and what an event says a trail became.
//
// Pointer fields distinguish "not said" from a zero value: an UpdateTrail
// that does not mention a field leaves it unchanged.
type Config struct {
	Name                       string                  `json:"name"`
	S3BucketName               string                  `json:"s3BucketName,omitempty"`
	S3KeyPrefix                *string                 `json:"s3KeyPrefix,omitempty"`
	SnsTopicName               *string                 `json:"snsTopicName,omitempty"`
	IsMultiRegionTrail         *bool                   `json:"isMultiRegionTrail,omitempty"`
	IncludeGlobalServiceEvents *bool                   `json:"includeGlobalServiceEvents,omitempty"`
	EnableLogFileValidation    *bool                   `json:"enableLogFileValidation,omitempty"`
	IsOrganizationTrail        *bool                   `json:"isOrganizationTrail,omitempty"`
	KmsKeyID                   *string                 `json:"kmsKeyId,omitempty"`
	CloudWatchLogsLogGroupArn  *string                 `json:"cloudWatchLogsLogGroupArn,omitempty"`
	CloudWatchLogsRoleArn      *string                 `json:"cloudWatchLogsRoleArn,omitempty"`
	EventSelectors             []EventSelector         `json:"eventSelectors,omitempty"`
	AdvancedEventSelectors     []AdvancedEventSelector `json:"advancedEventSelectors,omitempty"`
	// HomeRegion is not part of CreateTrail's request (it is the region the
	// call is made in) but the baseline needs it to restore in the right
	// region. Defaults to the region of the event or of the function.
	HomeRegion string `json:"homeRegion,omitempty"`
}

// EventSelector is a classic event selector.
type EventSelector struct {
	ReadWriteType                 string         `json:"readWriteType,omitempty"`
	IncludeManagementEvents       *bool          `json:"includeManagementEvents,omitempty"`
	DataResources                 []DataResource `json:"dataResources,omitempty"`
	ExcludeManagementEventSources []string       `json:"excludeManagementEventSources,omitempty"`
}

// DataResource is a classic data-event selector entry.
type DataResource struct {
	Type   string   `json:"type"`
	Values []string `json:"values,omitempty"`
}

// AdvancedEventSelector is an advanced event selector.
type AdvancedEventSelector struct {
	Name           string          `json:"name,omitempty"`
	FieldSelectors []FieldSelector `json:"fieldSelectors"`
}

// FieldSelector is one condition of an advanced event selector.
type FieldSelector struct {
	Field         string   `json:"field"`
	Equals        []string `json:"equals,omitempty"`
	StartsWith    []string `json:"startsWith,omitempty"`
	EndsWith      []string `json:"endsWith,omitempty"`
	NotEquals     []string `json:"notEquals,omitempty"`
	NotStartsWith []string `json:"notStartsWith,omitempty"`
	NotEndsWith   []string `json:"notEndsWith,omitempty"`
}

// Validate reports a baseline that could not be restored.
func (c Config) Validate() error {
	if strings.TrimSpace(c.Name) == "" {
		return fmt.Errorf("trail baseline without a name")
	}
	if len(c.EventSelectors) > 0 && len(c.AdvancedEventSelectors) > 0 {
		return fmt.Errorf("trail %q: baseline has both eventSelectors and advancedEventSelectors; CloudTrail accepts only one kind", c.Name)
	}
	for i, s := range c.EventSelectors {
		switch s.ReadWriteType {
		case "", "All", "ReadOnly", "WriteOnly":
		default:
			return fmt.Errorf("trail %q: eventSelectors[%d]: readWriteType %q is not All, ReadOnly or WriteOnly", c.Name, i, s.ReadWriteType)
		}
	}
	return nil
}

// ManagementCoverage describes which management events a set of selectors
// records. The zero value means "all management events, no exclusions".
type ManagementCoverage struct {
	// None is true when no selector records management events at all.
	None bool
	// ReadWrite is "All", "ReadOnly" or "WriteOnly": the widest read/write
	// scope among the selectors that include management events.
	ReadWrite string
	// Excluded lists management event sources left out (e.g. KMS).
	Excluded []string
}

// Full reports whether every management event is recorded.
func (m ManagementCoverage) Full() bool {
	return !m.None && m.ReadWrite == "All" && len(m.Excluded) == 0
}

// String describes the coverage for people.
func (m ManagementCoverage) String() string {
	switch {
	case m.None:
		return "no management events"
	case m.Full():
		return "all management events"
	}
	s := strings.ToLower(m.ReadWrite) + " management events"
	if m.ReadWrite == "All" {
		s = "all management events"
	}
	if len(m.Excluded) > 0 {
		s += " except " + strings.Join(m.Excluded, ", ")
	}
	return s
}

// Coverage computes which management events the selectors record. Classic
// and advanced selectors are both understood; with neither, CloudTrail's
// default applies (all management events).
func Coverage(classic []EventSelector, advanced []AdvancedEventSelector) ManagementCoverage {
	if len(advanced) > 0 {
		return advancedCoverage(advanced)
	}
	if len(classic) == 0 {
		return ManagementCoverage{ReadWrite: "All"}
	}
	cov := ManagementCoverage{None: true}
	var excluded []string
	first := true
	for _, s := range classic {
		if s.IncludeManagementEvents != nil && !*s.IncludeManagementEvents {
			continue
		}
		cov.None = false
		cov.ReadWrite = widen(cov.ReadWrite, orDefault(s.ReadWriteType, "All"))
		// A source is excluded only if every including selector excludes it.
		if first {
			excluded = append(excluded, s.ExcludeManagementEventSources...)
			first = false
		} else {
			excluded = slices.DeleteFunc(excluded, func(x string) bool {
				return !slices.Contains(s.ExcludeManagementEventSources, x)
			})
		}
	}
	slices.Sort(excluded)
	cov.Excluded = slices.Compact(excluded)
	return cov
}

func advancedCoverage(advanced []AdvancedEventSelector) ManagementCoverage {
	cov := ManagementCoverage{None: true}
	var excluded []string
	first := true
	for _, a := range advanced {
		mgmt := false
		rw := "All"
		var excl []string
		for _, f := range a.FieldSelectors {
			switch f.Field {
			case "eventCategory":
				mgmt = slices.Contains(f.Equals, "Management")
			case "readOnly":
				switch {
				case slices.Contains(f.Equals, "true"):
					rw = "ReadOnly"
				case slices.Contains(f.Equals, "false"):
					rw = "WriteOnly"
				}
			case "eventSource":
				excl = append(excl, f.NotEquals...)
			}
		}
		if !mgmt {
			continue
		}
		cov.None = false
		cov.ReadWrite = widen(cov.ReadWrite, rw)
		if first {
			excluded = excl
			first = false
		} else {
			excluded = slices.DeleteFunc(excluded, func(x string) bool { return !slices.Contains(excl, x) })
		}
	}
	slices.Sort(excluded)
	cov.Excluded = slices.Compact(excluded)
	return cov
}

// widen returns the wider of two read/write scopes ("" means none yet).
func widen(a, b string) string {
	switch {
	case a == "":
		return b
	case a == b:
		return a
	}
	return "All" // ReadOnly + WriteOnly, or anything + All
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
