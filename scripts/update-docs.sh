#!/usr/bin/env bash
# Regenerates every document that shows produced output, from real runs, so
# that nothing shown is written by hand: the README's demo block, docs/demo.md
# and docs/catalog.md (from the catalog). Commit the result.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/trailguard" ./cmd/trailguard

go test ./internal/catalog -run TestDocsAreGenerated -update >/dev/null
echo "docs/catalog.md: regenerated from the catalog"

go test ./internal/grants -run TestDocsAreGenerated -update >/dev/null
echo "infra/README.md: permissions table regenerated from the grants table"

# run CMD...: the command line, its output, its exit status and wall time.
run() {
  local start end status=0
  start=$(date +%s.%N)
  "$bin/trailguard" "$@" >"$bin/out" 2>&1 || status=$?
  end=$(date +%s.%N)
  printf '```console\n$ go run ./cmd/trailguard %s\n' "$*"
  cat "$bin/out"
  printf '```\n\nExit status %s; %.2f s wall time (the built binary).\n\n' "$status" "$(echo "$end - $start" | bc)"
}

{
  echo "# trailguard demo: real output"
  echo
  echo "Produced by \`scripts/update-docs.sh\` at commit $(git rev-parse --short HEAD) on a $(nproc)-core $(uname -s) machine, offline. Keys, ids and times differ on every run."
  echo
  echo "## The article's scenario: an admin user stops the trail"
  echo
  run demo
  echo "## An assumed-role session stops the trail: its sessions are revoked"
  echo
  run demo --scenario role-session
  echo "## Every scenario"
  echo
  run demo --scenario all
} >docs/demo.md
echo "docs/demo.md: regenerated"

"$bin/trailguard" demo >"$bin/readme"
{ echo '$ go run ./cmd/trailguard demo'; cat "$bin/readme"; } | python3 scripts/docblock.py README.md demo console
echo "README.md: demo block regenerated"

# The CLI block: check against the emulator world docs/cli.md also shows
# (built by internal/cli's TestDocsSample), and a respond dry-run.
go test ./internal/cli -count=1 -run TestDocsSample -docs-out "$bin/check" >/dev/null
"$bin/trailguard" respond --event internal/samples/testdata/stoplogging-assumedrole.json >"$bin/respond" 2>&1
python3 - "$bin/check" "$bin/respond" <<'PY'
import sys
sys.path.insert(0, "scripts")
from docblock import put
check = open(sys.argv[1]).read()
# The table run only, cut after the first region's findings.
table = check.split("\n$ trailguard check --output json")[0].rstrip("\n")
lines = table.split("\n")
if len(lines) > 40:
    lines = lines[:40] + ["  … (cut here; the full run is in docs/cli.md)"]
respond = open(sys.argv[2]).read().rstrip("\n")
put("README.md", "cli", "```console\n" + "\n".join(lines) + "\n```\n\n```console\n"
    "$ trailguard respond --event internal/samples/testdata/stoplogging-assumedrole.json\n" + respond + "\n```")
PY
echo "README.md: command-line block regenerated"

# docs/cli.md's check runs: the same emulator account, table and JSON (the
# JSON's findings cut after two, saying how many were cut).
python3 - "$bin/check" <<'PY'
import json, sys
sys.path.insert(0, "scripts")
from docblock import put
runs = open(sys.argv[1]).read()
table, _, rest = runs.partition("\n$ trailguard check --output json")
table = table.strip("\n")
js_text, _, tail = rest.partition("\n[exit")
js_text = js_text.split("\n", 1)[1]
doc = json.loads(js_text)
cut = len(doc["findings"]) - 2
doc["findings"] = doc["findings"][:2] + ["CUT"]
js = json.dumps(doc, indent=2, ensure_ascii=False).replace('"CUT"', f"… {cut} more findings cut from this page …")
js += "\n[exit" + tail.split("\n", 1)[0]
put("docs/cli.md", "check-table", table, "")
put("docs/cli.md", "check-json", "$ trailguard check --output json --fail-on critical\n" + js, "")
PY
echo "docs/cli.md: check runs regenerated"

# The guardrails block: the policies for the baseline respond's tests use.
guardrails_args=(guardrails --region us-east-1 --trails internal/cli/testdata/respond-trails.json
  --responder-role-arn arn:aws:iam::123456789012:role/trailguard-responder
  --rule trailguard-cloudtrail-1a2b3c4d --function trailguard-responder --topic trailguard-alerts
  --allow arn:aws:iam::123456789012:role/break-glass)
"$bin/trailguard" "${guardrails_args[@]}" >"$bin/guardrails" 2>&1
{ echo "\$ trailguard ${guardrails_args[*]}"; cat "$bin/guardrails"; } | python3 scripts/docblock.py README.md guardrails console
echo "README.md: guardrails block regenerated"

# The gap-forensics block: the follow-up alert of the emulator test that
# plays stop, calls while blind, restore, report.
go test ./internal/forensics -count=1 -run TestGapReportOnTheEmulator -gap-out "$bin/gap" >/dev/null
python3 scripts/docblock.py README.md gap text <"$bin/gap"
echo "README.md: gap report block regenerated"

