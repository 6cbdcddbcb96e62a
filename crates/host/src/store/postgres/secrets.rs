//! The host's secrets on PostgreSQL: their table and [`SecretStore`].

use super::{Db, PgError, PostgresStore, transaction};
use crate::store::{SecretStore, StoreError, StoreResult};
use tokio_postgres::IsolationLevel;

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS host_secrets (
    name TEXT PRIMARY KEY,
    value BYTEA NOT NULL
);
";

impl SecretStore for PostgresStore {
    fn secret_or_insert(&self, name: &str, fresh: &[u8]) -> StoreResult<Vec<u8>> {
        // Two nodes starting at once: the first insert wins, and both read it.
        transaction!(
            self,
            "store a host secret",
            IsolationLevel::ReadCommitted,
            |tx| {
                tx.exec(
                "INSERT INTO host_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
                &[&name, &fresh],
            )
            .await?;
                match tx
                    .opt("SELECT value FROM host_secrets WHERE name = $1", &[&name])
                    .await?
                {
                    Some(row) => Ok(row.get(0)),
                    None => Err(PgError::Store(StoreError::Database {
                        operation: "read a host secret",
                        message: format!("the secret `{name}` vanished"),
                    })),
                }
            }
        )
    }
}
