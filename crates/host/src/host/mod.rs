//! The host: a store, an engine, the gate, the installed mini-apps and their
//! sessions. `Host`'s methods are grouped by concern: packages, sessions and
//! the wallet here; the user's identity data and consent settings in
//! `identity.rs`; the user's rights over their data (report, export,
//! erasure) in `privacy.rs`; the publisher registry and app secrets in
//! `publishers.rs`; mini-apps' settings in `settings.rs`.
//! `publishers.rs`; the publisher API (a mini-app's back-end) in
//! `backend.rs`; the delivery of payment notifications in
//! `notifications.rs`.

mod backend;
mod identity;
mod links;
mod media;
mod notifications;
mod privacy;
mod publishers;
mod settings;

pub use backend::{
    ACCESS_TOKEN_TTL_MS, AccessToken, DayStatement, LinkTarget, MAX_LINK_BYTES, Publisher,
    PublisherPayment,
};
pub use notifications::NotificationDelivery;
pub use publishers::ReleasedAppId;

use crate::config::HostConfig;
use crate::engine::{self, Runtime};
use crate::error::{Error, Result};
use crate::gate::{Actor, Gate};
use crate::keys::HostKeys;
use crate::lanes::BusyLanes;
use crate::manifest::Manifest;
use crate::package::Package;
use crate::policy::Policy;
use crate::services::network::Network;
use crate::services::{MessagingSettings, PaymentSettings, Services};
use crate::session::{self, Session, Slot};
use crate::store::{AuditEntry, AuditQuery, ConsentRecord, Outcome, PackageRecord, Store};
pub use privacy::{
    AccessLine, AppAccess, AppExport, Erasure, ExportedValue, PrivacyExport, PrivacyReport,
    WalletExport,
};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

/// What `install` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallReport {
    /// The mini-app id.
    pub app_id: String,
    /// The version installed.
    pub version: String,
    /// The version it replaced, if any.
    pub replaced: Option<String>,
    /// SHA-256 of the component.
    pub component_sha256: String,
    /// The interfaces the component imports.
    pub imports: Vec<String>,
    /// Whether the package was signed by its registered publisher (unsigned
    /// packages install only in developer mode).
    pub signed: bool,
    /// The mini-app's app secret, for its backend to exchange login codes
    /// ([`Host::exchange_login_code`]): issued at the first install and shown
    /// only here; `None` when one was issued before
    /// ([`Host::reset_app_secret`] makes a new one).
    pub app_secret: Option<String>,
}

/// An installed mini-app, as listed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InstalledApp {
    /// The id.
    pub app_id: String,
    /// The name.
    pub name: String,
    /// The version.
    pub version: String,
    /// The publisher id.
    pub publisher_id: String,
    /// The publisher's name as users see it: the registry's for a signed
    /// package of a registered publisher, else the manifest's.
    pub publisher_name: String,
    /// Whether the registry lists the publisher as verified (never for an
    /// unsigned package).
    pub publisher_verified: bool,
    /// Whether the package was installed signed.
    pub signed: bool,
    /// The publisher's category.
    pub category: String,
    /// The capabilities it declares.
    pub capabilities: Vec<String>,
    /// SHA-256 of its component.
    pub component_sha256: String,
    /// When it was installed, ms since the epoch.
    pub installed_at_ms: i64,
    /// The settings its manifest declares that have neither a value nor a
    /// default: until the operator sets them, the mini-app gets `not-found`.
    pub missing_settings: Vec<String>,
    /// Its tab bar (`[[tabs]]`), empty for none.
    pub tabs: Vec<crate::manifest::Tab>,
}

/// How components were obtained since the host started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CacheStats {
    /// Components compiled from WebAssembly.
    pub compiled: u64,
    /// Components loaded from the compiled-component cache.
    pub loaded_from_cache: u64,
}

type SlotMap = HashMap<(String, String), Arc<tokio::sync::Mutex<Slot>>>;

