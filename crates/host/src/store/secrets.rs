//! The host's own secrets (its receipt-signing key, the key behind
//! pseudonymous ids), made once and kept in the store.

use super::StoreResult;

/// Secrets of the host, by name.
pub trait SecretStore: Send + Sync {
    /// The secret `name`; if there is none yet, stores `fresh` as it and
    /// returns it. Two hosts racing on one store get the same secret.
    fn secret_or_insert(&self, name: &str, fresh: &[u8]) -> StoreResult<Vec<u8>>;
}
