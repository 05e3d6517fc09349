package e2e_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard/internal/testworld"
	"github.com/trailguard/trailguard/internal/testworld/worldtest"
)

// freeAddr returns a loopback address with a port free at the time of the
// call.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// TestBootstrapUnderRuntimeInterfaceEmulator runs the bootstrap under AWS's
// official runtime interface emulator, the way the Lambda service runs it,
// with AWS_ENDPOINT_URL at the kumo emulator, and invokes it synchronously
// with a StopLogging event.
func TestBootstrapUnderRuntimeInterfaceEmulator(t *testing.T) {
	srv, ctx := worldtest.Start(t)
	w := deployTarget(t, srv, ctx, "rie")
	self, err := srv.CreateRole(ctx, w.Responder+"-role")
	if err != nil {
		t.Fatal(err)
	}
	w.stopLogging()

	invokeAddr, runtimeAddr := freeAddr(t), freeAddr(t)
	out := &testworld.LockedBuffer{}
	cmd := exec.Command(rieBin, "--runtime-interface-emulator-address", invokeAddr, "--runtime-api-address", runtimeAddr, bootstrapBin)
	cmd.Env = append(append(srv.Env(), "AWS_LAMBDA_FUNCTION_NAME="+w.Responder), w.Env(self)...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("aws-lambda-rie output:\n%s", out)
		}
	})

	raw, id := w.Event("stoplogging-iamuser", nil)
	status, body := invokeRIE(t, ctx, "http://"+invokeAddr+"/2015-03-31/functions/function/invocations", raw, done)

	if status != http.StatusOK || strings.TrimSpace(body) != "null" {
		t.Errorf("invocation = %d %q, want 200 null (handled, no error)", status, body)
	}
	if !w.Logging() {
		t.Error("trail does not log after the invocation")
	}
	// The emulator answers the invocation before the child's output has
	// been copied into out: wait for the log line, bounded.
	w.WaitFor(handleWait, "the responder to log event "+id, func() bool { return strings.Contains(out.String(), id) })
	if r := w.alert(); r.Alert.Event.ID != id {
		t.Errorf("alert is about %s, want %s", r.Alert.Event.ID, id)
	}
}

// invokeRIE posts an invocation, retrying while the emulator is not yet
// listening, within a bounded time.
func invokeRIE(t *testing.T, ctx context.Context, url string, payload []byte, exited <-chan struct{}) (int, string) {
	t.Helper()
	deadline := time.Now().Add(handleWait)
	client := &http.Client{Timeout: handleWait}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(payload))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err == nil {
			b, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			if rerr != nil {
				t.Fatal(rerr)
			}
			return resp.StatusCode, string(b)
		}
		select {
		case <-exited:
			t.Fatalf("aws-lambda-rie exited before answering: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("aws-lambda-rie never answered: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
