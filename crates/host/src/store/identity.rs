//! Identity and trust: the registry of trusted publishers, the mini-apps'
//! app secrets and login codes, and the user's own identity data (nickname,
//! avatar, phone, verified real name, last known location) that the
//! embedding app sets and consent scopes read.
//!
//! Secrets and login codes are kept only as SHA-256 hashes: a copy of the
//! store does not give them away.

use super::StoreResult;
use crate::manifest::Category;

/// How long a used or expired login code is remembered (so a late retry gets
/// `reused` or `expired`, not `unknown`): one day.
pub const LOGIN_CODE_MEMORY_MS: i64 = 24 * 60 * 60 * 1000;

/// A publisher the host trusts to sign packages.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PublisherRecord {
    /// Reverse-DNS id, as manifests name it.
    pub id: String,
    /// The name users see (payee of payments, asker of consent).
    pub name: String,
    /// The category the host assigns it; manifests must claim the same.
    pub category: Category,
    /// Whether the host operator verified who the publisher is.
    pub verified: bool,
    /// Its ed25519 public key, hex (64 characters).
    pub public_key: String,
    /// When it was added or last changed, ms since the epoch.
    pub added_at_ms: i64,
}

/// The registry of trusted publishers.
pub trait PublisherStore: Send + Sync {
    /// Adds a publisher or replaces the entry with the same id.
    fn put_publisher(&self, record: &PublisherRecord) -> StoreResult<()>;
    /// The publisher `id`, if registered.
    fn get_publisher(&self, id: &str) -> StoreResult<Option<PublisherRecord>>;
    /// Every publisher, by id.
    fn list_publishers(&self) -> StoreResult<Vec<PublisherRecord>>;
    /// Removes a publisher; returns whether it was registered.
    fn delete_publisher(&self, id: &str) -> StoreResult<bool>;
}

/// A login code as issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginCodeRecord {
    /// SHA-256 of the code, hex.
    pub code_sha256: String,
    /// The mini-app it was issued to.
    pub app: String,
    /// The user it stands for.
    pub user: String,
    /// The mini-app's publisher (for the unionid).
    pub publisher: String,
    /// When it was issued, ms since the epoch.
    pub issued_at_ms: i64,
    /// When it stops working, ms since the epoch.
    pub expires_at_ms: i64,
}

/// What taking a login code found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginCodeTake {
    /// The code was valid and is now used up.
    Taken(LoginCodeRecord),
    /// No such code was issued to the mini-app (or it was forgotten).
    Unknown,
    /// The code was used before.
    Used,
    /// The code expired.
    Expired {
        /// When, ms since the epoch.
        expires_at_ms: i64,
    },
}

/// App secrets and login codes: what a mini-app's backend needs to turn a
/// login code into the user's openid.
pub trait LoginStore: Send + Sync {
    /// Sets (or replaces) the hash of a mini-app's secret.
    fn put_app_secret(&self, app: &str, secret_sha256: &str, now_ms: i64) -> StoreResult<()>;
    /// The hash of a mini-app's secret, if one was issued.
    fn app_secret(&self, app: &str) -> StoreResult<Option<String>>;
    /// Records a new login code, forgetting codes that expired long ago.
    fn put_login_code(&self, record: &LoginCodeRecord) -> StoreResult<()>;
    /// How many codes of (`app`, `user`) are unused and unexpired at `now_ms`.
    fn live_login_codes(&self, app: &str, user: &str, now_ms: i64) -> StoreResult<u64>;
    /// Uses up a login code of `app` at `now_ms`, atomically: of two racing
    /// exchanges of one code, one gets `Taken`, the other `Used`.
    fn take_login_code(
        &self,
        app: &str,
        code_sha256: &str,
        now_ms: i64,
    ) -> StoreResult<LoginCodeTake>;
}

/// A verified legal name.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct RealNameRecord {
    /// The full legal name.
    pub name: String,
    /// The national identity document number.
    pub id_number: String,
    /// Whether the host verified them against an identity document.
    pub verified: bool,
}

/// A point on Earth (WGS 84).
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct GeoPoint {
    /// Latitude, degrees.
    pub latitude: f64,
    /// Longitude, degrees.
    pub longitude: f64,
    /// Radius of uncertainty, metres.
    pub accuracy_m: f64,
}

/// What the host knows of a user, as the embedding app set it. Consent
/// scopes read it: `profile` the nickname and avatar, `phone`, `real-name`,
/// `location` and `precise-location` the location.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct UserProfile {
    /// The nickname.
    pub nickname: Option<String>,
    /// An `https:` URL of the avatar.
    pub avatar_url: Option<String>,
    /// The phone number.
    pub phone: Option<String>,
    /// The legal name and identity number.
    pub real_name: Option<RealNameRecord>,
    /// The last known location of the user's device.
    pub location: Option<GeoPoint>,
}

/// The user's identity data.
pub trait UserDataStore: Send + Sync {
    /// Replaces what the host knows of `user`.
    fn put_user_profile(&self, user: &str, profile: &UserProfile, now_ms: i64) -> StoreResult<()>;
    /// What the host knows of `user`, if anything was set.
    fn user_profile(&self, user: &str) -> StoreResult<Option<UserProfile>>;
}
