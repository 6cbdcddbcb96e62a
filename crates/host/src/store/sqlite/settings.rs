//! Mini-apps' settings on SQLite: their table and [`SettingsStore`].

use super::{SqliteStore, db};
use crate::store::{SettingRecord, SettingsStore, StoreResult};
use rusqlite::params;

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS app_settings (
    app_id TEXT NOT NULL,
    name TEXT NOT NULL,
    secret INTEGER NOT NULL,
    value BLOB NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    PRIMARY KEY (app_id, name)
);
";

impl SettingsStore for SqliteStore {
    fn put_setting(&self, r: &SettingRecord) -> StoreResult<()> {
        self.write("set a mini-app's setting", |c| {
            c.execute(
                "INSERT OR REPLACE INTO app_settings (app_id, name, secret, value, updated_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![r.app_id, r.name, r.secret as i64, r.value, r.updated_at_ms],
            )
            .map_err(db("set a mini-app's setting"))?;
            Ok(())
        })
    }

    fn delete_setting(&self, app_id: &str, name: &str) -> StoreResult<bool> {
        self.write("remove a mini-app's setting", |c| {
            let n = c
                .execute(
                    "DELETE FROM app_settings WHERE app_id = ?1 AND name = ?2",
                    params![app_id, name],
                )
                .map_err(db("remove a mini-app's setting"))?;
            Ok(n > 0)
        })
    }

    fn settings(&self, app_id: &str) -> StoreResult<Vec<SettingRecord>> {
        let c = self.read_point();
        let mut st = c
            .prepare_cached(
                "SELECT name, secret, value, updated_at_ms FROM app_settings
                 WHERE app_id = ?1 ORDER BY name",
            )
            .map_err(db("read a mini-app's settings"))?;
        st.query_map([app_id], |r| {
            Ok(SettingRecord {
                app_id: app_id.to_string(),
                name: r.get(0)?,
                secret: r.get::<_, i64>(1)? != 0,
                value: r.get(2)?,
                updated_at_ms: r.get(3)?,
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(db("read a mini-app's settings"))
    }
}
