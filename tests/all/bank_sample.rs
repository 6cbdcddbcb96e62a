//! The bank sample, page by page: the card's statement, a minimum and then a
//! full repayment from the wallet (money in the ledger), the long-term
//! "repayment due" message, the exchange rates and a conversion, a branch
//! appointment kept and cancelled.

use crate::support::*;
use plaza_host::prompt::{PaymentAnswer, ScriptedPayment, SubscriptionAnswer};
use plaza_host::{Block, Navigation, Page};
use plaza_test_programs::BANK;
use std::time::Duration;

const APP: &str = "cn.westlake.bank";
const PUBLISHER: &str = "cn.westlake.bank";
const CARD: &str = "6222 0210 0123 4567";

fn offers(page: &Page, action: &str) -> bool {
    plaza_host::page::offered_actions(page).contains(&action.to_string())
}

fn items(page: &Page) -> Vec<String> {
    page.blocks
        .iter()
        .filter_map(|b| match b {
            Block::Item(i) => Some(i.title.clone()),
            _ => None,
        })
        .collect()
}

async fn bank() -> TestHost {
    let t = host();
    install(&t, &BANK).await;
    t.host.top_up("li-na", 200_000, "CNY").unwrap();
    t.prompter
        .answer_payments(ScriptedPayment::Answer(PaymentAnswer::Confirm));
    t
}

#[tokio::test]
async fn the_statement_repaid_from_the_wallet() {
    let t = bank().await;
    let s = t.host.session("li-na", APP).unwrap();
    let home = s.launch("/").await.unwrap();
    assert_eq!(home.title, "West Lake Bank");
    for action in ["statement", "branches", "rates"] {
        assert!(offers(&home, action), "{action}:\n{}", text(&home));
    }

    // The first time, the card's number.
    let ask = s.tap("statement").await.unwrap();
    assert_eq!(ask.title, "Your credit card");
    let bad = s.submit("card", &[("number", "1234")]).await.unwrap();
    assert!(notices(&bad)[0].contains("16 digits"), "{}", text(&bad));
    let statement = s.submit("card", &[("number", CARD)]).await.unwrap();
    assert_eq!(
        statement.title,
        "Credit-card statement",
        "{}",
        text(&statement)
    );
    assert_eq!(statement.navigation, Navigation::Replace);
    assert_eq!(field(&statement, "Card").as_deref(), Some("···· 4567"));
    // The test clock says 21 Nov 2026: October's statement, due on the 25th.
    assert_eq!(field(&statement, "Period").as_deref(), Some("Oct 2026"));
    assert_eq!(field(&statement, "Due").as_deref(), Some("Wed 25 Nov 2026"));
    assert_eq!(
        field(&statement, "Statement balance").as_deref(),
        Some("CNY 874.16")
    );
    assert_eq!(
        field(&statement, "Minimum payment").as_deref(),
        Some("CNY 87.41")
    );
    assert!(items(&statement).len() >= 3, "{}", text(&statement));

    // The minimum first.
    let paid = s.tap("repay-minimum").await.unwrap();
    assert_eq!(paid.title, "Repayment", "{}", text(&paid));
    assert_eq!(field(&paid, "Amount").as_deref(), Some("CNY 87.41"));
    assert_eq!(field(&paid, "Left to repay").as_deref(), Some("CNY 786.75"));
    assert_eq!(
        Some(t.prompter.payment_prompts()[0].payee.clone()),
        field(&paid, "Payee")
    );
    assert_eq!(t.host.wallet_balance("li-na").unwrap(), 200_000 - 8_741);

    // The card is remembered in a new session; the minimum is no longer
    // offered, the rest is.
    s.close().await;
    let s = t.host.session("li-na", APP).unwrap();
    let statement = s.launch("/statement").await.unwrap();
    assert_eq!(field(&statement, "Repaid").as_deref(), Some("CNY 87.41"));
    assert!(!offers(&statement, "repay-minimum"), "{}", text(&statement));
    let full = s.tap("repay-full").await.unwrap();
    assert_eq!(field(&full, "Amount").as_deref(), Some("CNY 786.75"));
    assert_eq!(field(&full, "Left to repay").as_deref(), Some("CNY 0.00"));

    let statement = s.tap("statement").await.unwrap();
    assert!(
        notices(&statement).contains(&"This statement is repaid in full. Thank you.".to_string()),
        "{}",
        text(&statement)
    );
    assert!(!offers(&statement, "repay-full"));
    assert_eq!(t.host.wallet_balance("li-na").unwrap(), 200_000 - 87_416);
    assert_eq!(t.host.merchant_balance(PUBLISHER).unwrap(), 87_416);
    let report = t.host.verify_ledger().unwrap();
    assert!(report.is_clean(), "{:?}", report.problems);
    assert_eq!(report.payments, 2);
}

#[tokio::test]
async fn a_repayment_the_wallet_cannot_cover_charges_nothing() {
    let t = host();
    install(&t, &BANK).await;
    t.host.top_up("li-na", 5_000, "CNY").unwrap();
    t.prompter
        .answer_payments(ScriptedPayment::Answer(PaymentAnswer::Confirm));
    let s = t.host.session("li-na", APP).unwrap();
    s.launch("/statement").await.unwrap();
    s.submit("card", &[("number", CARD)]).await.unwrap();
    let short = s.tap("repay-minimum").await.unwrap();
    assert!(
        notices(&short)[0].contains("Your wallet does not hold the CNY 87.41 needed"),
        "{}",
        text(&short)
    );
    assert_eq!(t.host.wallet_balance("li-na").unwrap(), 5_000);
    let statement = s.tap("statement").await.unwrap();
    assert_eq!(field(&statement, "Repaid").as_deref(), Some("CNY 0.00"));
}

