//! The city-services sample, page by page: a plate's violations and a paid
//! fine, the long-term fine notice, a utility bill paid with its receipt,
//! the plate lottery decided by the host's clock, a marriage appointment with
//! the citizen's verified name (asked once) and the partner's typed name, a
//! permit's status.

use crate::support::*;
use plaza_host::manifest::Scope;
use plaza_host::prompt::{ConsentAnswer, PaymentAnswer, ScriptedPayment, SubscriptionAnswer};
use plaza_host::store::{AuditQuery, Outcome};
use plaza_host::{Block, Navigation, Page};
use plaza_test_programs::CITY_SERVICES;
use std::time::Duration;

const APP: &str = "cn.gov.hz.city";
const PUBLISHER: &str = "cn.gov.hz";

fn links(page: &Page) -> Vec<(String, String)> {
    page.blocks
        .iter()
        .filter_map(|b| match b {
            Block::Item(i) => Some((i.title.clone(), i.action.clone()?)),
            _ => None,
        })
        .collect()
}

fn offers(page: &Page, action: &str) -> bool {
    plaza_host::page::offered_actions(page).contains(&action.to_string())
}

/// A host with the city installed and a citizen with 500.00 in her wallet
/// who confirms payments.
async fn city() -> TestHost {
    let t = host();
    install(&t, &CITY_SERVICES).await;
    t.host.top_up("li-na", 50_000, "CNY").unwrap();
    t.prompter
        .answer_payments(ScriptedPayment::Answer(PaymentAnswer::Confirm));
    t
}

#[tokio::test]
async fn home_offers_every_service() {
    let t = city().await;
    let s = t.host.session("li-na", APP).unwrap();
    let home = s.launch("/").await.unwrap();
    assert_eq!(home.title, "Hangzhou City Services");
    for action in ["violations", "bills", "lottery", "marriage", "permit"] {
        assert!(offers(&home, action), "{action}:\n{}", text(&home));
    }
    // Every service is also a launch path.
    for (path, title) in [
        ("/violations", "Traffic violations"),
        ("/bills", "Utility bills"),
        ("/lottery", "Plate lottery"),
        ("/marriage", "Marriage registration"),
        ("/permit", "Entry-exit permit"),
    ] {
        assert_eq!(s.launch(path).await.unwrap().title, title);
    }
    let unknown = s.launch("/nowhere").await.unwrap();
    assert_eq!(unknown.title, "Something went wrong");
    assert!(offers(&unknown, "home"));
}

