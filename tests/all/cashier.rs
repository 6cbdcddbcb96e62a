//! Payments through a real guest: the double-entry ledger, the user's
//! confirmation, idempotent retries, refunds, insurance settlement, and a
//! guest that traps after paying.

use crate::support::*;
use plaza_host::ledger::{Receipt, receipt_message};
use plaza_host::prompt::{PaymentAnswer, ScriptedPayment};
use plaza_host::store::{AuditQuery, Outcome};
use plaza_host::{Error, GuestFault, Page};
use plaza_test_programs::CASHIER;

const APP: &str = "test.plaza.cashier";
const PUBLISHER: &str = "test.plaza.clinic";

async fn cashier() -> TestHost {
    let t = host();
    install(&t, &CASHIER).await;
    t.prompter
        .answer_payments(ScriptedPayment::Answer(PaymentAnswer::Confirm));
    t
}

/// The cashier signed by its verified publisher (a medical one), and
/// alice with 1,000.00 in her wallet and a card paying 70 % up to `cap`.
async fn verified_cashier(cap: u64) -> TestHost {
    let t = host();
    let key = register_publisher(&t, &CASHIER, true);
    t.host
        .install(signed_package(&CASHIER, &CASHIER.manifest_text(), &key))
        .await
        .unwrap();
    t.prompter
        .answer_payments(ScriptedPayment::Answer(PaymentAnswer::Confirm));
    t.host.top_up("alice", 100_000, "CNY").unwrap();
    t.host
        .bind_insurance_card(
            "alice",
            "330100-1234",
            "Li Na",
            "Hangzhou basic medical insurance",
            7_000,
            cap,
        )
        .unwrap();
    t
}

/// The parts of a paid page: (insurance, wallet).
fn split(page: &Page) -> (u64, u64) {
    assert_eq!(outcome(page), "paid", "{}", text(page));
    (num(page, "insurance part"), num(page, "wallet part"))
}

/// The audit log's `payment.insurance` decisions, denied ones' details.
fn insurance_denials(t: &TestHost) -> Vec<String> {
    t.host
        .audit(&AuditQuery::default())
        .unwrap()
        .into_iter()
        .filter(|e| e.capability == "payment.insurance" && e.outcome == Outcome::Denied)
        .map(|e| e.detail)
        .collect()
}

/// Opens the cashier at `path`; a payment path is paid with the user's tap.
async fn open(t: &TestHost, user: &str, path: &str) -> Page {
    let s = t.host.session(user, APP).unwrap();
    if path.starts_with("/pay") {
        launch_and_pay(&s, path).await.unwrap()
    } else {
        s.launch(path).await.unwrap()
    }
}

fn outcome(page: &Page) -> String {
    field(page, "outcome").unwrap_or_else(|| panic!("no outcome:\n{}", text(page)))
}

fn num(page: &Page, label: &str) -> u64 {
    field(page, label)
        .unwrap_or_else(|| panic!("no {label}:\n{}", text(page)))
        .parse()
        .unwrap()
}

fn receipt_of(page: &Page) -> Receipt {
    Receipt {
        transaction_id: field(page, "transaction").unwrap(),
        app_id: APP.into(),
        order_id: field(page, "order").unwrap(),
        amount: num(page, "amount"),
        currency: "CNY".into(),
        wallet_part: num(page, "wallet part"),
        insurance_part: num(page, "insurance part"),
        payee: field(page, "payee").unwrap(),
        paid_at_ms: field(page, "paid at").unwrap().parse().unwrap(),
        signature: field(page, "signature").unwrap(),
    }
}

fn assert_ledger_clean(t: &TestHost) {
    let report = t.host.verify_ledger().unwrap();
    assert!(report.is_clean(), "{:?}", report.problems);
}

