//! Several hosts (nodes) on one PostgreSQL database: every guarantee a
//! single host makes holds across them. Each node is its own
//! `PostgresStore` (its own pool of connections) or its own `Host` on the
//! same database, as separate `plaza-server` processes would be. The
//! database is a throwaway one in the test run's cluster
//! (`scripts/ensure-postgres.sh`, `$PLAZA_TEST_POSTGRES`).

use plaza_host::ledger::LineItem;
use plaza_host::store::{
    KvStore, LedgerStore, MessagingStore, PayCommand, PayResult, PostgresStore, RefundCommand,
    RefundResult, SendResult, Sender, merchant_account, test_server_url, wallet_account,
};
use plaza_host::{Host, HostConfig};
use std::path::PathBuf;
use std::sync::{Arc, Barrier};

const APP: &str = "cn.hz.clinic";

/// A fresh database and `n` nodes on it; the first owns the database (it
/// is dropped with it, so the others must go first: keep them in order).
fn nodes(n: usize) -> (PostgresStore, Vec<Arc<PostgresStore>>) {
    let owner = PostgresStore::open_throwaway(&test_server_url().expect("PostgreSQL for tests"))
        .expect("a throwaway database");
    let others = (0..n)
        .map(|_| Arc::new(PostgresStore::open(owner.url()).expect("a node")))
        .collect();
    (owner, others)
}

fn pay_cmd(tx: &str, user: &str, order: &str, amount: u64) -> PayCommand {
    PayCommand {
        tx_id: tx.into(),
        app_id: APP.into(),
        generation: 0,
        publisher_id: "cn.hz".into(),
        payee: "Hangzhou Clinic".into(),
        user: user.into(),
        order_id: order.into(),
        amount,
        currency: "CNY".into(),
        description: "Consultation".into(),
        items: vec![LineItem {
            name: "Consultation".into(),
            quantity: 1,
            unit_price: amount,
            insurance_eligible: false,
        }],
        at_ms: 1,
        insurance: None,
    }
}