#[tokio::test]
async fn a_fine_looked_up_noticed_and_paid_once() {
    let t = city().await;
    t.prompter
        .answer_subscriptions(SubscriptionAnswer::AcceptLongTerm);
    let s = t.host.session("li-na", APP).unwrap();
    s.launch("/").await.unwrap();
    let form = s.tap("violations").await.unwrap();
    assert_eq!(form.title, "Traffic violations");

    // Not a plate: the host refuses it by the form's pattern, saying what a
    // plate looks like; the city never sees it.
    let err = s.submit("plate", &[("plate", "A1")]).await.unwrap_err();
    assert!(
        err.to_string().contains(
            "(Plate, such as ZA12345) must look like a plate such as ZA12345: two letters, then 5 or 6 letters and digits"
        ),
        "{err}"
    );
    assert_eq!(s.current_page().await.unwrap().title, "Traffic violations");

    // A plate ending in 0, 3, 6 or 9 is clean.
    let clean = s.submit("plate", &[("plate", "ZA12340")]).await.unwrap();
    assert_eq!(clean.title, "Violations of ZA12340");
    assert_eq!(
        notices(&clean),
        vec!["No violations are recorded against ZA12340.".to_string()]
    );

    // Spaces, dots and lower case are the same plate.
    s.tap("home").await.unwrap();
    s.tap("violations").await.unwrap();
    let list = s.submit("plate", &[("plate", "zb 668·71")]).await.unwrap();
    assert_eq!(list.title, "Violations of ZB66871", "{}", text(&list));
    assert_eq!(list.navigation, Navigation::Push);
    assert_eq!(
        links(&list)[0],
        (
            "2026-10-04 · Using a phone while driving".to_string(),
            "fine:ZB66871:F3508959".to_string()
        )
    );
    assert_eq!(field(&list, "Unpaid").as_deref(), Some("CNY 100.00"));

    // The long-term fine notice: offered long-term to a government account;
    // the first notice lists the unpaid fine.
    let notice = s.tap("fine-notice:ZB66871").await.unwrap();
    assert_eq!(notice.title, "Fine notices");
    assert!(notices(&notice)[0].contains("The first is in your inbox"));
    let offered = &t.prompter.subscription_prompts()[0].templates;
    assert_eq!(offered[0].id, "fine-notice");
    assert!(offered[0].long_term);
    let inbox = t.host.inbox("li-na", false, 10).unwrap();
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].title, "Traffic fine notice");
    assert_eq!(
        inbox[0].body,
        "plate: ZB66871\nfines: 1\namount: CNY 100.00"
    );

    // The fine, and paying it.
    s.tap("plate:ZB66871").await.unwrap();
    let fine = s.tap("fine:ZB66871:F3508959").await.unwrap();
    assert_eq!(fine.title, "Fine F3508959");
    assert_eq!(field(&fine, "Points").as_deref(), Some("3"));
    assert_eq!(field(&fine, "Status").as_deref(), Some("unpaid"));
    let paid = s.tap("pay-fine:ZB66871:F3508959").await.unwrap();
    assert_eq!(paid.title, "Fine paid", "{}", text(&paid));
    assert_eq!(paid.navigation, Navigation::Replace);
    assert_eq!(field(&paid, "Amount").as_deref(), Some("CNY 100.00"));
    assert_eq!(field(&paid, "Order").as_deref(), Some("F3508959"));
    let prompt = &t.prompter.payment_prompts()[0];
    assert_eq!(prompt.amount, 10_000);
    assert_eq!(Some(prompt.payee.clone()), field(&paid, "Payee"));
    assert_eq!(t.host.wallet_balance("li-na").unwrap(), 40_000);
    assert_eq!(t.host.merchant_balance(PUBLISHER).unwrap(), 10_000);

    // Paid: the list says so, and the fine offers no second payment.
    let list = s.tap("plate:ZB66871").await.unwrap();
    assert_eq!(field(&list, "Unpaid").as_deref(), Some("CNY 0.00"));
    let fine = s.tap("fine:ZB66871:F3508959").await.unwrap();
    assert_eq!(field(&fine, "Status").as_deref(), Some("paid"));
    assert!(
        !offers(&fine, "pay-fine:ZB66871:F3508959"),
        "{}",
        text(&fine)
    );

    // A fine the plate does not have is not paid.
    let err = s.tap("pay-fine:ZB66871:F0000000").await.unwrap_err();
    assert!(err.to_string().contains("does not offer"), "{err}");

    let report = t.host.verify_ledger().unwrap();
    assert!(report.is_clean(), "{:?}", report.problems);
    assert_eq!(report.payments, 1);
}