#[tokio::test]
async fn a_confirmed_payment_moves_money_with_a_verifiable_receipt() {
    let t = cashier().await;
    t.host.top_up("alice", 10_000, "CNY").unwrap();
    let page = open(&t, "alice", "/pay?order=o-1&amount=2500").await;
    assert_eq!(outcome(&page), "paid", "{}", text(&page));
    assert_eq!(num(&page, "wallet part"), 2500);
    assert_eq!(num(&page, "insurance part"), 0);
    assert_eq!(t.host.wallet_balance("alice").unwrap(), 7_500);
    assert_eq!(t.host.merchant_balance(PUBLISHER).unwrap(), 2_500);

    // The user was shown the amount, the bill and who gets the money.
    let prompts = t.prompter.payment_prompts();
    assert_eq!(prompts.len(), 1);
    assert_eq!(prompts[0].amount, 2_500);
    assert_eq!(prompts[0].items.len(), 1);
    assert_eq!(prompts[0].wallet_balance, 10_000);
    assert_eq!(prompts[0].payee, field(&page, "payee").unwrap());

    // The mini-app's backend can check the receipt with the host's key.
    let receipt = receipt_of(&page);
    let pk = t.host.public_key();
    assert!(plaza_host::keys::verify(
        &pk,
        &receipt_message(&receipt),
        &receipt.signature
    ));
    let mut forged = receipt.clone();
    forged.amount = 25;
    assert!(!plaza_host::keys::verify(
        &pk,
        &receipt_message(&forged),
        &receipt.signature
    ));

    let history = t.host.wallet_history("alice", 10).unwrap();
    assert_eq!(
        history
            .iter()
            .map(|e| (e.kind.as_str(), e.amount))
            .collect::<Vec<_>>(),
        vec![("payment", -2_500), ("topup", 10_000)]
    );
    assert_ledger_clean(&t);
    let audit = t.host.audit(&AuditQuery::default()).unwrap();
    assert!(audit.iter().any(|e| e.capability == "payment.request"
        && e.outcome == Outcome::Allowed
        && e.detail.contains("paid CNY 25.00 for order o-1")));
}

#[tokio::test]
async fn a_retried_order_returns_the_first_receipt_and_a_changed_one_is_refused() {
    let t = cashier().await;
    t.host.top_up("alice", 10_000, "CNY").unwrap();
    let first = open(&t, "alice", "/pay?order=o-1&amount=2500").await;
    let again = open(&t, "alice", "/pay?order=o-1&amount=2500").await;
    assert_eq!(outcome(&again), "paid");
    assert_eq!(field(&again, "transaction"), field(&first, "transaction"));
    assert_eq!(
        t.prompter.payment_prompts().len(),
        1,
        "a retry is not asked again"
    );
    assert_eq!(t.host.wallet_balance("alice").unwrap(), 7_500, "paid once");

    let replay = open(&t, "alice", "/pay?order=o-1&amount=1").await;
    let o = outcome(&replay);
    assert!(
        o.starts_with("error invalid-argument:") && o.contains("already paid"),
        "{o}"
    );
    // Another user cannot reuse the order id either.
    t.host.top_up("bob", 10_000, "CNY").unwrap();
    let bob = open(&t, "bob", "/pay?order=o-1&amount=2500").await;
    assert!(
        outcome(&bob).starts_with("error invalid-argument:"),
        "{}",
        outcome(&bob)
    );
    assert_eq!(t.host.wallet_balance("bob").unwrap(), 10_000);
    assert_eq!(t.host.merchant_balance(PUBLISHER).unwrap(), 2_500);
    assert_eq!(t.prompter.payment_prompts().len(), 1);
    assert_ledger_clean(&t);
}

#[tokio::test]
async fn declined_timed_out_and_cancelled_are_distinct_and_move_nothing() {
    let t = cashier().await;
    t.host.top_up("alice", 10_000, "CNY").unwrap();
    for (answer, expected) in [
        (ScriptedPayment::Answer(PaymentAnswer::Decline), "declined"),
        (ScriptedPayment::Answer(PaymentAnswer::Cancel), "cancelled"),
        (ScriptedPayment::Never, "timed-out"),
    ] {
        t.prompter.answer_payments(answer);
        let page = open(&t, "alice", &format!("/pay?order={expected}&amount=100")).await;
        assert_eq!(outcome(&page), expected);
    }
    assert_eq!(t.host.wallet_balance("alice").unwrap(), 10_000);
    assert_eq!(t.host.merchant_balance(PUBLISHER).unwrap(), 0);
    // A declined order can be paid later.
    t.prompter
        .answer_payments(ScriptedPayment::Answer(PaymentAnswer::Confirm));
    assert_eq!(
        outcome(&open(&t, "alice", "/pay?order=declined&amount=100").await),
        "paid"
    );
    assert_ledger_clean(&t);
}

