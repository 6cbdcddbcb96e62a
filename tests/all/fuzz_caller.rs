//! The fuzz-caller fixture: scripts of host calls with chosen (and, in the
//! property test, random) arguments, through a real host. The same checks
//! as the `host_calls` fuzz target (fuzz/fuzz_targets/host_calls.rs), in the
//! normal test suite: every call answers as data, the ledger verifies, each
//! wallet holds its top-ups minus the payments plus the refunds the guest got
//! receipts for, and a fresh session still answers.

use crate::support::*;
use plaza_host::Page;
use plaza_host::manifest::Scope;
use plaza_host::prompt::{ConsentAnswer, PaymentAnswer, ScriptedPayment, SubscriptionAnswer};
use plaza_test_programs::FUZZ_CALLER;
use plaza_test_programs::fuzz_script::{self, Call, Item};
use proptest::prelude::*;
use std::collections::{HashMap, HashSet};

const APP: &str = "test.plaza.fuzz-caller";

async fn fuzz_caller() -> TestHost {
    let t = host();
    install(&t, &FUZZ_CALLER).await;
    t
}

/// Submits `calls` as `user`'s gesture and returns the page of results.
async fn run(t: &TestHost, user: &str, calls: &[Call]) -> Page {
    let s = t.host.session(user, APP).unwrap();
    run_calls(&s, calls).await
}

#[tokio::test]
async fn a_stored_value_reads_back_and_a_deleted_one_is_gone() {
    let t = fuzz_caller().await;
    let page = run(
        &t,
        "ann",
        &[
            Call::Set {
                key: "notes/1".into(),
                fill: b'z',
                len: 3,
            },
            Call::Get {
                key: "notes/1".into(),
            },
            Call::List {
                prefix: "notes/".into(),
                limit: 10,
            },
            Call::Delete {
                key: "notes/1".into(),
            },
            Call::Get {
                key: "notes/1".into(),
            },
        ],
    )
    .await;
    assert_eq!(fuzz_result(&page, 1, "set"), "ok");
    assert_eq!(fuzz_result(&page, 2, "get"), "ok some 3 zzz");
    assert_eq!(fuzz_result(&page, 3, "list"), "ok 1 notes/1");
    assert_eq!(fuzz_result(&page, 4, "delete"), "ok true");
    assert_eq!(fuzz_result(&page, 5, "get"), "ok none");
}

#[tokio::test]
async fn a_value_over_the_quota_is_refused_and_nothing_is_written() {
    let t = fuzz_caller().await;
    let page = run(
        &t,
        "ann",
        &[
            Call::Set {
                key: "big".into(),
                fill: 1,
                len: 70_000,
            },
            Call::Get { key: "big".into() },
        ],
    )
    .await;
    assert!(
        fuzz_result(&page, 1, "set").starts_with("error limit-exceeded:"),
        "{}",
        text(&page)
    );
    assert_eq!(fuzz_result(&page, 2, "get"), "ok none");
}

#[tokio::test]
async fn a_payment_over_the_wallet_is_insufficient_funds_and_moves_nothing() {
    let t = fuzz_caller().await;
    t.prompter
        .answer_payments(ScriptedPayment::Answer(PaymentAnswer::Confirm));
    t.host.top_up("ann", 500, "CNY").unwrap();
    let page = run(
        &t,
        "ann",
        &[
            fuzz_pay("o-1", 800),
            Call::Query {
                order: "o-1".into(),
            },
        ],
    )
    .await;
    // What the wallet had to pay, never what it holds.
    assert_eq!(fuzz_result(&page, 1, "pay"), "insufficient-funds 800 0");
    assert!(fuzz_result(&page, 2, "query").starts_with("error not-found:"));
    assert_eq!(t.host.wallet_balance("ann").unwrap(), 500);
    assert_eq!(t.host.merchant_balance("test.plaza.fuzz").unwrap(), 0);
    assert!(t.host.verify_ledger().unwrap().is_clean());

    // Within the wallet it pays, once per order id, and refunds give back.
    let page = run(
        &t,
        "ann",
        &[
            fuzz_pay("o-1", 300),
            fuzz_pay("o-1", 300),
            Call::Refund {
                order: "o-1".into(),
                amount: 100,
                reason: "changed plans".into(),
            },
        ],
    )
    .await;
    let (first, second) = (fuzz_result(&page, 1, "pay"), fuzz_result(&page, 2, "pay"));
    assert!(
        first.starts_with("paid ") && first.contains(" wallet 300 "),
        "{first}"
    );
    assert_eq!(
        first, second,
        "a replayed order id answers the first receipt"
    );
    assert!(fuzz_result(&page, 3, "refund").starts_with("refunded "));
    assert_eq!(t.host.wallet_balance("ann").unwrap(), 300);
}

