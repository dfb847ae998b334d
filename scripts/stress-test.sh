#!/usr/bin/env bash
# Proves the suite does not flake under load: runs `pnpm test` N times in a row while CPU-burning
# processes run beside it, counts the runs that pass, and prints one summary.
#
#   scripts/stress-test.sh [runs] [burners]     defaults: 10 runs, 2 burners (one per core on a 2-core box)
#
# Packages are built once first, so every run measures the tests. Logs of failed runs are kept.
# Exits 0 only when every run passed.
set -uo pipefail
cd "$(dirname "$0")/.."

runs=${1:-10}
burners=${2:-2}
logs=$(mktemp -d "${TMPDIR:-/tmp}/keyguard-stress-XXXXXX")
strip() { sed 's/\x1b\[[0-9;]*m//g' "$@"; }

pids=()
test_group=
# Stop what this script started, by id: the burners, and the process group of the run in progress.
stop() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  if [ -n "$test_group" ]; then kill -- "-$test_group" 2>/dev/null; fi
}
trap stop EXIT
trap 'exit 130' INT TERM

echo "stress: building once"
pnpm build >"$logs/build.log" 2>&1 || { echo "stress: pnpm build failed, see $logs/build.log" >&2; exit 1; }

for _ in $(seq 1 "$burners"); do
  node -e 'for (;;) {}' &
  pids+=("$!")
done
echo "stress: $runs runs of pnpm test beside $burners CPU burners (pids ${pids[*]}), logs in $logs"

passed=0
durations=()
for run in $(seq 1 "$runs"); do
  log="$logs/run-$run.log"
  started=$SECONDS
  # Its own process group (setsid), so an interrupted stress run also stops turbo and vitest.
  setsid pnpm test >"$log" 2>&1 &
  test_group=$!
  wait "$test_group"
  status=$?
  test_group=
  took=$((SECONDS - started))
  durations+=("$took")
  load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo '?')
  line=$(strip "$log" | awk -f scripts/vitest-summary.awk)
  if [ "$status" -eq 0 ]; then
    passed=$((passed + 1))
    rm -f "$log"
    echo "run $run/$runs: PASS in ${took}s (load $load) $line"
  else
    echo "run $run/$runs: FAIL (exit $status) in ${took}s (load $load) $line; log: $log"
    strip "$log" | grep -E '^\S+:test: +(FAIL|×)|Error: Test timed out' | head -5 | sed 's/^/    /'
  fi
done

sorted=$(printf '%s\n' "${durations[@]}" | sort -n | tr '\n' ' ')
echo "stress: $passed/$runs runs passed beside $burners CPU burners; run times (s): $sorted"
[ "$passed" -eq "$runs" ]
