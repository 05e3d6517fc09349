#!/usr/bin/env python3
"""perftable.py BENCH_OUTPUT > TABLE

Turns the output of scripts/bench.sh (every section) into the README's
performance table: each target beside the figure just measured and the
command that reproduces it. scripts/update-docs.sh runs it, so no figure in
the table is typed by hand. A section missing from the output is an error,
not an empty cell.
"""
import re
import sys


def rows(text, header):
    """The rows of the markdown table under the line starting with header."""
    i = text.find(header)
    if i < 0:
        sys.exit("perftable: no section %r in the bench output" % header)
    out = []
    for line in text[i:].splitlines()[1:]:
        if line.startswith("|") and not line.startswith("|---"):
            out.append([c.strip() for c in line.strip("|").split("|")])
        elif out and not line.strip():
            break
    return out[1:]  # without the column names


def cell(table, key, col):
    for r in table:
        if r[0].startswith(key):
            return r[col]
    sys.exit("perftable: no row %r" % key)


def num(s):
    return float(re.match(r"[\d.]+", s.replace(",", "")).group(0))


def main(path):
    text = open(path).read()
    bench = {r[0].split("/")[-1].rsplit("-", 1)[0]: r for r in rows(text, "## Parse + classify + plan")}
    iam = bench["stoplogging-iamuser"]
    others = [bench[k] for k in sorted(bench) if k != "stoplogging-iamuser"]
    us = lambda r: num(r[1]) / 1000
    rich = "richer events: %.1f–%.1f µs, %d–%d allocs" % (
        min(map(us, others)), max(map(us, others)),
        min(int(r[3]) for r in others), max(int(r[3]) for r in others))
    ok = lambda met: "" if met else " — **missed**"

    handler = {}
    for scen in ("stoplogging-iamuser", "stoplogging-assumedrole"):
        t = rows(text, "### " + scen)
        handler[scen] = (cell(t, "total ÷ slowest call", 1), cell(t, "critical path ÷ slowest call", 1))
    ratios = [num(v[0]) for v in handler.values()]

    cold = cell(rows(text, "## Cold start"), "TRAILGUARD_SELF_ROLE_ARN set", 1)
    size = rows(text, "## Size")
    binary = num(next(r[2] for r in size if r[0] == "bootstrap"))
    zipped = num(cell(size, "bootstrap.zip", 2))
    mem = rows(text, "## Memory")
    rss = cell(mem, "peak RSS (VmHWM) over the burst", 1)
    handled = cell(mem, "events handled cleanly", 1)

    print("| what | target | measured | reproduce |")
    print("|---|---|---|---|")
    print("| parse + classify + plan, StopLogging by an IAM user | ≤ 20 µs, ≤ 40 allocs | **%.1f µs, %s allocs**%s (%s) | `go test -run '^$' -bench . -benchmem ./internal/respond/` |"
          % (us(iam), iam[3], ok(us(iam) <= 20 and int(iam[3]) <= 40), rich))
    print("| warm handler vs its slowest AWS call, 300 events, on the emulator | ≤ 1.5× | p50 **%s** (IAM user) / **%s** (role); the design's floor %s / %s%s | `scripts/bench.sh handler` |"
          % (handler["stoplogging-iamuser"][0], handler["stoplogging-assumedrole"][0],
             handler["stoplogging-iamuser"][1], handler["stoplogging-assumedrole"][1], ok(max(ratios) <= 1.5)))
    print("| cold start, exec → ready, median of 15 | ≤ 50 ms | **%s**%s | `scripts/bench.sh coldstart` |" % (cold, ok(num(cold) <= 50)))
    print("| Lambda binary (arm64) / zipped | ≤ 15 MB / ≤ 6 MB | **%.1f MB / %.1f MB**%s | `scripts/bench.sh size` |"
          % (binary, zipped, ok(binary <= 15 and zipped <= 6)))
    print("| peak RSS over 1000 events | ≤ 40 MB | **%s**, %s handled / alerted%s | `scripts/bench.sh memory` |" % (rss, handled, ok(num(rss) <= 40)))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__.strip().splitlines()[0])
    main(sys.argv[1])
