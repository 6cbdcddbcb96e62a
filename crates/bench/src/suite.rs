//! The measurements, in the order of issue 8.

use crate::bare::BareHost;
use crate::report::{Machine, Report, Row, Unit};
use crate::setup;
use crate::stats::Stats;
use anyhow::{Context, Result, bail};
use plaza_host::keys::HostKeys;
use plaza_host::ledger::LineItem;
use plaza_host::sandbox::SandboxLimits;
use plaza_host::store::{InsuranceTerms, LedgerStore, PayCommand, PayResult, SqliteStore};
use plaza_host::{Page, Session};
use plaza_test_programs::{BENCH_APP, HOSPITAL, HTTP_PROBE};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// The groups `--only` selects.
pub const GROUPS: &[&str] = &[
    "install",
    "session",
    "event",
    "call",
    "sessions",
    "payments",
    "extism",
    "leakers",
    "languages",
    "many-apps",
];

/// The host calls a `calls:<n>` tap of the bench-app makes.
pub const CALLS: u32 = 1000;

/// What to run.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Shrink every size so the suite runs in seconds (a smoke test).
    pub quick: bool,
    /// Only these groups ([`GROUPS`]); all when empty.
    pub only: Vec<String>,
    /// The Extism peer's binary (default: `bench/extism-peer/target/release/extism-peer`
    /// if it exists).
    pub extism: Option<PathBuf>,
    /// Packages of mini-apps in other languages, for the `languages` group.
    pub packages: Vec<PathBuf>,
}

/// How many samples of each figure.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    /// Installs that compile.
    pub compiles: usize,
    /// Installs from the compiled cache.
    pub cached_installs: usize,
    /// New sessions (and bare new instances).
    pub sessions: usize,
    /// Event round trips (each side).
    pub events: usize,
    /// Pairs of `calls:0` / `calls:1000` taps (each side).
    pub call_pairs: usize,
    /// Concurrent live sessions of the hospital.
    pub live_sessions: u32,
    /// Rounds of one event per live session.
    pub live_rounds: usize,
    /// Payments per round, and rounds, for each number of payers.
    pub payments: usize,
    /// Rounds of payments.
    pub payment_rounds: usize,
    /// Live sessions that each hold as much host memory as their caps allow.
    pub leakers: u32,
    /// Mini-apps installed in the store of the `many-apps` group.
    pub many_apps: usize,
    /// Opens of that store measured.
    pub many_app_opens: usize,
    /// Mini-apps whose first use is measured.
    pub first_uses: usize,
}

impl Sizes {
    /// The sizes of a full or a `--quick` run.
    pub fn new(quick: bool) -> Sizes {
        if quick {
            Sizes {
                compiles: 1,
                cached_installs: 3,
                sessions: 20,
                events: 200,
                call_pairs: 10,
                live_sessions: 100,
                live_rounds: 1,
                payments: 64,
                payment_rounds: 1,
                leakers: 2,
                many_apps: 50,
                many_app_opens: 3,
                first_uses: 10,
            }
        } else {
            Sizes {
                compiles: 5,
                cached_installs: 40,
                sessions: 500,
                events: 5_000,
                call_pairs: 300,
                live_sessions: 10_000,
                live_rounds: 3,
                payments: 640,
                payment_rounds: 5,
                leakers: 8,
                many_apps: 1_000,
                many_app_opens: 10,
                first_uses: 200,
            }
        }
    }
}