pub(crate) struct HostInner {
    /// The engine, the linker and the loaded mini-apps.
    runtime: Arc<Runtime>,
    /// What host calls need (the runtime's).
    pub(crate) services: Arc<Services>,
    idle_timeout: Option<Duration>,
    developer_mode: bool,
    slots: Mutex<SlotMap>,
    /// [`HostConfig::after_refund_commit`].
    after_refund_commit: Option<crate::config::RefundHook>,
    /// [`HostConfig::link_base`], checked.
    pub(crate) link_base: Option<crate::link::LinkBase>,
}

/// The Plaza host. Cheap to clone; every clone is the same host.
///
/// ```no_run
/// use plaza_host::{Host, HostConfig, package::Package};
/// # async fn demo() -> plaza_host::Result<()> {
/// let host = Host::open(std::path::Path::new("plaza.db"), HostConfig::default())?;
/// host.install(Package::read_file("hospital.plaza".as_ref())?).await?;
/// let session = host.session("alice", "cn.hz.maternity")?;
/// let page = session.launch("/").await?;
/// assert!(!page.title.is_empty());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Host {
    pub(crate) inner: Arc<HostInner>,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host").finish_non_exhaustive()
    }
}

impl Host {
    /// Opens a host over the store at `location`: the SQLite file at that
    /// path (created if missing), or the PostgreSQL database of a
    /// `postgres://` URL ([`crate::store::open_store`]), which several hosts
    /// may share.
    pub fn open(location: &Path, config: HostConfig) -> Result<Host> {
        Host::with_store(crate::store::open_store(location)?, config)
    }

    /// Opens a host over any store.
    pub fn with_store(store: Arc<dyn Store>, config: HostConfig) -> Result<Host> {
        let link_base = match &config.link_base {
            Some(base) => Some(crate::link::LinkBase::parse(base).map_err(Error::InvalidRequest)?),
            None => None,
        };
        let engine = engine::build_engine(&config.limits)?;
        engine::start_epoch_ticker(&engine, config.limits.epoch_tick);
        let network = Network::new(&config.network, config.developer_mode)?;
        let gate = Gate::new(
            config.policy,
            store.clone(),
            config.clock.clone(),
            config.prompter,
        )
        .with_prompt_timeout(config.prompt_timeout);
        let services = Arc::new(Services {
            keys: HostKeys::load(store.as_ref())?,
            store,
            gate: Arc::new(gate),
            clock: config.clock,
            ids: config.ids,
            busy_lanes: BusyLanes::new(config.limits.busy_lanes),
            limits: Arc::new(config.limits),
            utc_offset_minutes: config.utc_offset_minutes,
            network: Arc::new(network),
            payment: PaymentSettings {
                confirmation_timeout: config.payment_timeout,
                notifications_due: Arc::default(),
            },
            notify: config.notify,
            messaging: MessagingSettings {
                per_minute: config.messaging_per_minute,
                broadcasts_per_month: config.broadcasts_per_month,
            },
            settings_key: config.settings_key,
            backend_calls_per_minute: config.backend_calls_per_minute,
            link_base: link_base.clone(),
        });
        let runtime = Arc::new(Runtime::new(
            engine,
            services.clone(),
            config.cache_dir,
            config.max_loaded_code_bytes,
        )?);
        let inner = Arc::new(HostInner {
            runtime,
            services,
            idle_timeout: config.idle_timeout,
            developer_mode: config.developer_mode,
            slots: Mutex::new(HashMap::new()),
            after_refund_commit: config.after_refund_commit,
            link_base,
        });
        if let Some(idle) = inner.idle_timeout
            && let Ok(rt) = tokio::runtime::Handle::try_current()
        {
            let weak = Arc::downgrade(&inner);
            let every = (idle / 4).clamp(Duration::from_millis(10), Duration::from_secs(60));
            rt.spawn(evict_periodically(weak, every));
        }
        let host = Host { inner };
        host.resume_broadcasts()?;
        Ok(host)
    }

