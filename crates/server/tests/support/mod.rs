//! A Plaza server on loopback for the tests, with tokens minted here, a
//! verified hospital installed through the operator API, and a phone that
//! talks to it over real HTTP.

#![allow(dead_code)]

use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use plaza_host::package::{Package, PublisherKey};
use plaza_server::Server;
use plaza_server::config::{IssuerConfig, ServerConfig};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub const HS_SECRET: &str = "citizen-app-secret-of-at-least-32-bytes!";
pub const ADMIN: &str = "admin-token-of-the-operator-0123456789";
/// The Ed25519 seed of the `wallet-app` issuer.
pub const ED_SEED: [u8; 32] = [7; 32];
pub const HOSPITAL: &str = "cn.hz.maternity";

/// The compiled-component cache shared by the tests of one run.
pub fn shared_cache() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("plaza-server-test-cache")
}

/// The raw public key of [`ED_SEED`].
pub fn ed_public_key(seed: &[u8; 32]) -> [u8; 32] {
    ed25519_dalek::SigningKey::from_bytes(seed)
        .verifying_key()
        .to_bytes()
}

/// PKCS#8 DER of an Ed25519 seed, as jsonwebtoken signs with.
pub fn ed_pkcs8(seed: &[u8; 32]) -> Vec<u8> {
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(seed);
    der
}

pub fn now_s() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// An HS256 token of `iss` for `sub`, expiring `exp`.
pub fn hs_token(iss: &str, sub: &str, secret: &str, exp: u64) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &json!({"iss": iss, "sub": sub, "exp": exp}),
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("sign")
}

/// An EdDSA token of `iss` for `sub`, signed with `seed`.
pub fn ed_token(iss: &str, sub: &str, seed: &[u8; 32], exp: u64) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::EdDSA),
        &json!({"iss": iss, "sub": sub, "exp": exp}),
        &EncodingKey::from_ed_der(&ed_pkcs8(seed)),
    )
    .expect("sign")
}

/// The settings of a test server.
pub fn config(dir: &std::path::Path) -> ServerConfig {
    ServerConfig {
        listen: "127.0.0.1:0".into(),
        store: dir.join("plaza.db"),
        cache_dir: shared_cache(),
        admin_token: ADMIN.into(),
        prompt_timeout_secs: 20,
        request_timeout_secs: 60,
        log_format: "text".into(),
        utc_offset_minutes: 480,
        issuers: vec![
            IssuerConfig {
                name: "citizen-app".into(),
                hs256_secret: Some(HS_SECRET.into()),
                ed25519_public_key: None,
                namespace: None,
            },
            IssuerConfig {
                name: "wallet-app".into(),
                hs256_secret: None,
                ed25519_public_key: Some(
                    base64::engine::general_purpose::STANDARD.encode(ed_public_key(&ED_SEED)),
                ),
                // The same users as citizen-app: the operator mapped them.
                namespace: Some("citizen-app".into()),
            },
        ],
        ..ServerConfig::default()
    }
}

/// A server on an ephemeral loopback port, on a runtime of its own; stopped
/// (gracefully) when dropped.
pub struct TestServer {
    pub base: String,
    pub host: plaza_host::Host,
    runtime: Option<tokio::runtime::Runtime>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: Option<std::sync::mpsc::Receiver<()>>,
    _dir: tempfile::TempDir,
}

impl TestServer {
    pub fn start(adjust: impl FnOnce(&mut ServerConfig)) -> TestServer {
        TestServer::start_with_host(adjust, |c| c)
    }

