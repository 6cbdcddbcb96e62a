//! The store: installed packages, key-value data, consent decisions, the
//! audit log, money, messages, identity, the host's secrets and mini-apps'
//! settings. One trait per concern, with its records, backend-neutral: this
//! folder holds only those (this file and one file per further concern:
//! `backend.rs`, `identity.rs`, `ledger.rs`, `media.rs`, `messaging.rs`, `outbox.rs`,
//! `privacy.rs`, `secrets.rs`, `settings.rs`).
//!
//! One SQLite implementation of them all ([`SqliteStore`], the default) is in
//! `sqlite/`: the store itself (group commit, connections, schema version
//! and migrations) in `sqlite/mod.rs`, and one file per concern with its
//! tables and SQL. The PostgreSQL implementation ([`PostgresStore`], for
//! several hosts on one database) is its sibling `postgres/`, laid out the
//! same way; [`open_store`] picks one by the store's location (a
//! `postgres://` URL or a file path). Both run the conformance suite
//! (`conformance.rs`, tests written against the traits only) with one
//! `conformance_suite!` call each; a table added to one backend is added to
//! the other (see each backend's module documentation).

mod backend;
#[cfg(test)]
mod conformance;
mod identity;
mod ledger;
mod media;
mod messaging;
mod outbox;
mod postgres;
mod privacy;
mod secrets;
mod settings;
mod sqlite;

pub use crate::error::{StoreError, StoreResult};
pub use backend::OpenidStore;
pub use identity::{
    GeoPoint, LoginCodeRecord, LoginCodeTake, LoginStore, PublisherRecord, PublisherStore,
    RealNameRecord, UserDataStore, UserProfile,
};
pub use ledger::{
    EXTERNAL_BANK, INSURANCE_FUND, InsuranceCard, InsuranceTerms, LedgerReport, LedgerStore,
    PayCommand, PayResult, PaymentAudit, PaymentRecord, RefundAudit, RefundCommand, RefundRecord,
    RefundResult, WalletEntry, merchant_account, wallet_account,
};
pub use media::{MEDIA_FILE_OVERHEAD_BYTES, MediaPut, MediaRecord, MediaStore, media_file_size};
pub use messaging::{BroadcastCount, InboxMessage, MessagingStore, SendResult, Sender};
pub use outbox::{NotificationRecord, OutboxStore, PaymentNotice, RefundNotice};
pub use postgres::{PostgresStore, is_postgres_url, test_server_url};
pub use privacy::{
    AccessCount, Erased, FollowRecord, LoginCodeInfo, PrivacyStore, StoredValue,
    SubscriptionRecord, UserMessageRecord, UserRecords,
};
pub use secrets::SecretStore;
pub use settings::{SettingRecord, SettingsStore};
pub use sqlite::{DEFAULT_MAX_BATCH, GroupCommitStats, SqliteStore};

/// Opens the store at `location`: a PostgreSQL database for a
/// `postgres://` (or `postgresql://`) URL, else the SQLite file at that
/// path (created if missing).
pub fn open_store(location: &std::path::Path) -> StoreResult<std::sync::Arc<dyn Store>> {
    match location.to_str() {
        Some(url) if is_postgres_url(url) => Ok(std::sync::Arc::new(PostgresStore::open(url)?)),
        _ => Ok(std::sync::Arc::new(SqliteStore::open(location)?)),
    }
}

/// An installed package as the store keeps it.
#[derive(Debug, Clone)]
pub struct PackageRecord {
    /// The mini-app id.
    pub app_id: String,
    /// Its version.
    pub version: String,
    /// Its publisher id.
    pub publisher_id: String,
    /// The manifest text.
    pub manifest: String,
    /// The component bytes.
    pub component: Vec<u8>,
    /// The package's assets section, as the package format encodes it,
    /// empty when it has none; kept, replaced and removed with the package.
    pub assets: Vec<u8>,
    /// SHA-256 of the component, hex.
    pub component_sha256: String,
    /// The signature section, if any.
    pub signature: Option<Vec<u8>>,
    /// When it was installed, ms since the epoch.
    pub installed_at_ms: i64,
}

