#!/usr/bin/env bash
# Runs every test: unit tests, the integration tests in tests/ (real guest
# components, built once per run by crates/test-programs), and the CLI tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-toolchain.sh
# Headless Chromium and chromedriver for the simulator's browser tests
# (crates/cli/tests/serve_browser.rs).
scripts/ensure-browser.sh
# nginx in front of three plaza-server nodes for the cluster demo
# (crates/server/tests/cluster_demo.rs runs scripts/cluster-demo.sh).
scripts/ensure-nginx.sh >/dev/null
# The host crate's top-level modules depend on each other without cycles
# (the script's own fixtures first, then crates/host/src).
scripts/check-module-cycles.py --self-test
scripts/check-module-cycles.py
# PostgreSQL for the store's PostgreSQL backend and the tests across nodes:
# one private cluster for the whole run (each test makes its own database in
# it), stopped when the run ends. `cargo test` alone starts it through the
# same script when PLAZA_TEST_POSTGRES is unset (and leaves it running).
PLAZA_TEST_POSTGRES="$(scripts/ensure-postgres.sh | tail -n 1)"
export PLAZA_TEST_POSTGRES
trap 'scripts/ensure-postgres.sh stop' EXIT
export RUST_LIB_BACKTRACE=0
cargo test --workspace --all-targets "$@"
cargo test --workspace --doc