# The findings blocks: the Security Hub finding of a real response on the
# emulator, as GetFindings returns it, and the alert's OCSF rendering.
go test ./internal/awsx -count=1 -run TestDocsFindings -findings-out "$bin/findings" >/dev/null
python3 - "$bin/findings" <<'PY'
import json, sys
sys.path.insert(0, "scripts")
from docblock import put
f = json.load(open(sys.argv[1]))
asff = json.dumps(f["asff"], indent=2, ensure_ascii=False)
ocsf = json.dumps(f["ocsf"], indent=2, ensure_ascii=False)
put("README.md", "findings", asff, "json")
put("docs/findings.md", "asff", asff, "json")
put("docs/findings.md", "ocsf", ocsf, "json")
PY
echo "README.md, docs/findings.md: findings blocks regenerated"

# Organization mode's scale: on paper (1,000 accounts x 17 regions) and a
# measured reconciliation of a simulated 200-account organization.
go run ./perf/orgscale >"$bin/orgscale" 2>&1
{ echo '$ go run ./perf/orgscale'; cat "$bin/orgscale"; } | python3 scripts/docblock.py docs/organization.md orgscale console
echo "docs/organization.md: scale figures regenerated"

# The README's performance table and docs/performance.md's latest figures,
# from one run of scripts/bench.sh (about two minutes). The table's verdicts
# (met or missed) are computed from the figures by scripts/perftable.py.
scripts/bench.sh >"$bin/bench" 2>&1
python3 scripts/perftable.py "$bin/bench" | python3 scripts/docblock.py README.md perf
# bench.sh's headings go two levels down, under the section that holds them.
grep -v '^perf: ' "$bin/bench" | sed -e 's/^# //' -e 's/^##/####/' | python3 scripts/docblock.py docs/performance.md latest
echo "README.md, docs/performance.md: performance figures measured"

# The README's cost table ("Before you deploy"), computed by scripts/cost.py
# from AWS's published prices and the assumptions written there.
python3 scripts/cost.py >"$bin/cost"
python3 scripts/docblock.py README.md cost <"$bin/cost"
echo "README.md: cost table recomputed"

# infra/README.md's template sizes, counted in the synthesized templates.
(cd infra && JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 go test ./trailguardcdk -count=1 -run TestTemplateSizesInReadme -update >/dev/null)
echo "infra/README.md: template sizes recounted"

# Timings shown in README.md and infra/README.md, measured now. Set
# UPDATE_DOCS_SKIP_TIMINGS=1 to keep the previous ones (the test runs take
# minutes).
if [ -z "${UPDATE_DOCS_SKIP_TIMINGS:-}" ]; then
  # secs CMD...: wall seconds of CMD (its output discarded; a failure stops the script).
  secs() {
    local start end
    start=$(date +%s.%N)
    "$@" >/dev/null 2>&1 || { echo "update-docs: $* failed" >&2; return 1; }
    end=$(date +%s.%N)
    printf '%.1f' "$(echo "$end - $start" | bc)"
  }
  export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
  load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo unknown)
  demo_bin=$(secs "$bin/trailguard" demo)
  demo_run=$(secs go run ./cmd/trailguard demo)
  root_tests=$(secs go test -count=1 ./...)
  synth=$(cd infra && secs npx aws-cdk@2 synth -q -c createTrail=true -o "$bin/cdk.out")
  infra_tests=$(cd infra && secs go test -count=1 ./...)
  infra_short=$(cd infra && secs go test -count=1 -short ./...)
  python3 - "$demo_bin" "$demo_run" "$root_tests" "$synth" "$infra_tests" "$infra_short" "$load" "$(date -u +%Y-%m-%d)" <<'PY'
import sys
sys.path.insert(0, "scripts")
from docblock import put
demo_bin, demo_run, root, synth, infra, short, load, day = sys.argv[1:]
note = f"\n\nMeasured {day}, load average {load} at the start."
put("README.md", "timings", "| what | wall time | command |\n|---|---|---|\n"
    f"| the root module's tests | {root} s | `go test -count=1 ./...` |\n"
    f"| the CDK module's tests | {infra} s ({short} s with `-short`) | `cd infra && go test -count=1 ./...` |\n"
    f"| CDK synth (builds the responder) | {synth} s | `cd infra && npx aws-cdk@2 synth -c createTrail=true` |\n"
    f"| the demo | {demo_bin} s built, {demo_run} s with `go run` | `go run ./cmd/trailguard demo` |" + note)
put("infra/README.md", "timings", "| step | wall time |\n|---|---|\n"
    f"| `npx aws-cdk@2 synth -c createTrail=true` (includes building the responder) | {synth} s |\n"
    f"| `go test -count=1 ./...` (synths, the consumer module, the bootstrap build) | {infra} s |\n"
    f"| `go test -count=1 -short ./...` | {short} s |" + note)
PY
  echo "README.md, infra/README.md: timings measured"
fi
