//! Events and payments per second through real hosts: one host on a SQLite
//! file, then 1, 2 and 3 hosts ("nodes", each with its own store and pool
//! of connections, as separate `plaza-server` processes have) on one
//! PostgreSQL database of the test cluster (`scripts/ensure-postgres.sh`, or
//! `$PLAZA_TEST_POSTGRES`), in one run.
//!
//! N users at once, each with its own sessions on node `u % nodes` (as a
//! load balancer hashing user ids spreads them), on one 2-worker tokio
//! runtime:
//!
//! - `events`: the kv-notes guest's `put` form, one storage write each (the
//!   gate, the quota check, the write committed durably): events per second
//!   and each event's p50 and p99;
//! - `payments`: the cashier guest's `pay` tap, a complete payment the user
//!   confirms (the gate, the audit entry, the prompt, the order check, the
//!   balance, the postings, the signed receipt): payments per second and
//!   each payment's p50 and p99. Every payment goes to one merchant.
//!
//! ```text
//! RUST_BACKTRACE=0 RUST_LIB_BACKTRACE=0 cargo bench -p plaza-host --bench nodes
//! # seconds per point (default 3; 0.2 when run as a test): PLAZA_BENCH_SECS=5
//! # users at once (default 16): PLAZA_BENCH_USERS=32
//! ```
//!
//! Figures and what they show: docs/performance.md.

use plaza_host::clock::{ManualClock, RandomIds};
use plaza_host::package::Package;
use plaza_host::prompt::{PaymentAnswer, ScriptedPayment, ScriptedPrompter};
use plaza_host::sandbox::SandboxLimits;
use plaza_host::store::{PostgresStore, test_server_url};
use plaza_host::{Block, Host, HostConfig, Page};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const CASHIER: &str = "test.plaza.cashier";
const NOTES: &str = "test.plaza.kv-notes";

/// A node's configuration: the run's compiled-component cache, random ids
/// (nodes must not hand out the same transaction ids), payments confirmed
/// at once.
fn config(cache: &Path) -> HostConfig {
    let prompter = ScriptedPrompter::new();
    prompter.answer_payments(ScriptedPayment::Answer(PaymentAnswer::Confirm));
    HostConfig::default()
        .cache_dir(Some(cache.to_path_buf()))
        .limits(SandboxLimits {
            memory_bytes: 32 * 1024 * 1024,
            cpu_deadline: Duration::from_secs(5),
            ..SandboxLimits::default()
        })
        .clock(Arc::new(ManualClock::new(1_795_222_800_000)))
        .ids(Arc::new(RandomIds::default()))
        .prompter(Arc::new(prompter))
        .idle_timeout(None)
        .developer_mode(true)
}

/// The nodes of one backend, on one store, set up: the two guests
/// installed, `users` wallets topped up.
struct Nodes {
    name: String,
    hosts: Vec<Host>,
    /// The PostgreSQL database, dropped last.
    _database: Option<PostgresStore>,
}

impl Nodes {
    fn open(
        rt: &tokio::runtime::Runtime,
        name: String,
        location: &Path,
        nodes: usize,
        cache: &Path,
        users: usize,
        database: Option<PostgresStore>,
    ) -> Nodes {
        let _in_rt = rt.enter();
        let hosts: Vec<Host> = (0..nodes)
            .map(|_| Host::open(location, config(cache)).unwrap())
            .collect();
        for f in [
            &plaza_test_programs::CASHIER,
            &plaza_test_programs::KV_NOTES,
        ] {
            let package = Package::new(&f.manifest_text(), f.component_bytes()).unwrap();
            rt.block_on(hosts[0].install(package)).unwrap();
        }
        for u in 0..users {
            hosts[0]
                .top_up(&format!("user-{u}"), 1_000_000_000, "CNY")
                .unwrap();
        }
        Nodes {
            name,
            hosts,
            _database: database,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Events,
    Payments,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Events => "events",
            Kind::Payments => "payments",
        }
    }
}

/// Operations per second and latency percentiles of one point.
struct Row {
    ops: usize,
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

impl Row {
    fn of(mut latencies: Vec<Duration>, elapsed: Duration) -> Row {
        latencies.sort();
        let at = |q: usize| latencies[(latencies.len() * q / 100).min(latencies.len() - 1)];
        Row {
            ops: latencies.len(),
            per_second: latencies.len() as f64 / elapsed.as_secs_f64(),
            p50: at(50),
            p99: at(99),
        }
    }
}

fn field<'a>(page: &'a Page, label: &str) -> Option<&'a str> {
    page.blocks.iter().find_map(|b| match b {
        Block::Field(f) if f.label == label => Some(f.value.as_str()),
        _ => None,
    })
}

