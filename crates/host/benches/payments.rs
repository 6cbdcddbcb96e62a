//! Durable payments per second on the default store (a SQLite file, WAL,
//! `synchronous = FULL`): each payment is complete — order check, balance
//! check, transaction, postings, the payment row, the signed receipt — and
//! returns only once committed with an fsync.
//!
//! Three parts, in one run:
//!
//! - `durable payments/…` (criterion): one payer after another, the latency
//!   of one payment on its own;
//! - `concurrent store`: N threads (1, 8, 64, 256), each its own user and
//!   orders, paying through the store for a few seconds; payments per second
//!   and each payment's p50 and p99 latency, for the store committing every
//!   payment on its own (`max batch 1`, as before group commit) and with
//!   group commit (the default);
//! - `concurrent host`: the same through a real [`Host`]: N sessions of the
//!   cashier guest on a 2-worker tokio runtime, each paying in a loop (a
//!   launch event that asks for a payment the user confirms: the gate, the
//!   audit entries, the prompt, the payment);
//! - `nodes`: N threads paying through one SQLite store (group commit),
//!   then through 1, 2 and 3 nodes (`PostgresStore`s, each its own pool) on
//!   one PostgreSQL database of the test cluster (`scripts/ensure-postgres.sh`
//!   or `$PLAZA_TEST_POSTGRES`), the threads spread over the nodes.
//!
//! ```text
//! RUST_BACKTRACE=0 RUST_LIB_BACKTRACE=0 cargo bench -p plaza-host --bench payments
//! # one part: ... --bench payments -- 'concurrent store'
//! # seconds per point (default 3; 0.2 when run as a test): PLAZA_BENCH_SECS=5
//! ```

use criterion::{Criterion, Throughput};
use plaza_host::clock::{ManualClock, SequentialIds};
use plaza_host::keys::HostKeys;
use plaza_host::ledger::LineItem;
use plaza_host::package::Package;
use plaza_host::prompt::{PaymentAnswer, ScriptedPayment, ScriptedPrompter};
use plaza_host::sandbox::SandboxLimits;
use plaza_host::store::{
    DEFAULT_MAX_BATCH, InsuranceTerms, LedgerStore, PayCommand, PayResult, PostgresStore,
    SqliteStore, test_server_url,
};
use plaza_host::{Block, Host, HostConfig};
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

const CONCURRENCY: [usize; 4] = [1, 8, 64, 256];

fn command(user: u64, n: u64, insured: bool) -> PayCommand {
    PayCommand {
        tx_id: format!("tx-{user}-{n}"),
        app_id: "cn.hz.maternity".into(),
        generation: 0,
        publisher_id: "cn.hz.hospitals.maternity".into(),
        payee: "Hangzhou Maternity Hospital".into(),
        user: format!("user-{user}"),
        order_id: format!("o-{user}-{n}"),
        amount: 17_500,
        currency: "CNY".into(),
        description: "Consultation bill".into(),
        items: vec![
            LineItem {
                name: "Consultation".into(),
                quantity: 1,
                unit_price: 5_000,
                insurance_eligible: true,
            },
            LineItem {
                name: "Ultrasound".into(),
                quantity: 1,
                unit_price: 12_000,
                insurance_eligible: true,
            },
            LineItem {
                name: "Booklet".into(),
                quantity: 1,
                unit_price: 500,
                insurance_eligible: false,
            },
        ],
        at_ms: n as i64,
        insurance: insured.then_some(InsuranceTerms {
            coverage_bp: 7_000,
            annual_cap: u64::MAX / 4,
            year: 2026,
        }),
    }
}

fn top_up_users(store: &dyn LedgerStore, users: usize) {
    for u in 0..users {
        store
            .top_up(
                &format!("topup-{u}"),
                &format!("user-{u}"),
                1_000_000_000_000,
                "CNY",
                0,
            )
            .unwrap();
    }
}

/// One payer after another (criterion).
fn sequential(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("bench.db")).unwrap();
    let keys = HostKeys::load(&store).unwrap();
    top_up_users(&store, 100);
    let mut group = c.benchmark_group("durable payments");
    group.throughput(Throughput::Elements(1));
    for insured in [false, true] {
        let mut n = if insured { 1_000_000_000 } else { 0 };
        group.bench_function(
            if insured {
                "with insurance"
            } else {
                "wallet only"
            },
            |b| {
                b.iter(|| {
                    n += 1;
                    let r = store
                        .pay(black_box(&command(n % 100, n, insured)), &|m| keys.sign(m))
                        .unwrap();
                    assert!(matches!(r, PayResult::Paid(_)));
                })
            },
        );
    }
    group.finish();
}

/// Payments per second and latency percentiles of one run.
struct Row {
    payments: usize,
    per_second: f64,
    p50: Duration,
    p99: Duration,
    mean_batch: f64,
}

