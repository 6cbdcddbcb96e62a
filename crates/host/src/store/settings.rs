//! Mini-apps' settings: the values and secrets the operator (or the
//! publisher's back-end) sets per mini-app, read through `plaza:host/config`.
//!
//! The store keeps what it is given: a secret arrives already sealed with
//! the host's settings key, which the store never sees, so a copy of the
//! database alone does not reveal it.

use super::StoreResult;

/// One setting of one mini-app, as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingRecord {
    /// The mini-app id.
    pub app_id: String,
    /// The setting's name, as its manifest declares it.
    pub name: String,
    /// Whether `value` is a secret, sealed with the host's settings key.
    pub secret: bool,
    /// The value's UTF-8 bytes; for a secret, what the settings key sealed
    /// (nonce and ciphertext), never the value itself.
    pub value: Vec<u8>,
    /// When it was last set, ms since the epoch.
    pub updated_at_ms: i64,
}

/// Settings per mini-app. Kept across uninstall and reinstall (like users'
/// data); erased when the app id is released.
pub trait SettingsStore: Send + Sync {
    /// Sets `record.name` of `record.app_id`, replacing its value.
    fn put_setting(&self, record: &SettingRecord) -> StoreResult<()>;
    /// Removes a setting; returns whether it was set.
    fn delete_setting(&self, app_id: &str, name: &str) -> StoreResult<bool>;
    /// A mini-app's settings, by name.
    fn settings(&self, app_id: &str) -> StoreResult<Vec<SettingRecord>>;
}
