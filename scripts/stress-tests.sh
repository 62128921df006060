#!/usr/bin/env bash
# Run the whole suite N times in random order beside M CPU hogs, and list every test that
# failed at least once. A flaky test can stop any landing: find it here first.
#   bash scripts/stress-tests.sh               # N=5 runs, M=2 hogs
#   bash scripts/stress-tests.sh -n 3 -m 1 tests/hub    # fewer, or a part of the suite
set -euo pipefail
cd "$(dirname "$0")/.."
runs=5
hogs=2
while getopts "n:m:" option; do
  case $option in
    n) runs=$OPTARG ;;
    m) hogs=$OPTARG ;;
    *) echo "usage: $0 [-n RUNS] [-m HOGS] [pytest arguments]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))

bash scripts/bootstrap.sh test
export QT_QPA_PLATFORM=offscreen
out=$(mktemp -d -t nowserving-stress-XXXX)
pids=()
stop_hogs() { [ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null || true; }
trap stop_hogs EXIT
for _ in $(seq "$hogs"); do
  python3 -c 'while True: pass' &
  pids+=($!)
done

echo "stress: $runs runs in random order beside $hogs CPU hogs; reports in $out"
for run in $(seq "$runs"); do
  seed=$RANDOM$RANDOM
  began=$(date +%s)
  status=0
  # pytest-randomly shuffles modules, classes and tests; the seed replays an order.
  .venv/bin/pytest -q -p no:cacheprovider --randomly-seed="$seed" \
    -n "${NOWSERVING_TEST_WORKERS:-2}" --dist loadfile --max-worker-restart=0 \
    --junitxml="$out/run-$run.xml" "$@" >"$out/run-$run.log" 2>&1 || status=$?
  echo "run $run: seed $seed, exit $status, $(( $(date +%s) - began )) s: $(tail -n 1 "$out/run-$run.log")"
done

.venv/bin/python scripts/stress_report.py "$out"
