package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
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
	desc, err := d.call(r.Context(), r, "DescribeRule", body)
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
	res, err := d.call(r.Context(), r, "PutRule", b)
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

// call sends one EventBridge operation to kumo, signed like the original.
func (d eventsDouble) call(ctx context.Context, orig *http.Request, op string, body []byte) (kumoResult, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.s.backend.String()+"/", bytes.NewReader(body))
	if err != nil {
		return kumoResult{}, fmt.Errorf("build %s request: %w", op, err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", eventsTarget+op)
	if auth := orig.Header.Get("Authorization"); auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := d.s.client.Do(req)
	if err != nil {
		return kumoResult{}, fmt.Errorf("call kumo %s: %w", op, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return kumoResult{}, fmt.Errorf("read kumo %s: %w", op, err)
	}
	return kumoResult{status: resp.StatusCode, header: resp.Header, body: out}, nil
}

func writeEventsError(w http.ResponseWriter, code, msg string, status int) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]string{"__type": code, "message": strings.TrimSpace(msg)})
	_, _ = w.Write(b)
}
