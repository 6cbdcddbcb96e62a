#!/usr/bin/env bash
# Runs every test: unit tests, the integration tests in tests/ (real guest
# components, built once per run by crates/test-programs), and the CLI tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-toolchain.sh
# Headless Chromium and chromedriver for the simulator's browser tests
# (crates/cli/tests/serve_browser.rs).
scripts/ensure-browser.sh
# The host crate's top-level modules depend on each other without cycles
# (the script's own fixtures first, then crates/host/src).
scripts/check-module-cycles.py --self-test
scripts/check-module-cycles.py
export RUST_LIB_BACKTRACE=0
cargo test --workspace --all-targets "$@"
cargo test --workspace --doc
