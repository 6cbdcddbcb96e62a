//! The publisher API through real guests: a mini-app's back-end signs in with
//! its app secret, exchanges the guest's login code, messages users by the
//! openid the guest got, queries and refunds the guest's payments; a token
//! of one mini-app reaches nothing of another's. Through the fuzz-caller
//! guest (and a copy of it under another app id).

use crate::support::*;
use plaza_host::clock::Clock;
use plaza_host::prompt::{PaymentAnswer, ScriptedPayment, SubscriptionAnswer};
use plaza_host::store::{AuditQuery, Outcome};
use plaza_host::{Error, Host, Page, Publisher};
use plaza_test_programs::FUZZ_CALLER;
use plaza_test_programs::fuzz_script::Call;
use std::time::Duration;

const APP: &str = "test.plaza.fuzz-caller";
/// The same component under another app id (and publisher).
const OTHER: &str = "test.plaza.fuzz-other";

use run_calls as run;

/// A host with both mini-apps installed; their app secrets.
async fn two_apps() -> (TestHost, String, String) {
    let t = host();
    t.prompter
        .answer_payments(ScriptedPayment::Answer(PaymentAnswer::Confirm));
    t.prompter
        .answer_subscriptions(SubscriptionAnswer::AcceptOnce);
    let secret = install(&t, &FUZZ_CALLER).await.app_secret.unwrap();
    let other = manifest_replacing(
        &FUZZ_CALLER,
        &format!("id = \"{APP}\""),
        &format!("id = \"{OTHER}\""),
    );
    let other = manifest_replacing_text(
        &other,
        "id = \"test.plaza.fuzz\"",
        "id = \"test.plaza.other\"",
    );
    let other_secret = t
        .host
        .install(package_with_manifest(&FUZZ_CALLER, &other))
        .await
        .unwrap()
        .app_secret
        .unwrap();
    t.host.top_up("ann", 100_000, "CNY").unwrap();
    (t, secret, other_secret)
}

fn manifest_replacing_text(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "no `{from}`");
    text.replacen(from, to, 1)
}

fn backend(host: &Host, app: &str, secret: &str) -> Publisher {
    let token = host.access_token(app, secret).unwrap();
    assert_eq!(token.expires_in, 7200);
    host.publisher_api(&token.access_token).unwrap()
}

/// Ann's openid in `app`, as the guest gets it.
async fn openid_in(t: &TestHost, app: &str) -> String {
    let s = t.host.session("ann", app).unwrap();
    let page = run(&s, &[Call::Openid]).await;
    shown_openid(&page, 1)
}

/// The openid the guest's `n`th call got (shown as `ok OPENID`).
fn shown_openid(page: &Page, n: usize) -> String {
    let shown = fuzz_result(page, n, "openid");
    shown.strip_prefix("ok ").unwrap_or(&shown).to_string()
}

fn reminder(when: &str) -> Vec<(String, String)> {
    vec![
        ("when".to_string(), when.to_string()),
        ("where".to_string(), "Clinic 3".to_string()),
    ]
}

