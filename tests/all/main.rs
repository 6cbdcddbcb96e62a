//! Integration tests across Plaza's crates: real components (built once per
//! run by `plaza-test-programs`) in a real host on a temporary SQLite store.
//! See `tests/README.md`.

mod support;

mod abuse;
mod app_id_owner;
mod audit;
mod bad_neighbours;
mod bank_sample;
mod bench_app;
mod cache;
mod cashier;
mod city_services_sample;
mod contract_v0_1;
mod form_probe;
mod future_caps;
mod fuzz_caller;
mod history;
mod hospital;
mod hospital_patient;
mod hostile;
mod identity_probe;
mod kv_notes;
mod links;
mod manifests;
mod many_apps;
mod media_probe;
mod messaging_probe;
mod misbehave;
mod network;
mod nodes;
mod notifications;
mod patient_attacker;
mod pool;
mod privacy;
mod publisher_api;
mod scan_probe;
mod settings;
mod shop;
mod sim_probe;
mod trust;
mod undeclared_storage;
mod wasi_probe;

// The `http-probe` fixture's tests are the network tests; `settings-probe`'s
// are the settings tests.
use network as http_probe;
use settings as settings_probe;

/// Every test fixture has a test module named after it: a fixture added
/// without tests fails to compile here.
macro_rules! assert_fixture_has_tests {
    ($name:ident) => {
        #[allow(unused_imports)]
        use crate::$name as _;
    };
}
plaza_test_programs::foreach_fixture!(assert_fixture_has_tests);
