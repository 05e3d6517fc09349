package testworld

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/sivchari/kumo"
)

// Fake credentials and region every client of the emulator uses.
const (
	AccessKeyID     = "AKIAIOSFODNN7EXAMPLE"
	SecretAccessKey = "test"
	Region          = "us-east-1"
	// AccountID is the account kumo's EventBridge, Lambda, SQS, SNS and STS
	// report. kumo's CloudTrail reports CloudTrailAccountID instead.
	AccountID = "000000000000"
	// CloudTrailAccountID is the account in kumo's trail ARNs.
	CloudTrailAccountID = "123456789012"
)

// Server is a running local AWS: kumo behind the front handler of this
// package. Close it when done.
type Server struct {
	// URL is the front's base URL, "http://127.0.0.1:<port>"; use it as the
	// SDK's BaseEndpoint or AWS_ENDPOINT_URL.
	URL string

	kumo     *kumo.Server
	front    *http.Server
	listener net.Listener
	served   chan struct{}

	proxy   *httputil.ReverseProxy
	backend *url.URL
	client  *http.Client // for the double's own calls to kumo

	trails  *cloudTrailDouble
	history history // lookupevents.go
	iam     *iamDouble
	hub     *securityHubDouble
	// lambdaConfig answers the concurrency and event invoke configuration operations kumo lacks.
	lambdaConfig *lambdaConfigDouble
	faults       *faults
	polls        *pollTracker

	mu        sync.Mutex
	functions []*Function
	closed    bool
}

// Option configures Start.
type Option func(*Server)

// WithFault installs a fault hook consulted before every request: when it
// returns ok, the request is answered with that status and an error body in
// the request's protocol, and never reaches kumo or the CloudTrail double.
func WithFault(fn func(r *http.Request) (status int, ok bool)) Option {
	return func(s *Server) { s.faults.hooks = append(s.faults.hooks, fn) }
}

// Start runs kumo and the front handler on loopback ports and makes kumo's
// self-calls (EventBridge → Lambda) reach this server.
func Start(ctx context.Context, opts ...Option) (*Server, error) {
	if err := installSelfCallRedirect(); err != nil {
		return nil, err
	}

	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen on loopback: %w", err)
	}

	k := sharedKumo()

	backend, err := url.Parse(k.URL)
	if err != nil {
		_ = ln.Close()

		return nil, fmt.Errorf("parse kumo url %q: %w", k.URL, err)
	}

	// Our own transport: long-polls must not be cut by a timeout, and the
	// proxy must not dial through the redirected DefaultTransport.
	transport := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     30 * time.Second,
	}

	s := &Server{
		URL:      "http://" + ln.Addr().String(),
		kumo:     k,
		listener: ln,
		served:   make(chan struct{}),
		backend:  backend,
		client:   &http.Client{Transport: transport},
		faults:   &faults{},
		polls:    newPollTracker(),
	}
	s.proxy = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(backend)
			pr.Out.Host = pr.In.Host // kumo routes S3 virtual hosts and function URLs by Host
		},
		Transport: transport,
		// A runtime long-poll cancelled by its stopping handler is routine.
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, _ error) { w.WriteHeader(http.StatusBadGateway) },
		// A response cut while it is copied is never routine: it reaches
		// the test as "unexpected EOF". Said on stderr, past any slog
		// default a test installs, so the failing test's output names it.
		ErrorLog: frontLog,
	}
	s.trails = newCloudTrailDouble(s)
	s.iam = newIAMDouble(s)
	s.hub = newSecurityHubDouble()
	s.lambdaConfig = newLambdaConfigDouble(s)

	for _, o := range opts {
		o(s)
	}

	s.front = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, ErrorLog: frontLog}

	go func() {
		defer close(s.served)
		_ = s.front.Serve(ln)
	}()

	activate(s)

	return s, nil
}

// Config returns an SDK configuration for this server: static fake
// credentials, region us-east-1 and BaseEndpoint set to URL. S3 clients also
// need o.UsePathStyle = true (see S3Client).
func (s *Server) Config(_ context.Context) aws.Config {
	return aws.Config{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
		BaseEndpoint: aws.String(s.URL),
	}
}