#[tokio::test]
async fn a_token_reaches_only_its_own_mini_app_and_expires_after_two_hours() {
    let (t, secret, other_secret) = two_apps().await;
    let ann = openid_in(&t, APP).await;
    let ann_elsewhere = openid_in(&t, OTHER).await;
    assert_ne!(ann, ann_elsewhere);
    let s = t.host.session("ann", OTHER).unwrap();
    let page = run(&s, &[fuzz_pay("o-1", 2_000)]).await;
    assert!(
        fuzz_result(&page, 1, "pay").starts_with("paid "),
        "{}",
        text(&page)
    );

    // A wrong secret gets no token, and is audited.
    let err = t.host.access_token(APP, &other_secret).unwrap_err();
    assert!(matches!(err, Error::WrongAppSecret { .. }), "{err}");
    let api = backend(&t.host, APP, &secret);
    assert_eq!(api.app_id(), APP);

    // The other mini-app's openid and order are not found with this token.
    let err = api
        .send_message(&ann_elsewhere, "reminder", &reminder("9:00"), None)
        .unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err}");
    let err = api.payment("o-1").unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err}");
    let err = api.refund("o-1", "rf-1", 100, "no").unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err}");
    assert_eq!(t.host.wallet_balance("ann").unwrap(), 98_000);
    // Its own back-end finds them.
    let other_api = backend(&t.host, OTHER, &other_secret);
    assert_eq!(
        other_api.payment("o-1").unwrap().openid.as_deref(),
        Some(ann_elsewhere.as_str())
    );

    // A token altered to name the other mini-app, or forged, is refused.
    let token = t.host.access_token(APP, &secret).unwrap().access_token;
    let moved = token.replace(APP, OTHER);
    assert!(matches!(
        t.host.publisher_api(&moved),
        Err(Error::InvalidAccessToken)
    ));
    let mut forged = token.clone().into_bytes();
    let at = token.find('.').unwrap() + 3;
    forged[at] = if forged[at] == b'0' { b'1' } else { b'0' };
    let forged = String::from_utf8(forged).unwrap();
    assert!(matches!(
        t.host.publisher_api(&forged),
        Err(Error::InvalidAccessToken)
    ));
    assert!(matches!(
        t.host.publisher_api("nonsense"),
        Err(Error::InvalidAccessToken)
    ));

    // Two hours on, the token is expired; a reset secret ends it at once.
    t.clock.advance(Duration::from_secs(2 * 60 * 60));
    let err = t.host.publisher_api(&token).unwrap_err();
    assert!(matches!(err, Error::AccessTokenExpired { .. }), "{err}");
    let fresh = t.host.access_token(APP, &secret).unwrap().access_token;
    t.host.reset_app_secret(APP).unwrap();
    assert!(matches!(
        t.host.publisher_api(&fresh),
        Err(Error::InvalidAccessToken)
    ));

    let audit = t
        .host
        .audit(&AuditQuery {
            app: Some(APP.into()),
            ..AuditQuery::default()
        })
        .unwrap();
    let seen = |what: &str, outcome: Outcome| {
        audit
            .iter()
            .any(|e| e.capability == what && e.outcome == outcome)
    };
    assert!(seen("backend.token", Outcome::Denied));
    assert!(seen("backend.token", Outcome::Allowed));
    assert!(seen("backend.messages", Outcome::Denied));
}

#[tokio::test]
async fn the_back_end_exchanges_a_login_code_once() {
    let (t, secret, _) = two_apps().await;
    let s = t.host.session("ann", APP).unwrap();
    let page = run(&s, &[Call::Openid, Call::Login]).await;
    let openid = shown_openid(&page, 1);
    let code = fuzz_result(&page, 2, "login");
    let code = code.split(' ').nth(1).unwrap().to_string();
    let api = backend(&t.host, APP, &secret);
    let login = api.exchange_login_code(&code).unwrap();
    assert_eq!(login.openid, openid);
    let err = api.exchange_login_code(&code).unwrap_err();
    assert!(matches!(err, Error::LoginCodeReused { .. }), "{err}");
    let audit = t.host.audit(&AuditQuery::default()).unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.capability == "backend.login" && e.user == "ann")
    );
}

