//! Remembered consent decisions on PostgreSQL: their table and
//! [`ConsentStore`].

use super::{Db, PostgresStore, read};
use crate::store::{ConsentRecord, ConsentStore, StoreResult};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS consents (
    user_id TEXT NOT NULL,
    app_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    granted BOOLEAN NOT NULL,
    decided_at_ms BIGINT NOT NULL,
    PRIMARY KEY (user_id, app_id, scope)
);
CREATE INDEX IF NOT EXISTS consents_by_app ON consents (app_id, scope);
";

impl ConsentStore for PostgresStore {
    fn get_consent(
        &self,
        user: &str,
        app: &str,
        scope: &str,
    ) -> StoreResult<Option<ConsentRecord>> {
        read!(self, "read a consent decision", |c| {
            let row = c
                .opt(
                    "SELECT granted, decided_at_ms FROM consents WHERE user_id = $1 AND app_id = $2 AND scope = $3",
                    &[&user, &app, &scope],
                )
                .await?;
            Ok(row.map(|r| ConsentRecord {
                user: user.to_string(),
                app: app.to_string(),
                scope: scope.to_string(),
                granted: r.get(0),
                decided_at_ms: r.get(1),
            }))
        })
    }

    fn put_consent(&self, r: &ConsentRecord) -> StoreResult<()> {
        read!(self, "save a consent decision", |c| {
            c.exec(
                "INSERT INTO consents (user_id, app_id, scope, granted, decided_at_ms)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (user_id, app_id, scope) DO UPDATE
                 SET granted = excluded.granted, decided_at_ms = excluded.decided_at_ms",
                &[&r.user, &r.app, &r.scope, &r.granted, &r.decided_at_ms],
            )
            .await?;
            Ok(())
        })
    }

    fn list_consents(&self, user: &str) -> StoreResult<Vec<ConsentRecord>> {
        read!(self, "list consent decisions", |c| {
            let rows = c
                .rows(
                    "SELECT app_id, scope, granted, decided_at_ms FROM consents WHERE user_id = $1 ORDER BY app_id, scope",
                    &[&user],
                )
                .await?;
            Ok(rows
                .iter()
                .map(|r| ConsentRecord {
                    user: user.to_string(),
                    app: r.get(0),
                    scope: r.get(1),
                    granted: r.get(2),
                    decided_at_ms: r.get(3),
                })
                .collect())
        })
    }

    fn revoke_consent(&self, user: &str, app: &str, scope: &str) -> StoreResult<bool> {
        read!(self, "revoke a consent decision", |c| {
            let n = c
                .exec(
                    "DELETE FROM consents WHERE user_id = $1 AND app_id = $2 AND scope = $3",
                    &[&user, &app, &scope],
                )
                .await?;
            Ok(n > 0)
        })
    }

    fn reset_consents(&self, app: &str, scope: Option<&str>) -> StoreResult<u64> {
        read!(self, "reset consent decisions", |c| {
            c.exec(
                "DELETE FROM consents WHERE app_id = $1 AND ($2::TEXT IS NULL OR scope = $2)",
                &[&app, &scope],
            )
            .await
        })
    }
}
