#!/usr/bin/env bash
# Figures of the hotel-finder sample (TypeScript on @plaza/sdk;
# docs/performance.md): packed, then `plaza bench --only languages` on it —
# the component's size, an install that compiles into an empty cache, the
# compiled code's size, the same component refused under a manifest that
# declares no capability (before any compilation), and the resident memory
# per live session. The pinned JavaScript toolchain is installed into
# target/toolchains when missing. Arguments go to `plaza bench` (`--quick`,
# `--json`); PLAZA=path/to/plaza measures another build of the CLI.
set -euo pipefail
cd "$(dirname "$0")/.."
export RUST_BACKTRACE=0 RUST_LIB_BACKTRACE=0
export PLAZA_TOOLCHAINS="${PLAZA_TOOLCHAINS:-$PWD/target/toolchains}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
if [ -z "${PLAZA:-}" ]; then
    scripts/ensure-toolchain.sh
    cargo build --release -p plaza-cli
    PLAZA=target/release/plaza
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$PLAZA" pack sample-miniapps/hotel-finder -o "$work/hotel-finder.plaza" >&2
ls -l "$work/hotel-finder.plaza" >&2
echo "load before the run: $(cat /proc/loadavg)" >&2
"$PLAZA" bench --only languages --package "$work/hotel-finder.plaza" "$@"