/// Runs `work(node, i)` for every (node, i) on its own thread, all released
/// at once; the results in order.
fn at_once<R: Send + 'static>(
    nodes: &[Arc<PostgresStore>],
    per_node: usize,
    work: impl Fn(&PostgresStore, usize) -> R + Send + Sync + 'static,
) -> Vec<R> {
    let work = Arc::new(work);
    let barrier = Arc::new(Barrier::new(nodes.len() * per_node));
    let threads: Vec<_> = nodes
        .iter()
        .flat_map(|n| (0..per_node).map(move |i| (n.clone(), i)))
        .enumerate()
        .map(|(k, (node, _))| {
            let (work, barrier) = (work.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                work(&node, k)
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}

fn sign(m: &[u8]) -> String {
    format!("sig-{}", m.len())
}

fn ledger_clean(store: &PostgresStore) {
    let report = store
        .verify_ledger(&|m, sig| sign(m) == sig)
        .expect("verify the ledger");
    assert!(report.is_clean(), "{:?}", report.problems);
}

#[test]
fn three_nodes_paying_from_one_wallet_at_once_never_overdraw_it() {
    let (owner, nodes) = nodes(3);
    owner.top_up("t0", "ann", 2_500, "CNY", 0).unwrap();
    // Nine payments of 1,000 from a wallet of 2,500, three per node.
    let results = at_once(&nodes, 3, |node, k| {
        node.pay(
            &pay_cmd(&format!("tx{k}"), "ann", &format!("o{k}"), 1_000),
            &sign,
        )
        .unwrap()
    });
    let paid = results
        .iter()
        .filter(|r| matches!(r, PayResult::Paid(_)))
        .count();
    assert_eq!(paid, 2, "{results:?}");
    for r in &results {
        assert!(
            matches!(
                r,
                PayResult::Paid(_) | PayResult::InsufficientFunds { needed: 1_000, .. }
            ),
            "{r:?}"
        );
    }
    assert_eq!(owner.balance(&wallet_account("ann")).unwrap(), 500);
    assert_eq!(owner.balance(&merchant_account("cn.hz")).unwrap(), 2_000);
    ledger_clean(&owner);
    drop(nodes);
}

#[test]
fn one_order_id_pays_once_when_nodes_get_it_at_once() {
    let (owner, nodes) = nodes(3);
    owner.top_up("t0", "ann", 100_000, "CNY", 0).unwrap();
    for round in 0..5 {
        // Every node, twice, gets the same order (each its own transaction id).
        let results = at_once(&nodes, 2, move |node, k| {
            node.pay(
                &pay_cmd(&format!("tx{round}-{k}"), "ann", &format!("o{round}"), 700),
                &sign,
            )
            .unwrap()
        });
        let paid: Vec<_> = results
            .iter()
            .filter_map(|r| match r {
                PayResult::Paid(p) => Some(p.receipt.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(paid.len(), 1, "round {round}: {results:?}");
        for r in &results {
            match r {
                PayResult::Paid(_) => {}
                PayResult::AlreadyPaid(p) => assert_eq!(p.receipt, paid[0]),
                other => panic!("round {round}: {other:?}"),
            }
        }
    }
    assert_eq!(
        owner.balance(&wallet_account("ann")).unwrap(),
        100_000 - 5 * 700
    );
    ledger_clean(&owner);
    drop(nodes);
}

#[test]
fn refunds_through_several_nodes_never_exceed_what_was_paid() {
    let (owner, nodes) = nodes(3);
    owner.top_up("t0", "ann", 5_000, "CNY", 0).unwrap();
    assert!(matches!(
        owner.pay(&pay_cmd("p", "ann", "o", 1_000), &sign).unwrap(),
        PayResult::Paid(_)
    ));
    // Nine refunds of 300 of a payment of 1,000: three pass.
    let results = at_once(&nodes, 3, |node, k| {
        node.refund(&RefundCommand {
            tx_id: format!("r{k}"),
            app_id: APP.into(),
            generation: 0,
            user: "ann".into(),
            order_id: "o".into(),
            amount: 300,
            reason: "cancelled".into(),
            at_ms: 2,
            refund_id: None,
        })
        .unwrap()
    });
    let refunded = results
        .iter()
        .filter(|r| matches!(r, RefundResult::Refunded(_)))
        .count();
    assert_eq!(refunded, 3, "{results:?}");
    assert!(
        results
            .iter()
            .all(|r| matches!(r, RefundResult::Refunded(_))
                || *r == RefundResult::TooMuch { refundable: 100 }),
        "{results:?}"
    );
    assert_eq!(owner.payment(APP, 0, "o").unwrap().unwrap().refunded, 900);
    assert_eq!(owner.balance(&wallet_account("ann")).unwrap(), 4_900);
    ledger_clean(&owner);
    drop(nodes);
}

#[test]
fn a_one_time_subscription_is_consumed_once_across_nodes() {
    let (owner, nodes) = nodes(3);
    let sender = Sender {
        app_id: APP.into(),
        app_name: "Clinic".into(),
        publisher_name: "Hangzhou Clinic".into(),
        link: None,
    };
    owner
        .accept_template("ann", APP, "appointment", false, 0)
        .unwrap();
    let results = at_once(&nodes, 2, move |node, k| {
        node.send_subscription(
            &format!("m{k}"),
            "ann",
            &sender,
            "appointment",
            "Reminder",
            "Tomorrow at 9",
            "2026-11",
            1,
        )
        .unwrap()
    });
    let sent = results
        .iter()
        .filter(|r| matches!(r, SendResult::Sent(_)))
        .count();
    assert_eq!(sent, 1, "{results:?}");
    assert_eq!(owner.inbox("ann", false, 10).unwrap().len(), 1);
    drop(nodes);
}

#[test]
fn the_per_minute_limit_and_the_storage_quota_are_shared_by_nodes() {
    let (owner, nodes) = nodes(3);
    // Limit 10 a minute: of 30 sends through three nodes at once, 10 pass.
    let taken = at_once(&nodes, 10, |node, _| {
        node.take_rate("cn.hz.clinic\u{0}ann", 7, 10).unwrap()
    });
    assert_eq!(taken.iter().filter(|t| **t).count(), 10);
    // A quota of 10 entries' worth: of 30 writes of distinct keys at once,
    // as many pass as fit, whichever node takes them.
    let entry = plaza_host::store::kv_entry_size("k00", b"v");
    let quota = 10 * entry;
    let written = at_once(&nodes, 10, move |node, k| {
        node.kv_set("ann", APP, &format!("k{k:02}"), b"v", quota)
            .unwrap()
    });
    let ok = written
        .iter()
        .filter(|w| **w == plaza_host::store::KvWrite::Written)
        .count();
    assert_eq!(ok, 10, "{written:?}");
    assert_eq!(owner.kv_usage("ann", APP).unwrap().bytes, quota);
    drop(nodes);
}

/// Two hosts opened on one PostgreSQL database by its URL, as two
/// `plaza-server` nodes with `store = "postgres://..."` are.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hosts_on_one_database_share_host_keys_and_wallets() {
    let owner = PostgresStore::open_throwaway(&test_server_url().unwrap()).unwrap();
    let url = std::path::PathBuf::from(owner.url());
    let config = || HostConfig::default().developer_mode(true);
    let a = Host::open(&url, config()).unwrap();
    let b = Host::open(&url, config()).unwrap();
    // The same host keys: receipts and openids agree on every node.
    assert_eq!(a.public_key(), b.public_key());
    // A top-up through one node is the balance on the other.
    a.top_up("ann", 1_234, "CNY").unwrap();
    assert_eq!(b.wallet_balance("ann").unwrap(), 1_234);
    assert!(b.verify_ledger().unwrap().is_clean());
    drop((a, b));
}

/// A TCP proxy to the database that the test can cut and restore: what a
/// node sees when PostgreSQL (or the network to it) goes away and comes
/// back.
struct Proxy {
    port: u16,
    task: Option<tokio::task::JoinHandle<()>>,
    upstream: std::net::SocketAddr,
    runtime: tokio::runtime::Handle,
}

impl Proxy {
    fn start(runtime: tokio::runtime::Handle, upstream: std::net::SocketAddr, port: u16) -> Proxy {
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind(("127.0.0.1", port)))
            .expect("bind the proxy");
        let port = listener.local_addr().unwrap().port();
        let task = runtime.spawn(async move {
            let mut links = tokio::task::JoinSet::new();
            while let Ok((mut client, _)) = listener.accept().await {
                links.spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        });
        Proxy {
            port,
            task: Some(task),
            upstream,
            runtime,
        }
    }

    /// Closes the listener and every connection through it.
    fn cut(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
            let _ = self.runtime.block_on(t);
        }
    }

    fn restore(&mut self) {
        *self = Proxy::start(self.runtime.clone(), self.upstream, self.port);
    }
}

#[test]
fn a_node_that_loses_the_database_answers_unavailable_and_recovers() {
    let owner = PostgresStore::open_throwaway(&test_server_url().unwrap()).unwrap();
    let url: url_parts::Parts = url_parts::parse(owner.url());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let mut proxy = Proxy::start(runtime.handle().clone(), url.addr, 0);
    let node = PostgresStore::open(&url.through(proxy.port)).unwrap();
    node.top_up("t0", "ann", 1_000, "CNY", 0).unwrap();
    proxy.cut();
    // Every call fails with a store error (the host answers `unavailable`),
    // and nothing is half-written.
    assert!(node.kv_set("ann", APP, "k", b"v", 1_000).is_err());
    assert!(node.pay(&pay_cmd("p1", "ann", "o1", 300), &sign).is_err());
    assert_eq!(owner.payment(APP, 0, "o1").unwrap(), None);
    assert_eq!(owner.balance(&wallet_account("ann")).unwrap(), 1_000);
    proxy.restore();
    // Back: the pool drops the dead connections and makes new ones.
    assert!(matches!(
        node.pay(&pay_cmd("p1", "ann", "o1", 300), &sign).unwrap(),
        PayResult::Paid(_)
    ));
    assert_eq!(node.balance(&wallet_account("ann")).unwrap(), 700);
    ledger_clean(&owner);
    drop(node);
    proxy.cut();
}

/// Splits a test URL (`postgres://user@127.0.0.1:PORT/db`) to reroute it.
mod url_parts {
    pub struct Parts {
        pub addr: std::net::SocketAddr,
        before: String,
        after: String,
    }

    pub fn parse(url: &str) -> Parts {
        let at = url.rfind('@').expect("a user in the URL") + 1;
        let slash = at + url[at..].find('/').expect("a database in the URL");
        Parts {
            addr: url[at..slash].parse().expect("host:port in the URL"),
            before: url[..at].to_string(),
            after: url[slash..].to_string(),
        }
    }

    impl Parts {
        /// The URL through 127.0.0.1:`port`.
        pub fn through(&self, port: u16) -> String {
            format!("{}127.0.0.1:{port}{}", self.before, self.after)
        }
    }
}

/// Consent revoked through one node is in force at the next call on
/// another, in a session that node already runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consent_revoked_through_one_node_is_in_force_at_the_next_call_on_another() {
    use crate::support::*;
    use plaza_host::manifest::Scope;
    use plaza_host::prompt::ConsentAnswer;
    use plaza_test_programs::IDENTITY_PROBE;
    const PROBE: &str = "test.plaza.identity-probe";
    let (owner, nodes) = postgres_nodes(2);
    let (a, b) = (&nodes[0], &nodes[1]);
    let key = register_publisher(a, &IDENTITY_PROBE, true);
    a.host
        .install(signed_package(
            &IDENTITY_PROBE,
            &IDENTITY_PROBE.manifest_text(),
            &key,
        ))
        .await
        .unwrap();
    a.host
        .set_user_profile(
            "li-na",
            plaza_host::store::UserProfile {
                phone: Some("13800138000".into()),
                ..Default::default()
            },
        )
        .unwrap();
    let phone = async |s: &plaza_host::Session| {
        let page = s.tap("phone").await.unwrap();
        field(&page, "phone").unwrap()
    };
    b.prompter
        .answer_consent(Scope::Phone, ConsentAnswer::Allow);
    let s = b.host.session("li-na", PROBE).unwrap();
    s.launch("/").await.unwrap();
    assert_eq!(phone(&s).await, "13800138000");
    // Revoked through node A: node B's live session asks again at its next
    // call (and the user now says no).
    assert!(a.host.revoke_consent("li-na", PROBE, "phone").unwrap());
    b.prompter.answer_consent(Scope::Phone, ConsentAnswer::Deny);
    let v = phone(&s).await;
    assert!(v.starts_with("denied: the user refused"), "{v}");
    s.close().await;
    drop(nodes);
    drop(owner);
}

/// A mini-app uninstalled through one node does not run in the next
/// session on another node that had it loaded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_package_removed_through_one_node_is_gone_from_the_next_session_on_another() {
    use crate::support::*;
    use plaza_test_programs::KV_NOTES;
    let (owner, nodes) = postgres_nodes(2);
    let (a, b) = (&nodes[0], &nodes[1]);
    let app = install(a, &KV_NOTES).await.app_id;
    let s = b.host.session("ann", &app).unwrap();
    s.launch("/").await.unwrap();
    s.close().await;
    a.host.uninstall(&app).await.unwrap();
    let again = b.host.session("ann", &app);
    let launched = match again {
        Ok(s) => s.launch("/").await.map(|_| ()),
        Err(e) => Err(e),
    };
    assert!(
        matches!(launched, Err(plaza_host::Error::NotInstalled { .. })),
        "{launched:?}"
    );
    drop(nodes);
    drop(owner);
}

/// A package updated through one node is what the next session on another
/// node runs: when that node had the old version loaded, and when it had
/// unloaded it for its cap on loaded code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_package_updated_through_one_node_is_what_the_next_session_on_another_runs() {
    use crate::support::*;
    use plaza_test_programs::{BENCH_APP, KV_NOTES, MISBEHAVE};
    // A cap of one byte: every mini-app no session holds is unloaded at
    // the next load.
    let (owner, nodes) = postgres_nodes_with(2, |c| c.max_loaded_code_bytes(1));
    let (a, b) = (&nodes[0], &nodes[1]);
    let app = install(a, &KV_NOTES).await.app_id;
    let other = install(a, &MISBEHAVE).await.app_id;
    let title = async |node: &TestHost| {
        let s = node.host.session("ann", &app).unwrap();
        let title = s.launch("/").await.unwrap().title;
        s.close().await;
        title
    };
    let loaded_on = |node: &TestHost| -> Vec<(String, String)> {
        node.host
            .loaded_apps()
            .into_iter()
            .map(|l| (l.app_id, l.version))
            .collect()
    };
    let version = |v: &str| {
        manifest_replacing(
            &KV_NOTES,
            "version = \"0.1.0\"",
            &format!("version = \"{v}\""),
        )
    };
    assert_eq!(title(b).await, "Notes");
    assert_eq!(loaded_on(b), [(app.clone(), "0.1.0".to_string())]);

    // Node B has 0.1.0 loaded; node A installs 0.2.0, another component.
    a.host
        .install(package_with_manifest(&BENCH_APP, &version("0.2.0")))
        .await
        .unwrap();
    assert_eq!(title(b).await, "Bench");
    assert_eq!(loaded_on(b), [(app.clone(), "0.2.0".to_string())]);

    // Node B unloads it (another mini-app's first use, past the cap) ...
    let s = b.host.session("ann", &other).unwrap();
    s.launch("/").await.unwrap();
    s.close().await;
    assert_eq!(loaded_on(b), [(other.clone(), "0.1.0".to_string())]);
    // ... and node A installs 0.3.0, the first component again.
    a.host
        .install(package_with_manifest(&KV_NOTES, &version("0.3.0")))
        .await
        .unwrap();
    assert_eq!(title(b).await, "Notes");
    assert_eq!(loaded_on(b)[0], (app.clone(), "0.3.0".to_string()));
    drop(nodes);
    drop(owner);
}

/// A mini-app's back-end calling the publisher API through two nodes has
/// one allowance a minute between them, not one per node.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_back_ends_call_limit_is_shared_by_nodes() {
    use crate::support::*;
    use plaza_test_programs::FUZZ_CALLER;
    let (owner, nodes) = postgres_nodes_with(2, |c| c.backend_calls_per_minute(4));
    let (a, b) = (&nodes[0], &nodes[1]);
    let report = install(a, &FUZZ_CALLER).await;
    let (app, secret) = (report.app_id, report.app_secret.unwrap());
    // A token on each node (two calls), then one query on each (four).
    let api = |node: &TestHost| {
        let token = node.host.access_token(&app, &secret).unwrap();
        node.host.publisher_api(&token.access_token).unwrap()
    };
    let (on_a, on_b) = (api(a), api(b));
    let not_found = |r: plaza_host::Result<_>| matches!(r, Err(plaza_host::Error::NotFound(_)));
    assert!(not_found(on_a.payment("o-1")));
    assert!(not_found(on_b.payment("o-1")));
    // Each node made two calls; the fifth, on either, is over the limit.
    for api in [&on_a, &on_b] {
        let err = api.payment("o-1").unwrap_err();
        assert!(
            matches!(err, plaza_host::Error::BackendRateLimited { limit: 4, .. }),
            "{err}"
        );
    }
    // The next minute, on every node.
    for node in &nodes {
        node.clock.advance(std::time::Duration::from_secs(60));
    }
    assert!(not_found(on_b.payment("o-1")));
    drop((on_a, on_b));
    drop(nodes);
    drop(owner);
}

