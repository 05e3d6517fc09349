package testworld

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
)

// faults holds the fault hooks of one Server.
type faults struct {
	mu    sync.Mutex
	hooks []func(r *http.Request) (int, bool)
}

// FailOperation makes the next times requests for op of service answer with
// status and an error in the request's protocol (429 → Throttling, 5xx →
// InternalFailure/ServiceUnavailable). service is the SigV4 signing name
// ("cloudtrail", "iam", "sns", "sqs", "sts", "events", "lambda", "s3"); op
// is the operation name as in X-Amz-Target or the Query Action
// ("StartLogging", "AttachUserPolicy"), or "*" for any operation of the
// service (the only way to match REST services such as Lambda and S3). Note
// that the SDK retries throttling and 5xx errors (3 attempts by default), and
// each attempt consumes one of times.
func (s *Server) FailOperation(service, op string, status, times int) {
	var mu sync.Mutex

	left := times

	s.faults.add(func(r *http.Request) (int, bool) {
		svc, name := Operation(r)
		if svc != service || (op != "*" && name != op) {
			return 0, false
		}

		mu.Lock()
		defer mu.Unlock()

		if left <= 0 {
			return 0, false
		}

		left--

		return status, true
	})
}

func (f *faults) add(fn func(r *http.Request) (int, bool)) {
	f.mu.Lock()
	defer f.mu.Unlock()

	f.hooks = append(f.hooks, fn)
}

func (f *faults) intercept(w http.ResponseWriter, r *http.Request) bool {
	f.mu.Lock()
	hooks := append([]func(*http.Request) (int, bool){}, f.hooks...)
	f.mu.Unlock()

	for _, h := range hooks {
		if status, ok := h(r); ok {
			writeFault(w, r, status)

			return true
		}
	}

	return false
}

// Operation names the service (SigV4 signing name from the Authorization
// header's credential scope) and operation (X-Amz-Target suffix or Query
// Action; empty for REST protocols) of a request. It leaves r.Body readable.
func Operation(r *http.Request) (service, op string) {
	service = signingName(r.Header.Get("Authorization"))

	if t := r.Header.Get("X-Amz-Target"); t != "" {
		if i := strings.LastIndexByte(t, '.'); i >= 0 {
			return service, t[i+1:]
		}

		return service, t
	}

	if a := r.URL.Query().Get("Action"); a != "" {
		return service, a
	}

	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mediaType == "application/x-www-form-urlencoded" && r.Body != nil {
		body, err := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))

		if err == nil {
			if v, err := url.ParseQuery(string(body)); err == nil {
				return service, v.Get("Action")
			}
		}
	}

	return service, ""
}

// signingName extracts <service> from "... Credential=AKID/date/region/<service>/aws4_request, ...".
func signingName(auth string) string {
	_, rest, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return ""
	}

	rest, _, _ = strings.Cut(rest, ",")
	parts := strings.Split(rest, "/")

	if len(parts) < 5 {
		return ""
	}

	return parts[3]
}

func faultCode(status int, json bool) string {
	switch {
	case status == http.StatusTooManyRequests && json:
		return "ThrottlingException"
	case status == http.StatusTooManyRequests:
		return "Throttling"
	case status == http.StatusServiceUnavailable:
		return "ServiceUnavailable"
	case status >= 500:
		return "InternalFailure"
	default:
		return "ValidationException"
	}
}

func writeFault(w http.ResponseWriter, r *http.Request, status int) {
	msg := fmt.Sprintf("injected fault: status %d", status)
	service, _ := Operation(r)
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))

	switch {
	case r.Header.Get("X-Amz-Target") != "":
		code := faultCode(status, true)
		w.Header().Set("Content-Type", r.Header.Get("Content-Type"))
		w.Header().Set("X-Amzn-Query-Error", code+";Sender")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
	case mediaType == "application/x-www-form-urlencoded" || service == "s3":
		code := faultCode(status, false)
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(status)

		if service == "s3" {
			_, _ = fmt.Fprintf(w, "<Error><Code>%s</Code><Message>%s</Message></Error>", code, msg)

			return
		}

		_, _ = fmt.Fprintf(w, "<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>fault</RequestId></ErrorResponse>", code, msg)
	default:
		code := faultCode(status, true)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-Errortype", code)
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
	}
}

// pollTracker records which functions have a handler polling kumo's runtime
// API, so StartFunction can wait until invocations will be routed to it.
type pollTracker struct {
	mu     sync.Mutex
	polled map[string]chan struct{}
}

func newPollTracker() *pollTracker {
	return &pollTracker{polled: make(map[string]chan struct{})}
}

func (p *pollTracker) ch(fn string) chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()

	c, ok := p.polled[fn]
	if !ok {
		c = make(chan struct{})
		p.polled[fn] = c
	}

	return c
}

// observe returns r unchanged unless it is a poll, GET
// /_runtime/{fn}/2018-06-01/runtime/invocation/next; then it returns r with a
// trace that marks fn as polled once the poll has been written to kumo.
func (p *pollTracker) observe(r *http.Request) *http.Request {
	if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/runtime/invocation/next") {
		return r
	}

	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) < 2 || parts[0] != "_runtime" {
		return r
	}

	c := p.ch(parts[1])
	trace := &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) {
		p.mu.Lock()
		defer p.mu.Unlock()

		select {
		case <-c:
		default:
			close(c)
		}
	}}

	return r.WithContext(httptrace.WithClientTrace(r.Context(), trace))
}
