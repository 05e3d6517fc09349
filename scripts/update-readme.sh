#!/usr/bin/env bash
# Regenerates the README's demo block from a real run of the demo, so that the
# output shown is produced by the command, never written by hand.
set -euo pipefail
cd "$(dirname "$0")/.."

out=$(mktemp)
trap 'rm -f "$out"' EXIT
go run ./cmd/trailguard demo >"$out"

python3 - "$out" <<'PY'
import re, sys
demo = open(sys.argv[1]).read().rstrip("\n")
readme = open("README.md").read()
block = "<!-- demo:begin -->\n```console\n$ go run ./cmd/trailguard demo\n" + demo + "\n```\n<!-- demo:end -->"
new, n = re.subn(r"<!-- demo:begin -->.*?<!-- demo:end -->", lambda m: block, readme, flags=re.S)
if n != 1:
    sys.exit("README.md has no demo block")
open("README.md", "w").write(new)
PY
echo "README.md: demo block updated"
