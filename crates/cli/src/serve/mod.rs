//! `plaza serve`: the simulator. The Plaza server (`plaza-server`'s API,
//! `docs/server.md`) with a phone-sized page on top: the page renders
//! mini-apps' pages as a citizen sees them and the host's questions as
//! dialogs, talking to the server's `/v1` API as an embedding app's phone
//! does, and shows side panels with the host's view of the user (wallet and
//! ledger, inbox, grants, audit log, privacy), a user switch and a test
//! clock. With `--watch` it rebuilds and reinstalls a mini-app project when
//! its source changes and reloads the page, keeping the user and the store.
//!
//! ```text
//! plaza serve sample-miniapps/hospital             # build, sign as the simulator's verified publisher, serve
//! plaza serve --watch sample-miniapps/hospital     # ... and rebuild when the source changes
//! plaza serve --store my.db hospital.plaza --port 0
//! ```
//!
//! Layout: [`sim`] the page and the simulator's developer tools (its
//! issuer's tokens, the clock, test citizens) on top of the server's
//! routes, [`watch`] the rebuild loop; `assets/` the page itself (HTML, CSS
//! and a script that renders pages with DOM APIs only).

mod sim;
mod watch;

use crate::build;
use anyhow::{Context, Result, bail};
use plaza_host::clock::{Clock, SystemClock};
use plaza_host::package::{Package, PublisherKey};
use plaza_host::store::PublisherRecord;
use plaza_host::{Error as HostError, Host};
use plaza_server::Server;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

pub use sim::Sim;

/// `plaza serve --help`'s closing examples.
pub const AFTER_HELP: &str = "\
Examples:
  plaza serve sample-miniapps/hospital
      Build the hospital, sign it as the simulator's verified publisher, and
      serve it at http://127.0.0.1:7878/ on a temporary store.
  plaza serve --watch sample-miniapps/hospital
      The same, rebuilt and reloaded whenever its source changes.
  plaza serve --unverified my-app/
      Run a project unsigned, as an unverified publisher (what a mini-app
      gets before the host operator verifies its publisher).
  plaza serve --store plaza.db hospital.plaza bank.plaza --port 0
      Signed packages on a store whose registry knows their publishers
      (`plaza publisher add ... --verified`); port 0 picks a free port.

Trust: a project directory is built, packed and signed with a key the
simulator keeps beside the store, and its publisher is registered in that
store as verified, under the manifest's name and category: dialogs then show
what a citizen would see once the host operator verified the publisher. On a
store given with --store, that registration needs --register-publishers. A
.plaza file is installed as it is: signed by a publisher the store's registry
knows, or unsigned with --developer-mode (then it runs unverified).

The first line printed is the simulator's URL. The page has the phone on the
left and the host's panels on the right: wallet and ledger (top up), inbox,
grants (revoke), privacy, audit log, the user (switch, make a test citizen
with a verified name, an insurance card and money) and the test clock
(advance).

The page is a client of the Plaza server's API, served at the same address
(/v1, described at /v1/openapi.json and in docs/server.md): the simulator is
the embedding app, minting short-lived tokens for the user the page
simulates with a secret made at each start (POST /simulator/token, a
developer tool that answers only on loopback).";

