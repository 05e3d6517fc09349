package testworld

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"sync"
)

// lambdaConfigDouble answers the Lambda operations on a function's
// reserved concurrency and asynchronous invoke configuration, which kumo
// lacks: PutFunctionConcurrency, GetFunctionConcurrency,
// DeleteFunctionConcurrency, and Put/Update/Get/DeleteFunctionEventInvokeConfig
// (unqualified). It keeps them per function name, beside kumo's functions;
// the function itself is checked with kumo (GetFunction) so that an unknown
// name is ResourceNotFoundException, as on AWS.
type lambdaConfigDouble struct {
	s  *Server
	mu sync.Mutex
	// concurrency is the reserved concurrency per function, when set.
	concurrency map[string]int
	// invoke is the event invoke configuration per function, when set.
	invoke map[string]map[string]any
}

func newLambdaConfigDouble(s *Server) *lambdaConfigDouble {
	return &lambdaConfigDouble{s: s, concurrency: map[string]int{}, invoke: map[string]map[string]any{}}
}

var (
	concurrencyPath  = regexp.MustCompile(`^/20(17-10-31|19-09-30)/functions/([^/]+)/concurrency$`)
	invokeConfigPath = regexp.MustCompile(`^/2019-09-25/functions/([^/]+)/event-invoke-config$`)
)

func (d *lambdaConfigDouble) serve(w http.ResponseWriter, r *http.Request) bool {
	var name string
	var concurrency bool
	if m := concurrencyPath.FindStringSubmatch(r.URL.Path); m != nil {
		name, concurrency = m[2], true
	} else if m := invokeConfigPath.FindStringSubmatch(r.URL.Path); m != nil {
		name = m[1]
	} else {
		return false
	}
	if !d.exists(r, name) {
		writeLambdaError(w, "ResourceNotFoundException", "Function not found: "+name, http.StatusNotFound)
		return true
	}
	var body map[string]any
	if r.Method == http.MethodPut || r.Method == http.MethodPost {
		b, err := io.ReadAll(r.Body)
		if err == nil {
			err = json.Unmarshal(b, &body)
		}
		if err != nil {
			writeLambdaError(w, "InvalidParameterValueException", "the body is not JSON", http.StatusBadRequest)
			return true
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	arn := "arn:aws:lambda:" + Region + ":" + AccountID + ":function:" + name
	switch {
	case concurrency && r.Method == http.MethodPut:
		n, ok := body["ReservedConcurrentExecutions"].(float64)
		if !ok || n < 0 {
			writeLambdaError(w, "InvalidParameterValueException", "ReservedConcurrentExecutions must be a number of 0 or more", http.StatusBadRequest)
			return true
		}
		d.concurrency[name] = int(n)
		writeLambdaJSON(w, http.StatusOK, map[string]any{"ReservedConcurrentExecutions": int(n)})
	case concurrency && r.Method == http.MethodGet:
		out := map[string]any{}
		if n, ok := d.concurrency[name]; ok {
			out["ReservedConcurrentExecutions"] = n
		}
		writeLambdaJSON(w, http.StatusOK, out)
	case concurrency && r.Method == http.MethodDelete:
		delete(d.concurrency, name)
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodPut || r.Method == http.MethodPost:
		cfg := map[string]any{}
		if r.Method == http.MethodPost { // Update keeps what it does not name
			for k, v := range d.invoke[name] {
				cfg[k] = v
			}
		}
		for k, v := range body {
			cfg[k] = v
		}
		cfg["FunctionArn"] = arn
		d.invoke[name] = cfg
		writeLambdaJSON(w, http.StatusOK, cfg)
	case r.Method == http.MethodGet:
		cfg, ok := d.invoke[name]
		if !ok {
			writeLambdaError(w, "ResourceNotFoundException", "The function "+arn+" doesn't have an EventInvokeConfig", http.StatusNotFound)
			return true
		}
		writeLambdaJSON(w, http.StatusOK, cfg)
	case r.Method == http.MethodDelete:
		delete(d.invoke, name)
		w.WriteHeader(http.StatusNoContent)
	default:
		writeLambdaError(w, "InvalidParameterValueException", "unsupported method "+r.Method, http.StatusMethodNotAllowed)
	}
	return true
}

// exists asks kumo whether the function exists.
func (d *lambdaConfigDouble) exists(r *http.Request, name string) bool {
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, d.s.backend.String()+"/2015-03-31/functions/"+name, nil)
	if err != nil {
		return false
	}
	if auth := r.Header.Get("Authorization"); auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := d.s.client.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode == http.StatusOK
}

func writeLambdaJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeLambdaError(w http.ResponseWriter, code, message string, status int) {
	w.Header().Set("X-Amzn-Errortype", code)
	writeLambdaJSON(w, status, map[string]string{"Type": "User", "Message": message})
}
