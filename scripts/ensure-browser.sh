#!/usr/bin/env bash
# Makes sure headless Chromium and ChromeDriver (Debian's `chromium` and
# `chromium-driver` packages) are installed: the simulator's browser tests
# (crates/cli/tests/serve_browser.rs) drive them over WebDriver.
# Idempotent and quiet when both are there; installs them with apt-get
# otherwise (as root, or through sudo).
set -euo pipefail
have() {
    command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1
}
if have; then
    exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        sudo="sudo"
    else
        echo "error: chromium and chromium-driver are missing and this user cannot install them:" >&2
        echo "       run \`apt-get install -y chromium chromium-driver\` as root" >&2
        exit 1
    fi
fi
echo "installing chromium and chromium-driver for the simulator's browser tests..." >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >&2
$sudo apt-get install -y -qq --no-install-recommends chromium chromium-driver >&2
if ! have; then
    echo "error: chromium or chromedriver is still missing after apt-get install" >&2
    exit 1
fi
