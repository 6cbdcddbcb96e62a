//! A process killed with SIGKILL in the middle of a loop of payments leaves a
//! sound ledger holding every payment it confirmed.
//!
//! The test runs its own binary again as the child (selected by an
//! environment variable), which pays in a loop on a store file and prints a
//! line per committed payment; the parent kills it mid-loop and checks the
//! store.

use plaza_host::keys::{HostKeys, verify};
use plaza_host::ledger::LineItem;
use plaza_host::store::{LedgerStore, PayCommand, PayResult, SqliteStore};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const STORE_VAR: &str = "PLAZA_CRASH_TEST_STORE";

/// The child: pays forever, printing `PAID <order> <transaction>` after each
/// commit. Does nothing when not run as the child.
#[test]
fn child_pays_in_a_loop() {
    let Some(path) = std::env::var_os(STORE_VAR) else {
        return;
    };
    let store = SqliteStore::open(std::path::Path::new(&path)).unwrap();
    let keys = HostKeys::load(&store).unwrap();
    store
        .top_up("tx-topup", "ann", 1_000_000_000, "CNY", 0)
        .unwrap();
    let mut out = std::io::stdout().lock();
    for n in 1.. {
        let cmd = PayCommand {
            tx_id: format!("tx-{n}"),
            app_id: "cn.a.clinic".into(),
            publisher_id: "cn.a".into(),
            payee: "Clinic A".into(),
            user: "ann".into(),
            order_id: format!("o-{n}"),
            amount: 100,
            currency: "CNY".into(),
            description: "visit".into(),
            items: vec![LineItem {
                name: "visit".into(),
                quantity: 1,
                unit_price: 100,
                insurance_eligible: false,
            }],
            at_ms: n,
            insurance: None,
        };
        match store.pay(&cmd, &|m| keys.sign(m)).unwrap() {
            PayResult::Paid(p) => {
                writeln!(
                    out,
                    "PAID {} {}",
                    p.receipt.order_id, p.receipt.transaction_id
                )
                .unwrap();
                out.flush().unwrap();
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[test]
fn sigkill_in_a_loop_of_payments_loses_no_confirmed_payment() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.db");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_pays_in_a_loop",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(STORE_VAR, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut confirmed = Vec::new();
    let started = Instant::now();
    while confirmed.len() < 200 && started.elapsed() < Duration::from_secs(60) {
        let Some(Ok(line)) = lines.next() else { break };
        if let Some(rest) = line.strip_prefix("PAID ") {
            let (order, tx) = rest.split_once(' ').unwrap();
            confirmed.push((order.to_string(), tx.to_string()));
        }
    }
    // SIGKILL: no destructor, no flush, no rollback runs in the child.
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        confirmed.len() >= 200,
        "the child confirmed only {} payments",
        confirmed.len()
    );

    let store = SqliteStore::open(&path).unwrap();
    let keys = HostKeys::load(&store).unwrap();
    let pk = keys.public_key_hex();
    let report = store.verify_ledger(&|m, s| verify(&pk, m, s)).unwrap();
    assert!(report.is_clean(), "{:?}", report.problems);
    for (order, tx) in &confirmed {
        let p = store.payment("cn.a.clinic", order).unwrap();
        assert_eq!(
            p.map(|p| p.receipt.transaction_id).as_deref(),
            Some(tx.as_str()),
            "{order} lost"
        );
    }
    // The wallet paid exactly for the payments that are there (the kill may
    // have come after a commit whose line was not read).
    assert!(report.payments >= confirmed.len() as u64);
    let balance = store.balance("wallet:ann").unwrap();
    assert_eq!(balance, 1_000_000_000 - 100 * report.payments as i64);
}