fn saved(page: &Page) -> bool {
    page.blocks
        .iter()
        .any(|b| matches!(b, Block::Notice(n) if n.text.starts_with("Saved ")))
}

/// `users` users at once for `secs`, user `u` on node `u % nodes`; each
/// operation timed on its own.
fn run(
    rt: &tokio::runtime::Runtime,
    nodes: &Nodes,
    kind: Kind,
    users: usize,
    secs: Duration,
) -> Row {
    let stop = Arc::new(AtomicBool::new(false));
    let (latencies, elapsed) = rt.block_on(async {
        let ready = Arc::new(tokio::sync::Barrier::new(users + 1));
        let tasks: Vec<_> = (0..users)
            .map(|u| {
                let host = nodes.hosts[u % nodes.hosts.len()].clone();
                let (stop, ready) = (stop.clone(), ready.clone());
                tokio::spawn(async move {
                    let user = format!("user-{u}");
                    let app = match kind {
                        Kind::Events => NOTES,
                        Kind::Payments => CASHIER,
                    };
                    let session = host.session(&user, app).unwrap();
                    session.launch("/").await.unwrap();
                    let mut latencies = Vec::new();
                    ready.wait().await;
                    let mut n = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        n += 1;
                        match kind {
                            Kind::Events => {
                                let (key, value) = (format!("k{}", n % 8), format!("v{n}"));
                                let t = Instant::now();
                                let page = session
                                    .submit("put", &[("key", &key), ("value", &value)])
                                    .await
                                    .unwrap();
                                latencies.push(t.elapsed());
                                assert!(saved(&page), "{page:?}");
                            }
                            Kind::Payments => {
                                // The launch names the payment (not timed);
                                // the user's tap makes it.
                                let order = format!("o-{}-{u}-{n}", std::process::id());
                                session
                                    .launch(&format!("/pay?order={order}&amount=100"))
                                    .await
                                    .unwrap();
                                let t = Instant::now();
                                let page = session.tap("pay").await.unwrap();
                                latencies.push(t.elapsed());
                                assert_eq!(field(&page, "outcome"), Some("paid"), "{page:?}");
                            }
                        }
                    }
                    session.close().await;
                    latencies
                })
            })
            .collect();
        ready.wait().await;
        let began = Instant::now();
        tokio::time::sleep(secs).await;
        stop.store(true, Ordering::Relaxed);
        let mut latencies = Vec::new();
        for t in tasks {
            latencies.extend(t.await.unwrap());
        }
        (latencies, began.elapsed())
    });
    Row::of(latencies, elapsed)
}

fn main() {
    // `cargo test --all-targets` runs benches without `--bench`: once,
    // briefly, to show they still work.
    let measuring = std::env::args().any(|a| a == "--bench");
    let secs = Duration::from_secs_f64(
        std::env::var("PLAZA_BENCH_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(if measuring { 3.0 } else { 0.2 }),
    );
    let users: usize = std::env::var("PLAZA_BENCH_USERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(16);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let server = test_server_url().expect("PostgreSQL for the benchmark");

    println!(
        "nodes: {users} users at once, {:.1} s a point; events are kv-notes `put` forms (one storage write), payments cashier `pay` taps (one confirmed payment, one merchant)",
        secs.as_secs_f64()
    );
    println!(
        "{:<12} {:>5} {:>9} {:>8} {:>9} {:>9} {:>9}",
        "store", "nodes", "kind", "ops", "ops/s", "p50 ms", "p99 ms"
    );
    let mut backends = vec![Nodes::open(
        &rt,
        "sqlite".into(),
        &dir.path().join("plaza.db"),
        1,
        &cache,
        users,
        None,
    )];
    for n in 1..=3 {
        let database = PostgresStore::open_throwaway(&server).unwrap();
        let url = PathBuf::from(database.url());
        backends.push(Nodes::open(
            &rt,
            "postgres".into(),
            &url,
            n,
            &cache,
            users,
            Some(database),
        ));
    }
    for kind in [Kind::Events, Kind::Payments] {
        for nodes in &backends {
            let row = run(&rt, nodes, kind, users, secs);
            println!(
                "{:<12} {:>5} {:>9} {:>8} {:>9.0} {:>9.2} {:>9.2}",
                nodes.name,
                nodes.hosts.len(),
                kind.name(),
                row.ops,
                row.per_second,
                row.p50.as_secs_f64() * 1e3,
                row.p99.as_secs_f64() * 1e3,
            );
        }
    }
    for nodes in &backends {
        let report = nodes.hosts[0].verify_ledger().unwrap();
        assert!(report.is_clean(), "{}: {:?}", nodes.name, report.problems);
    }
    // The hosts go before their databases, and before the runtime.
    for nodes in backends {
        drop(nodes.hosts);
    }
    drop(rt);
}
