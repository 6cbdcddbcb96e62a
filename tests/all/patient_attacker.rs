//! The patient attacker (issue 16, findings 1 and 2): a mini-app that
//! sleeps, waits on a slow back-end or never answers, beside bystanders who
//! keep being answered. Order and outcomes only: the latency figures are the
//! `bad_neighbours` benchmark's. Timeouts here are hang guards, not speed
//! assertions.

use crate::support::*;
use plaza_host::prompt::{
    BoxFuture, ConsentAnswer, ConsentRequest, Prompter, SubscriptionAnswer, SubscriptionPrompt,
};
use plaza_host::store::AuditQuery;
use plaza_host::{Error, GuestFault, Session};
use plaza_test_programs::{IDENTITY_PROBE, KV_NOTES, MESSAGING_PROBE, MISBEHAVE};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

const MISBEHAVE_APP: &str = "test.plaza.misbehave";

/// Fails only a hung test, never a slow one.
const HANG_GUARD: Duration = Duration::from_secs(30);

async fn guarded<F: std::future::Future>(what: &str, f: F) -> F::Output {
    tokio::time::timeout(HANG_GUARD, f)
        .await
        .unwrap_or_else(|_| panic!("{what} hung for {HANG_GUARD:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sleeper_past_its_grace_does_not_hold_the_busy_lane() {
    let t = host_with(|mut c| {
        c.limits.busy_lanes = 1;
        // Out of the way: this test is about the lanes.
        c.limits.event_wall_clock = Duration::from_secs(60);
        c
    });
    install(&t, &MISBEHAVE).await;

    // Mallory spins past her grace (so her event takes the one busy lane),
    // then sleeps 25 s in a blocking WASI call.
    let mallory = t.host.session("mallory", MISBEHAVE_APP).unwrap();
    let sleeping =
        tokio::spawn(async move { mallory.launch("/spin-then-sleep?spin=60&sleep=25000").await });
    // Setup only: let her reach her sleep.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(!sleeping.is_finished(), "{:?}", sleeping.await);

    // Carol, the yardstick, sleeps 10 s within her grace: she never needs a
    // lane. Bob's event is busy (60 ms of spinning, past the grace): it
    // needs one, and must get it while Mallory sleeps, before Carol wakes.
    let carol = t.host.session("carol", MISBEHAVE_APP).unwrap();
    let yardstick = tokio::spawn(async move { carol.launch("/sleep?ms=10000").await });
    let bob = t.host.session("bob", MISBEHAVE_APP).unwrap();
    let page = guarded(
        "bob's busy event",
        bob.launch("/spin-then-sleep?spin=60&sleep=0"),
    )
    .await
    .unwrap();
    assert_eq!(page.title, "Misbehave");
    assert!(
        !yardstick.is_finished() && !sleeping.is_finished(),
        "bob's event waited for mallory's sleep to end: a sleeping event held the busy lane"
    );
    sleeping.abort();
    yardstick.abort();
}

/// A bystander who keeps launching until `stop`; returns how many pages she
/// got (each checked).
fn keep_answering(s: Session, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<usize> {
    tokio::spawn(async move {
        let answered = AtomicUsize::new(0);
        while answered.load(Ordering::Relaxed) == 0 || !stop.load(Ordering::Relaxed) {
            let page = guarded("the bystander's launch", s.launch("/"))
                .await
                .unwrap();
            assert_eq!(page.title, "Misbehave");
            answered.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        answered.into_inner()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_that_sleeps_past_the_wall_clock_cap_ends_its_session() {
    let t = host_with(|mut c| {
        c.limits.event_wall_clock = Duration::from_secs(1);
        c
    });
    install(&t, &MISBEHAVE).await;
    let stop = Arc::new(AtomicBool::new(false));
    let bystander = keep_answering(t.host.session("bea", MISBEHAVE_APP).unwrap(), stop.clone());

    // A 20 s sleep is one epoch tick: far under the 500 ms CPU deadline.
    let mallory = t.host.session("mallory", MISBEHAVE_APP).unwrap();
    let first = mallory.instance_id().await;
    assert_eq!(first, None);
    let ended = guarded("the sleeper", mallory.launch("/sleep?ms=20000")).await;
    let (session, fault) = match ended {
        Err(Error::SessionEnded {
            app,
            session,
            fault,
        }) if app == MISBEHAVE_APP => (session, fault),
        other => panic!("the sleeper must end at the wall-clock cap, got {other:?}"),
    };
    assert_eq!(fault, GuestFault::WallClock { limit_ms: 1000 });
    assert!(
        fault.to_string().contains("wall-clock cap of 1000 ms"),
        "{fault}"
    );
    assert_eq!(mallory.instance_id().await, None);

    // Audited like every other end.
    let audited = t
        .host
        .audit(&AuditQuery::default())
        .unwrap()
        .into_iter()
        .any(|e| {
            e.capability == "session.ended"
                && e.user == "mallory"
                && e.detail.contains("wall-clock cap")
        });
    assert!(audited, "the end at the wall-clock cap is not audited");

    // The next event starts a fresh instance.
    let page = guarded("the next launch", mallory.launch("/"))
        .await
        .unwrap();
    assert_eq!(field(&page, "Events handled").as_deref(), Some("1"));
    let fresh = mallory.instance_id().await.expect("a live instance");
    assert_ne!(fresh, session);

    stop.store(true, Ordering::Relaxed);
    assert!(bystander.await.unwrap() >= 1);
}

/// A notes user who keeps opening her notes (another mini-app) until `stop`.
fn keep_reading_notes(s: Session, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<usize> {
    tokio::spawn(async move {
        let mut answered = 0;
        while answered == 0 || !stop.load(Ordering::Relaxed) {
            let page = guarded("the bystander's launch", s.launch("/"))
                .await
                .unwrap();
            assert_eq!(page.title, "Notes");
            answered += 1;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        answered
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_and_uninstall_return_while_a_hide_sleeps() {
    let t = host_with(|mut c| {
        // Only `hide_deadline` (1 s by default) bounds a `hide` here.
        c.limits.event_wall_clock = Duration::from_secs(120);
        c
    });
    install(&t, &KV_NOTES).await;
    install(&t, &MISBEHAVE).await;
    let stop = Arc::new(AtomicBool::new(false));
    let bea = t.host.session("bea", "test.plaza.kv-notes").unwrap();
    let bystander = keep_reading_notes(bea.clone(), stop.clone());

    // Mallory's `hide` sleeps 100 s: `close` returns anyway, her instance gone.
    let mallory = t.host.session("mallory", MISBEHAVE_APP).unwrap();
    mallory.launch("/sleepy-hide?ms=100000").await.unwrap();
    guarded("close", mallory.close()).await;
    assert_eq!(mallory.instance_id().await, None);

    // Again, with Trudy beside her; Carol arrives while the uninstall ends
    // their sessions: she gets `NotInstalled`, not an instance that outlives
    // the uninstall.
    mallory.launch("/sleepy-hide?ms=100000").await.unwrap();
    let trudy = t.host.session("trudy", MISBEHAVE_APP).unwrap();
    trudy.launch("/sleepy-hide?ms=100000").await.unwrap();
    let host = t.host.clone();
    let uninstall = tokio::spawn(async move { host.uninstall(MISBEHAVE_APP).await });
    // Setup only: let the uninstall reach the `hide` handlers.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let carol = match t.host.session("carol", MISBEHAVE_APP) {
        Ok(carol) => guarded("carol's launch", carol.launch("/"))
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    assert!(
        matches!(carol, Err(Error::NotInstalled { .. })),
        "an event during the uninstall got {carol:?}"
    );
    guarded("uninstall", uninstall).await.unwrap().unwrap();
    assert_eq!(mallory.instance_id().await, None);
    assert_eq!(trudy.instance_id().await, None);

    stop.store(true, Ordering::Relaxed);
    assert!(bystander.await.unwrap() >= 1);
    // Only Bea's notes are live.
    assert_eq!(t.host.live_sessions().await, 1);
    assert!(bea.instance_id().await.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eviction_and_shutdown_return_while_hides_sleep() {
    let t = host_with(|mut c| {
        c.limits.event_wall_clock = Duration::from_secs(120);
        c
    });
    install(&t, &MISBEHAVE).await;
    let users = ["mallory", "trudy", "oscar"];
    for user in users {
        let s = t.host.session(user, MISBEHAVE_APP).unwrap();
        s.launch("/sleepy-hide?ms=100000").await.unwrap();
    }
    t.clock.advance(Duration::from_secs(31 * 60));
    assert_eq!(guarded("eviction", t.host.evict_idle()).await, 3);
    assert_eq!(t.host.live_sessions().await, 0);

    for user in users {
        let s = t.host.session(user, MISBEHAVE_APP).unwrap();
        s.launch("/sleepy-hide?ms=100000").await.unwrap();
    }
    assert_eq!(guarded("shutdown", t.host.shutdown()).await, 3);
    assert_eq!(t.host.live_sessions().await, 0);
}

/// A user who never answers a question.
struct NeverAnswers;

impl Prompter for NeverAnswers {
    fn ask_consent<'a>(&'a self, _: &'a ConsentRequest) -> BoxFuture<'a, ConsentAnswer> {
        Box::pin(std::future::pending())
    }

    fn ask_subscription<'a>(
        &'a self,
        _: &'a SubscriptionPrompt,
    ) -> BoxFuture<'a, Vec<SubscriptionAnswer>> {
        Box::pin(std::future::pending())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consent_question_never_answered_is_dismissed_at_the_prompt_timeout() {
    let t = host_with(|c| {
        c.prompter(Arc::new(NeverAnswers))
            .prompt_timeout(Duration::from_millis(200))
    });
    let key = register_publisher(&t, &IDENTITY_PROBE, true);
    t.host
        .install(signed_package(
            &IDENTITY_PROBE,
            &IDENTITY_PROBE.manifest_text(),
            &key,
        ))
        .await
        .unwrap();
    install(&t, &KV_NOTES).await;
    let stop = Arc::new(AtomicBool::new(false));
    let bystander = keep_reading_notes(
        t.host.session("bea", "test.plaza.kv-notes").unwrap(),
        stop.clone(),
    );

    let s = t
        .host
        .session("li-na", "test.plaza.identity-probe")
        .unwrap();
    let page = guarded("the unanswered question", s.launch("/phone"))
        .await
        .unwrap();
    let phone = field(&page, "phone").expect("the phone field");
    assert!(
        phone.contains("closed the consent question for `phone` without answering"),
        "{phone}"
    );
    // Audited, and nothing remembered: the next action may ask again.
    let timed_out = t
        .host
        .audit(&AuditQuery::default())
        .unwrap()
        .into_iter()
        .any(|e| {
            e.capability == "consent.prompt.phone"
                && e.detail.contains("did not answer within 200 ms: dismissed")
        });
    assert!(timed_out, "the timeout is not audited");
    assert!(t.host.consents("li-na").unwrap().is_empty());

    stop.store(true, Ordering::Relaxed);
    assert!(bystander.await.unwrap() >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_question_never_answered_rejects_every_template_at_the_prompt_timeout() {
    let t = host_with(|c| {
        c.prompter(Arc::new(NeverAnswers))
            .prompt_timeout(Duration::from_millis(200))
    });
    install(&t, &MESSAGING_PROBE).await;
    install(&t, &KV_NOTES).await;
    let stop = Arc::new(AtomicBool::new(false));
    let bystander = keep_reading_notes(
        t.host.session("bea", "test.plaza.kv-notes").unwrap(),
        stop.clone(),
    );

    let s = t.host.session("ann", "test.plaza.city-services").unwrap();
    s.launch("/").await.unwrap();
    let page = guarded("the unanswered question", s.tap("subscribe:both"))
        .await
        .unwrap();
    for template in ["fine-notice", "bill-due"] {
        assert_eq!(
            field(&page, &format!("subscription {template}")).as_deref(),
            Some("rejected"),
            "{}",
            text(&page)
        );
    }
    let timed_out = t
        .host
        .audit(&AuditQuery::default())
        .unwrap()
        .into_iter()
        .any(|e| {
            e.capability == "messaging.subscribe"
                && e.detail
                    .contains("did not answer within 200 ms: every template rejected")
        });
    assert!(timed_out, "the timeout is not audited");

    stop.store(true, Ordering::Relaxed);
    assert!(bystander.await.unwrap() >= 1);
}
