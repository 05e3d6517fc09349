package testworld

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
)

const cloudTrailTarget = "CloudTrail_20131101."

// cloudTrailDouble is our test double for the CloudTrail operations kumo
// lacks (see the package comment). Trail fields stay in kumo; the double
// keeps only what kumo cannot hold.
type cloudTrailDouble struct {
	s *Server

	mu     sync.Mutex // serialises the double's operations, incl. UpdateTrail's swap
	extras map[string]*trailExtra
	stores map[string]*eventDataStore
}

// trailExtra is what the double keeps per trail ARN.
type trailExtra struct {
	eventSelectors    []eventSelector
	advancedSelectors []json.RawMessage
	snsTopicName      string
}

type dataResource struct {
	Type   *string  `json:"Type,omitempty"`
	Values []string `json:"Values"`
}

type eventSelector struct {
	ReadWriteType                 *string        `json:"ReadWriteType,omitempty"`
	IncludeManagementEvents       *bool          `json:"IncludeManagementEvents,omitempty"`
	DataResources                 []dataResource `json:"DataResources"`
	ExcludeManagementEventSources []string       `json:"ExcludeManagementEventSources"`
}

// defaultEventSelectors is what AWS reports for a trail nobody changed.
func defaultEventSelectors() []eventSelector {
	all, yes := "All", true

	return []eventSelector{{ReadWriteType: &all, IncludeManagementEvents: &yes, DataResources: []dataResource{}, ExcludeManagementEventSources: []string{}}}
}

func newCloudTrailDouble(s *Server) *cloudTrailDouble {
	return &cloudTrailDouble{s: s, extras: make(map[string]*trailExtra), stores: make(map[string]*eventDataStore)}
}

// serve answers r if it is a CloudTrail operation the double owns or
// decorates, and reports whether it did.
func (d *cloudTrailDouble) serve(w http.ResponseWriter, r *http.Request) bool {
	target := r.Header.Get("X-Amz-Target")
	if r.Method != http.MethodPost || !strings.HasPrefix(target, cloudTrailTarget) {
		return false
	}

	op := strings.TrimPrefix(target, cloudTrailTarget)

	var handler func(w http.ResponseWriter, r *http.Request, body []byte)

	switch op {
	case "UpdateTrail":
		handler = d.updateTrail
	case "PutEventSelectors":
		handler = d.putEventSelectors
	case "GetEventSelectors":
		handler = d.getEventSelectors
	case "GetTrail", "DescribeTrails":
		handler = d.decorateTrails
	case "CreateTrail", "DeleteTrail":
		handler = d.resetExtras
	case "LookupEvents":
		handler = d.lookupEvents // lookupevents.go
	case "CreateEventDataStore", "GetEventDataStore", "ListEventDataStores", "UpdateEventDataStore",
		"DeleteEventDataStore", "RestoreEventDataStore", "StopEventDataStoreIngestion", "StartEventDataStoreIngestion":
		handler = d.eventDataStoreOp(op)
	default:
		return false
	}

	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeCloudTrailError(w, "ValidationException", "cannot read body", http.StatusBadRequest)

		return true
	}

	d.mu.Lock()
	defer d.mu.Unlock()

	handler(w, r, body)

	return true
}

// kumoResult is kumo's answer to a call the double made.
type kumoResult struct {
	status int
	header http.Header
	body   []byte
}

func (k kumoResult) ok() bool { return k.status == http.StatusOK }

// writeTo relays kumo's answer unchanged.
func (k kumoResult) writeTo(w http.ResponseWriter) {
	for _, h := range []string{"Content-Type", "X-Amzn-Requestid", "X-Amzn-Errortype"} {
		if v := k.header.Get(h); v != "" {
			w.Header().Set(h, v)
		}
	}

	w.WriteHeader(k.status)
	_, _ = w.Write(k.body)
}

// call sends one CloudTrail operation to kumo, signed like the original
// request (kumo routes on the credential scope, it does not verify it).
func (d *cloudTrailDouble) call(ctx context.Context, orig *http.Request, op string, in any) (kumoResult, error) {
	body, ok := in.([]byte)
	if !ok {
		b, err := json.Marshal(in)
		if err != nil {
			return kumoResult{}, fmt.Errorf("encode %s: %w", op, err)
		}
		body = b
	}
	return d.s.callKumo(ctx, orig, cloudTrailTarget+op, body)
}

