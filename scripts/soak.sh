#!/usr/bin/env bash
# Crash soak: the crash harness of crates/host/tests/crash.rs (a host killed
# with SIGKILL at random points of payments, refunds, broadcasts and storage
# writes, restarted and checked) for many rounds, in release mode.
#
#   scripts/soak.sh [rounds]        # default 200
#   PLAZA_CRASH_SEED=<n> scripts/soak.sh [rounds]   # replays a run
#
# Prints the seed, the rounds, the operations acknowledged, the kills (by the
# kind of operation they landed in) and the time; on a failure, the failure
# with its seed and where the store was kept. The whole output is kept in
# target/soak-<time>.log.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-200}"
export RUST_BACKTRACE=0 RUST_LIB_BACKTRACE=0
log="${CARGO_TARGET_DIR:-target}/soak-$(date +%Y%m%d-%H%M%S).log"
mkdir -p "$(dirname "$log")"

echo "soak: building (release)..."
cargo test --release -p plaza-host --test crash --no-run 2>&1 | tail -n 1
echo "soak: $rounds rounds, output in $log"
start=$(date +%s)
status=0
PLAZA_CRASH_ROUNDS="$rounds" cargo test --release -p plaza-host --test crash -- \
    --exact sigkill_at_random_points_loses_and_repeats_nothing --nocapture \
    >"$log" 2>&1 || status=$?
elapsed=$(($(date +%s) - start))

grep '^crash: ' "$log" | grep -v 'FAILED' || true
if [ "$status" -ne 0 ]; then
    echo "soak: FAILED after ${elapsed} s:"
    # The failure with its seed, and where its store was kept.
    sed -n '/crash: FAILED/,/are kept in/p' "$log"
    grep -q 'crash: FAILED' "$log" || tail -n 30 "$log"
    exit "$status"
fi
echo "soak: passed in ${elapsed} s (including the test binary's start)"
