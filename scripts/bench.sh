#!/usr/bin/env bash
# Measures every performance target of docs/performance.md on this machine
# and prints the figures: the parse+classify+plan benchmark, then the perf
# program (Lambda build size, cold start, peak RSS over a 1000-event burst,
# warm handler vs its slowest AWS call). Nothing here asserts a time; the
# reliability tests (go test ./reliability/) are the pass/fail part.
#
#   scripts/bench.sh            everything (about a minute on 2 cores)
#   scripts/bench.sh handler    one perf section: handler|coldstart|memory|size
set -euo pipefail
cd "$(dirname "$0")/.."

echo "# trailguard performance — $(date -u +%Y-%m-%dT%H:%MZ), $(go version | cut -d' ' -f3), $(nproc) cores ($(uname -m))"
echo "# commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo ' (dirty tree)')"
echo

if [ "${1:-all}" = all ]; then
  echo "## Parse + classify + plan (go test -run '^\$' -bench . -benchmem -count 5 ./internal/respond/)"
  echo
  echo "| benchmark (median of 5) | ns/op | B/op | allocs/op |"
  echo "|---|---|---|---|"
  go test -run '^$' -bench . -benchmem -count 5 ./internal/respond/ \
    | awk '/^Benchmark/ { print $1, $3, $(NF-3), $(NF-1) }' | sort -k1,1 -k2,2n \
    | awk '{ n[$1]++; v[$1, n[$1]] = $2; b[$1] = $3; a[$1] = $4 }
           END { for (k in n) printf "| %s | %s | %s | %s |\n", k, v[k, int((n[k] + 1) / 2)], b[k], a[k] }' | sort
  echo
fi

# kumo's EventBridge prints a "time=..." line per delivery on stdout.
go run ./perf "${1:-all}" | grep -v '^time=' | sed -n '/^=== perf results ===$/,$p' | tail -n +2
