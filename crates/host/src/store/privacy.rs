//! The user's rights over their data: what each mini-app accessed (an
//! aggregate of the audit log, kept as the log is written, so a report never
//! reads the log itself), everything held about a user, and erasing what one
//! mini-app holds about a user.
//!
//! Erasing takes the mini-app's storage, its files (`media`), consent decisions, template
//! acceptances, the follow of its account, the user's messages to it and the
//! user's login codes for it, in one transaction, and moves the user's
//! identity epoch for the mini-app on: the pseudonymous ids the mini-app
//! sees are derived with it, so it sees a new user. Payments, refunds and
//! their ledger entries stay (the law requires them kept), and so do the
//! user's inbox (the user's own copy of what was sent) and the audit log.

use super::{
    ConsentRecord, InboxMessage, MediaRecord, Outcome, PaymentRecord, RefundRecord, StoreResult,
};

/// How often a mini-app used one capability or scope for a user with one
/// outcome, and when last: one row of the audit log's aggregate.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AccessCount {
    /// The mini-app (empty for what the host did for the user outside any
    /// mini-app).
    pub app: String,
    /// What the audit log names: a capability (`storage`), a scope
    /// (`identity.real-name`) or a step (`session.started`).
    pub what: String,
    /// Allowed or denied.
    pub outcome: Outcome,
    /// How many audit entries.
    pub count: u64,
    /// When the last one was written, ms since the epoch.
    pub last_at_ms: i64,
}

/// One key of a mini-app's storage for a user.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoredValue {
    /// The mini-app.
    pub app: String,
    /// The key.
    pub key: String,
    /// The value's bytes.
    pub value: Vec<u8>,
}

/// A user's acceptance of a mini-app's message template.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SubscriptionRecord {
    /// The mini-app.
    pub app: String,
    /// The template.
    pub template: String,
    /// Whether it is a long-term acceptance (any number of messages).
    pub long_term: bool,
    /// Messages left under a one-time acceptance.
    pub remaining: u64,
    /// When it last changed, ms since the epoch.
    pub updated_at_ms: i64,
}

/// A user following a mini-app's public account.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FollowRecord {
    /// The mini-app.
    pub app: String,
    /// Since when, ms since the epoch.
    pub followed_at_ms: i64,
}

/// A message the user wrote to a mini-app.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UserMessageRecord {
    /// The message id.
    pub id: String,
    /// The mini-app.
    pub app: String,
    /// The text.
    pub text: String,
    /// When, ms since the epoch.
    pub sent_at_ms: i64,
    /// Whether the mini-app was given it.
    pub delivered: bool,
}

/// A login code issued to a mini-app for the user (its hash is not shown).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LoginCodeInfo {
    /// The mini-app.
    pub app: String,
    /// When it was issued, ms since the epoch.
    pub issued_at_ms: i64,
    /// When it stops (or stopped) working.
    pub expires_at_ms: i64,
    /// When the mini-app's backend exchanged it, if it did.
    pub used_at_ms: Option<i64>,
}

/// Everything the store holds about a user that mini-apps put there or read,
/// beside the audit log: one consistent reading.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct UserRecords {
    /// Storage, by mini-app and key.
    pub storage: Vec<StoredValue>,
    /// Consent decisions.
    pub consents: Vec<ConsentRecord>,
    /// Template acceptances.
    pub subscriptions: Vec<SubscriptionRecord>,
    /// Accounts followed.
    pub follows: Vec<FollowRecord>,
    /// The user's messages to mini-apps.
    pub conversation: Vec<UserMessageRecord>,
    /// Login codes issued and still remembered.
    pub login_codes: Vec<LoginCodeInfo>,
    /// The inbox, oldest first.
    pub inbox: Vec<InboxMessage>,
    /// Payments, oldest first.
    pub payments: Vec<PaymentRecord>,
    /// Refunds of those payments, oldest first.
    pub refunds: Vec<RefundRecord>,
    /// Files the user gave mini-apps (without their bytes), by mini-app,
    /// oldest first.
    #[serde(default)]
    pub media: Vec<MediaRecord>,
}

/// What erasing one mini-app's data about a user took away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Erased {
    /// Storage keys.
    pub storage_keys: u64,
    /// Consent decisions.
    pub consents: u64,
    /// Template acceptances.
    pub subscriptions: u64,
    /// Follows of the account (0 or 1).
    pub follows: u64,
    /// The user's messages to the mini-app.
    pub conversation: u64,
    /// Login codes.
    pub login_codes: u64,
    /// Files the user gave the mini-app.
    #[serde(default)]
    pub media_files: u64,
    /// The user's identity epoch in the mini-app from now on.
    pub identity_epoch: u64,
}

/// The user's rights over their data.
pub trait PrivacyStore: Send + Sync {
    /// The user's identity epoch in `app`: 0 until the first erasure, one
    /// more after each. The mini-app's pseudonymous ids are derived with it.
    fn identity_epoch(&self, user: &str, app: &str) -> StoreResult<u64>;
    /// When the user last erased `app`'s data (ms since the epoch), if ever:
    /// what the mini-app is shown of the user's past (payment history)
    /// starts after it.
    fn erased_at_ms(&self, user: &str, app: &str) -> StoreResult<Option<i64>>;
    /// How often each mini-app (only `app`, if given) used each capability
    /// or scope for `user`, per outcome, by mini-app and then what was used:
    /// from the aggregate kept with the audit log, without reading the log.
    fn access_counts(&self, user: &str, app: Option<&str>) -> StoreResult<Vec<AccessCount>>;
    /// Everything held about `user` by every mini-app (only `app`, if
    /// given), in one reading.
    fn user_records(&self, user: &str, app: Option<&str>) -> StoreResult<UserRecords>;
    /// Erases what `app` holds about `user` (storage, consent decisions,
    /// template acceptances, the follow, the user's messages to it, login
    /// codes) and moves the identity epoch on, in one transaction, at
    /// `at_ms`. Payments, refunds, the ledger, the inbox and the audit log
    /// stay.
    fn erase_user_app(&self, user: &str, app: &str, at_ms: i64) -> StoreResult<Erased>;
}