// callKumo sends one JSON-protocol operation (X-Amz-Target) to kumo itself,
// bypassing the front, signed like the original request. The test doubles
// use it to read and write kumo's own state.
func (s *Server) callKumo(ctx context.Context, orig *http.Request, target string, body []byte) (kumoResult, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.backend.String()+"/", bytes.NewReader(body))
	if err != nil {
		return kumoResult{}, fmt.Errorf("build %s request: %w", target, err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target)
	if auth := orig.Header.Get("Authorization"); auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return kumoResult{}, fmt.Errorf("call kumo %s: %w", target, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return kumoResult{}, fmt.Errorf("read kumo %s: %w", target, err)
	}
	return kumoResult{status: resp.StatusCode, header: resp.Header, body: out}, nil
}

// kumoTrail is kumo's GetTrail view of a trail.
type kumoTrail struct {
	Name                       string `json:"Name"`
	TrailARN                   string `json:"TrailARN"`
	S3BucketName               string `json:"S3BucketName"`
	S3KeyPrefix                string `json:"S3KeyPrefix,omitempty"`
	IncludeGlobalServiceEvents bool   `json:"IncludeGlobalServiceEvents"`
	IsMultiRegionTrail         bool   `json:"IsMultiRegionTrail"`
	HomeRegion                 string `json:"HomeRegion"`
	LogFileValidationEnabled   bool   `json:"LogFileValidationEnabled"`
	CloudWatchLogsLogGroupArn  string `json:"CloudWatchLogsLogGroupArn,omitempty"`
	CloudWatchLogsRoleArn      string `json:"CloudWatchLogsRoleArn,omitempty"`
	KMSKeyID                   string `json:"KmsKeyId,omitempty"`
	IsOrganizationTrail        bool   `json:"IsOrganizationTrail"`
}

// getTrail asks kumo for a trail by name or ARN. When kumo refuses, the
// returned result carries its error answer.
func (d *cloudTrailDouble) getTrail(r *http.Request, name string) (*kumoTrail, kumoResult, error) {
	res, err := d.call(r.Context(), r, "GetTrail", map[string]string{"Name": name})
	if err != nil || !res.ok() {
		return nil, res, err
	}

	var out struct {
		Trail *kumoTrail `json:"Trail"`
	}

	if err := json.Unmarshal(res.body, &out); err != nil || out.Trail == nil {
		return nil, res, fmt.Errorf("decode kumo GetTrail: %w", err)
	}

	return out.Trail, res, nil
}

// trailOrAnswer returns the named trail, or nil after answering w with
// kumo's error (e.g. TrailNotFoundException) or an InternalFailure.
func (d *cloudTrailDouble) trailOrAnswer(w http.ResponseWriter, r *http.Request, name string) *kumoTrail {
	trail, res, err := d.getTrail(r, name)
	if err != nil {
		writeCloudTrailError(w, "InternalFailure", err.Error(), http.StatusInternalServerError)

		return nil
	}

	if trail == nil {
		res.writeTo(w)
	}

	return trail
}

func (d *cloudTrailDouble) extra(arn string) *trailExtra {
	e, ok := d.extras[arn]
	if !ok {
		e = &trailExtra{}
		d.extras[arn] = e
	}

	return e
}

// updateTrailInput is UpdateTrail's request; a nil field is left unchanged.
type updateTrailInput struct {
	Name                       string  `json:"Name"`
	S3BucketName               *string `json:"S3BucketName"`
	S3KeyPrefix                *string `json:"S3KeyPrefix"`
	SnsTopicName               *string `json:"SnsTopicName"`
	IncludeGlobalServiceEvents *bool   `json:"IncludeGlobalServiceEvents"`
	IsMultiRegionTrail         *bool   `json:"IsMultiRegionTrail"`
	EnableLogFileValidation    *bool   `json:"EnableLogFileValidation"`
	CloudWatchLogsLogGroupArn  *string `json:"CloudWatchLogsLogGroupArn"`
	CloudWatchLogsRoleArn      *string `json:"CloudWatchLogsRoleArn"`
	KmsKeyID                   *string `json:"KmsKeyId"`
	IsOrganizationTrail        *bool   `json:"IsOrganizationTrail"`
}

