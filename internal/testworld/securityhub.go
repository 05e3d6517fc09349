package testworld

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// securityHubDouble stands in for AWS Security Hub, which kumo lacks:
// BatchImportFindings validates each finding as Security Hub does (required
// fields, limits, the default product's account) and upserts it by Id and
// ProductArn; GetFindings reads them back. As in AWS, an update keeps the
// fields a finding provider cannot change once the finding exists
// (CreatedAt, Note, UserDefinedFields, VerificationState, Workflow) and
// takes the others from the new import.
type securityHubDouble struct {
	mu       sync.Mutex
	order    []string
	findings map[string]map[string]any
	imports  int
}

func newSecurityHubDouble() *securityHubDouble {
	return &securityHubDouble{findings: map[string]map[string]any{}}
}

// serve answers Security Hub's REST-JSON requests.
func (d *securityHubDouble) serve(w http.ResponseWriter, r *http.Request) bool {
	if signingName(r.Header.Get("Authorization")) != "securityhub" {
		return false
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeSecurityHubError(w, "InvalidInputException", "read request: "+err.Error(), http.StatusBadRequest)
		return true
	}
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/findings/import":
		d.batchImport(w, body)
	case r.Method == http.MethodPost && r.URL.Path == "/findings":
		d.getFindings(w, body)
	default:
		writeSecurityHubError(w, "InvalidAccessException", "the Security Hub double does not serve "+r.Method+" "+r.URL.Path, http.StatusBadRequest)
	}
	return true
}

