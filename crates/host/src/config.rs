//! How a host is set up: [`HostConfig`].

use crate::clock::{Clock, IdSource, RandomIds, SystemClock};
use crate::policy::Policy;
use crate::prompt::{DismissAll, Prompter};
use crate::sandbox::SandboxLimits;
use crate::services::network::NetworkConfig;
use crate::services::notify::NotifySettings;
use crate::settings::SettingsKey;
use crate::store::RefundRecord;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The default of [`HostConfig::max_loaded_code_bytes`]: 512 MiB.
pub const DEFAULT_MAX_LOADED_CODE_BYTES: u64 = 512 * 1024 * 1024;

/// How a host is set up. `HostConfig::default()` is what production wants;
/// tests swap the clock, the ids and the prompter.
///
/// Start from [`HostConfig::default`] and change what you need, with the
/// setters (each named after its field) or by assigning the fields. New
/// settings may be added in any release, so the struct cannot be built with a
/// struct literal outside this crate.
///
/// ```
/// use plaza_host::HostConfig;
/// use plaza_host::clock::ManualClock;
/// use std::sync::Arc;
/// use std::time::Duration;
///
/// let config = HostConfig::default()
///     .cache_dir(Some("plaza-cache".into()))
///     .clock(Arc::new(ManualClock::new(0)))
///     .prompter(Arc::new(plaza_host::prompt::DismissAll))
///     .utc_offset_minutes(8 * 60)
///     .idle_timeout(Some(Duration::from_secs(10 * 60)));
/// assert!(!config.developer_mode);
///
/// // The fields stay public: assigning one is the same as its setter.
/// let mut config = config;
/// config.developer_mode = true;
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct HostConfig {
    /// Where compiled components are kept between runs; `None` compiles every
    /// mini-app at every start.
    pub cache_dir: Option<PathBuf>,
    /// The sandbox's limits.
    pub limits: SandboxLimits,
    /// How long a session may be idle before it is evicted (default 30
    /// minutes, as WeChat does). `None` never evicts.
    pub idle_timeout: Option<Duration>,
    /// What each publisher category may use.
    pub policy: Policy,
    /// Where the time comes from.
    pub clock: Arc<dyn Clock>,
    /// Where ids come from.
    pub ids: Arc<dyn IdSource>,
    /// The embedding app's UI for consent and confirmation.
    pub prompter: Arc<dyn Prompter>,
    /// The host's time zone as minutes east of UTC (480 for China).
    pub utc_offset_minutes: i32,
    /// Whether install takes unsigned packages (off by default). Unsigned
    /// mini-apps run as unverified, whatever publisher they claim. For
    /// developing mini-apps and for tests, never for users.
    pub developer_mode: bool,
    /// How long a payment confirmation waits for the user before the guest
    /// gets `timed-out` (default 2 minutes).
    pub payment_timeout: Duration,
    /// Messages (sends, broadcasts, replies) one mini-app may send a minute
    /// (default 60).
    pub messaging_per_minute: u32,
    /// Broadcasts one account may deliver to a follower per calendar month
    /// (default 4, WeChat's rule).
    pub broadcasts_per_month: u32,
    /// Calls one mini-app's back-end may make to the publisher API a
    /// minute, token requests included (default 600).
    pub backend_calls_per_minute: u32,
    /// Where mini-apps' outbound requests may go and which TLS roots they
    /// trust ([`NetworkConfig`]); the per-session limits are in
    /// [`SandboxLimits`].
    pub network: NetworkConfig,
    /// How long a consent or subscription question waits for the user
    /// before the host takes the safe answer: a consent question is
    /// dismissed, every template offered is rejected; audited (default 2
    /// minutes, like `payment_timeout`).
    pub prompt_timeout: Duration,
    /// The key that seals mini-apps' secret settings, kept apart from the
    /// store ([`SettingsKey`]: hex, the `PLAZA_SETTINGS_KEY` environment
    /// variable, or a key file). `None` (the default): secrets can be
    /// neither set nor read; other settings work.
    pub settings_key: Option<SettingsKey>,
    /// The most compiled code of mini-apps the host keeps loaded, in bytes
    /// (default 512 MiB). Mini-apps load at their first use; past the cap,
    /// the least recently used ones no live session holds are unloaded,
    /// and load again (from the compiled-component cache, if `cache_dir` is
    /// set) at their next use. Mini-apps in use are never unloaded, so
    /// their code may pass the cap while they are.
    pub max_loaded_code_bytes: u64,
    /// How payment notifications to mini-apps' back-ends are retried and
    /// how long each may take ([`NotifySettings`]).
    pub notify: NotifySettings,
    /// Called when a refund through the publisher API has committed, before
    /// the caller is answered: for tests that stop the host right there
    /// (`plaza-server` sets it from `PLAZA_TEST_STALL_AFTER_REFUND_COMMIT`).
    /// `None` (the default) in production.
    pub after_refund_commit: Option<RefundHook>,
    /// The `https` form of links the operator gives mini-apps' pages
    /// ([`crate::link`]), such as `https://plaza.example.cn/a/`: under it,
    /// `APP-ID/PATH?QUERY` is the link `plaza://APP-ID/PATH?QUERY`. `None`
    /// (the default): only `plaza://` links. [`Host::open`](crate::Host::open)
    /// refuses a base that is not an `https` address.
    pub link_base: Option<String>,
}

