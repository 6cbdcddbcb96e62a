//! The hostile suite: mini-apps that flood, snoop, lie and tamper, each
//! against a bystander going about her business in other mini-apps of the
//! same host. Every attack must end in a typed error or a stopped session
//! with its reason, write nothing it should not, leave its denial in the
//! audit log, and leave the bystander's sessions, money, data and inbox as
//! they were.
//!
//! Loops, memory bombs, recursion, oversized pages and output floods are in
//! `misbehave.rs`; WASI files and sockets in `wasi_probe.rs`; undeclared
//! imports in `undeclared_storage.rs`. `docs/security.md` lists every attack
//! with the test that covers it.

use crate::support::*;
use plaza_host::manifest::Scope;
use plaza_host::package::Package;
use plaza_host::prompt::{ConsentAnswer, PaymentAnswer, ScriptedPayment, SubscriptionAnswer};
use plaza_host::store::{AuditEntry, AuditQuery, Outcome};
use plaza_host::{Error, GuestFault, Page, Session};
use plaza_test_programs::{CASHIER, HOSTILE, KV_NOTES, MESSAGING_PROBE, UNDECLARED_STORAGE};

const HOSTILE_APP: &str = "test.plaza.hostile";
const NOTES_APP: &str = "test.plaza.kv-notes";
const CASHIER_APP: &str = "test.plaza.cashier";
const CLINIC: &str = "test.plaza.clinic";
const CITY_APP: &str = "test.plaza.city-services";

/// Bea, a user of the same host: a note in kv-notes (her session stays
/// live through the attack), a paid order at the clinic's cashier, and one
/// broadcast in her inbox.
struct Bystander {
    notes: Session,
    instance: Option<String>,
    order_tx: String,
}

impl Bystander {
    const USER: &str = "bea";
    const ORDER: &str = "o-1";
    const PAID: u64 = 1200;
    const TOP_UP: u64 = 10_000;

    async fn arrive(t: &TestHost) -> Bystander {
        for f in [&KV_NOTES, &CASHIER, &MESSAGING_PROBE, &HOSTILE] {
            install(t, f).await;
        }
        let notes = t.host.session(Self::USER, NOTES_APP).unwrap();
        notes.launch("/").await.unwrap();
        let page = notes
            .submit("put", &[("key", "allergy"), ("value", "penicillin")])
            .await
            .unwrap();
        assert_eq!(field(&page, "allergy").as_deref(), Some("penicillin"));

        t.host.top_up(Self::USER, Self::TOP_UP, "CNY").unwrap();
        t.prompter
            .answer_payments(ScriptedPayment::Answer(PaymentAnswer::Confirm));
        let paid = launch_and_pay(
            &t.host.session(Self::USER, CASHIER_APP).unwrap(),
            &format!("/pay?order={}&amount={}", Self::ORDER, Self::PAID),
        )
        .await
        .unwrap();
        assert_eq!(
            field(&paid, "outcome").as_deref(),
            Some("paid"),
            "{}",
            text(&paid)
        );

        t.host.follow(Self::USER, CITY_APP, true).unwrap();
        let sent = t
            .host
            .session("staff", CITY_APP)
            .unwrap()
            .launch("/broadcast?title=Clinic%20hours&text=Open%20on%20Sunday")
            .await
            .unwrap();
        assert_eq!(field(&sent, "delivered").as_deref(), Some("1"));
        // Later prompts are the attack's to script.
        t.prompter
            .answer_payments(ScriptedPayment::Answer(PaymentAnswer::Cancel));

        Bystander {
            instance: notes.instance_id().await,
            notes,
            order_tx: field(&paid, "transaction").unwrap(),
        }
    }