func (d *securityHubDouble) batchImport(w http.ResponseWriter, body []byte) {
	var in struct {
		Findings []json.RawMessage `json:"Findings"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		writeSecurityHubError(w, "InvalidInputException", "request body: "+err.Error(), http.StatusBadRequest)
		return
	}
	if len(in.Findings) == 0 || len(in.Findings) > 100 {
		writeSecurityHubError(w, "InvalidInputException", fmt.Sprintf("Findings must hold 1 to 100 findings, got %d", len(in.Findings)), http.StatusBadRequest)
		return
	}
	type failed struct {
		ID           string `json:"Id"`
		ErrorCode    string `json:"ErrorCode"`
		ErrorMessage string `json:"ErrorMessage"`
	}
	out := struct {
		SuccessCount   int      `json:"SuccessCount"`
		FailedCount    int      `json:"FailedCount"`
		FailedFindings []failed `json:"FailedFindings"`
	}{FailedFindings: []failed{}}

	d.mu.Lock()
	defer d.mu.Unlock()
	d.imports++
	for _, raw := range in.Findings {
		var f map[string]any
		err := json.Unmarshal(raw, &f)
		if err == nil {
			err = ValidateFinding(raw)
		}
		if err != nil {
			id, _ := f["Id"].(string)
			out.FailedCount++
			out.FailedFindings = append(out.FailedFindings, failed{ID: id, ErrorCode: "InvalidInput", ErrorMessage: err.Error()})
			continue
		}
		key := f["ProductArn"].(string) + "|" + f["Id"].(string)
		if old, ok := d.findings[key]; ok {
			for _, k := range []string{"CreatedAt", "Note", "UserDefinedFields", "VerificationState", "Workflow"} {
				if v, ok := old[k]; ok {
					f[k] = v
				} else {
					delete(f, k)
				}
			}
		} else {
			d.order = append(d.order, key)
		}
		f["ProcessedAt"] = time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
		d.findings[key] = f
		out.SuccessCount++
	}
	writeSecurityHubJSON(w, out)
}

func (d *securityHubDouble) getFindings(w http.ResponseWriter, body []byte) {
	var in struct {
		Filters map[string][]struct {
			Value      string `json:"Value"`
			Comparison string `json:"Comparison"`
		} `json:"Filters"`
	}
	if len(body) > 0 {
		if err := json.Unmarshal(body, &in); err != nil {
			writeSecurityHubError(w, "InvalidInputException", "request body: "+err.Error(), http.StatusBadRequest)
			return
		}
	}
	fields := map[string]string{"Id": "Id", "GeneratorId": "GeneratorId", "AwsAccountId": "AwsAccountId", "ProductArn": "ProductArn", "Title": "Title"}
	d.mu.Lock()
	defer d.mu.Unlock()
	out := struct {
		Findings []map[string]any `json:"Findings"`
	}{Findings: []map[string]any{}}
	for _, key := range d.order {
		f := d.findings[key]
		match := true
		for name, filters := range in.Filters {
			field, ok := fields[name]
			if !ok {
				writeSecurityHubError(w, "InvalidInputException", "the Security Hub double does not filter on "+name, http.StatusBadRequest)
				return
			}
			v, _ := f[field].(string)
			any := false
			for _, flt := range filters {
				switch flt.Comparison {
				case "EQUALS", "":
					any = any || v == flt.Value
				case "PREFIX":
					any = any || strings.HasPrefix(v, flt.Value)
				default:
					writeSecurityHubError(w, "InvalidInputException", "the Security Hub double does not compare with "+flt.Comparison, http.StatusBadRequest)
					return
				}
			}
			match = match && any
		}
		if match {
			out.Findings = append(out.Findings, f)
		}
	}
	writeSecurityHubJSON(w, out)
}

// SecurityHubImports returns how many BatchImportFindings calls the Security
// Hub double answered.
func (s *Server) SecurityHubImports() int {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	return s.hub.imports
}

var (
	accountPattern = regexp.MustCompile(`^\d{12}$`)
	productPattern = regexp.MustCompile(`^arn:(aws|aws-cn|aws-us-gov):securityhub:([a-z0-9-]+):(\d{12}):product/(\d{12})/default$`)
	typeNamespaces = []string{"Software and Configuration Checks", "TTPs", "Effects", "Unusual Behaviors", "Sensitive Data Identifications"}
	severityLabels = []string{"INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"}
)

// ValidateFinding checks one ASFF finding (its JSON) as Security Hub's
// BatchImportFindings does for a finding imported with the account's default
// product: every required field, the limits on the fields trailguard uses
// (AWS Security Hub API reference, AwsSecurityFinding), 240 KB in all, and
// the product's account being the finding's account. Every problem is
// reported.
func ValidateFinding(raw []byte) error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if len(raw) > 240<<10 {
		bad("finding is %d bytes, over 240 KB", len(raw))
	}
	var f struct {
		SchemaVersion, ID, ProductArn, GeneratorID, AwsAccountID, Region *string
		Types                                                            []string
		FirstObservedAt, LastObservedAt, CreatedAt, UpdatedAt            *string
		Severity                                                         *struct{ Label, Original string }
		Title, Description                                               *string
		Remediation                                                      *struct{ Recommendation struct{ Text, URL string } }
		ProductFields, UserDefinedFields                                 map[string]string
		Resources                                                        []struct {
			Type, ID, Partition, Region string
			Details                     *struct{ Other map[string]string }
		}
		Compliance *struct {
			Status              string
			RelatedRequirements []string
		}
		Workflow    *struct{ Status string }
		RecordState string
		Note        *struct{ Text, UpdatedBy, UpdatedAt string }
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	if err := dec.Decode(&f); err != nil {
		return fmt.Errorf("finding is not an ASFF object: %w", err)
	}
	str := func(name string, v *string, max int) string {
		switch {
		case v == nil || strings.TrimSpace(*v) == "":
			bad("%s is required", name)
			return ""
		case max > 0 && utf8.RuneCountInString(*v) > max:
			bad("%s has %d characters, over %d", name, utf8.RuneCountInString(*v), max)
		}
		return *v
	}
	stamp := func(name string, v *string, required bool) {
		if v == nil {
			if required {
				bad("%s is required", name)
			}
			return
		}
		if _, err := time.Parse(time.RFC3339Nano, *v); err != nil {
			bad("%s %q is not a timestamp Security Hub accepts", name, *v)
		}
	}
	if v := str("SchemaVersion", f.SchemaVersion, 0); v != "" && v != "2018-10-08" {
		bad("SchemaVersion %q is not 2018-10-08", v)
	}
	str("Id", f.ID, 512)
	str("GeneratorId", f.GeneratorID, 512)
	account := str("AwsAccountId", f.AwsAccountID, 0)
	if account != "" && !accountPattern.MatchString(account) {
		bad("AwsAccountId %q is not 12 digits", account)
	}
	if p := str("ProductArn", f.ProductArn, 2048); p != "" {
		m := productPattern.FindStringSubmatch(p)
		switch {
		case m == nil:
			bad("ProductArn %q is not an account's default product (arn:<partition>:securityhub:<region>:<account>:product/<account>/default)", p)
		case m[3] != m[4]:
			bad("ProductArn %q names two accounts", p)
		case m[3] != account:
			bad("ProductArn %q is not account %s's default product: with the default product the finding's account must be the caller's", p, account)
		}
	}
	if f.Region != nil && utf8.RuneCountInString(*f.Region) > 16 {
		bad("Region has more than 16 characters")
	}
	switch {
	case len(f.Types) == 0:
		bad("Types is required")
	case len(f.Types) > 50:
		bad("Types has %d items, over 50", len(f.Types))
	}
	for _, t := range f.Types {
		parts := strings.Split(t, "/")
		if len(parts) < 1 || len(parts) > 3 || !contains(typeNamespaces, parts[0]) {
			bad("Types %q is not namespace/category/classifier with a known namespace", t)
		}
	}
	stamp("CreatedAt", f.CreatedAt, true)
	stamp("UpdatedAt", f.UpdatedAt, true)
	stamp("FirstObservedAt", f.FirstObservedAt, false)
	stamp("LastObservedAt", f.LastObservedAt, false)
	switch {
	case f.Severity == nil:
		bad("Severity is required")
	case !contains(severityLabels, f.Severity.Label):
		bad("Severity.Label %q is not one of %s", f.Severity.Label, strings.Join(severityLabels, ", "))
	case utf8.RuneCountInString(f.Severity.Original) > 64:
		bad("Severity.Original has more than 64 characters")
	}
	str("Title", f.Title, 256)
	str("Description", f.Description, 1024)
	if f.Remediation != nil {
		if n := utf8.RuneCountInString(f.Remediation.Recommendation.Text); n == 0 || n > 512 {
			bad("Remediation.Recommendation.Text has %d characters, want 1 to 512", n)
		}
	}
	for name, m := range map[string]map[string]string{"ProductFields": f.ProductFields, "UserDefinedFields": f.UserDefinedFields} {
		if len(m) > 50 {
			bad("%s has %d pairs, over 50", name, len(m))
		}
		for k, v := range m {
			if utf8.RuneCountInString(k) > 128 || utf8.RuneCountInString(v) > 2048 {
				bad("%s %q: key over 128 or value over 2048 characters", name, k)
			}
			if name == "ProductFields" && strings.HasPrefix(k, "aws/") {
				bad("ProductFields %q: the aws/ prefix is reserved", k)
			}
		}
	}
	switch {
	case len(f.Resources) == 0:
		bad("Resources is required")
	case len(f.Resources) > 32:
		bad("Resources has %d items, over 32", len(f.Resources))
	}
	for i, r := range f.Resources {
		if r.Type == "" || r.ID == "" {
			bad("Resources[%d] needs Type and Id", i)
		}
		if utf8.RuneCountInString(r.Type) > 256 || utf8.RuneCountInString(r.Region) > 16 {
			bad("Resources[%d]: Type over 256 or Region over 16 characters", i)
		}
		if r.Partition != "" && !contains([]string{"aws", "aws-cn", "aws-us-gov"}, r.Partition) {
			bad("Resources[%d].Partition %q is not a partition", i, r.Partition)
		}
		if r.Details != nil {
			if len(r.Details.Other) > 50 {
				bad("Resources[%d].Details.Other has more than 50 pairs", i)
			}
			for k, v := range r.Details.Other {
				if utf8.RuneCountInString(k) >= 128 || utf8.RuneCountInString(v) >= 1024 {
					bad("Resources[%d].Details.Other %q: key of 128 or value of 1,024 characters or more", i, k)
				}
			}
		}
	}
	if c := f.Compliance; c != nil {
		if !contains([]string{"PASSED", "WARNING", "FAILED", "NOT_AVAILABLE"}, c.Status) {
			bad("Compliance.Status %q is not PASSED, WARNING, FAILED or NOT_AVAILABLE", c.Status)
		}
		if len(c.RelatedRequirements) > 32 {
			bad("Compliance.RelatedRequirements has more than 32 items")
		}
	}
	if f.Workflow != nil && !contains([]string{"NEW", "NOTIFIED", "RESOLVED", "SUPPRESSED"}, f.Workflow.Status) {
		bad("Workflow.Status %q is not NEW, NOTIFIED, RESOLVED or SUPPRESSED", f.Workflow.Status)
	}
	if f.RecordState != "" && f.RecordState != "ACTIVE" && f.RecordState != "ARCHIVED" {
		bad("RecordState %q is not ACTIVE or ARCHIVED", f.RecordState)
	}
	if n := f.Note; n != nil {
		if l := utf8.RuneCountInString(n.Text); l == 0 || l > 512 {
			bad("Note.Text has %d characters, want 1 to 512", l)
		}
		if n.UpdatedBy == "" || n.UpdatedAt == "" {
			bad("Note needs UpdatedBy and UpdatedAt")
		}
	}
	return errors.Join(errs...)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func writeSecurityHubJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func writeSecurityHubError(w http.ResponseWriter, code, msg string, status int) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Errortype", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"Code": code, "Message": msg})
}