#[tokio::test]
async fn a_script_that_does_not_decode_is_reported_not_run() {
    let t = fuzz_caller().await;
    let s = t.host.session("ann", APP).unwrap();
    let page = s.launch("/?script=set x6b 1").await.unwrap();
    let error = field(&page, "script").unwrap();
    assert!(
        error.starts_with("error call 1: expected a number"),
        "{error}"
    );
}

// --- The property test: random scripts, the fuzz target's invariants. ---

/// A key, order id or template: mostly from a small set, so calls meet.
fn pick(set: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::sample::select(set).prop_map(String::from),
        1 => ".{0,8}",
    ]
}

fn amount() -> impl Strategy<Value = u64> {
    prop_oneof![0..100u64, 100..50_000u64, Just(1_000_000_001), any::<u64>()]
}

fn call() -> impl Strategy<Value = Call> {
    const KEYS: &[&str] = &["a", "b", "notes/1"];
    const ORDERS: &[&str] = &["o-1", "o-2", "o-3"];
    const TEMPLATES: &[&str] = &["notice", "reminder", "missing"];
    let item = (pick(&["Visit", ""]), 0..3u32, amount(), any::<bool>()).prop_map(
        |(name, quantity, unit_price, insurance_eligible)| Item {
            name,
            quantity,
            unit_price,
            insurance_eligible,
        },
    );
    let pay = (
        pick(ORDERS),
        proptest::collection::vec(item, 0..3),
        prop_oneof![3 => Just(None), 1 => amount().prop_map(Some)],
        pick(&["CNY", "USD"]),
    )
        .prop_map(|(order, items, other, currency)| {
            // Mostly a total that matches the bill, so payments get through.
            let total = items.iter().try_fold(0u64, |sum, i| {
                sum.checked_add(i.unit_price.checked_mul(i.quantity as u64)?)
            });
            Call::Pay {
                order,
                amount: other.or(total).unwrap_or(1),
                currency,
                description: "Visit".into(),
                items,
            }
        });
    prop_oneof![
        1 => pick(KEYS).prop_map(|key| Call::Get { key }),
        1 => (pick(KEYS), any::<u8>(), prop_oneof![0..64u32, 60_000..70_000u32])
            .prop_map(|(key, fill, len)| Call::Set { key, fill, len }),
        1 => pick(KEYS).prop_map(|key| Call::Delete { key }),
        1 => (pick(&["", "notes/"]), prop_oneof![Just(0u32), Just(10), Just(1001)])
            .prop_map(|(prefix, limit)| Call::List { prefix, limit }),
        1 => Just(Call::Usage),
        1 => (any::<u8>(), ".{0,16}").prop_map(|(level, message)| Call::Log { level, message }),
        1 => Just(Call::Now),
        1 => Just(Call::Openid),
        1 => Just(Call::Login),
        1 => Just(Call::Phone),
        1 => any::<bool>().prop_map(|precise| Call::Location { precise }),
        1 => Just(Call::RealName),
        3 => pay,
        2 => (pick(ORDERS), amount()).prop_map(|(order, amount)| Call::Refund {
            order,
            amount,
            reason: "fuzz".into()
        }),
        1 => pick(ORDERS).prop_map(|order| Call::Query { order }),
        1 => prop_oneof![Just(0u32), Just(2), Just(101)].prop_map(|limit| Call::History {
            cursor: None,
            limit
        }),
        1 => proptest::collection::vec(pick(TEMPLATES), 0..3)
            .prop_map(|templates| Call::Subscribe { templates }),
        1 => (pick(TEMPLATES), proptest::collection::vec((pick(&["what", "when", "where"]), ".{0,8}"), 0..3))
            .prop_map(|(template, fields)| Call::Send { template, fields }),
        1 => ".{0,8}".prop_map(|text| Call::Broadcast {
            title: "News".into(),
            text
        }),
        1 => ".{0,8}".prop_map(|text| Call::Reply { text }),
    ]
}

