#!/usr/bin/env bash
# The cluster demo: three plaza-server nodes on one PostgreSQL database, nginx
# in front of them (each user kept on one node by a hash of the user id), the
# maternity hospital walked through nginx with the client API by six
# patients; one node is killed (SIGKILL) while a patient's payment prompt
# waits on it, and she carries on through another node. It ends by showing
# that nothing was lost: every booking and one deposit per patient are there,
# and the ledger verifies clean (scripts/cluster-demo-client.py does the
# walking and the checks). docs/deployment.md describes the set-up.
#
#   scripts/cluster-demo.sh
#
# What it needs is made or found by scripts/ensure-postgres.sh (PostgreSQL,
# from Debian's packages) and scripts/ensure-nginx.sh (nginx, from Debian's
# packages), and built with cargo (release). Set these to use what is built
# already (crates/server/tests/cluster_demo.rs does):
#   PLAZA_DEMO_SERVER        the plaza-server binary
#   PLAZA_DEMO_PACKAGE       the hospital's signed package file, and
#   PLAZA_DEMO_PUBLISHER_KEY its publisher's public key (hex)
#   PLAZA_DEMO_CACHE         the nodes' compiled-component cache folder
#   PLAZA_POSTGRES_URL       a PostgreSQL server whose user may create
#                            databases (default: scripts/ensure-postgres.sh's)
# Everything runs on loopback, on free ports, in a temporary folder
# (kept, with every log, when PLAZA_DEMO_KEEP=1 or when the demo fails); the
# demo's database is dropped at the end.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

work="$(mktemp -d "${TMPDIR:-/tmp}/plaza-cluster-demo.XXXXXX")"
pids=()
nginx_pid=""
server_url=""
db=""
status=1

psql_bin() {
    command -v psql 2>/dev/null || ls /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -n 1
}

