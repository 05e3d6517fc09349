package trail_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/trailguard/trailguard/internal/samples"
	"github.com/trailguard/trailguard/internal/trail"
)

// readAll reads every item of input.
func readAll(t testing.TB, input []byte) []trail.Item {
	t.Helper()
	rd, err := trail.NewReader(bytes.NewReader(input), "in")
	if err != nil {
		t.Fatal(err)
	}
	var items []trail.Item
	for {
		it, err := rd.Next()
		if err == io.EOF {
			return items
		}
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, it)
	}
}

func compact(t testing.TB, b []byte) string {
	t.Helper()
	var c bytes.Buffer
	if err := json.Compact(&c, b); err != nil {
		t.Fatal(err)
	}
	return c.String()
}

// sampleRecord returns a sample's envelope and its bare record.
func sampleRecord(t testing.TB, name string) (envelope, record []byte) {
	t.Helper()
	envelope, err := samples.Event(name)
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		Detail json.RawMessage `json:"detail"`
	}
	if err := json.Unmarshal(envelope, &env); err != nil {
		t.Fatal(err)
	}
	return envelope, env.Detail
}

func gzipped(t testing.TB, b []byte) []byte {
	t.Helper()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return gz.Bytes()
}

// Every shape people have after an incident, each event named where it is:
// by line on its own or in an array, by index in a log file.
func TestReaderShapes(t *testing.T) {
	envelope, record := sampleRecord(t, "stoplogging-iamuser")
	env, rec := compact(t, envelope), compact(t, record)
	logFile := "{\"Records\": [\n" + rec + ",\n" + rec + "]}"
	for _, tc := range []struct {
		name  string
		input []byte
		want  []string
	}{
		{"one pretty envelope", envelope, []string{"in:1"}},
		{"one bare record", record, []string{"in:1"}},
		{"json lines", []byte(env + "\n\n" + rec + "\n"), []string{"in:1", "in:3"}},
		{"pretty objects one after another", append(append([]byte{}, envelope...), envelope...), []string{"in:1", fmt.Sprintf("in:%d", 1+bytes.Count(envelope, []byte("\n")))}},
		{"array", []byte("[\n" + env + ",\n  " + rec + "\n]"), []string{"in:2", "in:3"}},
		{"cloudtrail log file", []byte(logFile), []string{"in#Records[0]", "in#Records[1]"}},
		{"one-line log file", []byte(`{"Records":[` + rec + "," + rec + "," + rec + `]}`), []string{"in#Records[0]", "in#Records[1]", "in#Records[2]"}},
		{"gzipped log file", gzipped(t, []byte(logFile)), []string{"in#Records[0]", "in#Records[1]"}},
		{"log file with more keys, then an event", []byte(`{"Records":[` + rec + `],"Other":{"a":[1,2]}}` + "\n" + env), []string{"in#Records[0]", "in:2"}},
		{"empty log file", []byte(`{"Records":[]}`), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, it := range readAll(t, tc.input) {
				if it.Err != nil {
					t.Errorf("%s: %v", it.Source, it.Err)
				}
				if it.Event.Record.EventName != "StopLogging" {
					t.Errorf("%s: event %q", it.Source, it.Event.Record.EventName)
				}
				got = append(got, it.Source)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("sources %v, want %v", got, tc.want)
			}
		})
	}
}

// The raw bytes of an event are the input's, exactly: the alert attaches them.
func TestReaderKeepsRawEvent(t *testing.T) {
	envelope, _ := sampleRecord(t, "stoplogging-iamuser")
	items := readAll(t, append([]byte("\n\n"), envelope...))
	if len(items) != 1 || items[0].Err != nil {
		t.Fatalf("items: %+v", items)
	}
	if !bytes.Equal(items[0].Event.Raw, bytes.TrimSpace(envelope)) {
		t.Errorf("raw event differs from the input:\n%s", items[0].Event.Raw)
	}
	if items[0].Source != "in:3" {
		t.Errorf("source %q, want in:3", items[0].Source)
	}
}