    /// [`TestServer::start`], with the host's configuration adjusted too (a
    /// clock the test moves).
    pub fn start_with_host(
        adjust: impl FnOnce(&mut ServerConfig),
        host: impl FnOnce(plaza_host::HostConfig) -> plaza_host::HostConfig,
    ) -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = config(dir.path());
        adjust(&mut config);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .enable_all()
            .build()
            .expect("runtime");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (done_tx, done) = std::sync::mpsc::channel();
        let (base, host) = runtime.block_on(async {
            let server = Server::open(config, |c| {
                let limits = plaza_host::sandbox::SandboxLimits {
                    memory_bytes: 32 * 1024 * 1024,
                    max_live_sessions: 400,
                    ..Default::default()
                };
                host(c.limits(limits))
            })
            .expect("open the server");
            let host = server.host().clone();
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let base = format!("http://{}", listener.local_addr().expect("address"));
            tokio::spawn(async move {
                let _ = server
                    .serve(listener, async move {
                        let _ = stopped.await;
                    })
                    .await;
                let _ = done_tx.send(());
            });
            (base, host)
        });
        TestServer {
            base,
            host,
            runtime: Some(runtime),
            stop: Some(stop),
            done: Some(done),
            _dir: dir,
        }
    }

    /// Stops the server and waits until it has.
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
            if let Some(done) = self.done.take() {
                let _ = done.recv_timeout(Duration::from_secs(30));
            }
        }
    }

    pub fn phone(&self, sub: &str) -> Phone {
        let exp = now_s() + 3600;
        Phone::new(&self.base, &hs_token("citizen-app", sub, HS_SECRET, exp))
    }

    /// The operator, with the admin token.
    pub fn operator(&self) -> Phone {
        Phone::new(&self.base, ADMIN)
    }

    /// Registers the hospital's publisher as verified and installs its
    /// signed package, through the operator API.
    pub fn install_hospital(&self) -> Value {
        let f = plaza_test_programs::HOSPITAL;
        let mut pkg = Package::new(&f.manifest_text(), f.component_bytes()).expect("package");
        let key = PublisherKey::generate().expect("key");
        pkg.sign(&key).expect("sign");
        let op = self.operator();
        let (status, v) = op.post(
            "/v1/admin/publishers",
            json!({
                "id": "cn.hz.hospitals.maternity",
                "name": "Hangzhou Maternity Hospital",
                "category": "medical",
                "verified": true,
                "public_key": key.public_key_hex(),
            }),
        );
        assert_eq!(status, 200, "{v}");
        let (status, v) = op.send_bytes("/v1/admin/packages", &pkg.to_bytes());
        assert_eq!(status, 200, "{v}");
        v
    }

    /// A citizen: a verified real name, an insurance card paying 70 % up to
    /// CNY 3,000 a year, and `fen` in the wallet.
    pub fn citizen(&self, sub: &str, fen: u64) {
        let op = self.operator();
        let user = format!("citizen-app:{sub}");
        let (s, v) = op.put(
            &format!("/v1/admin/users/{user}/profile"),
            json!({"nickname": sub, "phone": "13800138000",
                   "real_name": {"name": "Li Na", "id_number": "330106199001010022", "verified": true}}),
        );
        assert_eq!(s, 200, "{v}");
        let (s, v) = op.put(
            &format!("/v1/admin/users/{user}/insurance-card"),
            json!({"card_number": "3301-0001", "holder_name": "Li Na",
                   "scheme": "Hangzhou basic medical insurance", "coverage_bp": 7000, "annual_cap": 300000}),
        );
        assert_eq!(s, 200, "{v}");
        if fen > 0 {
            let (s, v) = op.post(
                &format!("/v1/admin/wallets/{user}/top-up"),
                json!({"amount": fen, "currency": "CNY"}),
            );
            assert_eq!(s, 200, "{v}");
        }
    }

    pub fn ledger_is_clean(&self) -> Value {
        let (s, v) = self.operator().get("/v1/admin/ledger/verify");
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["clean"], true, "{v}");
        v
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop();
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_timeout(Duration::from_secs(5));
        }
    }
}

/// A phone: an HTTP client with its user's token.
/// An HTTP client that opens a connection for each request. The server
/// answers some requests before reading their body (a 401 before a JSON
/// body, a route that takes none); hyper then closes the connection after
/// the answer, and a client that sent its next request on that connection
/// meanwhile fails with `Peer disconnected` (a browser sends it again; ureq
/// does not).
pub fn fresh_connections() -> ureq::config::ConfigBuilder<ureq::typestate::AgentScope> {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_idle_connections(0)
}

pub struct Phone {
    pub base: String,
    pub token: String,
    http: ureq::Agent,
}

impl Phone {
    pub fn new(base: &str, token: &str) -> Phone {
        Phone {
            base: base.to_string(),
            token: token.to_string(),
            http: fresh_connections()
                .timeout_global(Some(Duration::from_secs(120)))
                .build()
                .into(),
        }
    }

    fn finish(
        r: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
        what: &str,
    ) -> (u16, Value) {
        let mut r = r.unwrap_or_else(|e| panic!("{what}: {e}"));
        let status = r.status().as_u16();
        let text = r.body_mut().read_to_string().unwrap_or_default();
        let v = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, v)
    }

    pub fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .http
            .get(&format!("{}{path}", self.base))
            .header("authorization", &format!("Bearer {}", self.token))
            .call();
        Self::finish(r, path)
    }

    pub fn delete(&self, path: &str) -> (u16, Value) {
        let r = self
            .http
            .delete(&format!("{}{path}", self.base))
            .header("authorization", &format!("Bearer {}", self.token))
            .call();
        Self::finish(r, path)
    }

    pub fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(&format!("{}{path}", self.base))
            .header("authorization", &format!("Bearer {}", self.token))
            .send_json(body);
        Self::finish(r, path)
    }

    pub fn put(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .put(&format!("{}{path}", self.base))
            .header("authorization", &format!("Bearer {}", self.token))
            .send_json(body);
        Self::finish(r, path)
    }

    pub fn send_bytes(&self, path: &str, body: &[u8]) -> (u16, Value) {
        let r = self
            .http
            .post(&format!("{}{path}", self.base))
            .header("authorization", &format!("Bearer {}", self.token))
            .header("content-type", "application/octet-stream")
            .send(body);
        Self::finish(r, path)
    }

    /// Sends an event to the hospital; answers status and JSON.
    pub fn event(&self, event: Value) -> (u16, Value) {
        self.post(&format!("/v1/apps/{HOSPITAL}/events"), event)
    }

    pub fn answer(&self, id: &str, answer: &str) -> (u16, Value) {
        self.post(&format!("/v1/prompts/{id}"), json!({ "answer": answer }))
    }

    /// Sends an event and answers every prompt with `answers(prompt)` until
    /// a page comes; answers the page and the prompts seen.
    pub fn drive(
        &self,
        event: Value,
        answers: impl Fn(&Value) -> &'static str,
    ) -> (Value, Vec<Value>) {
        let (mut status, mut v) = self.event(event.clone());
        let mut prompts = Vec::new();
        loop {
            assert_eq!(status, 200, "{event}: {v}");
            if let Some(page) = v.get("page") {
                return (page.clone(), prompts);
            }
            let prompt = v
                .get("prompt")
                .unwrap_or_else(|| panic!("{event}: neither page nor prompt: {v}"))
                .clone();
            let id = prompt["id"].as_str().expect("prompt id").to_string();
            (status, v) = self.answer(&id, answers(&prompt));
            prompts.push(prompt);
        }
    }

    /// The page of an event that raises no prompt.
    pub fn page(&self, event: Value) -> Value {
        let (page, prompts) = self.drive(event, |p| panic!("unexpected prompt {p}"));
        assert!(prompts.is_empty());
        page
    }

    pub fn balance(&self) -> u64 {
        let (s, v) = self.get("/v1/me/wallet");
        assert_eq!(s, 200, "{v}");
        v["balance_minor"].as_u64().expect("balance")
    }
}