/// Runs the suite. Call it inside a multi-threaded Tokio runtime (the live
/// sessions' events run across its workers).
pub async fn run(options: &Options) -> Result<Report> {
    for g in &options.only {
        if !GROUPS.contains(&g.as_str()) {
            bail!("unknown group `{g}`: the groups are {}", GROUPS.join(", "));
        }
    }
    let wants = |g: &str| options.only.is_empty() || options.only.iter().any(|o| o == g);
    let sizes = Sizes::new(options.quick);
    let machine = Machine::probe();
    let mut rows = Vec::new();
    let tmp = tempfile::tempdir()?;
    let cache = tmp.path().join("cache");

    if wants("install") {
        rows.extend(install(&sizes, tmp.path(), &cache).await?);
    }
    if wants("session") {
        rows.extend(new_session(&sizes, tmp.path(), &cache).await?);
    }
    if wants("event") || wants("call") {
        rows.extend(
            events_and_calls(&sizes, tmp.path(), &cache, wants("event"), wants("call")).await?,
        );
    }
    if wants("sessions") {
        rows.extend(live_sessions(&sizes, tmp.path(), &cache).await?);
    }
    if wants("payments") {
        let dir = tmp.path().to_path_buf();
        rows.extend(tokio::task::spawn_blocking(move || payments(&sizes, &dir)).await??);
    }
    if wants("leakers") {
        rows.extend(leakers(&sizes, tmp.path(), &cache).await?);
    }
    if wants("many-apps") {
        rows.extend(crate::many_apps::rows(&sizes, tmp.path(), &cache).await?);
    }
    if wants("languages") && !options.packages.is_empty() {
        let sessions = if options.quick { 5 } else { 100 };
        rows.extend(crate::languages::rows(&options.packages, sessions, tmp.path()).await?);
    }
    if wants("extism") {
        let binary = options.extism.clone();
        rows.extend(
            tokio::task::spawn_blocking(move || crate::extism::rows(binary.as_deref())).await?,
        );
    }
    let mut report = Report {
        machine,
        quick: options.quick,
        rows,
    };
    report.compute_ratios();
    for row in &mut report.rows {
        let target = match row.name.as_str() {
            "event" => Some(("≤ 1.25x bare", 1.25)),
            "call" => Some(("≤ 2x bare", 2.0)),
            "session" => Some(("≤ 1.5x bare", 1.5)),
            _ => None,
        };
        if let (Some((t, max)), Some(r)) = (target, row.ratio) {
            row.target = Some(t.into());
            row.meets = Some(r <= max);
        }
    }
    report.machine.load_after = std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .trim()
        .to_string();
    Ok(report)
}

/// (1) Install of the hospital package, signed by its registered publisher,
/// developer mode off: with no compiled cache, and from it. Each sample is
/// a fresh host (opening it is not timed).
async fn install(
    sizes: &Sizes,
    tmp: &std::path::Path,
    cache: &std::path::Path,
) -> Result<Vec<Row>> {
    let mut compile = Vec::new();
    let mut cached = Vec::new();
    for i in 0..sizes.compiles + sizes.cached_installs + 1 {
        let dir = tmp.join(format!("install-{i}"));
        std::fs::create_dir_all(&dir)?;
        let compiling = i < sizes.compiles;
        let host = setup::plaza_host(
            &dir,
            Some(if compiling {
                dir.join("no-cache")
            } else {
                cache.to_path_buf()
            }),
            setup::limits(),
        )?;
        let package = setup::signed_package(&host, &HOSPITAL)?;
        let start = Instant::now();
        let report = host.install(package).await?;
        let took = start.elapsed();
        anyhow::ensure!(report.signed, "the hospital installed unsigned");
        let stats = host.cache_stats();
        if compiling {
            anyhow::ensure!(
                stats.compiled == 1,
                "an install without cache did not compile"
            );
            compile.push(took);
        } else if stats.loaded_from_cache == 1 {
            cached.push(took);
        }
        // The first install into the shared cache compiles and fills it.
    }
    let cached = Stats::of_durations(&cached);
    Ok(vec![
        Row::new(
            "install.compile",
            "install hospital, no cache (verify, compile, check, store)",
            Unit::Ns,
            Stats::of_durations(&compile),
        ),
        Row::new(
            "install.cached",
            "install hospital from the compiled cache (signature, manifest checks)",
            Unit::Ns,
            cached,
        )
        .target("< 5 ms", cached.p50 < 5e6),
    ])
}

