//! # plaza-server
//!
//! The Plaza host as a service that embedding apps' phone clients talk to:
//! the phone renders pages and answers prompts; the server runs the
//! mini-apps, the wallet, the ledger, the inbox and the publisher registry,
//! shared by every user. On axum and tokio, over the `plaza-host` library.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use plaza_server::{Server, config::ServerConfig};
//! let config = ServerConfig::from_toml_and_env(&std::fs::read_to_string("plaza-server.toml")?, std::env::vars())?;
//! let server = Server::open(config, |host_config| host_config)?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! server.serve(listener, async { let _ = tokio::signal::ctrl_c().await; }).await?;
//! # Ok(()) }
//! ```
//!
//! Layout: [`config`] the settings, [`auth`] users' JWTs and the operator's
//! token, [`sessions`] events on tasks raced against [`prompts`], [`page`]
//! the page JSON, [`api`] the routes, [`openapi`] the document describing
//! them, [`metrics`] the counters, [`tls`] HTTPS. `docs/server.md` is the
//! guide.

pub mod api;
pub mod auth;
pub mod config;
pub mod error;
pub mod metrics;
pub mod openapi;
pub mod page;
pub mod prompts;
pub mod sessions;
pub mod tls;

use crate::auth::Issuers;
use crate::config::ServerConfig;
use crate::metrics::Metrics;
use crate::prompts::PromptHub;
use crate::sessions::SessionTable;
use plaza_host::policy::Policy;
use plaza_host::settings::SettingsKey;
use plaza_host::{Host, HostConfig};
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The settings are unusable.
    #[error("{0}")]
    Config(String),
    /// The host could not open.
    #[error("opening the host: {0}")]
    Host(#[from] plaza_host::Error),
}

/// Requests per user per minute, in fixed one-minute windows.
#[derive(Debug)]
pub struct RateLimiter {
    per_minute: u32,
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimiter {
    /// A limiter of `per_minute` requests per user.
    pub fn new(per_minute: u32) -> RateLimiter {
        RateLimiter {
            per_minute,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a request of `user`; `Err(seconds)` to wait when over.
    pub fn check(&self, user: &str) -> Result<(), u64> {
        let now = Instant::now();
        let mut w = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let (start, n) = w.entry(user.to_string()).or_insert((now, 0));
        if now.duration_since(*start) >= Duration::from_secs(60) {
            *start = now;
            *n = 0;
        }
        if *n >= self.per_minute {
            let left = Duration::from_secs(60).saturating_sub(now.duration_since(*start));
            return Err(left.as_secs().max(1));
        }
        *n += 1;
        Ok(())
    }

    /// Forgets windows that ended.
    pub fn prune(&self) {
        let now = Instant::now();
        self.windows
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|_, (start, _)| now.duration_since(*start) < Duration::from_secs(60));
    }
}

/// What every request's handler reaches.
pub struct Shared {
    /// The host.
    pub host: Host,
    /// The prompts waiting for users.
    pub hub: PromptHub,
    /// The sessions driven by the client API.
    pub sessions: Arc<SessionTable>,
    /// The issuers' keys.
    pub issuers: Issuers,
    /// The settings.
    pub config: ServerConfig,
    /// The counters.
    pub metrics: Metrics,
    /// The per-user rate limit.
    pub limiter: RateLimiter,
    /// The policy in force (the host's has no getter).
    pub policy: Mutex<Policy>,
    /// The host's limit of live sessions.
    pub max_live_sessions: u32,
    /// False once shutting down (`/readyz` answers 503).
    pub ready: AtomicBool,
}

/// The state of the routes; cheap to clone.
pub type AppState = Arc<Shared>;

/// The Plaza server: a host, its prompts and sessions, and the routes.
pub struct Server {
    state: AppState,
    /// HTTPS, when the settings name a certificate and a key.
    tls: Option<tokio_rustls::TlsAcceptor>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").finish_non_exhaustive()
    }
}

impl Server {
    /// Opens the host the settings describe. `adjust` may change the host's
    /// configuration before it opens (a clock, the network, limits); the
    /// prompter and the timeouts are the server's.
    pub fn open(
        config: ServerConfig,
        adjust: impl FnOnce(HostConfig) -> HostConfig,
    ) -> Result<Server, StartError> {
        config.check().map_err(|e| StartError::Config(e.0))?;
        let tls = if config.tls() {
            Some(tls::acceptor(&config.tls_cert, &config.tls_key).map_err(StartError::Config)?)
        } else {
            None
        };
        let issuers = Issuers::new(&config.issuers).map_err(StartError::Config)?;
        let sessions = Arc::new(SessionTable::default());
        let hub = PromptHub::new(sessions.clone(), config.prompt_timeout());
        let cache = (!config.cache_dir.as_os_str().is_empty()).then(|| config.cache_dir.clone());
        let idle =
            (config.idle_timeout_secs > 0).then(|| Duration::from_secs(config.idle_timeout_secs));
        let key_file = (!config.settings_key_file.as_os_str().is_empty())
            .then(|| config.settings_key_file.clone());
        let settings_key = SettingsKey::for_store(&config.store, key_file)
            .map_err(|e| StartError::Config(e.to_string()))?;
        let host_config = adjust(
            HostConfig::default()
                .settings_key(settings_key)
                .cache_dir(cache)
                .developer_mode(config.developer_mode)
                .idle_timeout(idle)
                .utc_offset_minutes(config.utc_offset_minutes)
                .max_loaded_code_bytes(config.max_loaded_code_bytes)
                .link_base((!config.link_base.is_empty()).then(|| config.link_base.clone())),
        )
        .prompter(Arc::new(hub.clone()))
        .payment_timeout(config.prompt_timeout())
        .prompt_timeout(config.prompt_timeout());
        let policy = host_config.policy.clone();
        let max_live_sessions = host_config.limits.max_live_sessions;
        let host = Host::open(&config.store, host_config)?;
        let limiter = RateLimiter::new(config.user_requests_per_minute);
        Ok(Server {
            state: Arc::new(Shared {
                host,
                hub,
                sessions,
                issuers,
                config,
                metrics: Metrics::default(),
                limiter,
                policy: Mutex::new(policy),
                max_live_sessions,
                ready: AtomicBool::new(true),
            }),
            tls,
        })
    }

