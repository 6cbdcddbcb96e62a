//! A store's history does not make its checks grow with it: a clean ledger
//! verification leaves a checkpoint, and the next one reads only what came
//! after it, and still finds what is wrong there.

use plaza_host::ledger::LineItem;
use plaza_host::store::{
    LedgerReport, LedgerStore, PayCommand, PayResult, RefundCommand, RefundResult, SqliteStore,
};

const APP: &str = "cn.hz.clinic";

fn sign(m: &[u8]) -> String {
    format!("sig-{}", m.len())
}

fn verify(store: &SqliteStore) -> LedgerReport {
    store
        .verify_ledger(&|m, sig| sign(m) == sig)
        .expect("verify the ledger")
}

fn verify_full(store: &SqliteStore) -> LedgerReport {
    store
        .verify_ledger_full(&|m, sig| sign(m) == sig)
        .expect("verify the whole ledger")
}

fn pay(store: &SqliteStore, n: usize, amount: u64) {
    let cmd = PayCommand {
        tx_id: format!("tx-pay-{n}"),
        app_id: APP.into(),
        generation: 0,
        publisher_id: "cn.hz".into(),
        payee: "Hangzhou Clinic".into(),
        user: "ann".into(),
        order_id: format!("o{n}"),
        amount,
        currency: "CNY".into(),
        description: "Consultation".into(),
        items: vec![LineItem {
            name: "Consultation".into(),
            quantity: 1,
            unit_price: amount,
            insurance_eligible: false,
        }],
        at_ms: n as i64,
        insurance: None,
    };
    assert!(matches!(
        store.pay(&cmd, &sign).unwrap(),
        PayResult::Paid(_)
    ));
}

fn refund(store: &SqliteStore, n: usize, order: usize, amount: u64) {
    let result = store
        .refund(&RefundCommand {
            tx_id: format!("tx-refund-{n}"),
            app_id: APP.into(),
            generation: 0,
            user: "ann".into(),
            order_id: format!("o{order}"),
            amount,
            reason: "cancelled".into(),
            at_ms: 1_000 + n as i64,
            refund_id: None,
        })
        .unwrap();
    assert!(matches!(result, RefundResult::Refunded(_)), "{result:?}");
}

/// A store file with a top-up and `payments` payments of 100, checked once
/// (which leaves the checkpoint).
fn checked_store(payments: usize) -> (tempfile::TempDir, std::path::PathBuf, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plaza.db");
    let store = SqliteStore::open(&path).unwrap();
    store.top_up("tx-top-up", "ann", 100_000, "CNY", 0).unwrap();
    for n in 0..payments {
        pay(&store, n, 100);
    }
    let first = verify(&store);
    assert!(first.is_clean(), "{:?}", first.problems);
    assert_eq!(first.checkpointed, 0, "the first verification reads all");
    assert_eq!(first.signatures, payments as u64);
    (dir, path, store)
}

#[test]
fn a_verification_after_a_checkpoint_reads_only_what_came_after_and_finds_it_clean() {
    let (_dir, _path, store) = checked_store(20);
    // Nothing new: every transaction is behind the checkpoint.
    let again = verify(&store);
    assert!(again.is_clean(), "{:?}", again.problems);
    assert_eq!(again.checkpointed, 21);
    assert_eq!(again.signatures, 0);
    assert_eq!((again.transactions, again.payments), (21, 20));

    // New payments, and refunds of payments made before the checkpoint.
    for n in 20..25 {
        pay(&store, n, 100);
    }
    refund(&store, 0, 3, 40);
    refund(&store, 1, 3, 60);
    refund(&store, 2, 22, 100);
    let report = verify(&store);
    assert!(report.is_clean(), "{:?}", report.problems);
    assert_eq!(report.checkpointed, 21);
    assert_eq!(report.signatures, 5, "only the new receipts");
    assert_eq!(
        (report.transactions, report.payments, report.refunds),
        (29, 25, 3)
    );
    assert_eq!(verify(&store).checkpointed, 29);
    // The whole ledger agrees.
    let full = verify_full(&store);
    assert!(full.is_clean(), "{:?}", full.problems);
    assert_eq!((full.checkpointed, full.signatures), (0, 25));
}

