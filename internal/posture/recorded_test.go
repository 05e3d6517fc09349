package posture_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailguard/trailguard/internal/posture"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

func checkFake(t *testing.T, w *fakeAccountWorld, opts posture.Options) *posture.Report {
	t.Helper()
	if opts.FailOn == 0 {
		opts.FailOn = posture.High
	}
	rep, err := posture.Check(t.Context(), w.clients(), opts)
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	return rep
}

func TestRecordedResponses(t *testing.T) {
	w := newFakeAccountWorld()
	rep := checkFake(t, w, posture.Options{DefaultRegion: "us-east-1"})

	if rep.Account != "111122223333" || rep.RegionSource != "account:ListRegions" {
		t.Errorf("account %q, region source %q", rep.Account, rep.RegionSource)
	}
	got := index(rep)
	want := []wantFinding{
		// EC2 denied but account:ListRegions worked: no account.regions finding.
		{"account.multi-region-trail account", posture.Pass, "org-main"},
		// The opt-in region rejects the credentials: errors, not fatal.
		{"region.covered ap-east-1", posture.Error, "region not enabled or credentials rejected: CloudTrail DescribeTrails: UnrecognizedClientException"},
		{"region.responder-rule ap-east-1", posture.Error, "EventBridge ListRules"},
		// eu-west-1 is covered by org-main's shadow, not by its data-only home trail.
		{"region.covered eu-west-1", posture.Pass, "covered by org-main"},
		{"trail.management-events eu-app", posture.Fail, "no management events (advanced selectors)"},
		{"trail.management-events org-main", posture.Pass, "all management events (advanced selectors)"},
		{"trail.delivery org-main", posture.Fail, "LatestDeliveryError: AccessDenied"},
		{"trail.cloudwatch-delivery org-main", posture.Fail, "ResourceNotFoundException"},
		{"trail.digest-delivery org-main", posture.Pass, ""},
		{"trail.global-events eu-app", posture.Fail, ""},
		// Rules matched on content: disabled in eu-west-1, outdated in us-east-1.
		{"region.responder-rule guard", posture.Fail, "rule guard is DISABLED"},
		{"region.responder-rule tg-cloudtrail-v1", posture.Fail, "misses DeleteEventDataStore, StopEventDataStoreIngestion"},
		{"bucket.policy org-main-logs", posture.Fail, "no aws:SourceArn or aws:SourceAccount condition"},
		{"bucket.policy eu-app-logs", posture.Pass, ""},
		{"bucket.versioning org-main-logs", posture.Fail, "Suspended"},
		// The noncurrent-version rule covers AWSLogs/; the 1-day tmp/ rule does not.
		{"bucket.lifecycle org-main-logs", posture.Fail, "rule tidy-noncurrent deletes overwritten or deleted logs after 30 day(s)"},
		{"bucket.lifecycle eu-app-logs", posture.Pass, "no lifecycle configuration"},
		{"bucket.public-access-block eu-app-logs", posture.Error, "access denied: S3 GetPublicAccessBlock: AccessDenied"},
		{"bucket.access-logging org-main-logs", posture.Fail, ""},
	}
	checkFindings(t, got, want)
	if strings.Contains(got["trail.management-events org-main"].Detail, "tmp-only") {
		t.Error("a lifecycle rule for another prefix was counted")
	}
	// org-main is judged once, in its home region, though eu-west-1 lists it too.
	n := 0
	for _, f := range rep.Findings {
		if f.ID == "trail.logging" && f.Resource == "org-main" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("org-main judged %d times, want once", n)
	}
}

func TestRegionListingDeniedFallsBackToConfiguredRegion(t *testing.T) {
	w := newFakeAccountWorld()
	c := w.clients()
	c.Account = nil // only EC2, and it is denied
	rep, err := posture.Check(t.Context(), c, posture.Options{DefaultRegion: "eu-west-1", FailOn: posture.High})
	if err != nil {
		t.Fatal(err)
	}
	if rep.RegionSource != "configured" || strings.Join(rep.Regions, ",") != "eu-west-1" {
		t.Fatalf("regions %v from %q, want [eu-west-1] from configured", rep.Regions, rep.RegionSource)
	}
	f := index(rep)["account.regions account"]
	if f.Status != posture.Error || !strings.Contains(f.Detail, "access denied: EC2 DescribeRegions: UnauthorizedOperation") {
		t.Errorf("account.regions: %s %q", f.Status, f.Detail)
	}
	// org-main's home region was not in the list: it is read there anyway,
	// so eu-west-1's coverage is judged.
	if f := index(rep)["region.covered eu-west-1"]; f.Status != posture.Pass {
		t.Errorf("region.covered eu-west-1: %s %q", f.Status, f.Detail)
	}
}

