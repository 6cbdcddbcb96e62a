//! Files users gave mini-apps on SQLite: the `media` table and
//! [`MediaStore`]. A file's size counts in `kv_usage` (the quota values and
//! files share), changed in the same savepoint as the row.

use super::kv::{add_usage, usage_in};
use super::{Durability, SqliteStore, db};
use crate::store::{MediaPut, MediaRecord, MediaStore, StoreResult, media_file_size};
use rusqlite::{OptionalExtension, Row, params};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS media (
    id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    app_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    size INTEGER NOT NULL,
    bytes BLOB NOT NULL,
    created_at_ms INTEGER NOT NULL,
    PRIMARY KEY (user_id, app_id, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS media_by_app ON media (app_id);
";

const COLUMNS: &str = "id, user_id, app_id, kind, name, size, created_at_ms";

pub(super) fn media_row(r: &Row<'_>) -> rusqlite::Result<MediaRecord> {
    Ok(MediaRecord {
        id: r.get(0)?,
        user: r.get(1)?,
        app: r.get(2)?,
        kind: r.get(3)?,
        name: r.get(4)?,
        size: r.get::<_, i64>(5)? as u64,
        created_at_ms: r.get(6)?,
    })
}

impl MediaStore for SqliteStore {
    fn media_put(&self, record: &MediaRecord, bytes: &[u8], quota: u64) -> StoreResult<MediaPut> {
        self.write_surviving(Durability::ProcessCrash, "keep a file", |c| {
            let used = usage_in(c, &record.user, &record.app)?.bytes;
            let would_use = used + media_file_size(bytes.len() as u64);
            if would_use > quota {
                return Ok(MediaPut::OverQuota {
                    used,
                    would_use,
                    quota,
                });
            }
            c.prepare_cached(
                "INSERT INTO media (id, user_id, app_id, kind, name, size, bytes, created_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    record.id,
                    record.user,
                    record.app,
                    record.kind,
                    record.name,
                    bytes.len() as i64,
                    bytes,
                    record.created_at_ms
                ])
            })
            .map_err(db("keep a file"))?;
            add_usage(
                c,
                &record.user,
                &record.app,
                media_file_size(bytes.len() as u64) as i64,
                0,
            )?;
            Ok(MediaPut::Stored)
        })
    }

    fn media_get(
        &self,
        user: &str,
        app: &str,
        id: &str,
    ) -> StoreResult<Option<(MediaRecord, Vec<u8>)>> {
        self.read_point()
            .prepare_cached(&format!(
                "SELECT {COLUMNS}, bytes FROM media WHERE user_id = ?1 AND app_id = ?2 AND id = ?3"
            ))
            .and_then(|mut s| {
                s.query_row(params![user, app, id], |r| Ok((media_row(r)?, r.get(7)?)))
                    .optional()
            })
            .map_err(db("read a file"))
    }

    fn media_list(&self, user: &str, app: &str) -> StoreResult<Vec<MediaRecord>> {
        let c = self.read();
        let mut stmt = c
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM media WHERE user_id = ?1 AND app_id = ?2
                 ORDER BY created_at_ms, id"
            ))
            .map_err(db("list files"))?;
        let rows = stmt
            .query_map(params![user, app], media_row)
            .map_err(db("list files"))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(db("list files"))
    }

    fn media_delete(&self, user: &str, app: &str, id: &str) -> StoreResult<bool> {
        self.write_surviving(Durability::ProcessCrash, "delete a file", |c| {
            let size: Option<i64> = c
                .prepare_cached(
                    "DELETE FROM media WHERE user_id = ?1 AND app_id = ?2 AND id = ?3 RETURNING size",
                )
                .and_then(|mut s| s.query_row(params![user, app, id], |r| r.get(0)).optional())
                .map_err(db("delete a file"))?;
            let Some(size) = size else {
                return Ok(false);
            };
            add_usage(c, user, app, -(media_file_size(size as u64) as i64), 0)?;
            Ok(true)
        })
    }
}
