package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/trailguard/trailguard/internal/config"
	goldenfile "github.com/trailguard/trailguard/internal/golden"
	"github.com/trailguard/trailguard/internal/respond"
	"github.com/trailguard/trailguard/internal/samples"
)

var update = flag.Bool("update", false, "rewrite testdata/respond*.golden from the current output")

// sample is the path of a sample event, as a user would pass it.
func sample(name string) string { return "../samples/testdata/" + name + ".json" }

// fixClock makes plans deterministic (role-session cut-offs).
func fixClock(t *testing.T) {
	t.Helper()
	orig := respondNow
	respondNow = func() time.Time { return time.Date(2025, 3, 14, 10, 30, 0, 0, time.UTC) }
	t.Cleanup(func() { respondNow = orig })
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, name, got, *update)
}

// respondDocs decodes the stream of JSON documents of --output json.
func respondDocs(t *testing.T, b []byte) []respondDoc {
	t.Helper()
	var docs []respondDoc
	dec := json.NewDecoder(bytes.NewReader(b))
	for dec.More() {
		var d respondDoc
		if err := dec.Decode(&d); err != nil {
			t.Fatalf("not a stream of JSON documents: %v\n%s", err, b)
		}
		docs = append(docs, d)
	}
	return docs
}

// The dry-run's text and JSON over the scenarios people replay most.
func TestRespondDryRunGolden(t *testing.T) {
	fixClock(t)
	args := []string{"respond", "--trails", "testdata/respond-trails.json",
		"--event", sample("stoplogging-iamuser"), "--event", sample("stoplogging-failed"),
		"--event", sample("deletetrail-iamuser"), "--event", sample("updatetrail-degrade"),
		"--event", sample("stoplogging-assumedrole")}
	for _, output := range []string{"text", "json"} {
		t.Run(output, func(t *testing.T) {
			e, out, errb := testEnv(false, nil)
			code := run(t.Context(), append(args, "--output", output), e)
			if code != ExitOK {
				t.Fatalf("exit %d; stderr: %s", code, errb)
			}
			// No topic and no self role: the note says what dry-run cannot know.
			if !strings.Contains(errb.String(), "--self-role-arn") {
				t.Errorf("stderr does not explain the unknown self role: %q", errb)
			}
			if output == "json" {
				if docs := respondDocs(t, out.Bytes()); len(docs) != 5 {
					t.Errorf("%d documents, want 5", len(docs))
				}
			}
			golden(t, "respond."+output+".golden", out.Bytes())
		})
	}
}

// The baseline comes from the environment, as in the Lambda, and a flag
// overrides it; the plan follows the settings, not the flags' names.
func TestRespondSettingsFromEnvironmentAndFlags(t *testing.T) {
	fixClock(t)
	baseline, err := os.ReadFile("testdata/respond-trails.json")
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{
		config.EnvTrails:   string(baseline),
		config.EnvAllow:    "arn:aws:iam::123456789012:user/mallory",
		config.EnvTopicARN: "arn:aws:sns:us-east-1:123456789012:alerts",
	}
	kinds := func(args ...string) ([]string, []respond.Exemption) {
		t.Helper()
		e, out, errb := testEnv(false, vars)
		if code := run(t.Context(), append([]string{"respond", "-o", "json"}, args...), e); code != ExitOK {
			t.Fatalf("%v: exit %d; stderr: %s", args, code, errb)
		}
		docs := respondDocs(t, out.Bytes())
		var ks []string
		for _, a := range docs[0].Actions {
			ks = append(ks, string(a.Kind)+" "+a.Target)
		}
		return ks, docs[0].Classification.Exemptions
	}

	got, ex := kinds("--event", sample("deletetrail-iamuser"))
	want := "create-trail management-trail,put-event-selectors management-trail,start-logging management-trail,notify arn:aws:sns:us-east-1:123456789012:alerts"
	if strings.Join(got, ",") != want {
		t.Errorf("with the environment's baseline and allow list:\n got %v\nwant %s", got, want)
	}
	if len(ex) != 1 || ex[0] != respond.ExemptAllowed {
		t.Errorf("exemptions %v, want the allow list", ex)
	}

	got, ex = kinds("--event", sample("deletetrail-iamuser"), "--trails", "/dev/null", "--allow", "arn:aws:iam::123456789012:user/alice",
		"--quarantine-policy-arn", "arn:aws:iam::123456789012:policy/quarantine")
	if len(got) != 4 || !strings.HasPrefix(got[0], "manual ") || !strings.HasPrefix(got[1], "attach-user-policy mallory") {
		t.Errorf("flags do not override the environment: %v", got)
	}
	if len(ex) != 0 {
		t.Errorf("exemptions %v, want none", ex)
	}
}