/// (2) A new session: a session handle, instantiation and the launch page
/// of the hospital; the bare host's new store, instance and first event on
/// the same component. Interleaved, so drift hits both sides alike.
async fn new_session(
    sizes: &Sizes,
    tmp: &std::path::Path,
    cache: &std::path::Path,
) -> Result<Vec<Row>> {
    let dir = tmp.join("session");
    std::fs::create_dir_all(&dir)?;
    let host = setup::plaza_with(
        &dir,
        Some(cache.to_path_buf()),
        setup::limits(),
        &[HOSPITAL],
    )
    .await?;
    let app = setup::app_id(&HOSPITAL)?;
    let bare = BareHost::new(&setup::limits(), &HOSPITAL.component_bytes())?;
    let mut plaza = Vec::new();
    let mut floor = Vec::new();
    for i in 0..sizes.sessions + 5 {
        let user = format!("user-{i}");
        let start = Instant::now();
        let session = host.session(&user, &app)?;
        let page = session.launch("/").await?;
        let took = start.elapsed();
        check_title(&page, "Hangzhou Maternity Hospital")?;
        session.close().await;

        let start = Instant::now();
        let mut instance = bare.instance().await?;
        let page = instance.launch("/").await?;
        let bare_took = start.elapsed();
        check_title(&page, "Hangzhou Maternity Hospital")?;
        drop(instance);
        if i >= 5 {
            plaza.push(took);
            floor.push(bare_took);
        }
    }
    let mut row = Row::new(
        "session",
        "new session: instantiate + launch page (hospital)",
        Unit::Ns,
        Stats::of_durations(&plaza),
    );
    row.ratio_to = Some("bare.session".into());
    Ok(vec![
        row,
        Row::new(
            "bare.session",
            "bare host: new store + instance + launch (hospital)",
            Unit::Ns,
            Stats::of_durations(&floor),
        ),
    ])
}

fn check_title(page: &Page, title: &str) -> Result<()> {
    if page.title != title {
        bail!("expected the page {title:?}, got {:?}", page.title);
    }
    Ok(())
}

