//! (issue 21) Mini-apps in other languages: for each package given
//! (`plaza bench --only languages --package FILE ...`, built by
//! `scripts/bench-languages.sh` from the basic template in Rust, JavaScript,
//! TypeScript and Python), the install that compiles, the compiled code's
//! size, the refusal of the same component under a manifest that declares no
//! capability (refused before any compilation), and the resident memory per
//! live session.

use crate::report::{Row, Unit};
use crate::setup;
use crate::stats::Stats;
use anyhow::{Context, Result};
use plaza_host::package::Package;
use plaza_host::sandbox::SandboxLimits;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The rows of every package in `packages`, `sessions` live sessions each.
pub async fn rows(packages: &[PathBuf], sessions: u32, tmp: &Path) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for (i, path) in packages.iter().enumerate() {
        let package = Package::read_file(path)
            .with_context(|| format!("reading the package {}", path.display()))?;
        let dir = tmp.join(format!("language-{i}"));
        std::fs::create_dir_all(&dir)?;
        rows.extend(one(&package, sessions, &dir).await?);
    }
    Ok(rows)
}

/// The pool of the live-session measurement: `n` sessions (plus a few) of
/// up to 32 MiB each (a Python component starts with 12.3 MiB of memory).
fn limits(n: u32) -> SandboxLimits {
    SandboxLimits {
        max_live_sessions: n + 8,
        memory_bytes: 32 * 1024 * 1024,
        ..SandboxLimits::default()
    }
}

async fn one(package: &Package, sessions: u32, dir: &Path) -> Result<Vec<Row>> {
    let manifest = &package.manifest;
    let app = manifest.app.id.clone();
    let text = manifest.source.clone();
    let component = package.component.clone();
    let cache = dir.join("cache");
    let name = |what: &str| format!("lang.{what}.{app}");

    // Refused: the same component under a manifest without capabilities.
    let refused_dir = dir.join("refused");
    std::fs::create_dir_all(&refused_dir)?;
    let bare_manifest = text
        .split_once("\n[capabilities")
        .map(|(head, _)| head.to_string())
        .unwrap_or_else(|| text.clone());
    let host = setup::plaza_host(&refused_dir, Some(refused_dir.join("cache")), limits(1))?;
    let refused = setup::sign_for(&host, &app, &bare_manifest, component.clone())?;
    let start = Instant::now();
    let outcome = host.install(refused).await;
    let refused_time = start.elapsed();
    anyhow::ensure!(outcome.is_err(), "{app} without capabilities installed");
    anyhow::ensure!(
        host.cache_stats().compiled == 0,
        "a refused {app} was compiled"
    );

    // Installed: compiled into an empty cache.
    let host = setup::plaza_host(dir, Some(cache.clone()), limits(sessions))?;
    let signed = setup::sign_for(&host, &app, &text, component.clone())?;
    let start = Instant::now();
    host.install(signed).await?;
    let install_time = start.elapsed();
    let compiled = dir_size(&cache);

    // Live sessions: launched, then the resident memory they add.
    let warm = host.session("warm-up", &app)?;
    warm.launch("/").await?;
    let before = crate::suite::resident_bytes()?;
    let mut live = Vec::new();
    for i in 0..sessions {
        let s = host.session(&format!("user-{i}"), &app)?;
        s.launch("/").await?;
        live.push(s);
    }
    let after = crate::suite::resident_bytes()?;
    let per = after.saturating_sub(before) as f64 / f64::from(sessions.max(1));
    let size = component.len() as f64 / 1048576.0;
    Ok(vec![
        Row::new(
            &name("install"),
            &format!("install of {app} ({size:.1} MiB component), compiling"),
            Unit::Ns,
            Stats::of_durations(&[install_time]),
        ),
        Row::new(
            &name("compiled"),
            &format!("compiled code of {app} in the cache"),
            Unit::Bytes,
            Stats::single(compiled as f64),
        ),
        Row::new(
            &name("refused"),
            &format!("install of {app} refused for an undeclared import (nothing compiled)"),
            Unit::Ns,
            Stats::of_durations(&[refused_time]),
        ),
        Row::new(
            &name("session-memory"),
            &format!("resident memory per live {app} session"),
            Unit::Bytes,
            Stats::single(per),
        )
        .note(format!(
            "{sessions} sessions launched: VmRSS {:.1} MiB before, {:.1} MiB after",
            before as f64 / 1048576.0,
            after as f64 / 1048576.0
        )),
    ])
}

/// The bytes of the files under `dir`.
fn dir_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| {
            let path = e.path();
            if path.is_dir() {
                dir_size(&path)
            } else {
                e.metadata().map(|m| m.len()).unwrap_or(0)
            }
        })
        .sum()
}