#[tokio::test]
async fn insufficient_funds_is_a_result_and_the_wallet_never_goes_below_zero() {
    let t = cashier().await;
    t.host.top_up("alice", 1_000, "CNY").unwrap();
    let page = open(&t, "alice", "/pay?order=o-1&amount=1001").await;
    // The mini-app learns what the wallet had to pay, not what it holds.
    assert_eq!(outcome(&page), "insufficient-funds 1001 0");
    assert_eq!(t.host.wallet_balance("alice").unwrap(), 1_000);
    let page = open(&t, "alice", "/pay?order=o-2&amount=1000").await;
    assert_eq!(outcome(&page), "paid");
    assert_eq!(t.host.wallet_balance("alice").unwrap(), 0);
    assert_ledger_clean(&t);
}

#[tokio::test]
async fn malformed_requests_are_invalid_arguments_without_a_prompt() {
    let t = cashier().await;
    t.host.top_up("alice", 10_000, "CNY").unwrap();
    let o = outcome(&open(&t, "alice", "/pay-mismatch?order=m-1").await);
    assert!(
        o.starts_with("error invalid-argument:") && o.contains("add up to 90"),
        "{o}"
    );
    let o = outcome(&open(&t, "alice", "/pay-usd?order=u-1").await);
    assert!(
        o.starts_with("error invalid-argument:") && o.contains("USD"),
        "{o}"
    );
    let o = outcome(&open(&t, "alice", "/pay?order=bad%20id&amount=5").await);
    assert!(o.starts_with("error invalid-argument:"), "{o}");
    let o = outcome(&open(&t, "alice", "/pay?order=z-1&amount=0").await);
    assert!(o.starts_with("error invalid-argument:"), "{o}");
    assert!(t.prompter.payment_prompts().is_empty());
    assert_eq!(t.host.wallet_balance("alice").unwrap(), 10_000);
}

#[tokio::test]
async fn the_description_cannot_change_who_is_paid() {
    let t = cashier().await;
    t.host.top_up("alice", 10_000, "CNY").unwrap();
    let page = open(
        &t,
        "alice",
        "/pay-as?order=o-1&amount=500&description=Payee:%20Bank%20of%20China",
    )
    .await;
    assert_eq!(outcome(&page), "paid");
    let payee = field(&page, "payee").unwrap();
    assert!(!payee.contains("Bank of China"), "{payee}");
    assert_eq!(t.prompter.payment_prompts()[0].payee, payee);
    assert_eq!(t.host.merchant_balance(PUBLISHER).unwrap(), 500);
}

#[tokio::test]
async fn refunds_never_exceed_what_was_paid() {
    let t = cashier().await;
    t.host.top_up("alice", 10_000, "CNY").unwrap();
    open(&t, "alice", "/pay?order=o-1&amount=1000").await;
    let r = open(&t, "alice", "/refund?order=o-1&amount=600").await;
    assert_eq!(outcome(&r), "refunded");
    assert_eq!(num(&r, "wallet part"), 600);
    let over = outcome(&open(&t, "alice", "/refund?order=o-1&amount=401").await);
    assert!(
        over.starts_with("error invalid-argument:") && over.contains("400 left"),
        "{over}"
    );
    assert_eq!(
        outcome(&open(&t, "alice", "/refund?order=o-1&amount=400").await),
        "refunded"
    );
    let zero = outcome(&open(&t, "alice", "/refund?order=o-1&amount=1").await);
    assert!(zero.contains("0 left"), "{zero}");
    let q = open(&t, "alice", "/query?order=o-1").await;
    assert_eq!(num(&q, "refunded"), 1000);
    assert_eq!(t.host.wallet_balance("alice").unwrap(), 10_000);
    assert_eq!(t.host.merchant_balance(PUBLISHER).unwrap(), 0);
    let nothing = outcome(&open(&t, "alice", "/refund?order=never-paid&amount=1").await);
    assert!(nothing.starts_with("error not-found:"), "{nothing}");
    assert_ledger_clean(&t);
}