/// A function called with a refund that has committed
/// ([`HostConfig::after_refund_commit`]).
pub type RefundHook = Arc<dyn Fn(&RefundRecord) + Send + Sync>;

impl Default for HostConfig {
    fn default() -> Self {
        HostConfig {
            cache_dir: None,
            limits: SandboxLimits::default(),
            idle_timeout: Some(Duration::from_secs(30 * 60)),
            policy: Policy::default(),
            clock: Arc::new(SystemClock),
            ids: Arc::new(RandomIds::default()),
            prompter: Arc::new(DismissAll),
            utc_offset_minutes: 0,
            developer_mode: false,
            payment_timeout: Duration::from_secs(120),
            messaging_per_minute: 60,
            broadcasts_per_month: 4,
            backend_calls_per_minute: 600,
            network: NetworkConfig::default(),
            prompt_timeout: Duration::from_secs(120),
            settings_key: None,
            max_loaded_code_bytes: DEFAULT_MAX_LOADED_CODE_BYTES,
            notify: NotifySettings::default(),
            after_refund_commit: None,
            link_base: None,
        }
    }
}

impl std::fmt::Debug for HostConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostConfig")
            .field("cache_dir", &self.cache_dir)
            .field("limits", &self.limits)
            .field("idle_timeout", &self.idle_timeout)
            .field("utc_offset_minutes", &self.utc_offset_minutes)
            .field("developer_mode", &self.developer_mode)
            .field("max_loaded_code_bytes", &self.max_loaded_code_bytes)
            .field("link_base", &self.link_base)
            .finish_non_exhaustive()
    }
}

impl HostConfig {
    /// Sets where compiled components are kept between runs
    /// (the field `cache_dir`); `None` compiles every mini-app at every
    /// start.
    #[must_use]
    pub fn cache_dir(mut self, cache_dir: Option<PathBuf>) -> Self {
        self.cache_dir = cache_dir;
        self
    }

