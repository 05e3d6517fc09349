package orgemu

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// request is one decoded API call.
type request struct {
	service, op, region string
	// json holds an awsJson body; form a query body.
	json map[string]any
	form url.Values
}

func decode(r *http.Request, service, region string) (request, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return request{}, err
	}
	q := request{service: service, region: region}
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		q.op = t[strings.LastIndex(t, ".")+1:]
		q.json = map[string]any{}
		if len(body) > 0 {
			if err := json.Unmarshal(body, &q.json); err != nil {
				return q, errf(400, "SerializationException", "body is not JSON: %v", err)
			}
		}
		return q, nil
	}
	q.form, err = url.ParseQuery(string(body))
	if err != nil {
		return q, errf(400, "MalformedQueryString", "%v", err)
	}
	q.op = q.form.Get("Action")
	return q, nil
}

func (q request) str(k string) string {
	if q.json != nil {
		s, _ := q.json[k].(string)
		return s
	}
	return q.form.Get(k)
}

func (q request) query() bool { return q.json == nil }

// params are the request's parameters as CloudTrail records them
// (requestParameters): lower camel case keys.
func (q request) params() map[string]any {
	out := map[string]any{}
	lower := func(k string) string { return strings.ToLower(k[:1]) + k[1:] }
	if q.json != nil {
		for k, v := range q.json {
			out[lower(k)] = v
		}
		return out
	}
	for k := range q.form {
		if k != "Action" && k != "Version" {
			out[lower(k)] = q.form.Get(k)
		}
	}
	return out
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if v == nil {
		v = struct{}{}
	}
	_ = json.NewEncoder(w).Encode(v)
}

func writeJSONError(w http.ResponseWriter, err error) {
	ae := asAPIError(err)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(ae.status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": ae.code, "message": ae.message})
}

func asAPIError(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	return &apiError{status: 500, code: "InternalFailure", message: err.Error()}
}

// writeQuery answers an awsquery call; result is the inner XML of
// <OpResult>, built with xmlText for values.
func writeQuery(w http.ResponseWriter, op, result string) {
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<%sResponse xmlns="https://example.com/doc/"><%sResult>%s</%sResult><ResponseMetadata><RequestId>orgemu</RequestId></ResponseMetadata></%sResponse>`,
		op, op, result, op, op)
}

func writeQueryError(w http.ResponseWriter, err error) {
	ae := asAPIError(err)
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(ae.status)
	fmt.Fprintf(w, `<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>orgemu</RequestId></ErrorResponse>`,
		xmlText(ae.code), xmlText(ae.message))
}

func xmlText(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// tag renders <name>value</name> with value escaped.
func tag(name, value string) string { return "<" + name + ">" + xmlText(value) + "</" + name + ">" }
