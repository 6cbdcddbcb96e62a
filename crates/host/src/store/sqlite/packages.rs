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
CREATE TABLE IF NOT EXISTS package_assets (
    app_id TEXT PRIMARY KEY,
    assets BLOB NOT NULL
);
";

/// A package's assets section, empty when it has none.
const ASSETS_OF: &str =
    "COALESCE((SELECT assets FROM package_assets a WHERE a.app_id = packages.app_id), x'')";

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
        assets: Vec::new(),
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
            c.execute("DELETE FROM package_assets WHERE app_id = ?1", [&r.app_id])
                .map_err(db("save the package's assets"))?;
            if !r.assets.is_empty() {
                c.execute(
                    "INSERT INTO package_assets (app_id, assets) VALUES (?1, ?2)",
                    params![r.app_id, r.assets],
                )
                .map_err(db("save the package's assets"))?;
            }
            Ok(())
        })
    }

    fn get_package(&self, app_id: &str) -> StoreResult<Option<PackageRecord>> {
        self.read()
            .query_row(
                &format!(
                    "SELECT app_id, version, publisher_id, manifest, component, component_sha256, signature, installed_at_ms, {ASSETS_OF}
                     FROM packages WHERE app_id = ?1"
                ),
                [app_id],
                |r| {
                    Ok(PackageRecord {
                        app_id: r.get(0)?,
                        version: r.get(1)?,
                        publisher_id: r.get(2)?,
                        manifest: r.get(3)?,
                        component: r.get(4)?,
                        assets: r.get(8)?,
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

    fn package_assets(&self, app_id: &str) -> StoreResult<Option<Vec<u8>>> {
        self.read_point()
            .prepare_cached(&format!(
                "SELECT {ASSETS_OF} FROM packages WHERE app_id = ?1"
            ))
            .and_then(|mut st| st.query_row([app_id], |r| r.get(0)).optional())
            .map_err(db("read the package's assets"))
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
            c.execute("DELETE FROM package_assets WHERE app_id = ?1", [app_id])
                .map_err(db("remove the package's assets"))?;
            Ok(n > 0)
        })
    }
}
