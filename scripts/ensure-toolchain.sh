#!/usr/bin/env bash
# Makes sure the pinned toolchain has the wasm32-wasip2 target that mini-apps
# and guest fixtures are compiled for. Idempotent; takes seconds the first time.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! rustup target list --installed | grep -qx wasm32-wasip2; then
    echo "installing the wasm32-wasip2 target..." >&2
    rustup target add wasm32-wasip2
fi
