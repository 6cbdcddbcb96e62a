//! Installed packages on PostgreSQL: their table, the owners of app ids,
//! and [`PackageStore`].

use super::{Db, PgError, PgResult, PostgresStore, read, transaction};
use crate::store::{
    AppIdRecord, PackageRecord, PackageStore, ReleaseResult, StoreError, StoreResult,
};
use tokio_postgres::{IsolationLevel, Row};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS packages (
    app_id TEXT PRIMARY KEY,
    version TEXT NOT NULL,
    publisher_id TEXT NOT NULL,
    manifest TEXT NOT NULL,
    component BYTEA NOT NULL,
    component_sha256 TEXT NOT NULL,
    signature BYTEA,
    installed_at_ms BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS package_assets (
    app_id TEXT PRIMARY KEY,
    assets BYTEA NOT NULL
);
CREATE TABLE IF NOT EXISTS app_ids (
    app_id TEXT PRIMARY KEY,
    publisher_id TEXT,
    generation BIGINT NOT NULL DEFAULT 0,
    claimed_at_ms BIGINT NOT NULL
);
";

/// What a release erases of the old users' data for an app id (`$1`); see
/// the SQLite backend's list, which this one follows.
const ERASED_AT_RELEASE: &[&str] = &[
    "DELETE FROM kv WHERE app_id = $1",
    "DELETE FROM kv_usage WHERE app_id = $1",
    "DELETE FROM media WHERE app_id = $1",
    "DELETE FROM consents WHERE app_id = $1",
    "DELETE FROM subscriptions WHERE app_id = $1",
    "DELETE FROM followers WHERE app_id = $1",
    "DELETE FROM conversation WHERE app_id = $1",
    "DELETE FROM broadcast_recipients WHERE outcome IS NULL
         AND broadcast_id IN (SELECT id FROM broadcasts WHERE app_id = $1 AND NOT done)",
    "UPDATE broadcasts SET done = TRUE WHERE app_id = $1",
    "DELETE FROM login_codes WHERE app_id = $1",
    "DELETE FROM app_secrets WHERE app_id = $1",
    "DELETE FROM app_settings WHERE app_id = $1",
];

/// A package's assets section, empty when it has none.
const ASSETS_OF: &str =
    "COALESCE((SELECT assets FROM package_assets a WHERE a.app_id = packages.app_id), ''::BYTEA)";

/// The columns of a package without its component.
const INFO_COLUMNS: &str =
    "app_id, version, publisher_id, manifest, component_sha256, signature, installed_at_ms";

fn info_row(r: &Row) -> PackageRecord {
    PackageRecord {
        app_id: r.get(0),
        version: r.get(1),
        publisher_id: r.get(2),
        manifest: r.get(3),
        component: Vec::new(),
        assets: Vec::new(),
        component_sha256: r.get(4),
        signature: r.get(5),
        installed_at_ms: r.get(6),
    }
}

impl PackageStore for PostgresStore {
    fn put_package(&self, r: &PackageRecord) -> StoreResult<()> {
        transaction!(
            self,
            "save the package",
            IsolationLevel::Serializable,
            |tx| {
                tx.exec(
                "INSERT INTO packages
                 (app_id, version, publisher_id, manifest, component, component_sha256, signature, installed_at_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 ON CONFLICT (app_id) DO UPDATE SET version = excluded.version,
                     publisher_id = excluded.publisher_id, manifest = excluded.manifest,
                     component = excluded.component, component_sha256 = excluded.component_sha256,
                     signature = excluded.signature, installed_at_ms = excluded.installed_at_ms",
                &[
                    &r.app_id,
                    &r.version,
                    &r.publisher_id,
                    &r.manifest,
                    &r.component,
                    &r.component_sha256,
                    &r.signature,
                    &r.installed_at_ms,
                ],
            )
            .await?;
                tx.exec("DELETE FROM package_assets WHERE app_id = $1", &[&r.app_id])
                    .await?;
                if !r.assets.is_empty() {
                    tx.exec(
                        "INSERT INTO package_assets (app_id, assets) VALUES ($1, $2)",
                        &[&r.app_id, &r.assets],
                    )
                    .await?;
                }
                claim_app_id(tx, &r.app_id, &r.publisher_id, r.installed_at_ms).await
            }
        )
    }

    fn get_package(&self, app_id: &str) -> StoreResult<Option<PackageRecord>> {
        read!(self, "read the package", |c| {
            let row = c
                .opt(
                    &format!(
                        "SELECT app_id, version, publisher_id, manifest, component, component_sha256,
                             signature, installed_at_ms, {ASSETS_OF}
                         FROM packages WHERE app_id = $1"
                    ),
                    &[&app_id],
                )
                .await?;
            Ok(row.map(|r| PackageRecord {
                app_id: r.get(0),
                version: r.get(1),
                publisher_id: r.get(2),
                manifest: r.get(3),
                component: r.get(4),
                assets: r.get(8),
                component_sha256: r.get(5),
                signature: r.get(6),
                installed_at_ms: r.get(7),
            }))
        })
    }

    fn package_info(&self, app_id: &str) -> StoreResult<Option<PackageRecord>> {
        read!(self, "read the package", |c| {
            Ok(c.opt(
                &format!("SELECT {INFO_COLUMNS} FROM packages WHERE app_id = $1"),
                &[&app_id],
            )
            .await?
            .as_ref()
            .map(info_row))
        })
    }

    fn package_assets(&self, app_id: &str) -> StoreResult<Option<Vec<u8>>> {
        read!(self, "read the package's assets", |c| {
            Ok(c.opt(
                &format!("SELECT {ASSETS_OF} FROM packages WHERE app_id = $1"),
                &[&app_id],
            )
            .await?
            .map(|r| r.get(0)))
        })
    }

    fn list_packages(&self) -> StoreResult<Vec<PackageRecord>> {
        read!(self, "list packages", |c| {
            Ok(c.rows(
                &format!("SELECT {INFO_COLUMNS} FROM packages ORDER BY app_id"),
                &[],
            )
            .await?
            .iter()
            .map(info_row)
            .collect())
        })
    }

    fn delete_package(&self, app_id: &str) -> StoreResult<bool> {
        transaction!(
            self,
            "remove the package",
            IsolationLevel::ReadCommitted,
            |tx| {
                let n = tx
                    .exec("DELETE FROM packages WHERE app_id = $1", &[&app_id])
                    .await?;
                tx.exec("DELETE FROM package_assets WHERE app_id = $1", &[&app_id])
                    .await?;
                Ok(n > 0)
            }
        )
    }

    fn app_id_owner(&self, app_id: &str) -> StoreResult<Option<AppIdRecord>> {
        read!(self, "read the owner of an app id", |c| owner_in(c, app_id)
            .await)
    }

    fn release_app_id(&self, app_id: &str) -> StoreResult<ReleaseResult> {
        transaction!(
            self,
            "release an app id",
            IsolationLevel::Serializable,
            |tx| {
                let installed: bool = tx
                    .one(
                        "SELECT EXISTS (SELECT 1 FROM packages WHERE app_id = $1)",
                        &[&app_id],
                    )
                    .await?
                    .get(0);
                if installed {
                    return Ok(ReleaseResult::Installed);
                }
                let Some(owner) = owner_in(tx, app_id).await? else {
                    return Ok(ReleaseResult::Unknown);
                };
                for sql in ERASED_AT_RELEASE {
                    tx.exec(sql, &[&app_id]).await?;
                }
                let generation = owner.generation + 1;
                tx.exec(
                    "UPDATE app_ids SET publisher_id = NULL, generation = $2 WHERE app_id = $1",
                    &[&app_id, &i64::from(generation)],
                )
                .await?;
                Ok(ReleaseResult::Released {
                    previous_owner: owner.publisher_id,
                    generation,
                })
            }
        )
    }
}

async fn owner_in(c: &impl Db, app_id: &str) -> PgResult<Option<AppIdRecord>> {
    Ok(c.opt(
        "SELECT publisher_id, generation, claimed_at_ms FROM app_ids WHERE app_id = $1",
        &[&app_id],
    )
    .await?
    .map(|r| AppIdRecord {
        app_id: app_id.to_string(),
        publisher_id: r.get(0),
        generation: r.get::<_, i64>(1) as u32,
        claimed_at_ms: r.get(2),
    }))
}

/// Claims `app_id` for `publisher` if nobody owns it (never installed, or
/// released); fails if another publisher does.
async fn claim_app_id(c: &impl Db, app_id: &str, publisher: &str, at_ms: i64) -> PgResult<()> {
    c.exec(
        "INSERT INTO app_ids (app_id, publisher_id, generation, claimed_at_ms) VALUES ($1, $2, 0, $3)
         ON CONFLICT (app_id) DO UPDATE SET publisher_id = excluded.publisher_id,
             claimed_at_ms = excluded.claimed_at_ms
         WHERE app_ids.publisher_id IS NULL",
        &[&app_id, &publisher, &at_ms],
    )
    .await?;
    match owner_in(c, app_id).await?.and_then(|o| o.publisher_id) {
        Some(owner) if owner == publisher => Ok(()),
        owner => Err(PgError::Store(StoreError::Database {
            operation: "claim the app id",
            message: format!(
                "{app_id} belongs to publisher {}",
                owner.as_deref().unwrap_or("(nobody)")
            ),
        })),
    }
}