/// A refund retried after a crash or a timeout (the mini-app never saw the
/// answer) with the same refund id refunds once: `refunds.refund`, beside
/// `payment.refund`, which components of `plaza:host@0.1.0` keep.
#[tokio::test]
async fn a_refund_retried_with_its_refund_id_refunds_once() {
    let t = cashier().await;
    t.host.top_up("alice", 10_000, "CNY").unwrap();
    open(&t, "alice", "/pay?order=o-1&amount=1000").await;
    let first = open(&t, "alice", "/refund?order=o-1&amount=300&refund_id=rf-1").await;
    assert_eq!(outcome(&first), "refunded", "{}", text(&first));
    let retried = open(&t, "alice", "/refund?order=o-1&amount=300&refund_id=rf-1").await;
    assert_eq!(outcome(&retried), "refunded");
    assert_eq!(field(&retried, "transaction"), field(&first, "transaction"));
    assert_eq!(t.host.wallet_balance("alice").unwrap(), 9_300);
    let reused = outcome(&open(&t, "alice", "/refund?order=o-1&amount=200&refund_id=rf-1").await);
    assert!(reused.starts_with("error invalid-argument:"), "{reused}");
    let bad = outcome(
        &open(
            &t,
            "alice",
            "/refund?order=o-1&amount=200&refund_id=no%20spaces",
        )
        .await,
    );
    assert!(bad.starts_with("error invalid-argument:"), "{bad}");
    // Without a refund id, each call refunds (the 0.1.0 function).
    open(&t, "alice", "/refund?order=o-1&amount=100").await;
    open(&t, "alice", "/refund?order=o-1&amount=100").await;
    assert_eq!(t.host.wallet_balance("alice").unwrap(), 9_500);
    assert_eq!(
        num(&open(&t, "alice", "/query?order=o-1").await, "refunded"),
        500
    );
    assert_ledger_clean(&t);
}

#[tokio::test]
async fn a_mini_app_cannot_refund_query_or_list_another_mini_apps_payments() {
    let t = cashier().await;
    let other = manifest_replacing(&CASHIER, "test.plaza.cashier", "test.plaza.cashier-two");
    t.host
        .install(package_with_manifest(&CASHIER, &other))
        .await
        .unwrap();
    t.host.top_up("alice", 10_000, "CNY").unwrap();
    open(&t, "alice", "/pay?order=o-1&amount=1000").await;

    let s = t.host.session("alice", "test.plaza.cashier-two").unwrap();
    let page = s.launch("/refund?order=o-1&amount=1000").await.unwrap();
    assert!(
        outcome(&page).starts_with("error not-found:"),
        "{}",
        outcome(&page)
    );
    let page = s.launch("/query?order=o-1").await.unwrap();
    assert!(outcome(&page).starts_with("error not-found:"));
    let page = s.launch("/history?limit=10").await.unwrap();
    assert_eq!(field(&page, "payment 1"), None, "{}", text(&page));
    // Nor can the same mini-app see another user's payment.
    let bob = open(&t, "bob", "/query?order=o-1").await;
    assert!(outcome(&bob).starts_with("error not-found:"));
    let bob = open(&t, "bob", "/refund?order=o-1&amount=1").await;
    assert!(outcome(&bob).starts_with("error not-found:"));
    assert_eq!(t.host.merchant_balance(PUBLISHER).unwrap(), 1_000);
    assert_eq!(t.host.wallet_balance("alice").unwrap(), 9_000);
}

#[tokio::test]
async fn insurance_pays_its_share_up_to_the_annual_cap_and_refunds_return_each_part() {
    // 70 % coverage, 100.00 a year.
    let t = verified_cashier(10_000).await;
    let first = open(
        &t,
        "alice",
        "/pay-insured?order=i-1&eligible=5000&other=1000",
    )
    .await;
    assert_eq!(outcome(&first), "paid", "{}", text(&first));
    assert_eq!(num(&first, "insurance part"), 3_500);
    assert_eq!(num(&first, "wallet part"), 2_500);
    assert_eq!(t.prompter.payment_prompts()[0].insurance_part, 3_500);
    assert_eq!(t.host.insurance("alice").unwrap().unwrap().1, 6_500);

    // The cap limits the next bill: 70 % of 200.00 is 140.00, 65.00 left.
    let second = open(&t, "alice", "/pay-insured?order=i-2&eligible=20000&other=0").await;
    assert_eq!(num(&second, "insurance part"), 6_500);
    assert_eq!(num(&second, "wallet part"), 13_500);
    let third = open(&t, "alice", "/pay-insured?order=i-3&eligible=1000&other=0").await;
    assert_eq!(num(&third, "insurance part"), 0);
    assert_eq!(t.host.insurance_fund_paid().unwrap(), 10_000);

    // Refunding the first returns 35.00 to the fund and 25.00 to the wallet,
    // and the cap grows back.
    let r = open(&t, "alice", "/refund?order=i-1&amount=6000").await;
    assert_eq!(
        (num(&r, "wallet part"), num(&r, "insurance part")),
        (2_500, 3_500)
    );
    assert_eq!(t.host.insurance("alice").unwrap().unwrap().1, 3_500);
    assert_eq!(t.host.insurance_fund_paid().unwrap(), 6_500);
    assert_eq!(
        t.host.wallet_balance("alice").unwrap(),
        100_000 - 2_500 - 13_500 - 1_000 + 2_500
    );
    assert_ledger_clean(&t);
}