/// (3) and (4), with (7)'s bare host: the bench-app's `work` tap (two
/// storage calls, a page of 20 blocks), and the per-call cost from
/// `calls:1000` minus `calls:0`, on Plaza and on the bare host, interleaved.
async fn events_and_calls(
    sizes: &Sizes,
    tmp: &std::path::Path,
    cache: &std::path::Path,
    event: bool,
    call: bool,
) -> Result<Vec<Row>> {
    let dir = tmp.join("events");
    std::fs::create_dir_all(&dir)?;
    let host = setup::plaza_with(
        &dir,
        Some(cache.to_path_buf()),
        setup::limits(),
        &[BENCH_APP],
    )
    .await?;
    let session = host.session("bench-user", &setup::app_id(&BENCH_APP)?)?;
    check_title(&session.launch("/").await?, "Bench")?;
    let memory_host = setup::install_signed(
        setup::plaza_in_memory(Some(cache.to_path_buf()), setup::limits())?,
        &[BENCH_APP],
    )
    .await?;
    let memory_session = memory_host.session("bench-user", &setup::app_id(&BENCH_APP)?)?;
    check_title(&memory_session.launch("/").await?, "Bench")?;
    let bare = BareHost::new(&setup::limits(), &BENCH_APP.component_bytes())?;
    let mut instance = bare.instance().await?;
    check_title(&instance.launch("/").await?, "Bench")?;
    // The bare host with its storage in Plaza's store, a SQLite file of its
    // own: the floor of a host that keeps the data as durably as Plaza does.
    let bare_store_dir = tmp.join("bare-store");
    std::fs::create_dir_all(&bare_store_dir)?;
    let bare_store = Arc::new(SqliteStore::open(&bare_store_dir.join("plaza.db"))?);
    let mut stored_instance = bare.instance_on(bare_store).await?;
    check_title(&stored_instance.launch("/").await?, "Bench")?;
    let mut rows = Vec::new();

    if event {
        for _ in 0..100 {
            session.tap("work").await?;
            memory_session.tap("work").await?;
            instance.tap("work").await?;
            stored_instance.tap("work").await?;
        }
        let mut plaza = Vec::with_capacity(sizes.events);
        let mut in_memory = Vec::with_capacity(sizes.events);
        let mut floor = Vec::with_capacity(sizes.events);
        let mut store_floor = Vec::with_capacity(sizes.events);
        for _ in 0..sizes.events {
            let start = Instant::now();
            let page = session.tap("work").await?;
            plaza.push(start.elapsed());
            debug_assert_eq!(page.blocks.len(), 20);
            let start = Instant::now();
            let page = memory_session.tap("work").await?;
            in_memory.push(start.elapsed());
            debug_assert_eq!(page.blocks.len(), 20);
            let start = Instant::now();
            let page = instance.tap("work").await?;
            floor.push(start.elapsed());
            debug_assert_eq!(page.blocks.len(), 20);
            let start = Instant::now();
            let page = stored_instance.tap("work").await?;
            store_floor.push(start.elapsed());
            debug_assert_eq!(page.blocks.len(), 20);
        }
        let page = session.tap("work").await?;
        anyhow::ensure!(
            page.blocks.len() == 20,
            "the work page has {} blocks",
            page.blocks.len()
        );
        let mut row = Row::new(
            "event",
            "event round trip: tap, storage get + set, page of 20 blocks",
            Unit::Ns,
            Stats::of_durations(&plaza),
        );
        row.ratio_to = Some("bare.event".into());
        rows.push(row);
        let mut row = Row::new(
            "event.in-memory",
            "the same event, Plaza on an in-memory SQLite store (no fsync)",
            Unit::Ns,
            Stats::of_durations(&in_memory),
        )
        .note("a diagnostic, not a deployment: what the event costs beyond durability");
        row.ratio_to = Some("bare.event".into());
        rows.push(row);
        rows.push(Row::new(
            "bare.event",
            "bare host: the same event",
            Unit::Ns,
            Stats::of_durations(&floor),
        ));
        // The same taps from a task on a Tokio worker thread, where an app
        // server embedding Plaza makes them (the loop above runs on the
        // thread that called `block_on`).
        let worker_session = session.clone();
        let events = sizes.events;
        let on_worker = tokio::spawn(async move {
            let mut took = Vec::with_capacity(events);
            for _ in 0..events {
                let start = Instant::now();
                worker_session.tap("work").await?;
                took.push(start.elapsed());
            }
            anyhow::Ok(took)
        })
        .await??;
        let mut row = Row::new(
            "event.worker",
            "the same event, tapped from a task on a Tokio worker thread",
            Unit::Ns,
            Stats::of_durations(&on_worker),
        );
        row.ratio_to = Some("bare.event".into());
        rows.push(row);
        let store_floor = Stats::of_durations(&store_floor);
        let over = Stats::of_durations(&plaza).p50 / store_floor.p50;
        rows.push(
            Row::new(
                "bare.event.store",
                "bare host, storage in Plaza's SQLite store (a file): the same event",
                Unit::Ns,
                store_floor,
            )
            .note(format!(
                "the floor with the same durable writes; Plaza's event is {over:.2}x this"
            )),
        );
    }

    if call {
        let (plaza, plaza_base) = per_call(sizes, async |action: &str| {
            session.tap(action).await?;
            Ok(())
        })
        .await?;
        let (floor, floor_base) = per_call(sizes, async |action: &str| {
            instance.tap(action).await?;
            Ok(())
        })
        .await?;
        let note = |base: f64| {
            format!(
                "(tap calls:{CALLS} - median tap calls:0 [{}]) / {CALLS}",
                crate::report::fmt(Unit::Ns, base)
            )
        };
        let mut row = Row::new(
            "call",
            "no-op host call (clock::now, gate included)",
            Unit::Ns,
            plaza,
        )
        .note(note(plaza_base));
        row.ratio_to = Some("bare.call".into());
        rows.push(row);
        rows.push(
            Row::new("bare.call", "bare host: the same call", Unit::Ns, floor)
                .note(note(floor_base)),
        );
    }
    Ok(rows)
}

