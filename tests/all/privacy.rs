//! The user's rights (issue 17), through real mini-apps: a report of what
//! each mini-app accessed, an export of everything the host holds about the
//! user, and an erasure after which the mini-app sees a new user while the
//! money records stay.

use crate::support::*;
use plaza_host::manifest::Scope;
use plaza_host::prompt::{ConsentAnswer, PaymentAnswer, ScriptedPayment, SubscriptionAnswer};
use plaza_host::store::{AuditQuery, UserProfile};
use plaza_host::{Error, Session};
use plaza_test_programs::{CASHIER, HOSPITAL, IDENTITY_PROBE};

const HOSPITAL_APP: &str = "cn.hz.maternity";
const PROBE_APP: &str = "test.plaza.identity-probe";
const CASHIER_APP: &str = "test.plaza.cashier";
const USER: &str = "li-na";

/// Books the earliest slot with Dr. Chen Li (the real name asked for at the
/// first booking).
async fn book(s: &Session) -> plaza_host::Page {
    s.launch("/").await.unwrap();
    s.tap("dept:obstetrics").await.unwrap();
    s.tap("doctor:chen-li").await.unwrap();
    s.tap("earliest:chen-li").await.unwrap();
    s.submit("patient", &[("name", "Li Na"), ("phone", "13800138000")])
        .await
        .unwrap()
}

/// li-na with data in every capability of the hospital sample: storage (her
/// registration and booking), consents (real name, insurance card), a
/// long-term subscription, the follow of its account, a conversation,
/// messages in her inbox, and two payments (one refunded in part: the
/// deposit of a cancelled booking).
async fn user_with_data_everywhere() -> (TestHost, Session) {
    let t = verified_with_real_name(&HOSPITAL, USER, ConsentAnswer::Allow).await;
    t.prompter
        .answer_consent(Scope::InsuranceCard, ConsentAnswer::Allow);
    t.prompter
        .answer_payments(ScriptedPayment::Answer(PaymentAnswer::Confirm));
    t.prompter
        .answer_subscriptions(SubscriptionAnswer::AcceptLongTerm);
    t.host.top_up(USER, 100_000, "CNY").unwrap();
    t.host
        .bind_insurance_card(USER, "3301-0001", "Li Na", "Hangzhou basic", 7_000, 300_000)
        .unwrap();
    let s = t.host.session(USER, HOSPITAL_APP).unwrap();
    let done = book(&s).await;
    assert_eq!(done.title, "Booking confirmed", "{}", text(&done));
    let deposit = s.tap("deposit:B0001").await.unwrap();
    assert_eq!(deposit.title, "Deposit", "{}", text(&deposit));
    s.tap("booking:B0001").await.unwrap();
    let bill = s.tap("bill:B0001").await.unwrap();
    assert_eq!(bill.title, "Consultation bill", "{}", text(&bill));
    s.launch("/").await.unwrap();
    s.tap("chat").await.unwrap();
    s.chat("Is it safe to fly at 30 weeks?").await.unwrap();
    assert!(t.host.follow(USER, HOSPITAL_APP, true).unwrap());
    (t, s)
}

