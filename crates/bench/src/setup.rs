//! The hosts the suite measures: Plaza with signed packages of a registered
//! publisher (developer mode off), and the bare host, on the same guests.

use anyhow::{Context, Result};
use plaza_host::manifest::Manifest;
use plaza_host::package::{Package, PublisherKey};
use plaza_host::sandbox::SandboxLimits;
use plaza_host::store::{PublisherRecord, SqliteStore};
use plaza_host::{Host, HostConfig};
use plaza_test_programs::Fixture;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The limits of the hosts measured for per-event figures (Plaza's
/// defaults).
pub fn limits() -> SandboxLimits {
    SandboxLimits::default()
}

fn config(cache: Option<PathBuf>, limits: SandboxLimits) -> HostConfig {
    HostConfig::default()
        .cache_dir(cache)
        .limits(limits)
        .developer_mode(false)
}

/// A Plaza host on the default store (a SQLite file, WAL) in `dir`, with the
/// compiled-component cache at `cache` (or none).
pub fn plaza_host(dir: &Path, cache: Option<PathBuf>, limits: SandboxLimits) -> Result<Host> {
    Host::open(&dir.join("plaza.db"), config(cache, limits)).context("opening a Plaza host")
}

/// A Plaza host whose SQLite store is in memory: no file, no fsync. Not a
/// deployment (nothing survives); it splits an event's cost into what
/// durability costs and what the rest of the host costs.
pub fn plaza_in_memory(cache: Option<PathBuf>, limits: SandboxLimits) -> Result<Host> {
    let store = Arc::new(SqliteStore::open_in_memory()?);
    Host::with_store(store, config(cache, limits)).context("opening a Plaza host in memory")
}

/// Registers `f`'s publisher (verified, with a fresh key) in `host`'s
/// registry and returns `f`'s package signed with that key.
pub fn signed_package(host: &Host, f: &Fixture) -> Result<Package> {
    sign_for(host, f.name, &f.manifest_text(), f.component_bytes())
}

/// Registers the publisher of the manifest `text` (verified, with a fresh
/// key) in `host`'s registry and returns the package of `text` and
/// `component` signed with that key.
pub fn sign_for(host: &Host, name: &str, text: &str, component: Vec<u8>) -> Result<Package> {
    let manifest = Manifest::parse(name, text)?;
    let key = PublisherKey::generate()?;
    host.add_publisher(PublisherRecord {
        id: manifest.publisher.id.clone(),
        name: manifest.publisher.name.clone(),
        category: manifest.publisher.category,
        verified: true,
        public_key: key.public_key_hex(),
        added_at_ms: 0,
    })?;
    let mut package = Package::new(text, component)?;
    package.sign(&key)?;
    Ok(package)
}

/// A Plaza host with `fixtures` installed from signed packages.
pub async fn plaza_with(
    dir: &Path,
    cache: Option<PathBuf>,
    limits: SandboxLimits,
    fixtures: &[Fixture],
) -> Result<Host> {
    install_signed(plaza_host(dir, cache, limits)?, fixtures).await
}

/// `host` with `fixtures` installed from signed packages.
pub async fn install_signed(host: Host, fixtures: &[Fixture]) -> Result<Host> {
    for f in fixtures {
        let package = signed_package(&host, f)?;
        let report = host.install(package).await?;
        anyhow::ensure!(report.signed, "{} installed unsigned", f.name);
    }
    Ok(host)
}

/// The mini-app id in `f`'s manifest.
pub fn app_id(f: &Fixture) -> Result<String> {
    Ok(Manifest::parse(f.name, &f.manifest_text())?.app.id.clone())
}
