//! A restarted host loads compiled components from the cache instead of
//! compiling them again, and finds its installed mini-apps and data.

use crate::support::*;
use plaza_host::Host;
use plaza_host::clock::ManualClock;
use plaza_test_programs::KV_NOTES;

#[tokio::test]
async fn a_restart_reuses_the_compiled_cache() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("plaza.db");
    let cache = dir.path().join("cache");
    let clock = ManualClock::new(START_MS);
    let prompter = std::sync::Arc::new(plaza_host::prompt::ScriptedPrompter::new());
    let make = || config(&clock, &prompter).cache_dir(Some(cache.clone()));

    let first = Host::open(&store, make()).unwrap();
    first.install(package(&KV_NOTES)).await.unwrap();
    let s = first.session("alice", "test.plaza.kv-notes").unwrap();
    s.launch("/").await.unwrap();
    s.submit("put", &[("key", "kept"), ("value", "yes")])
        .await
        .unwrap();
    assert_eq!(first.cache_stats().compiled, 1);
    assert_eq!(first.cache_stats().loaded_from_cache, 0);
    drop(s);
    drop(first);

    let second = Host::open(&store, make()).unwrap();
    let s = second.session("alice", "test.plaza.kv-notes").unwrap();
    let page = s.launch("/").await.unwrap();
    assert_eq!(field(&page, "kept").as_deref(), Some("yes"));
    assert_eq!(
        second.cache_stats().compiled,
        0,
        "a restart must not compile again"
    );
    assert_eq!(second.cache_stats().loaded_from_cache, 1);
}

#[tokio::test]
async fn a_corrupt_cache_entry_is_compiled_again() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let clock = ManualClock::new(START_MS);
    let prompter = std::sync::Arc::new(plaza_host::prompt::ScriptedPrompter::new());
    let make = || config(&clock, &prompter).cache_dir(Some(cache.clone()));
    let first = Host::open(&dir.path().join("a.db"), make()).unwrap();
    first.install(package(&KV_NOTES)).await.unwrap();
    drop(first);
    for entry in walk(&cache) {
        std::fs::write(&entry, b"garbage").unwrap();
    }
    let second = Host::open(&dir.path().join("b.db"), make()).unwrap();
    second.install(package(&KV_NOTES)).await.unwrap();
    assert_eq!(second.cache_stats().compiled, 1);
    let s = second.session("bob", "test.plaza.kv-notes").unwrap();
    assert_eq!(s.launch("/").await.unwrap().title, "Notes");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[tokio::test]
async fn idle_sessions_are_evicted_with_a_hide_first() {
    let t = host();
    install(&t, &KV_NOTES).await;
    let s = t.host.session("alice", "test.plaza.kv-notes").unwrap();
    s.launch("/").await.unwrap();
    assert_eq!(t.host.live_sessions().await, 1);
    t.clock.advance(std::time::Duration::from_secs(29 * 60));
    assert_eq!(t.host.evict_idle().await, 0);
    t.clock.advance(std::time::Duration::from_secs(61));
    assert_eq!(t.host.evict_idle().await, 1);
    assert_eq!(t.host.live_sessions().await, 0);
    let audit = t.host.audit(&Default::default()).unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.capability == "session.ended" && e.detail.contains("idle"))
    );
    // The next event starts a fresh instance, and the mini-app was told it
    // was hidden before it was evicted.
    let page = s.launch("/").await.unwrap();
    assert_eq!(s.instance_id().await.as_deref(), Some("s-000002"));
    assert_eq!(
        field(&page, "hidden-count").as_deref(),
        Some("1"),
        "{}",
        text(&page)
    );
}
