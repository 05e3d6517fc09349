package trailguardcdk_test

import (
	"flag"
	"fmt"
	"os"
	"regexp"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the generated blocks of ../README.md from the synthesized templates")

// sizesBlock is the generated part of infra/README.md that counts the
// templates' resources.
var sizesBlock = regexp.MustCompile(`(?s)<!-- sizes:begin -->.*?<!-- sizes:end -->`)

// TestTemplateSizesInReadme: the resource counts infra/README.md gives are
// the synthesized templates' (scripts/update-docs.sh runs it with -update).
func TestTemplateSizesInReadme(t *testing.T) {
	d, e, k := defaultStack(), existingStack(), kmsStack()
	block := fmt.Sprintf("<!-- sizes:begin -->\nTemplate sizes (resources, with the catalog as it is): %d for a created trail "+
		"(region-agnostic, two e-mail subscriptions), %d protecting an existing trail (us-east-1), %d with a created trail, "+
		"`kms=true` and Slack in eu-west-1 (no global-service rules there). Each service the catalog adds brings two "+
		"more: its rule and its Lambda permission.\n<!-- sizes:end -->",
		len(d.resources), len(e.resources), len(k.resources))
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !sizesBlock.Match(readme) {
		t.Fatal("../README.md has no <!-- sizes:begin --> block")
	}
	got := sizesBlock.ReplaceAll(readme, []byte(block))
	if *update {
		if err := os.WriteFile("../README.md", got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if string(got) != string(readme) {
		t.Errorf("infra/README.md's template sizes are stale; run scripts/update-docs.sh (or go test ./trailguardcdk -run TestTemplateSizesInReadme -update). Want:\n%s", block)
	}
}