/// `plaza serve`.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Mini-apps to serve: package files (`.plaza`) and mini-app project
    /// directories (plaza.toml and Rust, JavaScript, TypeScript or Python code;
    /// built, packed and signed
    /// by the simulator). Without any, the store's installed mini-apps.
    #[arg(value_name = "PACKAGE|DIR")]
    pub targets: Vec<PathBuf>,
    /// The address to listen on. Anything but a loopback address lets other
    /// machines drive the simulator's users and wallets.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub addr: IpAddr,
    /// The port; 0 picks a free one (the URL is the first line printed).
    #[arg(long, default_value_t = 7878)]
    pub port: u16,
    /// The host's store (a SQLite file). Default: a temporary store, removed
    /// when the simulator stops.
    #[arg(long, value_name = "PATH")]
    pub store: Option<PathBuf>,
    /// The user the simulator starts as.
    #[arg(long, default_value = "guest")]
    pub user: String,
    /// Rebuild, reinstall and reload a project directory when its source
    /// (src/, assets/, plaza.toml, Cargo.toml, package.json, tsconfig.json) changes.
    #[arg(long)]
    pub watch: bool,
    /// Install project directories unsigned: they run as unverified
    /// publishers (needs no registry entry; turns on developer mode).
    #[arg(long)]
    pub unverified: bool,
    /// With --store: let the simulator register the publishers of project
    /// directories in that store as verified (on the temporary store it
    /// always does). Without it, an unregistered publisher is an error.
    #[arg(long)]
    pub register_publishers: bool,
    /// Accept unsigned .plaza packages (they run unverified). Also on with
    /// PLAZA_DEVELOPER_MODE=1.
    #[arg(long)]
    pub developer_mode: bool,
    /// How long a question (consent, payment, subscription) waits for an
    /// answer in the browser before it is dismissed, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 120)]
    pub prompt_timeout: u64,
    /// Set a setting of the served mini-apps that declare it, as the host's
    /// operator would (`plaza config set`): `NAME=VALUE`; repeatable.
    #[arg(long = "setting", value_name = "NAME=VALUE")]
    pub settings: Vec<String>,
    /// The same for a secret setting (sealed with the store's settings
    /// key, masked in `plaza config list`).
    #[arg(long = "secret", value_name = "NAME=VALUE")]
    pub secrets: Vec<String>,
    /// How often --watch looks at the source, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 500, hide = true)]
    pub watch_interval: u64,
}

/// The simulator's test clock: the system's time plus an offset that the
/// panel advances.
#[derive(Debug, Default)]
pub struct TestClock {
    offset_ms: AtomicI64,
}

impl TestClock {
    /// Moves the clock forward.
    pub fn advance(&self, by_ms: i64) {
        self.offset_ms.fetch_add(by_ms, Ordering::SeqCst);
    }

    /// How far ahead of the system's clock it is.
    pub fn offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::SeqCst)
    }
}

impl Clock for TestClock {
    fn now_ms(&self) -> i64 {
        SystemClock.now_ms() + self.offset_ms()
    }
}

/// A mini-app project directory being served.
#[derive(Debug, Clone)]
pub struct Project {
    /// The directory.
    pub dir: PathBuf,
    /// Its mini-app id (from plaza.toml).
    pub app_id: String,
}