/// A broadcast delivered by two nodes at once (one resuming what another
/// started, as after a node died mid-way) reaches each follower once.
#[test]
fn a_broadcast_finished_by_several_nodes_at_once_reaches_each_follower_once() {
    let (owner, nodes) = nodes(3);
    let sender = Sender {
        app_id: APP.into(),
        app_name: "Clinic".into(),
        publisher_name: "Hangzhou Clinic".into(),
        link: None,
    };
    // More followers than one delivery transaction takes (100).
    for u in 0..250 {
        owner
            .set_following(&format!("u{u:03}"), APP, true, 0)
            .unwrap();
    }
    nodes[0]
        .start_broadcast("b1", &sender, "Closed", "Closed on Monday", "2026-11", 4, 1)
        .unwrap();
    let counts = at_once(&nodes, 1, |node, k| {
        let mut n = 0;
        node.deliver_broadcast("b1", &mut || {
            n += 1;
            format!("m{k}-{n}")
        })
        .unwrap()
    });
    for c in &counts {
        assert_eq!(c.delivered, 250, "{counts:?}");
    }
    for u in 0..250 {
        assert_eq!(
            owner.inbox(&format!("u{u:03}"), false, 10).unwrap().len(),
            1,
            "u{u:03}"
        );
    }
    assert!(owner.unfinished_broadcasts().unwrap().is_empty());
    drop(nodes);
}

