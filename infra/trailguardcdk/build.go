package trailguardcdk

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ResponderPackage is the main package of the responder Lambda.
const ResponderPackage = "github.com/trailguard/trailguard/cmd/responder"

// BuildResponder cross-compiles the responder for the Lambda runtime
// (provided.al2023 on arm64) into outDir/bootstrap and returns outDir, ready
// for awslambda.Code_FromAsset.
//
// The build runs inside the trailguard root module (found with go list from
// the current directory, so it works both in this repository, through the
// infra module's replace directive, and in a user's app that depends on
// trailguard from the module proxy). Building there, not in the caller's
// module, keeps the Lambda's dependency versions those of the root go.mod.
// -trimpath and -buildvcs=false make the binary, and so the asset hash,
// reproducible: an unchanged responder never causes a redeploy.
func BuildResponder(outDir string) (string, error) {
	root, err := moduleDir("github.com/trailguard/trailguard")
	if err != nil {
		return "", err
	}
	abs, err := filepath.Abs(outDir)
	if err != nil {
		return "", fmt.Errorf("build responder: %w", err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return "", fmt.Errorf("build responder: %w", err)
	}
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-buildvcs=false",
		"-ldflags=-s -w", "-o", filepath.Join(abs, "bootstrap"), "./cmd/responder")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build responder in %s: %w: %s", root, err, strings.TrimSpace(stderr.String()))
	}
	return abs, nil
}

// moduleDir returns the source directory of a module in the current build list.
func moduleDir(module string) (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", module).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("locate module %s: %w: %s", module, err, strings.TrimSpace(string(ee.Stderr)))
		}
		return "", fmt.Errorf("locate module %s: %w", module, err)
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		return "", fmt.Errorf("locate module %s: not downloaded (run go mod download)", module)
	}
	return dir, nil
}
