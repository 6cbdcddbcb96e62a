//! The host: a store, an engine, the gate, the installed mini-apps and their
//! sessions.

use crate::capabilities::network::Network;
use crate::clock::{Clock, IdSource};
use crate::config::HostConfig;
use crate::engine::{self, ComponentCache};
use crate::error::{Error, Result};
use crate::gate::Gate;
use crate::keys::HostKeys;
use crate::manifest::Manifest;
use crate::package::Package;
use crate::policy::Policy;
use crate::prompt::Prompter;
use crate::sandbox::SandboxLimits;
use crate::session::{self, Session, SessionState, Slot};
use crate::store::{
    AuditEntry, AuditQuery, ConsentRecord, Outcome, PackageRecord, SqliteStore, Store,
};
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use wasmtime::Engine;
use wasmtime::component::Linker;

/// A mini-app ready to run: its manifest and its pre-linked component.
pub(crate) struct LoadedApp {
    pub(crate) manifest: Arc<Manifest>,
    pub(crate) pre: plaza_world::MiniAppPre<SessionState>,
    /// Whether the package was signed by its registered publisher.
    pub(crate) signed: bool,
}

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

/// What host calls need: shared by the host and every session's store data
/// (which must not hold the host itself, or sessions would keep it alive).
pub(crate) struct Services {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) keys: HostKeys,
    pub(crate) prompter: Arc<dyn Prompter>,
    pub(crate) payment_timeout: Duration,
    pub(crate) messaging_per_minute: u32,
    pub(crate) broadcasts_per_month: u32,
    /// Messages sent per mini-app in the current minute: (minute, count).
    pub(crate) message_rates: Mutex<HashMap<String, (i64, u32)>>,
    pub(crate) gate: Gate,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) ids: Arc<dyn IdSource>,
    pub(crate) limits: SandboxLimits,
    pub(crate) utc_offset_minutes: i32,
    /// The lanes busy events take turns on ([`SandboxLimits::busy_lanes`]).
    pub(crate) busy_lanes: Arc<crate::lanes::BusyLanes>,
    /// How outbound requests are sent (TLS roots, address rules).
    pub(crate) network: Network,
}

pub(crate) struct HostInner {
    pub(crate) engine: Engine,
    linker: Linker<SessionState>,
    pub(crate) services: Arc<Services>,
    idle_timeout: Option<Duration>,
    developer_mode: bool,
    cache: ComponentCache,
    apps: Mutex<HashMap<String, Arc<LoadedApp>>>,
    slots: Mutex<SlotMap>,
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
    /// Opens a host over the SQLite store at `path` (created if missing).
    pub fn open(path: &Path, config: HostConfig) -> Result<Host> {
        let store = SqliteStore::open(path)?;
        Host::with_store(Arc::new(store), config)
    }