/// What the mini-app sees: a storage write while the node has lost the
/// database answers `unavailable` (and writes nothing); once the database
/// is back the same session saves again.
#[test]
fn a_mini_app_on_a_node_that_lost_the_database_gets_unavailable_then_works_again() {
    use crate::support::*;
    use plaza_host::clock::ManualClock;
    use plaza_host::prompt::ScriptedPrompter;
    use plaza_test_programs::KV_NOTES;
    let owner = PostgresStore::open_throwaway(&test_server_url().unwrap()).unwrap();
    let url = url_parts::parse(owner.url());
    let proxy_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut proxy = Proxy::start(proxy_rt.handle().clone(), url.addr, 0);
    let clock = ManualClock::new(START_MS);
    let prompter = Arc::new(ScriptedPrompter::new());
    let host = {
        let _in_rt = rt.enter();
        Host::open(
            std::path::Path::new(&url.through(proxy.port)),
            config(&clock, &prompter),
        )
        .unwrap()
    };
    let t = TestHost::from_parts(host, clock, prompter);
    let put = |key: &'static str| {
        let s = t.host.session("ann", "test.plaza.kv-notes").unwrap();
        rt.block_on(async move {
            let page = s
                .submit("put", &[("key", key), ("size", "10")])
                .await
                .unwrap();
            notices(&page).join(" | ")
        })
    };
    rt.block_on(async {
        install(&t, &KV_NOTES).await;
        let s = t.host.session("ann", "test.plaza.kv-notes").unwrap();
        s.launch("/").await.unwrap();
    });
    assert_eq!(put("a"), "Saved a");
    proxy.cut();
    let n = put("b");
    assert!(n.starts_with("unavailable:"), "{n}");
    proxy.restore();
    assert_eq!(put("c"), "Saved c");
    assert_eq!(
        owner.kv_get("ann", "test.plaza.kv-notes", "b").unwrap(),
        None
    );
    assert!(
        owner
            .kv_get("ann", "test.plaza.kv-notes", "c")
            .unwrap()
            .is_some()
    );
    drop(t);
    drop(rt);
    proxy.cut();
}