// A bad line costs one event; a bad record inside a log file ends the file,
// named by its index. Every error wraps ErrMalformed.
func TestReaderMalformed(t *testing.T) {
	envelope, record := sampleRecord(t, "stoplogging-iamuser")
	env, rec := compact(t, envelope), compact(t, record)
	for _, tc := range []struct {
		name  string
		input string
		want  []string // source, with "!" for an error
	}{
		{"truncated line in json lines", env + "\n" + `{"detail-type": "AWS API Call via CloudTrail", "detail": {"eventName": ` + "\n" + env + "\n", []string{"in:1", "!in:2", "in:3"}},
		{"not json", "not json\n" + env + "\n", []string{"!in:1", "in:2"}},
		{"empty object and a scalar", "{}\n42\n" + env, []string{"!in:1", "!in:2", "in:3"}},
		{"list in a list", "[[1]," + env + "]", []string{"!in:1", "in:1"}},
		{"bad record in a log file", `{"Records":[` + rec + `,{"eventName":}, ` + rec + `]}`, []string{"in#Records[0]", "!in#Records[1]"}},
		{"records not a list", `{"Records":{"a":1}}` + "\n" + env, []string{"!in:1", "in:2"}},
		{"record missing fields", `{"Records":[{"eventName":"StopLogging"}]}`, []string{"!in#Records[0]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, it := range readAll(t, []byte(tc.input)) {
				s := it.Source
				if it.Err != nil {
					s = "!" + s
					if !errors.Is(it.Err, trail.ErrMalformed) {
						t.Errorf("%s: %v does not wrap ErrMalformed", it.Source, it.Err)
					}
				}
				got = append(got, s)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("items %v, want %v", got, tc.want)
			}
		})
	}
}

// A gzip stream that is not one is an error of the input, not an event.
func TestReaderBrokenGzip(t *testing.T) {
	_, record := sampleRecord(t, "stoplogging-iamuser")
	gz := gzipped(t, []byte(`{"Records":[`+compact(t, record)+`]}`))
	gz[len(gz)/2] ^= 0xff
	rd, err := trail.NewReader(bytes.NewReader(gz), "in.json.gz")
	if err != nil {
		t.Fatal(err)
	}
	for {
		it, err := rd.Next()
		if err == io.EOF {
			t.Fatal("a corrupt gzip stream read to its end without an error")
		}
		if err != nil || it.Err != nil {
			return // reported, as the input's error or the record's
		}
	}
}

// logFile builds a CloudTrail log file of n records on one line, as
// CloudTrail writes them, alternating catalog and ordinary events.
func logFile(tb testing.TB, n int) []byte {
	tb.Helper()
	_, stop := sampleRecord(tb, "stoplogging-iamuser")
	other := strings.Replace(compact(tb, stop), `"StopLogging"`, `"GetObject"`, 1)
	recs := []string{compact(tb, stop), other}
	var b bytes.Buffer
	b.WriteString(`{"Records":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(recs[i%2])
	}
	b.WriteString("]}")
	return b.Bytes()
}

// Memory does not grow with the input: reading a log file ten times larger
// keeps about the same heap in use (the records are not accumulated).
func TestReaderStreamsLogFiles(t *testing.T) {
	peak := func(n int) (uint64, int) {
		path := filepath.Join(t.TempDir(), "log.json")
		if err := os.WriteFile(path, logFile(t, n), 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		rd, err := trail.NewReader(f, "in")
		if err != nil {
			t.Fatal(err)
		}
		var maxHeap uint64
		var count int
		var ms runtime.MemStats
		for {
			it, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil || it.Err != nil {
				t.Fatal(err, it.Err)
			}
			count++
			if count%500 == 0 {
				runtime.GC()
				runtime.ReadMemStats(&ms)
				maxHeap = max(maxHeap, ms.HeapAlloc)
			}
		}
		return maxHeap, count
	}
	small, n1 := peak(1000)
	large, n2 := peak(10000)
	if n1 != 1000 || n2 != 10000 {
		t.Fatalf("read %d and %d records", n1, n2)
	}
	// The file is read from disk; the heap must not grow tenfold with it.
	if large > 2*small+(1<<20) {
		t.Errorf("heap in use: %d KiB reading 1000 records, %d KiB reading 10000", small>>10, large>>10)
	}
}

// BenchmarkReadLogFile reads CloudTrail log files of about 5 MB and 50 MB,
// generated into a temporary directory: ns/op and B/op should grow about
// tenfold (linear), and the heap in use stays flat (peak-heap-MB).
func BenchmarkReadLogFile(b *testing.B) {
	one := len(logFile(b, 2)) / 2
	for _, mb := range []int{5, 50} {
		path := filepath.Join(b.TempDir(), "log.json")
		input := logFile(b, mb<<20/one)
		if err := os.WriteFile(path, input, 0o644); err != nil {
			b.Fatal(err)
		}
		size := int64(len(input))
		input = nil
		runtime.GC()
		b.Run(fmt.Sprintf("%dMB", mb), func(b *testing.B) {
			b.SetBytes(size)
			var peak uint64
			for b.Loop() {
				f, err := os.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				rd, err := trail.NewReader(f, "in")
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for {
					_, err := rd.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					if n++; n%4096 == 0 {
						var ms runtime.MemStats
						runtime.ReadMemStats(&ms)
						peak = max(peak, ms.HeapInuse)
					}
				}
				f.Close()
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
		})
	}
}