#[tokio::test]
async fn the_repayment_due_message_three_days_before_the_due_date() {
    let t = host_with_offices();
    t.install_sample(&BANK).await;
    t.prompter
        .answer_subscriptions(SubscriptionAnswer::AcceptLongTerm);
    let s = t.host.session("li-na", APP).unwrap();
    s.launch("/statement").await.unwrap();
    s.submit("card", &[("number", CARD)]).await.unwrap();
    let remind = s.tap("remind").await.unwrap();
    assert_eq!(remind.title, "Repayment reminders");
    assert_eq!(
        notices(&remind),
        vec!["You will be reminded three days before the due date, Wed 25 Nov 2026.".to_string()]
    );
    // Offered long-term: the bank is a finance publisher.
    let offered = &t.prompter.subscription_prompts()[0].templates;
    assert_eq!(offered[0].id, "repayment-due");
    assert!(offered[0].long_term);
    // Nothing at subscribe time: the back office sends it.
    assert!(t.host.inbox("li-na", false, 10).unwrap().is_empty());
    // Asked again, the same card and due date: still one reminder to come.
    s.tap("statement").await.unwrap();
    s.tap("remind").await.unwrap();

    // Sat 21 Nov, four days before the 25th: not yet.
    let report = t.run("bank", "send-reminders", &[]);
    assert!(report.done.is_empty(), "{report}");
    assert!(t.host.inbox("li-na", false, 10).unwrap().is_empty());
    // Sun 22 Nov, three days before: the reminder, once.
    t.clock.advance(Duration::from_secs(24 * 3600));
    let report = t.run("bank", "send-reminders", &[]);
    assert_eq!(report.done.len(), 1, "{report}");
    let inbox = t.host.inbox("li-na", false, 10).unwrap();
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].title, "Credit-card repayment due");
    assert_eq!(
        inbox[0].body,
        "card: ···· 4567\namount: CNY 874.16\ndue: Wed 25 Nov 2026"
    );
    assert_eq!(inbox[0].link.as_deref(), Some("/statement"));
    t.clock.advance(Duration::from_secs(24 * 3600));
    assert!(t.run("bank", "send-reminders", &[]).done.is_empty());
    assert_eq!(t.host.inbox("li-na", false, 10).unwrap().len(), 1);

    // Refused: not registered, no message.
    t.prompter.answer_subscriptions(SubscriptionAnswer::Reject);
    let other = t.host.session("wang-fang", APP).unwrap();
    other.launch("/statement").await.unwrap();
    other.submit("card", &[("number", CARD)]).await.unwrap();
    let refused = other.tap("remind").await.unwrap();
    assert_eq!(
        notices(&refused),
        vec!["You chose not to get repayment reminders.".to_string()]
    );
    let report = t.run("bank", "send-reminders", &[]);
    assert!(
        report.done.is_empty() && report.skipped.is_empty(),
        "{report}"
    );
    assert!(t.host.inbox("wang-fang", false, 10).unwrap().is_empty());
}

#[tokio::test]
async fn exchange_rates_and_a_conversion() {
    let t = bank().await;
    let s = t.host.session("li-na", APP).unwrap();
    let rates = s.launch("/rates").await.unwrap();
    assert_eq!(rates.title, "Exchange rates");
    assert!(items(&rates).contains(&"USD · US dollar".to_string()));
    let converted = s
        .submit("convert", &[("amount", "1000"), ("currency", "USD")])
        .await
        .unwrap();
    assert_eq!(converted.title, "Conversion");
    assert_eq!(field(&converted, "You pay").as_deref(), Some("CNY 1000.00"));
    assert_eq!(field(&converted, "You get").as_deref(), Some("USD 140.35"));
    // The currency is picked from the bank's: the host refuses another.
    s.tap("rates").await.unwrap();
    let err = s
        .submit("convert", &[("amount", "10"), ("currency", "XYZ")])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, plaza_host::Error::FieldRefused { field, .. } if field == "currency"),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("must be one of: USD · US dollar"),
        "{err}"
    );
}

#[tokio::test]
async fn a_branch_appointment_kept_and_cancelled() {
    let t = bank().await;
    let s = t.host.session("li-na", APP).unwrap();
    s.launch("/branches").await.unwrap();
    let branch = s.tap("branch:wulin").await.unwrap();
    assert_eq!(branch.title, "Wulin Branch");
    // Saturday 21 Nov: Monday to Wednesday, three times a day.
    let times = items(&branch);
    assert_eq!(times.len(), 9, "{}", text(&branch));
    assert_eq!(times[0], "Mon 23 Nov 09:30");
    let booked = s.tap("visit:wulin:20261124-1100").await.unwrap();
    assert_eq!(booked.title, "Appointment booked");
    assert_eq!(field(&booked, "Time").as_deref(), Some("Tue 24 Nov 11:00"));

    s.close().await;
    let s = t.host.session("li-na", APP).unwrap();
    let list = s.launch("/branches").await.unwrap();
    assert!(
        notices(&list)[0].contains("Wulin Branch, Tue 24 Nov 11:00"),
        "{}",
        text(&list)
    );
    let cancelled = s.tap("cancel-visit").await.unwrap();
    assert_eq!(cancelled.title, "Appointment cancelled");
    let list = s.tap("home").await.unwrap();
    assert_eq!(list.title, "West Lake Bank");
}
