//! Files users gave mini-apps on PostgreSQL: the `media` table and
//! [`MediaStore`]. A file's size counts in `kv_usage` (the quota values and
//! files share), changed in the same serializable transaction as the row.

use super::kv::{add_usage, usage_in};
use super::{Db, PostgresStore, read, transaction};
use crate::store::{MediaPut, MediaRecord, MediaStore, StoreResult, media_file_size};
use tokio_postgres::{IsolationLevel, Row};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS media (
    id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    app_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    size BIGINT NOT NULL,
    bytes BYTEA NOT NULL,
    created_at_ms BIGINT NOT NULL,
    PRIMARY KEY (user_id, app_id, id)
);
CREATE INDEX IF NOT EXISTS media_by_app ON media (app_id);
";

const COLUMNS: &str = "id, user_id, app_id, kind, name, size, created_at_ms";

pub(super) fn media_row(r: &Row) -> MediaRecord {
    MediaRecord {
        id: r.get(0),
        user: r.get(1),
        app: r.get(2),
        kind: r.get(3),
        name: r.get(4),
        size: r.get::<_, i64>(5) as u64,
        created_at_ms: r.get(6),
    }
}

impl MediaStore for PostgresStore {
    fn media_put(&self, record: &MediaRecord, bytes: &[u8], quota: u64) -> StoreResult<MediaPut> {
        // Serializable, as a key-value write: two nodes keeping files for
        // the same user never both pass the quota with the same usage.
        transaction!(self, "keep a file", IsolationLevel::Serializable, |tx| {
            let used = usage_in(tx, &record.user, &record.app).await?.bytes;
            let cost = media_file_size(bytes.len() as u64);
            let would_use = used + cost;
            if would_use > quota {
                return Ok(MediaPut::OverQuota {
                    used,
                    would_use,
                    quota,
                });
            }
            tx.exec(
                &format!(
                    "INSERT INTO media ({COLUMNS}, bytes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                ),
                &[
                    &record.id,
                    &record.user,
                    &record.app,
                    &record.kind,
                    &record.name,
                    &(bytes.len() as i64),
                    &record.created_at_ms,
                    &bytes,
                ],
            )
            .await?;
            add_usage(tx, &record.user, &record.app, cost as i64, 0).await?;
            Ok(MediaPut::Stored)
        })
    }

    fn media_get(
        &self,
        user: &str,
        app: &str,
        id: &str,
    ) -> StoreResult<Option<(MediaRecord, Vec<u8>)>> {
        read!(self, "read a file", |c| {
            Ok(c.opt(
                &format!(
                    "SELECT {COLUMNS}, bytes FROM media WHERE user_id = $1 AND app_id = $2 AND id = $3"
                ),
                &[&user, &app, &id],
            )
            .await?
            .map(|r| (media_row(&r), r.get(7))))
        })
    }

    fn media_list(&self, user: &str, app: &str) -> StoreResult<Vec<MediaRecord>> {
        read!(self, "list files", |c| {
            let rows = c
                .rows(
                    &format!(
                        "SELECT {COLUMNS} FROM media WHERE user_id = $1 AND app_id = $2
                         ORDER BY created_at_ms, id"
                    ),
                    &[&user, &app],
                )
                .await?;
            Ok(rows.iter().map(media_row).collect())
        })
    }

    fn media_delete(&self, user: &str, app: &str, id: &str) -> StoreResult<bool> {
        transaction!(self, "delete a file", IsolationLevel::Serializable, |tx| {
            let Some(row) = tx
                .opt(
                    "DELETE FROM media WHERE user_id = $1 AND app_id = $2 AND id = $3 RETURNING size",
                    &[&user, &app, &id],
                )
                .await?
            else {
                return Ok(false);
            };
            let size: i64 = row.get(0);
            add_usage(tx, user, app, -(media_file_size(size as u64) as i64), 0).await?;
            Ok(true)
        })
    }
}
