//! Test helpers: a host on a temporary store with a manual clock, sequential
//! ids and a scripted prompter; fixtures packed from the test-programs crate.

use plaza_host::clock::{ManualClock, SequentialIds};
use plaza_host::package::Package;
use plaza_host::prompt::ScriptedPrompter;
use plaza_host::sandbox::SandboxLimits;
use plaza_host::{Block, Host, HostConfig, InstallReport, Page};
use plaza_test_programs::Fixture;
use plaza_test_programs::fuzz_script::{Call, Item};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// 2026-11-21 09:00 in Hangzhou (01:00 UTC).
pub const START_MS: i64 = 1_795_222_800_000;

pub struct TestHost {
    pub host: Host,
    pub clock: ManualClock,
    pub prompter: Arc<ScriptedPrompter>,
    /// Holds the store's directory until the test ends.
    _dir: tempfile::TempDir,
}

/// The compiled-component cache shared by the tests of one run, so each
/// fixture is compiled once.
pub fn shared_cache() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("plaza-test-cache")
}

pub fn limits() -> SandboxLimits {
    SandboxLimits {
        memory_bytes: 32 * 1024 * 1024,
        cpu_deadline: Duration::from_millis(500),
        max_live_sessions: 32,
        ..SandboxLimits::default()
    }
}

/// The city-services sample's agency backend, one per test run on an
/// ephemeral port; test hosts send the sample's origin there.
pub fn agency_backend() -> std::net::SocketAddr {
    plaza_agency_backend::shared().expect("start the agency backend")
}

/// A network configuration that sends the sample's backend origin
/// (`http://localhost:47180`) to this run's agency backend.
pub fn network_config() -> plaza_host::NetworkConfig {
    let mut n = plaza_host::NetworkConfig::default();
    n.resolve_to(
        plaza_agency_backend::HOST,
        plaza_agency_backend::PORT,
        agency_backend(),
    );
    n
}

/// A test host whose samples' back-end runs the institutions' back offices
/// ([`host_with_offices`]): the host sends the samples' origin
/// (`http://localhost:47180`) to a back-end of the test's own, whose offices
/// act through this host's publisher API.
pub struct OfficesHost {
    pub t: TestHost,
    pub offices: Arc<plaza_agency_backend::Offices>,
    /// Serves the samples' registrations until the test ends.
    _backend: plaza_agency_backend::Backend,
}

impl std::ops::Deref for OfficesHost {
    type Target = TestHost;
    fn deref(&self) -> &TestHost {
        &self.t
    }
}

/// A test host with the samples' back offices ([`OfficesHost`]).
pub fn host_with_offices() -> OfficesHost {
    let offices = Arc::new(plaza_agency_backend::Offices::new(480));
    let backend =
        plaza_agency_backend::Backend::start_with("127.0.0.1:0", None, Some(offices.clone()))
            .expect("start the back offices");
    let addr = backend.addr();
    let t = host_with(|c| {
        let mut n = plaza_host::NetworkConfig::default();
        n.resolve_to(plaza_agency_backend::HOST, plaza_agency_backend::PORT, addr);
        c.network(n)
    });
    OfficesHost {
        t,
        offices,
        _backend: backend,
    }
}

impl OfficesHost {
    /// Installs a sample and connects its back office with the app secret
    /// the install gave.
    pub async fn install_sample(&self, f: &Fixture) -> InstallReport {
        let report = install(&self.t, f).await;
        self.connect(&report);
        report
    }

    /// Connects the installed mini-app's back-end to its office.
    pub fn connect(&self, report: &InstallReport) {
        let secret = report
            .app_secret
            .clone()
            .expect("a first install's app secret");
        self.offices
            .connect(Arc::new(plaza_agency_backend::InProcessApi::new(
                self.host.clone(),
                &report.app_id,
                &secret,
            )));
    }

    /// Runs an office's action now, on the host's clock.
    pub fn run(
        &self,
        office: &str,
        action: &str,
        with: &[(&str, &str)],
    ) -> plaza_agency_backend::ActionReport {
        use plaza_host::clock::Clock;
        let with = with
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        self.offices
            .run(office, action, &with, self.clock.now_ms())
            .unwrap_or_else(|e| panic!("{office} {action}: {e}"))
    }
}