#[tokio::test]
async fn export_erase_and_report_against_a_user_with_data_in_every_capability() {
    let (t, s) = user_with_data_everywhere().await;
    let balance = t.host.wallet_balance(USER).unwrap();

    // The report: what the hospital accessed, by capability and scope.
    let report = t.host.privacy_report(USER, None).unwrap();
    assert_eq!(report.apps.len(), 1, "{report:?}");
    let hospital = &report.apps[0];
    assert_eq!(hospital.app_id, HOSPITAL_APP);
    assert_eq!(
        hospital.name.as_deref(),
        Some("Hangzhou Maternity Hospital")
    );
    let line = |capability: &str, scope: Option<&str>| {
        hospital
            .lines
            .iter()
            .find(|l| l.capability == capability && l.scope.as_deref() == scope)
            .unwrap_or_else(|| panic!("no {capability} {scope:?} in {hospital:#?}"))
    };
    let real_name = line("identity", Some("real-name"));
    assert!(
        real_name.allowed >= 1 && real_name.denied == 0,
        "{real_name:?}"
    );
    assert_eq!(real_name.count, real_name.allowed);
    assert_eq!(real_name.last_at_ms, START_MS);
    assert!(line("identity", Some("insurance-card")).allowed >= 1);
    assert!(line("storage", None).allowed >= 1);
    for capability in ["payment", "messaging"] {
        assert!(
            hospital
                .lines
                .iter()
                .any(|l| l.capability == capability && l.allowed >= 1),
            "no {capability} in {hospital:#?}"
        );
    }

    // The export: everything held, per mini-app, as JSON.
    let export = t.host.privacy_export(USER, None).unwrap();
    let json = serde_json::to_value(&export).unwrap();
    assert_eq!(json["user"], USER);
    assert_eq!(
        json["profile"]["real_name"]["name"], "Li Na",
        "the host's own data comes with an export of every mini-app"
    );
    assert_eq!(json["insurance_card"]["card_number"], "3301-0001");
    assert_eq!(json["wallet"]["balance"], balance);
    let app = &export.apps[0];
    assert_eq!(app.app_id, HOSPITAL_APP);
    assert!(!app.storage.is_empty(), "{app:#?}");
    assert!(
        app.storage
            .iter()
            .any(|v| v.text.as_deref().is_some_and(|t| t.contains("Li Na"))),
        "{:#?}",
        app.storage
    );
    let scopes: Vec<&str> = app.consents.iter().map(|c| c.scope.as_str()).collect();
    assert_eq!(scopes, ["insurance-card", "real-name"]);
    assert!(
        app.subscriptions
            .iter()
            .any(|x| x.template == "doctor-ready" && x.long_term)
    );
    assert!(app.following.is_some());
    assert_eq!(app.conversation.len(), 1);
    assert_eq!(app.conversation[0].text, "Is it safe to fly at 30 weeks?");
    assert!(
        app.inbox.iter().any(|m| m.kind == "conversation"),
        "{:#?}",
        app.inbox
    );
    assert_eq!(app.payments.len(), 2, "{:#?}", app.payments);
    assert!(!app.audit.is_empty());
    assert_eq!(app.openid.len(), 64);

    // Erase what the hospital holds about her; the live session ends first.
    let erasure = t
        .host
        .erase_user_app_data(USER, HOSPITAL_APP)
        .await
        .unwrap();
    assert!(erasure.erased.storage_keys >= 1, "{erasure:?}");
    assert_eq!(erasure.erased.consents, 2);
    assert!(erasure.erased.subscriptions >= 1);
    assert_eq!(erasure.erased.follows, 1);
    assert_eq!(erasure.erased.conversation, 1);
    assert_eq!(erasure.erased.identity_epoch, 1);
    assert_eq!(t.host.live_sessions().await, 0);

    let after = t.host.privacy_export(USER, Some(HOSPITAL_APP)).unwrap();
    let app_after = &after.apps[0];
    assert!(app_after.storage.is_empty(), "{app_after:#?}");
    assert!(app_after.consents.is_empty() && app_after.subscriptions.is_empty());
    assert!(app_after.following.is_none() && app_after.conversation.is_empty());
    assert!(t.host.followers(HOSPITAL_APP).unwrap().is_empty());
    // The receipts and the ledger stay, as the law requires; the inbox is
    // the user's own.
    assert_eq!(app_after.payments, app.payments);
    assert_eq!(app_after.refunds, app.refunds);
    assert_eq!(app_after.inbox, app.inbox);
    assert_ne!(app_after.openid, app.openid);
    assert!(after.profile.is_none() && after.wallet.is_none());
    assert_eq!(t.host.wallet_balance(USER).unwrap(), balance);
    assert!(t.host.verify_ledger().unwrap().is_clean());

    // The hospital sees a new user: no booking, no payment in its history,
    // and her real name asked for again at the next booking.
    t.clock.advance(std::time::Duration::from_secs(60));
    let asked_before = t.prompter.consent_questions().len();
    let bookings = s.launch("/bookings").await.unwrap();
    assert!(!text(&bookings).contains("B0001"), "{}", text(&bookings));
    s.launch("/").await.unwrap();
    let history = s.tap("payments").await.unwrap();
    assert_eq!(history.title, "Payment history");
    assert!(!text(&history).contains("CNY 50.00"), "{}", text(&history));
    let again = book(&s).await;
    assert_eq!(again.title, "Booking confirmed", "{}", text(&again));
    let asked: Vec<_> = t.prompter.consent_questions()[asked_before..]
        .iter()
        .map(|q| q.scope)
        .collect();
    assert_eq!(asked, [Scope::RealName]);

    // Each use was audited, and the report still shows what was accessed
    // before the erasure.
    let uses: Vec<String> = t
        .host
        .audit(&AuditQuery {
            user: Some(USER.into()),
            ..AuditQuery::default()
        })
        .unwrap()
        .into_iter()
        .filter(|e| e.capability.starts_with("privacy."))
        .map(|e| format!("{} {}", e.capability, e.app))
        .collect();
    assert_eq!(
        uses,
        [
            "privacy.report ",
            "privacy.export ",
            &format!("privacy.erase {HOSPITAL_APP}"),
            &format!("privacy.export {HOSPITAL_APP}"),
        ]
    );
    let later = t.host.privacy_report(USER, Some(HOSPITAL_APP)).unwrap();
    let erase_line = later.apps[0]
        .lines
        .iter()
        .find(|l| l.capability == "privacy" && l.scope.as_deref() == Some("erase"))
        .unwrap();
    assert_eq!(erase_line.count, 1);
    assert!(
        later.apps[0]
            .lines
            .iter()
            .find(|l| l.scope.as_deref() == Some("real-name"))
            .unwrap()
            .count
            > real_name.count
    );
}