#[test]
fn tampering_after_the_checkpoint_is_found() {
    // A posting of a payment made after the checkpoint, changed.
    let (_dir, path, store) = checked_store(10);
    pay(&store, 10, 100);
    let db = rusqlite::Connection::open(&path).unwrap();
    db.execute(
        "UPDATE postings SET amount = amount + 1 WHERE tx_id = 'tx-pay-10' AND amount > 0",
        [],
    )
    .unwrap();
    let report = verify(&store);
    assert_eq!(report.checkpointed, 11);
    let problems = report.problems.join("\n");
    assert!(
        problems.contains("transaction tx-pay-10: its postings sum to 1, not 0"),
        "{problems}"
    );
    assert!(
        problems.contains("account merchant:cn.hz: its balance differs from its postings by -1"),
        "{problems}"
    );
    // A dirty ledger moves no checkpoint: the next verification finds it
    // again.
    assert!(!verify(&store).is_clean());

    // A receipt made after the checkpoint, its signature replaced.
    let (_dir, path, store) = checked_store(10);
    pay(&store, 10, 100);
    let db = rusqlite::Connection::open(&path).unwrap();
    db.execute(
        "UPDATE payments SET signature = 'forged' WHERE order_id = 'o10'",
        [],
    )
    .unwrap();
    let problems = verify(&store).problems.join("\n");
    assert!(
        problems.contains("payment cn.hz.clinic/o10: the receipt's signature does not verify"),
        "{problems}"
    );

    // A refund recorded after the checkpoint against a payment made before
    // it, for more than the payment.
    let (_dir, path, store) = checked_store(10);
    refund(&store, 0, 4, 100);
    let db = rusqlite::Connection::open(&path).unwrap();
    db.execute(
        "UPDATE refunds SET amount = 150, wallet_part = 150 WHERE tx_id = 'tx-refund-0'",
        [],
    )
    .unwrap();
    let problems = verify(&store).problems.join("\n");
    assert!(
        problems.contains("payment cn.hz.clinic/o4: its refunds do not add up"),
        "{problems}"
    );

    // A balance changed, whatever the checkpoint: every account is checked
    // against its balance there plus its postings since.
    let (_dir, path, store) = checked_store(10);
    let db = rusqlite::Connection::open(&path).unwrap();
    db.execute(
        "UPDATE accounts SET balance = balance + 500 WHERE id = 'wallet:ann'",
        [],
    )
    .unwrap();
    let problems = verify(&store).problems.join("\n");
    assert!(
        problems.contains("account wallet:ann: its balance differs from its postings by 500"),
        "{problems}"
    );
}

#[test]
fn a_full_verification_finds_tampering_behind_the_checkpoint() {
    let (_dir, path, store) = checked_store(10);
    // A payment's postings and the balances they made, all changed
    // consistently, behind the checkpoint: from the checkpoint, nothing
    // shows (those rows were verified when they were made) ...
    let db = rusqlite::Connection::open(&path).unwrap();
    db.execute_batch(
        "UPDATE postings SET amount = amount * 2 WHERE tx_id = 'tx-pay-2';
         UPDATE accounts SET balance = balance - 100 WHERE id = 'wallet:ann';
         UPDATE accounts SET balance = balance + 100 WHERE id = 'merchant:cn.hz';
         UPDATE ledger_checkpoint_balances SET balance = balance - 100 WHERE account_id = 'wallet:ann';
         UPDATE ledger_checkpoint_balances SET balance = balance + 100 WHERE account_id = 'merchant:cn.hz';",
    )
    .unwrap();
    assert!(verify(&store).is_clean());
    // ... the whole ledger shows it.
    let problems = verify_full(&store).problems.join("\n");
    assert!(
        problems.contains("payment cn.hz.clinic/o2: its transaction does not move its wallet, insurance and merchant parts"),
        "{problems}"
    );
}
