//! An app id belongs to its first publisher for good: another publisher's
//! package under it is refused even after uninstall, until the operator
//! releases the id, which erases the old users' data for it; the next
//! mini-app under the id gets new openids, no consents, subscriptions or
//! followers, none of the old payments, and a new app secret. Through the
//! fuzz-caller guest, which makes any host call a script names.

use crate::support::*;
use plaza_host::Error;
use plaza_host::manifest::{Category, Scope};
use plaza_host::package::PublisherKey;
use plaza_host::prompt::{ConsentAnswer, PaymentAnswer, ScriptedPayment, SubscriptionAnswer};
use plaza_host::store::{AuditQuery, Outcome, PublisherRecord, UserProfile};
use plaza_host::{Page, Session};
use plaza_test_programs::FUZZ_CALLER;
use plaza_test_programs::fuzz_script::Call;

const APP: &str = "test.plaza.fuzz-caller";
/// The fixture's own publisher: the first to use the id.
const FIRST: &str = "test.plaza.fuzz";
/// Another registered publisher, after the same id.
const RIVAL: &str = "test.plaza.rival";

/// Submits `calls` as `user`'s gesture in `s` and returns the page.
async fn run(s: &Session, calls: &[Call]) -> Page {
    run_calls(s, calls).await
}

/// The fixture signed by the first publisher, and the same component under
/// the rival's manifest signed by the rival (both registered and verified).
fn two_publishers(t: &TestHost) -> (plaza_host::package::Package, plaza_host::package::Package) {
    let first_key = register_publisher(t, &FUZZ_CALLER, true);
    let rival_key = PublisherKey::generate().unwrap();
    t.host
        .add_publisher(PublisherRecord {
            id: RIVAL.into(),
            name: "Rival Clinic".into(),
            category: Category::Medical,
            verified: true,
            public_key: rival_key.public_key_hex(),
            added_at_ms: 0,
        })
        .unwrap();
    let first = signed_package(&FUZZ_CALLER, &FUZZ_CALLER.manifest_text(), &first_key);
    let rival_manifest = manifest_replacing(
        &FUZZ_CALLER,
        &format!("id = \"{FIRST}\""),
        &format!("id = \"{RIVAL}\""),
    );
    let rival = signed_package(&FUZZ_CALLER, &rival_manifest, &rival_key);
    (first, rival)
}