#[tokio::test]
async fn after_an_erasure_the_mini_app_gets_a_new_openid_its_old_login_codes_fail_and_consent_is_asked_again()
 {
    let t = host();
    let installed = install(&t, &IDENTITY_PROBE).await;
    let secret = installed.app_secret.unwrap();
    t.host
        .set_user_profile(
            USER,
            UserProfile {
                phone: Some("13800138000".into()),
                ..UserProfile::default()
            },
        )
        .unwrap();
    t.prompter
        .answer_consent(Scope::Phone, ConsentAnswer::Allow);
    let s = t.host.session(USER, PROBE_APP).unwrap();
    let call = |path: &'static str| {
        let s = s.clone();
        async move {
            let page = s.launch(&format!("/{path}")).await.unwrap();
            field(&page, path).unwrap_or_else(|| panic!("no {path}: {}", text(&page)))
        }
    };
    assert_eq!(call("phone").await, "13800138000");
    let openid = call("openid").await;
    let unionid = call("unionid").await;
    let code = call("login").await;
    // Another user, and the same user in another mini-app, keep theirs.
    let other = t.host.session("bob", PROBE_APP).unwrap();
    let bob_openid = field(&other.launch("/openid").await.unwrap(), "openid").unwrap();
    assert_eq!(t.prompter.consent_questions().len(), 1);

    t.host.erase_user_app_data(USER, PROBE_APP).await.unwrap();

    let new_openid = call("openid").await;
    assert_ne!(new_openid, openid);
    assert_ne!(call("unionid").await, unionid);
    assert_eq!(
        field(&other.launch("/openid").await.unwrap(), "openid").unwrap(),
        bob_openid
    );
    assert!(matches!(
        t.host.exchange_login_code(PROBE_APP, &secret, &code),
        Err(Error::UnknownLoginCode { .. })
    ));
    // A code issued now gives the backend the new openid.
    let code = call("login").await;
    let exchanged = t
        .host
        .exchange_login_code(PROBE_APP, &secret, &code)
        .unwrap();
    assert_eq!(exchanged.openid, new_openid);
    // The phone number is asked for again.
    assert_eq!(call("phone").await, "13800138000");
    assert_eq!(t.prompter.consent_questions().len(), 2);
}

