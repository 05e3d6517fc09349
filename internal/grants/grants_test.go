package grants_test

import (
	"flag"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/trailguard/trailguard/internal/forensics"
	"github.com/trailguard/trailguard/internal/grants"
)

const module = "github.com/trailguard/trailguard"

// iamPrefix maps a Go SDK service package to its IAM service prefix.
var iamPrefix = map[string]string{
	"cloudtrail": "cloudtrail", "cloudwatch": "cloudwatch", "cloudwatchlogs": "logs", "dynamodb": "dynamodb", "eventbridge": "events",
	"iam": "iam", "kms": "kms", "lambda": "lambda", "organizations": "organizations", "s3": "s3",
	"securityhub": "securityhub", "sns": "sns", "sqs": "sqs", "sts": "sts", "cloudformation": "cloudformation",
}

// sdkHelpers are the SDK's own interfaces and helpers that make a call for
// the code using them; sdkHelperPkgs are their packages.
var (
	sdkHelpers    = map[string]string{"stscreds.AssumeRoleAPIClient": "sts:AssumeRole", "stscreds.NewAssumeRoleProvider": "sts:AssumeRole"}
	sdkHelperPkgs = map[string]string{"stscreds": "github.com/aws/aws-sdk-go-v2/credentials/stscreds"}
)

func importsPath(f *ast.File, path string) bool {
	for _, imp := range f.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); p == path {
			return true
		}
	}
	return false
}

// declaredOps reads the source of every package of this module that the
// responder (cmd/responder) links, and returns each SDK operation an interface
// there declares (a method taking *<service>.<Op>Input), with where.
func declaredOps(t *testing.T) map[string]string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	ops := map[string]string{}
	seen := map[string]bool{}
	queue := []string{module + "/cmd/responder"}
	for len(queue) > 0 {
		pkg := queue[0]
		queue = queue[1:]
		if seen[pkg] {
			continue
		}
		seen[pkg] = true
		dir := filepath.Join(root, strings.TrimPrefix(strings.TrimPrefix(pkg, module), "/"))
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatalf("read %s: %v", dir, err)
		}
		for _, e := range entries {
			name := e.Name()
			if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(dir, name), nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			services := map[string]string{} // import name → SDK service package
			for _, imp := range f.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				if strings.HasPrefix(path, module+"/") {
					queue = append(queue, path)
				}
				if svc, ok := strings.CutPrefix(path, "github.com/aws/aws-sdk-go-v2/service/"); ok && !strings.Contains(svc, "/") {
					local := svc
					if imp.Name != nil {
						local = imp.Name.Name
					}
					services[local] = svc
				}
			}
			ast.Inspect(f, func(n ast.Node) bool {
				// Interfaces the SDK declares for its own helpers.
				if sel, ok := n.(*ast.SelectorExpr); ok {
					if x, ok := sel.X.(*ast.Ident); ok && sdkHelpers[x.Name+"."+sel.Sel.Name] != "" && importsPath(f, sdkHelperPkgs[x.Name]) {
						ops[sdkHelpers[x.Name+"."+sel.Sel.Name]] = strings.TrimPrefix(pkg, module+"/") + "/" + name
					}
				}
				it, ok := n.(*ast.InterfaceType)
				if !ok {
					return true
				}
				for _, m := range it.Methods.List {
					ft, ok := m.Type.(*ast.FuncType)
					if !ok || len(m.Names) == 0 {
						continue
					}
					for _, p := range ft.Params.List {
						star, ok := p.Type.(*ast.StarExpr)
						if !ok {
							continue
						}
						sel, ok := star.X.(*ast.SelectorExpr)
						if !ok {
							continue
						}
						x, ok := sel.X.(*ast.Ident)
						if !ok || services[x.Name] == "" || sel.Sel.Name != m.Names[0].Name+"Input" {
							continue
						}
						prefix, known := iamPrefix[services[x.Name]]
						if !known {
							t.Errorf("%s/%s: SDK service %q has no IAM prefix in this test's map: add it", pkg, name, services[x.Name])
							continue
						}
						ops[prefix+":"+m.Names[0].Name] = strings.TrimPrefix(pkg, module+"/") + "/" + name
					}
				}
				return true
			})
		}
	}
	return ops
}

// TestEveryDeclaredCallIsGranted fails when the responder can make a call
// no statement allows: on AWS it would be denied.
func TestEveryDeclaredCallIsGranted(t *testing.T) {
	ops := declaredOps(t)
	if len(ops) < 20 {
		t.Fatalf("found only %d SDK operations in the responder's interfaces: the scan is broken: %v", len(ops), ops)
	}
	t.Logf("the responder declares %d SDK operations", len(ops))
	allowed := grants.Allowed()
	for op, where := range ops {
		if !slices.Contains(allowed, op) && !slices.Contains(grants.NoPermission, op) {
			t.Errorf("%s declares %s, which no statement of grants.Table allows: add a Call to a Statement", where, op)
		}
	}
}