/// Runs the simulator until it is stopped (Ctrl-C).
pub async fn serve(args: ServeArgs) -> Result<ExitCode> {
    if args.prompt_timeout == 0 {
        bail!("--prompt-timeout must be at least 1 second");
    }
    if !(1..=128).contains(&args.user.len()) || args.user.contains(':') {
        bail!("--user must be 1 to 128 bytes without `:`");
    }
    let (store_path, _temp) = match &args.store {
        Some(p) => (p.clone(), None),
        None => {
            let dir = tempfile::Builder::new()
                .prefix("plaza-serve-")
                .tempdir()
                .context("making a temporary store")?;
            (dir.path().join("plaza.db"), Some(dir))
        }
    };
    let clock = Arc::new(TestClock::default());
    let dirs: Vec<&PathBuf> = args.targets.iter().filter(|t| t.is_dir()).collect();
    let developer_mode = args.developer_mode
        || crate::trust::developer_mode_from_env()
        || (args.unverified && !dirs.is_empty());
    let cache = crate::default_store()
        .parent()
        .map(|p| p.join("cache"))
        .unwrap_or_else(|| PathBuf::from("cache"));
    let secret = sim::random_secret()?;
    let config = sim::server_config(
        store_path.clone(),
        cache,
        developer_mode,
        args.prompt_timeout,
        &secret,
    );
    let host_clock = clock.clone();
    let server = Server::open(config, move |c| c.clock(host_clock))
        .with_context(|| format!("opening the store {}", store_path.display()))?;
    let host = server.host().clone();

    let mut projects = Vec::new();
    let installer = Installer {
        host: host.clone(),
        keys_dir: store_path
            .parent()
            .unwrap_or(Path::new("."))
            .join("simulator-keys"),
        unverified: args.unverified,
        may_register: args.store.is_none() || args.register_publishers,
    };
    for target in &args.targets {
        if target.is_dir() {
            let app_id = installer.install_dir(target).await?;
            eprintln!("serving {app_id} from {}", target.display());
            projects.push(Project {
                dir: target.clone(),
                app_id,
            });
        } else if target.is_file() {
            let pkg = Package::read_file(target)?;
            let report = match host.install(pkg).await {
                Ok(r) => r,
                Err(e @ HostError::UnsignedPackage { .. }) => {
                    return Err(anyhow::Error::new(e).context(format!(
                        "installing {} (`plaza serve --developer-mode` takes unsigned packages; they run unverified)",
                        target.display()
                    )));
                }
                Err(e @ HostError::UnknownPublisher { .. }) => {
                    return Err(anyhow::Error::new(e).context(format!(
                        "installing {} (serve it with --store pointing at a store whose registry knows its publisher, or serve its project directory)",
                        target.display()
                    )));
                }
                Err(e) => {
                    return Err(
                        anyhow::Error::new(e).context(format!("installing {}", target.display()))
                    );
                }
            };
            eprintln!(
                "serving {} {} from {}{}",
                report.app_id,
                report.version,
                target.display(),
                if report.signed {
                    ""
                } else {
                    " (unsigned: runs unverified)"
                }
            );
        } else {
            bail!(
                "{} is neither a package file nor a mini-app directory",
                target.display()
            );
        }
    }
    let settings = args.settings.iter().map(|s| (s, false));
    for (assignment, secret) in settings.chain(args.secrets.iter().map(|s| (s, true))) {
        crate::settings::set_in_every_declaring_app(&host, assignment, secret)?;
    }
    if args.watch && projects.is_empty() {
        bail!(
            "--watch rebuilds mini-app project directories: give one (a directory with plaza.toml and its code, as `plaza new` makes)"
        );
    }

    let sim = Sim::new(host, clock, &secret, &args.user);
    let listener = tokio::net::TcpListener::bind(SocketAddr::new(args.addr, args.port))
        .await
        .with_context(|| {
            format!(
                "listening on {}:{} (another program may use the port: try --port 0)",
                args.addr, args.port
            )
        })?;
    let local = listener.local_addr()?;
    // The URL first, alone on its line: scripts and tests read it.
    println!("http://{local}/");
    if !args.addr.is_loopback() {
        eprintln!(
            "warning: listening on {}: anyone who reaches it can act as any simulated user",
            args.addr
        );
    }
    eprintln!(
        "store: {}{}",
        store_path.display(),
        if args.store.is_none() {
            " (temporary)"
        } else {
            ""
        }
    );
    if args.watch {
        for p in &projects {
            tokio::spawn(watch::watch(
                sim.clone(),
                installer.clone(),
                p.clone(),
                Duration::from_millis(args.watch_interval.max(50)),
            ));
        }
    }
    server
        .serve_with(listener, |api| sim::router(sim, api, local), stopped())
        .await
        .context("serving")?;
    Ok(ExitCode::SUCCESS)
}

/// Resolves at Ctrl-C or SIGTERM, so the server stops and the temporary
/// store is removed.
async fn stopped() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    eprintln!("stopping");
}

/// Builds, signs and installs project directories.
#[derive(Clone)]
pub struct Installer {
    host: Host,
    keys_dir: PathBuf,
    unverified: bool,
    /// Whether it may add publishers to the store's registry.
    may_register: bool,
}