/// The answers a willing citizen gives: allow, accept, confirm.
pub fn yes(prompt: &Value) -> &'static str {
    match prompt["kind"].as_str() {
        Some("payment") => "confirm",
        Some("consent") => "allow",
        _ => "accept",
    }
}

/// The value of a page's field.
pub fn field(page: &Value, label: &str) -> Option<String> {
    blocks(page, "field")
        .find(|b| b["label"] == label)
        .and_then(|b| b["value"].as_str().map(str::to_string))
}

pub fn blocks<'a>(page: &'a Value, kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    page["blocks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(move |b| b["type"] == kind)
}

/// The notices of a page.
pub fn notices(page: &Value) -> Vec<String> {
    blocks(page, "notice")
        .filter_map(|b| b["text"].as_str().map(str::to_string))
        .collect()
}

/// Books the earliest time with Dr. Chen Li, answering prompts with
/// `answers`; answers the confirmation page and the prompts seen.
pub fn book(phone: &Phone, answers: impl Fn(&Value) -> &'static str + Copy) -> (Value, Vec<Value>) {
    let home = phone.page(json!({"launch": {"path": "/", "query": {}}}));
    assert_eq!(home["title"], "Hangzhou Maternity Hospital", "{home}");
    let dept = phone.page(json!({"tap": "dept:obstetrics"}));
    assert_eq!(dept["title"], "Obstetrics", "{dept}");
    assert_eq!(dept["navigation"], "push");
    let doctor = phone.page(json!({"tap": "doctor:chen-li"}));
    assert_eq!(doctor["title"], "Dr. Chen Li", "{doctor}");
    assert_eq!(field(&doctor, "Fee").as_deref(), Some("CNY 50.00"));
    let (confirm, mut prompts) = phone.drive(json!({"tap": "earliest:chen-li"}), answers);
    assert_eq!(confirm["title"], "Confirm booking", "{confirm}");
    let (done, more) = phone.drive(
        json!({"submit": {"form": "patient", "fields": {"name": "Li Na", "phone": "13800138000"}}}),
        answers,
    );
    prompts.extend(more);
    assert_eq!(done["title"], "Booking confirmed", "{done}");
    assert_eq!(field(&done, "Booking number").as_deref(), Some("B0001"));
    (done, prompts)
}

/// Installs a test program through the operator API, signed by its
/// publisher `test.plaza`, registered and verified here.
pub fn install_fixture(server: &TestServer, f: &plaza_test_programs::Fixture) {
    let mut pkg = Package::new(&f.manifest_text(), f.component_bytes()).expect("package");
    let key = PublisherKey::generate().expect("key");
    pkg.sign(&key).expect("sign");
    let op = server.operator();
    let (status, v) = op.post(
        "/v1/admin/publishers",
        json!({"id": "test.plaza", "name": "Plaza Test Fixtures", "category": "other",
               "verified": true, "public_key": key.public_key_hex()}),
    );
    assert_eq!(status, 200, "{v}");
    let (status, v) = op.send_bytes("/v1/admin/packages", &pkg.to_bytes());
    assert_eq!(status, 200, "{v}");
}

/// The prompt of `kind` that a tap on `action` raises in `app`, launched at
/// its home page.
pub fn prompt_after_tap(phone: &Phone, app: &str, action: &str, kind: &str) -> Value {
    let events = format!("/v1/apps/{app}/events");
    let (s, v) = phone.post(&events, json!({"launch": {"path": "/"}}));
    assert_eq!(s, 200, "{v}");
    let (s, v) = phone.post(&events, json!({ "tap": action }));
    assert_eq!(s, 200, "{v}");
    let prompt = v["prompt"].clone();
    assert_eq!(prompt["kind"], kind, "{v}");
    prompt
}