impl Row {
    fn of(mut latencies: Vec<Duration>, elapsed: Duration, mean_batch: f64) -> Row {
        latencies.sort();
        let at = |q: usize| latencies[(latencies.len() * q / 100).min(latencies.len() - 1)];
        Row {
            payments: latencies.len(),
            per_second: latencies.len() as f64 / elapsed.as_secs_f64(),
            p50: at(50),
            p99: at(99),
            mean_batch,
        }
    }
}

fn print_header(title: &str) {
    println!("\n{title}");
    println!(
        "{:<14} {:>5} {:>10} {:>12} {:>10} {:>10} {:>11}",
        "store", "N", "payments", "payments/s", "p50 ms", "p99 ms", "mean batch"
    );
}

fn print_row(mode: &str, n: usize, r: &Row) {
    println!(
        "{:<14} {:>5} {:>10} {:>12.0} {:>10.2} {:>10.2} {:>11.1}",
        mode,
        n,
        r.payments,
        r.per_second,
        r.p50.as_secs_f64() * 1e3,
        r.p99.as_secs_f64() * 1e3,
        r.mean_batch
    );
}

fn modes() -> [(&'static str, usize); 2] {
    [("max batch 1", 1), ("group commit", DEFAULT_MAX_BATCH)]
}

/// N threads paying through the store at once for `secs`.
fn concurrent_store_run(max_batch: usize, payers: usize, secs: Duration) -> Row {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(
        SqliteStore::open(&dir.path().join("bench.db"))
            .unwrap()
            .with_max_batch(max_batch),
    );
    top_up_users(&*store, payers);
    let before = store.group_commit_stats();
    let mut row = payers_run(&[store.clone() as Arc<dyn LedgerStore>], payers, secs);
    let after = store.group_commit_stats();
    row.mean_batch =
        (after.commands - before.commands) as f64 / (after.commits - before.commits) as f64;
    row
}

fn concurrent_store(secs: Duration) {
    print_header("concurrent store: N threads paying through SqliteStore::pay");
    for n in CONCURRENCY {
        for (mode, max_batch) in modes() {
            print_row(mode, n, &concurrent_store_run(max_batch, n, secs));
        }
    }
}

/// The cashier's page says `outcome: paid`.
fn paid(page: &plaza_host::Page) -> bool {
    page.blocks
        .iter()
        .any(|b| matches!(b, Block::Field(f) if f.label == "outcome" && f.value == "paid"))
}

/// N sessions of the cashier paying through a real host at once for `secs`.
fn concurrent_host_run(max_batch: usize, payers: usize, secs: Duration) -> Row {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(
        SqliteStore::open(&dir.path().join("plaza.db"))
            .unwrap()
            .with_max_batch(max_batch),
    );
    let prompter = Arc::new(ScriptedPrompter::new());
    prompter.answer_payments(ScriptedPayment::Answer(PaymentAnswer::Confirm));
    let config = HostConfig::default()
        .cache_dir(Some(dir.path().join("cache")))
        .limits(SandboxLimits {
            memory_bytes: 32 * 1024 * 1024,
            cpu_deadline: Duration::from_secs(5),
            ..SandboxLimits::default()
        })
        .clock(Arc::new(ManualClock::new(1_795_222_800_000)))
        .ids(Arc::new(SequentialIds::default()))
        .prompter(prompter)
        .developer_mode(true);
    let host = Host::with_store(store.clone(), config).unwrap();
    let fixture = &plaza_test_programs::CASHIER;
    let package = Package::new(&fixture.manifest_text(), fixture.component_bytes()).unwrap();
    rt.block_on(host.install(package)).unwrap();
    for u in 0..payers {
        host.top_up(&format!("user-{u}"), 1_000_000_000, "CNY")
            .unwrap();
    }
    let stop = Arc::new(AtomicBool::new(false));
    let (latencies, elapsed, batch) = rt.block_on(async {
        let ready = Arc::new(tokio::sync::Barrier::new(payers + 1));
        let tasks: Vec<_> = (0..payers)
            .map(|u| {
                let (host, stop, ready) = (host.clone(), stop.clone(), ready.clone());
                tokio::spawn(async move {
                    let session = host
                        .session(&format!("user-{u}"), "test.plaza.cashier")
                        .unwrap();
                    let mut latencies = Vec::new();
                    ready.wait().await;
                    let mut n = 0;
                    while !stop.load(Ordering::Relaxed) {
                        n += 1;
                        // The launch names the payment (not timed); the
                        // user's tap makes it.
                        session
                            .launch(&format!("/pay?order=o-{u}-{n}&amount=100"))
                            .await
                            .unwrap();
                        let t = Instant::now();
                        let page = session.tap("pay").await.unwrap();
                        latencies.push(t.elapsed());
                        assert!(paid(&page), "{page:?}");
                    }
                    latencies
                })
            })
            .collect();
        ready.wait().await;
        let before = store.group_commit_stats();
        let began = Instant::now();
        tokio::time::sleep(secs).await;
        stop.store(true, Ordering::Relaxed);
        let mut latencies = Vec::new();
        for t in tasks {
            latencies.extend(t.await.unwrap());
        }
        let elapsed = began.elapsed();
        let after = store.group_commit_stats();
        let batch =
            (after.commands - before.commands) as f64 / (after.commits - before.commits) as f64;
        (latencies, elapsed, batch)
    });
    let report = host.verify_ledger().unwrap();
    assert!(report.is_clean(), "{:?}", report.problems);
    Row::of(latencies, elapsed, batch)
}

fn concurrent_host(secs: Duration) {
    print_header(
        "concurrent host: N cashier sessions paying through a Host (2 tokio workers); \
         mean batch counts every store write (audit entries too)",
    );
    for n in CONCURRENCY {
        for (mode, max_batch) in modes() {
            print_row(mode, n, &concurrent_host_run(max_batch, n, secs));
        }
    }
}

/// `payers` threads paying for `secs`, thread `u` through `stores[u % len]`
/// as `user-{u}` (topped up by the caller); the mean batch is left to the
/// caller (NaN).
fn payers_run(stores: &[Arc<dyn LedgerStore>], payers: usize, secs: Duration) -> Row {
    let keys = Arc::new(HostKeys::load(&SqliteStore::open_in_memory().unwrap()).unwrap());
    let stop = Arc::new(AtomicBool::new(false));
    let start = Arc::new(Barrier::new(payers + 1));
    let threads: Vec<_> = (0..payers)
        .map(|user| {
            let store = stores[user % stores.len()].clone();
            let (keys, stop, start) = (keys.clone(), stop.clone(), start.clone());
            std::thread::spawn(move || {
                let mut latencies = Vec::new();
                start.wait();
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let cmd = command(user as u64, n, false);
                    let t = Instant::now();
                    let r = store.pay(&cmd, &|m| keys.sign(m)).unwrap();
                    latencies.push(t.elapsed());
                    assert!(matches!(r, PayResult::Paid(_)));
                }
                latencies
            })
        })
        .collect();
    start.wait();
    let began = Instant::now();
    std::thread::sleep(secs);
    stop.store(true, Ordering::Relaxed);
    let latencies: Vec<Duration> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    Row::of(latencies, began.elapsed(), f64::NAN)
}

