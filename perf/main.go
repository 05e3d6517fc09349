// Command perf measures trailguard's performance targets on this machine, so
// the figures in docs/performance.md are measured rather than claimed:
//
//	go run ./perf handler    warm handler per event vs its slowest AWS call
//	go run ./perf coldstart  exec of bootstrap → its first runtime poll
//	go run ./perf memory     peak RSS of bootstrap over a burst of events
//	go run ./perf size       Lambda build size, raw and zipped
//	go run ./perf all        all of the above (scripts/bench.sh runs this)
//
// Everything runs against the in-process emulator (kumo plus the doubles of
// internal/testworld) over loopback HTTP, with the real SDK clients, engine
// and bootstrap. The emulator shares the CPU with what it measures, so the
// AWS call times here are loopback-and-emulator times, not AWS's: the ratio
// of the handler's total to its slowest call is the figure that carries over,
// not the milliseconds. kumo's EventBridge prints a "time=…" line per
// delivery on stdout; scripts/bench.sh filters them out.
//
// It is a main package (not a benchmark) because the measurements need child
// processes, /proc and percentiles over whole events, and no timing may ever
// be asserted in tests.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"
)

func main() {
	events := flag.Int("events", 300, "handler: measured events per scenario (after warm-up)")
	runs := flag.Int("runs", 15, "coldstart: runs per variant")
	burst := flag.Int("burst", 1000, "memory: events in the burst")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: go run ./perf [flags] handler|coldstart|memory|size|all")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()

	var sections []string
	run := func(name string, f func() (string, error)) {
		fmt.Fprintf(os.Stderr, "perf: %s…\n", name)
		out, err := f()
		if err != nil {
			fmt.Fprintf(os.Stderr, "perf %s: %v\n", name, err)
			os.Exit(1)
		}
		sections = append(sections, out)
	}
	switch what := flag.Arg(0); what {
	case "handler":
		run("handler", func() (string, error) { return measureHandler(ctx, *events) })
	case "coldstart":
		run("coldstart", func() (string, error) { return measureColdStart(ctx, *runs) })
	case "memory":
		run("memory", func() (string, error) { return measureMemory(ctx, *burst) })
	case "size":
		run("size", func() (string, error) { return measureSize(ctx) })
	case "all":
		run("size", func() (string, error) { return measureSize(ctx) })
		run("coldstart", func() (string, error) { return measureColdStart(ctx, *runs) })
		run("memory", func() (string, error) { return measureMemory(ctx, *burst) })
		run("handler", func() (string, error) { return measureHandler(ctx, *events) })
	default:
		flag.Usage()
		os.Exit(2)
	}
	fmt.Println("=== perf results ===")
	fmt.Println(strings.Join(sections, "\n"))
}