/// The per-call cost: each sample of a `calls:1000` tap minus the median of
/// the `calls:0` taps, over 1000. Returns it and the `calls:0` median.
async fn per_call(
    sizes: &Sizes,
    mut tap: impl AsyncFnMut(&str) -> Result<()>,
) -> Result<(Stats, f64)> {
    let many = format!("calls:{CALLS}");
    for _ in 0..10 {
        tap("calls:0").await?;
        tap(&many).await?;
    }
    let mut zero = Vec::new();
    let mut full = Vec::new();
    for _ in 0..sizes.call_pairs {
        let start = Instant::now();
        tap("calls:0").await?;
        zero.push(start.elapsed());
        let start = Instant::now();
        tap(&many).await?;
        full.push(start.elapsed());
    }
    let base = Stats::of_durations(&zero).p50;
    let per = Stats::of(
        full.iter()
            .map(|d| ((d.as_nanos() as f64 - base) / f64::from(CALLS)).max(0.0))
            .collect(),
    );
    Ok((per, base))
}

/// Resident memory of this process, in bytes (`VmRSS`).
pub(crate) fn resident_bytes() -> Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().strip_suffix("kB"))
        .and_then(|v| v.trim().parse().ok())
        .context("no VmRSS in /proc/self/status")?;
    Ok(kb * 1024)
}

/// The limits of the live-sessions measurement: a pool of `n` sessions
/// (plus a few), 16 MiB of memory each (the hospital uses about 1 MiB).
pub fn live_limits(n: u32) -> SandboxLimits {
    SandboxLimits {
        max_live_sessions: n + 8,
        memory_bytes: 16 * 1024 * 1024,
        ..SandboxLimits::default()
    }
}

/// (5) `n` live sessions of the hospital at once: resident memory per
/// session, and events per second across them (every session taps in turn,
/// all sessions at once on the runtime's workers).
async fn live_sessions(
    sizes: &Sizes,
    tmp: &std::path::Path,
    cache: &std::path::Path,
) -> Result<Vec<Row>> {
    const MEM: &str = "resident memory per live hospital session";
    const RATE: &str = "events/s across the live sessions";
    let n = sizes.live_sessions;
    let dir = tmp.join("live");
    std::fs::create_dir_all(&dir)?;
    let limits = live_limits(n);
    let host = match setup::plaza_with(&dir, Some(cache.to_path_buf()), limits.clone(), &[HOSPITAL])
        .await
    {
        Ok(h) => h,
        Err(e) => {
            let why = format!("a host sized for {n} sessions ({limits:?}) failed: {e:#}");
            return Ok(vec![
                Row::missing("sessions.memory", MEM, Unit::Bytes, why.clone()),
                Row::missing("sessions.events", RATE, Unit::PerSecond, why),
            ]);
        }
    };
    let app = setup::app_id(&HOSPITAL)?;
    // One session first, so the first-use allocations are not counted.
    let warm = host.session("warm-up", &app)?;
    warm.launch("/").await?;
    warm.close().await;
    let before = resident_bytes()?;

    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let session = host.session(&format!("patient-{i}"), &app)?;
        tasks.spawn(async move { session.launch("/").await.map(|_| session) });
    }
    let mut sessions = Vec::with_capacity(n as usize);
    let mut failure = None;
    while let Some(joined) = tasks.join_next().await {
        match joined? {
            Ok(s) => sessions.push(s),
            Err(e) => failure = failure.or(Some(format!("{e}"))),
        }
    }
    let launch_time = start.elapsed();
    if let Some(e) = failure {
        let why = format!(
            "{} of {n} sessions started; the first failure: {e} (limits: {limits:?})",
            sessions.len()
        );
        return Ok(vec![
            Row::missing("sessions.memory", MEM, Unit::Bytes, why.clone()),
            Row::missing("sessions.events", RATE, Unit::PerSecond, why),
        ]);
    }
    let after_launch = resident_bytes()?;

    let mut rates = Vec::new();
    for _ in 0..sizes.live_rounds {
        let start = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for s in &sessions {
            let s: Session = s.clone();
            tasks.spawn(async move { browse(&s).await });
        }
        while let Some(joined) = tasks.join_next().await {
            joined??;
        }
        rates.push(f64::from(n) / start.elapsed().as_secs_f64());
    }
    let after = resident_bytes()?.max(after_launch);
    anyhow::ensure!(
        host.live_sessions().await >= n as usize,
        "sessions were evicted"
    );
    let per = after.saturating_sub(before) as f64 / f64::from(n);
    let total_10k = per * 10_000.0;
    let memory = Row::new(MEM, MEM, Unit::Bytes, Stats::single(per));
    let memory = Row {
        name: "sessions.memory".into(),
        ..memory
    }
    .target("x10,000 < 1 GiB", total_10k < 1024.0 * 1024.0 * 1024.0)
    .note(format!(
        "{n} sessions: VmRSS {:.1} MiB before, {:.1} MiB after launch, {:.1} MiB after {} event rounds; \
         x10,000 = {:.0} MiB; launching all took {:.2} s ({:.0} sessions/s); pool sized for {} sessions, {} MiB memory each",
        before as f64 / 1048576.0,
        after_launch as f64 / 1048576.0,
        after as f64 / 1048576.0,
        sizes.live_rounds,
        total_10k / 1048576.0,
        launch_time.as_secs_f64(),
        f64::from(n) / launch_time.as_secs_f64(),
        limits.max_live_sessions,
        limits.memory_bytes / 1048576,
    ));
    let rate = Row {
        name: "sessions.events".into(),
        ..Row::new(RATE, RATE, Unit::PerSecond, Stats::of(rates))
    }
    .note(format!(
        "each round: every one of the {n} sessions taps a department once (after a host-side back), all at once"
    ));
    Ok(vec![memory, rate])
}

