package trailguardcdk_test

import (
	"debug/elf"
	"path/filepath"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/trailguard/trailguard/infra/trailguardcdk"
)

// TestBuildResponder builds the real bootstrap: a static linux/arm64 ELF.
func TestBuildResponder(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles the responder")
	}
	dir, err := trailguardcdk.BuildResponder(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.Open(filepath.Join(dir, "bootstrap"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Machine != elf.EM_AARCH64 {
		t.Errorf("bootstrap built for %v, want arm64", f.Machine)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("bootstrap is dynamically linked (CGO_ENABLED must be 0)")
		}
	}
}

// TestNagFindingsAreSeen guards the nag tests against passing vacuously: a
// queue without TLS enforcement or a dead-letter queue must be reported.
func TestNagFindingsAreSeen(t *testing.T) {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Bad"), nil)
	awssqs.NewQueue(stack, jsii.String("Plain"), nil)
	awscdk.Aspects_Of(stack).Add(cdknag.NewAwsSolutionsChecks(nil), nil)
	found := assertions.Annotations_FromStack(stack).FindError(jsii.String("*"),
		assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*")))
	if found == nil || len(*found) == 0 {
		t.Fatal("cdk-nag reported nothing for an unhardened queue")
	}
}

// TestInvalidPropsPanic: bad settings fail at synth, not at deploy.
func TestInvalidPropsPanic(t *testing.T) {
	for name, props := range map[string]*trailguardcdk.ProtectionProps{
		"mode":          {Mode: jsii.String("audit")},
		"slack half":    {SlackWorkspaceID: jsii.String("T1")},
		"no bucket":     {ExistingTrail: &trailguardcdk.ExistingTrail{Name: jsii.String("t")}},
		"not trail arn": {ExistingTrail: &trailguardcdk.ExistingTrail{Name: jsii.String("arn:aws:s3:::b"), BucketName: jsii.String("b")}},
		"key alias": {ExistingTrail: &trailguardcdk.ExistingTrail{Name: jsii.String("t"), BucketName: jsii.String("b"),
			KmsKeyArn: jsii.String("arn:aws:kms:eu-west-1:111111111111:alias/trail")}},
		"log group name": {ExistingTrail: &trailguardcdk.ExistingTrail{Name: jsii.String("t"), BucketName: jsii.String("b"),
			CloudWatchLogsLogGroupArn: jsii.String("trail-logs")}},
		"retention 0":   {MinRetentionDays: jsii.Number(0)},
		"retention 1.5": {MinRetentionDays: jsii.Number(1.5)},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			stack := awscdk.NewStack(awscdk.NewApp(nil), jsii.String("S"), nil)
			trailguardcdk.NewProtection(stack, jsii.String("P"), props)
		})
	}
}
