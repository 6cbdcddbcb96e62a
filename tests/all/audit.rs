//! The audit log under loops and faults, through real guests: a refusal
//! repeated in a loop is written once per event, an allowance whose entry
//! could not be written is not remembered, and what WASI refuses (sockets,
//! files) is written too.

use crate::support::*;
use plaza_host::Page;
use plaza_host::manifest::{Capability, Category};
use plaza_host::policy::Policy;
use plaza_host::store::{AuditQuery, Outcome};
use plaza_test_programs::fuzz_script::{self, Call};
use plaza_test_programs::{FUZZ_CALLER, KV_NOTES, WASI_PROBE};

const FUZZ_APP: &str = "test.plaza.fuzz-caller";

/// `n` storage reads of one key.
fn reads(n: usize) -> Vec<Call> {
    (0..n).map(|_| Call::Get { key: "k".into() }).collect()
}

/// Makes `calls` in one event of the session (a form the guest answers by
/// making them in order).
async fn in_one_event(s: &plaza_host::Session, calls: &[Call]) -> Page {
    s.submit("calls", &[("script", &fuzz_script::encode(calls))])
        .await
        .unwrap()
}

/// The audit entries of `capability` with `outcome`.
fn entries(t: &TestHost, capability: &str, outcome: Outcome) -> usize {
    t.host
        .audit(&AuditQuery::default())
        .unwrap()
        .iter()
        .filter(|e| e.capability == capability && e.outcome == outcome)
        .count()
}

#[tokio::test]
async fn a_denied_call_in_a_loop_is_audited_once_per_event() {
    let t = host();
    install(&t, &FUZZ_CALLER).await;
    let mut policy = Policy::default();
    policy.deny_capability(Category::Medical, Capability::Storage);
    t.host.set_policy(policy);
    let s = t.host.session("ann", FUZZ_APP).unwrap();
    s.launch("/").await.unwrap();
    let page = in_one_event(&s, &reads(40)).await;
    for n in 1..=40 {
        let v = field(&page, &format!("{n} get")).unwrap();
        assert!(
            v.starts_with("error denied:") && v.contains("policy"),
            "{v}"
        );
    }
    assert_eq!(entries(&t, "storage", Outcome::Denied), 1);
    // The next event's refusal is written again, once.
    in_one_event(&s, &reads(40)).await;
    assert_eq!(entries(&t, "storage", Outcome::Denied), 2);
}

#[tokio::test]
async fn a_failed_audit_write_leaves_no_allowance_behind() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plaza.db");
    let clock = plaza_host::clock::ManualClock::new(START_MS);
    let prompter = std::sync::Arc::new(plaza_host::prompt::ScriptedPrompter::new());
    let t = TestHost::from_parts(
        plaza_host::Host::open(&path, config(&clock, &prompter)).unwrap(),
        clock,
        prompter,
    );
    install(&t, &FUZZ_CALLER).await;
    // The store's disk fails for storage's audit entries (a trigger through
    // a second connection to the store).
    let db = rusqlite::Connection::open(&path).unwrap();
    db.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
    db.execute_batch(
        "CREATE TRIGGER fail_storage_audit BEFORE INSERT ON audit
         WHEN NEW.capability = 'storage'
         BEGIN SELECT RAISE(ABORT, 'disk I/O error (injected)'); END;",
    )
    .unwrap();
    let s = t.host.session("ann", FUZZ_APP).unwrap();
    s.launch("/").await.unwrap();
    let page = in_one_event(&s, &reads(3)).await;
    for n in 1..=3 {
        let v = field(&page, &format!("{n} get")).unwrap();
        // No unrecorded access, and no refusal either: nothing was decided
        // on the record, so the call may be tried again.
        assert!(
            v.starts_with("error unavailable:") && v.contains("audit log"),
            "no unrecorded access: {v}"
        );
    }
    assert_eq!(entries(&t, "storage", Outcome::Allowed), 0);
    // The disk works again: the next read is decided and written, not let
    // through on an allowance nobody recorded.
    db.execute_batch("DROP TRIGGER fail_storage_audit").unwrap();
    let page = in_one_event(&s, &reads(1)).await;
    assert_eq!(field(&page, "1 get").as_deref(), Some("ok none"));
    assert_eq!(entries(&t, "storage", Outcome::Allowed), 1);
    drop(dir);
}

#[tokio::test]
async fn wasi_refusals_are_audited_once_per_kind_per_event() {
    let t = host();
    install(&t, &WASI_PROBE).await;
    let s = t.host.session("alice", "test.plaza.wasi-probe").unwrap();
    // One event: two TCP connections, a UDP bind, a name lookup and a
    // listener; two directory reads, a file read and a file write.
    let page = s.launch("/").await.unwrap();
    for probe in [
        "tcp connect 127.0.0.1",
        "udp bind 0.0.0.0:0",
        "open /etc/passwd",
    ] {
        let v = field(&page, probe).unwrap();
        assert!(v.starts_with("err"), "{probe}: {v}");
    }
    let audit = t.host.audit(&AuditQuery::default()).unwrap();
    let wasi: Vec<_> = audit
        .iter()
        .filter(|e| e.capability.starts_with("wasi."))
        .collect();
    assert_eq!(wasi.len(), 2, "{wasi:#?}");
    for (kind, names) in [
        ("wasi.sockets", "Plaza gives mini-apps no sockets"),
        ("wasi.filesystem", "Plaza gives mini-apps no files"),
    ] {
        let e = wasi.iter().find(|e| e.capability == kind).unwrap();
        assert_eq!(e.outcome, Outcome::Denied);
        assert_eq!(e.user, "alice");
        assert!(e.detail.contains(names), "{}", e.detail);
    }
    // The next event tries again: its sockets are refused and written
    // again, once. (The guest's libc asked for directories once, and
    // remembers it has none.)
    s.launch("/").await.unwrap();
    assert_eq!(entries(&t, "wasi.sockets", Outcome::Denied), 2);
    assert_eq!(entries(&t, "wasi.filesystem", Outcome::Denied), 1);
    // A mini-app that reaches for neither writes neither.
    install(&t, &KV_NOTES).await;
    let before = t.host.audit(&AuditQuery::default()).unwrap().len();
    let notes = t.host.session("alice", "test.plaza.kv-notes").unwrap();
    notes.launch("/").await.unwrap();
    notes.tap("now").await.unwrap();
    let after = t.host.audit(&AuditQuery::default()).unwrap();
    assert!(
        after[before..]
            .iter()
            .all(|e| !e.capability.starts_with("wasi.")),
        "{:#?}",
        &after[before..]
    );
}