/// (issue 16) `n` live sessions of the http-probe's handle leaker, each
/// holding 2,000 `wasi:http` fields of 15,000 bytes (just under the default
/// `max_resources` and `http_fields_bytes`): the host memory a session
/// holds outside its linear memory, at its caps (`docs/security.md`).
async fn leakers(
    sizes: &Sizes,
    tmp: &std::path::Path,
    cache: &std::path::Path,
) -> Result<Vec<Row>> {
    const WHAT: &str = "resident memory per session holding its caps of HTTP fields";
    let n = sizes.leakers;
    let dir = tmp.join("leakers");
    std::fs::create_dir_all(&dir)?;
    let limits = SandboxLimits {
        max_live_sessions: n + 2,
        ..SandboxLimits::default()
    };
    let host = setup::plaza_with(
        &dir,
        Some(cache.to_path_buf()),
        limits.clone(),
        &[HTTP_PROBE],
    )
    .await?;
    let app = setup::app_id(&HTTP_PROBE)?;
    let warm = host.session("warm-up", &app)?;
    warm.launch("/?leak=1").await?;
    warm.tap("leak-fields:1").await?;
    warm.close().await;
    let before = resident_bytes()?;
    let mut sessions = Vec::new();
    for i in 0..n {
        let s = host.session(&format!("leaker-{i}"), &app)?;
        s.launch("/?leak=500").await?;
        for _ in 0..4 {
            s.tap("leak-fields:500").await?;
        }
        sessions.push(s);
    }
    let after = resident_bytes()?;
    anyhow::ensure!(
        host.live_sessions().await >= n as usize,
        "leaking sessions ended"
    );
    let per = after.saturating_sub(before) as f64 / f64::from(n);
    let row = Row {
        name: "leakers.memory".into(),
        ..Row::new(WHAT, WHAT, Unit::Bytes, Stats::single(per))
    }
    .note(format!(
        "{n} sessions, each holding 2,000 fields of 15,000 bytes (max_resources {}, http_fields_bytes {}): VmRSS {:.1} MiB before, {:.1} MiB after",
        limits.max_resources,
        limits.http_fields_bytes,
        before as f64 / 1048576.0,
        after as f64 / 1048576.0,
    ));
    drop(sessions);
    Ok(vec![row])
}