    /// Installs a package, or replaces the installed version of the same
    /// mini-app. The package's trust is checked first ([`crate::trust`]:
    /// signed by a registered publisher, the registry's category, the same
    /// publisher and a higher version for an update); then the component is
    /// compiled (or loaded from the cache), its imports are checked against
    /// the manifest, and it is linked, before anything is stored: a package
    /// that would not run is refused whole.
    ///
    /// Every decision goes to the audit log (capability `install`, no user):
    /// the version installed, or why the package was refused.
    pub async fn install(&self, package: Package) -> Result<InstallReport> {
        let app_id = package.manifest.app.id.clone();
        let version = package.manifest.app.version.to_string();
        let result = self.install_checked(package).await;
        let (outcome, detail) = match &result {
            Ok(r) => (
                Outcome::Allowed,
                format!(
                    "installed version {version} ({})",
                    if r.signed {
                        "signed"
                    } else {
                        "unsigned, developer mode"
                    }
                ),
            ),
            Err(e) => (Outcome::Denied, format!("refused version {version}: {e}")),
        };
        if let Err(e) =
            self.inner
                .services
                .gate
                .audit(Actor::install(&app_id), "install", outcome, &detail)
        {
            tracing::error!("audit of an install: {e}");
        }
        result
    }

    async fn install_checked(&self, package: Package) -> Result<InstallReport> {
        let inner = self.inner.clone();
        let trust = crate::trust::check_install(
            inner.services.store.as_ref(),
            &package,
            inner.developer_mode,
        )?;
        let manifest = Arc::new(package.manifest.clone());
        let app_id = manifest.app.id.clone();
        let sha = package.component_hash();
        let component_bytes = Arc::new(package.component);
        let (mut loaded, imports) = inner
            .runtime
            .prepare(manifest.clone(), component_bytes.clone(), sha.clone())
            .await?;
        let previous = inner.services.store.package_info(&app_id)?;
        inner.services.store.put_package(&PackageRecord {
            app_id: app_id.clone(),
            version: manifest.app.version.to_string(),
            publisher_id: manifest.publisher.id.clone(),
            manifest: manifest.source.clone(),
            component: component_bytes.to_vec(),
            assets: crate::package::encode_assets(&package.assets),
            component_sha256: sha.clone(),
            signature: package.signature,
            installed_at_ms: inner.services.clock.now_ms(),
        })?;
        loaded.signed = trust.signed;
        loaded.assets = package.assets.iter().map(|a| a.name.clone()).collect();
        inner.runtime.set_loaded(Arc::new(loaded));
        if let Some(previous) = &previous {
            self.reset_changed_consents(previous, &manifest)?;
        }
        let app_secret = match inner.services.store.app_secret(&app_id)? {
            Some(_) => None,
            None => Some(crate::trust::issue_app_secret(
                &*inner.services.store,
                &app_id,
                inner.services.clock.now_ms(),
            )?),
        };
        tracing::info!(app = %app_id, version = %manifest.app.version, signed = trust.signed, "installed");
        Ok(InstallReport {
            app_id,
            version: manifest.app.version.to_string(),
            replaced: previous.map(|p| p.version),
            component_sha256: sha,
            imports,
            signed: trust.signed,
            app_secret,
        })
    }

    /// Forgets the consent decisions an update makes stale
    /// ([`crate::trust::consents_to_ask_again`]), each reset audited.
    fn reset_changed_consents(&self, previous: &PackageRecord, next: &Manifest) -> Result<()> {
        let app = &next.app.id;
        let previous = Manifest::parse(&format!("{app} (installed)"), &previous.manifest)?;
        for (scope, why) in crate::trust::consents_to_ask_again(&previous, next) {
            let forgotten = self
                .inner
                .services
                .store
                .reset_consents(app, scope.map(|s| s.as_str()))?;
            let what = match scope {
                Some(scope) => format!("consent.reset.{scope}"),
                None => "consent.reset".to_string(),
            };
            self.inner.audit_host(
                "",
                app,
                &what,
                Outcome::Denied,
                &format!("{why} ({forgotten} decisions forgotten)"),
            );
        }
        Ok(())
    }

