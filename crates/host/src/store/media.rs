//! Files users gave mini-apps (`plaza:host/media`), per (user, mini-app).
//!
//! A file's bytes count in the same usage totals as the (user, mini-app)'s
//! key-value storage (`kv_usage.bytes`, with [`MEDIA_FILE_OVERHEAD_BYTES`]
//! each), so values and files share one quota: a file is kept only if the
//! totals stay within it, in the transaction that keeps it. Erasing the
//! mini-app's data about the user deletes its files
//! ([`PrivacyStore::erase_user_app`](super::PrivacyStore::erase_user_app)),
//! as does releasing its app id.

use super::StoreResult;

/// What each file costs against the quota beyond its bytes (its id, name
/// and row), as a key does in key-value storage.
pub const MEDIA_FILE_OVERHEAD_BYTES: u64 = 64;

/// What a file counts against the quota.
pub fn media_file_size(bytes: u64) -> u64 {
    bytes + MEDIA_FILE_OVERHEAD_BYTES
}

/// A file kept for a user in a mini-app (without its bytes).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MediaRecord {
    /// Its id, unique in the host.
    pub id: String,
    /// The user who gave it.
    pub user: String,
    /// The mini-app it was given to.
    pub app: String,
    /// `jpeg`, `png` or `pdf`, from its content.
    pub kind: String,
    /// The name the user's file had.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// When it was kept, ms since the epoch.
    pub created_at_ms: i64,
}

/// The result of keeping a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaPut {
    /// Kept.
    Stored,
    /// Keeping it would exceed the quota; nothing was kept.
    OverQuota {
        /// Bytes in use before (values and files).
        used: u64,
        /// Bytes that would be in use after.
        would_use: u64,
        /// The quota.
        quota: u64,
    },
}

/// Files per (user, mini-app).
pub trait MediaStore: Send + Sync {
    /// Keeps `bytes` as `record` if the (user, app)'s usage stays within
    /// `quota` bytes, atomically.
    fn media_put(&self, record: &MediaRecord, bytes: &[u8], quota: u64) -> StoreResult<MediaPut>;
    /// The file `id` of `user` in `app` with its bytes; `None` if that user
    /// gave that mini-app no such file.
    fn media_get(
        &self,
        user: &str,
        app: &str,
        id: &str,
    ) -> StoreResult<Option<(MediaRecord, Vec<u8>)>>;
    /// The files of `user` in `app`, oldest first, without their bytes.
    fn media_list(&self, user: &str, app: &str) -> StoreResult<Vec<MediaRecord>>;
    /// Deletes the file `id` of `user` in `app`; returns whether it was
    /// there.
    fn media_delete(&self, user: &str, app: &str, id: &str) -> StoreResult<bool>;
}
