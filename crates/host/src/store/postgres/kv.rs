//! Mini-apps' key-value data on PostgreSQL: the values, each (user,
//! mini-app)'s usage totals, and [`KvStore`].

use super::{Db, PgResult, PostgresStore, read, transaction};
use crate::store::{KvStore, KvUsage, KvWrite, StoreResult, kv_entry_size};
use tokio_postgres::IsolationLevel;

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS kv (
    user_id TEXT NOT NULL,
    app_id TEXT NOT NULL,
    key TEXT COLLATE \"C\" NOT NULL,
    value BYTEA NOT NULL,
    size BIGINT NOT NULL,
    PRIMARY KEY (user_id, app_id, key)
);
CREATE INDEX IF NOT EXISTS kv_by_app ON kv (app_id);
CREATE TABLE IF NOT EXISTS kv_usage (
    user_id TEXT NOT NULL,
    app_id TEXT NOT NULL,
    bytes BIGINT NOT NULL CHECK (bytes >= 0),
    keys BIGINT NOT NULL CHECK (keys >= 0),
    PRIMARY KEY (user_id, app_id)
);
";

impl KvStore for PostgresStore {
    fn kv_get(&self, user: &str, app: &str, key: &str) -> StoreResult<Option<Vec<u8>>> {
        read!(self, "read a value", |c| {
            Ok(c.opt(
                "SELECT value FROM kv WHERE user_id = $1 AND app_id = $2 AND key = $3",
                &[&user, &app, &key],
            )
            .await?
            .map(|r| r.get(0)))
        })
    }

    fn kv_set(
        &self,
        user: &str,
        app: &str,
        key: &str,
        value: &[u8],
        quota: u64,
    ) -> StoreResult<KvWrite> {
        // Serializable: two nodes writing the same user's space at once
        // never both pass the quota with the same usage.
        transaction!(self, "commit a write", IsolationLevel::Serializable, |tx| {
            let used = usage_in(tx, user, app).await?.bytes as i64;
            let existing = size_in(tx, user, app, key).await?;
            let size = kv_entry_size(key, value) as i64;
            let would_use = (used - existing.unwrap_or(0) + size) as u64;
            if would_use > quota {
                return Ok(KvWrite::OverQuota {
                    used: used as u64,
                    would_use,
                    quota,
                });
            }
            tx.exec(
                "INSERT INTO kv (user_id, app_id, key, value, size) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (user_id, app_id, key) DO UPDATE SET value = excluded.value, size = excluded.size",
                &[&user, &app, &key, &value, &size],
            )
            .await?;
            let new_key = i64::from(existing.is_none());
            add_usage(tx, user, app, size - existing.unwrap_or(0), new_key).await?;
            Ok(KvWrite::Written)
        })
    }

    fn kv_delete(&self, user: &str, app: &str, key: &str) -> StoreResult<bool> {
        transaction!(
            self,
            "commit a delete",
            IsolationLevel::Serializable,
            |tx| {
                let Some(size) = size_in(tx, user, app, key).await? else {
                    return Ok(false);
                };
                tx.exec(
                    "DELETE FROM kv WHERE user_id = $1 AND app_id = $2 AND key = $3",
                    &[&user, &app, &key],
                )
                .await?;
                add_usage(tx, user, app, -size, -1).await?;
                Ok(true)
            }
        )
    }

    fn kv_list(
        &self,
        user: &str,
        app: &str,
        prefix: &str,
        limit: usize,
    ) -> StoreResult<Vec<String>> {
        read!(self, "list keys", |c| {
            // Keys from the prefix on, in byte order, while they start with it.
            let rows = c
                .rows(
                    "SELECT key FROM kv WHERE user_id = $1 AND app_id = $2 AND key >= $3
                     AND left(key, char_length($3)) = $3 ORDER BY key LIMIT $4",
                    &[&user, &app, &prefix, &(limit.min(i64::MAX as usize) as i64)],
                )
                .await?;
            Ok(rows.iter().map(|r| r.get(0)).collect())
        })
    }

    fn kv_usage(&self, user: &str, app: &str) -> StoreResult<KvUsage> {
        read!(self, "measure usage", |c| usage_in(c, user, app).await)
    }
}

pub(super) async fn usage_in(c: &impl Db, user: &str, app: &str) -> PgResult<KvUsage> {
    let row = c
        .opt(
            "SELECT bytes, keys FROM kv_usage WHERE user_id = $1 AND app_id = $2",
            &[&user, &app],
        )
        .await?;
    Ok(row
        .map(|r| KvUsage {
            bytes: r.get::<_, i64>(0) as u64,
            keys: r.get::<_, i64>(1) as u64,
        })
        .unwrap_or_default())
}

async fn size_in(c: &impl Db, user: &str, app: &str, key: &str) -> PgResult<Option<i64>> {
    Ok(c.opt(
        "SELECT size FROM kv WHERE user_id = $1 AND app_id = $2 AND key = $3",
        &[&user, &app, &key],
    )
    .await?
    .map(|r| r.get(0)))
}

pub(super) async fn add_usage(
    c: &impl Db,
    user: &str,
    app: &str,
    bytes: i64,
    keys: i64,
) -> PgResult<()> {
    c.exec(
        "INSERT INTO kv_usage (user_id, app_id, bytes, keys) VALUES ($1, $2, GREATEST($3::BIGINT, 0), GREATEST($4::BIGINT, 0))
         ON CONFLICT (user_id, app_id) DO UPDATE
         SET bytes = kv_usage.bytes + $3, keys = kv_usage.keys + $4",
        &[&user, &app, &bytes, &keys],
    )
    .await?;
    Ok(())
}