/// One event of the property test: who, how they answer, and the calls.
#[derive(Debug, Clone)]
struct Step {
    user: &'static str,
    top_up: Option<u64>,
    payment: PaymentAnswer,
    subscription: SubscriptionAnswer,
    consent: ConsentAnswer,
    via_launch: bool,
    calls: Vec<Call>,
}

fn step() -> impl Strategy<Value = Step> {
    (
        proptest::sample::select(&["ann", "bo"][..]),
        proptest::option::of(1..100_000u64),
        proptest::sample::select(
            &[
                PaymentAnswer::Confirm,
                PaymentAnswer::Decline,
                PaymentAnswer::Cancel,
            ][..],
        ),
        proptest::sample::select(
            &[
                SubscriptionAnswer::AcceptOnce,
                SubscriptionAnswer::AcceptLongTerm,
                SubscriptionAnswer::Reject,
            ][..],
        ),
        proptest::sample::select(
            &[
                ConsentAnswer::Allow,
                ConsentAnswer::Deny,
                ConsentAnswer::Dismiss,
            ][..],
        ),
        proptest::bool::weighted(0.25),
        proptest::collection::vec(call(), 0..8),
    )
        .prop_map(
            |(user, top_up, payment, subscription, consent, via_launch, calls)| Step {
                user,
                top_up,
                payment,
                subscription,
                consent,
                via_launch,
                calls,
            },
        )
}

/// Runs the steps on a fresh host; checks after each what a user would
/// notice. Returns the first broken invariant.
async fn check_steps(steps: &[Step]) -> Result<(), String> {
    let t = fuzz_caller().await;
    let mut expected: HashMap<&str, i128> = HashMap::new();
    let mut counted = HashSet::new();
    for (n, step) in steps.iter().enumerate() {
        t.prompter
            .answer_payments(ScriptedPayment::Answer(step.payment));
        t.prompter.answer_subscriptions(step.subscription);
        for scope in Scope::ALL {
            t.prompter.answer_consent(scope, step.consent);
        }
        if let Some(amount) = step.top_up {
            t.host.top_up(step.user, amount, "CNY").unwrap();
            *expected.entry(step.user).or_default() += amount as i128;
        }
        t.host.follow(step.user, APP, true).unwrap();
        let script = fuzz_script::encode(&step.calls);
        let s = t.host.session(step.user, APP).unwrap();
        let page = if step.via_launch {
            s.launch(&format!("/?script={script}")).await
        } else {
            s.launch("/").await.unwrap();
            s.submit("calls", &[("script", &script)]).await
        }
        .map_err(|e| format!("step {n}: the session failed: {e}"))?;
        for (i, call) in step.calls.iter().enumerate() {
            let label = format!("{} {}", i + 1, call.name());
            let Some(value) = field(&page, &label) else {
                return Err(format!("step {n}: no result for {label}:\n{}", text(&page)));
            };
            if let Some((tx, change)) = fuzz_script::money_moved(&value)
                && counted.insert(tx)
            {
                *expected.entry(step.user).or_default() += change;
            }
        }
        let report = t.host.verify_ledger().unwrap();
        if !report.is_clean() {
            return Err(format!("step {n}: ledger problems {:?}", report.problems));
        }
        for user in ["ann", "bo"] {
            let balance = t.host.wallet_balance(user).unwrap() as i128;
            let want = expected.get(user).copied().unwrap_or(0);
            if balance != want {
                return Err(format!(
                    "step {n}: {user}'s wallet holds {balance}; top-ups and receipts say {want}"
                ));
            }
        }
        let probe = t.host.session("probe", APP).unwrap();
        let fresh = probe
            .launch("/?script=now")
            .await
            .map_err(|e| format!("step {n}: a fresh session failed: {e}"))?;
        probe.close().await;
        if !field(&fresh, "1 now").is_some_and(|v| v.starts_with("ok ")) {
            return Err(format!(
                "step {n}: a fresh session answered:\n{}",
                text(&fresh)
            ));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// Random scripts of host calls, as two users answering prompts at
    /// random: every call answers, and no money moves without a receipt.
    #[test]
    fn random_host_calls_keep_the_ledger_and_wallets_right(
        steps in proptest::collection::vec(step(), 1..4)
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let outcome = runtime.block_on(check_steps(&steps));
        prop_assert!(outcome.is_ok(), "{}", outcome.unwrap_err());
    }
}
