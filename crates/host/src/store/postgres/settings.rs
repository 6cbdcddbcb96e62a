//! Mini-apps' settings on PostgreSQL: their table and [`SettingsStore`].

use super::{Db, PostgresStore, read};
use crate::store::{SettingRecord, SettingsStore, StoreResult};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS app_settings (
    app_id TEXT NOT NULL,
    name TEXT COLLATE \"C\" NOT NULL,
    secret BOOLEAN NOT NULL,
    value BYTEA NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    PRIMARY KEY (app_id, name)
);
";

impl SettingsStore for PostgresStore {
    fn put_setting(&self, r: &SettingRecord) -> StoreResult<()> {
        // One upsert: atomic at READ COMMITTED.
        read!(self, "set a mini-app's setting", |c| {
            c.exec(
                "INSERT INTO app_settings (app_id, name, secret, value, updated_at_ms)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (app_id, name) DO UPDATE SET
                     secret = excluded.secret, value = excluded.value,
                     updated_at_ms = excluded.updated_at_ms",
                &[&r.app_id, &r.name, &r.secret, &r.value, &r.updated_at_ms],
            )
            .await?;
            Ok(())
        })
    }

    fn delete_setting(&self, app_id: &str, name: &str) -> StoreResult<bool> {
        read!(self, "remove a mini-app's setting", |c| {
            Ok(c.exec(
                "DELETE FROM app_settings WHERE app_id = $1 AND name = $2",
                &[&app_id, &name],
            )
            .await?
                > 0)
        })
    }

    fn settings(&self, app_id: &str) -> StoreResult<Vec<SettingRecord>> {
        read!(self, "read a mini-app's settings", |c| {
            Ok(c.rows(
                "SELECT name, secret, value, updated_at_ms FROM app_settings
                 WHERE app_id = $1 ORDER BY name",
                &[&app_id],
            )
            .await?
            .iter()
            .map(|r| SettingRecord {
                app_id: app_id.to_string(),
                name: r.get(0),
                secret: r.get(1),
                value: r.get(2),
                updated_at_ms: r.get(3),
            })
            .collect())
        })
    }
}
