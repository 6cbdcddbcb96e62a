//! A hostile guest: each way of breaking the sandbox ends its own session with
//! a clear reason, while other sessions keep answering.

use crate::support::*;
use plaza_host::store::{AuditQuery, Outcome};
use plaza_host::{Error, GuestFault};
use plaza_test_programs::{KV_NOTES, MISBEHAVE};
use std::time::{Duration, Instant};

const APP: &str = "test.plaza.misbehave";

async fn ended(result: plaza_host::Result<plaza_host::Page>) -> GuestFault {
    match result {
        Err(Error::SessionEnded { app, fault, .. }) => {
            assert_eq!(app, APP);
            fault
        }
        Err(other) => panic!("expected the session to end, got: {other}"),
        Ok(page) => panic!("expected the session to end, got a page:\n{}", text(&page)),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_loop_is_stopped_at_its_deadline_while_another_session_answers() {
    let t = host();
    install(&t, &MISBEHAVE).await;
    install(&t, &KV_NOTES).await;
    let bad = t.host.session("mallory", APP).unwrap();
    bad.launch("/").await.unwrap();
    let good = t.host.session("alice", "test.plaza.kv-notes").unwrap();
    good.launch("/").await.unwrap();

    let spin = tokio::spawn({
        let bad = bad.clone();
        async move { bad.tap("spin").await }
    });
    // While the loop runs, the other session answers events.
    let mut answered = 0;
    let started = Instant::now();
    while !spin.is_finished() && started.elapsed() < Duration::from_secs(30) {
        let page = good.tap("now").await.unwrap();
        assert_eq!(page.title, "Notes");
        answered += 1;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let fault = ended(spin.await.unwrap()).await;
    assert_eq!(fault, GuestFault::Deadline { limit_ms: 500 });
    assert!(
        answered > 0,
        "the other session must answer while the loop runs"
    );

    // The message says who and why; the audit log has it too.
    let audit = t
        .host
        .audit(&AuditQuery {
            user: Some("mallory".into()),
            ..Default::default()
        })
        .unwrap();
    let end = audit
        .iter()
        .find(|e| e.capability == "session.ended")
        .expect("audited");
    assert_eq!(end.outcome, Outcome::Denied);
    assert!(
        end.detail.contains("CPU deadline of 500 ms"),
        "{}",
        end.detail
    );

    // The next event starts a fresh session that works.
    let page = bad.launch("/").await.unwrap();
    assert_eq!(page.title, "Misbehave");
    assert_eq!(bad.instance_id().await.as_deref(), Some("s-000003"));
}

#[tokio::test]
async fn a_loop_during_launch_is_stopped_too() {
    let t = host();
    install(&t, &MISBEHAVE).await;
    let s = t.host.session("mallory", APP).unwrap();
    let fault = ended(s.launch("/spin").await).await;
    assert!(matches!(fault, GuestFault::Deadline { .. }), "{fault:?}");
}

#[tokio::test]
async fn a_memory_bomb_is_stopped_at_the_cap() {
    let t = host();
    install(&t, &MISBEHAVE).await;
    let s = t.host.session("mallory", APP).unwrap();
    s.launch("/").await.unwrap();
    let err = s.tap("alloc").await.unwrap_err();
    assert!(
        err.to_string()
            .contains("ran out of memory (cap 32 MiB per session)"),
        "{err}"
    );
    assert!(err.to_string().contains(APP), "{err}");
    assert_eq!(s.launch("/").await.unwrap().title, "Misbehave");
}

#[tokio::test]
async fn unbounded_recursion_is_a_stack_overflow() {
    let t = host();
    install(&t, &MISBEHAVE).await;
    let s = t.host.session("mallory", APP).unwrap();
    s.launch("/").await.unwrap();
    assert_eq!(
        ended(s.tap("recurse").await).await,
        GuestFault::StackOverflow
    );
}

#[tokio::test]
async fn a_panic_ends_the_session_with_its_message() {
    let t = host();
    install(&t, &MISBEHAVE).await;
    let s = t.host.session("mallory", APP).unwrap();
    s.launch("/").await.unwrap();
    let fault = ended(s.tap("panic").await).await;
    let GuestFault::Trap(msg) = fault else {
        panic!("expected a trap, got {fault:?}");
    };
    assert!(msg.contains("misbehave panicked on purpose"), "{msg}");
    // After the end, a tap has no page to act on.
    let err = s.tap("ok").await.unwrap_err();
    assert!(matches!(err, Error::ActionNotOffered { .. }), "{err}");
}

#[tokio::test]
async fn an_oversized_page_is_refused_and_the_session_goes_on() {
    let t = host();
    install(&t, &MISBEHAVE).await;
    let s = t.host.session("mallory", APP).unwrap();
    s.launch("/").await.unwrap();
    let err = s.tap("big-page").await.unwrap_err();
    match &err {
        Error::InvalidPage { app, message } => {
            assert_eq!(app, APP);
            assert!(message.contains("the cap is 1048576 bytes"), "{message}");
        }
        other => panic!("expected an invalid page, got {other}"),
    }
    // The session is alive and the previous page is still current.
    assert_eq!(s.current_page().await.unwrap().title, "Misbehave");
    let page = s.tap("ok").await.unwrap();
    assert_eq!(page.title, "Misbehave");
    assert_eq!(s.instance_id().await.as_deref(), Some("s-000001"));
}

#[tokio::test]
async fn flooding_stdout_loses_output_not_the_session() {
    let t = host();
    install(&t, &MISBEHAVE).await;
    let s = t.host.session("mallory", APP).unwrap();
    s.launch("/").await.unwrap();
    let page = s.tap("print").await.unwrap();
    assert_eq!(page.title, "Misbehave");
    assert_eq!(s.instance_id().await.as_deref(), Some("s-000001"));
}

#[tokio::test]
async fn a_session_keeps_its_memory_between_events_until_it_ends() {
    // The misbehave page counts the events its instance has handled.
    let t = host();
    install(&t, &MISBEHAVE).await;
    let s = t.host.session("mallory", APP).unwrap();
    s.launch("/").await.unwrap();
    s.tap("ok").await.unwrap();
    let before = s.instance_id().await;
    s.tap("ok").await.unwrap();
    assert_eq!(s.instance_id().await, before);
}

#[tokio::test]
async fn a_full_pool_refuses_new_sessions_clearly_until_one_ends() {
    let t = host_with(|mut c| {
        c.limits.max_live_sessions = 2;
        c
    });
    install(&t, &MISBEHAVE).await;
    let a = t.host.session("a", APP).unwrap();
    let b = t.host.session("b", APP).unwrap();
    let c = t.host.session("c", APP).unwrap();
    a.launch("/").await.unwrap();
    b.launch("/").await.unwrap();
    let err = c.launch("/").await.unwrap_err();
    assert!(matches!(err, Error::HostBusy { limit: 2 }), "{err}");
    assert!(
        err.to_string().contains("limit of 2 live sessions"),
        "{err}"
    );
    // The live ones are unaffected; when one ends, the waiting user gets in.
    assert_eq!(a.tap("ok").await.unwrap().title, "Misbehave");
    b.close().await;
    assert_eq!(c.launch("/").await.unwrap().title, "Misbehave");
}
