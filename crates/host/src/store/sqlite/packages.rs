//! Installed packages on SQLite: their table, the owners of app ids, and
//! [`PackageStore`].

use super::{SqliteStore, db};
use crate::store::{
    AppIdRecord, PackageRecord, PackageStore, ReleaseResult, StoreError, StoreResult,
};
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
CREATE TABLE IF NOT EXISTS app_ids (
    app_id TEXT PRIMARY KEY,
    publisher_id TEXT,
    generation INTEGER NOT NULL DEFAULT 0,
    claimed_at_ms INTEGER NOT NULL
);
";

/// From version 5, whose app ids had no owner records: the publishers of
/// the installed packages own their ids, and the publishers paid through an
/// id or given login codes for it own the ids of mini-apps since
/// uninstalled. Runs after the ledger's own migration.
pub(super) const MIGRATE_TO_6: &str = "
INSERT OR IGNORE INTO app_ids (app_id, publisher_id, generation, claimed_at_ms)
    SELECT app_id, publisher_id, 0, installed_at_ms FROM packages;
INSERT OR IGNORE INTO app_ids (app_id, publisher_id, generation, claimed_at_ms)
    SELECT app_id, publisher_id, 0, MIN(paid_at_ms) FROM payments GROUP BY app_id;
INSERT OR IGNORE INTO app_ids (app_id, publisher_id, generation, claimed_at_ms)
    SELECT app_id, publisher_id, 0, MIN(issued_at_ms) FROM login_codes GROUP BY app_id;
";

/// What a release erases of the old users' data for an app id (`?1`):
/// storage, consents, subscriptions, followers, the users' conversation
/// with it, the recipients still waiting for its broadcasts (the broadcasts
/// are marked done), login codes and the app secret. Messages already in
/// inboxes stay, as the users' history; money records stay.
const ERASED_AT_RELEASE: &[&str] = &[
    "DELETE FROM kv WHERE app_id = ?1",
    "DELETE FROM kv_usage WHERE app_id = ?1",
    "DELETE FROM media WHERE app_id = ?1",
    "DELETE FROM consents WHERE app_id = ?1",
    "DELETE FROM subscriptions WHERE app_id = ?1",
    "DELETE FROM followers WHERE app_id = ?1",
    "DELETE FROM conversation WHERE app_id = ?1",
    "DELETE FROM broadcast_recipients WHERE outcome IS NULL
         AND broadcast_id IN (SELECT id FROM broadcasts WHERE app_id = ?1 AND done = 0)",
    "UPDATE broadcasts SET done = 1 WHERE app_id = ?1",
    "DELETE FROM login_codes WHERE app_id = ?1",
    "DELETE FROM app_secrets WHERE app_id = ?1",
    "DELETE FROM app_settings WHERE app_id = ?1",
];

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
            claim_app_id(c, &r.app_id, &r.publisher_id, r.installed_at_ms)
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

    fn app_id_owner(&self, app_id: &str) -> StoreResult<Option<AppIdRecord>> {
        owner_in(&self.read_point(), app_id)
    }

    fn release_app_id(&self, app_id: &str) -> StoreResult<ReleaseResult> {
        self.write("release an app id", |c| {
            let installed: bool = c
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM packages WHERE app_id = ?1)",
                    [app_id],
                    |r| r.get(0),
                )
                .map_err(db("release an app id"))?;
            if installed {
                return Ok(ReleaseResult::Installed);
            }
            let Some(owner) = owner_in(c, app_id)? else {
                return Ok(ReleaseResult::Unknown);
            };
            for sql in ERASED_AT_RELEASE {
                c.execute(sql, [app_id])
                    .map_err(db("erase the data of a released app id"))?;
            }
            let generation = owner.generation + 1;
            c.execute(
                "UPDATE app_ids SET publisher_id = NULL, generation = ?2 WHERE app_id = ?1",
                params![app_id, generation],
            )
            .map_err(db("release an app id"))?;
            Ok(ReleaseResult::Released {
                previous_owner: owner.publisher_id,
                generation,
            })
        })
    }
}

fn owner_in(c: &rusqlite::Connection, app_id: &str) -> StoreResult<Option<AppIdRecord>> {
    c.prepare_cached(
        "SELECT publisher_id, generation, claimed_at_ms FROM app_ids WHERE app_id = ?1",
    )
    .and_then(|mut st| {
        st.query_row([app_id], |r| {
            Ok(AppIdRecord {
                app_id: app_id.to_string(),
                publisher_id: r.get(0)?,
                generation: r.get(1)?,
                claimed_at_ms: r.get(2)?,
            })
        })
        .optional()
    })
    .map_err(db("read the owner of an app id"))
}

/// Claims `app_id` for `publisher` if nobody owns it (never installed, or
/// released); fails if another publisher does (the install checks refuse
/// that before; this keeps two racing installs from sharing an id).
fn claim_app_id(
    c: &rusqlite::Connection,
    app_id: &str,
    publisher: &str,
    at_ms: i64,
) -> StoreResult<()> {
    c.execute(
        "INSERT INTO app_ids (app_id, publisher_id, generation, claimed_at_ms) VALUES (?1, ?2, 0, ?3)
         ON CONFLICT (app_id) DO UPDATE SET publisher_id = excluded.publisher_id,
             claimed_at_ms = excluded.claimed_at_ms
         WHERE app_ids.publisher_id IS NULL",
        params![app_id, publisher, at_ms],
    )
    .map_err(db("claim the app id"))?;
    match owner_in(c, app_id)?.and_then(|o| o.publisher_id) {
        Some(owner) if owner == publisher => Ok(()),
        owner => Err(StoreError::Database {
            operation: "claim the app id",
            message: format!(
                "{app_id} belongs to publisher {}",
                owner.as_deref().unwrap_or("(nobody)")
            ),
        }),
    }
}