// Regression: one bad line of a JSON-lines file must cost one event, not
// the file, and must be named by file and line.
func TestRespondJSONLinesWithMalformedLine(t *testing.T) {
	fixClock(t)
	var lines bytes.Buffer
	for _, name := range []string{"stoplogging-iamuser", "", "updatetrail-degrade"} {
		if name == "" {
			lines.WriteString(`{"detail-type": "AWS API Call via CloudTrail", "detail": {"eventName": ` + "\n")
			continue
		}
		raw, err := samples.Event(name)
		if err != nil {
			t.Fatal(err)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, raw); err != nil {
			t.Fatal(err)
		}
		lines.Write(compact.Bytes())
		lines.WriteString("\n")
	}
	path := filepath.Join(t.TempDir(), "incident.jsonl")
	if err := os.WriteFile(path, lines.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	e, out, errb := testEnv(false, nil)
	code := run(t.Context(), []string{"respond", "--event", path, "--output", "json"}, e)
	if code != ExitFindings {
		t.Errorf("exit %d, want %d", code, ExitFindings)
	}
	if !strings.Contains(errb.String(), path+":2: malformed event") {
		t.Errorf("stderr does not name the file and line:\n%s", errb)
	}
	docs := respondDocs(t, out.Bytes())
	if len(docs) != 3 {
		t.Fatalf("%d documents, want 3", len(docs))
	}
	for i, want := range []string{"StopLogging", "", "UpdateTrail"} {
		d := docs[i]
		if d.Input != fmt.Sprintf("%s:%d", path, i+1) {
			t.Errorf("doc %d: input %q", i, d.Input)
		}
		switch {
		case want == "" && (d.Error == "" || d.Event != nil):
			t.Errorf("doc %d: want an error document, got %+v", i, d)
		case want != "" && (d.Event == nil || d.Event.Name != want || len(d.Actions) == 0):
			t.Errorf("doc %d: want %s with a plan, got %+v", i, want, d)
		}
	}

	// Nothing readable at all is a setup error.
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte("not json\n{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e, _, errb = testEnv(false, nil)
	if code := run(t.Context(), []string{"respond", "--event", bad}, e); code != ExitUsage || !strings.Contains(errb.String(), "no event could be read") {
		t.Errorf("nothing readable: exit %d, stderr %s", code, errb)
	}
}

func TestRespondStdin(t *testing.T) {
	raw, err := samples.Event("stoplogging-failed")
	if err != nil {
		t.Fatal(err)
	}
	e, out, errb := testEnv(false, nil)
	root := newRoot(e)
	root.SetIn(bytes.NewReader(raw))
	root.SetArgs([]string{"respond", "--event", "-"})
	if err := root.ExecuteContext(t.Context()); err != nil {
		t.Fatalf("%v; stderr %s", err, errb)
	}
	if !strings.Contains(out.String(), "=== stdin:1\n") || !strings.Contains(out.String(), "FAILED with AccessDenied") {
		t.Errorf("stdout:\n%s", out)
	}
}

func TestRespondUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		vars map[string]string
		code int
		out  string
	}{
		{[]string{"respond", "--help"}, nil, ExitOK, "Exit codes: 0"},
		{[]string{"respond", "--help"}, nil, ExitOK, "--enforce"},
		{[]string{"respond"}, nil, ExitUsage, "--event is required"},
		{[]string{"respond", "--event", sample("stoplogging-iamuser"), "-o", "yaml"}, nil, ExitUsage, "want text or json"},
		{[]string{"respond", "--event", "-", "--event", "-"}, nil, ExitUsage, "stdin can be read only once"},
		{[]string{"respond", "--event", "/nonexistent/events.json"}, nil, ExitUsage, "no such file"},
		{[]string{"respond", "--event", sample("stoplogging-iamuser"), "--trails", "/nonexistent"}, nil, ExitUsage, "--trails"},
		{[]string{"respond", "--event", sample("stoplogging-iamuser"), "--allow", "*"}, nil, ExitUsage, "would exempt every principal"},
		{[]string{"respond", "--event", sample("stoplogging-iamuser")}, map[string]string{config.EnvSelfRoleARN: "mallory"}, ExitUsage, "TRAILGUARD_SELF_ROLE_ARN"},
		// Enforcing needs somewhere to send the alert; checked before any AWS call.
		{[]string{"respond", "--event", sample("stoplogging-iamuser"), "--enforce"}, nil, ExitUsage, "TRAILGUARD_TOPIC_ARN is required"},
	} {
		e, out, errb := testEnv(false, tc.vars)
		code := run(t.Context(), tc.args, e)
		if all := out.String() + errb.String(); code != tc.code || !strings.Contains(all, tc.out) {
			t.Errorf("%v: exit %d, want %d with %q in:\n%s", tc.args, code, tc.code, tc.out, all)
		}
	}
}

