package testworld

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

const eventsTarget = "AWSEvents."

// eventsDouble is our test double for the EventBridge operations trailguard
// needs and kumo lacks: DisableRule and EnableRule. kumo stores a rule's
// State (and honours it when matching events) but only through PutRule, so
// the double reads the rule with DescribeRule and writes it back with PutRule
// and the new state. kumo stays the only keeper of rule state.
type eventsDouble struct{ s *Server }

func (d eventsDouble) serve(w http.ResponseWriter, r *http.Request) bool {
	target := r.Header.Get("X-Amz-Target")
	state := map[string]string{eventsTarget + "EnableRule": "ENABLED", eventsTarget + "DisableRule": "DISABLED"}[target]
	if r.Method != http.MethodPost || state == "" {
		return false
	}
	var in struct {
		Name         string `json:"Name"`
		EventBusName string `json:"EventBusName,omitempty"`
	}
	body, err := io.ReadAll(r.Body)
	if err == nil {
		err = json.Unmarshal(body, &in)
	}
	if err != nil || in.Name == "" {
		writeEventsError(w, "ValidationException", "Name is required", http.StatusBadRequest)
		return true
	}
	desc, err := d.s.callKumo(r.Context(), r, eventsTarget+"DescribeRule", body)
	if err != nil {
		writeEventsError(w, "InternalException", err.Error(), http.StatusInternalServerError)
		return true
	}
	if !desc.ok() {
		desc.writeTo(w)
		return true
	}
	var rule map[string]any
	if err := json.Unmarshal(desc.body, &rule); err != nil {
		writeEventsError(w, "InternalException", "decode DescribeRule: "+err.Error(), http.StatusInternalServerError)
		return true
	}
	put := map[string]any{"Name": in.Name, "State": state}
	for _, k := range []string{"EventPattern", "ScheduleExpression", "Description", "EventBusName", "RoleArn"} {
		if v, ok := rule[k]; ok && v != "" {
			put[k] = v
		}
	}
	b, _ := json.Marshal(put)
	res, err := d.s.callKumo(r.Context(), r, eventsTarget+"PutRule", b)
	if err != nil {
		writeEventsError(w, "InternalException", err.Error(), http.StatusInternalServerError)
		return true
	}
	if !res.ok() {
		res.writeTo(w)
		return true
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_, _ = w.Write([]byte("{}"))
	return true
}

func writeEventsError(w http.ResponseWriter, code, msg string, status int) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]string{"__type": code, "message": strings.TrimSpace(msg)})
	_, _ = w.Write(b)
}