    /// Her live session answers from the same instance with her note; her
    /// money, her payment and her inbox are as they were; the ledger is sound.
    async fn is_unharmed(&self, t: &TestHost) {
        let page = self
            .notes
            .tap("now")
            .await
            .expect("the bystander's session answers");
        assert_eq!(field(&page, "allergy").as_deref(), Some("penicillin"));
        assert_eq!(
            self.notes.instance_id().await,
            self.instance,
            "same instance"
        );
        assert_eq!(
            t.host.wallet_balance(Self::USER).unwrap(),
            Self::TOP_UP - Self::PAID
        );
        assert_eq!(t.host.merchant_balance(CLINIC).unwrap(), Self::PAID);
        let query = t
            .host
            .session(Self::USER, CASHIER_APP)
            .unwrap()
            .launch(&format!("/query?order={}", Self::ORDER))
            .await
            .unwrap();
        assert_eq!(
            (
                field(&query, "transaction"),
                field(&query, "refunded").as_deref()
            ),
            (Some(self.order_tx.clone()), Some("0")),
            "{}",
            text(&query)
        );
        let inbox = t.host.inbox(Self::USER, false, 100).unwrap();
        let titles: Vec<&str> = inbox.iter().map(|m| m.title.as_str()).collect();
        assert_eq!(titles, ["Clinic hours"]);
        let report = t.host.verify_ledger().unwrap();
        assert!(report.is_clean(), "{:?}", report.problems);
    }
}

/// The audit log's denials of `capability` for `app`.
fn denials(t: &TestHost, app: &str, capability: &str) -> Vec<AuditEntry> {
    t.host
        .audit(&AuditQuery {
            app: Some(app.into()),
            ..Default::default()
        })
        .unwrap()
        .into_iter()
        .filter(|e| e.capability == capability && e.outcome == Outcome::Denied)
        .collect()
}

fn the(page: &Page, label: &str) -> String {
    field(page, label).unwrap_or_else(|| panic!("no field {label}:\n{}", text(page)))
}