// --enforce through AWS_ENDPOINT_URL: the trail logs again, the user is
// quarantined, the key deactivated and the alert published.
func TestRespondEnforceAgainstEmulator(t *testing.T) {
	srv := useEmulator(t)
	ctx := t.Context()
	trailARN, err := srv.CreateLoggingTrail(ctx, "cli-respond-trail", "cli-respond-logs")
	if err != nil {
		t.Fatal(err)
	}
	_, key, err := srv.CreateUserWithKey(ctx, "cli-respond-mallory")
	if err != nil {
		t.Fatal(err)
	}
	policy, err := srv.CreateDenyAllPolicy(ctx, "cli-respond-deny-all")
	if err != nil {
		t.Fatal(err)
	}
	topic, queue, err := srv.CreateTopicWithQueue(ctx, "cli-respond-alerts", false)
	if err != nil {
		t.Fatal(err)
	}
	cfg := srv.Config(ctx)
	ct := cloudtrail.NewFromConfig(cfg)
	if _, err := ct.StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String(trailARN)}); err != nil {
		t.Fatal(err)
	}

	raw, err := samples.Event("stoplogging-iamuser")
	if err != nil {
		t.Fatal(err)
	}
	ev := strings.NewReplacer(
		"arn:aws:cloudtrail:us-east-1:123456789012:trail/management-trail", trailARN,
		"user/mallory", "user/cli-respond-mallory",
		`"userName": "mallory"`, `"userName": "cli-respond-mallory"`,
		"AKIAIOSFODNN7EXAMPLE", key,
	).Replace(string(raw))
	path := filepath.Join(t.TempDir(), "stoplogging.json")
	if err := os.WriteFile(path, []byte(ev), 0o644); err != nil {
		t.Fatal(err)
	}

	e, out, errb := testEnv(false, map[string]string{config.EnvTopicARN: topic})
	code := run(ctx, []string{"respond", "--enforce", "--event", path, "--quarantine-policy-arn", policy, "-o", "json"}, e)
	if code != ExitOK {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errb)
	}
	if !strings.Contains(errb.String(), "ENFORCING") || !strings.Contains(errb.String(), srv.URL) {
		t.Errorf("no banner naming the endpoint on stderr: %q", errb)
	}
	docs := respondDocs(t, out.Bytes())
	if len(docs) != 1 || docs[0].Mode != config.Enforce {
		t.Fatalf("documents: %+v", docs)
	}
	for _, a := range docs[0].Actions {
		if a.Status != respond.StatusDone {
			t.Errorf("%s: %s %s", a.Action, a.Status, a.Error)
		}
	}

	st, err := ct.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("cli-respond-trail")})
	if err != nil || !aws.ToBool(st.IsLogging) {
		t.Errorf("the trail does not log again: %v", err)
	}
	pols, err := iam.NewFromConfig(cfg).ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String("cli-respond-mallory")})
	if err != nil || len(pols.AttachedPolicies) != 1 || aws.ToString(pols.AttachedPolicies[0].PolicyArn) != policy {
		t.Errorf("the user is not quarantined: %v %+v", err, pols)
	}
	msgs, err := srv.ReceiveMessages(ctx, queue, 1, 5*time.Second)
	if err != nil || len(msgs) != 1 || !strings.Contains(msgs[0], "cli-respond-mallory") {
		t.Errorf("alert: %v %q", err, msgs)
	}
}

// A dry-run needs no AWS configuration at all: it prints the classification
// and the plan of each event.
func Example_respond() {
	e := &env{stdout: os.Stdout, stderr: io.Discard, getenv: func(string) string { return "" }}
	run(context.Background(), []string{"respond", "--event", "../samples/testdata/stoplogging-failed.json",
		"--self-role-arn", "arn:aws:iam::123456789012:role/trailguard-responder"}, e)
	// Output:
	// === ../samples/testdata/stoplogging-failed.json:1
	// event       StopLogging (cloudtrail.amazonaws.com), FAILED with AccessDenied
	//             2025-03-14 10:20:44 UTC in us-east-1, account 123456789012, id 94190134-ec33-4533-b49f-58413342ab3e
	// catalog     the trail stops delivering events
	// actor       mallory (IAMUser) arn:aws:iam::123456789012:user/mallory
	//             access key AKIAIOSFODNN7EXAMPLE, MFA no, containment quarantine-user
	// target      trail arn:aws:cloudtrail:us-east-1:123456789012:trail/management-trail (us-east-1, no baseline)
	// severity    medium
	// tamper      yes
	// exemptions  the call failed: nothing changed
	// changes     none
	// plan        dry-run: nothing executed, no alert sent
	//   1. [dry-run] notify: notify (no topic)
	//      why: tell the account's owners what happened and what was done
	//
	// summary: 1 event(s) read from 1 input(s): 1 planned (dry-run), 0 with nothing to do, 0 skipped (not in the catalog), 0 unreadable
}