    /// Uninstalls a mini-app: its live sessions end and its package is
    /// removed. Users' stored data stays (reinstalling brings it back), and
    /// the app id stays its publisher's: another publisher's package under
    /// it is refused until the operator releases it
    /// ([`Host::release_app_id`], which erases that data).
    ///
    /// From the start, no new instance of the mini-app starts (an event gets
    /// `NotInstalled`). Its sessions end at once, each `hide` within
    /// [`SandboxLimits::hide_deadline`]; a session busy with an event ends
    /// when that event does, at the latest at its wall-clock cap
    /// ([`SandboxLimits::event_wall_clock`]; prompts have their own timeouts).
    ///
    /// [`SandboxLimits::hide_deadline`]: crate::sandbox::SandboxLimits::hide_deadline
    /// [`SandboxLimits::event_wall_clock`]: crate::sandbox::SandboxLimits::event_wall_clock
    pub async fn uninstall(&self, app_id: &str) -> Result<()> {
        let runtime = &self.inner.runtime;
        runtime.set_uninstalling(app_id, true);
        let slots: Vec<_> = self
            .inner
            .slots_lock()
            .iter()
            .filter(|((_, a), _)| a == app_id)
            .map(|(_, s)| s.clone())
            .collect();
        session::end_all(runtime, slots, "the mini-app was uninstalled", None).await;
        runtime.forget(app_id);
        let deleted = self.inner.services.store.delete_package(app_id);
        runtime.set_uninstalling(app_id, false);
        if !deleted? {
            return Err(Error::NotInstalled {
                app: app_id.to_string(),
            });
        }
        Ok(())
    }

    /// The installed mini-apps, by id.
    pub fn installed(&self) -> Result<Vec<InstalledApp>> {
        let mut out = Vec::new();
        for r in self.inner.services.store.list_packages()? {
            let m = Manifest::parse(&format!("{} (installed)", r.app_id), &r.manifest)?;
            let signed = r.signature.is_some();
            // What sessions show: the registry's name and verification for
            // a signed package.
            let (publisher_verified, publisher_name) =
                crate::trust::publisher_as_shown(&*self.inner.services.store, &m, signed)?;
            out.push(InstalledApp {
                app_id: r.app_id,
                name: m.app.name.clone(),
                version: r.version,
                publisher_id: r.publisher_id,
                publisher_name,
                publisher_verified,
                signed,
                category: m.publisher.category.to_string(),
                capabilities: m.declared().iter().map(|c| c.to_string()).collect(),
                component_sha256: r.component_sha256,
                installed_at_ms: r.installed_at_ms,
                missing_settings: self.missing_settings(&m)?,
                tabs: m.tabs.clone(),
            });
        }
        Ok(out)
    }

    /// The settings of `m` that have neither a value nor a default.
    fn missing_settings(&self, m: &Manifest) -> Result<Vec<String>> {
        if m.settings.is_empty() {
            return Ok(Vec::new());
        }
        let records = self.inner.services.store.settings(&m.app.id)?;
        Ok(crate::settings::describe(m, &records)
            .into_iter()
            .filter(|s| s.source == crate::settings::SettingSource::Missing)
            .map(|s| s.name)
            .collect())
    }

    /// A handle to the session of `user` in `app_id`. Every handle for the
    /// same pair reaches the same session.
    pub fn session(&self, user: &str, app_id: &str) -> Result<Session> {
        if user.is_empty() || user.len() > 128 {
            return Err(Error::Internal {
                message: "a user id must be 1 to 128 bytes".to_string(),
                source: None,
            });
        }
        let installed = !self.inner.runtime.is_uninstalling(app_id)
            && (self.inner.runtime.is_loaded(app_id)
                || self.inner.services.store.package_info(app_id)?.is_some());
        if !installed {
            return Err(Error::NotInstalled {
                app: app_id.to_string(),
            });
        }
        let now = self.inner.services.clock.now_ms();
        let slot = self
            .inner
            .slots_lock()
            .entry((user.to_string(), app_id.to_string()))
            .or_insert_with(|| Arc::new(tokio::sync::Mutex::new(Slot::new(now))))
            .clone();
        Ok(Session {
            runtime: self.inner.runtime.clone(),
            user: user.to_string(),
            app_id: app_id.to_string(),
            slot,
        })
    }

    /// Ends every session idle for longer than the idle timeout (each gets a
    /// `hide` event first). Returns how many ended. Runs by itself in the
    /// background when the host is opened inside a tokio runtime; call it
    /// directly to drive eviction with a test clock.
    pub async fn evict_idle(&self) -> usize {
        self.inner.evict_idle().await
    }

