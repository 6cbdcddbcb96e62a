#!/usr/bin/env bash
# Makes sure nginx is installed and prints the path of its binary on its last
# line. Installs Debian's package when it is missing (`apt-get update` once,
# then `apt-get install -y nginx`) without starting its system service: the
# callers (scripts/cluster-demo.sh, its test) run nginx themselves, on a
# configuration, port and folder of their own.
set -euo pipefail

find_nginx() {
    command -v nginx 2>/dev/null || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; }
}

if ! path="$(find_nginx)"; then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo="sudo"
        else
            echo "error: nginx is missing and this user cannot install it:" >&2
            echo "       run \`apt-get install -y nginx\` as root" >&2
            exit 1
        fi
    fi
    echo "installing nginx for the cluster demo..." >&2
    # Debian's package starts its service at install (on port 80). A
    # policy-rc.d that refuses keeps it from starting, when none is there.
    policy=/usr/sbin/policy-rc.d
    made_policy=""
    if ! [ -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
        $sudo chmod 755 "$policy"
        made_policy=1
    fi
    cleanup() {
        if [ -n "$made_policy" ]; then
            $sudo rm -f "$policy"
        fi
    }
    trap cleanup EXIT
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq >&2
    $sudo apt-get install -y -qq --no-install-recommends nginx >&2
    path="$(find_nginx)" || {
        echo "error: nginx was installed but its binary is not on PATH nor /usr/sbin/nginx" >&2
        exit 1
    }
fi
echo "$path"
