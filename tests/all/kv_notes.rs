//! Storage through a real guest: isolation between mini-apps and between
//! users, the quota, the value cap, and the audit log.

use crate::support::*;
use plaza_host::store::{AuditQuery, Outcome};
use plaza_test_programs::KV_NOTES;

/// A second mini-app running the same component under another id.
fn other_app_manifest() -> String {
    manifest_replacing(&KV_NOTES, "test.plaza.kv-notes", "test.plaza.kv-notes-copy")
}

#[tokio::test]
async fn a_saved_note_is_shown_again_in_a_new_session() {
    let t = host();
    install(&t, &KV_NOTES).await;
    let s = t.host.session("alice", "test.plaza.kv-notes").unwrap();
    let page = s.launch("/").await.unwrap();
    assert_eq!(page.title, "Notes");
    let page = s
        .submit("put", &[("key", "allergy"), ("value", "penicillin")])
        .await
        .unwrap();
    assert!(
        notices(&page).contains(&"Saved allergy".to_string()),
        "{}",
        text(&page)
    );
    s.close().await;
    let again = t.host.session("alice", "test.plaza.kv-notes").unwrap();
    let page = again.launch("/").await.unwrap();
    assert_eq!(
        field(&page, "allergy").as_deref(),
        Some("penicillin"),
        "{}",
        text(&page)
    );
}

#[tokio::test]
async fn storage_is_isolated_between_users_and_between_mini_apps() {
    let t = host();
    install(&t, &KV_NOTES).await;
    t.host
        .install(package_with_manifest(&KV_NOTES, &other_app_manifest()))
        .await
        .unwrap();

    let alice = t.host.session("alice", "test.plaza.kv-notes").unwrap();
    alice.launch("/").await.unwrap();
    alice
        .submit("put", &[("key", "blood-type"), ("value", "AB")])
        .await
        .unwrap();

    // Bob, same mini-app, same key name: sees nothing of Alice's.
    let bob = t.host.session("bob", "test.plaza.kv-notes").unwrap();
    let page = bob.launch("/").await.unwrap();
    assert_eq!(field(&page, "blood-type"), None, "{}", text(&page));
    bob.submit("put", &[("key", "blood-type"), ("value", "O")])
        .await
        .unwrap();

    // Alice in another mini-app: nothing either, although the key is the same.
    let copy = t.host.session("alice", "test.plaza.kv-notes-copy").unwrap();
    let page = copy.launch("/").await.unwrap();
    assert_eq!(field(&page, "blood-type"), None, "{}", text(&page));

    // And Alice's own value is untouched by Bob's write.
    let page = alice.launch("/").await.unwrap();
    assert_eq!(field(&page, "blood-type").as_deref(), Some("AB"));
}

#[tokio::test]
async fn writes_over_the_quota_are_refused_and_write_nothing() {
    let t = host();
    // A manifest asking for a 4 KiB quota.
    let manifest = manifest_replacing(
        &KV_NOTES,
        "[capabilities.storage]",
        "[capabilities.storage]\nquota-bytes = 4096",
    );
    let manifest = strip_quota_duplicates(&manifest);
    t.host
        .install(package_with_manifest(&KV_NOTES, &manifest))
        .await
        .unwrap();
    let s = t.host.session("alice", "test.plaza.kv-notes").unwrap();
    s.launch("/").await.unwrap();
    let page = s
        .submit("put", &[("key", "a"), ("size", "3000")])
        .await
        .unwrap();
    assert!(
        notices(&page).contains(&"Saved a".to_string()),
        "{}",
        text(&page)
    );
    let page = s
        .submit("put", &[("key", "b"), ("size", "2000")])
        .await
        .unwrap();
    let n = notices(&page).join(" | ");
    assert!(n.starts_with("limit-exceeded:"), "{n}");
    assert!(n.contains("4096-byte quota"), "{n}");
    assert_eq!(field(&page, "b"), None, "nothing written: {}", text(&page));
    assert_eq!(field(&page, "Used").as_deref(), Some("3065/4096"));
    // Replacing the existing value with a smaller one still works.
    let page = s
        .submit("put", &[("key", "a"), ("size", "10")])
        .await
        .unwrap();
    assert_eq!(
        field(&page, "Used").as_deref(),
        Some("75/4096"),
        "{}",
        text(&page)
    );
}

