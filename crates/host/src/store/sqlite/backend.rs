//! The publisher API's directory on SQLite: the `openids` table and
//! [`OpenidStore`].

use super::{SqliteStore, db};
use crate::store::{OpenidStore, StoreResult};
use rusqlite::{OptionalExtension, params};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS openids (
    app_id TEXT NOT NULL,
    generation INTEGER NOT NULL,
    openid TEXT NOT NULL,
    user_id TEXT NOT NULL,
    first_seen_ms INTEGER NOT NULL,
    PRIMARY KEY (app_id, generation, openid)
) WITHOUT ROWID;
";

impl OpenidStore for SqliteStore {
    fn remember_openid(
        &self,
        app: &str,
        generation: u32,
        openid: &str,
        user: &str,
        at_ms: i64,
    ) -> StoreResult<()> {
        // Most calls find it there: a read, and a write only the first time.
        if self.openid_user(app, generation, openid)?.is_some() {
            return Ok(());
        }
        self.write("remember an openid", |c| {
            c.prepare_cached(
                "INSERT OR IGNORE INTO openids (app_id, generation, openid, user_id, first_seen_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .and_then(|mut s| s.execute(params![app, generation, openid, user, at_ms]))
            .map_err(db("remember an openid"))?;
            Ok(())
        })
    }

    fn openid_user(&self, app: &str, generation: u32, openid: &str) -> StoreResult<Option<String>> {
        self.read_point()
            .prepare_cached(
                "SELECT user_id FROM openids WHERE app_id = ?1 AND generation = ?2 AND openid = ?3",
            )
            .and_then(|mut s| {
                s.query_row(params![app, generation, openid], |r| r.get(0))
                    .optional()
            })
            .map_err(db("look up an openid"))
    }
}
