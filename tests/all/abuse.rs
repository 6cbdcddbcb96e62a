//! A mini-app (or one of its users) against everyone else: prompt storms,
//! one user's flood throttling the others, broadcasts that cost the host,
//! and a chat message that locks its user out. Each through a real guest,
//! beside a bystander who keeps getting answers.

use crate::support::*;
use plaza_host::clock::{IdSource, SequentialIds};
use plaza_host::prompt::{PaymentAnswer, ScriptedPayment, SubscriptionAnswer};
use plaza_host::store::{AuditQuery, Outcome};
use plaza_host::store::{MessagingStore, SqliteStore};
use plaza_host::{Host, MAX_CHAT_ATTEMPTS, Page, Session};
use plaza_test_programs::{CASHIER, KV_NOTES, MESSAGING_PROBE};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

const CASHIER_APP: &str = "test.plaza.cashier";
const CITY_APP: &str = "test.plaza.city-services";
const NOTES_APP: &str = "test.plaza.kv-notes";

fn the(page: &Page, label: &str) -> String {
    field(page, label).unwrap_or_else(|| panic!("no {label}:\n{}", text(page)))
}

/// A user of the notes mini-app who keeps saving notes and reading them back.
struct Bystander {
    notes: Session,
    saved: usize,
}

impl Bystander {
    async fn arrive(t: &TestHost) -> Bystander {
        install(t, &KV_NOTES).await;
        let notes = t.host.session("bea", NOTES_APP).unwrap();
        notes.launch("/").await.unwrap();
        let mut b = Bystander { notes, saved: 0 };
        b.answers().await;
        b
    }

    /// Saves one more note and sees it on the page the host answers.
    async fn answers(&mut self) {
        self.saved += 1;
        let key = format!("note-{}", self.saved);
        // Launched again first: a test may move the clock past the idle
        // timeout.
        self.notes.launch("/").await.expect("the notes open");
        let page = self
            .notes
            .submit("put", &[("key", &key), ("value", "still here")])
            .await
            .expect("the bystander's session answers");
        assert_eq!(field(&page, &key).as_deref(), Some("still here"));
    }
}

fn payment_denials(t: &TestHost) -> usize {
    t.host
        .audit(&AuditQuery::default())
        .unwrap()
        .iter()
        .filter(|e| e.capability == "payment.request" && e.outcome == Outcome::Denied)
        .count()
}

#[tokio::test]
async fn a_payment_storm_asks_once_from_a_tap_and_never_from_a_launch_or_hide() {
    let t = host();
    let mut bea = Bystander::arrive(&t).await;
    install(&t, &CASHIER).await;
    t.host.top_up("mallory", 10_000, "CNY").unwrap();
    t.host.top_up("bea", 10_000, "CNY").unwrap();
    t.prompter
        .answer_payments(ScriptedPayment::Answer(PaymentAnswer::Decline));
    let s = t.host.session("mallory", CASHIER_APP).unwrap();

    // From a launch: refused without a prompt, one audit entry for the loop.
    let page = s
        .launch("/pay-loop?order=p-1&amount=100&times=5")
        .await
        .unwrap();
    for label in ["try 1", "try 5", "other"] {
        let v = the(&page, label);
        assert!(
            v.starts_with("error denied:") && v.contains("tap"),
            "{label}: {v}"
        );
    }
    assert!(t.prompter.payment_prompts().is_empty());
    assert_eq!(payment_denials(&t), 1);
    bea.answers().await;

    // From a tap: asked once; the declined order is not asked again in the
    // event, and a second order is refused without asking.
    let page = s.tap("pay").await.unwrap();
    assert_eq!(the(&page, "try 1"), "declined");
    assert_eq!(the(&page, "try 5"), "declined");
    let other = the(&page, "other");
    assert!(other.starts_with("error limit-exceeded:"), "{other}");
    assert_eq!(t.prompter.payment_prompts().len(), 1);
    bea.answers().await;

    // From `hide`: refused without a prompt.
    s.close().await;
    assert_eq!(t.prompter.payment_prompts().len(), 1);
    let denials = payment_denials(&t);
    assert!(denials >= 4, "the refusals are audited: {denials}");
    bea.answers().await;

    // A user's tap still pays, once.
    t.prompter
        .answer_payments(ScriptedPayment::Answer(PaymentAnswer::Confirm));
    let bea_pays = t.host.session("bea", CASHIER_APP).unwrap();
    let page = launch_and_pay(&bea_pays, "/pay-loop?order=b-1&amount=100&times=3")
        .await
        .unwrap();
    assert_eq!(the(&page, "try 1"), "paid");
    assert_eq!(t.prompter.payment_prompts().len(), 2);
    assert_eq!(t.host.wallet_balance("bea").unwrap(), 9_900);
    assert_eq!(t.host.wallet_balance("mallory").unwrap(), 10_000);
    bea.answers().await;
}

