#!/usr/bin/env bash
# Runs Plaza's libFuzzer targets (fuzz/, cargo-fuzz) for a chosen time each and
# reports, per target: executions, executions per second, the coverage and
# features found during the run, and findings (crash artifacts in
# fuzz/artifacts/<target>). Exits non-zero if any target found a crash.
#
#   scripts/fuzz.sh [seconds-per-target] [target...]
#
# Default: 600 seconds for each of manifest, package, scenario, host_calls.
# The corpus of each target is fuzz/corpus/<target>; it is seeded from the
# repository's real manifests, scenario files and packages, and minimised
# (`cargo fuzz cmin`) after the run, then kept under about 2 MB.
#
# Built without a sanitizer (`-s none`): the targets are safe Rust, and under
# AddressSanitizer Wasmtime's compiled code and its guard-page memory
# reservations (many GiB of virtual memory for the instance pool) do not run
# (ASan's shadow memory and signal handling get in the way) or run many times
# slower. A Rust panic, an assertion of a target or an abort is a finding.
#
# Needs the nightly toolchain (libFuzzer's instrumentation flags are
# nightly-only) and cargo-fuzz, which it installs if missing. Each run's full
# libFuzzer output goes to fuzz/target/logs/<target>.log.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

seconds=${1:-600}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(manifest package scenario host_calls)
fi
case "$seconds" in
    '' | *[!0-9]*)
        echo "usage: scripts/fuzz.sh [seconds-per-target] [target...]" >&2
        exit 2
        ;;
esac

export RUST_BACKTRACE=0 RUST_LIB_BACKTRACE=0

if ! rustup toolchain list | grep -q '^nightly'; then
    echo "fuzz.sh: the nightly toolchain is missing: libFuzzer's instrumentation needs it." >&2
    echo "Install it with \`rustup toolchain install nightly --profile minimal\` and run again." >&2
    exit 1
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "fuzz.sh: installing cargo-fuzz..." >&2
    cargo install cargo-fuzz --locked
fi

# The host_calls target loads the fuzz-caller guest built by the pinned
# toolchain (see fuzz/fuzz_targets/host_calls.rs).
for t in "${targets[@]}"; do
    if [ "$t" = host_calls ]; then
        echo "building the guest fixtures (cargo build -p plaza-test-programs)..." >&2
        cargo build -q -p plaza-test-programs
    fi
done

# Seeds: real inputs of each kind, copied into the corpus (libFuzzer drops
# the ones that add no coverage at cmin).
le64() {
    local n=$1 i
    for i in 0 1 2 3 4 5 6 7; do
        # shellcheck disable=SC2059
        printf "\\x$(printf %02x $(((n >> (8 * i)) & 255)))"
    done
}
seed_package() { # MODE-BYTE MANIFEST-FILE OUT
    local manifest_len
    manifest_len=$(wc -c <"$2")
    {
        printf "\\x$1"
        printf 'PLAZAPKG\x01\x00\x01'
        le64 "$manifest_len"
        cat "$2"
        printf '\x02'
        le64 8
        printf '\x00asm\x0d\x00\x01\x00'
    } >"$3"
}
seed() {
    local t=$1 dir=fuzz/corpus/$1 f name
    mkdir -p "$dir"
    case "$t" in
        manifest)
            for f in sample-miniapps/*/plaza.toml crates/test-programs/guests/*/plaza.toml; do
                name=$(basename "$(dirname "$f")")
                cp -n "$f" "$dir/seed-$name.toml"
            done
            ;;
        scenario)
            for f in tests/scenarios/*.toml; do
                cp -n "$f" "$dir/seed-$(basename "$f")"
            done
            ;;
        package)
            for f in sample-miniapps/*/plaza.toml crates/test-programs/guests/cashier/plaza.toml; do
                name=$(basename "$(dirname "$f")")
                [ -e "$dir/seed-$name.pkg" ] || seed_package 00 "$f" "$dir/seed-$name.pkg"
            done
            # Odd first byte: the target's signed package, unchanged and with
            # one flipped byte in each section.
            printf '\x01' >"$dir/seed-signed"
            printf '\x01\x03\x14\x00\x00\x03\x40\x01\x00\x03\x30\x02\x05' >"$dir/seed-signed-flips"
            ;;
        host_calls) ;; # libFuzzer starts from nothing: any bytes decode to calls.
        *)
            echo "fuzz.sh: unknown target \`$t\` (manifest, package, scenario, host_calls)" >&2
            exit 2
            ;;
    esac
}