fn nodes(secs: Duration) {
    print_header(
        "nodes: N threads paying through one SQLite store, or 1-3 nodes on one PostgreSQL",
    );
    let server = test_server_url().expect("PostgreSQL for the benchmark");
    for n in [8, 64] {
        let dir = tempfile::tempdir().unwrap();
        let sqlite: Arc<dyn LedgerStore> =
            Arc::new(SqliteStore::open(&dir.path().join("bench.db")).unwrap());
        top_up_users(&*sqlite, n);
        print_row("sqlite", n, &payers_run(&[sqlite], n, secs));
        for nodes in 1..=3 {
            let owner = PostgresStore::open_throwaway(&server).unwrap();
            let stores: Vec<Arc<dyn LedgerStore>> = (0..nodes)
                .map(|_| {
                    Arc::new(PostgresStore::open(owner.url()).unwrap()) as Arc<dyn LedgerStore>
                })
                .collect();
            top_up_users(&owner, n);
            let row = payers_run(&stores, n, secs);
            print_row(&format!("postgres x{nodes}"), n, &row);
            drop(stores);
        }
    }
}

fn main() {
    // The filter criterion would take, if any: selects the parts to run.
    let filter = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .unwrap_or_default();
    let wanted = |name: &str| name.contains(&filter) || filter.contains(name);
    // `cargo test --all-targets` runs benches without `--bench`: once each,
    // briefly, to show they still work.
    let measuring = std::env::args().any(|a| a == "--bench");
    let secs = Duration::from_secs_f64(
        std::env::var("PLAZA_BENCH_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(if measuring { 3.0 } else { 0.2 }),
    );
    {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("bench.db")).unwrap();
        let (journal, sync) = store.durability().unwrap();
        eprintln!("store: journal_mode={journal}, synchronous={sync} (2 = FULL)");
    }
    let mut c = Criterion::default().configure_from_args();
    if filter.is_empty() || wanted("durable payments") {
        sequential(&mut c);
    }
    if filter.is_empty() || wanted("concurrent store") {
        concurrent_store(secs);
    }
    if filter.is_empty() || wanted("concurrent host") {
        concurrent_host(secs);
    }
    if filter.is_empty() || wanted("nodes") {
        nodes(secs);
    }
    c.final_summary();
}
