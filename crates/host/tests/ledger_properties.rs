//! Property tests of the ledger: random sequences of top-ups, payments (with
//! and without insurance), refunds and card bindings across several users
//! and mini-apps keep every invariant, and agree with a simple model of who
//! should hold what. And random sequences of refunds of one insured payment
//! never give either side back more than its share, rounding included.

use plaza_host::keys::{HostKeys, verify};
use plaza_host::ledger::{LineItem, receipt_message};
use plaza_host::store::{
    INSURANCE_FUND, InsuranceCard, InsuranceTerms, LedgerStore, PayCommand, PayResult,
    RefundCommand, RefundResult, SqliteStore, merchant_account, wallet_account,
};
use proptest::prelude::*;
use std::collections::HashMap;

const USERS: [&str; 3] = ["ann", "bo", "cai"];
const APPS: [(&str, &str); 3] = [
    ("cn.a.clinic", "cn.a"),
    ("cn.a.pharmacy", "cn.a"),
    ("cn.b.shop", "cn.b"),
];

#[derive(Debug, Clone)]
enum Op {
    TopUp {
        user: usize,
        amount: u64,
    },
    Pay {
        user: usize,
        app: usize,
        order: u8,
        eligible: u64,
        other: u64,
        insured: bool,
    },
    Refund {
        user: usize,
        app: usize,
        order: u8,
        amount: u64,
    },
    Bind {
        user: usize,
        coverage_bp: u32,
        cap: u64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..3usize, 1..50_000u64).prop_map(|(user, amount)| Op::TopUp { user, amount }),
        (
            0..3usize,
            0..3usize,
            0..6u8,
            0..20_000u64,
            0..20_000u64,
            any::<bool>()
        )
            .prop_map(|(user, app, order, eligible, other, insured)| Op::Pay {
                user,
                app,
                order,
                eligible,
                other,
                insured
            }),
        (0..3usize, 0..3usize, 0..6u8, 0..25_000u64).prop_map(|(user, app, order, amount)| {
            Op::Refund {
                user,
                app,
                order,
                amount,
            }
        }),
        (0..3usize, 0..=10_000u32, 0..30_000u64).prop_map(|(user, coverage_bp, cap)| Op::Bind {
            user,
            coverage_bp,
            cap
        }),
    ]
}