// The shapes of a real incident's evidence: a directory holding a
// CloudTrail log file (records named by index, an event outside the catalog
// skipped and counted, a bucket call that is not protected without a
// baseline) and JSON lines with a truncated line; then the same through a
// glob with the sample baseline, as JSON.
func TestRespondLogsGolden(t *testing.T) {
	fixClock(t)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"respond-logs.text.golden", []string{"respond", "testdata/respond-logs"}},
		{"respond-logs.json.golden", []string{"respond", "--trails", "../../examples/trails.json", "-o", "json", "testdata/respond-logs/*"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, out, errb := testEnv(false, nil)
			code := run(t.Context(), tc.args, e)
			if code != ExitFindings {
				t.Errorf("exit %d, want %d (a line could not be read)", code, ExitFindings)
			}
			golden(t, tc.name, []byte(fmt.Sprintf("$ trailguard %s\n# exit %d\n# stderr:\n%s# stdout:\n%s",
				strings.Join(tc.args, " "), code, errb, out)))
		})
	}
}

// The sample baseline in examples/ is valid for the settings contract.
func TestExampleBaselineLoads(t *testing.T) {
	b, err := os.ReadFile("../../examples/trails.json")
	if err != nil {
		t.Fatal(err)
	}
	s, err := config.Load(func(k string) string {
		return map[string]string{config.EnvTopicARN: "arn:aws:sns:us-east-1:123456789012:alerts", config.EnvTrails: string(b)}[k]
	})
	if err != nil || len(s.Trails) == 0 {
		t.Fatalf("examples/trails.json: %v (%d trails)", err, len(s.Trails))
	}
}

// Positional files, globs and directories; a glob or directory without
// event files is a usage error.
func TestRespondInputArguments(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"respond", sample("stoplogging-iamuser"), sample("stoplogging-failed")}, ExitOK, "2 event(s) read from 2 input(s)"},
		{[]string{"respond", "../samples/testdata/stoplogging-i*.json"}, ExitOK, "event(s) read from 2 input(s)"},
		{[]string{"respond", dir}, ExitUsage, "no event files"},
		{[]string{"respond", filepath.Join(dir, "*.json")}, ExitUsage, "no file matches"},
	} {
		e, out, errb := testEnv(false, nil)
		code := run(t.Context(), tc.args, e)
		if all := out.String() + errb.String(); code != tc.code || !strings.Contains(all, tc.want) {
			t.Errorf("%v: exit %d, want %d with %q in:\n%s", tc.args, code, tc.code, tc.want, all)
		}
	}
}

// A failed action is printed once (in the event's output), and counted in
// the summary; the exit code says the response failed.
func TestRespondEnforceFailurePrintedOnce(t *testing.T) {
	srv := useEmulator(t)
	ctx := t.Context()
	topic, _, err := srv.CreateTopicWithQueue(ctx, "cli-respond-fail-alerts", false)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := samples.Event("stoplogging-iamuser")
	if err != nil {
		t.Fatal(err)
	}
	// The trail does not exist: StartLogging fails, the rest goes on.
	ev := strings.ReplaceAll(string(raw), "trail/management-trail", "trail/cli-no-such-trail")
	path := filepath.Join(t.TempDir(), "stoplogging.json")
	if err := os.WriteFile(path, []byte(ev), 0o644); err != nil {
		t.Fatal(err)
	}
	e, out, errb := testEnv(false, map[string]string{config.EnvTopicARN: topic})
	code := run(ctx, []string{"respond", "--enforce", path}, e)
	if code != ExitFindings {
		t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, ExitFindings, out, errb)
	}
	all := out.String() + errb.String()
	if n := strings.Count(all, "cli-no-such-trail (us-east-1)"); n != 1 {
		t.Errorf("the failed start-logging is printed %d times, want once:\n%s", n, all)
	}
	if !strings.Contains(out.String(), "[FAILED] restore: start-logging") || !strings.Contains(out.String(), "0 responded, 1 failed") {
		t.Errorf("stdout does not show the failure and its count:\n%s", out)
	}
}