cleanup() {
    if [ -n "$nginx_pid" ]; then
        kill "$nginx_pid" 2>/dev/null || true
    fi
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    if [ -n "$nginx_pid" ]; then
        wait "$nginx_pid" 2>/dev/null || true
    fi
    # The nodes shut down (within their grace period) before their database
    # is dropped.
    for pid in "${pids[@]}"; do
        for _ in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
    done
    if [ -n "$db" ]; then
        "$(psql_bin)" "$server_url" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
    fi
    if [ "$status" -eq 0 ] && [ "${PLAZA_DEMO_KEEP:-}" != 1 ]; then
        rm -rf "$work"
    else
        echo "the demo's folder, with every log: $work" >&2
    fi
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

echo "=== PostgreSQL ==="
server_url="${PLAZA_POSTGRES_URL:-}"
if [ -z "$server_url" ]; then
    server_url="$(scripts/ensure-postgres.sh | tail -n 1)"
fi
db="plaza_demo_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
"$(psql_bin)" "$server_url" -qc "CREATE DATABASE $db TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'"
store="${server_url%/*}/$db"
echo "database $db on ${server_url%/*}"

echo "=== the binaries and the hospital's package ==="
server="${PLAZA_DEMO_SERVER:-}"
package="${PLAZA_DEMO_PACKAGE:-}"
public_key="${PLAZA_DEMO_PUBLISHER_KEY:-}"
if [ -z "$server" ] || [ -z "$package" ]; then
    scripts/ensure-toolchain.sh
    cargo build --release -p plaza-server -p plaza-cli
    server="${server:-target/release/plaza-server}"
fi
if [ -z "$package" ]; then
    # Packed, and signed with a publisher key made for this run.
    plaza=target/release/plaza
    package="$work/hospital.plaza"
    "$plaza" pack sample-miniapps/hospital -o "$package"
    "$plaza" keygen -o "$work/hospital.key"
    "$plaza" sign "$package" --key "$work/hospital.key"
    public_key="$(cat "$work/hospital.key.pub")"
fi
echo "$server; $package"

echo "=== three nodes on the database ==="
admin="admin-token-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
secret="citizen-app-secret-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
cache="${PLAZA_DEMO_CACHE:-$work/cache}"
addrs=()
for i in 1 2 3; do
    cat >"$work/node$i.toml" <<EOF
listen = "127.0.0.1:0"
store = "$store"
cache_dir = "$cache"
admin_token = "$admin"
log_format = "text"
prompt_timeout_secs = 60

[[issuer]]
name = "citizen-app"
hs256_secret = "$secret"
EOF
    # Started from a subshell, so that the node the demo kills is no job of
    # this shell's (which would report its death).
    ( "$server" --config "$work/node$i.toml" >"$work/node$i.out" 2>"$work/node$i.log" &
      echo $! >"$work/node$i.pid" )
    pids+=("$(cat "$work/node$i.pid")")
done
for i in 1 2 3; do
    # The first line a node prints is its address.
    for _ in $(seq 1 600); do
        [ -s "$work/node$i.out" ] && break
        if ! kill -0 "${pids[$((i - 1))]}" 2>/dev/null; then
            cat "$work/node$i.log" >&2
            echo "error: node $i did not start" >&2
            exit 1
        fi
        sleep 0.1
    done
    addr="$(head -n 1 "$work/node$i.out" | sed -e 's|^http://||' -e 's|/$||')"
    [ -n "$addr" ] || { echo "error: node $i printed no address" >&2; exit 1; }
    addrs+=("$addr")
    echo "node$i: http://$addr/ (pid ${pids[$((i - 1))]})"
done

echo "=== nginx in front ==="
nginx="$(scripts/ensure-nginx.sh | tail -n 1)"
port="$(free_port)"
mkdir -p "$work/nginx"
user_line=""
if [ "$(id -u)" -eq 0 ]; then
    # Workers as this user: they write their temporary files in the demo's
    # folder.
    user_line="user $(id -un) $(id -gn);"
fi
{
    echo "$user_line"
    cat <<EOF
worker_processes 1;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 256; }
http {
    access_log $work/nginx/access.log;
    client_body_temp_path $work/nginx/body;
    proxy_temp_path $work/nginx/proxy;
    fastcgi_temp_path $work/nginx/fastcgi;
    uwsgi_temp_path $work/nginx/uwsgi;
    scgi_temp_path $work/nginx/scgi;
    client_max_body_size 32m;

    # Each user on one node: a consistent hash of the user id, which the
    # embedding app sends in X-Plaza-User beside the user's token. A node
    # that fails is skipped (its users go to the next node on the ring).
    upstream plaza {
        hash \$http_x_plaza_user consistent;
        server ${addrs[0]} max_fails=1 fail_timeout=30s;
        server ${addrs[1]} max_fails=1 fail_timeout=30s;
        server ${addrs[2]} max_fails=1 fail_timeout=30s;
        keepalive 16;
    }
    server {
        listen 127.0.0.1:$port;
        location / {
            proxy_pass http://plaza;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Request-Id \$request_id;
            proxy_connect_timeout 2s;
            proxy_read_timeout 180s;
            # A node that cannot be reached: the request goes to the next.
            proxy_next_upstream error timeout;
            # Which node answered (every node tried, in order).
            add_header X-Plaza-Node \$upstream_addr always;
        }
    }
}
EOF
} >"$work/nginx/nginx.conf"
"$nginx" -p "$work/nginx" -c "$work/nginx/nginx.conf" -t >/dev/null 2>&1 || {
    "$nginx" -p "$work/nginx" -c "$work/nginx/nginx.conf" -t
    exit 1
}
"$nginx" -p "$work/nginx" -c "$work/nginx/nginx.conf" &
nginx_pid=$!
base="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
    curl -sf "$base/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -sf "$base/healthz" >/dev/null || { cat "$work/nginx/error.log" >&2; echo "error: nginx does not answer" >&2; exit 1; }
echo "nginx: $base/ -> ${addrs[*]}"

echo "=== the hospital through nginx ==="
node_args=()
for i in 0 1 2; do
    node_args+=("${addrs[$i]}=${pids[$i]}")
done
python3 scripts/cluster-demo-client.py "$base" "$secret" "$admin" "$package" "$public_key" "${node_args[@]}"
status=0