    /// The host.
    pub fn host(&self) -> &Host {
        &self.state.host
    }

    /// The routes, with their layers.
    pub fn router(&self) -> axum::Router {
        api::router(self.state.clone())
    }

    /// Whether the server serves HTTPS (`tls_cert` and `tls_key` set).
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// Serves on `listener` until `shutdown` resolves, then shuts down
    /// gracefully: stops accepting, declines every waiting prompt (nothing
    /// is paid without an answer), lets the requests and events in flight
    /// finish (payments under way complete whole) for up to
    /// `shutdown_grace_secs`, and ends the live sessions with `hide`.
    /// While it serves, it delivers the host's payment notifications
    /// ([`Host::start_notifications`]).
    /// HTTPS when the settings name a certificate and a key
    /// ([`Server::is_tls`]), else plain HTTP.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        self.serve_with(listener, |routes| routes, shutdown).await
    }

    /// [`serve`](Server::serve) with routes of the caller's beside the
    /// server's: `wrap` gets the server's router and answers the one to
    /// serve (merged with more routes, under more layers). The simulator
    /// (`plaza serve`) puts its page on top of the API so.
    pub async fn serve_with(
        mut self,
        listener: tokio::net::TcpListener,
        wrap: impl FnOnce(axum::Router) -> axum::Router,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let routes = wrap(self.router());
        match self.tls.take() {
            Some(acceptor) => {
                let listener = tls::TlsListener::new(listener, acceptor)?;
                self.serve_on(listener, routes, shutdown).await
            }
            None => self.serve_on(listener, routes, shutdown).await,
        }
    }

    async fn serve_on<L>(
        self,
        listener: L,
        routes: axum::Router,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()>
    where
        L: axum::serve::Listener,
        L::Addr: std::fmt::Debug,
    {
        let state = self.state.clone();
        // Payment notifications go out while the server runs (every node
        // on a shared store delivers; a claim keeps two from sending one).
        let notifications = state.host.start_notifications();
        let maintenance = tokio::spawn({
            let state = state.clone();
            async move {
                loop {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    state.sessions.prune();
                    state.limiter.prune();
                }
            }
        });
        let stopping = state.clone();
        let signal = async move {
            shutdown.await;
            tracing::info!("shutting down: declining waiting prompts");
            stopping.ready.store(false, Ordering::SeqCst);
            stopping.hub.close_all();
        };
        let result = axum::serve(listener, routes)
            .with_graceful_shutdown(signal)
            .await;
        maintenance.abort();
        notifications.stop();
        let grace = Duration::from_secs(state.config.shutdown_grace_secs);
        let unfinished = state.sessions.drain(grace).await;
        let ended = state.host.shutdown().await;
        tracing::info!(ended, unfinished, "stopped");
        result
    }
}