// Env returns the environment a child process (e.g. the responder) needs to
// talk to this server with the SDK's standard variables.
func (s *Server) Env() []string {
	return []string{
		"AWS_ENDPOINT_URL=" + s.URL,
		"AWS_REGION=" + Region,
		"AWS_DEFAULT_REGION=" + Region,
		"AWS_ACCESS_KEY_ID=" + AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + SecretAccessKey,
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

// Close stops every function process started on this server, then the front
// and kumo. It is safe to call more than once.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()

		return
	}

	s.closed = true
	fns := s.functions
	s.functions = nil
	s.mu.Unlock()

	for _, f := range fns {
		_ = f.Stop()
	}

	deactivate(s)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	if err := s.front.Shutdown(ctx); err != nil {
		_ = s.front.Close()
	}

	<-s.served
	s.client.CloseIdleConnections()
	redirectTransport.CloseIdleConnections()
}

// frontLog is where the front and its proxy report what net/http would
// otherwise log through the process's default logger (a recovered handler
// panic, a body copy cut short).
var frontLog = log.New(os.Stderr, "testworld front: ", log.LstdFlags|log.Lmicroseconds)

var (
	kumoOnce sync.Once
	kumoSrv  *kumo.Server
)

// sharedKumo is the process's one kumo server, started on first use and
// never closed. kumo keeps its services' state in package globals, so a
// second kumo server adds no isolation; it only re-wires those globals
// (SNS→SQS, S3→SQS/Lambda publishers) while the previous server's delivery
// goroutines still read them: a data race inside kumo that the race
// detector reports. Each Server keeps its own front, doubles and faults.
func sharedKumo() *kumo.Server {
	kumoOnce.Do(func() { kumoSrv = kumo.NewServer() })
	return kumoSrv
}

// ServeHTTP is the front: faults first, then the CloudTrail and IAM
// doubles, then kumo.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.faults.intercept(w, r) {
		return
	}

	if s.trails.serve(w, r) || s.iam.serve(w, r) || (eventsDouble{s}).serve(w, r) || s.hub.serve(w, r) || (ec2Double{}).serve(w, r) || (snsTargets{s}).serve(w, r) || (alarmsDouble{s}).serve(w, r) || s.lambdaConfig.serve(w, r) {
		return
	}

	s.proxy.ServeHTTP(w, s.polls.observe(r))
}

// --- kumo self-call redirect --------------------------------------------

var (
	redirectOnce      sync.Once
	redirectErr       error
	redirectTransport *http.Transport

	activeMu sync.Mutex
	live     []*Server
)

// kumoSelfAddrs are the host:port pairs kumo's services call themselves on,
// derived from the environment the same way kumo does at its init.
func kumoSelfAddrs() map[string]bool {
	addrs := map[string]bool{"localhost:4566": true}
	port := os.Getenv("KUMO_PORT")

	if port == "" {
		port = "4566"
	}

	host := os.Getenv("KUMO_HOST")
	if host == "" {
		host = "localhost"
	}

	addrs[net.JoinHostPort(host, port)] = true

	return addrs
}

func installSelfCallRedirect() error {
	redirectOnce.Do(func() {
		base, ok := http.DefaultTransport.(*http.Transport)
		if !ok {
			redirectErr = errors.New("redirect kumo self-calls: http.DefaultTransport is not an *http.Transport")

			return
		}

		self := kumoSelfAddrs()
		dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
		t := base.Clone()
		t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			if self[addr] {
				if target := activeAddr(); target != "" {
					addr = target
				}
			}

			return dialer.DialContext(ctx, network, addr)
		}
		redirectTransport = t
		http.DefaultTransport = t
	})

	return redirectErr
}

func activate(s *Server) {
	activeMu.Lock()
	defer activeMu.Unlock()

	live = append(live, s)
}

func deactivate(s *Server) {
	activeMu.Lock()
	defer activeMu.Unlock()

	for i, l := range live {
		if l == s {
			live = append(live[:i], live[i+1:]...)

			break
		}
	}
}

func activeAddr() string {
	activeMu.Lock()
	defer activeMu.Unlock()

	if len(live) == 0 {
		return ""
	}

	return strings.TrimPrefix(live[len(live)-1].URL, "http://")
}
