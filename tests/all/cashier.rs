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
    assert_eq!(outcome(&page), "insufficient-funds 1001 1000");
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
    let t = cashier().await;
    t.host.top_up("alice", 100_000, "CNY").unwrap();
    // 70 % coverage, 100.00 a year.
    t.host
        .bind_insurance_card(
            "alice",
            "330100-1234",
            "Li Na",
            "Hangzhou basic medical insurance",
            7_000,
            10_000,
        )
        .unwrap();
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