#[tokio::test]
async fn only_publishers_the_policy_allows_settle_with_insurance() {
    let t = cashier().await;
    let shop = manifest_replacing(
        &CASHIER,
        "category = \"medical\"",
        "category = \"commerce\"",
    );
    let shop = shop.replace("test.plaza.cashier", "test.plaza.shop-cashier");
    t.host
        .install(package_with_manifest(&CASHIER, &shop))
        .await
        .unwrap();
    t.host.top_up("alice", 100_000, "CNY").unwrap();
    t.host
        .bind_insurance_card("alice", "c", "Li Na", "scheme", 7_000, 10_000)
        .unwrap();
    let s = t.host.session("alice", "test.plaza.shop-cashier").unwrap();
    let page = launch_and_pay(&s, "/pay-insured?order=s-1&eligible=5000&other=0")
        .await
        .unwrap();
    assert_eq!(outcome(&page), "paid");
    assert_eq!(num(&page, "insurance part"), 0);
    assert_eq!(num(&page, "wallet part"), 5_000);
}

#[tokio::test]
async fn a_trap_after_paying_leaves_exactly_one_complete_payment() {
    let t = cashier().await;
    t.host.top_up("alice", 10_000, "CNY").unwrap();
    let s = t.host.session("alice", APP).unwrap();
    let err = launch_and_pay(&s, "/pay-then-trap?order=t-1&amount=700")
        .await
        .unwrap_err();
    match err {
        Error::SessionEnded {
            fault: GuestFault::Trap(msg),
            ..
        } => {
            assert!(msg.contains("trapped after paying"), "{msg}")
        }
        other => panic!("expected a trap, got {other}"),
    }
    assert_eq!(t.host.wallet_balance("alice").unwrap(), 9_300);
    assert_eq!(t.host.merchant_balance(PUBLISHER).unwrap(), 700);
    let q = open(&t, "alice", "/query?order=t-1").await;
    assert_eq!(outcome(&q), "found");
    assert_eq!(num(&q, "amount"), 700);
    assert_ledger_clean(&t);
}

#[tokio::test]
async fn history_pages_newest_first() {
    let t = cashier().await;
    t.host.top_up("alice", 10_000, "CNY").unwrap();
    for i in 1..=5 {
        open(&t, "alice", &format!("/pay?order=h-{i}&amount={}", i * 10)).await;
    }
    open(&t, "alice", "/refund?order=h-2&amount=5").await;
    let p1 = open(&t, "alice", "/history?limit=2").await;
    assert_eq!(
        field(&p1, "payment 1").as_deref(),
        Some("h-5 50 refunded 0")
    );
    assert_eq!(
        field(&p1, "payment 2").as_deref(),
        Some("h-4 40 refunded 0")
    );
    let cursor = field(&p1, "next cursor").unwrap();
    let p2 = open(&t, "alice", &format!("/history?limit=2&cursor={cursor}")).await;
    assert_eq!(
        field(&p2, "payment 1").as_deref(),
        Some("h-3 30 refunded 0")
    );
    assert_eq!(
        field(&p2, "payment 2").as_deref(),
        Some("h-2 20 refunded 5")
    );
    let cursor = field(&p2, "next cursor").unwrap();
    let p3 = open(&t, "alice", &format!("/history?limit=2&cursor={cursor}")).await;
    assert_eq!(
        field(&p3, "payment 1").as_deref(),
        Some("h-1 10 refunded 0")
    );
    assert_eq!(field(&p3, "next cursor").as_deref(), Some(""));
    let bad = open(&t, "alice", "/history?limit=500").await;
    assert!(outcome(&bad).starts_with("error invalid-argument:"));
}

