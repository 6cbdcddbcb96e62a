#!/usr/bin/env bash
# The demo: builds the sample mini-apps, packs them, signs them with their
# publisher's key, registers the publisher in the host's registry of trusted
# publishers, installs them into the default store (or $PLAZA_STORE) and walks
# through them headlessly, as a new user each run.
set -euo pipefail
user="demo-$(date +%Y%m%d-%H%M%S)"
cd "$(dirname "$0")/.."
scripts/ensure-toolchain.sh
cargo build --release -p plaza-cli -p plaza-agency-backend
# The pinned JavaScript toolchain of the TypeScript sample (hotel-finder),
# installed by `plaza pack` on first use.
export PLAZA_TOOLCHAINS="${PLAZA_TOOLCHAINS:-$PWD/target/toolchains}"
plaza=target/release/plaza
# The parcel-tracking sample is Python: `plaza pack` builds it with
# componentize-py, installed once into target/toolchains.
export PLAZA_TOOLCHAINS="${PLAZA_TOOLCHAINS:-$PWD/target/toolchains}"
mkdir -p target/demo

# The samples' back-end (crates/agency-backend), on 127.0.0.1:47180 for this
# run, started once the samples are installed (below): the city's agency
# records, and the hospital's, the bank's and the city's back offices, acting
# through the publisher API of the host on the demo's store with each
# mini-app's app secret. The samples declare it as http://localhost:47180:
# plain HTTP to loopback, which the host allows only in developer mode, so
# their walk-throughs below run with PLAZA_DEVELOPER_MODE=1.
store="${PLAZA_STORE:-${XDG_DATA_HOME:-$HOME/.local/share}/plaza/plaza.db}"
backend_pid=
trap '[ -n "$backend_pid" ] && kill "$backend_pid" 2>/dev/null || true' EXIT
secrets=()