/// A PostgreSQL cluster of this test's own (`scripts/ensure-postgres.sh`
/// with `PLAZA_POSTGRES_DIR`: its own data folder and port), which the test
/// may stop and start without disturbing the other tests' cluster. Stopped
/// when dropped; the folder is kept for the next run.
struct PrivateCluster {
    dir: PathBuf,
    url: String,
}

impl PrivateCluster {
    fn script() -> &'static str {
        concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/ensure-postgres.sh")
    }

    /// Starts (or reuses) the cluster named `name`, in a folder of this
    /// checkout's.
    fn start(name: &str) -> PrivateCluster {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        env!("CARGO_MANIFEST_DIR").hash(&mut h);
        let dir = std::env::temp_dir().join(format!("plaza-postgres-{name}-{:012x}", h.finish()));
        let url = Self::run(&dir, &[]);
        PrivateCluster { dir, url }
    }

    /// Runs the script on the cluster; its last line.
    fn run(dir: &std::path::Path, args: &[&str]) -> String {
        let out = std::process::Command::new(Self::script())
            .args(args)
            .env("PLAZA_POSTGRES_DIR", dir)
            .stderr(std::process::Stdio::inherit())
            .output()
            .expect("run scripts/ensure-postgres.sh");
        assert!(out.status.success(), "ensure-postgres.sh {args:?} failed");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .last()
            .unwrap_or_default()
            .to_string()
    }

    /// Stops the server at once, as a crash would (`immediate`: no
    /// checkpoint, every connection cut; the next start recovers).
    fn crash(&self) {
        Self::run(&self.dir, &["stop", "immediate"]);
    }

    /// Starts it again on the same folder and port.
    fn start_again(&self) {
        assert_eq!(Self::run(&self.dir, &[]), self.url);
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        Self::run(&self.dir, &["stop", "fast"]);
    }
}