#[tokio::test]
async fn one_users_flood_does_not_use_up_another_users_messages() {
    let t = host_with(|mut c| {
        c.messaging_per_minute = 3;
        c
    });
    let mut bea = Bystander::arrive(&t).await;
    install(&t, &MESSAGING_PROBE).await;
    t.prompter
        .answer_subscriptions(SubscriptionAnswer::AcceptOnce);

    // Mallory chats and asks for replies past the limit, then for a
    // subscription: refused, nothing asked.
    let mallory = t.host.session("mallory", CITY_APP).unwrap();
    mallory.launch("/").await.unwrap();
    mallory.chat("hello?").await.unwrap();
    for _ in 0..3 {
        let o = the(&mallory.tap("reply").await.unwrap(), "outcome");
        assert!(o.starts_with("ok "), "{o}");
    }
    let o = the(&mallory.tap("reply").await.unwrap(), "outcome");
    assert!(o.starts_with("error limit-exceeded:"), "{o}");
    let o = the(&mallory.tap("subscribe:bill-due").await.unwrap(), "outcome");
    assert!(o.starts_with("error limit-exceeded:"), "{o}");
    assert!(t.prompter.subscription_prompts().is_empty());
    bea.answers().await;

    // In the same minute, Bea's reply and subscription go through.
    let city = t.host.session("bea", CITY_APP).unwrap();
    city.launch("/").await.unwrap();
    city.chat("When is the office open?").await.unwrap();
    let o = the(&city.tap("reply").await.unwrap(), "outcome");
    assert!(o.starts_with("ok "), "{o}");
    let page = city.tap("subscribe:bill-due").await.unwrap();
    assert_eq!(the(&page, "subscription bill-due"), "accepted-once");
    assert_eq!(t.prompter.subscription_prompts().len(), 1);
    bea.answers().await;
}

/// Sequential ids that, once armed, stop at the `stop_at`th message id of a
/// broadcast's delivery until the test releases them (or 10 s pass), noting
/// in `order` when they stopped and went on.
struct PausingIds {
    inner: SequentialIds,
    armed: AtomicBool,
    messages: AtomicU32,
    stop_at: u32,
    released: Mutex<bool>,
    wake: Condvar,
    paused: tokio::sync::Notify,
    order: Arc<Mutex<Vec<&'static str>>>,
}

impl IdSource for PausingIds {
    fn next_id(&self, prefix: &str) -> String {
        if prefix == "msg-"
            && self.armed.load(Ordering::SeqCst)
            && self.messages.fetch_add(1, Ordering::SeqCst) + 1 == self.stop_at
        {
            self.order.lock().unwrap().push("delivery paused");
            self.paused.notify_one();
            let released = self.released.lock().unwrap();
            drop(
                self.wake
                    .wait_timeout_while(released, Duration::from_secs(10), |r| !*r)
                    .unwrap(),
            );
            self.order.lock().unwrap().push("delivery went on");
        }
        self.inner.next_id(prefix)
    }
}

impl PausingIds {
    fn release(&self) {
        *self.released.lock().unwrap() = true;
        self.wake.notify_all();
    }
}