#[derive(Default)]
struct Model {
    wallets: HashMap<String, i64>,
    merchants: HashMap<String, i64>,
    fund: i64,
    /// (app, order) -> (user, amount, refunded)
    payments: HashMap<(String, String), (String, u64, u64)>,
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn every_sequence_keeps_the_ledger_sound(ops in prop::collection::vec(op(), 1..60)) {
        let store = SqliteStore::open_in_memory().unwrap();
        let keys = HostKeys::load(&store).unwrap();
        let pk = keys.public_key_hex();
        let mut m = Model::default();
        let mut n = 0;
        for op in ops {
            n += 1;
            let tx = format!("tx-{n}");
            match op {
                Op::TopUp { user, amount } => {
                    let u = USERS[user];
                    let balance = store.top_up(&tx, u, amount, "CNY", n).unwrap();
                    *m.wallets.entry(u.into()).or_default() += amount as i64;
                    prop_assert_eq!(balance as i64, m.wallets[u]);
                }
                Op::Bind { user, coverage_bp, cap } => {
                    store.bind_insurance_card(&InsuranceCard {
                        user: USERS[user].into(), card_number: "c".into(), holder_name: "h".into(),
                        scheme: "s".into(), coverage_bp, annual_cap: cap, bound_at_ms: n,
                    }).unwrap();
                }
                Op::Pay { user, app, order, eligible, other, insured } => {
                    let (u, (app_id, publisher)) = (USERS[user], APPS[app]);
                    let amount = eligible + other;
                    if amount == 0 { continue; }
                    let mut items = Vec::new();
                    if eligible > 0 { items.push(LineItem { name: "e".into(), quantity: 1, unit_price: eligible, insurance_eligible: true }); }
                    if other > 0 { items.push(LineItem { name: "o".into(), quantity: 1, unit_price: other, insurance_eligible: false }); }
                    let card = store.insurance_card(u).unwrap();
                    let insurance = card.filter(|_| insured).map(|c| InsuranceTerms { coverage_bp: c.coverage_bp, annual_cap: c.annual_cap, year: 2026 });
                    let order_id = format!("o-{order}");
                    let cmd = PayCommand {
                        tx_id: tx.clone(), app_id: app_id.into(), generation: 0, publisher_id: publisher.into(), payee: publisher.into(),
                        user: u.into(), order_id: order_id.clone(), amount, currency: "CNY".into(),
                        description: "d".into(), items, at_ms: n, insurance,
                    };
                    let key = (app_id.to_string(), order_id.clone());
                    let before = m.wallets.get(u).copied().unwrap_or(0);
                    match store.pay(&cmd, &|msg| keys.sign(msg)).unwrap() {
                        PayResult::Paid(p) => {
                            prop_assert!(!m.payments.contains_key(&key), "paid an order twice");
                            let r = &p.receipt;
                            prop_assert_eq!(r.wallet_part + r.insurance_part, amount);
                            prop_assert!(r.insurance_part <= eligible);
                            if insurance.is_none() { prop_assert_eq!(r.insurance_part, 0); }
                            prop_assert!(r.wallet_part as i64 <= before, "wallet went below zero");
                            prop_assert!(verify(&pk, &receipt_message(r), &r.signature));
                            *m.wallets.entry(u.into()).or_default() -= r.wallet_part as i64;
                            *m.merchants.entry(publisher.into()).or_default() += amount as i64;
                            m.fund -= r.insurance_part as i64;
                            m.payments.insert(key, (u.into(), amount, 0));
                        }
                        PayResult::AlreadyPaid(p) => {
                            let (pu, pa, _) = &m.payments[&key];
                            prop_assert_eq!((pu.as_str(), *pa), (u, amount));
                            prop_assert_eq!(p.receipt.order_id, order_id);
                        }
                        PayResult::Conflict(_) => {
                            let (pu, pa, _) = &m.payments[&key];
                            prop_assert!(pu != u || *pa != amount);
                        }
                        PayResult::InsufficientFunds { needed, available } => {
                            prop_assert!(!m.payments.contains_key(&key));
                            prop_assert_eq!(available as i64, before);
                            prop_assert!(needed > available);
                        }
                    }
                }
                Op::Refund { user, app, order, amount } => {
                    let (u, (app_id, publisher)) = (USERS[user], APPS[app]);
                    let order_id = format!("o-{order}");
                    let key = (app_id.to_string(), order_id.clone());
                    match store.refund(&RefundCommand {
                        tx_id: tx.clone(),
                        app_id: app_id.into(),
                        generation: 0,
                        user: u.into(),
                        order_id: order_id.clone(),
                        amount,
                        reason: "r".into(),
                        at_ms: n,
                        refund_id: None,
                    }).unwrap() {
                        RefundResult::Refunded(r) => {
                            let entry = m.payments.get_mut(&key).expect("refunded a payment that does not exist");
                            prop_assert_eq!(entry.0.as_str(), u, "refunded another user's payment");
                            prop_assert!(entry.2 + amount <= entry.1, "refunded more than was paid");
                            entry.2 += amount;
                            prop_assert_eq!(r.wallet_part + r.insurance_part, amount);
                            *m.wallets.entry(u.into()).or_default() += r.wallet_part as i64;
                            *m.merchants.entry(publisher.into()).or_default() -= amount as i64;
                            m.fund += r.insurance_part as i64;
                        }
                        RefundResult::NotFound => {
                            prop_assert!(m.payments.get(&key).is_none_or(|p| p.0 != u));
                        }
                        RefundResult::TooMuch { refundable } => {
                            let p = &m.payments[&key];
                            prop_assert_eq!(refundable, p.1 - p.2);
                            prop_assert!(amount == 0 || amount > refundable);
                        }
                        RefundResult::Repeated(_) | RefundResult::RefundIdConflict(_) => {
                            prop_assert!(false, "a refund without a refund id was taken for a repeat");
                        }
                    }
                }
            }
            // After every step: the store agrees with the model, and every
            // invariant holds.
            for u in USERS {
                prop_assert_eq!(store.balance(&wallet_account(u)).unwrap(), m.wallets.get(u).copied().unwrap_or(0));
            }
            for (_, p) in APPS {
                prop_assert_eq!(store.balance(&merchant_account(p)).unwrap(), m.merchants.get(p).copied().unwrap_or(0));
            }
            prop_assert_eq!(store.balance(INSURANCE_FUND).unwrap(), m.fund);
            let report = store.verify_ledger(&|msg, sig| verify(&pk, msg, sig)).unwrap();
            prop_assert!(report.is_clean(), "{:?}", report.problems);
        }
    }

