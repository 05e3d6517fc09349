package testworld

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
)

const iamXMLNS = "https://iam.amazonaws.com/doc/2010-05-08/"

// iamDouble is our test double for the IAM operations trailguard's
// containment needs and kumo lacks: ListAttachedUserPolicies (from the
// AttachUserPolicy/DetachUserPolicy calls kumo accepted through this
// server) and UpdateAccessKey (a key status kept by the double and written
// into kumo's ListAccessKeys answers).
type iamDouble struct {
	s *Server

	mu       sync.Mutex
	attached map[string][]string // user name → policy ARNs, in attach order
	status   map[string]string   // access key id → Active/Inactive
}

func newIAMDouble(s *Server) *iamDouble {
	return &iamDouble{s: s, attached: make(map[string][]string), status: make(map[string]string)}
}

// serve answers r if it is an IAM operation the double owns or decorates.
func (d *iamDouble) serve(w http.ResponseWriter, r *http.Request) bool {
	form, ok := queryForm(r, "iam")
	if !ok {
		return false
	}

	d.mu.Lock()
	defer d.mu.Unlock()

	switch form.Get("Action") {
	case "AttachUserPolicy", "DetachUserPolicy":
		rec := httptest.NewRecorder()
		d.s.proxy.ServeHTTP(rec, r)

		if rec.Code == http.StatusOK {
			d.recordAttachment(form)
		}

		relay(w, rec)
	case "ListAttachedUserPolicies":
		d.listAttached(w, r, form.Get("UserName"))
	case "UpdateAccessKey":
		d.updateAccessKey(w, r, form)
	case "ListAccessKeys":
		rec := httptest.NewRecorder()
		d.s.proxy.ServeHTTP(rec, r)

		if rec.Code == http.StatusOK {
			rec.Body = bytes.NewBuffer(d.rewriteKeyStatus(rec.Body.Bytes()))
		}

		relay(w, rec)
	default:
		return false
	}

	return true
}

func relay(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, v := range rec.Header() {
		if k != "Content-Length" {
			w.Header()[k] = v
		}
	}

	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

func (d *iamDouble) recordAttachment(form url.Values) {
	user, arn := form.Get("UserName"), form.Get("PolicyArn")
	list := d.attached[user]

	kept := list[:0:0]

	for _, a := range list {
		if a != arn {
			kept = append(kept, a)
		}
	}

	if form.Get("Action") == "AttachUserPolicy" {
		kept = append(kept, arn)
	}

	d.attached[user] = kept
}

type attachedPolicy struct {
	PolicyName string `xml:"PolicyName"`
	PolicyArn  string `xml:"PolicyArn"`
}

type listAttachedUserPoliciesResponse struct {
	XMLName          xml.Name         `xml:"ListAttachedUserPoliciesResponse"`
	Xmlns            string           `xml:"xmlns,attr"`
	AttachedPolicies []attachedPolicy `xml:"ListAttachedUserPoliciesResult>AttachedPolicies>member"`
	IsTruncated      bool             `xml:"ListAttachedUserPoliciesResult>IsTruncated"`
	RequestID        string           `xml:"ResponseMetadata>RequestId"`
}

func (d *iamDouble) listAttached(w http.ResponseWriter, r *http.Request, user string) {
	// As IAM does, a user that does not exist is NoSuchEntity.
	if status, _, err := d.backend(r, url.Values{"Action": {"GetUser"}, "UserName": {user}}); err != nil {
		writeIAMError(w, http.StatusInternalServerError, "ServiceFailure", err.Error())

		return
	} else if status != http.StatusOK {
		writeIAMError(w, http.StatusNotFound, "NoSuchEntity", fmt.Sprintf("The user with name %s cannot be found.", user))

		return
	}

	resp := listAttachedUserPoliciesResponse{Xmlns: iamXMLNS, AttachedPolicies: []attachedPolicy{}, RequestID: "emulator"}

	for _, arn := range d.attached[user] {
		resp.AttachedPolicies = append(resp.AttachedPolicies, attachedPolicy{PolicyName: arn[strings.LastIndexByte(arn, '/')+1:], PolicyArn: arn})
	}

	writeIAMXML(w, http.StatusOK, resp)
}

type updateAccessKeyResponse struct {
	XMLName   xml.Name `xml:"UpdateAccessKeyResponse"`
	Xmlns     string   `xml:"xmlns,attr"`
	RequestID string   `xml:"ResponseMetadata>RequestId"`
}

func (d *iamDouble) updateAccessKey(w http.ResponseWriter, r *http.Request, form url.Values) {
	user, key, status := form.Get("UserName"), form.Get("AccessKeyId"), form.Get("Status")
	if status != "Active" && status != "Inactive" {
		writeIAMError(w, http.StatusBadRequest, "ValidationError", "Status must be Active or Inactive")

		return
	}

	// The key must exist in kumo, for that user.
	code, keys, err := d.backend(r, url.Values{"Action": {"ListAccessKeys"}, "UserName": {user}})
	if err != nil {
		writeIAMError(w, http.StatusInternalServerError, "ServiceFailure", err.Error())

		return
	}

	if code != http.StatusOK || !bytes.Contains(keys, []byte("<AccessKeyId>"+key+"</AccessKeyId>")) {
		writeIAMError(w, http.StatusNotFound, "NoSuchEntity", fmt.Sprintf("The Access Key with id %s cannot be found.", key))

		return
	}

	d.status[key] = status
	writeIAMXML(w, http.StatusOK, updateAccessKeyResponse{Xmlns: iamXMLNS, RequestID: "emulator"})
}

// backend asks kumo itself (the double's own answers are not consulted),
// with the caller's credentials.
func (d *iamDouble) backend(r *http.Request, form url.Values) (int, []byte, error) {
	form.Set("Version", "2010-05-08")

	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, d.s.backend.String()+"/", strings.NewReader(form.Encode()))
	if err != nil {
		return 0, nil, err
	}

	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", r.Header.Get("Authorization"))

	resp, err := d.s.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()

	body, err := io.ReadAll(resp.Body)

	return resp.StatusCode, body, err
}

var keyStatusRE = regexp.MustCompile(`<AccessKeyId>([^<]+)</AccessKeyId>(\s*)<Status>[^<]*</Status>`)

// rewriteKeyStatus puts the statuses set with UpdateAccessKey into kumo's
// ListAccessKeys answer.
func (d *iamDouble) rewriteKeyStatus(body []byte) []byte {
	return keyStatusRE.ReplaceAllFunc(body, func(m []byte) []byte {
		sub := keyStatusRE.FindSubmatch(m)
		if st, ok := d.status[string(sub[1])]; ok {
			return fmt.Appendf(nil, "<AccessKeyId>%s</AccessKeyId>%s<Status>%s</Status>", sub[1], sub[2], st)
		}

		return m
	})
}

type iamErrorResponse struct {
	XMLName   xml.Name `xml:"ErrorResponse"`
	Xmlns     string   `xml:"xmlns,attr"`
	Type      string   `xml:"Error>Type"`
	Code      string   `xml:"Error>Code"`
	Message   string   `xml:"Error>Message"`
	RequestID string   `xml:"RequestId"`
}

func writeIAMError(w http.ResponseWriter, status int, code, msg string) {
	writeIAMXML(w, status, iamErrorResponse{Xmlns: iamXMLNS, Type: "Sender", Code: code, Message: msg, RequestID: "emulator"})
}

func writeIAMXML(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(xml.Header))
	_ = xml.NewEncoder(w).Encode(v)
}
