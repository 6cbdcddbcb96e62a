//! The host's secrets on SQLite: their table and [`SecretStore`].

use super::{SqliteStore, db};
use crate::store::{SecretStore, StoreError, StoreResult};
use rusqlite::{OptionalExtension, params};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS host_secrets (
    name TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
";

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
        .ok_or(StoreError::Database {
            operation: "read a host secret",
            message: format!("the secret `{name}` vanished"),
        })
    }
}