    /// Ends every live session as [`Session::close`] does — the mini-app gets
    /// a `hide` event, its instance is dropped, the audit log records
    /// `session.ended` ("host shut down") — and returns how many ended. Call
    /// it when the embedding app stops, before dropping the host: everything
    /// a host call acknowledged is already stored, so there is nothing else
    /// to flush. Handles still held keep working; their next event starts a
    /// new session.
    ///
    /// Sessions end at once, each `hide` within
    /// [`SandboxLimits::hide_deadline`](crate::sandbox::SandboxLimits::hide_deadline);
    /// a session busy with an event ends when that event does.
    pub async fn shutdown(&self) -> usize {
        let slots: Vec<_> = self.inner.slots_lock().values().cloned().collect();
        session::end_all(&self.inner.runtime, slots, "host shut down", None).await
    }

    /// The number of sessions with a live instance.
    pub async fn live_sessions(&self) -> usize {
        let slots: Vec<_> = self.inner.slots_lock().values().cloned().collect();
        let mut n = 0;
        for s in slots {
            if s.lock().await.is_live() {
                n += 1;
            }
        }
        n
    }

    /// Reads the audit log.
    pub fn audit(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>> {
        Ok(self.inner.services.store.audit_entries(query)?)
    }

    /// A user's remembered consent decisions.
    pub fn consents(&self, user: &str) -> Result<Vec<ConsentRecord>> {
        Ok(self.inner.services.store.list_consents(user)?)
    }

    /// Forgets a consent decision; the mini-app's next use asks again.
    pub fn revoke_consent(&self, user: &str, app_id: &str, scope: &str) -> Result<bool> {
        let revoked = self
            .inner
            .services
            .store
            .revoke_consent(user, app_id, scope)?;
        if revoked {
            self.audit_revocation(user, app_id, scope);
        }
        Ok(revoked)
    }

    /// Denied decisions on mini-apps' host calls since the host opened, by
    /// capability name as in the audit log (`storage`, `network`,
    /// `identity.phone`, `payment.request`, `messaging.subscribe`, ...).
    ///
    /// Decisions, not audit entries: a refused call repeated in a loop
    /// writes one entry per event but counts each time. The host's own
    /// entries (installs, the user's settings) are not host calls and do not
    /// count. In memory only: zero again when the host opens.
    pub fn denial_counts(&self) -> std::collections::BTreeMap<String, u64> {
        self.inner.services.gate.denial_counts()
    }

    /// Replaces the policy; live sessions follow it from their next call.
    pub fn set_policy(&self, policy: Policy) {
        self.inner.services.gate.set_policy(policy);
    }

    /// How components were obtained since the host started.
    pub fn cache_stats(&self) -> CacheStats {
        let (compiled, loaded_from_cache) = self.inner.runtime.cache_counts();
        CacheStats {
            compiled,
            loaded_from_cache,
        }
    }

    /// The mini-apps this host has loaded, most recently used first.
    /// Installed mini-apps load at their first use (never when the host
    /// opens) and the least recently used are unloaded past
    /// [`HostConfig::max_loaded_code_bytes`](crate::HostConfig::max_loaded_code_bytes).
    pub fn loaded_apps(&self) -> Vec<crate::LoadedAppInfo> {
        self.inner.runtime.loaded.list()
    }

    /// How many mini-apps are loaded, their code's bytes, and the loads and
    /// unloads since the host opened.
    pub fn loaded_totals(&self) -> crate::LoadedTotals {
        self.inner.runtime.loaded.totals()
    }

    /// The host's public key (ed25519, hex): mini-apps' backends verify
    /// payment receipts with it.
    pub fn public_key(&self) -> String {
        self.inner.services.keys.public_key_hex()
    }

    /// Tops up a user's wallet from the external bank (the host's job, never
    /// a mini-app's). Returns the transaction id and the new balance.
    pub fn top_up(&self, user: &str, amount: u64, currency: &str) -> Result<(String, u64)> {
        check_user(user)?;
        if amount == 0 || amount > crate::ledger::MAX_AMOUNT {
            return Err(Error::InvalidRequest(format!(
                "a top-up must be 1 to {} minor units",
                crate::ledger::MAX_AMOUNT
            )));
        }
        crate::ledger::check_currency(currency).map_err(|e| Error::InvalidRequest(e.0))?;
        let s = &self.inner.services;
        let tx = s.ids.next_id("tx-");
        let balance = s
            .store
            .top_up(&tx, user, amount, currency, s.clock.now_ms())?;
        Ok((tx, balance))
    }

    /// A user's wallet balance, in minor units.
    pub fn wallet_balance(&self, user: &str) -> Result<u64> {
        let b = self
            .inner
            .services
            .store
            .balance(&crate::store::wallet_account(user))?;
        Ok(b.max(0) as u64)
    }

    /// A publisher's merchant balance, in minor units.
    pub fn merchant_balance(&self, publisher_id: &str) -> Result<u64> {
        let b = self
            .inner
            .services
            .store
            .balance(&crate::store::merchant_account(publisher_id))?;
        Ok(b.max(0) as u64)
    }

    /// What the insurance fund has paid out, net of refunds, in minor units.
    pub fn insurance_fund_paid(&self) -> Result<u64> {
        let b = self
            .inner
            .services
            .store
            .balance(crate::store::INSURANCE_FUND)?;
        Ok((-b).max(0) as u64)
    }

    /// A wallet's movements, newest first.
    pub fn wallet_history(
        &self,
        user: &str,
        limit: usize,
    ) -> Result<Vec<crate::store::WalletEntry>> {
        Ok(self.inner.services.store.wallet_history(user, limit)?)
    }

    /// A payment to a mini-app, by the mini-app's order id: the signed
    /// receipt, who paid, the bill and what was refunded of it. `None` if
    /// the mini-app has no payment of that order (payments made before its
    /// app id was released are not its own: [`Host::release_app_id`]).
    pub fn payment(
        &self,
        app_id: &str,
        order_id: &str,
    ) -> Result<Option<crate::store::PaymentRecord>> {
        let generation = self.app_id_generation(app_id)?;
        Ok(self
            .inner
            .services
            .store
            .payment(app_id, generation, order_id)?)
    }

    /// The generation of an app id (0 until it is first released).
    fn app_id_generation(&self, app_id: &str) -> Result<u32> {
        Ok(self
            .inner
            .services
            .store
            .app_id_owner(app_id)?
            .map_or(0, |owner| owner.generation))
    }

    /// A user's payments to a mini-app, newest first, at most `limit` (those
    /// of its app id's current generation). To
    /// page on, pass the transaction id of the last payment seen as `after`
    /// (`None` starts at the newest); `Error::InvalidRequest` if it is not
    /// one of the user's payments to the mini-app.
    pub fn payments(
        &self,
        app_id: &str,
        user: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<crate::store::PaymentRecord>> {
        let generation = self.app_id_generation(app_id)?;
        self.inner
            .services
            .store
            .payments(app_id, generation, user, after, limit)?
            .ok_or_else(|| {
                Error::InvalidRequest(format!(
                    "`{}` is not a transaction of {user}'s payments to {app_id}",
                    after
                        .unwrap_or_default()
                        .chars()
                        .take(80)
                        .collect::<String>()
                ))
            })
    }

    /// What a user's data in a mini-app counts against its storage quota:
    /// the keys, and their bytes with the per-key overhead.
    pub fn storage_usage(&self, user: &str, app_id: &str) -> Result<crate::store::KvUsage> {
        Ok(self.inner.services.store.kv_usage(user, app_id)?)
    }

    /// An installed mini-app's package as the host keeps it (manifest text,
    /// component, signature), to export it; `None` if it is not installed.
    pub fn package(&self, app_id: &str) -> Result<Option<PackageRecord>> {
        Ok(self.inner.services.store.get_package(app_id)?)
    }

    /// An image of an installed mini-app's package, for a renderer to show
    /// where a page has `asset:NAME` (its media type is
    /// [`Asset::content_type`](crate::package::Asset::content_type)); `None`
    /// if the package has no asset of that name. Reads only the assets, not
    /// the component. `Error::NotInstalled` if the mini-app is not installed.
    pub fn asset(&self, app_id: &str, name: &str) -> Result<Option<crate::package::Asset>> {
        let Some(section) = self.inner.services.store.package_assets(app_id)? else {
            return Err(Error::NotInstalled {
                app: app_id.to_string(),
            });
        };
        let assets = crate::package::decode_assets(&section).map_err(|message| Error::Package {
            source_name: format!("{app_id} (installed)"),
            message,
        })?;
        Ok(assets.into_iter().find(|a| a.name == name))
    }

    /// The names of an installed mini-app's assets, in order (empty when it
    /// has none); `Error::NotInstalled` if it is not installed.
    pub fn asset_names(&self, app_id: &str) -> Result<Vec<String>> {
        let Some(section) = self.inner.services.store.package_assets(app_id)? else {
            return Err(Error::NotInstalled {
                app: app_id.to_string(),
            });
        };
        let assets = crate::package::decode_assets(&section).map_err(|message| Error::Package {
            source_name: format!("{app_id} (installed)"),
            message,
        })?;
        Ok(assets.into_iter().map(|a| a.name).collect())
    }

    /// Binds (or replaces) a user's medical-insurance card: coverage in basis
    /// points (7000 = 70 %), the annual cap in minor units.
    pub fn bind_insurance_card(
        &self,
        user: &str,
        card_number: &str,
        holder_name: &str,
        scheme: &str,
        coverage_bp: u32,
        annual_cap: u64,
    ) -> Result<crate::store::InsuranceCard> {
        check_user(user)?;
        if coverage_bp > 10_000 {
            return Err(Error::InvalidRequest(format!(
                "coverage {coverage_bp} basis points is over 100 %"
            )));
        }
        if card_number.trim().is_empty() || holder_name.trim().is_empty() {
            return Err(Error::InvalidRequest(
                "an insurance card needs a card number and the holder's name".into(),
            ));
        }
        let card = crate::store::InsuranceCard {
            user: user.to_string(),
            card_number: card_number.trim().to_string(),
            holder_name: holder_name.trim().to_string(),
            scheme: scheme.trim().to_string(),
            coverage_bp,
            annual_cap,
            bound_at_ms: self.inner.services.clock.now_ms(),
        };
        self.inner.services.store.bind_insurance_card(&card)?;
        Ok(card)
    }

    /// A user's bound insurance card and what is left of its annual cap this
    /// calendar year (host time zone).
    pub fn insurance(&self, user: &str) -> Result<Option<(crate::store::InsuranceCard, u64)>> {
        let s = &self.inner.services;
        let Some(card) = s.store.insurance_card(user)? else {
            return Ok(None);
        };
        let (year, _, _) = crate::clock::civil_date(s.clock.now_ms(), s.utc_offset_minutes);
        let used = s.store.insurance_used(user, year)?;
        let left = card.annual_cap.saturating_sub(used);
        Ok(Some((card, left)))
    }

    /// Checks every invariant of the ledger and every receipt's signature:
    /// of what came after the last clean verification
    /// (its checkpoint; [`LedgerReport::checkpointed`] says how much it
    /// took as verified), so it costs what was added since, not the whole
    /// history.
    ///
    /// [`LedgerReport::checkpointed`]: crate::store::LedgerReport::checkpointed
    pub fn verify_ledger(&self) -> Result<crate::store::LedgerReport> {
        let pk = self.public_key();
        Ok(self
            .inner
            .services
            .store
            .verify_ledger(&|message, sig| crate::keys::verify(&pk, message, sig))?)
    }

    /// [`Host::verify_ledger`] of the whole ledger, from its first entry,
    /// whatever checkpoint the store keeps: what catches a change made
    /// behind the host's back to entries a verification already passed.
    pub fn verify_ledger_full(&self) -> Result<crate::store::LedgerReport> {
        let pk = self.public_key();
        Ok(self
            .inner
            .services
            .store
            .verify_ledger_full(&|message, sig| crate::keys::verify(&pk, message, sig))?)
    }

    /// The user follows (`true`) or unfollows a mini-app's public account;
    /// returns whether that changed anything.
    pub fn follow(&self, user: &str, app_id: &str, follow: bool) -> Result<bool> {
        check_user(user)?;
        let s = &self.inner.services;
        if follow && s.store.package_info(app_id)?.is_none() {
            return Err(Error::NotInstalled {
                app: app_id.to_string(),
            });
        }
        Ok(s.store
            .set_following(user, app_id, follow, s.clock.now_ms())?)
    }

    /// A mini-app's followers.
    pub fn followers(&self, app_id: &str) -> Result<Vec<String>> {
        Ok(self.inner.services.store.followers(app_id)?)
    }

    /// The user writes to a mini-app without opening it (from the inbox): the
    /// message is kept and reaches the mini-app as a `chat` event right after
    /// its next launch. Returns the message id.
    pub fn write_to_app(&self, user: &str, app_id: &str, text: &str) -> Result<String> {
        check_user(user)?;
        if self.inner.services.store.package_info(app_id)?.is_none() {
            return Err(Error::NotInstalled {
                app: app_id.to_string(),
            });
        }
        // The back-end replies to the user by the openid.
        self.remember_openid(user, app_id)?;
        session::record_user_message(&self.inner.services, user, app_id, text)
    }

    /// A user's inbox, newest first.
    pub fn inbox(
        &self,
        user: &str,
        unread_only: bool,
        limit: usize,
    ) -> Result<Vec<crate::store::InboxMessage>> {
        Ok(self.inner.services.store.inbox(user, unread_only, limit)?)
    }

    /// Marks a message of the user's inbox read; false if there is no such
    /// message in this user's inbox.
    pub fn mark_read(&self, user: &str, message_id: &str) -> Result<bool> {
        Ok(self.inner.services.store.mark_read(user, message_id)?)
    }

    /// Finishes broadcasts a previous run of the host left half delivered
    /// (it crashed or was stopped): nobody gets one twice. Runs at open;
    /// returns how many it finished.
    pub fn resume_broadcasts(&self) -> Result<usize> {
        let s = &self.inner.services;
        let unfinished = s.store.unfinished_broadcasts()?;
        for id in &unfinished {
            let ids = s.ids.clone();
            let count = s.store.deliver_broadcast(id, &mut || ids.next_id("msg-"))?;
            tracing::info!(broadcast = %id, delivered = count.delivered, skipped = count.skipped, "finished an interrupted broadcast");
        }
        Ok(unfinished.len())
    }
}

impl HostInner {
    /// Audits what the host did for a user (settings, a backend's call, an
    /// update's consequences).
    fn audit_host(&self, user: &str, app: &str, what: &str, outcome: Outcome, detail: &str) {
        if let Err(e) = self
            .services
            .gate
            .audit(Actor::host(user, app), what, outcome, detail)
        {
            tracing::error!("writing the audit log: {e}");
        }
    }

    fn slots_lock(&self) -> std::sync::MutexGuard<'_, SlotMap> {
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn evict_idle(self: &Arc<Self>) -> usize {
        let Some(idle) = self.idle_timeout else {
            return 0;
        };
        let now = self.services.clock.now_ms();
        let slots: Vec<_> = self.slots_lock().values().cloned().collect();
        // A session busy with an event is not idle; the idle ones end at
        // once, each `hide` within its cap.
        let idle_since = now - idle.as_millis() as i64;
        let evicted = session::end_all(
            &self.runtime,
            slots,
            "evicted after being idle",
            Some(idle_since),
        )
        .await;
        // Forget slots nobody holds a handle to and nothing runs in.
        self.slots_lock().retain(|_, s| {
            Arc::strong_count(s) > 1 || s.try_lock().map(|s| s.is_live()).unwrap_or(true)
        });
        // Mini-apps whose sessions ended may now be unloaded for the cap.
        let unloaded = self.runtime.loaded.trim();
        if unloaded > 0 {
            tracing::debug!("unloaded {unloaded} mini-apps no longer in use");
        }
        evicted
    }
}

async fn evict_periodically(host: Weak<HostInner>, every: Duration) {
    let mut interval = tokio::time::interval(every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        let Some(host) = host.upgrade() else {
            return;
        };
        let n = host.evict_idle().await;
        if n > 0 {
            tracing::debug!("evicted {n} idle sessions");
        }
    }
}

fn check_user(user: &str) -> Result<()> {
    if user.is_empty() || user.len() > 128 {
        return Err(Error::InvalidRequest(
            "a user id must be 1 to 128 bytes".into(),
        ));
    }
    Ok(())
}
