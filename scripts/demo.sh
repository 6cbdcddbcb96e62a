#!/usr/bin/env bash
# The demo: builds the sample mini-apps, packs them, installs them into the
# default store (or $PLAZA_STORE) and walks through them headlessly, as a
# new user each run.
set -euo pipefail
user="demo-$(date +%Y%m%d-%H%M%S)"
cd "$(dirname "$0")/.."
scripts/ensure-toolchain.sh
cargo build --release -p plaza-cli
plaza=target/release/plaza
mkdir -p target/demo
for app in sample-miniapps/*/; do
    [ -f "$app/plaza.toml" ] || continue
    name=$(basename "$app")
    pkg=target/demo/$name.plaza
    "$plaza" pack "$app" -o "$pkg"
    "$plaza" inspect "$pkg"
    "$plaza" install "$pkg"
    if [ -f "$app/demo.script" ]; then
        id=$(sed -n 's/^id *= *"\(.*\)"/\1/p' "$app/plaza.toml" | head -1)
        echo
        echo "=== $name: $app/demo.script ==="
        "$plaza" run "$id" --user "$user" --script "$app/demo.script"
    fi
done
echo
echo "=== what the mini-apps accessed ==="
"$plaza" audit --user "$user" --limit 40
