//! Installed packages on SQLite: their table and [`PackageStore`].

use super::{SqliteStore, db};
use crate::store::{PackageRecord, PackageStore, StoreResult};
use rusqlite::{OptionalExtension, params};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS packages (
    app_id TEXT PRIMARY KEY,
    version TEXT NOT NULL,
    publisher_id TEXT NOT NULL,
    manifest TEXT NOT NULL,
    component BLOB NOT NULL,
    component_sha256 TEXT NOT NULL,
    signature BLOB,
    installed_at_ms INTEGER NOT NULL
);
";

/// The columns of a package without its component.
const INFO_COLUMNS: &str =
    "app_id, version, publisher_id, manifest, component_sha256, signature, installed_at_ms";

fn info_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PackageRecord> {
    Ok(PackageRecord {
        app_id: r.get(0)?,
        version: r.get(1)?,
        publisher_id: r.get(2)?,
        manifest: r.get(3)?,
        component: Vec::new(),
        component_sha256: r.get(4)?,
        signature: r.get(5)?,
        installed_at_ms: r.get(6)?,
    })
}

impl PackageStore for SqliteStore {
    fn put_package(&self, r: &PackageRecord) -> StoreResult<()> {
        self.write("save the package", |c| {
            c.execute(
                "INSERT OR REPLACE INTO packages
                 (app_id, version, publisher_id, manifest, component, component_sha256, signature, installed_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    r.app_id,
                    r.version,
                    r.publisher_id,
                    r.manifest,
                    r.component,
                    r.component_sha256,
                    r.signature,
                    r.installed_at_ms
                ],
            )
            .map_err(db("save the package"))?;
            Ok(())
        })
    }

    fn get_package(&self, app_id: &str) -> StoreResult<Option<PackageRecord>> {
        self.read()
            .query_row(
                "SELECT app_id, version, publisher_id, manifest, component, component_sha256, signature, installed_at_ms
                 FROM packages WHERE app_id = ?1",
                [app_id],
                |r| {
                    Ok(PackageRecord {
                        app_id: r.get(0)?,
                        version: r.get(1)?,
                        publisher_id: r.get(2)?,
                        manifest: r.get(3)?,
                        component: r.get(4)?,
                        component_sha256: r.get(5)?,
                        signature: r.get(6)?,
                        installed_at_ms: r.get(7)?,
                    })
                },
            )
            .optional()
            .map_err(db("read the package"))
    }

    fn package_info(&self, app_id: &str) -> StoreResult<Option<PackageRecord>> {
        self.read_point()
            .prepare_cached(&format!(
                "SELECT {INFO_COLUMNS} FROM packages WHERE app_id = ?1"
            ))
            .and_then(|mut st| st.query_row([app_id], info_row).optional())
            .map_err(db("read the package"))
    }

    fn list_packages(&self) -> StoreResult<Vec<PackageRecord>> {
        let c = self.read();
        let mut stmt = c
            .prepare(&format!(
                "SELECT {INFO_COLUMNS} FROM packages ORDER BY app_id"
            ))
            .map_err(db("list packages"))?;
        let rows = stmt.query_map([], info_row).map_err(db("list packages"))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(db("list packages"))
    }

    fn delete_package(&self, app_id: &str) -> StoreResult<bool> {
        self.write("remove the package", |c| {
            let n = c
                .execute("DELETE FROM packages WHERE app_id = ?1", [app_id])
                .map_err(db("remove the package"))?;
            Ok(n > 0)
        })
    }
}
