//! Load with bad neighbours, in small: many well-behaved sessions answer
//! every event with the right page while hostile sessions of the same host
//! loop and allocate beside them, again and again, and patient ones spin
//! past their grace and then sleep, wait on a slow back-end, or leak
//! `wasi:http` handles; each hostile session ends as the sandbox promises
//! (the sleepers and the slow back-end's callers are served, not ended) and
//! no well-behaved one is ended with them.
//!
//! Behaviour only: the latency figures (1,000 sessions, 10 % hostile) are the
//! benchmark's, `cargo bench -p plaza-host --bench bad_neighbours`.

use crate::support::*;
use plaza_host::store::AuditQuery;
use plaza_host::{Error, GuestFault, NoticeLevel, Page, Session};
use plaza_test_programs::{HTTP_PROBE, KV_NOTES, MISBEHAVE};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

const NOTES: &str = "test.plaza.kv-notes";
const MISBEHAVE_APP: &str = "test.plaza.misbehave";
const PROBE_APP: &str = "test.plaza.http-probe";
const USERS: usize = 45;
const VISITS: usize = 3;
/// Three loop, two allocate; two spin past their grace and then sleep, two
/// call a back-end that takes its time, two leak `wasi:http` fields.
const ATTACKS: [&str; 11] = [
    "spin", "alloc", "spin", "alloc", "spin", "sleep", "sleep", "slow", "slow", "leak", "leak",
];

fn has_notice(page: &Page, text: &str) -> bool {
    page.blocks.iter().any(
        |b| matches!(b, plaza_host::Block::Notice(n) if n.level == NoticeLevel::Success && n.text == text),
    )
}

/// A user visits her notes `VISITS` times: saves a note, sees it, deletes it.
/// Returns the instance ids her session had (one, if it never ended).
async fn visit_notes(s: Session) -> Vec<String> {
    let mut instances = Vec::new();
    for n in 0..VISITS {
        let home = s.launch("/").await.unwrap();
        assert_eq!(home.title, "Notes", "{}", text(&home));
        let key = format!("note-{n}");
        let value = format!("{} was here", s.user());
        let saved = s
            .submit("put", &[("key", &key), ("value", &value)])
            .await
            .unwrap();
        assert!(
            has_notice(&saved, &format!("Saved {key}")),
            "{}",
            text(&saved)
        );
        assert_eq!(field(&saved, &key).as_deref(), Some(value.as_str()));
        let deleted = s.tap(&format!("del:{key}")).await.unwrap();
        assert!(
            has_notice(&deleted, &format!("Deleted {key}")),
            "{}",
            text(&deleted)
        );
        assert_eq!(field(&deleted, &key), None, "{}", text(&deleted));
        let id = s.instance_id().await.expect("a live instance");
        if !instances.contains(&id) {
            instances.push(id);
        }
    }
    instances
}

/// A patient session attacks until `stop` (and at least once): a sleeper
/// spins past its grace then sleeps, and gets its page; a caller of the slow
/// back-end gets the answer; a leaker makes fields until its session ends at
/// the resource cap. Returns how many attacks it made.
async fn patient(s: Session, action: &'static str, backend: u16, stop: Arc<AtomicBool>) -> usize {
    let mut attacks = 0;
    while attacks == 0 || !stop.load(Ordering::Relaxed) {
        match action {
            "sleep" => {
                let page = s.launch("/spin-then-sleep?spin=60&sleep=800").await;
                assert_eq!(page.unwrap().title, "Misbehave");
            }
            "slow" => {
                let url = format!("http%3A%2F%2Flocalhost%3A{backend}%2Fslow");
                let page = s.launch(&format!("/?url={url}")).await.unwrap();
                let outcome = field(&page, "request 1");
                assert_eq!(
                    outcome.as_deref(),
                    Some("ok 200 2 bytes"),
                    "{}",
                    text(&page)
                );
            }
            _ => {
                s.launch("/?leak=500").await.unwrap();
                let fault = loop {
                    match s.tap("leak-fields:500").await {
                        Ok(_) => continue,
                        Err(Error::SessionEnded { app, fault, .. }) if app == PROBE_APP => {
                            break fault;
                        }
                        Err(other) => panic!("a leak must end its session, got {other:?}"),
                    }
                };
                assert!(
                    matches!(fault, GuestFault::ResourceLimit { .. }),
                    "{fault:?}"
                );
            }
        }
        attacks += 1;
    }
    attacks
}