#[tokio::test]
async fn a_water_bill_paid_with_a_receipt_and_not_twice() {
    let t = city().await;
    let s = t.host.session("li-na", APP).unwrap();
    s.launch("/bills").await.unwrap();
    let water = s.tap("bill:water").await.unwrap();
    assert_eq!(water.title, "Water bill");
    let bad = s
        .submit("account-water", &[("account", "12")])
        .await
        .unwrap();
    assert!(
        notices(&bad)[0].contains("8 to 12 digits"),
        "{}",
        text(&bad)
    );
    let bill = s
        .submit("account-water", &[("account", "33010012345")])
        .await
        .unwrap();
    assert_eq!(bill.title, "Water bill 33010012345", "{}", text(&bill));
    // The test clock says November 2026: last month's bill.
    assert_eq!(field(&bill, "Period").as_deref(), Some("Oct 2026"));
    assert_eq!(field(&bill, "Usage").as_deref(), Some("21 m³"));
    assert_eq!(field(&bill, "Amount").as_deref(), Some("CNY 73.50"));
    assert_eq!(field(&bill, "Status").as_deref(), Some("unpaid"));

    let receipt = s.tap("pay-bill:water:33010012345").await.unwrap();
    assert_eq!(receipt.title, "Bill paid");
    assert!(text(&receipt).contains("Receipt"), "{}", text(&receipt));
    assert_eq!(
        field(&receipt, "Order").as_deref(),
        Some("water-33010012345-202610")
    );
    assert_eq!(
        field(&receipt, "Supplier").as_deref(),
        Some("Hangzhou Water Group")
    );
    assert_eq!(t.host.wallet_balance("li-na").unwrap(), 50_000 - 7_350);

    // Looked up again: paid, no button to pay. Electricity and gas are other
    // bills of other amounts.
    s.tap("bills").await.unwrap();
    s.tap("bill:water").await.unwrap();
    let again = s
        .submit("account-water", &[("account", "33010012345")])
        .await
        .unwrap();
    assert_eq!(field(&again, "Status").as_deref(), Some("paid"));
    assert!(!offers(&again, "pay-bill:water:33010012345"));
    s.tap("home").await.unwrap();
    s.tap("bills").await.unwrap();
    s.tap("bill:gas").await.unwrap();
    let gas = s
        .submit("account-gas", &[("account", "33010012345")])
        .await
        .unwrap();
    assert_eq!(gas.title, "Gas bill 33010012345");
    assert_eq!(field(&gas, "Status").as_deref(), Some("unpaid"));

    // A citizen who declines pays nothing.
    t.prompter
        .answer_payments(ScriptedPayment::Answer(PaymentAnswer::Decline));
    let declined = s.tap("pay-bill:gas:33010012345").await.unwrap();
    assert!(
        notices(&declined)[0].contains("You declined the payment"),
        "{}",
        text(&declined)
    );
    assert_eq!(t.host.wallet_balance("li-na").unwrap(), 50_000 - 7_350);
    assert_eq!(t.host.merchant_balance(PUBLISHER).unwrap(), 7_350);
    assert!(t.host.verify_ledger().unwrap().is_clean());
}

#[tokio::test]
async fn the_plate_lottery_result_shows_after_the_draw() {
    let t = city().await;
    let s = t.host.session("li-na", APP).unwrap();
    let lottery = s.launch("/lottery").await.unwrap();
    assert_eq!(lottery.title, "Plate lottery");
    // 2026-11-21: the next draw is on the 26th.
    assert_eq!(
        field(&lottery, "Next draw").as_deref(),
        Some("Thu 26 Nov 2026 10:00")
    );
    let applied = s.tap("lottery-apply").await.unwrap();
    assert_eq!(applied.title, "Application received");
    let number = field(&applied, "Application").unwrap();
    assert_eq!(number, "L202611222800");

    // Before the draw: waiting, and no second application.
    let waiting = s.tap("lottery").await.unwrap();
    assert_eq!(
        field(&waiting, "Status").as_deref(),
        Some("Waiting for the draw")
    );
    assert!(!offers(&waiting, "lottery-apply"), "{}", text(&waiting));

    // The application survives the session; after the draw (on the host's
    // clock) the result is a notice.
    s.close().await;
    t.clock.advance(Duration::from_secs(5 * 24 * 3600 + 3600));
    let s = t.host.session("li-na", APP).unwrap();
    let result = s.launch("/lottery").await.unwrap();
    assert_eq!(field(&result, "Application"), Some(number.clone()));
    assert_eq!(field(&result, "Status").as_deref(), Some("Not drawn"));
    assert_eq!(
        notices(&result),
        vec![format!(
            "Application {number} was not drawn this time. You may apply for the next draw."
        )]
    );
    // Then the next draw is December's.
    let again = s.tap("lottery-apply").await.unwrap();
    assert_eq!(
        field(&again, "Draw").as_deref(),
        Some("Sat 26 Dec 2026 10:00")
    );
}