# `toml_value FILE TABLE KEY`: a string value of plaza.toml.
toml_value() {
    awk -v table="[$2]" -v key="$3" '
        $0 == table { inside = 1; next }
        /^\[/ { inside = 0 }
        inside && $1 == key { sub(/^[^=]*= *"/, ""); sub(/".*$/, ""); print; exit }
    ' "$1"
}

# What the host knows of the demo user; the user allows the hospital to read
# the verified real name (as in the host's settings: the CLI asks nobody).
"$plaza" user set --user "$user" --nickname "Na" --phone 13800138000 \
    --real-name "Li Na" --id-number 330106199001010022 --verified \
    --location 30.2741,120.1551 >/dev/null
# Money in the wallet (the host tops it up, never a mini-app) and a medical
# insurance card: 70 % of eligible items, up to 3,000 yuan a year.
"$plaza" wallet topup --user "$user" --amount 500
# And the night at a hotel (hotel-finder).
"$plaza" wallet topup --user "$user" --amount 500
"$plaza" insurance bind --user "$user" --card 3301-0001-0022 --holder "Li Na" \
    --scheme "Hangzhou basic medical insurance" --coverage 70 --annual-cap 3000

for app in sample-miniapps/*/; do
    [ -f "$app/plaza.toml" ] || continue
    name=$(basename "$app")
    pkg=target/demo/$name.plaza
    id=$(toml_value "$app/plaza.toml" app id)
    publisher=$(toml_value "$app/plaza.toml" publisher id)
    "$plaza" pack "$app" -o "$pkg"

    echo
    echo "=== $name: trust ==="
    # The publisher's key pair, made once and kept in target/demo.
    key=target/demo/$publisher.key
    [ -f "$key" ] || "$plaza" keygen -o "$key"
    # The host operator registers (and here verifies) the publisher ...
    "$plaza" publisher add "$publisher" \
        --name "$(toml_value "$app/plaza.toml" publisher name)" \
        --category "$(toml_value "$app/plaza.toml" publisher category)" \
        --key "$key.pub" --verified
    # ... the publisher signs the package, and anyone can check it.
    "$plaza" sign "$pkg" --key "$key"
    "$plaza" verify "$pkg"
    "$plaza" inspect "$pkg"
    # An update needs a higher version: start from a clean install so that a
    # sample rebuilt at the same version installs again.
    "$plaza" uninstall "$id" >/dev/null 2>&1 || true
    "$plaza" install "$pkg"
    "$plaza" grants set --user "$user" "$id" real-name allow
    "$plaza" grants set --user "$user" "$id" insurance-card allow
    "$plaza" grants set --user "$user" "$id" location allow
    # The institution's back-end gets a new app secret (shown once).
    secrets+=(--secret "$id=$("$plaza" secret reset "$id" 2>/dev/null)")
done

echo
echo "=== the samples' back-end, with the institutions' back offices ==="
target/release/plaza-agency-backend 127.0.0.1:47180 --store "$store" "${secrets[@]}" &
backend_pid=$!
sleep 0.5
if ! kill -0 "$backend_pid" 2>/dev/null; then
    echo "note: the samples' back-end did not start (is 127.0.0.1:47180 taken?);" \
        "city-services will show its 'Records unavailable' notice, and no back office acts" >&2
    backend_pid=
fi

for app in sample-miniapps/*/; do
    [ -f "$app/plaza.toml" ] || continue
    name=$(basename "$app")
    id=$(toml_value "$app/plaza.toml" app id)
    if [ -f "$app/demo.script" ]; then
        echo
        echo "=== $name: $app/demo.script ==="
        # The user confirms every payment the script leads to and accepts the
        # message templates offered.
        # A mini-app that calls a loopback backend over plain HTTP needs
        # developer mode (the package is still the signed one).
        dev=0
        grep -q '^\[capabilities.network\]' "$app/plaza.toml" && dev=1
        PLAZA_DEVELOPER_MODE=$dev "$plaza" run "$id" --user "$user" --script "$app/demo.script" \
            --pay confirm --subscribe long-term
    fi
done

# The back offices at work, at this machine's time: a booking for tomorrow
# with its deposit paid; the hospital reminds the patient (the day before)
# and then cancels tomorrow's clinic, refunding the deposit once however
# often it is run.
if [ -n "$backend_pid" ] && command -v curl >/dev/null; then
    echo
    echo "=== the hospital's back office ==="
    script=target/demo/hospital-back-office.script
    printf '%s\n' 'tap dept:obstetrics' 'tap doctor:chen-li' 'tap earliest:chen-li' \
        'submit patient name="Li Na" phone=13800138000' 'tap deposit:B0002' >"$script"
    PLAZA_DEVELOPER_MODE=1 "$plaza" run cn.hz.maternity --user "$user" --script "$script" \
        --pay confirm --subscribe accept
    office=http://127.0.0.1:47180/offices
    curl -sS -X POST "$office/hospital/send-reminders"
    tomorrow=$(date -u -d '+8 hours +1 day' +%F)
    for run in first again; do
        echo "cancel-clinic chen-li $tomorrow ($run):"
        curl -sS -X POST --data-binary $'doctor=chen-li\nday='"$tomorrow" "$office/hospital/cancel-clinic"
    done
    curl -sS -X POST "$office/bank/send-reminders"
    curl -sS -X POST "$office/city/announce-lottery"
fi
echo
echo "=== the demo user's consent decisions ==="
"$plaza" grants list --user "$user"
echo
echo "=== the demo user's wallet ==="
"$plaza" wallet history --user "$user"
"$plaza" insurance show --user "$user"
echo
echo "=== the demo user's inbox ==="
"$plaza" inbox --user "$user"
echo
echo "=== the ledger ==="
"$plaza" ledger verify
echo
echo "=== what the mini-apps accessed ==="
"$plaza" audit --user "$user" --limit 40
echo
echo "=== the sample mini-apps' scenarios (tests/scenarios; docs/scenarios.md) ==="
# Each scenario on its own temporary store with a test clock: the flows above
# and more, checked page by page (`plaza test --show` prints every page).
"$plaza" test tests/scenarios
# The parcel-tracking sample's (Python): in its folder, with the test clock.
"$plaza" test sample-miniapps/parcel-tracking/scenarios