// createTrailInput is what the double sends kumo to recreate a trail.
type createTrailInput struct {
	Name                       string            `json:"Name"`
	S3BucketName               string            `json:"S3BucketName"`
	S3KeyPrefix                string            `json:"S3KeyPrefix,omitempty"`
	IncludeGlobalServiceEvents bool              `json:"IncludeGlobalServiceEvents"`
	IsMultiRegionTrail         bool              `json:"IsMultiRegionTrail"`
	EnableLogFileValidation    bool              `json:"EnableLogFileValidation"`
	CloudWatchLogsLogGroupArn  string            `json:"CloudWatchLogsLogGroupArn,omitempty"`
	CloudWatchLogsRoleArn      string            `json:"CloudWatchLogsRoleArn,omitempty"`
	KmsKeyID                   string            `json:"KmsKeyId,omitempty"`
	IsOrganizationTrail        bool              `json:"IsOrganizationTrail"`
	TagsList                   []json.RawMessage `json:"TagsList,omitempty"`
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

func (d *cloudTrailDouble) updateTrail(w http.ResponseWriter, r *http.Request, body []byte) {
	var in updateTrailInput
	if err := json.Unmarshal(body, &in); err != nil || in.Name == "" {
		writeCloudTrailError(w, "InvalidTrailNameException", "Name is required", http.StatusBadRequest)

		return
	}

	trail := d.trailOrAnswer(w, r, in.Name)
	if trail == nil {
		return
	}

	logging, tags, err := d.trailState(r, trail.TrailARN)
	if err != nil {
		writeCloudTrailError(w, "InternalFailure", err.Error(), http.StatusInternalServerError)

		return
	}

	old := createTrailInput{
		Name: trail.Name, S3BucketName: trail.S3BucketName, S3KeyPrefix: trail.S3KeyPrefix,
		IncludeGlobalServiceEvents: trail.IncludeGlobalServiceEvents, IsMultiRegionTrail: trail.IsMultiRegionTrail,
		EnableLogFileValidation: trail.LogFileValidationEnabled, CloudWatchLogsLogGroupArn: trail.CloudWatchLogsLogGroupArn,
		CloudWatchLogsRoleArn: trail.CloudWatchLogsRoleArn, KmsKeyID: trail.KMSKeyID,
		IsOrganizationTrail: trail.IsOrganizationTrail, TagsList: tags,
	}
	upd := old

	if in.S3BucketName != nil && *in.S3BucketName != "" {
		upd.S3BucketName = *in.S3BucketName
	}

	set(&upd.S3KeyPrefix, in.S3KeyPrefix)
	set(&upd.IncludeGlobalServiceEvents, in.IncludeGlobalServiceEvents)
	set(&upd.IsMultiRegionTrail, in.IsMultiRegionTrail)
	set(&upd.EnableLogFileValidation, in.EnableLogFileValidation)
	set(&upd.CloudWatchLogsLogGroupArn, in.CloudWatchLogsLogGroupArn)
	set(&upd.CloudWatchLogsRoleArn, in.CloudWatchLogsRoleArn)
	set(&upd.KmsKeyID, in.KmsKeyID)
	set(&upd.IsOrganizationTrail, in.IsOrganizationTrail)

	if err := d.replaceTrail(r, old, upd, logging); err != nil {
		writeCloudTrailError(w, "InternalFailure", err.Error(), http.StatusInternalServerError)

		return
	}

	e := d.extra(trail.TrailARN)
	set(&e.snsTopicName, in.SnsTopicName)

	out := map[string]any{
		"Name": upd.Name, "TrailARN": trail.TrailARN, "S3BucketName": upd.S3BucketName,
		"IncludeGlobalServiceEvents": upd.IncludeGlobalServiceEvents, "IsMultiRegionTrail": upd.IsMultiRegionTrail,
		"LogFileValidationEnabled": upd.EnableLogFileValidation, "IsOrganizationTrail": upd.IsOrganizationTrail,
	}
	optional := map[string]string{
		"S3KeyPrefix": upd.S3KeyPrefix, "CloudWatchLogsLogGroupArn": upd.CloudWatchLogsLogGroupArn,
		"CloudWatchLogsRoleArn": upd.CloudWatchLogsRoleArn, "KmsKeyId": upd.KmsKeyID, "SnsTopicName": e.snsTopicName,
	}

	for k, v := range optional {
		if v != "" {
			out[k] = v
		}
	}

	if e.snsTopicName != "" {
		out["SnsTopicARN"] = snsTopicARN(e.snsTopicName)
	}

	writeCloudTrailJSON(w, out)
}

// trailState reads what a recreate must carry over: logging and tags.
func (d *cloudTrailDouble) trailState(r *http.Request, arn string) (bool, []json.RawMessage, error) {
	st, err := d.call(r.Context(), r, "GetTrailStatus", map[string]string{"Name": arn})
	if err != nil {
		return false, nil, err
	}

	var status struct {
		IsLogging bool `json:"IsLogging"`
	}

	if st.ok() {
		_ = json.Unmarshal(st.body, &status)
	}

	tg, err := d.call(r.Context(), r, "ListTags", map[string][]string{"ResourceIdList": {arn}})
	if err != nil {
		return false, nil, err
	}

	var tags struct {
		ResourceTagList []struct {
			TagsList []json.RawMessage `json:"TagsList"`
		} `json:"ResourceTagList"`
	}

	if tg.ok() {
		_ = json.Unmarshal(tg.body, &tags)
	}

	var list []json.RawMessage
	if len(tags.ResourceTagList) > 0 {
		list = tags.ResourceTagList[0].TagsList
	}

	return status.IsLogging, list, nil
}

// replaceTrail swaps kumo's trail old for upd, putting old back if kumo
// refuses upd.
func (d *cloudTrailDouble) replaceTrail(r *http.Request, old, upd createTrailInput, logging bool) error {
	ctx := r.Context()

	if res, err := d.call(ctx, r, "DeleteTrail", map[string]string{"Name": old.Name}); err != nil || !res.ok() {
		return fmt.Errorf("delete trail %s for update: %w (%s)", old.Name, err, res.body)
	}

	res, err := d.call(ctx, r, "CreateTrail", upd)
	if err == nil && !res.ok() {
		err = fmt.Errorf("kumo refused: %s", res.body)
	}

	if err != nil {
		if _, rerr := d.call(ctx, r, "CreateTrail", old); rerr != nil {
			return fmt.Errorf("recreate trail %s: %w; put back original: %w", old.Name, err, rerr)
		}

		if logging {
			_, _ = d.call(ctx, r, "StartLogging", map[string]string{"Name": old.Name})
		}

		return fmt.Errorf("recreate trail %s: %w", old.Name, err)
	}

	if logging {
		if res, err := d.call(ctx, r, "StartLogging", map[string]string{"Name": upd.Name}); err != nil || !res.ok() {
			return fmt.Errorf("restart logging on %s: %w (%s)", upd.Name, err, res.body)
		}
	}

	return nil
}

func snsTopicARN(name string) string {
	if strings.HasPrefix(name, "arn:") {
		return name
	}

	return "arn:aws:sns:" + Region + ":" + AccountID + ":" + name
}

type putEventSelectorsInput struct {
	TrailName              string            `json:"TrailName"`
	EventSelectors         []eventSelector   `json:"EventSelectors"`
	AdvancedEventSelectors []json.RawMessage `json:"AdvancedEventSelectors"`
}

func (d *cloudTrailDouble) putEventSelectors(w http.ResponseWriter, r *http.Request, body []byte) {
	var in putEventSelectorsInput
	if err := json.Unmarshal(body, &in); err != nil || in.TrailName == "" {
		writeCloudTrailError(w, "InvalidTrailNameException", "TrailName is required", http.StatusBadRequest)

		return
	}

	switch {
	case in.EventSelectors != nil && in.AdvancedEventSelectors != nil:
		writeCloudTrailError(w, "InvalidParameterCombinationException", "specify EventSelectors or AdvancedEventSelectors, not both", http.StatusBadRequest)

		return
	case in.EventSelectors == nil && in.AdvancedEventSelectors == nil:
		writeCloudTrailError(w, "InvalidEventSelectorsException", "EventSelectors or AdvancedEventSelectors is required", http.StatusBadRequest)

		return
	case len(in.EventSelectors) > 5:
		writeCloudTrailError(w, "InvalidEventSelectorsException", "at most 5 event selectors", http.StatusBadRequest)

		return
	}

	trail := d.trailOrAnswer(w, r, in.TrailName)
	if trail == nil {
		return
	}

	for i := range in.EventSelectors {
		es := &in.EventSelectors[i]
		if es.ReadWriteType == nil {
			es.ReadWriteType = defaultEventSelectors()[0].ReadWriteType
		}

		if es.IncludeManagementEvents == nil {
			es.IncludeManagementEvents = defaultEventSelectors()[0].IncludeManagementEvents
		}

		if es.DataResources == nil {
			es.DataResources = []dataResource{}
		}

		if es.ExcludeManagementEventSources == nil {
			es.ExcludeManagementEventSources = []string{}
		}
	}

	e := d.extra(trail.TrailARN)
	e.eventSelectors, e.advancedSelectors = in.EventSelectors, in.AdvancedEventSelectors

	writeCloudTrailJSON(w, selectorsOutput(trail.TrailARN, e))
}

func selectorsOutput(arn string, e *trailExtra) map[string]any {
	out := map[string]any{"TrailARN": arn}

	switch {
	case e != nil && e.advancedSelectors != nil:
		out["AdvancedEventSelectors"] = e.advancedSelectors
	case e != nil && e.eventSelectors != nil:
		out["EventSelectors"] = e.eventSelectors
	default:
		out["EventSelectors"] = defaultEventSelectors()
	}

	return out
}

func (d *cloudTrailDouble) getEventSelectors(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		TrailName string `json:"TrailName"`
	}

	if err := json.Unmarshal(body, &in); err != nil || in.TrailName == "" {
		writeCloudTrailError(w, "InvalidTrailNameException", "TrailName is required", http.StatusBadRequest)

		return
	}

	trail := d.trailOrAnswer(w, r, in.TrailName)
	if trail == nil {
		return
	}

	writeCloudTrailJSON(w, selectorsOutput(trail.TrailARN, d.extras[trail.TrailARN]))
}

