package trailguardcdk_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// readmeBlocks returns the fenced blocks of infra/README.md's section "Use
// the construct in your own app": the go.mod lines and the app.
func readmeBlocks(t *testing.T) (gomod, app string) {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "## Use the construct in your own app")
	if !ok {
		t.Fatal("infra/README.md has no section \"Use the construct in your own app\"")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	blocks := regexp.MustCompile("(?ms)^```(\\w*)\n(.*?)^```").FindAllStringSubmatch(section, -1)
	if len(blocks) < 2 || blocks[1][1] != "go" {
		t.Fatalf("want the go.mod lines and a go block in the section, got %d blocks", len(blocks))
	}
	return blocks[0][2], blocks[1][2]
}

// TestConsumerModule builds the documented app in a module of its own,
// outside this repository, with the documented go.mod lines (../trailguard
// standing for this clone), synthesizes it and checks the template: the
// construct works from another module exactly as infra/README.md says.
func TestConsumerModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a consumer app and the responder")
	}
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	gomodLines, app := readmeBlocks(t)
	dir := t.TempDir()
	if strings.HasPrefix(dir, repo+string(filepath.Separator)) {
		t.Fatalf("temp dir %s is inside the repository", dir)
	}
	// The Go version and the CDK modules as this module pins them.
	infraMod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	goLine := regexp.MustCompile(`(?m)^go \S+$`).FindString(string(infraMod))
	gomod := "module example.com/security\n\n" + goLine + "\n\n" + strings.ReplaceAll(gomodLines, "../trailguard", repo) + "\n"
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(app), 0o644); err != nil {
		t.Fatal(err)
	}
	// go.sum: the hashes this module already verified (offline: no proxy).
	if b, err := os.ReadFile("../go.sum"); err == nil {
		_ = os.WriteFile(filepath.Join(dir, "go.sum"), b, 0o644)
	}
	run := func(name string, args ...string) {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), name, args...)
		cmd.Dir = dir
		// Offline (no proxy), and never -mod=mod: the app's synth builds the
		// responder inside this repository, whose go.mod must not change.
		cmd.Env = append(os.Environ(), "GOFLAGS=", "GOPROXY=off", "CDK_OUTDIR="+filepath.Join(dir, "cdk.out"),
			"JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s\ngo.mod:\n%s", name, strings.Join(args, " "), err, out, gomod)
		}
	}
	run("go", "mod", "tidy")
	run("go", "run", ".")

	b, err := os.ReadFile(filepath.Join(dir, "cdk.out", "Security.template.json"))
	if err != nil {
		t.Fatalf("no template synthesized: %v", err)
	}
	var tpl struct {
		Resources map[string]struct{ Type string } `json:"Resources"`
		Outputs   map[string]any                   `json:"Outputs"`
	}
	if err := json.Unmarshal(b, &tpl); err != nil {
		t.Fatal(err)
	}
	types := map[string]int{}
	for _, r := range tpl.Resources {
		types[r.Type]++
	}
	if types["AWS::Lambda::Function"] != 1 || types["AWS::Events::Rule"] == 0 || types["AWS::SNS::Subscription"] != 1 || types["AWS::CloudTrail::Trail"] != 0 {
		t.Errorf("consumer template resources %v: want the responder, its rules, one subscription and no trail", types)
	}
	if _, ok := tpl.Outputs["AlertTopic"]; !ok {
		t.Errorf("outputs %v: want AlertTopic", tpl.Outputs)
	}
}