    /// Sets the sandbox's limits (the field `limits`).
    #[must_use]
    pub fn limits(mut self, limits: SandboxLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets how long a session may be idle before it is evicted
    /// (the field `idle_timeout`); `None` never evicts.
    #[must_use]
    pub fn idle_timeout(mut self, idle_timeout: Option<Duration>) -> Self {
        self.idle_timeout = idle_timeout;
        self
    }

    /// Sets what each publisher category may use (the field `policy`).
    #[must_use]
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// Sets where the time comes from (the field `clock`).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Sets where ids come from (the field `ids`).
    #[must_use]
    pub fn ids(mut self, ids: Arc<dyn IdSource>) -> Self {
        self.ids = ids;
        self
    }

    /// Sets the embedding app's UI for consent and confirmation
    /// (the field `prompter`).
    #[must_use]
    pub fn prompter(mut self, prompter: Arc<dyn Prompter>) -> Self {
        self.prompter = prompter;
        self
    }

    /// Sets the host's time zone, as minutes east of UTC
    /// (the field `utc_offset_minutes`).
    #[must_use]
    pub fn utc_offset_minutes(mut self, utc_offset_minutes: i32) -> Self {
        self.utc_offset_minutes = utc_offset_minutes;
        self
    }

    /// Sets whether install takes unsigned packages
    /// (the field `developer_mode`). For developing mini-apps and for
    /// tests, never for users.
    #[must_use]
    pub fn developer_mode(mut self, developer_mode: bool) -> Self {
        self.developer_mode = developer_mode;
        self
    }

    /// Sets how long a payment confirmation waits for the user
    /// (the field `payment_timeout`).
    #[must_use]
    pub fn payment_timeout(mut self, payment_timeout: Duration) -> Self {
        self.payment_timeout = payment_timeout;
        self
    }

    /// Sets how many messages one mini-app may send a minute
    /// (the field `messaging_per_minute`).
    #[must_use]
    pub fn messaging_per_minute(mut self, messaging_per_minute: u32) -> Self {
        self.messaging_per_minute = messaging_per_minute;
        self
    }

    /// Sets how many broadcasts one account may deliver to a follower per
    /// calendar month (the field `broadcasts_per_month`).
    #[must_use]
    pub fn broadcasts_per_month(mut self, broadcasts_per_month: u32) -> Self {
        self.broadcasts_per_month = broadcasts_per_month;
        self
    }

    /// Sets how many calls one mini-app's back-end may make to the
    /// publisher API a minute (the field `backend_calls_per_minute`).
    #[must_use]
    pub fn backend_calls_per_minute(mut self, backend_calls_per_minute: u32) -> Self {
        self.backend_calls_per_minute = backend_calls_per_minute;
        self
    }

    /// Sets where mini-apps' outbound requests may go and which TLS roots
    /// they trust (the field `network`).
    #[must_use]
    pub fn network(mut self, network: NetworkConfig) -> Self {
        self.network = network;
        self
    }

    /// Sets how long a consent or subscription question waits for the user
    /// (the field `prompt_timeout`).
    #[must_use]
    pub fn prompt_timeout(mut self, prompt_timeout: Duration) -> Self {
        self.prompt_timeout = prompt_timeout;
        self
    }

    /// Sets the key that seals mini-apps' secret settings
    /// (the field `settings_key`).
    #[must_use]
    pub fn settings_key(mut self, settings_key: Option<SettingsKey>) -> Self {
        self.settings_key = settings_key;
        self
    }

    /// Sets the most compiled code of mini-apps kept loaded, in bytes
    /// (the field `max_loaded_code_bytes`).
    #[must_use]
    pub fn max_loaded_code_bytes(mut self, max_loaded_code_bytes: u64) -> Self {
        self.max_loaded_code_bytes = max_loaded_code_bytes;
        self
    }

    /// Sets how payment notifications are delivered (the field `notify`).
    #[must_use]
    pub fn notify(mut self, notify: NotifySettings) -> Self {
        self.notify = notify;
        self
    }

    /// Sets the function called when a publisher-API refund has committed,
    /// before its caller is answered (the field `after_refund_commit`): for
    /// tests.
    #[must_use]
    pub fn after_refund_commit(mut self, hook: Option<RefundHook>) -> Self {
        self.after_refund_commit = hook;
        self
    }

    /// Sets the `https` form of links (the field `link_base`), such as
    /// `https://plaza.example.cn/a/`.
    #[must_use]
    pub fn link_base(mut self, link_base: Option<String>) -> Self {
        self.link_base = link_base;
        self
    }
}
