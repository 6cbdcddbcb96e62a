#!/usr/bin/env bash
# Makes sure a private PostgreSQL cluster for the tests runs, and prints its
# `postgres://` URL on its last line (a superuser: the caller may create
# databases). Installs PostgreSQL from Debian's packages when missing
# (`apt-get update` once, then `apt-get install -y postgresql`).
#
# The cluster is this checkout's own: its data folder (default
# /tmp/plaza-postgres-<hash of the checkout's path>, or $PLAZA_POSTGRES_DIR)
# and its port (picked free at first start, kept in the folder) belong to no
# system service. PostgreSQL refuses to run as root, so the cluster runs as
# the `postgres` user (`runuser`). A cluster this script started before is
# reused; concurrent callers (test binaries starting at once) take a lock.
# It listens on 127.0.0.1 only and trusts local connections: a throwaway
# cluster for tests, never for data.
#
#   scripts/ensure-postgres.sh          start (or reuse); print the URL
#   scripts/ensure-postgres.sh stop [fast|immediate]
#                                       stop the cluster (scripts/test.sh does
#                                       at the end of the run it started it
#                                       for): `fast` (the default) rolls back
#                                       open transactions and closes the
#                                       connections; `immediate` stops at once,
#                                       as a crash would (the next start
#                                       recovers from the write-ahead log)
#
# PLAZA_POSTGRES_DIR names another data folder: a cluster of its own, with its
# own port (the test that restarts PostgreSQL mid-run uses one, so as not to
# disturb the other tests).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${PLAZA_POSTGRES_DIR:-/tmp/plaza-postgres-$(printf %s "$root" | sha256sum | cut -c1-12)}"
data="$dir/data"

bindir() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

if [ "${1:-}" = "stop" ]; then
    mode="${2:-fast}"
    case "$mode" in
        fast | immediate) ;;
        *)
            echo "error: stop takes \`fast\` or \`immediate\`, not \`$mode\`" >&2
            exit 2
            ;;
    esac
    bin="$(bindir)"
    if [ -n "$bin" ] && [ -f "$data/PG_VERSION" ]; then
        as_postgres "$bin/pg_ctl" -D "$data" -m "$mode" -w stop >/dev/null 2>&1 || true
    fi
    exit 0
fi

if [ -z "$(bindir)" ] || ! [ -x "$(bindir)/initdb" ]; then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo="sudo"
        else
            echo "error: PostgreSQL is missing and this user cannot install it:" >&2
            echo "       run \`apt-get install -y postgresql\` as root" >&2
            exit 1
        fi
    fi
    echo "installing PostgreSQL for the tests on PostgreSQL..." >&2
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq >&2
    $sudo apt-get install -y -qq --no-install-recommends postgresql >&2
fi
bin="$(bindir)"

mkdir -p "$dir"
if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$dir"
fi
exec 9>"$dir.lock"
flock 9

if ! [ -f "$data/PG_VERSION" ]; then
    # C collation: text compares byte by byte, as in SQLite (key order of
    # a mini-app's storage listing).
    as_postgres "$bin/initdb" -D "$data" -U postgres --auth=trust --locale=C \
        --encoding=UTF8 >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        exit 1
    }
fi
if ! [ -f "$dir/port" ]; then
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' >"$dir/port"
fi
port="$(cat "$dir/port")"
if ! as_postgres "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    # Durable commits as in production (benchmarks compare it with SQLite
    # at synchronous = FULL); room for every test binary's pools at once.
    as_postgres "$bin/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=400" \
        start >&2 9>&- || {
        tail -n 20 "$dir/server.log" >&2
        exit 1
    }
fi
echo "postgres://postgres@127.0.0.1:$port/postgres"