pub fn config(clock: &ManualClock, prompter: &Arc<ScriptedPrompter>) -> HostConfig {
    HostConfig::default()
        .network(network_config())
        .cache_dir(Some(shared_cache()))
        .limits(limits())
        .clock(Arc::new(clock.clone()))
        .ids(Arc::new(SequentialIds::default()))
        .prompter(prompter.clone())
        .utc_offset_minutes(480)
        .payment_timeout(Duration::from_millis(300))
        // Fixtures are unsigned: tests that need trust sign their own.
        .developer_mode(true)
}

pub fn host() -> TestHost {
    host_with(|c| c)
}

pub fn host_with(adjust: impl FnOnce(HostConfig) -> HostConfig) -> TestHost {
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = ManualClock::new(START_MS);
    let prompter = Arc::new(ScriptedPrompter::new());
    let host = Host::open(
        &dir.path().join("plaza.db"),
        adjust(config(&clock, &prompter)),
    )
    .expect("open host");
    TestHost {
        host,
        clock,
        prompter,
        _dir: dir,
    }
}

/// `n` test hosts on one fresh PostgreSQL database (a throwaway one in the
/// test run's cluster), as `n` nodes of a deployment: each its own host,
/// clock and prompter. The returned store owns the database: drop it last.
pub fn postgres_nodes(n: usize) -> (plaza_host::store::PostgresStore, Vec<TestHost>) {
    postgres_nodes_with(n, |c| c)
}

/// [`postgres_nodes`] with each node's configuration changed by `adjust`.
pub fn postgres_nodes_with(
    n: usize,
    adjust: impl Fn(HostConfig) -> HostConfig,
) -> (plaza_host::store::PostgresStore, Vec<TestHost>) {
    let server = plaza_host::store::test_server_url().expect("PostgreSQL for tests");
    let owner = plaza_host::store::PostgresStore::open_throwaway(&server).expect("a database");
    let url = PathBuf::from(owner.url());
    let nodes = (0..n)
        .map(|_| {
            let clock = ManualClock::new(START_MS);
            let prompter = Arc::new(ScriptedPrompter::new());
            let host = Host::open(&url, adjust(config(&clock, &prompter))).expect("open a node");
            TestHost::from_parts(host, clock, prompter)
        })
        .collect();
    (owner, nodes)
}

impl TestHost {
    /// The store file of a host made by [`host`] or [`host_with`], for a
    /// test that reaches into it (to make a write fail, say).
    pub fn store_file(&self) -> PathBuf {
        self._dir.path().join("plaza.db")
    }

    /// The same store opened by a new host, its configuration adjusted;
    /// the clock and the prompter kept (a restart of the host).
    pub fn reopen(self, adjust: impl FnOnce(HostConfig) -> HostConfig) -> TestHost {
        let host = Host::open(
            &self.store_file(),
            adjust(config(&self.clock, &self.prompter)),
        )
        .expect("reopen host");
        TestHost { host, ..self }
    }

    /// A test host around a host the test opened itself (its own store
    /// path or configuration), with the clock and prompter it was given.
    pub fn from_parts(host: Host, clock: ManualClock, prompter: Arc<ScriptedPrompter>) -> TestHost {
        TestHost {
            host,
            clock,
            prompter,
            _dir: tempfile::tempdir().expect("temp dir"),
        }
    }
}

/// The fixture's package, with its own manifest.
pub fn package(f: &Fixture) -> Package {
    Package::new(&f.manifest_text(), f.component_bytes()).expect("fixture package")
}

/// The fixture's component under another manifest.
pub fn package_with_manifest(f: &Fixture, manifest: &str) -> Package {
    Package::new(manifest, f.component_bytes()).expect("package")
}

/// The fixture's manifest with `from` replaced by `to`.
pub fn manifest_replacing(f: &Fixture, from: &str, to: &str) -> String {
    let text = f.manifest_text();
    assert!(text.contains(from), "{} manifest has no `{from}`", f.name);
    text.replacen(from, to, 1)
}

pub async fn install(t: &TestHost, f: &Fixture) -> InstallReport {
    t.host.install(package(f)).await.expect("install fixture")
}

/// The value of the first `field` block with this label.
pub fn field(page: &Page, label: &str) -> Option<String> {
    page.blocks.iter().find_map(|b| match b {
        Block::Field(f) if f.label == label => Some(f.value.clone()),
        _ => None,
    })
}

/// The texts of every notice on the page.
pub fn notices(page: &Page) -> Vec<String> {
    page.blocks
        .iter()
        .filter_map(|b| match b {
            Block::Notice(n) => Some(n.text.clone()),
            _ => None,
        })
        .collect()
}

/// The page as text, for assertions and failure messages.
pub fn text(page: &Page) -> String {
    plaza_host::page::render_text(page)
}

