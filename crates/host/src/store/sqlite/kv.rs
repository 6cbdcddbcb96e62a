//! Mini-apps' key-value data on SQLite: the values, each (user, mini-app)'s
//! usage totals, and [`KvStore`].

use super::{Durability, SqliteStore, db};
use crate::store::{KvStore, KvUsage, KvWrite, StoreResult, kv_entry_size};
use rusqlite::{Connection, OptionalExtension, params};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS kv (
    user_id TEXT NOT NULL,
    app_id TEXT NOT NULL,
    key TEXT NOT NULL,
    value BLOB NOT NULL,
    size INTEGER NOT NULL,
    PRIMARY KEY (user_id, app_id, key)
) WITHOUT ROWID;
-- Totals per (user, mini-app), kept with every write so a quota check reads
-- one row instead of summing every key (which a key flood would make slow
-- for every session sharing the store).
CREATE TABLE IF NOT EXISTS kv_usage (
    user_id TEXT NOT NULL,
    app_id TEXT NOT NULL,
    bytes INTEGER NOT NULL CHECK (bytes >= 0),
    keys INTEGER NOT NULL CHECK (keys >= 0),
    PRIMARY KEY (user_id, app_id)
) WITHOUT ROWID;
";

impl KvStore for SqliteStore {
    fn kv_get(&self, user: &str, app: &str, key: &str) -> StoreResult<Option<Vec<u8>>> {
        self.read_point()
            .prepare_cached("SELECT value FROM kv WHERE user_id = ?1 AND app_id = ?2 AND key = ?3")
            .and_then(|mut s| {
                s.query_row(params![user, app, key], |r| r.get(0))
                    .optional()
            })
            .map_err(db("read a value"))
    }

    fn kv_set(
        &self,
        user: &str,
        app: &str,
        key: &str,
        value: &[u8],
        quota: u64,
    ) -> StoreResult<KvWrite> {
        self.write_surviving(Durability::ProcessCrash, "commit a write", |c| {
            let used = usage_in(c, user, app)?.bytes as i64;
            let existing = size_in(c, user, app, key)?;
            let size = kv_entry_size(key, value) as i64;
            let would_use = (used - existing.unwrap_or(0) + size) as u64;
            if would_use > quota {
                return Ok(KvWrite::OverQuota {
                    used: used as u64,
                    would_use,
                    quota,
                });
            }
            c.prepare_cached(
                "INSERT INTO kv (user_id, app_id, key, value, size) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (user_id, app_id, key) DO UPDATE SET value = excluded.value, size = excluded.size",
            )
            .and_then(|mut s| s.execute(params![user, app, key, value, size]))
            .map_err(db("write a value"))?;
            let new_key = i64::from(existing.is_none());
            add_usage(c, user, app, size - existing.unwrap_or(0), new_key)?;
            Ok(KvWrite::Written)
        })
    }

    fn kv_delete(&self, user: &str, app: &str, key: &str) -> StoreResult<bool> {
        self.write_surviving(Durability::ProcessCrash, "commit a delete", |c| {
            let Some(size) = size_in(c, user, app, key)? else {
                return Ok(false);
            };
            c.prepare_cached("DELETE FROM kv WHERE user_id = ?1 AND app_id = ?2 AND key = ?3")
                .and_then(|mut s| s.execute(params![user, app, key]))
                .map_err(db("delete a value"))?;
            add_usage(c, user, app, -size, -1)?;
            Ok(true)
        })
    }

    fn kv_list(
        &self,
        user: &str,
        app: &str,
        prefix: &str,
        limit: usize,
    ) -> StoreResult<Vec<String>> {
        let c = self.read();
        let mut stmt = c
            .prepare_cached(
                "SELECT key FROM kv WHERE user_id = ?1 AND app_id = ?2 AND key >= ?3 ORDER BY key",
            )
            .map_err(db("list keys"))?;
        let mut rows = stmt
            .query(params![user, app, prefix])
            .map_err(db("list keys"))?;
        let mut keys = Vec::new();
        while keys.len() < limit {
            let Some(row) = rows.next().map_err(db("list keys"))? else {
                break;
            };
            let key: String = row.get(0).map_err(db("list keys"))?;
            if !key.starts_with(prefix) {
                break;
            }
            keys.push(key);
        }
        Ok(keys)
    }

    fn kv_usage(&self, user: &str, app: &str) -> StoreResult<KvUsage> {
        usage_in(&self.read_point(), user, app)
    }
}

pub(super) fn usage_in(c: &Connection, user: &str, app: &str) -> StoreResult<KvUsage> {
    let usage = c
        .prepare_cached("SELECT bytes, keys FROM kv_usage WHERE user_id = ?1 AND app_id = ?2")
        .and_then(|mut s| {
            s.query_row(params![user, app], |r| {
                Ok(KvUsage {
                    bytes: r.get::<_, i64>(0)? as u64,
                    keys: r.get::<_, i64>(1)? as u64,
                })
            })
            .optional()
        })
        .map_err(db("measure usage"))?;
    Ok(usage.unwrap_or(KvUsage { bytes: 0, keys: 0 }))
}

fn size_in(c: &Connection, user: &str, app: &str, key: &str) -> StoreResult<Option<i64>> {
    c.prepare_cached("SELECT size FROM kv WHERE user_id = ?1 AND app_id = ?2 AND key = ?3")
        .and_then(|mut s| {
            s.query_row(params![user, app, key], |r| r.get(0))
                .optional()
        })
        .map_err(db("measure usage"))
}

pub(super) fn add_usage(
    c: &Connection,
    user: &str,
    app: &str,
    bytes: i64,
    keys: i64,
) -> StoreResult<()> {
    c.prepare_cached(
        // SQLite checks the row to insert before it sees the conflict, so
        // a negative change (a delete) is clamped there; the row exists then.
        "INSERT INTO kv_usage (user_id, app_id, bytes, keys) VALUES (?1, ?2, max(?3, 0), max(?4, 0))
         ON CONFLICT (user_id, app_id) DO UPDATE SET bytes = bytes + ?3, keys = keys + ?4",
    )
    .and_then(|mut s| s.execute(params![user, app, bytes, keys]))
    .map_err(db("update usage"))?;
    Ok(())
}