    /// Opens a host over any store.
    pub fn with_store(store: Arc<dyn Store>, config: HostConfig) -> Result<Host> {
        let engine = engine::build_engine(&config.limits)?;
        engine::start_epoch_ticker(&engine, config.limits.epoch_tick);
        let linker = engine::build_linker(&engine)?;
        let network = Network::new(&config.network, config.developer_mode)?;
        let gate = Gate::new(
            config.policy,
            store.clone(),
            config.clock.clone(),
            config.prompter.clone(),
        );
        let inner = Arc::new(HostInner {
            engine,
            linker,
            services: Arc::new(Services {
                keys: HostKeys::load(store.as_ref())?,
                prompter: config.prompter.clone(),
                payment_timeout: config.payment_timeout,
                messaging_per_minute: config.messaging_per_minute,
                broadcasts_per_month: config.broadcasts_per_month,
                message_rates: Mutex::new(HashMap::new()),
                store,
                gate,
                clock: config.clock,
                ids: config.ids,
                busy_lanes: crate::lanes::BusyLanes::new(config.limits.busy_lanes),
                limits: config.limits,
                utc_offset_minutes: config.utc_offset_minutes,
                network,
            }),
            idle_timeout: config.idle_timeout,
            developer_mode: config.developer_mode,
            cache: ComponentCache::new(config.cache_dir),
            apps: Mutex::new(HashMap::new()),
            slots: Mutex::new(HashMap::new()),
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
        let entry = AuditEntry {
            at_ms: self.inner.services.clock.now_ms(),
            user: String::new(),
            app: app_id,
            session: String::new(),
            capability: "install".into(),
            outcome,
            detail,
        };
        if let Err(e) = self.inner.services.store.append_audit(&entry) {
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
        let (mut loaded, imports) = {
            let inner = inner.clone();
            let manifest = manifest.clone();
            let bytes = component_bytes.clone();
            let sha = sha.clone();
            tokio::task::spawn_blocking(move || inner.prepare(&manifest, &bytes, &sha))
                .await
                .map_err(|e| Error::Internal {
                    message: format!("install task: {e}"),
                    source: Some(e.into()),
                })??
        };
        let previous = inner.services.store.package_info(&app_id)?;
        inner.services.store.put_package(&PackageRecord {
            app_id: app_id.clone(),
            version: manifest.app.version.to_string(),
            publisher_id: manifest.publisher.id.clone(),
            manifest: manifest.source.clone(),
            component: component_bytes.to_vec(),
            component_sha256: sha.clone(),
            signature: package.signature,
            installed_at_ms: inner.services.clock.now_ms(),
        })?;
        loaded.signed = trust.signed;
        inner.apps_lock().insert(app_id.clone(), Arc::new(loaded));
        let app_secret = match inner.services.store.app_secret(&app_id)? {
            Some(_) => None,
            None => Some(crate::trust::issue_app_secret(&inner.services, &app_id)?),
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

    /// Uninstalls a mini-app: its live sessions end and its package is
    /// removed. Users' stored data stays (reinstalling brings it back).
    pub async fn uninstall(&self, app_id: &str) -> Result<()> {
        let slots: Vec<_> = self
            .inner
            .slots_lock()
            .iter()
            .filter(|((_, a), _)| a == app_id)
            .map(|(_, s)| s.clone())
            .collect();
        for slot in slots {
            let mut slot = slot.lock().await;
            session::end_gracefully(&self.inner, &mut slot, "the mini-app was uninstalled").await;
        }
        self.inner.apps_lock().remove(app_id);
        if !self.inner.services.store.delete_package(app_id)? {
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
            // What sessions show (`trust::publisher_of`): the registry's
            // name and verification for a signed package.
            let registered = match signed {
                true => self.inner.services.store.get_publisher(&r.publisher_id)?,
                false => None,
            };
            let (publisher_name, publisher_verified) = match registered {
                Some(p) => (p.name, p.verified),
                None => (m.publisher.name.clone(), false),
            };
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
            });
        }
        Ok(out)
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
        let installed = self.inner.apps_lock().contains_key(app_id)
            || self.inner.services.store.package_info(app_id)?.is_some();
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
            host: self.inner.clone(),
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
    pub async fn shutdown(&self) -> usize {
        let slots: Vec<_> = self.inner.slots_lock().values().cloned().collect();
        let mut ended = 0;
        for slot in slots {
            let mut slot = slot.lock().await;
            if slot.is_live() {
                session::end_gracefully(&self.inner, &mut slot, "host shut down").await;
                ended += 1;
            }
        }
        ended
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

    /// Replaces the policy; live sessions follow it from their next call.
    pub fn set_policy(&self, policy: Policy) {
        self.inner.services.gate.set_policy(policy);
    }

    /// How components were obtained since the host started.
    pub fn cache_stats(&self) -> CacheStats {
        CacheStats {
            compiled: self.inner.cache.counters.compiled.load(Ordering::Relaxed),
            loaded_from_cache: self.inner.cache.counters.loaded.load(Ordering::Relaxed),
        }
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
    /// the mini-app has no payment of that order.
    pub fn payment(
        &self,
        app_id: &str,
        order_id: &str,
    ) -> Result<Option<crate::store::PaymentRecord>> {
        Ok(self.inner.services.store.payment(app_id, order_id)?)
    }

    /// A user's payments to a mini-app, newest first, at most `limit`. To
    /// page on, pass the `seq` of the last payment seen as `before` (`None`
    /// starts at the newest).
    pub fn payments(
        &self,
        app_id: &str,
        user: &str,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<crate::store::PaymentRecord>> {
        Ok(self
            .inner
            .services
            .store
            .payments(app_id, user, before, limit)?)
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

    /// Checks every invariant of the ledger and every receipt's signature.
    pub fn verify_ledger(&self) -> Result<crate::store::LedgerReport> {
        let pk = self.public_key();
        Ok(self
            .inner
            .services
            .store
            .verify_ledger(&|message, sig| crate::keys::verify(&pk, message, sig))?)
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
        self.inner.record_user_message(user, app_id, text)
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
    fn apps_lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<LoadedApp>>> {
        self.apps.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn slots_lock(&self) -> std::sync::MutexGuard<'_, SlotMap> {
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Compiles (or loads), checks and links a component. Blocking.
    fn prepare(
        &self,
        manifest: &Arc<Manifest>,
        bytes: &[u8],
        sha: &str,
    ) -> Result<(LoadedApp, Vec<String>)> {
        let app = &manifest.app.id;
        let component = self.cache.load(&self.engine, app, bytes, sha)?;
        engine::check_imports(&self.engine, &component, manifest)?;
        let imports = component
            .component_type()
            .imports(&self.engine)
            .map(|(n, _)| n.to_string())
            .collect();
        let link_err = |e: wasmtime::Error| Error::InvalidComponent {
            app: app.clone(),
            message: format!("{e:#}"),
            source: Some(e.into()),
        };
        let pre = self.linker.instantiate_pre(&component).map_err(link_err)?;
        let pre = plaza_world::MiniAppPre::new(pre).map_err(link_err)?;
        Ok((
            LoadedApp {
                manifest: manifest.clone(),
                pre,
                signed: false,
            },
            imports,
        ))
    }

    /// The loaded mini-app, loading it from the store on first use.
    pub(crate) async fn loaded_app(self: &Arc<Self>, app_id: &str) -> Result<Arc<LoadedApp>> {
        if let Some(app) = self.apps_lock().get(app_id) {
            return Ok(app.clone());
        }
        let Some(record) = self.services.store.get_package(app_id)? else {
            return Err(Error::NotInstalled {
                app: app_id.to_string(),
            });
        };
        let inner = self.clone();
        let loaded = tokio::task::spawn_blocking(move || {
            let manifest = Arc::new(Manifest::parse(
                &format!("{} (installed)", record.app_id),
                &record.manifest,
            )?);
            inner
                .prepare(&manifest, &record.component, &record.component_sha256)
                .map(|(mut l, _)| {
                    // Signatures were checked at install.
                    l.signed = record.signature.is_some();
                    l
                })
        })
        .await
        .map_err(|e| Error::Internal {
            message: format!("load task: {e}"),
            source: Some(e.into()),
        })??;
        let loaded = Arc::new(loaded);
        self.apps_lock()
            .entry(app_id.to_string())
            .or_insert(loaded.clone());
        Ok(loaded)
    }

    /// Records a message a user wrote to a mini-app; returns its id.
    pub(crate) fn record_user_message(
        &self,
        user: &str,
        app_id: &str,
        text: &str,
    ) -> Result<String> {
        let max = crate::capabilities::MAX_TEXT_CHARS;
        if text.trim().is_empty() || text.chars().count() > max {
            return Err(Error::InvalidRequest(format!(
                "a message must be 1 to {max} characters"
            )));
        }
        let s = &self.services;
        let id = s.ids.next_id("chat-");
        s.store
            .record_user_message(&id, user, app_id, text, s.clock.now_ms())?;
        Ok(id)
    }

    async fn evict_idle(self: &Arc<Self>) -> usize {
        let Some(idle) = self.idle_timeout else {
            return 0;
        };
        let now = self.services.clock.now_ms();
        let slots: Vec<_> = self.slots_lock().values().cloned().collect();
        let mut evicted = 0;
        for slot in slots {
            // A session busy with an event is not idle.
            let Ok(mut slot) = slot.try_lock() else {
                continue;
            };
            if slot.is_live() && now - slot.last_active_ms >= idle.as_millis() as i64 {
                session::end_gracefully(self, &mut slot, "evicted after being idle").await;
                evicted += 1;
            }
        }
        // Forget slots nobody holds a handle to and nothing runs in.
        self.slots_lock().retain(|_, s| {
            Arc::strong_count(s) > 1 || s.try_lock().map(|s| s.is_live()).unwrap_or(true)
        });
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
