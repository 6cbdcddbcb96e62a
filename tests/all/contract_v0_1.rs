//! A component built against `plaza:host@0.1.0` (the `contract-v0-1`
//! fixture, bound to a copy of the contract as released) installs and runs
//! in a host of the later contract: its `@0.1.0` imports link, its `app`
//! export is called, its pages are checked and shown like any other, and
//! it is never given an event its interface cannot carry.

use crate::support::*;
use plaza_host::{Error, component_imports};
use plaza_test_programs::CONTRACT_V0_1;

const APP: &str = "test.plaza.contract-v0-1";

#[tokio::test]
async fn a_component_built_against_0_1_0_installs_and_runs() {
    let imports = component_imports(&CONTRACT_V0_1.component_bytes()).unwrap();
    assert!(
        imports.iter().any(|i| i == "plaza:host/storage@0.1.0"),
        "the fixture is built against 0.1.0: {imports:?}"
    );
    let t = host();
    install(&t, &CONTRACT_V0_1).await;
    let s = t.host.session("alice", APP).unwrap();
    // The locale is not part of its launch event; the launch still works.
    let page = s.launch_in("/old", "en-US").await.unwrap();
    assert_eq!(page.title, "Old contract", "{}", text(&page));
    assert_eq!(field(&page, "Path").as_deref(), Some("/old"));
    assert_eq!(field(&page, "Visits").as_deref(), Some("1"));
    assert!(!page.refreshable);
    let page = s.tap("again").await.unwrap();
    assert_eq!(field(&page, "Visits").as_deref(), Some("2"));
    let page = s.submit("note", &[("text", "hello")]).await.unwrap();
    assert_eq!(field(&page, "Note").as_deref(), Some("hello"));
    // The host's checks apply to its forms too.
    let err = s.submit("note", &[]).await.unwrap_err();
    assert!(
        matches!(&err, Error::FieldRefused { reason, .. } if reason == "is required"),
        "{err:?}"
    );
    // Its pages offer no "load more" and no refresh: neither reaches it.
    let err = s.load_more("more").await.unwrap_err();
    assert!(matches!(err, Error::ActionNotOffered { .. }), "{err:?}");
    assert!(s.refresh().await.is_err());
    // Its storage is the user's, across sessions.
    s.close().await;
    let page = s.launch("/").await.unwrap();
    assert_eq!(field(&page, "Visits").as_deref(), Some("3"));
    assert!(
        text(&page).contains("- Again  (tap again)"),
        "{}",
        text(&page)
    );
}
