#!/usr/bin/env bash
# Figures of mini-apps in other languages (issue 21, docs/performance.md):
# the basic template made by `plaza new` in Rust, JavaScript, TypeScript and
# Python, built and packed, then `plaza bench --only languages` on the four
# packages (install with compilation, compiled size, a refusal before any
# compilation, resident memory per live session). The pinned JavaScript and
# Python toolchains are installed into target/toolchains when missing.
# Arguments go to `plaza bench` (`--quick`, `--json`); PLAZA=path/to/plaza
# measures another build of the CLI.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-toolchain.sh
export RUST_BACKTRACE=0 RUST_LIB_BACKTRACE=0
export PLAZA_TOOLCHAINS="${PLAZA_TOOLCHAINS:-$PWD/target/toolchains}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
if [ -z "${PLAZA:-}" ]; then
    cargo build --release -p plaza-cli
    PLAZA=target/release/plaza
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
packages=()
for lang in rust js ts python; do
    "$PLAZA" new "$work/notes-$lang" --lang "$lang" >/dev/null
    "$PLAZA" pack "$work/notes-$lang" -o "$work/notes-$lang.plaza" >&2
    packages+=(--package "$work/notes-$lang.plaza")
done
echo "load before the run: $(cat /proc/loadavg)" >&2
"$PLAZA" bench --only languages "${packages[@]}" "$@"