/// Installed packages.
pub trait PackageStore: Send + Sync {
    /// Inserts or replaces the package of `record.app_id`.
    fn put_package(&self, record: &PackageRecord) -> StoreResult<()>;
    /// The package of `app_id`, if installed.
    fn get_package(&self, app_id: &str) -> StoreResult<Option<PackageRecord>>;
    /// The package of `app_id` without its component and asset bytes (cheap: for
    /// presence checks and update rules).
    fn package_info(&self, app_id: &str) -> StoreResult<Option<PackageRecord>>;
    /// The assets section of the package of `app_id` (empty when it has no
    /// assets), without reading its component; `None` if not installed.
    fn package_assets(&self, app_id: &str) -> StoreResult<Option<Vec<u8>>>;
    /// Every installed package, by id, without component bytes.
    fn list_packages(&self) -> StoreResult<Vec<PackageRecord>>;
    /// Removes a package; returns whether it was installed. Its app id stays
    /// its publisher's ([`PackageStore::app_id_owner`]).
    fn delete_package(&self, app_id: &str) -> StoreResult<bool>;
    /// Who owns `app_id`, if a package was ever installed under it. The
    /// first [`put_package`](PackageStore::put_package) of an id (or the
    /// first after a release) claims it for the package's publisher, in the
    /// same transaction; the record stays after uninstall.
    fn app_id_owner(&self, app_id: &str) -> StoreResult<Option<AppIdRecord>>;
    /// Releases `app_id` from its publisher, in one transaction, if no
    /// package is installed under it: erases the old users' data for
    /// it (storage, consents, subscriptions, followers, the conversation
    /// with it, pending broadcasts, login codes and its app secret), leaves
    /// the owner empty for the next install to claim, and raises the
    /// generation. Messages already in users' inboxes and money records
    /// stay; money records keep the generation they were made under.
    fn release_app_id(&self, app_id: &str) -> StoreResult<ReleaseResult>;
}

/// Who an app id belongs to: written at its first install, kept after
/// uninstall, emptied only by a release.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AppIdRecord {
    /// The mini-app id.
    pub app_id: String,
    /// The publisher that owns it; `None` after a release, until the next
    /// install claims it.
    pub publisher_id: Option<String>,
    /// How many times it was released: openids and payments of one
    /// generation are out of the next one's reach.
    pub generation: u32,
    /// When it was last claimed, ms since the epoch.
    pub claimed_at_ms: i64,
}

/// The outcome of [`PackageStore::release_app_id`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReleaseResult {
    /// Released: the old owner (`None` if it was released before and not
    /// claimed since) and the new generation.
    Released {
        /// The publisher that owned it.
        previous_owner: Option<String>,
        /// The generation the next install runs under.
        generation: u32,
    },
    /// A package is installed under the id: nothing was changed.
    Installed,
    /// No package was ever installed under the id.
    Unknown,
}

/// The result of a key-value write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KvWrite {
    /// The value was stored.
    Written,
    /// Storing it would exceed the quota; nothing was written.
    OverQuota {
        /// Bytes in use before the write.
        used: u64,
        /// Bytes that would be in use after it.
        would_use: u64,
        /// The quota.
        quota: u64,
    },
}

/// Usage of one (user, mini-app) key-value space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KvUsage {
    /// Bytes of keys and values, with [`KV_ENTRY_OVERHEAD_BYTES`] per key.
    pub bytes: u64,
    /// Number of keys.
    pub keys: u64,
}

/// What each key costs against the quota beyond its own bytes and its
/// value's: roughly what the store spends to keep an entry (its user and
/// mini-app ids, the index). Without it a flood of one-byte keys with empty
/// values would fill many times the quota on disk.
pub const KV_ENTRY_OVERHEAD_BYTES: u64 = 64;

/// What a key and its value count against the quota: their bytes and
/// [`KV_ENTRY_OVERHEAD_BYTES`].
pub fn kv_entry_size(key: &str, value: &[u8]) -> u64 {
    (key.len() + value.len()) as u64 + KV_ENTRY_OVERHEAD_BYTES
}