func TestNoRegionAtAllIsASetupError(t *testing.T) {
	w := newFakeAccountWorld()
	c := w.clients()
	c.Account = nil
	if _, err := posture.Check(t.Context(), c, posture.Options{}); err == nil {
		t.Fatal("check without any region succeeded")
	}
}

func TestConcurrencyIsBoundedAndBucketsReadOnce(t *testing.T) {
	w := newFakeAccountWorld()
	var regions []string
	for i := range 12 {
		regions = append(regions, fmt.Sprintf("xx-test-%d", i))
	}
	regions = append(regions, "us-east-1", "eu-west-1")
	var last [2]int
	calls := 0
	c := w.clients()
	c.Account = fakeAccount{regions: regions} // the account has them all
	rep, err := posture.Check(t.Context(), c, posture.Options{Regions: regions, Concurrency: 3, FailOn: posture.High, Progress: func(done, total int) {
		calls++
		last = [2]int{done, total}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if p := w.peak.Load(); p > 3 {
		t.Errorf("%d regions read at once, want at most 3", p)
	}
	if last[0] != last[1] || last[1] != len(regions)+2 || calls != last[1] {
		t.Errorf("progress ended at %d/%d after %d calls, want %d/%d", last[0], last[1], calls, len(regions)+2, len(regions)+2)
	}
	for k, n := range w.s3.calls {
		if n != 1 {
			t.Errorf("%s called %d times", k, n)
		}
	}
	if len(rep.Regions) != len(regions) {
		t.Errorf("checked %d regions, want %d", len(rep.Regions), len(regions))
	}
}

func TestFailOnThreshold(t *testing.T) {
	for _, tc := range []struct {
		name    string
		failOn  posture.Severity
		readPAB bool
		failing bool
	}{
		// The only critical finding is eu-app-logs' public access block,
		// which could not be read: an error counts like a failure.
		{"critical, unreadable", posture.Critical, false, true},
		{"critical, readable", posture.Critical, true, false},
		{"high", posture.High, true, true},
		{"info", posture.Info, true, true},
	} {
		w := newFakeAccountWorld()
		if tc.readPAB {
			b := w.s3.buckets["eu-app-logs"]
			b.pabErr = nil
			b.pab = w.s3.buckets["org-main-logs"].pab
		}
		rep := checkFake(t, w, posture.Options{FailOn: tc.failOn})
		if rep.Failing() != tc.failing {
			t.Errorf("%s: failing %v, want %v (counts %+v)", tc.name, rep.Failing(), tc.failing, rep.Counts)
		}
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run go test -update): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output; run go test ./internal/posture -update and review the diff\n--- got ---\n%s", path, got)
	}
}

func TestGolden(t *testing.T) {
	rep := checkFake(t, newFakeAccountWorld(), posture.Options{})
	var table, color, js bytes.Buffer
	if err := posture.WriteTable(&table, rep, posture.TableOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := posture.WriteTable(&color, rep, posture.TableOptions{Color: true}); err != nil {
		t.Fatal(err)
	}
	if err := posture.WriteJSON(&js, rep); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(table.Bytes(), []byte("\x1b[")) {
		t.Error("plain table contains ANSI escapes")
	}
	golden(t, "report.table.golden", table.Bytes())
	golden(t, "report.color.golden", color.Bytes())
	golden(t, "report.json.golden", js.Bytes())
	var failed bytes.Buffer
	if err := posture.WriteTable(&failed, rep.FailedOnly(), posture.TableOptions{}); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.failed.golden", failed.Bytes())
	if bytes.Contains(failed.Bytes(), []byte("PASS")) {
		t.Error("failures-only table shows passed findings")
	}

	// The JSON decodes back to the same report (the schema is the struct).
	var back posture.Report
	if err := jsonUnmarshal(js.Bytes(), &back); err != nil {
		t.Fatalf("decode report: %v", err)
	}
	if back.Counts != rep.Counts || len(back.Findings) != len(rep.Findings) || back.FailOn != rep.FailOn {
		t.Errorf("round trip changed the report: %+v vs %+v", back.Counts, rep.Counts)
	}
}