mkdir -p fuzz/target/logs
summary=()
crashed=0
for t in "${targets[@]}"; do
    seed "$t"
    log=fuzz/target/logs/$t.log
    mkdir -p "fuzz/artifacts/$t"
    stamp=fuzz/target/logs/$t.started
    touch "$stamp"
    echo "fuzzing $t for ${seconds}s (log: $log)" >&2
    # host_calls runs tens of inputs a second, not thousands: libFuzzer's
    # slow growth of the input length would keep its scripts to a call or
    # two for most of a run, so it starts at full length.
    extra=()
    if [ "$t" = host_calls ]; then
        extra=(-len_control=0 -max_len=2048)
    fi
    cmd=(cargo +nightly fuzz run -s none "$t" "fuzz/corpus/$t" --
        "-max_total_time=$seconds" -print_final_stats=1 -timeout=60 -rss_limit_mb=4096 "${extra[@]}")
    echo "+ ${cmd[*]}" >"$log"
    status=0
    (cd "$root" && "${cmd[@]}") >>"$log" 2>&1 || status=$?

    # libFuzzer's own figures: `Done N runs in S second(s)` (absent after a
    # crash), the final stats, and the first and last `cov:`/`ft:` lines.
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    added=$(sed -n 's/^stat::new_units_added: *//p' "$log" | tail -1)
    took=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
    first=$(grep -m1 -E '^#[0-9]+.*(INITED|DONE|NEW|pulse).* cov: ' "$log" || true)
    last=$(grep -E '^#[0-9]+.* cov: ' "$log" | tail -1 || true)
    field() { sed -n "s/.* $1: \\([0-9]*\\).*/\\1/p" <<<"$2"; }
    cov0=$(field cov "$first")
    cov1=$(field cov "$last")
    ft0=$(field ft "$first")
    ft1=$(field ft "$last")
    if [ -z "$runs" ]; then
        runs=$(sed -n 's/^#\([0-9]*\).*/\1/p' <<<"$last")
    fi
    found=$(find "fuzz/artifacts/$t" -type f -newer "$stamp" | tr '\n' ' ')
    if ! grep -q '^INFO: Seed:' "$log"; then
        crashed=1
        verdict="DID NOT RUN (exit $status): the build failed, see $log"
    elif [ "$status" -ne 0 ] || [ -n "$found" ]; then
        crashed=1
        verdict="FOUND (exit $status): ${found:-no artifact, see the log}"
    else
        verdict="none"
    fi

    # Minimise the corpus, then keep it under ~2 MB of content (what git
    # stores, not disk blocks): drop the largest inputs first.
    if [ "$status" -eq 0 ]; then
        (cd "$root" && cargo +nightly fuzz cmin -s none "$t" "fuzz/corpus/$t" -- -rss_limit_mb=4096) \
            >>"$log" 2>&1 || echo "fuzz.sh: cmin of $t failed (see $log)" >&2
    fi
    corpus_bytes() { find "fuzz/corpus/$t" -type f -printf '%s\n' | awk '{ n += $1 } END { print n + 0 }'; }
    bytes=$(corpus_bytes)
    if [ "$bytes" -gt $((2 * 1024 * 1024)) ]; then
        find "fuzz/corpus/$t" -type f -printf '%s %p\n' | sort -rn |
            awk -v over=$((bytes - 2 * 1024 * 1024)) '{ if (freed < over) { freed += $1; print substr($0, index($0, " ") + 1) } }' |
            while IFS= read -r f; do rm -f -- "$f"; done
        bytes=$(corpus_bytes)
    fi
    files=$(find "fuzz/corpus/$t" -type f | wc -l)
    size="$((bytes / 1024)) KiB"

    line=$(printf '%-11s runs %-10s exec/s %-6s time %-5s cov %s->%s ft %s->%s new-units %-5s corpus %s files %s  findings: %s' \
        "$t" "${runs:-?}" "${rate:-?}" "${took:-?}s" "${cov0:-?}" "${cov1:-?}" "${ft0:-?}" "${ft1:-?}" \
        "${added:-?}" "$files" "$size" "$verdict")
    summary+=("$line")
    echo "$line" >&2
done

echo
echo "fuzz summary (${seconds}s per target; logs in fuzz/target/logs):"
printf '  %s\n' "${summary[@]}"
exit "$crashed"