#[tokio::test]
async fn privacy_calls_refuse_bad_ids_with_a_typed_error() {
    let t = host();
    assert!(matches!(
        t.host.privacy_report("", None),
        Err(Error::InvalidRequest(_))
    ));
    assert!(matches!(
        t.host.privacy_export(USER, Some("")),
        Err(Error::InvalidRequest(_))
    ));
    assert!(matches!(
        t.host.erase_user_app_data(USER, &"x".repeat(200)).await,
        Err(Error::InvalidRequest(_))
    ));
    // A user nobody knows: an empty report and export, nothing erased.
    assert!(
        t.host
            .privacy_report("nobody", None)
            .unwrap()
            .apps
            .is_empty()
    );
    assert!(
        t.host
            .privacy_export("nobody", None)
            .unwrap()
            .apps
            .is_empty()
    );
    assert!(t.host.erase_user_data("nobody").await.unwrap().is_empty());
}

#[tokio::test]
async fn after_an_erasure_the_mini_app_cannot_find_list_refund_or_replay_the_users_earlier_payments()
 {
    let t = host();
    install(&t, &CASHIER).await;
    t.prompter
        .answer_payments(ScriptedPayment::Answer(PaymentAnswer::Confirm));
    t.host.top_up(USER, 10_000, "CNY").unwrap();
    let s = t.host.session(USER, CASHIER_APP).unwrap();
    let outcome = |p: &plaza_host::Page| field(p, "outcome").unwrap_or_default();
    let paid = launch_and_pay(&s, "/pay?order=o-1&amount=1000")
        .await
        .unwrap();
    assert_eq!(outcome(&paid), "paid", "{}", text(&paid));
    let earlier_tx = field(&paid, "transaction").unwrap();
    let found = s.launch("/query?order=o-1").await.unwrap();
    assert_eq!(outcome(&found), "found");

    t.host.erase_user_app_data(USER, CASHIER_APP).await.unwrap();
    t.clock.advance(std::time::Duration::from_secs(1));

    // To the mini-app, the earlier payment is another user's: probing its
    // order id tells it nothing about who this user was.
    let query = s.launch("/query?order=o-1").await.unwrap();
    assert!(
        outcome(&query).starts_with("error not-found:"),
        "{}",
        text(&query)
    );
    let refund = s.launch("/refund?order=o-1&amount=100").await.unwrap();
    assert!(
        outcome(&refund).starts_with("error not-found:"),
        "{}",
        text(&refund)
    );
    let replay = launch_and_pay(&s, "/pay?order=o-1&amount=1000")
        .await
        .unwrap();
    assert!(
        outcome(&replay).starts_with("error invalid-argument:"),
        "{}",
        text(&replay)
    );
    let history = s.launch("/history?limit=10").await.unwrap();
    assert_eq!(field(&history, "payment 1"), None, "{}", text(&history));
    // Nor does the earlier receipt's transaction id work as a cursor: it is
    // refused as an unknown one is, not answered with an empty page.
    for cursor in [earlier_tx.as_str(), "tx-unknown"] {
        let probe = s
            .launch(&format!("/history?limit=10&cursor={cursor}"))
            .await
            .unwrap();
        assert!(
            outcome(&probe).starts_with("error invalid-argument:"),
            "{cursor}: {}",
            text(&probe)
        );
    }
    // A new payment is the new user's, and listed.
    let paid = launch_and_pay(&s, "/pay?order=o-2&amount=500")
        .await
        .unwrap();
    assert_eq!(outcome(&paid), "paid", "{}", text(&paid));
    let history = s.launch("/history?limit=10").await.unwrap();
    assert_eq!(
        field(&history, "payment 1").as_deref(),
        Some("o-2 500 refunded 0")
    );
    assert_eq!(field(&history, "payment 2"), None);
    // The money is where it was: nothing refunded, nothing paid twice.
    assert_eq!(t.host.wallet_balance(USER).unwrap(), 10_000 - 1_000 - 500);
    assert!(t.host.verify_ledger().unwrap().is_clean());
    let export = t.host.privacy_export(USER, Some(CASHIER_APP)).unwrap();
    let orders: Vec<&str> = export.apps[0]
        .payments
        .iter()
        .map(|p| p.receipt.order_id.as_str())
        .collect();
    assert_eq!(orders, ["o-1", "o-2"]);
}
