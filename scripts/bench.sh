#!/usr/bin/env bash
# Every figure of the benchmark suite (issue 8, docs/performance.md) in one
# run: builds the Extism peer (bench/extism-peer, a cargo project of its own)
# and the `plaza` CLI in release, then runs `plaza bench` with backtraces off
# (this machine sets RUST_BACKTRACE=1, which makes every error value walk the
# stack). Arguments go to `plaza bench`: `scripts/bench.sh --json`,
# `scripts/bench.sh --only event call`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-toolchain.sh
export RUST_BACKTRACE=0 RUST_LIB_BACKTRACE=0

if [ -f bench/extism-peer/Cargo.toml ]; then
    (cd bench/extism-peer && cargo build --release)
else
    echo "bench/extism-peer is not there: the Extism rows will say so" >&2
fi
cargo build --release -p plaza-cli
echo "load before the run: $(cat /proc/loadavg)" >&2
exec target/release/plaza bench "$@"