    /// Random refund sequences of one payment split between the wallet and
    /// the insurance fund: after every refund neither side has had back more
    /// than it paid, the wallet exactly its proportional share of what was
    /// refunded rounded down (small refunds cannot move the fund's money to
    /// the wallet) and the fund the rest, and the refund that completes the payment returns each
    /// part exactly; `verify_ledger` stays clean.
    #[test]
    fn refund_sequences_never_give_a_side_more_than_its_share(
        eligible in 1..5_000u64,
        other in 0..5_000u64,
        coverage_bp in 0..=10_000u32,
        cap in 0..6_000u64,
        refunds in prop::collection::vec(1..400u64, 1..120),
    ) {
        let store = SqliteStore::open_in_memory().unwrap();
        let keys = HostKeys::load(&store).unwrap();
        let pk = keys.public_key_hex();
        let amount = eligible + other;
        store.top_up("t", "ann", amount, "CNY", 0).unwrap();
        let mut items = vec![LineItem { name: "e".into(), quantity: 1, unit_price: eligible, insurance_eligible: true }];
        if other > 0 {
            items.push(LineItem { name: "o".into(), quantity: 1, unit_price: other, insurance_eligible: false });
        }
        let cmd = PayCommand {
            tx_id: "p".into(), app_id: "cn.a.clinic".into(), generation: 0, publisher_id: "cn.a".into(), payee: "A".into(),
            user: "ann".into(), order_id: "o".into(), amount, currency: "CNY".into(),
            description: "d".into(), items, at_ms: 1,
            insurance: Some(InsuranceTerms { coverage_bp, annual_cap: cap, year: 2026 }),
        };
        let PayResult::Paid(p) = store.pay(&cmd, &|m| keys.sign(m)).unwrap() else {
            panic!("the payment did not go through");
        };
        let (wallet_paid, fund_paid) = (p.receipt.wallet_part, p.receipt.insurance_part);
        let (mut refunded, mut to_wallet, mut to_fund) = (0u64, 0u64, 0u64);
        // The refunds, then whatever is left, so every sequence completes.
        let left_over = |refunded: u64| amount - refunded;
        for (i, r) in refunds.into_iter().map(Some).chain([None]).enumerate() {
            let r = match r {
                Some(r) => r.min(left_over(refunded)),
                None => left_over(refunded),
            };
            if r == 0 {
                continue;
            }
            let RefundResult::Refunded(back) = store.refund(&RefundCommand {
                tx_id: format!("r-{i}"), app_id: "cn.a.clinic".into(), generation: 0, user: "ann".into(),
                order_id: "o".into(), amount: r, reason: "r".into(), at_ms: 2, refund_id: None,
            }).unwrap() else {
                panic!("a refund within what is left was refused");
            };
            prop_assert_eq!(back.wallet_part + back.insurance_part, r);
            refunded += r;
            to_wallet += back.wallet_part;
            to_fund += back.insurance_part;
            prop_assert!(to_wallet <= wallet_paid, "the wallet got back {} of {}", to_wallet, wallet_paid);
            prop_assert!(to_fund <= fund_paid, "the fund got back {} of {}", to_fund, fund_paid);
            // The wallet has had exactly its share rounded down, the fund the
            // rest (its own share rounded up).
            let wallet_share = (refunded as u128 * wallet_paid as u128 / amount as u128) as u64;
            prop_assert_eq!(to_wallet, wallet_share, "after {} refunded", refunded);
            let report = store.verify_ledger(&|msg, sig| verify(&pk, msg, sig)).unwrap();
            prop_assert!(report.is_clean(), "{:?}", report.problems);
        }
        prop_assert_eq!((to_wallet, to_fund), (wallet_paid, fund_paid));
        prop_assert_eq!(store.balance(&merchant_account("cn.a")).unwrap(), 0);
        prop_assert_eq!(store.balance(&wallet_account("ann")).unwrap(), amount as i64);
        prop_assert_eq!(store.balance(INSURANCE_FUND).unwrap(), 0);
    }
}