#[tokio::test]
async fn another_publisher_is_refused_an_uninstalled_id_and_after_release_inherits_nothing() {
    let t = host();
    let (first, rival) = two_publishers(&t);
    t.prompter
        .answer_consent(Scope::Phone, ConsentAnswer::Allow);
    t.prompter
        .answer_payments(ScriptedPayment::Answer(PaymentAnswer::Confirm));
    t.prompter
        .answer_subscriptions(SubscriptionAnswer::AcceptLongTerm);
    t.host
        .set_user_profile(
            "ann",
            UserProfile {
                phone: Some("13800138000".into()),
                ..UserProfile::default()
            },
        )
        .unwrap();
    t.host.top_up("ann", 10_000, "CNY").unwrap();

    // The first publisher's mini-app: Ann's note, openid, phone consent,
    // a paid order, a long-term subscription, a follow, and a login code
    // for its back-end.
    let first_secret = t.host.install(first).await.unwrap().app_secret.unwrap();
    let s = t.host.session("ann", APP).unwrap();
    let page = run(
        &s,
        &[
            Call::Set {
                key: "notes/1".into(),
                fill: b'a',
                len: 3,
            },
            Call::Openid,
            Call::Phone,
            fuzz_pay("o-1", 1_000),
            Call::Subscribe {
                templates: vec!["notice".into()],
            },
            Call::Login,
        ],
    )
    .await;
    assert_eq!(fuzz_result(&page, 1, "set"), "ok", "{}", text(&page));
    let first_openid = fuzz_result(&page, 2, "openid");
    assert_eq!(fuzz_result(&page, 3, "phone"), "ok 13800138000");
    assert!(fuzz_result(&page, 4, "pay").starts_with("paid "));
    let code = fuzz_result(&page, 6, "login");
    let code = code.split(' ').nth(1).unwrap().to_string();
    t.host.follow("ann", APP, true).unwrap();
    s.close().await;
    let asked_before = t.prompter.consent_questions().len();
    assert_eq!(asked_before, 1);
    assert_eq!(t.host.merchant_balance(FIRST).unwrap(), 1_000);

    // Uninstalled, the id is still the first publisher's.
    t.host.uninstall(APP).await.unwrap();
    let err = t.host.install(rival.clone()).await.unwrap_err();
    assert!(matches!(err, Error::AppIdOwned { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("belongs to publisher {FIRST}"))
            && msg.contains(&format!("plaza release-id {APP}")),
        "{msg}"
    );
    assert!(t.host.installed().unwrap().is_empty());

    // The operator releases it; the rival installs with a new secret.
    let released = t.host.release_app_id(APP).unwrap();
    assert_eq!(released.previous_owner.as_deref(), Some(FIRST));
    assert_eq!(released.generation, 1);
    let rival_secret = t.host.install(rival).await.unwrap().app_secret;
    let rival_secret = rival_secret.expect("a new app secret at the first install after a release");
    assert_ne!(rival_secret, first_secret);
    assert_eq!(
        t.host
            .app_id_owner(APP)
            .unwrap()
            .unwrap()
            .publisher_id
            .as_deref(),
        Some(RIVAL)
    );

    // Ann in the rival's mini-app: no note, another openid, the phone asked
    // again, no payment to see, query or refund, no subscription, no
    // follower.
    let s = t.host.session("ann", APP).unwrap();
    t.prompter.answer_consent(Scope::Phone, ConsentAnswer::Deny);
    let page = run(
        &s,
        &[
            Call::Get {
                key: "notes/1".into(),
            },
            Call::List {
                prefix: "".into(),
                limit: 10,
            },
            Call::Openid,
            Call::Phone,
            Call::Query {
                order: "o-1".into(),
            },
            Call::History {
                cursor: None,
                limit: 10,
            },
            Call::Refund {
                order: "o-1".into(),
                amount: 1_000,
                reason: "take it back".into(),
            },
            Call::Send {
                template: "notice".into(),
                fields: vec![("what".into(), "hello".into())],
            },
        ],
    )
    .await;
    assert_eq!(fuzz_result(&page, 1, "get"), "ok none", "{}", text(&page));
    assert_eq!(fuzz_result(&page, 2, "list"), "ok 0 ");
    let rival_openid = fuzz_result(&page, 3, "openid");
    assert!(rival_openid.starts_with("ok "), "{rival_openid}");
    assert_ne!(rival_openid, first_openid);
    let phone = fuzz_result(&page, 4, "phone");
    assert!(phone.starts_with("error "), "{phone}");
    assert_eq!(t.prompter.consent_questions().len(), asked_before + 1);
    assert!(fuzz_result(&page, 5, "query").starts_with("error not-found:"));
    assert_eq!(fuzz_result(&page, 6, "history"), "ok 0 next -");
    assert!(fuzz_result(&page, 7, "refund").starts_with("error not-found:"));
    assert!(
        fuzz_result(&page, 8, "send").starts_with("error "),
        "{}",
        fuzz_result(&page, 8, "send")
    );
    assert!(t.host.followers(APP).unwrap().is_empty());
    assert!(t.host.payment(APP, "o-1").unwrap().is_none());

    // The first publisher's money is untouched, and the ledger sound.
    assert_eq!(t.host.merchant_balance(FIRST).unwrap(), 1_000);
    assert_eq!(t.host.merchant_balance(RIVAL).unwrap(), 0);
    assert_eq!(t.host.wallet_balance("ann").unwrap(), 9_000);
    assert!(t.host.verify_ledger().unwrap().is_clean());

    // The first publisher's back-end: its secret no longer works.
    let err = t
        .host
        .exchange_login_code(APP, &first_secret, &code)
        .unwrap_err();
    assert!(matches!(err, Error::WrongAppSecret { .. }), "{err}");

    // The release is in the audit log.
    let audit = t
        .host
        .audit(&AuditQuery {
            app: Some(APP.into()),
            ..AuditQuery::default()
        })
        .unwrap();
    assert!(audit.iter().any(|e| e.capability == "app-id.release"
        && e.outcome == Outcome::Allowed
        && e.detail.contains(FIRST)));
}

#[tokio::test]
async fn the_same_order_id_pays_anew_after_a_release_and_the_old_payment_stays() {
    let t = host();
    let (first, rival) = two_publishers(&t);
    t.prompter
        .answer_payments(ScriptedPayment::Answer(PaymentAnswer::Confirm));
    t.host.top_up("ann", 10_000, "CNY").unwrap();
    t.host.install(first).await.unwrap();
    let s = t.host.session("ann", APP).unwrap();
    let paid_first = fuzz_result(&run(&s, &[fuzz_pay("o-1", 700)]).await, 1, "pay");
    s.close().await;
    t.host.uninstall(APP).await.unwrap();
    t.host.release_app_id(APP).unwrap();
    t.host.install(rival).await.unwrap();

    // The rival's order o-1 is its own payment, to its own account, not
    // the first publisher's receipt answered again.
    let s = t.host.session("ann", APP).unwrap();
    let page = run(
        &s,
        &[
            fuzz_pay("o-1", 300),
            Call::Refund {
                order: "o-1".into(),
                amount: 300,
                reason: "cancelled".into(),
            },
        ],
    )
    .await;
    let paid_rival = fuzz_result(&page, 1, "pay");
    assert!(paid_rival.starts_with("paid "), "{paid_rival}");
    assert_ne!(paid_rival, paid_first);
    assert!(fuzz_result(&page, 2, "refund").starts_with("refunded "));
    assert_eq!(t.host.merchant_balance(FIRST).unwrap(), 700);
    assert_eq!(t.host.merchant_balance(RIVAL).unwrap(), 0);
    assert_eq!(t.host.wallet_balance("ann").unwrap(), 9_300);
    assert!(t.host.verify_ledger().unwrap().is_clean());
}

#[tokio::test]
async fn an_id_is_released_only_when_uninstalled_and_ever_used() {
    let t = host();
    let (first, _) = two_publishers(&t);
    let err = t.host.release_app_id(APP).unwrap_err();
    assert!(matches!(err, Error::UnknownAppId { .. }), "{err}");
    t.host.install(first.clone()).await.unwrap();
    let err = t.host.release_app_id(APP).unwrap_err();
    assert!(matches!(err, Error::AppIdInstalled { .. }), "{err}");
    assert!(err.to_string().contains("plaza uninstall"), "{err}");
    assert_eq!(t.host.installed().unwrap().len(), 1);

    // Its own publisher reinstalls after uninstall, and the users' data
    // is still there.
    let s = t.host.session("ann", APP).unwrap();
    run(
        &s,
        &[Call::Set {
            key: "k".into(),
            fill: b'x',
            len: 1,
        }],
    )
    .await;
    s.close().await;
    t.host.uninstall(APP).await.unwrap();
    t.host.install(first).await.unwrap();
    let s = t.host.session("ann", APP).unwrap();
    let page = run(&s, &[Call::Get { key: "k".into() }]).await;
    assert_eq!(fuzz_result(&page, 1, "get"), "ok some 1 x");
    assert_eq!(t.host.app_id_owner(APP).unwrap().unwrap().generation, 0);
}
