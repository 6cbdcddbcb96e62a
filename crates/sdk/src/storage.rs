//! Key-value storage kept for the current user in this mini-app
//! (`plaza:host/storage`; manifest `[capabilities.storage]`).
//!
//! Each (user, mini-app) pair has its own space, which survives the session
//! and host restarts. A key is 1 to 256 bytes of UTF-8, a value at most
//! 1 MiB, and all keys and values together at most 10 MiB (or the manifest's
//! `quota-bytes`). A write over a limit returns
//! [`HostError::LimitExceeded`] and writes nothing.
//!
//! ```no_run
//! use plaza_sdk::storage;
//!
//! # fn main() -> Result<(), plaza_sdk::HostError> {
//! storage::set_string("greeting", "hello")?;
//! assert_eq!(storage::get_string("greeting")?.as_deref(), Some("hello"));
//! # Ok(())
//! # }
//! ```

use crate::HostError;
use crate::bindings::plaza::host::storage as wit;

pub use wit::Usage;

/// The most keys [`list_keys`] returns in one call.
pub const MAX_LIST_KEYS: u32 = 1000;

/// Reads the value stored under `key`; `None` if there is none.
pub fn get(key: &str) -> Result<Option<Vec<u8>>, HostError> {
    wit::get(key)
}

/// Reads the value stored under `key` as UTF-8 text; `None` if there is none.
///
/// A value that is not UTF-8 is returned with its invalid bytes replaced by
/// `U+FFFD`.
pub fn get_string(key: &str) -> Result<Option<String>, HostError> {
    Ok(get(key)?.map(|bytes| match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }))
}

/// Stores `value` under `key`, replacing any value there.
pub fn set(key: &str, value: &[u8]) -> Result<(), HostError> {
    wit::set(key, value)
}

/// Stores the text `value` under `key`, replacing any value there.
pub fn set_string(key: &str, value: &str) -> Result<(), HostError> {
    set(key, value.as_bytes())
}

/// Removes `key`; returns whether it was there.
pub fn delete(key: &str) -> Result<bool, HostError> {
    wit::delete(key)
}

/// Lists the keys that start with `prefix` (empty for all), in byte order, at
/// most `limit` of them (at most [`MAX_LIST_KEYS`]).
pub fn list_keys(prefix: &str, limit: u32) -> Result<Vec<String>, HostError> {
    wit::list_keys(prefix, limit)
}

/// Tells how much of the quota the current user's space uses.
pub fn usage() -> Result<Usage, HostError> {
    wit::get_usage()
}