/// An unsigned package (developer mode) may claim the medical category and
/// mark its items eligible: it runs as an unverified publisher, and the
/// wallet pays the whole bill.
#[tokio::test]
async fn an_unverified_publishers_medical_app_settles_no_insurance() {
    let t = cashier().await;
    t.host.top_up("alice", 100_000, "CNY").unwrap();
    t.host
        .bind_insurance_card("alice", "c", "Li Na", "scheme", 7_000, 10_000)
        .unwrap();
    let page = open(&t, "alice", "/pay-insured?order=u-1&eligible=5000&other=0").await;
    assert_eq!(split(&page), (0, 5_000));
    // The user was asked for the whole amount from the wallet.
    assert_eq!(t.prompter.payment_prompts()[0].insurance_part, 0);
    assert!(!t.prompter.payment_prompts()[0].items[0].insurance_eligible);
    assert_eq!(t.host.insurance_fund_paid().unwrap(), 0);
    let denials = insurance_denials(&t);
    assert!(
        denials.len() == 1 && denials[0].contains("only for verified publishers"),
        "{denials:?}"
    );
    assert_ledger_clean(&t);
}

/// The operator's list of what insurance may cover for a publisher decides,
/// not the mini-app's flag: an item of a kind not on the list is paid from
/// the wallet (the bill still goes through: the user is shown the split
/// and confirms it), and a publisher whose list is empty settles nothing.
#[tokio::test]
async fn insurance_covers_only_the_item_kinds_the_operator_allows_the_publisher() {
    let t = verified_cashier(100_000).await;
    // By default a verified medical publisher's consultations are covered.
    let page = open(&t, "alice", "/pay-insured?order=k-1&eligible=1000&other=0").await;
    assert_eq!(split(&page), (700, 300));

    // The operator allows this publisher medicines only: the consultation
    // the cashier marks eligible is the wallet's.
    let mut policy = plaza_host::policy::Policy::default();
    policy.allow_insurance_items(PUBLISHER, ["Medicine"]);
    t.host.set_policy(policy.clone());
    let page = open(&t, "alice", "/pay-insured?order=k-2&eligible=1000&other=0").await;
    assert_eq!(split(&page), (0, 1_000));
    let prompt = t.prompter.payment_prompts().pop().unwrap();
    assert_eq!((prompt.insurance_part, prompt.wallet_part), (0, 1_000));
    // The stored bill says what the host decided.
    let q = t.host.payments(APP, "alice", None, 100).unwrap();
    let k2 = q.iter().find(|p| p.receipt.order_id == "k-2").unwrap();
    assert!(!k2.items[0].insurance_eligible);

    // Consultations allowed again, for this publisher by name.
    policy.allow_insurance_items(PUBLISHER, ["consultation", "medicine"]);
    t.host.set_policy(policy.clone());
    let page = open(&t, "alice", "/pay-insured?order=k-3&eligible=1000&other=0").await;
    assert_eq!(split(&page), (700, 300));

    // An empty list: nothing.
    policy.allow_insurance_items(PUBLISHER, [] as [&str; 0]);
    t.host.set_policy(policy);
    let page = open(&t, "alice", "/pay-insured?order=k-4&eligible=1000&other=0").await;
    assert_eq!(split(&page), (0, 1_000));
    assert!(
        insurance_denials(&t)
            .iter()
            .any(|d| d.contains("cover no item")),
        "{:?}",
        insurance_denials(&t)
    );
    assert_eq!(t.host.insurance_fund_paid().unwrap(), 1_400);
    assert_ledger_clean(&t);
}