/// What one user's operations through a node came to.
#[derive(Default)]
struct Outcomes {
    /// Order → amount, for each payment the host acknowledged.
    paid: std::collections::BTreeMap<String, u64>,
    /// Key → the last value the host acknowledged writing.
    notes: std::collections::BTreeMap<String, String>,
    /// Operations that answered `unavailable` (and were tried again).
    unavailable: u64,
}

/// One user on one node: pays and writes until told to stop, each
/// operation tried again with the same order id or value after an
/// `unavailable` until the host acknowledges it, as a mini-app or a client
/// retrying does. `done` counts the acknowledged operations.
async fn pay_and_write(
    host: Host,
    user: String,
    done: Arc<std::sync::atomic::AtomicU64>,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> Outcomes {
    use crate::support::{field, notices};
    use std::sync::atomic::Ordering::SeqCst;
    let mut out = Outcomes::default();
    let cashier = host.session(&user, "test.plaza.cashier").unwrap();
    let notes = host.session(&user, "test.plaza.kv-notes").unwrap();
    notes.launch("/").await.unwrap();
    // A store failure the host reports as an error rather than on the page
    // (an instance that could not read its package) is retried too.
    let failed = |e: plaza_host::Error| match e {
        plaza_host::Error::Store(e) => format!("unavailable: {e}"),
        other => panic!("{user}: {other}"),
    };
    for n in 0u64.. {
        if stop.load(SeqCst) {
            break;
        }
        let kind = if n % 2 == 0 { "pay" } else { "put" };
        let (order, amount) = (format!("{user}-o{n}"), 100 + n % 7);
        let (key, value) = (format!("k{}", n % 3), format!("{user}-v{n}"));
        loop {
            let answer = if kind == "pay" {
                let launched = cashier
                    .launch(&format!("/pay?order={order}&amount={amount}"))
                    .await;
                match launched {
                    Err(e) => failed(e),
                    Ok(_) => match cashier.tap("pay").await {
                        Err(e) => failed(e),
                        Ok(page) => field(&page, "outcome").unwrap_or_default(),
                    },
                }
            } else {
                match notes
                    .submit("put", &[("key", &key), ("value", &value)])
                    .await
                {
                    Err(e) => failed(e),
                    Ok(page) => notices(&page).join(" | "),
                }
            };
            if answer == "paid" {
                out.paid.insert(order.clone(), amount);
                break;
            }
            if answer.contains(&format!("Saved {key}")) {
                out.notes.insert(key.clone(), value.clone());
                break;
            }
            assert!(
                answer.contains("unavailable"),
                "{user}: {kind} answered {answer:?}, neither done nor unavailable"
            );
            out.unavailable += 1;
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        done.fetch_add(1, SeqCst);
    }
    out
}

/// PostgreSQL itself crashes (stopped at once, every connection cut) in
/// the middle of three nodes' payments and storage writes, and starts again:
/// meanwhile the nodes answer `unavailable`; then they recover by
/// themselves, and every acknowledged payment is there once (a payment
/// retried by its order id after an unsure answer is not paid twice),
/// nothing else is, every stored key holds its last acknowledged write, and
/// the ledger verifies clean.
#[test]
fn postgres_restarted_mid_run_nodes_answer_unavailable_then_recover_and_lose_nothing() {
    use crate::support::*;
    use plaza_host::clock::{ManualClock, RandomIds};
    use plaza_host::prompt::{PaymentAnswer, ScriptedPayment, ScriptedPrompter};
    use plaza_test_programs::{CASHIER, KV_NOTES};
    use std::sync::atomic::Ordering::SeqCst;
    use std::sync::atomic::{AtomicBool, AtomicU64};
    const USERS: usize = 6;
    const TOP_UP: u64 = 1_000_000;
    let cluster = PrivateCluster::start("restart");
    let owner = PostgresStore::open_throwaway(&cluster.url).unwrap();
    let url = PathBuf::from(owner.url());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let nodes: Vec<Host> = (0..3)
        .map(|_| {
            let _in_rt = rt.enter();
            let prompter = Arc::new(ScriptedPrompter::new());
            prompter.answer_payments(ScriptedPayment::Answer(PaymentAnswer::Confirm));
            let c = config(&ManualClock::new(START_MS), &prompter)
                .ids(Arc::new(RandomIds::default()))
                .payment_timeout(std::time::Duration::from_secs(30));
            Host::open(&url, c).unwrap()
        })
        .collect();
    rt.block_on(async {
        for f in [&CASHIER, &KV_NOTES] {
            nodes[0].install(package(f)).await.unwrap();
        }
    });
    for u in 0..USERS {
        nodes[0].top_up(&format!("u{u}"), TOP_UP, "CNY").unwrap();
    }
    let stop = Arc::new(AtomicBool::new(false));
    let done: Vec<Arc<AtomicU64>> = (0..USERS).map(|_| Arc::default()).collect();
    let workers: Vec<_> = (0..USERS)
        .map(|u| {
            rt.spawn(pay_and_write(
                nodes[u % 3].clone(),
                format!("u{u}"),
                done[u].clone(),
                stop.clone(),
            ))
        })
        .collect();
    let at_least = |n: u64| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        while done.iter().any(|d| d.load(SeqCst) < n) {
            assert!(
                std::time::Instant::now() < deadline,
                "the nodes did not get {n} operations done for every user"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    };
    at_least(4);
    cluster.crash();
    let before: u64 = done.iter().map(|d| d.load(SeqCst)).sum();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    // Nothing is acknowledged while the database is down (at most what
    // was committing as it went).
    let during: u64 = done.iter().map(|d| d.load(SeqCst)).sum();
    assert!(during <= before + USERS as u64, "{before} then {during}");
    cluster.start_again();
    let resumed = done.iter().map(|d| d.load(SeqCst)).min().unwrap();
    at_least(resumed + 4);
    stop.store(true, SeqCst);
    let outcomes: Vec<Outcomes> = workers
        .into_iter()
        .map(|w| rt.block_on(w).unwrap())
        .collect();

    let unavailable: u64 = outcomes.iter().map(|o| o.unavailable).sum();
    assert!(
        unavailable > 0,
        "no operation answered unavailable while PostgreSQL was down: nothing was tested"
    );
    let host = &nodes[1];
    let mut total = 0;
    for (u, out) in outcomes.iter().enumerate() {
        let user = format!("u{u}");
        let stored = host
            .payments("test.plaza.cashier", &user, None, 1_000)
            .unwrap();
        let stored: std::collections::BTreeMap<String, u64> = stored
            .into_iter()
            .map(|p| (p.receipt.order_id, p.receipt.amount))
            .collect();
        assert_eq!(
            stored, out.paid,
            "{user}: payments stored, and acknowledged"
        );
        let paid: u64 = out.paid.values().sum();
        total += paid;
        assert_eq!(host.wallet_balance(&user).unwrap(), TOP_UP - paid, "{user}");
        for (key, value) in &out.notes {
            assert_eq!(
                owner.kv_get(&user, "test.plaza.kv-notes", key).unwrap(),
                Some(value.as_bytes().to_vec()),
                "{user}: {key}"
            );
        }
    }
    assert_eq!(
        owner
            .balance(&merchant_account("test.plaza.clinic"))
            .unwrap(),
        total as i64
    );
    let report = host.verify_ledger().unwrap();
    assert!(report.is_clean(), "{:?}", report.problems);
    println!(
        "PostgreSQL restarted mid-run: {} operations acknowledged, {unavailable} answered unavailable and were retried",
        done.iter().map(|d| d.load(SeqCst)).sum::<u64>()
    );
    drop(nodes);
    drop(rt);
    drop(owner);
    drop(cluster);
}
