//! What the server layer costs: events per second and p50/p99 latency over
//! HTTP on loopback with 1, 16 and 128 concurrent clients (each its own
//! user, so its own session), beside the same events in-process
//! (`Session::tap` on the same host). The event is the hospital's home
//! page and a department page, tapped back and forth; no prompts.
//!
//! ```text
//! cargo bench --workspace --bench http_load             # 3 s per level
//! PLAZA_LOAD_SECS=10 cargo bench --workspace --bench http_load
//! ```
//!
//! Under `cargo test` (no `--bench` argument) it runs a few events per
//! level, as a check that it works. The load goes to 127.0.0.1 only, for a
//! bounded time. Figures: docs/performance.md.

use plaza_host::package::Package;
use plaza_server::Server;
use plaza_server::config::{IssuerConfig, ServerConfig};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const SECRET: &str = "load-generator-secret-of-32-bytes-or-more";
const APP: &str = "cn.hz.maternity";
const LEVELS: [usize; 3] = [1, 16, 128];

fn token(sub: &str) -> String {
    let exp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
        + 3600;
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &json!({"iss": "load", "sub": sub, "exp": exp}),
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .expect("sign")
}

/// The event of step `i`: the home page and a department, in turn.
fn event(i: usize) -> Value {
    if i.is_multiple_of(2) {
        json!({"launch": {"path": "/", "query": {}}})
    } else {
        json!({"tap": "dept:obstetrics"})
    }
}

struct Figures {
    events: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Figures {
    fn line(&mut self, what: &str, clients: usize) -> String {
        self.latencies.sort();
        let pct = |p: f64| {
            let i = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
            self.latencies.get(i).copied().unwrap_or_default()
        };
        format!(
            "| {what} | {clients} | {:.0}/s | {:.2} ms | {:.2} ms | {} |",
            self.events as f64 / self.elapsed.as_secs_f64(),
            pct(0.5).as_secs_f64() * 1000.0,
            pct(0.99).as_secs_f64() * 1000.0,
            self.events
        )
    }
}

fn merge(parts: Vec<(usize, Vec<Duration>)>, elapsed: Duration) -> Figures {
    let mut f = Figures {
        events: 0,
        elapsed,
        latencies: Vec::new(),
    };
    for (n, l) in parts {
        f.events += n;
        f.latencies.extend(l);
    }
    f
}

fn over_http(base: &str, clients: usize, budget: Budget) -> Figures {
    let started = Instant::now();
    let threads: Vec<_> = (0..clients)
        .map(|c| {
            let base = base.to_string();
            std::thread::spawn(move || {
                let http: ureq::Agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .build()
                    .into();
                let auth = format!("Bearer {}", token(&format!("client-{c}")));
                let url = format!("{base}/v1/apps/{APP}/events");
                let mut latencies = Vec::new();
                let mut i = 0;
                while budget.more(i, started) {
                    let t = Instant::now();
                    let mut r = http
                        .post(&url)
                        .header("authorization", &auth)
                        .send_json(event(i))
                        .expect("a request");
                    let v: Value = r.body_mut().read_json().expect("JSON");
                    assert!(v.get("page").is_some(), "{v}");
                    latencies.push(t.elapsed());
                    i += 1;
                }
                (i, latencies)
            })
        })
        .collect();
    let parts = threads
        .into_iter()
        .map(|t| t.join().expect("client"))
        .collect();
    merge(parts, started.elapsed())
}

async fn in_process(host: &plaza_host::Host, clients: usize, budget: Budget) -> Figures {
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let host = host.clone();
            tokio::spawn(async move {
                let s = host
                    .session(&format!("load:inproc-{c}"), APP)
                    .expect("session");
                let mut latencies = Vec::new();
                let mut i = 0;
                while budget.more(i, started) {
                    let t = Instant::now();
                    let page = if i.is_multiple_of(2) {
                        s.launch("/").await
                    } else {
                        s.tap("dept:obstetrics").await
                    };
                    page.expect("a page");
                    latencies.push(t.elapsed());
                    i += 1;
                }
                (i, latencies)
            })
        })
        .collect();
    let mut parts = Vec::new();
    for t in tasks {
        parts.push(t.await.expect("task"));
    }
    merge(parts, started.elapsed())
}

/// How long each level runs: a time, or (under `cargo test`) a few events.
#[derive(Clone, Copy)]
enum Budget {
    Time(Duration),
    Events(usize),
}

impl Budget {
    fn more(self, done: usize, started: Instant) -> bool {
        match self {
            Budget::Time(d) => started.elapsed() < d,
            Budget::Events(n) => done < n,
        }
    }
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let budget = if bench {
        let secs = std::env::var("PLAZA_LOAD_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(3);
        Budget::Time(Duration::from_secs(secs))
    } else {
        Budget::Events(4)
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let config = ServerConfig {
        listen: "127.0.0.1:0".into(),
        store: dir.path().join("plaza.db"),
        cache_dir: std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join("plaza-server-test-cache"),
        developer_mode: true,
        log_format: "text".into(),
        user_requests_per_minute: 1_000_000,
        issuers: vec![IssuerConfig {
            name: "load".into(),
            hs256_secret: Some(SECRET.into()),
            ed25519_public_key: None,
            namespace: None,
        }],
        ..ServerConfig::default()
    };
    let runtime = Arc::new(
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("runtime"),
    );
    let (base, host) = runtime.block_on(async {
        let server = Server::open(config, |c| c).expect("server");
        let f = plaza_test_programs::HOSPITAL;
        let pkg = Package::new(&f.manifest_text(), f.component_bytes()).expect("package");
        server.host().install(pkg).await.expect("install");
        let host = server.host().clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(server.serve(listener, std::future::pending()));
        (base, host)
    });
    // Warm: every client's session exists before it is measured.
    over_http(&base, 128, Budget::Events(2));
    runtime.block_on(in_process(&host, 128, Budget::Events(2)));
    println!("| path | clients | events/s | p50 | p99 | events |");
    println!("|---|--:|--:|--:|--:|--:|");
    for clients in LEVELS {
        let mut http = over_http(&base, clients, budget);
        let mut inproc = runtime.block_on(in_process(&host, clients, budget));
        println!("{}", http.line("HTTP", clients));
        println!("{}", inproc.line("in-process", clients));
    }
}