/// A publisher removed from the registry settles no more insurance: not in
/// a session that was open before, nor in a new one.
#[tokio::test]
async fn a_publisher_removed_from_the_registry_settles_no_more_insurance() {
    let t = verified_cashier(100_000).await;
    let s = t.host.session("alice", APP).unwrap();
    let before = launch_and_pay(&s, "/pay-insured?order=r-1&eligible=1000&other=0")
        .await
        .unwrap();
    assert_eq!(split(&before), (700, 300));

    assert!(t.host.remove_publisher(PUBLISHER).unwrap());
    let same_session = launch_and_pay(&s, "/pay-insured?order=r-2&eligible=1000&other=0")
        .await
        .unwrap();
    assert_eq!(split(&same_session), (0, 1_000));
    let new_session = open(&t, "alice", "/pay-insured?order=r-3&eligible=1000&other=0").await;
    assert_eq!(split(&new_session), (0, 1_000));
    assert_eq!(t.host.insurance_fund_paid().unwrap(), 700);
    assert!(
        insurance_denials(&t)
            .iter()
            .any(|d| d.contains("only for verified publishers in the host's registry")),
        "{:?}",
        insurance_denials(&t)
    );
    assert_ledger_clean(&t);
}

/// Small refunds do not move the fund's share to the wallet: thirty
/// one-fen refunds of a 10.00 bill paid 7.00 by insurance return 0.21 to
/// the fund and 0.09 to the wallet (before, all 0.30 went to the wallet),
/// and the rest completes both parts exactly.
#[tokio::test]
async fn one_fen_refunds_return_the_funds_share_to_the_fund() {
    let t = verified_cashier(100_000).await;
    let page = open(&t, "alice", "/pay-insured?order=f-1&eligible=1000&other=0").await;
    assert_eq!(split(&page), (700, 300));
    let (mut to_wallet, mut to_fund) = (0, 0);
    let s = t.host.session("alice", APP).unwrap();
    for _ in 0..30 {
        let r = s.launch("/refund?order=f-1&amount=1").await.unwrap();
        assert_eq!(outcome(&r), "refunded", "{}", text(&r));
        to_wallet += num(&r, "wallet part");
        to_fund += num(&r, "insurance part");
    }
    assert_eq!((to_wallet, to_fund), (9, 21));
    assert_eq!(t.host.insurance_fund_paid().unwrap(), 700 - 21);
    assert_ledger_clean(&t);
    let rest = s.launch("/refund?order=f-1&amount=970").await.unwrap();
    assert_eq!(
        (num(&rest, "wallet part"), num(&rest, "insurance part")),
        (291, 679)
    );
    assert_eq!(t.host.insurance_fund_paid().unwrap(), 0);
    assert_eq!(t.host.wallet_balance("alice").unwrap(), 100_000);
    assert_ledger_clean(&t);
}

/// Makes every audit entry of `capability` allowed fail to be written (a
/// trigger in the store: a full disk, say), until the returned guard drops.
struct FailingAudit {
    conn: rusqlite::Connection,
}

impl FailingAudit {
    fn for_allowed(t: &TestHost, capability: &str) -> FailingAudit {
        let conn = rusqlite::Connection::open(t.store_file()).unwrap();
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .unwrap();
        conn.execute_batch(&format!(
            "CREATE TRIGGER fail_audit BEFORE INSERT ON audit
             WHEN NEW.capability = '{capability}' AND NEW.outcome = 'allowed'
             BEGIN SELECT RAISE(ABORT, 'the audit log cannot be written'); END;"
        ))
        .unwrap();
        FailingAudit { conn }
    }
}

impl Drop for FailingAudit {
    fn drop(&mut self) {
        self.conn
            .execute_batch("DROP TRIGGER IF EXISTS fail_audit")
            .unwrap();
    }
}

