//! Per-operation latency with criterion, Plaza beside the bare host on the
//! same guests (issue 8, items 2, 3, 4 and 7): a new hospital session, the
//! bench-app's `work` event, and a tap making 1000 `clock::now` calls (the
//! per-call cost is that figure minus the `calls:0` one, over 1000). Plaza's
//! new session includes closing it (a `hide` event), which the bare side
//! does not have: `plaza bench` times the launch alone.
//!
//! For a profile of one of them:
//! `perf record -g target/release/deps/latency-* --bench --profile-time 10 'event/plaza$'`.
//!
//! `RUST_BACKTRACE=0 RUST_LIB_BACKTRACE=0 cargo bench -p plaza-bench --bench latency`
//!
//! `plaza bench` measures the same with plain timing loops, plus the figures
//! criterion does not fit (install, 10,000 live sessions, payments/s).

use criterion::{Criterion, criterion_group, criterion_main};
use plaza_bench::bare::BareHost;
use plaza_bench::setup;
use plaza_test_programs::{BENCH_APP, HOSPITAL};

fn latency(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let host = rt
        .block_on(setup::plaza_with(
            dir.path(),
            Some(cache),
            setup::limits(),
            &[BENCH_APP, HOSPITAL],
        ))
        .unwrap();
    let hospital = setup::app_id(&HOSPITAL).unwrap();
    let session = host
        .session("bench-user", &setup::app_id(&BENCH_APP).unwrap())
        .unwrap();
    rt.block_on(session.launch("/")).unwrap();
    let memory_host = rt
        .block_on(setup::install_signed(
            setup::plaza_in_memory(None, setup::limits()).unwrap(),
            &[BENCH_APP],
        ))
        .unwrap();
    let memory_session = memory_host
        .session("bench-user", &setup::app_id(&BENCH_APP).unwrap())
        .unwrap();
    rt.block_on(memory_session.launch("/")).unwrap();
    let bare_app = BareHost::new(&setup::limits(), &BENCH_APP.component_bytes()).unwrap();
    let bare_hospital = BareHost::new(&setup::limits(), &HOSPITAL.component_bytes()).unwrap();
    let mut instance = rt.block_on(bare_app.instance()).unwrap();
    rt.block_on(instance.launch("/")).unwrap();

    let mut g = c.benchmark_group("event");
    g.bench_function("plaza", |b| {
        b.iter(|| rt.block_on(session.tap("work")).unwrap())
    });
    g.bench_function("plaza in-memory store", |b| {
        b.iter(|| rt.block_on(memory_session.tap("work")).unwrap())
    });
    g.bench_function("bare", |b| {
        b.iter(|| rt.block_on(instance.tap("work")).unwrap())
    });
    g.finish();

    let mut g = c.benchmark_group("1000 calls");
    for action in ["calls:0", "calls:1000"] {
        g.bench_function(format!("plaza {action}"), |b| {
            b.iter(|| rt.block_on(session.tap(action)).unwrap())
        });
        g.bench_function(format!("bare {action}"), |b| {
            b.iter(|| rt.block_on(instance.tap(action)).unwrap())
        });
    }
    g.finish();

    let mut g = c.benchmark_group("new session");
    let mut n = 0u64;
    g.bench_function("plaza", |b| {
        b.iter(|| {
            n += 1;
            let s = host.session(&format!("user-{n}"), &hospital).unwrap();
            rt.block_on(async {
                s.launch("/").await.unwrap();
                s.close().await;
            })
        })
    });
    g.bench_function("bare", |b| {
        b.iter(|| {
            rt.block_on(async {
                let mut i = bare_hospital.instance().await.unwrap();
                i.launch("/").await.unwrap();
            })
        })
    });
    g.finish();
}

criterion_group!(benches, latency);
criterion_main!(benches);
