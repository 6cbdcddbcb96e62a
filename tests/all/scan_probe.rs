//! Codes users scan for mini-apps, through a real guest (the scan-probe
//! fixture): the text reaches the mini-app, a closed scanner is
//! `cancelled`, asking outside a tap is denied, a code of a kind not asked
//! for is refused; a scanned Plaza link to an installed mini-app is offered
//! and, accepted, opens that mini-app at the link's page after the event
//! (audited `link.open`), while a malformed link or one to a mini-app not
//! installed is just text; every scan audited, never its text.

use crate::support::*;
use plaza_host::scan::{CodeKind, ScanAnswer};
use plaza_host::store::{AuditQuery, Outcome};
use plaza_host::{Error, Page, Session};
use plaza_test_programs::{MEDIA_PROBE, SCAN_PROBE};

const APP: &str = "test.plaza.scan-probe";

fn code(text: &str, kind: CodeKind) -> ScanAnswer {
    ScanAnswer::Code {
        text: text.into(),
        kind,
    }
}

async fn probe_host() -> TestHost {
    let t = host();
    install(&t, &SCAN_PROBE).await;
    t
}

/// `user`'s session of the probe, launched, and the page after tapping
/// `action`.
async fn tap(t: &TestHost, user: &str, action: &str) -> (Session, Page) {
    let s = t.host.session(user, APP).unwrap();
    s.launch("/").await.unwrap();
    let page = s.tap(action).await.unwrap();
    (s, page)
}

fn audit(t: &TestHost, capability: &str) -> Vec<(Outcome, String)> {
    t.host
        .audit(&AuditQuery::default())
        .unwrap()
        .into_iter()
        .filter(|e| e.capability == capability)
        .map(|e| (e.outcome, e.detail))
        .collect()
}

#[tokio::test]
async fn a_scanned_code_reaches_the_mini_app_and_is_audited_without_its_text() {
    let t = probe_host().await;
    t.prompter
        .answer_scan(code("PARCEL-SF1234567890", CodeKind::Barcode));
    let (s, page) = tap(&t, "alice", "scan").await;
    assert_eq!(field(&page, "Result").as_deref(), Some("ok"), "{page:?}");
    assert_eq!(field(&page, "Text").as_deref(), Some("PARCEL-SF1234567890"));
    assert_eq!(field(&page, "Kind").as_deref(), Some("barcode"));
    let asked = t.prompter.scan_prompts();
    assert_eq!(asked.len(), 1);
    assert_eq!(
        (
            asked[0].user.as_str(),
            asked[0].app_name.as_str(),
            asked[0].purpose.as_str()
        ),
        ("alice", "Scan probe", "The code on the clinic's wall")
    );
    assert_eq!(asked[0].kinds, vec![CodeKind::Qr, CodeKind::Barcode]);
    // Not a link: nothing offered, nothing to open.
    assert!(t.prompter.link_offers().is_empty());
    assert!(t.host.follow_link(&s).await.unwrap().is_none());
    let entries = audit(&t, "scan");
    assert!(
        entries
            .iter()
            .any(|(o, d)| *o == Outcome::Allowed
                && d == "the user scanned a barcode (19 bytes of text)"),
        "{entries:?}"
    );
    assert!(
        entries.iter().all(|(_, d)| !d.contains("SF1234567890")),
        "{entries:?}"
    );
}

#[tokio::test]
async fn a_closed_scanner_returns_cancelled_and_is_audited() {
    let t = probe_host().await;
    // No answer scripted: the user closes the scanner.
    let (_, page) = tap(&t, "alice", "scan").await;
    assert_eq!(field(&page, "Result").as_deref(), Some("cancelled"));
    assert_eq!(t.prompter.scan_prompts().len(), 1);
    t.prompter.answer_scan(ScanAnswer::Cancel);
    let (_, page) = tap(&t, "alice", "qr").await;
    assert_eq!(field(&page, "Result").as_deref(), Some("cancelled"));
    assert!(
        audit(&t, "scan")
            .iter()
            .any(|(o, d)| *o == Outcome::Denied && d.contains("closed the scanner")),
    );
}

#[tokio::test]
async fn scanning_outside_a_tap_is_denied_without_asking_the_user() {
    let t = probe_host().await;
    let s = t.host.session("alice", APP).unwrap();
    let page = s.launch("/?scan=1").await.unwrap();
    let result = field(&page, "Result").unwrap();
    assert!(
        result.starts_with("denied:") && result.contains("tap"),
        "{result}"
    );
    assert!(t.prompter.scan_prompts().is_empty());
    assert!(
        audit(&t, "scan")
            .iter()
            .any(|(o, d)| *o == Outcome::Denied && d.contains("outside a user's tap")),
    );
}

#[tokio::test]
async fn a_code_of_a_kind_not_asked_for_is_refused() {
    let t = probe_host().await;
    t.prompter
        .answer_scan(code("9787020002207", CodeKind::Barcode));
    let (_, page) = tap(&t, "alice", "qr").await;
    let result = field(&page, "Result").unwrap();
    assert!(
        result.starts_with("unavailable:") && result.contains("a QR code was asked for"),
        "{result}"
    );
    assert_eq!(t.prompter.scan_prompts()[0].kinds, vec![CodeKind::Qr]);
}

