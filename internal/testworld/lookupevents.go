package testworld

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/trailguard/trailguard/internal/trail"
)

// kumo's LookupEvents answers with no events, so CloudTrail's Event History
// is a double here: it serves the CloudTrail records a test or the demo
// recorded with RecordEvent, per region, newest first, paginated like AWS
// (at most 50 per page, an opaque NextToken), filtered by time and by one
// lookup attribute.

// history is the Event History the double serves.
type history struct {
	mu      sync.Mutex
	records []historyRecord
}

type historyRecord struct {
	rec      trail.Record
	raw      json.RawMessage
	readOnly bool
}

// RecordEvent adds a CloudTrail event to the Event History LookupEvents
// serves, in its record's awsRegion. raw is an EventBridge envelope (the
// samples' form) or a bare CloudTrail record.
func (s *Server) RecordEvent(raw []byte) error {
	ev, err := trail.Parse(raw)
	if err != nil {
		return fmt.Errorf("record event: %w", err)
	}
	record := json.RawMessage(raw)
	var env struct {
		Detail json.RawMessage `json:"detail"`
	}
	if json.Unmarshal(raw, &env) == nil && len(env.Detail) > 0 {
		record = env.Detail
	}
	var ro struct {
		ReadOnly bool `json:"readOnly"`
	}
	_ = json.Unmarshal(record, &ro)
	s.history.mu.Lock()
	defer s.history.mu.Unlock()
	s.history.records = append(s.history.records, historyRecord{rec: ev.Record, raw: record, readOnly: ro.ReadOnly})
	return nil
}

// lookupEventsPage is AWS's largest (and default) page.
const lookupEventsPage = 50

// lookupEvents answers LookupEvents from the recorded history.
func (d *cloudTrailDouble) lookupEvents(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		StartTime        *float64 `json:"StartTime"`
		EndTime          *float64 `json:"EndTime"`
		MaxResults       int      `json:"MaxResults"`
		NextToken        string   `json:"NextToken"`
		LookupAttributes []struct {
			AttributeKey   string `json:"AttributeKey"`
			AttributeValue string `json:"AttributeValue"`
		} `json:"LookupAttributes"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		writeCloudTrailError(w, "ValidationException", "malformed request", http.StatusBadRequest)
		return
	}
	if len(in.LookupAttributes) > 1 {
		writeCloudTrailError(w, "InvalidLookupAttributesException", "at most one lookup attribute", http.StatusBadRequest)
		return
	}
	if in.MaxResults <= 0 || in.MaxResults > lookupEventsPage {
		in.MaxResults = lookupEventsPage
	}
	region := signingRegion(r.Header.Get("Authorization"))
	from, to := time.Time{}, time.Now().Add(24*time.Hour*365*100)
	if in.StartTime != nil {
		from = epoch(*in.StartTime)
	}
	if in.EndTime != nil {
		to = epoch(*in.EndTime)
	}
	if to.Before(from) {
		writeCloudTrailError(w, "InvalidTimeRangeException", "EndTime is before StartTime", http.StatusBadRequest)
		return
	}

	h := &d.s.history
	h.mu.Lock()
	var match []historyRecord
	for _, hr := range h.records {
		t := hr.rec.EventTime
		if hr.rec.AWSRegion != region || t.Before(from) || t.After(to) {
			continue
		}
		if len(in.LookupAttributes) == 1 && !attributeMatches(hr, in.LookupAttributes[0].AttributeKey, in.LookupAttributes[0].AttributeValue) {
			continue
		}
		match = append(match, hr)
	}
	h.mu.Unlock()
	sort.SliceStable(match, func(i, j int) bool { return match[i].rec.EventTime.After(match[j].rec.EventTime) })

	start := 0
	if in.NextToken != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(in.NextToken, "page-"))
		if err != nil || n < 0 || n > len(match) {
			writeCloudTrailError(w, "InvalidNextTokenException", "invalid NextToken", http.StatusBadRequest)
			return
		}
		start = n
	}
	end := min(start+in.MaxResults, len(match))
	events := make([]map[string]any, 0, end-start)
	for _, hr := range match[start:end] {
		events = append(events, map[string]any{
			"EventId":         hr.rec.EventID,
			"EventName":       hr.rec.EventName,
			"EventSource":     hr.rec.EventSource,
			"EventTime":       float64(hr.rec.EventTime.UnixMilli()) / 1000,
			"ReadOnly":        strconv.FormatBool(hr.readOnly),
			"AccessKeyId":     hr.rec.UserIdentity.AccessKeyID,
			"Username":        username(hr.rec.UserIdentity),
			"Resources":       []any{},
			"CloudTrailEvent": string(hr.raw),
		})
	}
	out := map[string]any{"Events": events}
	if end < len(match) {
		out["NextToken"] = "page-" + strconv.Itoa(end)
	}
	writeCloudTrailJSON(w, out)
}

func attributeMatches(hr historyRecord, key, value string) bool {
	switch key {
	case "EventId":
		return hr.rec.EventID == value
	case "EventName":
		return hr.rec.EventName == value
	case "EventSource":
		return hr.rec.EventSource == value
	case "Username":
		return username(hr.rec.UserIdentity) == value
	case "AccessKeyId":
		return hr.rec.UserIdentity.AccessKeyID == value
	case "ReadOnly":
		return strconv.FormatBool(hr.readOnly) == value
	}
	return false
}

// username is Event History's Username: the user's name, or the session's.
func username(id trail.Identity) string {
	if id.UserName != "" {
		return id.UserName
	}
	if _, session, ok := strings.Cut(strings.TrimPrefix(id.ARN[strings.LastIndex(id.ARN, ":")+1:], "assumed-role/"), "/"); ok {
		return session
	}
	return ""
}

func epoch(s float64) time.Time {
	return time.UnixMilli(int64(s * 1000)).UTC()
}

// signingRegion extracts <region> from "... Credential=AKID/date/<region>/service/aws4_request, ...".
func signingRegion(auth string) string {
	_, rest, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return Region
	}
	rest, _, _ = strings.Cut(rest, ",")
	if parts := strings.Split(rest, "/"); len(parts) >= 5 {
		return parts[2]
	}
	return Region
}