/// Key-value data per (user, mini-app). Sizes count key and value bytes and
/// [`KV_ENTRY_OVERHEAD_BYTES`] per key.
pub trait KvStore: Send + Sync {
    /// Reads a value.
    fn kv_get(&self, user: &str, app: &str, key: &str) -> StoreResult<Option<Vec<u8>>>;
    /// Writes a value if the space stays within `quota` bytes, atomically.
    fn kv_set(
        &self,
        user: &str,
        app: &str,
        key: &str,
        value: &[u8],
        quota: u64,
    ) -> StoreResult<KvWrite>;
    /// Deletes a key; returns whether it existed.
    fn kv_delete(&self, user: &str, app: &str, key: &str) -> StoreResult<bool>;
    /// Keys starting with `prefix`, in byte order, at most `limit`.
    fn kv_list(
        &self,
        user: &str,
        app: &str,
        prefix: &str,
        limit: usize,
    ) -> StoreResult<Vec<String>>;
    /// How much the space uses.
    fn kv_usage(&self, user: &str, app: &str) -> StoreResult<KvUsage>;
}

/// The outcome of a capability decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The mini-app was allowed.
    Allowed,
    /// The mini-app was denied.
    Denied,
}

impl Outcome {
    /// `allowed` or `denied`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Denied => "denied",
        }
    }
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuditEntry {
    /// When, ms since the epoch.
    pub at_ms: i64,
    /// The user.
    pub user: String,
    /// The mini-app.
    pub app: String,
    /// The session.
    pub session: String,
    /// What was asked: a capability (`storage`), a scope (`identity.real-name`)
    /// or a lifecycle step (`session.ended`).
    pub capability: String,
    /// Allowed or denied.
    pub outcome: Outcome,
    /// Why, in words.
    pub detail: String,
}

/// What to read from the audit log.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Only this user's entries.
    pub user: Option<String>,
    /// Only this mini-app's entries.
    pub app: Option<String>,
    /// At most this many, newest last (0: no limit).
    pub limit: usize,
}

/// The audit log: append-only.
pub trait AuditStore: Send + Sync {
    /// Appends an entry.
    fn append_audit(&self, entry: &AuditEntry) -> StoreResult<()>;
    /// Reads entries, oldest first.
    fn audit_entries(&self, query: &AuditQuery) -> StoreResult<Vec<AuditEntry>>;
}

/// A user's remembered answer to a consent prompt.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ConsentRecord {
    /// The user.
    pub user: String,
    /// The mini-app.
    pub app: String,
    /// The scope.
    pub scope: String,
    /// Whether the user allowed it.
    pub granted: bool,
    /// When the user answered, ms since the epoch.
    pub decided_at_ms: i64,
}

/// Remembered consent decisions.
pub trait ConsentStore: Send + Sync {
    /// The decision for (user, app, scope), if the user was asked.
    fn get_consent(&self, user: &str, app: &str, scope: &str)
    -> StoreResult<Option<ConsentRecord>>;
    /// Records a decision, replacing an earlier one.
    fn put_consent(&self, record: &ConsentRecord) -> StoreResult<()>;
    /// A user's decisions.
    fn list_consents(&self, user: &str) -> StoreResult<Vec<ConsentRecord>>;
    /// Forgets a decision, so the next use asks again; returns whether there was one.
    fn revoke_consent(&self, user: &str, app: &str, scope: &str) -> StoreResult<bool>;
    /// Forgets every user's decisions about `app`'s `scope` (every scope when
    /// `None`), so each user is asked again; returns how many were forgotten.
    fn reset_consents(&self, app: &str, scope: Option<&str>) -> StoreResult<u64>;
}

/// Everything the host keeps.
pub trait Store:
    PackageStore
    + KvStore
    + AuditStore
    + ConsentStore
    + SecretStore
    + SettingsStore
    + LedgerStore
    + MessagingStore
    + PublisherStore
    + LoginStore
    + UserDataStore
    + PrivacyStore
    + OpenidStore
    + OutboxStore
    + MediaStore
    + 'static
{
}

impl<T> Store for T where
    T: PackageStore
        + KvStore
        + AuditStore
        + ConsentStore
        + SecretStore
        + SettingsStore
        + LedgerStore
        + MessagingStore
        + PublisherStore
        + LoginStore
        + UserDataStore
        + PrivacyStore
        + OpenidStore
        + OutboxStore
        + MediaStore
        + 'static
{
}