#[tokio::test]
async fn a_scanned_link_accepted_opens_the_right_mini_app_and_page() {
    let t = probe_host().await;
    install(&t, &MEDIA_PROBE).await;
    // Its own link: the probe opens at the link's page once the tap's page
    // is done.
    t.prompter.answer_scan(code(
        "plaza://test.plaza.scan-probe/checkin?clinic=3\n",
        CodeKind::Qr,
    ));
    t.prompter.answer_link_offer(true);
    let (s, page) = tap(&t, "alice", "scan").await;
    // The mini-app still gets the text.
    assert_eq!(
        field(&page, "Text").as_deref(),
        Some("plaza://test.plaza.scan-probe/checkin?clinic=3\n")
    );
    let offers = t.prompter.link_offers();
    assert_eq!(offers.len(), 1);
    assert_eq!(
        (
            offers[0].link.as_str(),
            offers[0].target_app_id.as_str(),
            offers[0].target_app_name.as_str(),
            offers[0].target.as_str(),
            offers[0].app_id.as_str()
        ),
        (
            "plaza://test.plaza.scan-probe/checkin?clinic=3",
            APP,
            "Scan probe",
            "/checkin?clinic=3",
            APP
        )
    );
    let (link, opened, shown) = t.host.follow_link(&s).await.unwrap().expect("opened");
    assert_eq!(
        (link.app_id.as_str(), link.target()),
        (APP, "/checkin?clinic=3".to_string())
    );
    assert_eq!(opened.app_id(), APP);
    assert_eq!(shown.title, "Opened");
    assert_eq!(field(&shown, "Path").as_deref(), Some("/checkin?clinic=3"));
    assert_eq!(s.current_page().await.unwrap().title, "Opened");
    // Taken once.
    assert!(t.host.follow_link(&s).await.unwrap().is_none());
    // Another installed mini-app's link opens that mini-app.
    t.prompter
        .answer_scan(code("plaza://test.plaza.media-probe/", CodeKind::Qr));
    t.prompter.answer_link_offer(true);
    s.launch("/").await.unwrap();
    s.tap("scan").await.unwrap();
    let (_, other, shown) = t.host.follow_link(&s).await.unwrap().expect("opened");
    assert_eq!(other.app_id(), "test.plaza.media-probe");
    assert_eq!(shown.title, "Media probe");
    assert!(
        audit(&t, "scan").iter().any(|(o, d)| *o == Outcome::Allowed
            && d == "the user chose to open the scanned link to test.plaza.scan-probe /checkin?clinic=3"),
    );
    let opens = audit(&t, "link.open");
    assert!(
        opens
            .iter()
            .any(|(o, d)| *o == Outcome::Allowed && d == "opened /checkin?clinic=3"),
        "{opens:?}"
    );
    assert!(
        opens
            .iter()
            .any(|(o, d)| *o == Outcome::Allowed && d == "opened /"),
        "{opens:?}"
    );
}

#[tokio::test]
async fn a_scanned_link_in_the_operators_https_form_is_offered_too() {
    let t = host_with(|c| c.link_base(Some("https://plaza.example.cn/a/".into())));
    install(&t, &SCAN_PROBE).await;
    t.prompter.answer_scan(code(
        "https://plaza.example.cn/a/test.plaza.scan-probe/checkin?clinic=obstetrics",
        CodeKind::Qr,
    ));
    t.prompter.answer_link_offer(true);
    let (s, _) = tap(&t, "alice", "scan").await;
    let (_, _, shown) = t.host.follow_link(&s).await.unwrap().expect("opened");
    assert_eq!(
        field(&shown, "Path").as_deref(),
        Some("/checkin?clinic=obstetrics")
    );
}

#[tokio::test]
async fn a_scanned_link_the_user_declines_stays_text() {
    let t = probe_host().await;
    t.prompter.answer_scan(code(
        "plaza://test.plaza.scan-probe/checkin?clinic=3",
        CodeKind::Qr,
    ));
    // No answer to the offer scripted: declined.
    let (s, page) = tap(&t, "alice", "scan").await;
    assert_eq!(
        field(&page, "Text").as_deref(),
        Some("plaza://test.plaza.scan-probe/checkin?clinic=3")
    );
    assert_eq!(t.prompter.link_offers().len(), 1);
    assert!(t.host.follow_link(&s).await.unwrap().is_none());
    assert_eq!(s.current_page().await.unwrap().title, "Scanned");
    assert!(audit(&t, "scan").iter().any(|(o, d)| *o == Outcome::Denied
        && d.contains("did not open the scanned link to test.plaza.scan-probe")),);
    assert!(audit(&t, "link.open").is_empty());
}

#[tokio::test]
async fn a_malformed_link_or_one_to_a_mini_app_not_installed_is_just_text() {
    let t = probe_host().await;
    for text in [
        "plaza://test.plaza.scan-probe/check in",
        "plaza://cn.sh.renji/checkin?clinic=3",
        "https://example.com/checkin",
    ] {
        t.prompter.answer_scan(code(text, CodeKind::Qr));
        // Were it offered, the user would open it.
        t.prompter.answer_link_offer(true);
        let (s, page) = tap(&t, "alice", "scan").await;
        assert_eq!(field(&page, "Text").as_deref(), Some(text), "{page:?}");
        assert!(t.host.follow_link(&s).await.unwrap().is_none(), "{text}");
    }
    assert!(t.prompter.link_offers().is_empty());
    assert!(audit(&t, "link.open").is_empty());
}

#[tokio::test]
async fn a_component_importing_scan_without_declaring_it_is_refused_at_install() {
    let t = host();
    let manifest = manifest_replacing(&SCAN_PROBE, "[capabilities.scan]\n", "");
    let e = t
        .host
        .install(package_with_manifest(&SCAN_PROBE, &manifest))
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::UndeclaredImport { .. })
            && e.to_string().contains("[capabilities.scan]"),
        "{e}"
    );
}