async fn attack(t: &TestHost, user: &str, path: &str) -> plaza_host::Result<Page> {
    t.host
        .session(user, HOSTILE_APP)
        .unwrap()
        .launch(path)
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storage_key_flood_stops_at_the_quota_and_writes_nothing_more() {
    let t = host();
    let bea = Bystander::arrive(&t).await;
    let page = attack(&t, "mallory", "/key-flood").await.unwrap();
    // A 1,024-byte quota; each 8-byte key with an empty value costs 72.
    assert_eq!(the(&page, "written"), "14");
    let error = the(&page, "error");
    assert!(
        error.starts_with("limit-exceeded:") && error.contains("1024-byte quota"),
        "{error}"
    );
    let usage = t.host.storage_usage("mallory", HOSTILE_APP).unwrap();
    assert_eq!((usage.keys, usage.bytes), (14, 14 * 72));
    let denied = denials(&t, HOSTILE_APP, "storage");
    assert_eq!(denied.len(), 1, "{denied:?}");
    assert!(denied[0].detail.contains("Nothing was written"));
    bea.is_unharmed(&t).await;
}

#[tokio::test]
async fn values_and_keys_over_their_caps_are_refused_and_audited() {
    let t = host();
    let bea = Bystander::arrive(&t).await;
    let page = attack(&t, "mallory", "/value-over-cap").await.unwrap();
    let error = the(&page, "error");
    assert!(
        error.starts_with("limit-exceeded:") && error.contains("1 MiB"),
        "{error}"
    );
    let page = attack(&t, "mallory", "/key-over-cap").await.unwrap();
    let error = the(&page, "error");
    assert!(
        error.starts_with("limit-exceeded:") && error.contains("300 bytes"),
        "{error}"
    );
    let usage = t.host.storage_usage("mallory", HOSTILE_APP).unwrap();
    assert_eq!((usage.keys, usage.bytes), (0, 0), "nothing written");
    assert_eq!(denials(&t, HOSTILE_APP, "storage").len(), 2);
    bea.is_unharmed(&t).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_call_flood_is_stopped_at_the_deadline_while_others_answer() {
    let t = host();
    let bea = Bystander::arrive(&t).await;
    let (flood, ()) = tokio::join!(attack(&t, "mallory", "/call-flood"), bea.is_unharmed(&t));
    match flood {
        Err(Error::SessionEnded { app, fault, .. }) => {
            assert_eq!(app, HOSTILE_APP);
            assert_eq!(fault, GuestFault::Deadline { limit_ms: 500 });
        }
        other => panic!("expected the session to end, got {other:?}"),
    }
    let ended = denials(&t, HOSTILE_APP, "session.ended");
    assert_eq!(ended.len(), 1);
    assert!(
        ended[0].detail.contains("CPU deadline"),
        "{}",
        ended[0].detail
    );
    // The next event starts a fresh session that answers.
    let page = attack(&t, "mallory", "/").await.unwrap();
    assert_eq!(page.title, "Hostile");
    bea.is_unharmed(&t).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_flood_is_cut_to_the_budget_of_each_event() {
    let t = host();
    let bea = Bystander::arrive(&t).await;
    let s = t.host.session("mallory", HOSTILE_APP).unwrap();
    s.launch("/").await.unwrap();
    for _ in 0..2 {
        let page = s.tap("log-flood").await.unwrap();
        assert_eq!(the(&page, "logged"), "20000", "the session goes on");
    }
    // One denial per flooded event, not one per dropped record.
    let denied = denials(&t, HOSTILE_APP, "log");
    assert_eq!(denied.len(), 2, "{denied:?}");
    assert!(
        denied[0].detail.contains("1000 records"),
        "{}",
        denied[0].detail
    );
    bea.is_unharmed(&t).await;
}

#[tokio::test]
async fn guessing_keys_finds_nothing_of_another_mini_app_or_user() {
    let t = host();
    let bea = Bystander::arrive(&t).await;
    // Bea herself opens the hostile mini-app: it still cannot see what she
    // keeps in another mini-app.
    for user in [Bystander::USER, "mallory"] {
        let page = attack(&t, user, "/guess-storage").await.unwrap();
        assert_eq!(the(&page, "found"), "", "{}", text(&page));
        assert_eq!(the(&page, "listed"), "", "{}", text(&page));
    }
    bea.is_unharmed(&t).await;
}

#[tokio::test]
async fn guessing_order_ids_neither_reads_nor_refunds_another_mini_apps_payment() {
    let t = host();
    let bea = Bystander::arrive(&t).await;
    // The strongest guess: the exact order id and transaction id, asked in
    // the payer's own session.
    let path = format!("/guess-orders?orders={},{}", Bystander::ORDER, bea.order_tx);
    let page = attack(&t, Bystander::USER, &path).await.unwrap();
    assert_eq!(
        (
            the(&page, "queried"),
            the(&page, "refunded"),
            the(&page, "history"),
            the(&page, "errors")
        ),
        (String::new(), String::new(), "0".into(), "not-found".into()),
        "{}",
        text(&page)
    );
    let refusals = denials(&t, HOSTILE_APP, "payment.refund");
    assert_eq!(refusals.len(), 7, "one per order tried: {refusals:?}");
    bea.is_unharmed(&t).await;
}

/// The cashier fixture under another mini-app id and another publisher.
fn impostor_cashier() -> Package {
    let manifest = manifest_replacing(&CASHIER, CASHIER_APP, "test.plaza.fake-clinic")
        .replacen(CLINIC, "evil.example", 1)
        .replacen("Plaza Test Clinic", "Evil Example Ltd", 1);
    package_with_manifest(&CASHIER, &manifest)
}

#[tokio::test]
async fn a_description_naming_another_payee_does_not_change_who_is_paid() {
    let t = host();
    let bea = Bystander::arrive(&t).await;
    t.host.install(impostor_cashier()).await.unwrap();
    // Bea reads the confirmation, sees who would really be paid, declines.
    t.prompter
        .answer_payments(ScriptedPayment::Answer(PaymentAnswer::Decline));
    let page = launch_and_pay(
        &t.host
            .session(Bystander::USER, "test.plaza.fake-clinic")
            .unwrap(),
        "/pay-as?order=x-1&amount=800&description=Pay%20Plaza%20Test%20Clinic",
    )
    .await
    .unwrap();
    assert_eq!(the(&page, "outcome"), "declined");
    let prompt = t.prompter.payment_prompts().pop().unwrap();
    assert!(
        prompt.payee.contains("Evil Example Ltd"),
        "{}",
        prompt.payee
    );
    assert!(
        !prompt.payee.contains("Plaza Test Clinic"),
        "{}",
        prompt.payee
    );
    assert_eq!(t.host.merchant_balance("evil.example").unwrap(), 0);
    assert_eq!(
        denials(&t, "test.plaza.fake-clinic", "payment.request").len(),
        1
    );
    bea.is_unharmed(&t).await;
}

#[tokio::test]
async fn replaying_an_order_id_with_another_amount_is_refused_without_a_prompt() {
    let t = host();
    let bea = Bystander::arrive(&t).await;
    t.host.install(impostor_cashier()).await.unwrap();
    t.host.top_up("mallory", 1000, "CNY").unwrap();
    t.prompter
        .answer_payments(ScriptedPayment::Answer(PaymentAnswer::Confirm));
    let s = t.host.session("mallory", "test.plaza.fake-clinic").unwrap();
    let paid = launch_and_pay(&s, "/pay?order=r-1&amount=100")
        .await
        .unwrap();
    assert_eq!(the(&paid, "outcome"), "paid");
    let prompts = t.prompter.payment_prompts().len();
    let replay = launch_and_pay(&s, "/pay?order=r-1&amount=900")
        .await
        .unwrap();
    let outcome = the(&replay, "outcome");
    assert!(outcome.starts_with("error invalid-argument:"), "{outcome}");
    assert_eq!(t.prompter.payment_prompts().len(), prompts, "no prompt");
    assert_eq!(t.host.wallet_balance("mallory").unwrap(), 900);
    assert_eq!(t.host.merchant_balance("evil.example").unwrap(), 100);
    assert_eq!(
        denials(&t, "test.plaza.fake-clinic", "payment.request").len(),
        1
    );
    bea.is_unharmed(&t).await;
}

#[tokio::test]
async fn messages_without_a_subscription_and_broadcasts_over_the_quota_do_not_arrive() {
    let t = host();
    let bea = Bystander::arrive(&t).await;
    // A subscription message to Bea, who accepted none.
    let page = t
        .host
        .session(Bystander::USER, CITY_APP)
        .unwrap()
        .launch("/send?template=bill-due&account=W-1&amount=CNY%2042.00")
        .await
        .unwrap();
    let outcome = the(&page, "outcome");
    assert!(outcome.starts_with("error denied:"), "{outcome}");
    assert_eq!(denials(&t, CITY_APP, "messaging.send").len(), 1);
    bea.is_unharmed(&t).await;

    // Four broadcasts a month reach her; she had one already, so three more
    // do and the rest are skipped.
    t.prompter.answer_subscriptions(SubscriptionAnswer::Reject);
    let staff = t.host.session("staff", CITY_APP).unwrap();
    let mut delivered = Vec::new();
    for n in 2..=6 {
        let page = staff
            .launch(&format!("/broadcast?title=Notice%20{n}&text=Water%20off"))
            .await
            .unwrap();
        delivered.push((the(&page, "delivered"), the(&page, "skipped")));
    }
    let expected: Vec<(String, String)> =
        [("1", "0"), ("1", "0"), ("1", "0"), ("0", "1"), ("0", "1")]
            .iter()
            .map(|(d, s)| (d.to_string(), s.to_string()))
            .collect();
    assert_eq!(delivered, expected);
    assert_eq!(t.host.inbox(Bystander::USER, false, 100).unwrap().len(), 4);
    assert_eq!(denials(&t, CITY_APP, "messaging.broadcast").len(), 2);
}

#[tokio::test]
async fn a_consent_storm_asks_each_question_once_per_user_action() {
    let t = host();
    let bea = Bystander::arrive(&t).await;
    let s = t.host.session(Bystander::USER, HOSTILE_APP).unwrap();
    s.launch("/").await.unwrap();
    // Bea closes every question without answering.
    let page = s.tap("consent-storm").await.unwrap();
    assert_eq!(
        (the(&page, "granted"), the(&page, "refused")),
        ("0".into(), "1500".into())
    );
    assert_eq!(t.prompter.consent_questions().len(), 3, "one per scope");
    // Her next tap may ask once more.
    s.tap("consent-storm").await.unwrap();
    assert_eq!(t.prompter.consent_questions().len(), 6);
    // A refusal is remembered: never asked again.
    t.prompter.answer_consent(Scope::Phone, ConsentAnswer::Deny);
    s.tap("consent-storm").await.unwrap();
    s.tap("consent-storm").await.unwrap();
    let phone_questions = t
        .prompter
        .consent_questions()
        .iter()
        .filter(|q| q.scope == Scope::Phone)
        .count();
    assert_eq!(phone_questions, 3);
    assert!(!denials(&t, HOSTILE_APP, "identity.phone").is_empty());
    assert!(
        t.host
            .consents(Bystander::USER)
            .unwrap()
            .iter()
            .all(|c| !c.granted),
        "nothing granted"
    );
    bea.is_unharmed(&t).await;
}

#[tokio::test]
async fn tampered_downgraded_undeclared_and_malformed_packages_are_refused() {
    let t = host();
    let bea = Bystander::arrive(&t).await;
    let key = register_publisher(&t, &KV_NOTES, true);

    // An update of the bystander's own mini-app, changed after signing.
    let newer = manifest_replacing(&KV_NOTES, "version = \"0.1.0\"", "version = \"0.2.0\"");
    let mut tampered = signed_package(&KV_NOTES, &newer, &key);
    tampered.component.extend_from_slice(&[0, 0]);
    let err = t.host.install(tampered).await.unwrap_err();
    assert!(matches!(err, Error::BadSignature { .. }), "{err}");

    // A properly signed downgrade below what is installed.
    t.host
        .install(signed_package(&KV_NOTES, &newer, &key))
        .await
        .unwrap();
    let err = t
        .host
        .install(signed_package(&KV_NOTES, &KV_NOTES.manifest_text(), &key))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UpdateNotNewer { .. }), "{err}");

    // An interface the manifest does not declare.
    let err = t
        .host
        .install(package(&UNDECLARED_STORAGE))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UndeclaredImport { .. }), "{err}");

    let refused: Vec<String> = t
        .host
        .audit(&AuditQuery::default())
        .unwrap()
        .into_iter()
        .filter(|e| e.capability == "install" && e.outcome == Outcome::Denied)
        .map(|e| e.app)
        .collect();
    assert_eq!(
        refused,
        [NOTES_APP, NOTES_APP, "test.plaza.undeclared-storage"]
    );
    let installed: Vec<(String, String)> = t
        .host
        .installed()
        .unwrap()
        .into_iter()
        .map(|a| (a.app_id, a.version))
        .filter(|(id, _)| id == NOTES_APP || id.contains("undeclared"))
        .collect();
    assert_eq!(installed, [(NOTES_APP.to_string(), "0.2.0".to_string())]);

    // Malformed and oversized files never become packages.
    let component = KV_NOTES.component_bytes();
    let huge = format!(
        "{}\n# {}\n",
        KV_NOTES.manifest_text(),
        "x".repeat(70 * 1024)
    );
    assert!(matches!(
        Package::new(&huge, component.clone()),
        Err(Error::Manifest { .. })
    ));
    let mut bytes = Package::new(&KV_NOTES.manifest_text(), component)
        .unwrap()
        .to_bytes();
    for cut in [0, 8, 20, bytes.len() / 2, bytes.len() - 1] {
        let err = Package::from_bytes("cut.plaza", &bytes[..cut]).unwrap_err();
        assert!(matches!(err, Error::Package { .. }), "{err}");
    }
    bytes[9] = 0xff;
    assert!(Package::from_bytes("bent.plaza", &bytes).is_err());

    // The update to 0.2.0 ended Bea's session of 0.1.0 gracefully; her note
    // is in storage and the new version shows it.
    let page = t
        .host
        .session(Bystander::USER, NOTES_APP)
        .unwrap()
        .launch("/")
        .await
        .unwrap();
    assert_eq!(field(&page, "allergy").as_deref(), Some("penicillin"));
    bea.is_unharmed(&t).await;
}
