package trailguardcdk

import (
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

var validRuleName = regexp.MustCompile(`^[.\-_A-Za-z0-9]{1,64}$`)

func TestRuleNamesValidAndDistinct(t *testing.T) {
	n := ruleNamer{suffix: shortHash("x")}
	long := strings.Repeat("organizations", 6)
	seen := map[string]string{}
	for _, id := range []string{"cloudtrail", "s3", "reconcile", "odd/id with spaces", long, long + "2"} {
		name := n.name(id)
		if !validRuleName.MatchString(name) {
			t.Errorf("%q → %q: not a valid EventBridge rule name", id, name)
		}
		if !strings.HasSuffix(name, "-"+n.suffix) {
			t.Errorf("%q → %q: the stack's hash was cut", id, name)
		}
		if prev, dup := seen[name]; dup {
			t.Errorf("%q and %q are both named %q", prev, id, name)
		}
		seen[name] = id
	}
	if got := n.name("cloudtrail"); got != "trailguard-cloudtrail-"+n.suffix {
		t.Errorf("short id renamed: %q", got)
	}
}

// Two protections in one account and region (other stack, or other path)
// must not share rule names; the same one must keep them across synths.
func TestRuleNamesPerStackAndPath(t *testing.T) {
	app := awscdk.NewApp(nil)
	a := awscdk.NewStack(app, jsii.String("A"), nil)
	b := awscdk.NewStack(app, jsii.String("B"), nil)
	// Same construct path, deployed under another stack name.
	renamed := awscdk.NewStack(awscdk.NewApp(nil), jsii.String("A"), &awscdk.StackProps{StackName: jsii.String("A-staging")})
	suffix := func(s awscdk.Stack, id string) string {
		return newRuleNamer(constructs.NewConstruct(s, jsii.String(id))).suffix
	}
	first := suffix(a, "P")
	again := suffix(awscdk.NewStack(awscdk.NewApp(nil), jsii.String("A"), nil), "P")
	others := []string{suffix(a, "Q"), suffix(b, "P"), suffix(renamed, "P")}
	if first != again {
		t.Errorf("suffix not stable: %s, then %s", first, again)
	}
	for _, o := range others {
		if o == first {
			t.Errorf("two protections share the suffix %s", o)
		}
	}
}