#[tokio::test]
async fn a_message_by_openid_uses_one_acceptance_once_even_when_two_calls_race() {
    let (t, secret, _) = two_apps().await;
    let ann = openid_in(&t, APP).await;
    let api = backend(&t.host, APP, &secret);
    // No acceptance yet.
    let err = api
        .send_message(&ann, "reminder", &reminder("9:00"), None)
        .unwrap_err();
    assert!(matches!(err, Error::Refused(_)), "{err}");
    // Ann accepts once, from a tap in the mini-app.
    let s = t.host.session("ann", APP).unwrap();
    let page = run(
        &s,
        &[Call::Subscribe {
            templates: vec!["reminder".into()],
        }],
    )
    .await;
    assert!(
        fuzz_result(&page, 1, "subscribe").contains("AcceptedOnce"),
        "{}",
        text(&page)
    );
    s.close().await;
    // Two back-end calls race for the one acceptance: one message.
    let racers: Vec<_> = (0..2)
        .map(|i| {
            let api = api.clone();
            let ann = ann.clone();
            std::thread::spawn(move || {
                api.send_message(
                    &ann,
                    "reminder",
                    &reminder(&format!("{i}:00")),
                    Some("/?script=openid"),
                )
            })
        })
        .collect();
    let results: Vec<_> = racers.into_iter().map(|r| r.join().unwrap()).collect();
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    assert!(results.iter().any(|r| matches!(r, Err(Error::Refused(_)))));
    let inbox = t.host.inbox("ann", false, 10).unwrap();
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].link.as_deref(), Some("/?script=openid"));
    assert!(inbox[0].body.contains("where: Clinic 3"));

    // Opening it launches the mini-app at the link: its query reaches the
    // page (the guest runs the script the query names).
    let (_, page) = t.host.open_message("ann", &inbox[0].id).await.unwrap();
    assert_eq!(shown_openid(&page, 1), ann);
    assert!(t.host.inbox("ann", true, 10).unwrap().is_empty());
    let err = t.host.open_message("bob", &inbox[0].id).await.unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err}");
    // A link outside the mini-app's pages is refused.
    let err = api
        .send_message(
            &ann,
            "reminder",
            &reminder("9:00"),
            Some("https://evil.example/"),
        )
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err}");
}

#[tokio::test]
async fn broadcasts_keep_the_monthly_quota_and_replies_the_48_hour_window() {
    let (t, secret, _) = two_apps().await;
    let ann = openid_in(&t, APP).await;
    t.host.follow("ann", APP, true).unwrap();
    let api = backend(&t.host, APP, &secret);
    for _ in 0..4 {
        let n = api
            .broadcast("News", "Clinic hours change", Some("/"))
            .await
            .unwrap();
        assert_eq!((n.delivered, n.skipped), (1, 0));
    }
    let n = api.broadcast("News", "One too many", None).await.unwrap();
    assert_eq!((n.delivered, n.skipped), (0, 1));

    // No reply before Ann writes; within 48 hours of her message, yes.
    let err = api.reply(&ann, "Hello", None).unwrap_err();
    assert!(matches!(err, Error::Refused(_)), "{err}");
    t.host
        .write_to_app("ann", APP, "Is the clinic open?")
        .unwrap();
    api.reply(&ann, "Yes, until 17:00", None).unwrap();
    t.clock.advance(Duration::from_secs(48 * 60 * 60));
    let api = backend(&t.host, APP, &secret);
    let err = api.reply(&ann, "Still there?", None).unwrap_err();
    assert!(matches!(err, Error::Refused(_)), "{err}");
}

#[tokio::test]
async fn a_refund_id_retried_refunds_once_and_the_day_lists_the_money() {
    let (t, secret, _) = two_apps().await;
    let s = t.host.session("ann", APP).unwrap();
    let page = run(&s, &[Call::Openid, fuzz_pay("o-1", 3_000)]).await;
    let ann = shown_openid(&page, 1);
    assert!(
        fuzz_result(&page, 2, "pay").starts_with("paid "),
        "{}",
        text(&page)
    );
    let api = backend(&t.host, APP, &secret);
    let p = api.payment("o-1").unwrap();
    assert_eq!(
        (p.openid.as_deref(), p.amount, p.refunded),
        (Some(ann.as_str()), 3_000, 0)
    );

    let first = api
        .refund("o-1", "cancel-7", 1_000, "clinic cancelled")
        .unwrap();
    let again = api
        .refund("o-1", "cancel-7", 1_000, "clinic cancelled")
        .unwrap();
    assert_eq!(first, again);
    assert_eq!(t.host.wallet_balance("ann").unwrap(), 98_000);
    let err = api.refund("o-1", "cancel-7", 500, "other").unwrap_err();
    assert!(matches!(err, Error::Refused(_)), "{err}");
    let err = api
        .refund("o-1", "cancel-8", 2_001, "too much")
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err}");
    let p = api.payment("o-1").unwrap();
    assert_eq!((p.refunded, p.refunds.len()), (1_000, 1));
    assert!(t.host.verify_ledger().unwrap().is_clean());

    let today = plaza_host::clock::civil_date(t.clock.now_ms(), 480);
    let day = format!("{:04}-{:02}-{:02}", today.0, today.1, today.2);
    let statement = api.statement(&day).unwrap();
    assert_eq!(statement.payments.len(), 1);
    assert_eq!(statement.refunds.len(), 1);
    assert_eq!(statement.refunds[0].refund_id.as_deref(), Some("cancel-7"));
    assert!(api.statement("2000-01-01").unwrap().payments.is_empty());
    assert!(matches!(
        api.statement("yesterday"),
        Err(Error::InvalidRequest(_))
    ));
}

