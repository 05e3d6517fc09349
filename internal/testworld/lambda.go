package testworld

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// pollSettle is how long StartFunction waits after a handler's first poll
// has been handed to kumo, so that kumo has registered the handler before
// the caller invokes: kumo drops async invocations of a function nobody
// has polled for, and offers no way to ask whether one has.
const pollSettle = 100 * time.Millisecond

// Function is a handler binary serving a kumo Lambda function through kumo's
// runtime API, as a child process.
type Function struct {
	// Name is the Lambda function's name.
	Name string

	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error // the process's exit, valid once done is closed

	stopOnce sync.Once
}

// StartFunction runs binary (built with aws-lambda-go's lambda.Start) as
// the handler of the kumo function name and returns once it polls for
// invocations. The child sees only Env(), the Lambda runtime variables and
// env (which wins on duplicates; e.g. TRAILGUARD_* settings), not this
// process's environment. Its stdout and stderr go to Output. Server.Close
// stops it; Stop does so earlier.
func (s *Server) StartFunction(ctx context.Context, name, binary string, env []string) (*Function, error) {
	return s.StartFunctionArgs(ctx, name, binary, nil, env)
}

// StartFunctionArgs is StartFunction for a handler that needs command-line
// arguments, e.g. a program whose hidden subcommand serves the function
// (`trailguard lambda-responder`).
func (s *Server) StartFunctionArgs(ctx context.Context, name, binary string, args, env []string) (*Function, error) {
	addr := strings.TrimPrefix(s.URL, "http://")
	base := append(s.Env(),
		"AWS_LAMBDA_RUNTIME_API="+addr+"/_runtime/"+name,
		"AWS_LAMBDA_FUNCTION_NAME="+name,
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
		"_HANDLER=bootstrap",
	)

	f := &Function{Name: name, out: &syncBuffer{}, done: make(chan struct{})}
	f.cmd = exec.Command(binary, args...) //nolint:gosec // the caller names the binary on purpose
	f.cmd.Env = append(base, env...)
	f.cmd.Stdout = f.out
	f.cmd.Stderr = f.out

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()

		return nil, errors.New("start function: server is closed")
	}

	if err := f.cmd.Start(); err != nil {
		s.mu.Unlock()

		return nil, fmt.Errorf("start function %s: %w", name, err)
	}

	s.functions = append(s.functions, f)
	s.mu.Unlock()

	go func() {
		f.err = f.cmd.Wait()
		close(f.done)
	}()

	select {
	case <-s.polls.ch(name):
		time.Sleep(pollSettle)

		return f, nil
	case <-f.done:
		return nil, fmt.Errorf("function %s exited before polling: %v; output:\n%s", name, f.err, f.Output())
	case <-ctx.Done():
		_ = f.Stop()

		return nil, fmt.Errorf("wait for function %s to poll: %w", name, ctx.Err())
	}
}

// Output returns everything the process wrote to stdout and stderr so far.
func (f *Function) Output() string { return f.out.String() }

// Stop kills the process and waits for it to exit. It is safe to call more
// than once.
func (f *Function) Stop() error {
	f.stopOnce.Do(func() {
		select {
		case <-f.done:
		default:
			_ = f.cmd.Process.Kill()
		}
	})
	<-f.done

	return nil
}

// Exited reports whether the process has ended.
func (f *Function) Exited() bool {
	select {
	case <-f.done:
		return true
	default:
		return false
	}
}

// syncBuffer is a bytes.Buffer safe for a writing process and reading tests.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()

	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()

	return b.buf.String()
}

// BuildResponder builds ./cmd/responder of this module into
// <outDir>/bootstrap for the local platform and returns the binary's path.
func BuildResponder(ctx context.Context, outDir string) (string, error) {
	return buildMain(ctx, "./cmd/responder", outDir)
}

// buildMain builds the main package pkg (relative to the module root) into
// <outDir>/bootstrap.
func buildMain(ctx context.Context, pkg, outDir string) (string, error) {
	root, err := moduleRoot(ctx)
	if err != nil {
		return "", err
	}

	out, err := filepath.Abs(filepath.Join(outDir, "bootstrap"))
	if err != nil {
		return "", fmt.Errorf("resolve output path: %w", err)
	}

	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")

	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", pkg, err, msg)
	}

	return out, nil
}

// moduleRoot is the directory of the go.mod governing the working directory.
func moduleRoot(ctx context.Context) (string, error) {
	msg, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}

	gomod := strings.TrimSpace(string(msg))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("find module root: not inside a Go module")
	}

	return filepath.Dir(gomod), nil
}
