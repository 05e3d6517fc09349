#!/usr/bin/env bash
# Runs the whole test command (scripts/test.sh) many times on clean clones of
# HEAD, several clones side by side so that every core stays busy, and prints
# how many runs passed. A flaky test is a red CI run waiting to happen; this is
# how the project measures that it has none.
#
#   scripts/stability.sh [runs] [lanes]     (defaults: 20 runs, 2 lanes)
#
# Each lane is its own clone (its own build cache entries do not matter: the
# suite runs with -count=1). The CDK CLI is taken from this checkout's
# infra/node_modules when present, else installed with npm ci. Logs of every
# run stay in the printed directory; the names of failed tests are printed.
set -uo pipefail
cd "$(dirname "$0")/.."

runs=${1:-20}
lanes=${2:-2}
case "$runs$lanes" in *[!0-9]*) echo "usage: $0 [runs] [lanes]" >&2; exit 2 ;; esac
[ "$runs" -ge 1 ] && [ "$lanes" -ge 1 ] || { echo "usage: $0 [runs] [lanes] (both at least 1)" >&2; exit 2; }

repo=$(pwd)
commit=$(git rev-parse --short HEAD)
work=$(mktemp -d "${TMPDIR:-/tmp}/trailguard-stability.XXXXXX")
echo "commit $commit: $runs runs of scripts/test.sh in $lanes lanes; logs in $work"

for l in $(seq 1 "$lanes"); do
  git clone -q --no-hardlinks "$repo" "$work/lane$l"
  if [ -d "$repo/infra/node_modules" ]; then
    ln -s "$repo/infra/node_modules" "$work/lane$l/infra/node_modules"
  else
    (cd "$work/lane$l/infra" && npm ci --no-audit --no-fund >/dev/null)
  fi
  if [ -d "$repo/../shared" ] && [ ! -e "$work/shared" ]; then
    ln -s "$(cd "$repo/../shared" && pwd)" "$work/shared"
  fi
done

# Runs are handed out from a shared counter so the lanes finish together.
next="$work/next"
echo 1 >"$next"
lane() {
  local l=$1 n
  while true; do
    n=$(flock "$next" sh -c 'n=$(cat "$0"); echo $((n+1)) >"$0"; echo "$n"' "$next")
    [ "$n" -le "$runs" ] || return 0
    local log="$work/run$n.log" start=$SECONDS
    if (cd "$work/lane$l" && ./scripts/test.sh) >"$log" 2>&1; then
      echo "run $n (lane $l): pass in $((SECONDS - start)) s"
    else
      echo "run $n (lane $l): FAIL in $((SECONDS - start)) s; failed:"
      grep -E '^(--- FAIL|FAIL|panic:)' "$log" | sed 's/^/    /' | head -20
      touch "$work/failed$n"
    fi
  done
}
for l in $(seq 1 "$lanes"); do lane "$l" & done
wait

failed=$(find "$work" -maxdepth 1 -name 'failed*' | wc -l)
echo "commit $commit: $((runs - failed)) of $runs runs passed ($lanes lanes side by side)"
[ "$failed" -eq 0 ]