#[tokio::test]
async fn the_back_ends_calls_are_rate_limited() {
    let t = host_with(|c| c.backend_calls_per_minute(3));
    let secret = install(&t, &FUZZ_CALLER).await.app_secret.unwrap();
    let api = backend(&t.host, APP, &secret);
    assert!(matches!(api.payment("o-1"), Err(Error::NotFound(_))));
    assert!(matches!(api.payment("o-1"), Err(Error::NotFound(_))));
    let err = api.payment("o-1").unwrap_err();
    assert!(
        matches!(err, Error::BackendRateLimited { limit: 3, .. }),
        "{err}"
    );
    t.clock.advance(Duration::from_secs(60));
    assert!(matches!(api.payment("o-1"), Err(Error::NotFound(_))));
}

/// The child of `a_refund_committed_before_a_sigkill_is_returned_to_the_retry`:
/// refunds with a refund id in the store the parent names, says so, and
/// waits to be killed (its caller never gets the answer).
#[tokio::test]
#[ignore = "the child process of a_refund_committed_before_a_sigkill_is_returned_to_the_retry"]
async fn refund_then_wait_for_the_kill() {
    let (Ok(store), Ok(secret)) = (
        std::env::var("PLAZA_REFUND_STORE"),
        std::env::var("PLAZA_REFUND_SECRET"),
    ) else {
        return;
    };
    let config = plaza_host::HostConfig::default()
        .developer_mode(true)
        .cache_dir(Some(shared_cache()))
        .limits(limits());
    let host = Host::open(std::path::Path::new(&store), config).unwrap();
    let api = backend(&host, APP, &secret);
    let r = api.refund("o-1", "crash-1", 300, "clinic closed").unwrap();
    println!("REFUNDED {}", r.tx_id);
    use std::io::Write;
    std::io::stdout().flush().unwrap();
    tokio::time::sleep(Duration::from_secs(60)).await;
}

#[tokio::test]
async fn a_refund_committed_before_a_sigkill_is_returned_to_the_retry() {
    use std::io::BufRead;
    let (t, secret, _) = two_apps().await;
    let s = t.host.session("ann", APP).unwrap();
    let page = run(&s, &[fuzz_pay("o-1", 1_000)]).await;
    assert!(
        fuzz_result(&page, 1, "pay").starts_with("paid "),
        "{}",
        text(&page)
    );
    s.close().await;
    // Another process refunds and is killed before its caller hears back.
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "publisher_api::refund_then_wait_for_the_kill",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("PLAZA_REFUND_STORE", t.store_file())
        .env("PLAZA_REFUND_SECRET", &secret)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let first_tx = stdout
        .lines()
        .map_while(|l| l.ok())
        .find_map(|l| l.split_once("REFUNDED ").map(|(_, tx)| tx.to_string()))
        .expect("the child refunded");
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // The back-end retries with the same refund id: the first refund.
    let api = backend(&t.host, APP, &secret);
    let again = api.refund("o-1", "crash-1", 300, "clinic closed").unwrap();
    assert_eq!(again.tx_id, first_tx);
    assert_eq!(api.payment("o-1").unwrap().refunds.len(), 1);
    assert_eq!(t.host.wallet_balance("ann").unwrap(), 99_300);
    assert!(t.host.verify_ledger().unwrap().is_clean());
}
