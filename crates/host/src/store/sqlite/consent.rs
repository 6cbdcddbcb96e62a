//! Remembered consent decisions on SQLite: their table and [`ConsentStore`].

use super::{SqliteStore, db};
use crate::store::{ConsentRecord, ConsentStore, StoreResult};
use rusqlite::{OptionalExtension, params};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS consents (
    user_id TEXT NOT NULL,
    app_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    granted INTEGER NOT NULL,
    decided_at_ms INTEGER NOT NULL,
    PRIMARY KEY (user_id, app_id, scope)
) WITHOUT ROWID;
";

impl ConsentStore for SqliteStore {
    fn get_consent(
        &self,
        user: &str,
        app: &str,
        scope: &str,
    ) -> StoreResult<Option<ConsentRecord>> {
        self.read_point()
            .prepare_cached(
                "SELECT granted, decided_at_ms FROM consents WHERE user_id = ?1 AND app_id = ?2 AND scope = ?3",
            )
            .and_then(|mut s| {
                s.query_row(params![user, app, scope], |r| {
                    Ok(ConsentRecord {
                        user: user.to_string(),
                        app: app.to_string(),
                        scope: scope.to_string(),
                        granted: r.get::<_, i64>(0)? != 0,
                        decided_at_ms: r.get(1)?,
                    })
                })
                .optional()
            })
            .map_err(db("read a consent decision"))
    }

    fn put_consent(&self, r: &ConsentRecord) -> StoreResult<()> {
        self.write("save a consent decision", |c| {
            c.execute(
                "INSERT OR REPLACE INTO consents (user_id, app_id, scope, granted, decided_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![r.user, r.app, r.scope, r.granted as i64, r.decided_at_ms],
            )
            .map_err(db("save a consent decision"))?;
            Ok(())
        })
    }

    fn list_consents(&self, user: &str) -> StoreResult<Vec<ConsentRecord>> {
        let c = self.read();
        let mut stmt = c
            .prepare(
                "SELECT app_id, scope, granted, decided_at_ms FROM consents WHERE user_id = ?1 ORDER BY app_id, scope",
            )
            .map_err(db("list consent decisions"))?;
        let rows = stmt
            .query_map([user], |r| {
                Ok(ConsentRecord {
                    user: user.to_string(),
                    app: r.get(0)?,
                    scope: r.get(1)?,
                    granted: r.get::<_, i64>(2)? != 0,
                    decided_at_ms: r.get(3)?,
                })
            })
            .map_err(db("list consent decisions"))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(db("list consent decisions"))
    }

    fn revoke_consent(&self, user: &str, app: &str, scope: &str) -> StoreResult<bool> {
        self.write("revoke a consent decision", |c| {
            let n = c
                .execute(
                    "DELETE FROM consents WHERE user_id = ?1 AND app_id = ?2 AND scope = ?3",
                    params![user, app, scope],
                )
                .map_err(db("revoke a consent decision"))?;
            Ok(n > 0)
        })
    }

    fn reset_consents(&self, app: &str, scope: Option<&str>) -> StoreResult<u64> {
        self.write("reset consent decisions", |c| {
            let n = match scope {
                Some(scope) => c.execute(
                    "DELETE FROM consents WHERE app_id = ?1 AND scope = ?2",
                    params![app, scope],
                ),
                None => c.execute("DELETE FROM consents WHERE app_id = ?1", params![app]),
            }
            .map_err(db("reset consent decisions"))?;
            Ok(n as u64)
        })
    }
}