/// One event of a live hospital session: back to the departments if
/// elsewhere (the host's page stack, no guest call), then a tap on the first
/// department (storage-free, a page pushed).
async fn browse(session: &Session) -> Result<()> {
    let mut page = session.current_page().await.context("no page")?;
    if !plaza_host::page::offered_actions(&page)
        .iter()
        .any(|a| a.starts_with("dept:"))
    {
        page = session.back().await?;
    }
    let action = plaza_host::page::offered_actions(&page)
        .into_iter()
        .find(|a| a.starts_with("dept:"))
        .context("the hospital's home page offers no department")?;
    session.tap(&action).await?;
    Ok(())
}

/// A payment like the hospital's consultation bill.
fn command(n: u64, payer: usize) -> PayCommand {
    PayCommand {
        tx_id: format!("tx-{n}"),
        app_id: "cn.hz.maternity".into(),
        generation: 0,
        publisher_id: "cn.hz.hospitals.maternity".into(),
        payee: "Hangzhou Maternity Hospital".into(),
        user: format!("user-{payer}"),
        order_id: format!("o-{n}"),
        amount: 17_500,
        currency: "CNY".into(),
        description: "Consultation bill".into(),
        items: vec![
            LineItem {
                name: "Consultation".into(),
                quantity: 1,
                unit_price: 5_000,
                insurance_eligible: true,
            },
            LineItem {
                name: "Ultrasound".into(),
                quantity: 1,
                unit_price: 12_000,
                insurance_eligible: true,
            },
            LineItem {
                name: "Booklet".into(),
                quantity: 1,
                unit_price: 500,
                insurance_eligible: false,
            },
        ],
        at_ms: n as i64,
        insurance: Some(InsuranceTerms {
            coverage_bp: 7_000,
            annual_cap: u64::MAX / 4,
            year: 2026,
        }),
    }
}

/// (6) Durable payments per second on the default store (a SQLite file, WAL,
/// as `Host::open` makes it), as `crates/host/benches/payments.rs` does
/// them: each a complete payment with insurance split and signed receipt,
/// committed; by 1, 8 and 64 payers at once (each payer a thread, as
/// sessions on the runtime's blocking pool would be).
fn payments(sizes: &Sizes, tmp: &std::path::Path) -> Result<Vec<Row>> {
    let store = SqliteStore::open(&tmp.join("payments.db"))?;
    let (journal, sync) = store.durability()?;
    let keys = HostKeys::load(&store)?;
    for u in 0..64 {
        store.top_up(
            &format!("topup-{u}"),
            &format!("user-{u}"),
            1_000_000_000_000,
            "CNY",
            0,
        )?;
    }
    let mut rows = Vec::new();
    let next = std::sync::atomic::AtomicU64::new(0);
    for payers in [1usize, 8, 64] {
        let mut rates = Vec::new();
        for _ in 0..sizes.payment_rounds {
            let per_payer = sizes.payments.div_ceil(payers);
            let start = Instant::now();
            std::thread::scope(|scope| -> Result<()> {
                let handles: Vec<_> = (0..payers)
                    .map(|p| {
                        let (store, keys, next) = (&store, &keys, &next);
                        scope.spawn(move || -> Result<()> {
                            for _ in 0..per_payer {
                                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                let r = store.pay(&command(n, p), &|m| keys.sign(m))?;
                                anyhow::ensure!(
                                    matches!(r, PayResult::Paid(_)),
                                    "payment {n} not paid"
                                );
                            }
                            Ok(())
                        })
                    })
                    .collect();
                for h in handles {
                    h.join()
                        .map_err(|_| anyhow::anyhow!("a payer panicked"))??;
                }
                Ok(())
            })?;
            rates.push((per_payer * payers) as f64 / start.elapsed().as_secs_f64());
        }
        let stats = Stats::of(rates);
        rows.push(
            Row::new(
                &format!("payments.{payers}"),
                &format!("durable payments/s, {payers} concurrent payer(s)"),
                Unit::PerSecond,
                stats,
            )
            .target("≥ 2,000/s", stats.p50 >= 2_000.0)
            .note(format!(
                "journal_mode={journal}, synchronous={sync}; {} rounds of {} payments",
                sizes.payment_rounds,
                sizes.payments.div_ceil(payers) * payers
            )),
        );
    }
    Ok(rows)
}
