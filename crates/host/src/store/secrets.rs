//! The host's own secrets (its receipt-signing key, the key behind
//! pseudonymous ids), made once and kept in the store.

use super::sqlite::db;
use super::{SqliteStore, StoreResult};
use rusqlite::{OptionalExtension, params};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS host_secrets (
    name TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
";

/// Secrets of the host, by name.
pub trait SecretStore: Send + Sync {
    /// The secret `name`; if there is none yet, stores `fresh` as it and
    /// returns it. Two hosts racing on one store get the same secret.
    fn secret_or_insert(&self, name: &str, fresh: &[u8]) -> StoreResult<Vec<u8>>;
}

impl SecretStore for SqliteStore {
    fn secret_or_insert(&self, name: &str, fresh: &[u8]) -> StoreResult<Vec<u8>> {
        let c = self.conn();
        c.execute(
            "INSERT OR IGNORE INTO host_secrets (name, value) VALUES (?1, ?2)",
            params![name, fresh],
        )
        .map_err(db("store a host secret"))?;
        c.query_row(
            "SELECT value FROM host_secrets WHERE name = ?1",
            [name],
            |r| r.get(0),
        )
        .optional()
        .map_err(db("read a host secret"))?
        .ok_or(super::StoreError::Database {
            operation: "read a host secret",
            message: format!("the secret `{name}` vanished"),
        })
    }
}
