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
/// commit. Ignored in normal runs; the parent test runs it with `--ignored`.
#[test]
#[ignore = "the child process of sigkill_in_a_loop_of_payments_loses_no_confirmed_payment"]
fn child_pays_in_a_loop() {
    let path = std::env::var_os(STORE_VAR).expect("run by the crash test, which sets the store");
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
            "--ignored",
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
        // libtest may print `test child_pays_in_a_loop ... ` before the first.
        if let Some(rest) = line.find("PAID ").map(|i| &line[i + 5..]) {
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

const BROADCAST_VAR: &str = "PLAZA_CRASH_TEST_BROADCAST";
const FOLLOWERS: usize = 20_000;

/// The child: a broadcast to many followers, killed while it delivers.
/// Ignored in normal runs; the parent test runs it with `--ignored`.
#[test]
#[ignore = "the child process of a_host_restarted_mid_broadcast_delivers_it_exactly_once"]
fn child_broadcasts() {
    use plaza_host::store::{MessagingStore, Sender};
    let path =
        std::env::var_os(BROADCAST_VAR).expect("run by the crash test, which sets the store");
    let path = std::path::PathBuf::from(path);
    let store = SqliteStore::open(&path).unwrap();
    {
        let mut raw = rusqlite::Connection::open(&path).unwrap();
        let tx = raw.transaction().unwrap();
        for i in 0..FOLLOWERS {
            tx.execute(
                "INSERT INTO followers (app_id, user_id, followed_at_ms) VALUES ('cn.city', ?1, 0)",
                [format!("user-{i:05}")],
            )
            .unwrap();
        }
        tx.commit().unwrap();
    }
    let sender = Sender {
        app_id: "cn.city".into(),
        app_name: "City".into(),
        publisher_name: "City Hall".into(),
    };
    store
        .start_broadcast("bc-1", &sender, "Water", "Off on Monday", "2026-11", 4, 0)
        .unwrap();
    println!("STARTED");
    std::io::stdout().flush().unwrap();
    let mut n = 0;
    store
        .deliver_broadcast("bc-1", &mut || {
            n += 1;
            format!("msg-{n}")
        })
        .unwrap();
    println!("DONE");
    std::io::stdout().flush().unwrap();
}

#[tokio::test]
async fn a_host_restarted_mid_broadcast_delivers_it_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broadcast.db");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_broadcasts",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(BROADCAST_VAR, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let started = Instant::now();
    loop {
        match lines.next() {
            // libtest may print `test child_broadcasts ... ` before it.
            Some(Ok(l)) if l.ends_with("STARTED") => break,
            Some(_) if started.elapsed() < Duration::from_secs(60) => continue,
            _ => panic!("the child never started its broadcast"),
        }
    }
    // Delivery takes about a second (200 fsync'd batches); kill it early.
    std::thread::sleep(Duration::from_millis(20));
    child.kill().unwrap();
    child.wait().unwrap();

    let count = |sql: &str| -> i64 {
        rusqlite::Connection::open(&path)
            .unwrap()
            .query_row(sql, [], |r| r.get(0))
            .unwrap()
    };
    let before = count("SELECT COUNT(*) FROM inbox");
    assert!(
        (before as usize) < FOLLOWERS,
        "the kill came after the broadcast finished ({before} delivered): nothing was tested"
    );
    // Opening the host finishes what the killed one started.
    let host = plaza_host::Host::open(&path, plaza_host::HostConfig::default()).unwrap();
    drop(host);
    assert_eq!(count("SELECT COUNT(*) FROM inbox") as usize, FOLLOWERS);
    assert_eq!(
        count("SELECT COUNT(DISTINCT user_id) FROM inbox") as usize,
        FOLLOWERS
    );
    assert_eq!(count("SELECT COUNT(*) FROM broadcasts WHERE done = 0"), 0);
}