// TestEveryGrantIsUsed fails when the table allows an operation no
// interface of the responder declares: a permission nothing uses.
func TestEveryGrantIsUsed(t *testing.T) {
	ops := declaredOps(t)
	for _, s := range grants.Table {
		for _, c := range s.Calls {
			if strings.HasPrefix(c.Op, "runtime:") {
				continue
			}
			if _, ok := ops[c.Op]; !ok {
				t.Errorf("statement %s grants %s for %s, which no interface of the responder declares: remove it", s.Sid, c.IAMActions(), c.Op)
			}
		}
	}
	for _, op := range grants.NoPermission {
		if _, ok := ops[op]; !ok {
			t.Errorf("NoPermission lists %s, which no interface of the responder declares", op)
		}
	}
}

func TestTableIsWellFormed(t *testing.T) {
	sids := map[string]bool{}
	for _, s := range grants.Table {
		if s.Sid == "" || sids[s.Sid] {
			t.Errorf("statement %q: empty or duplicate Sid", s.Sid)
		}
		sids[s.Sid] = true
		if len(s.Resources) == 0 || len(s.Calls) == 0 || s.Why == "" {
			t.Errorf("statement %s: needs resources, calls and a reason", s.Sid)
		}
		for _, a := range s.Actions() {
			if svc, name, ok := strings.Cut(a, ":"); !ok || svc == "" || name == "" || strings.ContainsAny(a, "*? ") {
				t.Errorf("statement %s: action %q is not service:Action (no wildcards)", s.Sid, a)
			}
		}
	}
	// The dropped grants stay dropped: nothing calls them.
	for _, gone := range []string{"cloudtrail:AddTags", "cloudtrail:DescribeTrails", "cloudtrail:GetEventDataStore"} {
		for _, s := range grants.Table {
			if slices.Contains(s.Actions(), gone) {
				t.Errorf("statement %s grants %s, which the responder never calls", s.Sid, gone)
			}
		}
	}
}

// TestPutRolePolicyIsBounded pins the bound on the one write that could
// otherwise make any role an administrator.
func TestPutRolePolicyIsBounded(t *testing.T) {
	var denied []grants.Resource
	for _, s := range grants.Table {
		if s.Deny && slices.Contains(s.Actions(), "iam:PutRolePolicy") {
			denied = append(denied, s.Resources...)
		}
	}
	if !slices.Contains(denied, grants.SelfRole) || !slices.Contains(denied, grants.PrivilegedRoles) {
		t.Errorf("iam:PutRolePolicy is denied on %v, want the self role and the privileged roles", denied)
	}
}

func TestAllowedRoleARNs(t *testing.T) {
	for _, c := range []struct {
		entry string
		want  []string
	}{
		{"arn:aws:iam::123456789012:role/deployer", []string{"arn:aws:iam::123456789012:role/deployer"}},
		{"arn:aws:iam::123456789012:role/ci/*", []string{"arn:aws:iam::123456789012:role/ci/*"}},
		{"arn:aws:sts::123456789012:assumed-role/deployer/*", []string{
			"arn:aws:iam::123456789012:role/deployer", "arn:aws:iam::123456789012:role/*/deployer"}},
		{"arn:aws:sts::123456789012:assumed-role/deployer/session-1", []string{
			"arn:aws:iam::123456789012:role/deployer", "arn:aws:iam::123456789012:role/*/deployer"}},
		{"arn:aws:iam::123456789012:user/alice", nil},
		{"arn:aws:iam::123456789012:root", nil},
		{"*", nil},
		{"not an arn", nil},
	} {
		if got := grants.AllowedRoleARNs(c.entry); !slices.Equal(got, c.want) {
			t.Errorf("AllowedRoleARNs(%q) = %v, want %v", c.entry, got, c.want)
		}
	}
}

var update = flag.Bool("update", false, "rewrite infra/README.md's permissions table from the grants table")

// TestDocsAreGenerated keeps infra/README.md's permissions table the table's.
func TestDocsAreGenerated(t *testing.T) {
	const path = "../../infra/README.md"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?s)<!-- grants:begin -->\n.*?<!-- grants:end -->`)
	block := "<!-- grants:begin -->\n" + grants.Markdown() + "<!-- grants:end -->"
	if !re.Match(b) {
		t.Fatalf("%s has no grants block", path)
	}
	got := re.ReplaceAllLiteral(b, []byte(block))
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if string(got) != string(b) {
		t.Error("infra/README.md's permissions table is out of date: run go test ./internal/grants -update")
	}
}

// The gap-forensics grants name the prefixes the forensics package writes.
func TestGapPrefixes(t *testing.T) {
	if forensics.PendingPrefix != "trailguard/pending/" || forensics.ReportPrefix != "trailguard/gap-reports/" {
		t.Errorf("forensics writes under %s and %s: change grants.GapWindows/GapReports (infra/trailguardcdk/iam.go) and ListBlindWindows to match",
			forensics.PendingPrefix, forensics.ReportPrefix)
	}
}
