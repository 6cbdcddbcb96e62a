//! `--only many-apps`: a node over a store with many installed mini-apps
//! (1,000 in a full run): how long the host takes to open and what memory
//! opening costs (no mini-app loads then), what a mini-app's first use
//! costs (loaded from the compiled-component cache and linked) beside a new
//! session of a loaded one, and the memory of using them all, with the
//! default cap on loaded code and with a small one.

use crate::report::{Row, Unit};
use crate::setup;
use crate::stats::Stats;
use crate::suite::{Sizes, resident_bytes};
use anyhow::{Result, ensure};
use plaza_host::manifest::Manifest;
use plaza_host::package::{Package, PublisherKey};
use plaza_host::store::PublisherRecord;
use plaza_host::{Host, HostConfig};
use plaza_test_programs::BENCH_APP;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The cap of the capped run: a few dozen bench-apps' code.
const SMALL_CAP: u64 = 16 * 1024 * 1024;

fn app(i: usize) -> String {
    format!("test.plaza.many-{i:04}")
}

fn config(cache: &Path, cap: u64) -> HostConfig {
    HostConfig::default()
        .cache_dir(Some(cache.to_path_buf()))
        .limits(setup::limits())
        .max_loaded_code_bytes(cap)
}

/// Installs `n` signed copies of the bench-app, each under its own id, into
/// the store at `store`.
async fn fill(store: &Path, cache: &Path, n: usize) -> Result<()> {
    let host = Host::open(
        store,
        config(cache, plaza_host::DEFAULT_MAX_LOADED_CODE_BYTES),
    )?;
    let text = BENCH_APP.manifest_text();
    let manifest = Manifest::parse(BENCH_APP.name, &text)?;
    let key = PublisherKey::generate()?;
    host.add_publisher(PublisherRecord {
        id: manifest.publisher.id.clone(),
        name: manifest.publisher.name.clone(),
        category: manifest.publisher.category,
        verified: true,
        public_key: key.public_key_hex(),
        added_at_ms: 0,
    })?;
    let component = BENCH_APP.component_bytes();
    for i in 0..n {
        let text = text.replacen(
            &format!("id = \"{}\"", manifest.app.id),
            &format!("id = \"{}\"", app(i)),
            1,
        );
        let mut package = Package::new(&text, component.clone())?;
        package.sign(&key)?;
        host.install(package).await?;
    }
    Ok(())
}

/// A new session of `app`: its launch page, then closed.
async fn first_page(host: &Host, user: &str, app: &str) -> Result<Duration> {
    let start = Instant::now();
    let session = host.session(user, app)?;
    let page = session.launch("/").await?;
    let took = start.elapsed();
    ensure!(page.title == "Bench", "{app} answered {:?}", page.title);
    session.close().await;
    Ok(took)
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / 1048576.0
}

/// Uses every mini-app once, in turn, on a host opened with `cap`: the
/// resident memory it added, and the host's loaded totals after.
async fn use_all(
    store: &Path,
    cache: &Path,
    n: usize,
    cap: u64,
) -> Result<(u64, plaza_host::LoadedTotals)> {
    let host = Host::open(store, config(cache, cap))?;
    let before = resident_bytes()?;
    for i in 0..n {
        first_page(&host, "walker", &app(i)).await?;
    }
    let after = resident_bytes()?;
    Ok((after.saturating_sub(before), host.loaded_totals()))
}

pub(crate) async fn rows(sizes: &Sizes, tmp: &Path, cache: &Path) -> Result<Vec<Row>> {
    let n = sizes.many_apps;
    let dir = tmp.join("many-apps");
    std::fs::create_dir_all(&dir)?;
    let store: PathBuf = dir.join("plaza.db");
    let filling = Instant::now();
    fill(&store, cache, n).await?;
    let fill_time = filling.elapsed();

    // Opening: time and memory; nothing is loaded.
    let mut opens = Vec::new();
    let mut open_memory = 0;
    for round in 0..sizes.many_app_opens {
        let before = resident_bytes()?;
        let start = Instant::now();
        let host = Host::open(
            &store,
            config(cache, plaza_host::DEFAULT_MAX_LOADED_CODE_BYTES),
        )?;
        opens.push(start.elapsed());
        if round == 0 {
            open_memory = resident_bytes()?.saturating_sub(before);
        }
        ensure!(
            host.loaded_totals().apps == 0 && host.cache_stats().loaded_from_cache == 0,
            "opening the host loaded mini-apps"
        );
        ensure!(host.installed()?.len() == n, "not every mini-app installed");
    }

    // First use of a mini-app (loaded from the cache, linked, instantiated,
    // its launch page) beside a new session of one already loaded.
    let host = Host::open(
        &store,
        config(cache, plaza_host::DEFAULT_MAX_LOADED_CODE_BYTES),
    )?;
    let mut first = Vec::new();
    let mut warm = Vec::new();
    for i in 0..sizes.first_uses.min(n) {
        first.push(first_page(&host, "first", &app(i)).await?);
        warm.push(first_page(&host, "second", &app(i)).await?);
    }
    let one_app = host
        .loaded_apps()
        .first()
        .map(|a| a.code_bytes)
        .unwrap_or(0);
    drop(host);

    // Every mini-app used once: with a small cap, then with the default.
    let (capped_memory, capped) = use_all(&store, cache, n, SMALL_CAP).await?;
    let (all_memory, all) =
        use_all(&store, cache, n, plaza_host::DEFAULT_MAX_LOADED_CODE_BYTES).await?;

    let open = Stats::of_durations(&opens);
    Ok(vec![
        Row::new(
            "many-apps.open",
            &format!("open a host over {n} installed mini-apps (none loaded)"),
            Unit::Ns,
            open,
        )
        .target("< 1 s", open.p50 < 1e9)
        .note(format!(
            "installing the {n} signed packages took {:.1} s",
            fill_time.as_secs_f64()
        )),
        Row::new(
            "many-apps.open-memory",
            &format!("resident memory a host over {n} mini-apps takes at open"),
            Unit::Bytes,
            Stats::single(open_memory as f64),
        ),
        Row::new(
            "many-apps.first-use",
            "a mini-app's first session: load (compiled cache) + link + launch",
            Unit::Ns,
            Stats::of_durations(&first),
        ),
        Row::new(
            "many-apps.warm-session",
            "a new session of a loaded mini-app: launch",
            Unit::Ns,
            Stats::of_durations(&warm),
        ),
        Row::new(
            "many-apps.all-used",
            &format!("resident memory after using all {n}, default cap (512 MiB)"),
            Unit::Bytes,
            Stats::single(all_memory as f64),
        )
        .note(format!(
            "{} loaded, {:.1} MiB of compiled code ({:.0} KiB each), {} unloaded",
            all.apps,
            mib(all.code_bytes),
            one_app as f64 / 1024.0,
            all.unloads
        )),
        Row::new(
            "many-apps.capped",
            &format!(
                "resident memory after using all {n}, cap {} MiB",
                SMALL_CAP / 1048576
            ),
            Unit::Bytes,
            Stats::single(capped_memory as f64),
        )
        .note(format!(
            "{} loaded at the end, {:.1} MiB of compiled code, {} unloaded on the way",
            capped.apps,
            mib(capped.code_bytes),
            capped.unloads
        )),
    ])
}
