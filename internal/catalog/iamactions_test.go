package catalog

import (
	"regexp"
	"strings"
	"testing"
)

// iamAction is "prefix:Action": a service prefix and a PascalCase action
// without the API versions Lambda appends to its event names.
var iamAction = regexp.MustCompile(`^([a-z0-9-]+):([A-Z][A-Za-z]+)$`)

// Every entry has an IAM action (or a written reason a guardrail cannot deny
// it), of the entry's own service, and the map holds no row for an event the
// catalog lacks.
func TestEveryEntryHasAnIAMAction(t *testing.T) {
	for _, e := range All() {
		p, ok := IAMPermission(e)
		if !ok {
			t.Errorf("%s %s: no IAM action in iamactions.go", e.Source, e.Name)
			continue
		}
		if len(p.Actions) == 0 && p.NoDeny == "" {
			t.Errorf("%s %s: neither an IAM action nor a reason why not", e.Source, e.Name)
		}
		prefix := strings.TrimSuffix(e.Source, ".amazonaws.com")
		if prefix == "monitoring" { // CloudWatch logs its calls under monitoring.amazonaws.com
			prefix = "cloudwatch"
		}
		for _, a := range p.Actions {
			m := iamAction.FindStringSubmatch(a)
			if m == nil {
				t.Errorf("%s %s: %q is not an IAM action name", e.Source, e.Name, a)
				continue
			}
			if m[1] != prefix {
				t.Errorf("%s %s: action %q is not of service %q", e.Source, e.Name, a, prefix)
			}
		}
	}
	for k := range iamActions {
		if _, ok := Lookup(k.source, k.name); !ok {
			// Lambda rows are keyed by Name; Lookup needs a logged name.
			found := false
			for _, e := range All() {
				found = found || (e.Source == k.source && e.Name == k.name)
			}
			if !found {
				t.Errorf("iamactions.go maps %s %s, which the catalog lacks", k.source, k.name)
			}
		}
	}
}

// The names that differ from their events are the ones the map exists for.
func TestIAMActionsThatDifferFromTheEvent(t *testing.T) {
	for _, c := range []struct{ source, event, want string }{
		{s3, "PutBucketLifecycle", "s3:PutLifecycleConfiguration"},
		{lambda, "UpdateFunctionCode20150331v2", "lambda:UpdateFunctionCode"},
		{lambda, "PutFunctionConcurrency20171031", "lambda:PutFunctionConcurrency"},
		{lambda, "DeleteFunction20150331", "lambda:DeleteFunction"},
	} {
		e, ok := Lookup(c.source, c.event)
		if !ok {
			t.Fatalf("%s %s not in the catalog", c.source, c.event)
		}
		p, _ := IAMPermission(e)
		if len(p.Actions) != 1 || p.Actions[0] != c.want {
			t.Errorf("%s: actions %v, want [%s]", c.event, p.Actions, c.want)
		}
	}
}

// Every restoring response names the IAM actions it calls, and Alert none.
func TestEveryRestoreHasIAMActions(t *testing.T) {
	for _, e := range All() {
		got := RestoreActions(e.Response)
		if e.Response == Alert {
			if len(got) != 0 {
				t.Errorf("%s: Alert restores with %v", e.Name, got)
			}
			continue
		}
		if len(got) == 0 {
			t.Errorf("%s: response %s has no IAM actions", e.Name, e.Response)
		}
		for _, a := range got {
			if !iamAction.MatchString(a) {
				t.Errorf("%s: %q is not an IAM action name", e.Response, a)
			}
		}
	}
}
