//! Durable payments per second on the default store (a SQLite file, WAL,
//! `synchronous = FULL`): each iteration is one complete payment — order
//! check, balance check, transaction, three postings, the payment row, the
//! signed receipt — committed with an fsync.
//!
//! `RUST_LIB_BACKTRACE=0 cargo bench -p plaza-host --bench payments`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use plaza_host::keys::HostKeys;
use plaza_host::ledger::LineItem;
use plaza_host::store::{InsuranceTerms, LedgerStore, PayCommand, PayResult, SqliteStore};
use std::hint::black_box;

fn command(n: u64, insured: bool) -> PayCommand {
    PayCommand {
        tx_id: format!("tx-{n}"),
        app_id: "cn.hz.maternity".into(),
        publisher_id: "cn.hz.hospitals.maternity".into(),
        payee: "Hangzhou Maternity Hospital".into(),
        user: format!("user-{}", n % 100),
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
        insurance: insured.then_some(InsuranceTerms {
            coverage_bp: 7_000,
            annual_cap: u64::MAX / 4,
            year: 2026,
        }),
    }
}

fn payments(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("bench.db")).unwrap();
    let (journal, sync) = store.durability().unwrap();
    eprintln!("store: journal_mode={journal}, synchronous={sync} (2 = FULL)");
    let keys = HostKeys::load(&store).unwrap();
    for u in 0..100 {
        store
            .top_up(
                &format!("topup-{u}"),
                &format!("user-{u}"),
                1_000_000_000_000,
                "CNY",
                0,
            )
            .unwrap();
    }
    let mut group = c.benchmark_group("durable payments");
    group.throughput(Throughput::Elements(1));
    for insured in [false, true] {
        let mut n = if insured { 1_000_000_000 } else { 0 };
        group.bench_function(
            if insured {
                "with insurance"
            } else {
                "wallet only"
            },
            |b| {
                b.iter(|| {
                    n += 1;
                    let r = store
                        .pay(black_box(&command(n, insured)), &|m| keys.sign(m))
                        .unwrap();
                    assert!(matches!(r, PayResult::Paid(_)));
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, payments);
criterion_main!(benches);
