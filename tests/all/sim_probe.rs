//! The simulator's probe: the host hands a page full of markup and script
//! to the embedding app exactly as the mini-app wrote it (pages are data;
//! escaping is the renderer's job, tested in the browser by
//! `crates/cli/tests/serve_browser.rs`), and the probe's counter and clock
//! follow the user's storage and the host's clock.

use crate::support::*;
use plaza_host::Block;
use plaza_test_programs::SIM_PROBE;
use std::time::Duration;

#[tokio::test]
async fn markup_reaches_the_embedding_app_as_plain_strings() {
    let t = host();
    install(&t, &SIM_PROBE).await;
    let s = t.host.session("alice", "test.plaza.sim-probe").unwrap();
    let page = s.launch("/").await.unwrap();
    assert_eq!(
        page.title,
        "<b>Probe</b><script>window.plazaInjected=1</script>"
    );
    let texts: Vec<&str> = page
        .blocks
        .iter()
        .filter_map(|b| match b {
            Block::Text(t) => Some(t.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        texts,
        [
            "<script>window.plazaInjected = 2</script>",
            r#"<img src=x onerror="window.plazaInjected=3">"#
        ],
        "{}",
        text(&page)
    );
    assert_eq!(
        field(&page, "<i>label</i>").as_deref(),
        Some(r#"<a href="javascript:window.plazaInjected=4">value</a>"#)
    );
    assert_eq!(field(&page, "Build").as_deref(), Some("build-one"));
}

#[tokio::test]
async fn the_visit_counter_is_per_user_and_the_clock_is_the_hosts() {
    let t = host();
    install(&t, &SIM_PROBE).await;
    let alice = t.host.session("alice", "test.plaza.sim-probe").unwrap();
    alice.launch("/").await.unwrap();
    let page = alice.tap("again").await.unwrap();
    assert_eq!(field(&page, "Visits").as_deref(), Some("2"));
    let bob = t.host.session("bob", "test.plaza.sim-probe").unwrap();
    let page = bob.launch("/").await.unwrap();
    assert_eq!(field(&page, "Visits").as_deref(), Some("1"));
    let before: i64 = field(&page, "Now").unwrap().parse().unwrap();
    t.clock.advance(Duration::from_secs(3600));
    let page = bob.tap("again").await.unwrap();
    let after: i64 = field(&page, "Now").unwrap().parse().unwrap();
    assert_eq!(after - before, 3_600_000);
}