#[tokio::test]
async fn a_broadcast_writes_no_rows_for_followers_over_quota_and_does_not_hold_up_others() {
    const FOLLOWERS: usize = 250;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plaza.db");
    let order = Arc::new(Mutex::new(Vec::new()));
    let ids = Arc::new(PausingIds {
        inner: SequentialIds::default(),
        armed: AtomicBool::new(false),
        messages: AtomicU32::new(0),
        stop_at: 150,
        released: Mutex::new(false),
        wake: Condvar::new(),
        paused: tokio::sync::Notify::new(),
        order: order.clone(),
    });
    let clock = plaza_host::clock::ManualClock::new(START_MS);
    let prompter = Arc::new(plaza_host::prompt::ScriptedPrompter::new());
    let host = Host::open(
        &path,
        config(&clock, &prompter)
            .ids(ids.clone())
            .broadcasts_per_month(1),
    )
    .unwrap();
    let t = TestHost::from_parts(host, clock, prompter);
    let mut bea = Bystander::arrive(&t).await;
    install(&t, &MESSAGING_PROBE).await;
    for n in 0..FOLLOWERS {
        t.host.follow(&format!("f{n:03}"), CITY_APP, true).unwrap();
    }
    let rows = || {
        SqliteStore::open(&path)
            .unwrap()
            .broadcast_recipient_rows()
            .unwrap()
    };
    let staff = t.host.session("staff", CITY_APP).unwrap();
    let broadcast = |title: &str| format!("/broadcast?title={title}&text=Notice");

    let page = staff.launch(&broadcast("First")).await.unwrap();
    assert_eq!(the(&page, "delivered"), FOLLOWERS.to_string());
    assert_eq!(rows(), FOLLOWERS as u64);
    bea.answers().await;

    // Everyone had this month's broadcast: skipped, and not a row written.
    let page = staff.launch(&broadcast("Second")).await.unwrap();
    assert_eq!(the(&page, "delivered"), "0");
    assert_eq!(the(&page, "skipped"), FOLLOWERS.to_string());
    assert_eq!(rows(), FOLLOWERS as u64);
    bea.answers().await;

    // Next month: delivered again; while the delivery is under way, Bea's
    // storage write goes through.
    t.clock.advance(Duration::from_secs(31 * 24 * 3600));
    ids.armed.store(true, Ordering::SeqCst);
    let sending = tokio::spawn({
        let staff = staff.clone();
        let path = broadcast("Third");
        async move { staff.launch(&path).await }
    });
    ids.paused.notified().await;
    bea.answers().await;
    order.lock().unwrap().push("bea wrote");
    ids.release();
    let page = sending.await.unwrap().unwrap();
    assert_eq!(the(&page, "delivered"), FOLLOWERS.to_string());
    assert_eq!(
        *order.lock().unwrap(),
        ["delivery paused", "bea wrote", "delivery went on"]
    );
    // Last month's rows are pruned: only this broadcast's are kept.
    assert_eq!(rows(), FOLLOWERS as u64);
    assert_eq!(t.host.inbox("f000", false, 10).unwrap().len(), 2);
    bea.answers().await;
}

#[tokio::test]
async fn a_chat_message_the_app_cannot_take_is_set_aside_after_its_tries_and_the_app_opens() {
    let t = host();
    let mut bea = Bystander::arrive(&t).await;
    install(&t, &MESSAGING_PROBE).await;
    t.host
        .write_to_app("ann", CITY_APP, "poison: a message the app cannot take")
        .unwrap();
    t.host
        .write_to_app("ann", CITY_APP, "Is the office open on Sunday?")
        .unwrap();
    let s = t.host.session("ann", CITY_APP).unwrap();
    for attempt in 1..=MAX_CHAT_ATTEMPTS {
        let page = s.launch("/").await.expect("the app opens");
        assert_eq!(page.title, "City Services", "{}", text(&page));
        let told = notices(&page);
        let expected = if attempt < MAX_CHAT_ATTEMPTS {
            "tried again"
        } else {
            "set aside"
        };
        assert!(
            told.iter()
                .any(|n| n.contains("poison") && n.contains(expected)),
            "try {attempt}: {told:?}"
        );
        assert_eq!(field(&page, "received"), None);
        bea.answers().await;
    }
    // Set aside: the next launch gives the app the message after it, and
    // nothing more is redelivered.
    let page = s.launch("/").await.unwrap();
    assert!(notices(&page).is_empty(), "{}", text(&page));
    assert_eq!(
        field(&page, "received").as_deref(),
        Some("Is the office open on Sunday?")
    );
    let page = s.launch("/").await.unwrap();
    assert_eq!(field(&page, "received"), None);
    assert!(notices(&page).is_empty());
    let set_aside = t
        .host
        .audit(&AuditQuery::default())
        .unwrap()
        .into_iter()
        .filter(|e| e.capability == "chat.set-aside" && e.user == "ann")
        .count();
    assert_eq!(set_aside, 1);
    bea.answers().await;
}