/// A hostile session launches and attacks until `stop` (and at least once);
/// every attack must end the session for the reason the sandbox promises.
/// Returns how many attacks it made.
async fn attack(s: Session, action: &'static str, stop: Arc<AtomicBool>) -> usize {
    let mut attacks = 0;
    while attacks == 0 || !stop.load(Ordering::Relaxed) {
        assert_eq!(s.launch("/").await.unwrap().title, "Misbehave");
        let fault = match s.tap(action).await {
            Err(Error::SessionEnded { app, fault, .. }) if app == MISBEHAVE_APP => fault,
            other => panic!("{action} must end its session, got {other:?}"),
        };
        match action {
            "spin" => assert_eq!(fault, GuestFault::Deadline { limit_ms: 500 }),
            _ => assert_eq!(
                fault,
                GuestFault::OutOfMemory {
                    limit_bytes: 32 * 1024 * 1024
                }
            ),
        }
        attacks += 1;
    }
    attacks
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn well_behaved_sessions_answer_right_while_hostile_ones_loop_and_allocate() {
    let t = host_with(|mut c| {
        c.limits.max_live_sessions = (USERS + ATTACKS.len() + 8) as u32;
        c
    });
    install(&t, &KV_NOTES).await;
    install(&t, &MISBEHAVE).await;
    let backend = plaza_test_programs::slow_backend(Duration::from_millis(800));
    let origin = format!("\"http://localhost:{backend}\"");
    t.host
        .install(package_with_manifest(
            &HTTP_PROBE,
            &manifest_replacing(&HTTP_PROBE, "\"http://localhost:1\"", &origin),
        ))
        .await
        .expect("install the probe");

    // The attackers start first, so the users arrive in the middle of it.
    let stop = Arc::new(AtomicBool::new(false));
    let attackers: Vec<_> = ATTACKS
        .iter()
        .enumerate()
        .map(|(k, action)| {
            let app = match *action {
                "slow" | "leak" => PROBE_APP,
                _ => MISBEHAVE_APP,
            };
            let s = t.host.session(&format!("mallory-{k}"), app).unwrap();
            match *action {
                "spin" | "alloc" => tokio::spawn(attack(s, action, stop.clone())),
                _ => tokio::spawn(patient(s, action, backend, stop.clone())),
            }
        })
        .collect();
    let users: Vec<_> = (0..USERS)
        .map(|i| {
            let s = t.host.session(&format!("user-{i}"), NOTES).unwrap();
            tokio::spawn(visit_notes(s))
        })
        .collect();

    // Every user got every page right (asserted in `visit_notes`), in one
    // session from her first event to her last: none was ended beside the
    // hostile ones.
    for (i, user) in users.into_iter().enumerate() {
        let instances = user.await.expect("the user's visits");
        assert_eq!(
            instances.len(),
            1,
            "user-{i} lost her session: {instances:?}"
        );
    }
    stop.store(true, Ordering::Relaxed);
    for a in attackers {
        assert!(a.await.expect("the attacker's attacks") >= 1);
    }

    // The audit log has each hostile session's end with its reason, and no
    // end of a well-behaved one.
    let ended: Vec<_> = t
        .host
        .audit(&AuditQuery::default())
        .unwrap()
        .into_iter()
        .filter(|e| e.capability == "session.ended")
        .collect();
    for e in &ended {
        assert_ne!(e.app, NOTES, "a well-behaved session ended: {e:?}");
    }
    for (k, action) in ATTACKS.iter().enumerate() {
        let reason = match *action {
            "spin" => "CPU deadline of 500 ms",
            "alloc" => "ran out of memory",
            "leak" => "resource",
            // Served, not ended.
            _ => {
                let who = format!("mallory-{k}");
                assert!(
                    !ended.iter().any(|e| e.user == who),
                    "{who} ({action}) was ended: {ended:?}"
                );
                continue;
            }
        };
        assert!(
            ended
                .iter()
                .any(|e| e.user == format!("mallory-{k}") && e.detail.contains(reason)),
            "mallory-{k} ({action}) has no end audited with `{reason}`"
        );
    }
}
