//! `plaza:host/storage`: key-value data per (user, mini-app).

use crate::gate::SessionGate;
use crate::manifest::Capability;
use crate::store::{KvStore, KvWrite};
use plaza_world::storage::{Host, Usage};
use plaza_world::types::Error as WitError;
use wasmtime::component::HasData;

/// The longest key, in bytes.
pub const MAX_KEY_BYTES: usize = 256;
/// The largest value, in bytes (1 MiB, WeChat's limit).
pub const MAX_VALUE_BYTES: usize = 1024 * 1024;
/// The most keys one `list-keys` call returns.
pub const MAX_LIST_KEYS: u32 = 1000;

fn check_key(key: &str) -> Result<(), WitError> {
    if key.is_empty() {
        return Err(WitError::InvalidArgument("a key must not be empty".into()));
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(WitError::LimitExceeded(format!(
            "the key is {} bytes; keys are at most {MAX_KEY_BYTES} bytes",
            key.len()
        )));
    }
    Ok(())
}

/// What the storage capability sees of a session: its way through the gate
/// and the key-value store.
pub(crate) struct StorageView<'a> {
    pub(crate) gate: &'a mut SessionGate,
    pub(crate) store: &'a dyn KvStore,
}

/// Links `plaza:host/storage` to a session's [`StorageView`].
pub(crate) struct Storage;

impl HasData for Storage {
    type Data<'a> = StorageView<'a>;
}

impl StorageView<'_> {
    fn allow(&mut self) -> Result<(), WitError> {
        self.gate.check(Capability::Storage).map_err(WitError::from)
    }

    /// Audits a refused storage call (a key, value or quota over its limit;
    /// the same refusal once per event) and gives the error back.
    fn refused(&mut self, error: WitError) -> WitError {
        let detail = match &error {
            WitError::LimitExceeded(m) | WitError::InvalidArgument(m) => m.as_str(),
            _ => "refused",
        };
        self.gate.refuse_once_per_event("storage", detail);
        error
    }
}

fn unavailable(e: crate::store::StoreError) -> WitError {
    tracing::error!("storage: {e}");
    WitError::Unavailable("the host's storage failed; try again later".into())
}

impl Host for StorageView<'_> {
    async fn get(&mut self, key: String) -> Result<Option<Vec<u8>>, WitError> {
        self.allow()?;
        check_key(&key).map_err(|e| self.refused(e))?;
        let subject = self.gate.subject();
        let (user, app) = (&subject.user, subject.app());
        self.store.kv_get(user, app, &key).map_err(unavailable)
    }

    async fn set(&mut self, key: String, value: Vec<u8>) -> Result<(), WitError> {
        self.allow()?;
        check_key(&key).map_err(|e| self.refused(e))?;
        if value.len() > MAX_VALUE_BYTES {
            return Err(self.refused(WitError::LimitExceeded(format!(
                "the value is {} bytes; values are at most {MAX_VALUE_BYTES} bytes (1 MiB). Nothing was written",
                value.len()
            ))));
        }
        let subject = self.gate.subject();
        let quota = subject.manifest.storage_quota();
        let (user, app) = (&subject.user, subject.app());
        match self
            .store
            .kv_set(user, app, &key, &value, quota)
            .map_err(unavailable)?
        {
            KvWrite::Written => Ok(()),
            KvWrite::OverQuota {
                used,
                would_use,
                quota,
            } => Err(self.refused(WitError::LimitExceeded(format!(
                "storing `{key}` would use {would_use} bytes of the {quota}-byte quota ({used} in use). Nothing was written; delete keys first"
            )))),
        }
    }

    async fn delete(&mut self, key: String) -> Result<bool, WitError> {
        self.allow()?;
        check_key(&key).map_err(|e| self.refused(e))?;
        let subject = self.gate.subject();
        let (user, app) = (&subject.user, subject.app());
        self.store.kv_delete(user, app, &key).map_err(unavailable)
    }

    async fn list_keys(&mut self, prefix: String, limit: u32) -> Result<Vec<String>, WitError> {
        self.allow()?;
        if prefix.len() > MAX_KEY_BYTES {
            return Err(self.refused(WitError::LimitExceeded(format!(
                "the prefix is {} bytes; keys are at most {MAX_KEY_BYTES} bytes",
                prefix.len()
            ))));
        }
        if limit > MAX_LIST_KEYS {
            return Err(self.refused(WitError::InvalidArgument(format!(
                "limit {limit} is over {MAX_LIST_KEYS}: page through keys with a prefix"
            ))));
        }
        let subject = self.gate.subject();
        let (user, app) = (&subject.user, subject.app());
        self.store
            .kv_list(user, app, &prefix, limit as usize)
            .map_err(unavailable)
    }

    async fn get_usage(&mut self) -> Result<Usage, WitError> {
        self.allow()?;
        let subject = self.gate.subject();
        let usage = self
            .store
            .kv_usage(&subject.user, subject.app())
            .map_err(unavailable)?;
        Ok(Usage {
            used_bytes: usage.bytes,
            quota_bytes: subject.manifest.storage_quota(),
            keys: usage.keys.min(u32::MAX as u64) as u32,
        })
    }
}
