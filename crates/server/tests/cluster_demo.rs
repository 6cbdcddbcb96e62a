//! `scripts/cluster-demo.sh` end to end: three `plaza-server` processes on
//! one PostgreSQL database, nginx in front hashing each user to a node, the
//! hospital walked by six patients through nginx, one node SIGKILLed while
//! a patient's payment prompt waits on it. The script's own checks (every
//! booking and one deposit per patient there, the ledger clean) must pass,
//! and its account must show the kill and what followed.

mod support;

use plaza_host::package::{Package, PublisherKey};
use std::process::Command;

#[test]
fn the_cluster_demo_loses_nothing_when_a_node_dies_mid_payment() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let dir = tempfile::tempdir().unwrap();
    // The hospital, signed by a publisher key made here (as the demo makes
    // one with `plaza keygen` when it builds the package itself).
    let f = plaza_test_programs::HOSPITAL;
    let mut package = Package::new(&f.manifest_text(), f.component_bytes()).unwrap();
    let key = PublisherKey::generate().unwrap();
    package.sign(&key).unwrap();
    let package_file = dir.path().join("hospital.plaza");
    std::fs::write(&package_file, package.to_bytes()).unwrap();
    let postgres = plaza_host::store::test_server_url().expect("PostgreSQL for the tests");

    let out = Command::new("bash")
        .arg(format!("{root}/scripts/cluster-demo.sh"))
        .env("PLAZA_DEMO_SERVER", env!("CARGO_BIN_EXE_plaza-server"))
        .env("PLAZA_DEMO_PACKAGE", &package_file)
        .env("PLAZA_DEMO_PUBLISHER_KEY", key.public_key_hex())
        .env("PLAZA_DEMO_CACHE", support::shared_cache())
        .env("PLAZA_POSTGRES_URL", &postgres)
        .output()
        .expect("run scripts/cluster-demo.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the demo failed ({}):\n{stdout}\n--- stderr:\n{stderr}",
        out.status
    );
    let line = |needle: &str| {
        stdout
            .lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no line with `{needle}` in:\n{stdout}"))
            .to_string()
    };
    // Three nodes, and nginx in front of them.
    for node in [
        "node1: http://",
        "node2: http://",
        "node3: http://",
        "nginx: http://",
    ] {
        line(node);
    }
    // The victim's node died with her prompt waiting; her answer reached
    // another node, which knew no such prompt, and nothing was paid.
    let killed = line("killed node");
    assert!(killed.contains("liu-yang"), "{killed}");
    let answer = line("the answer to that prompt went to");
    assert!(answer.contains("404 no-such-prompt"), "{answer}");
    line("liu-yang: her wallet still holds CNY 1000.00: nothing was paid");
    // She carried on on another node, and paid once.
    let after = line("her bookings show B0001; deposit CNY 50.00");
    assert!(after.starts_with("liu-yang: on node"), "{after}");
    let verify = line("ledger verify through");
    assert!(verify.contains("clean = true, 6 payments"), "{verify}");
    line("cluster demo: nothing lost (6 patients booked, 6 deposits paid once each");
}