// decorateTrails passes GetTrail/DescribeTrails to kumo and adds what only
// the double knows: HasCustomEventSelectors and the SNS topic.
func (d *cloudTrailDouble) decorateTrails(w http.ResponseWriter, r *http.Request, body []byte) {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), cloudTrailTarget)

	res, err := d.call(r.Context(), r, op, body)
	if err != nil {
		writeCloudTrailError(w, "InternalFailure", err.Error(), http.StatusInternalServerError)

		return
	}

	if !res.ok() {
		res.writeTo(w)

		return
	}

	var out map[string]json.RawMessage
	if err := json.Unmarshal(res.body, &out); err != nil {
		res.writeTo(w)

		return
	}

	decorate := func(raw json.RawMessage) json.RawMessage {
		var t map[string]any
		if err := json.Unmarshal(raw, &t); err != nil {
			return raw
		}

		arn, _ := t["TrailARN"].(string)
		if e := d.extras[arn]; e != nil {
			t["HasCustomEventSelectors"] = e.eventSelectors != nil || e.advancedSelectors != nil
			if e.snsTopicName != "" {
				t["SnsTopicName"] = e.snsTopicName
				t["SnsTopicARN"] = snsTopicARN(e.snsTopicName)
			}
		}

		b, err := json.Marshal(t)
		if err != nil {
			return raw
		}

		return b
	}

	if raw, ok := out["Trail"]; ok {
		out["Trail"] = decorate(raw)
	}

	if raw, ok := out["trailList"]; ok {
		var list []json.RawMessage
		if err := json.Unmarshal(raw, &list); err == nil {
			for i := range list {
				list[i] = decorate(list[i])
			}

			if b, err := json.Marshal(list); err == nil {
				out["trailList"] = b
			}
		}
	}

	writeCloudTrailJSON(w, out)
}

// resetExtras passes CreateTrail/DeleteTrail to kumo and forgets what the
// double kept for that trail when kumo accepts.
func (d *cloudTrailDouble) resetExtras(w http.ResponseWriter, r *http.Request, body []byte) {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), cloudTrailTarget)

	var arn string

	if op == "DeleteTrail" {
		var in struct {
			Name string `json:"Name"`
		}

		_ = json.Unmarshal(body, &in)

		if trail, _, _ := d.getTrail(r, in.Name); trail != nil {
			arn = trail.TrailARN
		}
	}

	res, err := d.call(r.Context(), r, op, body)
	if err != nil {
		writeCloudTrailError(w, "InternalFailure", err.Error(), http.StatusInternalServerError)

		return
	}

	if res.ok() && op == "CreateTrail" {
		var out struct {
			TrailARN string `json:"TrailARN"`
		}

		_ = json.Unmarshal(res.body, &out)
		arn = out.TrailARN
	}

	if res.ok() && arn != "" {
		delete(d.extras, arn)
	}

	res.writeTo(w)
}

func writeCloudTrailJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(v)
}

func writeCloudTrailError(w http.ResponseWriter, code, msg string, status int) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
}