/// A payment and its audit entry commit together: when the entry cannot be
/// written no money moves and the mini-app is told nothing was paid; the
/// same order paid again then is paid once, reported as paid, with one
/// entry. The same for a refund.
#[tokio::test]
async fn a_payment_whose_audit_entry_cannot_be_written_moves_no_money() {
    let t = cashier().await;
    t.host.top_up("alice", 10_000, "CNY").unwrap();
    let failing = FailingAudit::for_allowed(&t, "payment.request");
    let page = open(&t, "alice", "/pay?order=a-1&amount=2500").await;
    assert!(
        outcome(&page).starts_with("error unavailable:")
            && outcome(&page).contains("nothing was paid"),
        "{}",
        text(&page)
    );
    assert_eq!(t.host.wallet_balance("alice").unwrap(), 10_000);
    assert_eq!(t.host.merchant_balance(PUBLISHER).unwrap(), 0);
    assert!(t.host.payments(APP, "alice", None, 100).unwrap().is_empty());
    drop(failing);

    let page = open(&t, "alice", "/pay?order=a-1&amount=2500").await;
    assert_eq!(outcome(&page), "paid", "{}", text(&page));
    let tx = field(&page, "transaction").unwrap();
    assert_eq!(t.host.wallet_balance("alice").unwrap(), 7_500);
    let paid: Vec<_> = t
        .host
        .audit(&AuditQuery::default())
        .unwrap()
        .into_iter()
        .filter(|e| e.capability == "payment.request" && e.outcome == Outcome::Allowed)
        .map(|e| e.detail)
        .collect();
    assert_eq!(paid.len(), 1, "{paid:?}");
    assert!(paid[0].contains(&format!("order a-1 in {tx}")), "{paid:?}");

    let failing = FailingAudit::for_allowed(&t, "payment.refund");
    let r = open(&t, "alice", "/refund?order=a-1&amount=1000").await;
    assert!(
        outcome(&r).starts_with("error unavailable:"),
        "{}",
        text(&r)
    );
    assert_eq!(t.host.wallet_balance("alice").unwrap(), 7_500);
    drop(failing);
    let r = open(&t, "alice", "/refund?order=a-1&amount=1000").await;
    assert_eq!(outcome(&r), "refunded", "{}", text(&r));
    assert_eq!(t.host.wallet_balance("alice").unwrap(), 8_500);
    assert_ledger_clean(&t);
}

/// The history's cursor is the transaction id of the last payment the
/// mini-app was shown (it has it from the receipt), not the host-wide
/// count of payments: another mini-app's sales do not show in it, and
/// another mini-app's or user's payment is not a cursor.
#[tokio::test]
async fn the_history_cursor_is_the_mini_apps_own_and_counts_no_rivals_sales() {
    let t = cashier().await;
    let rival = manifest_replacing(&CASHIER, "test.plaza.cashier", "test.plaza.rival");
    t.host
        .install(package_with_manifest(&CASHIER, &rival))
        .await
        .unwrap();
    t.host.top_up("alice", 100_000, "CNY").unwrap();
    t.host.top_up("bob", 100_000, "CNY").unwrap();
    let first = open(&t, "alice", "/pay?order=h-1&amount=10").await;
    // The rival sells a lot in between.
    let rival_s = t.host.session("bob", "test.plaza.rival").unwrap();
    let mut rival_tx = String::new();
    for i in 0..5 {
        let p = launch_and_pay(&rival_s, &format!("/pay?order=x-{i}&amount=10"))
            .await
            .unwrap();
        rival_tx = field(&p, "transaction").unwrap();
    }
    open(&t, "alice", "/pay?order=h-2&amount=20").await;
    let page = open(&t, "alice", "/history?limit=1").await;
    assert_eq!(
        field(&page, "payment 1").as_deref(),
        Some("h-2 20 refunded 0")
    );
    let cursor = field(&page, "next cursor").unwrap();
    let h2 = t.host.payments(APP, "alice", None, 100).unwrap();
    let h2_tx = &h2
        .iter()
        .find(|p| p.receipt.order_id == "h-2")
        .unwrap()
        .receipt
        .transaction_id;
    assert_eq!(&cursor, h2_tx);
    let next = open(&t, "alice", &format!("/history?limit=1&cursor={cursor}")).await;
    assert_eq!(
        field(&next, "payment 1").as_deref(),
        Some("h-1 10 refunded 0")
    );
    assert_eq!(field(&next, "next cursor").as_deref(), Some(""));
    assert_eq!(
        field(&first, "transaction"),
        Some(
            h2.iter()
                .find(|p| p.receipt.order_id == "h-1")
                .unwrap()
                .receipt
                .transaction_id
                .clone()
        )
    );
    // The old cursors (a host-wide number) and other apps' payments are
    // not cursors.
    for bad in ["7", rival_tx.as_str()] {
        let page = open(&t, "alice", &format!("/history?limit=1&cursor={bad}")).await;
        assert!(
            outcome(&page).starts_with("error invalid-argument:"),
            "{bad}: {}",
            text(&page)
        );
    }
}