#[tokio::test]
async fn a_marriage_appointment_with_the_verified_name_and_the_partners() {
    let t = verified_with_real_name(&CITY_SERVICES, "li-na", ConsentAnswer::Allow).await;
    let s = t.host.session("li-na", APP).unwrap();
    let days = s.launch("/marriage").await.unwrap();
    assert_eq!(days.title, "Marriage registration");
    // Saturday 21 Nov: the working days of the next week.
    let day_links: Vec<String> = links(&days).into_iter().map(|(_, a)| a).collect();
    assert_eq!(
        day_links,
        [
            "marriage-day:20261123",
            "marriage-day:20261124",
            "marriage-day:20261125",
            "marriage-day:20261126",
            "marriage-day:20261127"
        ]
    );
    let form = s.tap("marriage-day:20261124").await.unwrap();
    assert_eq!(form.title, "Registration details");
    assert_eq!(input_value(&form, "name"), "Li Na");
    assert!(notices(&form).contains(&"Your verified name: Li Na.".to_string()));
    let q = &t.prompter.consent_questions()[0];
    assert_eq!(q.scope, Scope::RealName);
    assert!(q.purpose.contains("marriage-registration"), "{}", q.purpose);

    // The day is a date picker over the working days of the next week.
    let day = form
        .blocks
        .iter()
        .find_map(|b| match b {
            plaza_host::Block::Input(i) if i.name == "day" => Some(i.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(day.kind, plaza_host::InputKind::Date);
    assert_eq!(day.value, "2026-11-24");
    assert_eq!(
        (
            day.constraints.min.as_deref(),
            day.constraints.max.as_deref()
        ),
        (Some("2026-11-23"), Some("2026-11-27"))
    );
    // The host checks the day and the partner's ID number before the
    // registry sees them.
    let err = s
        .submit(
            "marriage",
            &[
                ("day", "2026-11-30"),
                ("partner", "Zhang Wei"),
                ("partner-id", "33010619920202003X"),
            ],
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("(Day) must be on or before 2026-11-27"),
        "{err}"
    );
    let err = s
        .submit(
            "marriage",
            &[("partner", "Zhang Wei"), ("partner-id", "123")],
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("must look like 18 characters: 17 digits, then a digit or X"),
        "{err}"
    );
    // Another day of the picker.
    let other = s
        .submit(
            "marriage",
            &[
                ("day", "2026-11-25"),
                ("partner", "Zhang Wei"),
                ("partner-id", "33010619920202003X"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(
        field(&other, "Date").as_deref(),
        Some("Wed 25 Nov 2026 09:30"),
        "{}",
        text(&other)
    );
    s.launch("/marriage").await.unwrap();
    s.tap("marriage-cancel").await.unwrap();

    s.launch("/marriage").await.unwrap();
    s.tap("marriage-day:earliest").await.unwrap();
    let booked = s
        .submit(
            "marriage",
            &[
                ("partner", "Zhang Wei"),
                ("partner-id", "33010619920202003X"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(booked.title, "Appointment booked", "{}", text(&booked));
    assert_eq!(field(&booked, "You").as_deref(), Some("Li Na"));
    assert_eq!(field(&booked, "Partner").as_deref(), Some("Zhang Wei"));
    assert_eq!(
        field(&booked, "Date").as_deref(),
        Some("Mon 23 Nov 2026 09:30")
    );

    // Kept: the registration page shows it, with a way to cancel; the name
    // was asked once.
    s.close().await;
    let s = t.host.session("li-na", APP).unwrap();
    let kept = s.launch("/marriage").await.unwrap();
    assert_eq!(field(&kept, "Partner").as_deref(), Some("Zhang Wei"));
    let cancelled = s.tap("marriage-cancel").await.unwrap();
    assert_eq!(cancelled.title, "Appointment cancelled");
    assert_eq!(t.prompter.consent_questions().len(), 1);
}

#[tokio::test]
async fn refused_the_citizen_types_her_own_name() {
    let t = verified_with_real_name(&CITY_SERVICES, "li-na", ConsentAnswer::Deny).await;
    let s = t.host.session("li-na", APP).unwrap();
    s.launch("/marriage").await.unwrap();
    let form = s.tap("marriage-day:earliest").await.unwrap();
    assert_eq!(input_value(&form, "name"), "");
    assert!(
        notices(&form)[0].contains("the user refused `real-name`"),
        "{}",
        text(&form)
    );
    let booked = s
        .submit(
            "marriage",
            &[
                ("name", "Li Na"),
                ("partner", "Zhang Wei"),
                ("partner-id", "330106199202020031"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(field(&booked, "You").as_deref(), Some("Li Na"));
}

#[tokio::test]
async fn a_permits_status() {
    let t = city().await;
    let s = t.host.session("li-na", APP).unwrap();
    s.launch("/").await.unwrap();
    s.tap("permit").await.unwrap();
    let permit = s
        .submit("permit", &[("number", "c12345678")])
        .await
        .unwrap();
    assert_eq!(permit.title, "Permit C12345678");
    assert_eq!(
        field(&permit, "Document").as_deref(),
        Some("Exit-entry permit for Hong Kong and Macao")
    );
    assert_eq!(
        field(&permit, "Status").as_deref(),
        Some("Ready for collection")
    );
    s.tap("home").await.unwrap();
    s.tap("permit").await.unwrap();
    let bad = s.submit("permit", &[("number", "12")]).await.unwrap();
    assert_eq!(bad.title, "Entry-exit permit");
    assert!(notices(&bad)[0].contains("not an application number"));
}

#[tokio::test]
async fn a_drawn_application_is_congratulated() {
    let t = city().await;
    // Applied 15 s later, the application number is one the draw picks.
    t.clock.advance(Duration::from_secs(15));
    let s = t.host.session("li-na", APP).unwrap();
    s.launch("/lottery").await.unwrap();
    let applied = s.tap("lottery-apply").await.unwrap();
    assert_eq!(
        field(&applied, "Application").as_deref(),
        Some("L202611222815")
    );
    // 08:59 on the draw's day: still waiting.
    t.clock.advance(Duration::from_secs(5 * 24 * 3600 - 60));
    let waiting = s.tap("lottery").await.unwrap();
    assert_eq!(
        field(&waiting, "Status").as_deref(),
        Some("Waiting for the draw")
    );
    // 11:00 on the 26th: drawn.
    t.clock.advance(Duration::from_secs(2 * 3600));
    let drawn = s.launch("/lottery").await.unwrap();
    assert_eq!(field(&drawn, "Status").as_deref(), Some("Drawn"));
    assert_eq!(
        notices(&drawn),
        vec![
            "Congratulations: application L202611222815 was drawn. Register your new car within 6 months."
                .to_string()
        ]
    );
    assert!(!offers(&drawn, "lottery-apply"));
}

#[tokio::test]
async fn the_back_office_announces_the_lottery_result_to_each_entrant_after_the_draw() {
    let t = host_with_offices();
    t.install_sample(&CITY_SERVICES).await;
    t.prompter
        .answer_subscriptions(SubscriptionAnswer::AcceptOnce);
    // Li Na (09:00:00) and Wang Fang (09:00:15) accept the result message;
    // Zhou Min (09:00:30) does not.
    let mut numbers = Vec::new();
    for user in ["li-na", "wang-fang", "zhou-min"] {
        if user == "zhou-min" {
            t.prompter.answer_subscriptions(SubscriptionAnswer::Reject);
        }
        let s = t.host.session(user, APP).unwrap();
        s.launch("/lottery").await.unwrap();
        let applied = s.tap("lottery-apply").await.unwrap();
        assert_eq!(applied.title, "Application received", "{}", text(&applied));
        let said = if user == "zhou-min" {
            "See the result here after the draw."
        } else {
            "The result will be sent to your inbox after the draw."
        };
        assert!(
            notices(&applied).contains(&said.to_string()),
            "{}",
            text(&applied)
        );
        numbers.push(field(&applied, "Application").unwrap());
        t.clock.advance(Duration::from_secs(15));
    }
    assert_eq!(numbers, ["L202611222800", "L202611222815", "L202611222830"]);

    // Before the draw: nothing to announce.
    let report = t.run("city", "announce-lottery", &[]);
    assert!(
        report.done.is_empty() && report.skipped.is_empty(),
        "{report}"
    );
    // After the draw of the 26th at 10:00: a result to each entrant, once.
    t.clock.advance(Duration::from_secs(5 * 24 * 3600 + 3600));
    let report = t.run("city", "announce-lottery", &[]);
    assert_eq!(report.done.len(), 2, "{report}");
    let li_na = t.host.inbox("li-na", false, 10).unwrap();
    assert_eq!(li_na.len(), 1);
    assert_eq!(li_na[0].title, "Plate lottery result");
    assert_eq!(
        li_na[0].body,
        "application: L202611222800\nresult: Not drawn this time: you may apply for the next draw"
    );
    assert_eq!(li_na[0].link.as_deref(), Some("/lottery"));
    let wang_fang = t.host.inbox("wang-fang", false, 10).unwrap();
    assert_eq!(
        wang_fang[0].body,
        "application: L202611222815\nresult: Drawn: register your new car within 6 months"
    );
    // The message agrees with the lottery page.
    let (_, page) = t
        .host
        .open_message("wang-fang", &wang_fang[0].id)
        .await
        .unwrap();
    assert_eq!(
        field(&page, "Status").as_deref(),
        Some("Drawn"),
        "{}",
        text(&page)
    );
    assert!(t.host.inbox("zhou-min", false, 10).unwrap().is_empty());
    let again = t.run("city", "announce-lottery", &[]);
    assert!(again.done.is_empty(), "{again}");
    assert_eq!(t.host.inbox("li-na", false, 10).unwrap().len(), 1);
}

#[tokio::test]
async fn the_backend_down_shows_a_notice_and_pays_nothing() {
    // The sample's backend origin leads to a port nobody listens on.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let t = host_with(|mut c| {
        c.network = plaza_host::NetworkConfig::default();
        c.network.resolve_to("localhost", 47180, closed);
        c
    });
    install(&t, &CITY_SERVICES).await;
    t.host.top_up("li-na", 50_000, "CNY").unwrap();
    let s = t.host.session("li-na", APP).unwrap();
    s.launch("/violations").await.unwrap();
    let page = s.submit("plate", &[("plate", "ZB66871")]).await.unwrap();
    assert_eq!(page.title, "Records unavailable", "{}", text(&page));
    assert_eq!(
        notices(&page),
        vec!["The traffic police's records cannot be reached right now. Nothing was paid or changed: try again in a few minutes, or call the city hotline 12345.".to_string()]
    );
    assert!(
        field(&page, "Reason").unwrap().starts_with("unavailable: "),
        "{}",
        text(&page)
    );
    assert!(offers(&page, "home"));
    // Paying a fine needs its record: nothing is paid while it is down.
    let page = s.tap("home").await.unwrap();
    assert_eq!(page.title, "Hangzhou City Services");
    s.launch("/bills").await.unwrap();
    s.tap("bill:water").await.unwrap();
    let page = s
        .submit("account-water", &[("account", "33010012345")])
        .await
        .unwrap();
    assert_eq!(page.title, "Records unavailable", "{}", text(&page));
    assert!(notices(&page)[0].starts_with("The utility's billing records cannot be reached"));
    assert_eq!(t.host.wallet_balance("li-na").unwrap(), 50_000);
    // The lottery, which needs no backend, still works.
    let page = s.launch("/lottery").await.unwrap();
    assert_eq!(page.title, "Plate lottery");
}

#[tokio::test]
async fn fines_come_from_the_agency_backend_which_sees_who_calls() {
    let t = city().await;
    let s = t.host.session("li-na", APP).unwrap();
    s.launch("/violations").await.unwrap();
    let page = s.submit("plate", &[("plate", "ZB66871")]).await.unwrap();
    assert_eq!(page.title, "Violations of ZB66871", "{}", text(&page));
    // The host's audit log shows the city called its backend, by origin.
    let audit = t
        .host
        .audit(&plaza_host::store::AuditQuery::default())
        .unwrap();
    let calls: Vec<_> = audit.iter().filter(|e| e.capability == "network").collect();
    assert!(!calls.is_empty());
    assert!(
        calls
            .iter()
            .all(|e| e.outcome == plaza_host::store::Outcome::Allowed
                && e.detail.starts_with("GET http://localhost:47180: allowed"))
    );
    assert!(
        calls.iter().all(|e| !e.detail.contains("ZB66871")),
        "no path in the audit log"
    );
}

#[tokio::test]
async fn a_setting_alone_points_the_same_package_at_a_second_backend_that_wants_its_key() {
    // A second agency backend, which wants an API key, under another name.
    let second = plaza_agency_backend::Backend::start_with_key(
        "127.0.0.1:0",
        Some("agency-key-b".to_string()),
    )
    .unwrap();
    let t = host_with(|mut c| {
        c.network
            .resolve_to("records-b.localhost", 47181, second.addr());
        c.settings_key(Some(
            plaza_host::settings::SettingsKey::from_hex(&"3c".repeat(32)).unwrap(),
        ))
    });
    // The package every other test installs: nothing rebuilt.
    install(&t, &CITY_SERVICES).await;
    t.host
        .set_setting(
            APP,
            "agency-origin",
            "http://records-b.localhost:47181",
            false,
        )
        .unwrap();
    let violations = |s: plaza_host::Session| async move {
        s.launch("/violations").await.unwrap();
        let page = s.submit("plate", &[("plate", "ZB66871")]).await.unwrap();
        s.close().await;
        page
    };
    // Without the key, the second backend refuses, and the citizen is told.
    let page = violations(t.host.session("li-na", APP).unwrap()).await;
    assert_eq!(page.title, "Records unavailable", "{}", text(&page));
    assert!(
        field(&page, "Reason").unwrap().contains("401"),
        "{}",
        text(&page)
    );
    assert_eq!(second.requests(), 1);
    // With the key (a secret setting), the records come from there.
    t.host
        .set_setting(APP, "agency-api-key", "agency-key-b", true)
        .unwrap();
    let page = violations(t.host.session("li-na", APP).unwrap()).await;
    assert_eq!(page.title, "Violations of ZB66871", "{}", text(&page));
    assert_eq!(second.requests(), 2);
    let audit = t.host.audit(&AuditQuery::default()).unwrap();
    assert!(
        audit.iter().any(|e| e.capability == "network"
            && e.outcome == Outcome::Allowed
            && e.detail
                .starts_with("GET http://records-b.localhost:47181: allowed")),
        "{audit:?}"
    );
    // The key is in no audit entry.
    assert!(audit.iter().all(|e| !e.detail.contains("agency-key-b")));
}