impl Installer {
    /// Builds the project in `dir`, packs it, signs it as the simulator's
    /// verified publisher (unless --unverified) and installs it, replacing
    /// an installed build of the same version. Returns the mini-app id.
    pub async fn install_dir(&self, dir: &Path) -> Result<String> {
        let manifest_path = dir.join("plaza.toml");
        let manifest = std::fs::read_to_string(&manifest_path)
            .with_context(|| format!("reading {}", manifest_path.display()))?;
        let build_dir = dir.to_path_buf();
        let wasm = tokio::task::spawn_blocking(move || build::build(&build_dir))
            .await
            .context("the build task")??;
        let bytes = std::fs::read(&wasm).with_context(|| format!("reading {}", wasm.display()))?;
        let mut pkg = Package::new(&manifest, bytes)
            .and_then(|p| p.with_assets_dir(&dir.join("assets")))
            .map_err(|e| anyhow::anyhow!("{e}").context(format!("packing {}", dir.display())))?;
        if !self.unverified {
            let key = self.publisher_key(&pkg)?;
            pkg.sign(&key)?;
        }
        let app_id = pkg.manifest.app.id.clone();
        match self.host.install(pkg.clone()).await {
            Ok(_) => {}
            // A rebuild at the same version, or a switch between signed and
            // unsigned: in a simulator the newest build wins.
            Err(HostError::UpdateNotNewer { .. } | HostError::UpdatePublisherMismatch { .. }) => {
                self.host.uninstall(&app_id).await?;
                self.host
                    .install(pkg)
                    .await
                    .with_context(|| format!("installing the build of {}", dir.display()))?;
            }
            Err(e) => {
                return Err(anyhow::Error::new(e)
                    .context(format!("installing the build of {}", dir.display())));
            }
        }
        Ok(app_id)
    }

    /// The simulator's key for the package's publisher (made once, kept
    /// beside the store), registering the publisher as verified if the
    /// registry does not know it.
    fn publisher_key(&self, pkg: &Package) -> Result<PublisherKey> {
        let p = &pkg.manifest.publisher;
        let file = self.keys_dir.join(format!("{}.key", p.id));
        let key = if file.is_file() {
            let hex = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            PublisherKey::from_secret_hex(&hex)?
        } else {
            let key = PublisherKey::generate()?;
            std::fs::create_dir_all(&self.keys_dir)
                .with_context(|| format!("making {}", self.keys_dir.display()))?;
            std::fs::write(&file, key.secret_hex())
                .with_context(|| format!("writing {}", file.display()))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
                    .with_context(|| format!("making {} private", file.display()))?;
            }
            let public = file.with_extension("key.pub");
            std::fs::write(&public, key.public_key_hex())
                .with_context(|| format!("writing {}", public.display()))?;
            key
        };
        match self.host.publisher(&p.id)? {
            Some(r) if r.public_key == key.public_key_hex() => {}
            Some(r) => bail!(
                "publisher {} is registered in this store with key id {} (not the simulator's key): \
                 serve a package signed with that key instead of the directory, serve the directory \
                 with --unverified, or use another --store",
                p.id,
                plaza_host::package::key_id(&r.public_key)
            ),
            None if !self.may_register => bail!(
                "publisher {} is not in the registry of this store: let the simulator register it as \
                 verified with its key (--register-publishers), register it yourself (`plaza publisher \
                 add {} --name NAME --category {} --key {}.pub --verified`), serve the directory with \
                 --unverified, or leave out --store to use a temporary store",
                p.id,
                p.id,
                p.category,
                file.display()
            ),
            None => {
                self.host.add_publisher(PublisherRecord {
                    id: p.id.clone(),
                    name: p.name.clone(),
                    category: p.category,
                    verified: true,
                    public_key: key.public_key_hex(),
                    added_at_ms: 0,
                })?;
                eprintln!(
                    "registered publisher {} (\"{}\", {}) as verified in the simulator's store",
                    p.id, p.name, p.category
                );
            }
        }
        Ok(key)
    }
}