/// Registers `f`'s publisher (id, name and category from its manifest) with
/// a fresh key in `t`'s registry; returns the key to sign with.
pub fn register_publisher(
    t: &TestHost,
    f: &Fixture,
    verified: bool,
) -> plaza_host::package::PublisherKey {
    let manifest = plaza_host::manifest::Manifest::parse("m", &f.manifest_text()).unwrap();
    let key = plaza_host::package::PublisherKey::generate().unwrap();
    t.host
        .add_publisher(plaza_host::store::PublisherRecord {
            id: manifest.publisher.id.clone(),
            name: format!("{} (registered)", manifest.publisher.name),
            category: manifest.publisher.category,
            verified,
            public_key: key.public_key_hex(),
            added_at_ms: 0,
        })
        .expect("register publisher");
    key
}

/// `manifest` with `f`'s component, signed with `key`.
pub fn signed_package(
    f: &Fixture,
    manifest: &str,
    key: &plaza_host::package::PublisherKey,
) -> Package {
    let mut p = package_with_manifest(f, manifest);
    p.sign(key).expect("sign");
    p
}

/// A host with `f` installed, signed by its verified publisher, and `user`
/// holding the verified real name "Li Na"; the real-name consent question is
/// answered with `answer`.
pub async fn verified_with_real_name(
    f: &Fixture,
    user: &str,
    answer: plaza_host::prompt::ConsentAnswer,
) -> TestHost {
    let t = host();
    let key = register_publisher(&t, f, true);
    t.host
        .install(signed_package(f, &f.manifest_text(), &key))
        .await
        .expect("install signed");
    t.host
        .set_user_profile(
            user,
            plaza_host::store::UserProfile {
                real_name: Some(plaza_host::store::RealNameRecord {
                    name: "Li Na".into(),
                    id_number: "330106199001010022".into(),
                    verified: true,
                }),
                ..Default::default()
            },
        )
        .expect("set the user's profile");
    t.prompter
        .answer_consent(plaza_host::manifest::Scope::RealName, answer);
    t
}

/// The value of the form input `name` on the page.
pub fn input_value(page: &Page, name: &str) -> String {
    page.blocks
        .iter()
        .find_map(|b| match b {
            Block::Input(i) if i.name == name => Some(i.value.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no input {name}:\n{}", text(page)))
}

/// Launches the cashier at a payment path and taps its `pay`: a payment is
/// asked for only from the user's tap, so the launch names it and the tap
/// makes it.
pub async fn launch_and_pay(s: &plaza_host::Session, path: &str) -> plaza_host::Result<Page> {
    s.launch(path).await?;
    s.tap("pay").await
}

/// The result of the fuzz-caller guest's `n`th call (1-based), named `name`.
pub fn fuzz_result(page: &Page, n: usize, name: &str) -> String {
    field(page, &format!("{n} {name}"))
        .unwrap_or_else(|| panic!("no result for call {n} {name}:\n{}", text(page)))
}

/// Submits the fuzz-caller's `calls` as the user's gesture in `s` (its form
/// after a launch) and returns the page of their results.
pub async fn run_calls(s: &plaza_host::Session, calls: &[Call]) -> Page {
    s.launch("/").await.unwrap();
    s.submit(
        "calls",
        &[("script", &plaza_test_programs::fuzz_script::encode(calls))],
    )
    .await
    .unwrap()
}

/// A fuzz-caller payment of `amount` fen for one consultation, not
/// insurance-eligible.
pub fn fuzz_pay(order: &str, amount: u64) -> Call {
    Call::Pay {
        order: order.into(),
        amount,
        currency: "CNY".into(),
        description: "Consultation".into(),
        items: vec![Item {
            name: "Consultation".into(),
            quantity: 1,
            unit_price: amount,
            insurance_eligible: false,
        }],
    }
}

/// A TLS acceptor with the test certificate (`tests/all/tls`, signed by the
/// test CA the hosts' network configuration trusts), for loopback HTTPS
/// servers of the tests.
pub fn test_tls_acceptor() -> tokio_rustls::TlsAcceptor {
    use rustls_pki_types::pem::PemObject;
    let certs: Vec<_> =
        rustls_pki_types::CertificateDer::pem_slice_iter(include_bytes!("tls/server.pem"))
            .collect::<Result<_, _>>()
            .unwrap();
    let key =
        rustls_pki_types::PrivateKeyDer::from_pem_slice(include_bytes!("tls/server.key")).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config))
}