/// The fixture's manifest may already set a quota; keep only the first.
fn strip_quota_duplicates(manifest: &str) -> String {
    let mut seen = false;
    manifest
        .lines()
        .filter(|l| {
            if l.trim_start().starts_with("quota-bytes") {
                if seen {
                    return false;
                }
                seen = true;
            }
            true
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn a_value_over_one_mebibyte_is_refused() {
    let t = host();
    install(&t, &KV_NOTES).await;
    let s = t.host.session("alice", "test.plaza.kv-notes").unwrap();
    s.launch("/").await.unwrap();
    let page = s
        .submit("put", &[("key", "big"), ("size", "1048577")])
        .await
        .unwrap();
    let n = notices(&page).join(" | ");
    assert!(
        n.starts_with("limit-exceeded:") && n.contains("1 MiB"),
        "{n}"
    );
    let page = s
        .submit("put", &[("key", "big"), ("size", "1048000")])
        .await
        .unwrap();
    assert!(
        notices(&page).contains(&"Saved big".to_string()),
        "{}",
        text(&page)
    );
}

#[tokio::test]
async fn clock_follows_the_host_clock_and_storage_use_is_audited() {
    let t = host();
    install(&t, &KV_NOTES).await;
    let s = t.host.session("alice", "test.plaza.kv-notes").unwrap();
    s.launch("/").await.unwrap();
    let page = s.tap("now").await.unwrap();
    assert_eq!(
        field(&page, "Now").as_deref(),
        Some(START_MS.to_string().as_str())
    );
    assert_eq!(field(&page, "UTC offset").as_deref(), Some("480"));
    t.clock.advance(std::time::Duration::from_secs(3600));
    let page = s.tap("now").await.unwrap();
    assert_eq!(
        field(&page, "Now").as_deref(),
        Some((START_MS + 3_600_000).to_string().as_str())
    );
    s.tap("log").await.unwrap();

    let audit = t
        .host
        .audit(&AuditQuery {
            user: Some("alice".into()),
            ..Default::default()
        })
        .unwrap();
    let caps: Vec<(&str, Outcome)> = audit
        .iter()
        .map(|e| (e.capability.as_str(), e.outcome))
        .collect();
    assert!(caps.contains(&("storage", Outcome::Allowed)), "{caps:?}");
    assert!(caps.contains(&("clock", Outcome::Allowed)), "{caps:?}");
    assert!(caps.contains(&("log", Outcome::Allowed)), "{caps:?}");
    assert!(
        caps.contains(&("session.started", Outcome::Allowed)),
        "{caps:?}"
    );
    // First use per session: many storage calls, one entry.
    assert_eq!(
        caps.iter().filter(|c| c.0 == "storage").count(),
        1,
        "{caps:?}"
    );
    assert!(
        audit
            .iter()
            .all(|e| e.app == "test.plaza.kv-notes" && e.session == "s-000001")
    );
}

#[tokio::test]
async fn deleting_a_note_frees_its_space() {
    let t = host();
    install(&t, &KV_NOTES).await;
    let s = t.host.session("alice", "test.plaza.kv-notes").unwrap();
    s.launch("/").await.unwrap();
    s.submit("put", &[("key", "x"), ("value", "12345")])
        .await
        .unwrap();
    let page = s.tap("del:x").await.unwrap();
    assert_eq!(field(&page, "x"), None, "{}", text(&page));
    assert!(
        field(&page, "Used").unwrap().starts_with("0/"),
        "{}",
        text(&page)
    );
}
