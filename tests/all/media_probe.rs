//! Photos and files users give mini-apps, through a real guest (the
//! media-probe fixture): kept after the user's choice, refused over the
//! cap, of a wrong type or over the quota with the user's reason, a
//! cancellation returned as such, asked only during a tap, every decision
//! audited; a file reaches only its user in its mini-app, and erasing the
//! mini-app's data deletes it.

use crate::support::*;
use plaza_host::media::{MediaAnswer, MediaKind, MediaSource};
use plaza_host::store::{AuditQuery, Outcome};
use plaza_host::{Block, Error, Page};
use plaza_test_programs::MEDIA_PROBE;

const APP: &str = "test.plaza.media-probe";

/// A tiny real JPEG (1x1 pixel, as cameras write them: SOI, JFIF, EOI).
fn jpeg(len: usize) -> Vec<u8> {
    let mut bytes = vec![
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00,
    ];
    bytes.resize(len.saturating_sub(2), 0x00);
    bytes.extend_from_slice(&[0xFF, 0xD9]);
    bytes
}

fn file(name: &str, bytes: Vec<u8>) -> MediaAnswer {
    MediaAnswer::File {
        name: name.into(),
        bytes,
    }
}

async fn probe_host() -> TestHost {
    let t = host();
    install(&t, &MEDIA_PROBE).await;
    t
}

/// The page after `user` taps `action` on the probe's first page.
async fn tap(t: &TestHost, user: &str, action: &str) -> Page {
    let s = t.host.session(user, APP).unwrap();
    s.launch("/").await.unwrap();
    let page = s.tap(action).await.unwrap();
    s.close().await;
    page
}

/// The page of a launch of `user` in `app` at `path`.
async fn launch(t: &TestHost, user: &str, app: &str, path: &str) -> Page {
    let s = t.host.session(user, app).unwrap();
    let page = s.launch(path).await.unwrap();
    s.close().await;
    page
}

fn media_audit(t: &TestHost) -> Vec<(Outcome, String)> {
    t.host
        .audit(&AuditQuery::default())
        .unwrap()
        .into_iter()
        .filter(|e| e.capability == "media")
        .map(|e| (e.outcome, e.detail))
        .collect()
}

#[tokio::test]
async fn a_photo_the_user_chooses_is_kept_shown_and_read_back() {
    let t = probe_host().await;
    t.prompter.answer_media(file("IMG_0042.jpg", jpeg(300)));
    let page = tap(&t, "alice", "image").await;
    assert_eq!(field(&page, "Result").as_deref(), Some("ok"), "{page:?}");
    assert_eq!(field(&page, "Kind").as_deref(), Some("jpeg"));
    assert_eq!(field(&page, "Size").as_deref(), Some("300"));
    assert_eq!(field(&page, "Name").as_deref(), Some("IMG_0042.jpg"));
    let id = field(&page, "Id").unwrap();
    // The page shows it as `media:ID` (the host let the page through).
    assert!(page.blocks.iter().any(
        |b| matches!(b, Block::Image(i) if i.url == format!("media:{id}") && i.alt == "Chosen")
    ));
    // The user was asked with the mini-app's purpose, the kinds and the cap.
    let asked = t.prompter.media_prompts();
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].purpose, "The ID card, front side");
    assert_eq!(asked[0].source, MediaSource::Either);
    assert_eq!(asked[0].kinds, vec![MediaKind::Jpeg, MediaKind::Png]);
    assert_eq!(
        (asked[0].max_bytes, asked[0].user.as_str()),
        (2048, "alice")
    );
    // The mini-app reads its bytes back in a later session; the embedding
    // app gets them for the user who gave them.
    let read = launch(&t, "alice", APP, &format!("/?read={id}")).await;
    assert_eq!(field(&read, "Bytes").as_deref(), Some("300"));
    assert_eq!(field(&read, "Start").as_deref(), Some("ffd8ff"));
    let (record, bytes) = t.host.media_file("alice", APP, &id).unwrap().unwrap();
    assert_eq!((record.kind.as_str(), bytes), ("jpeg", jpeg(300)));
    // Kept in the storage quota the mini-app's values share.
    let audit = media_audit(&t);
    assert!(
        audit
            .iter()
            .any(|(o, d)| *o == Outcome::Allowed && d.contains("IMG_0042.jpg") && d.contains(&id)),
        "{audit:?}"
    );
    // Deleted by the mini-app: gone.
    let deleted = launch(&t, "alice", APP, &format!("/?delete={id}")).await;
    assert_eq!(field(&deleted, "Deleted").as_deref(), Some("true"));
    assert!(t.host.media_file("alice", APP, &id).unwrap().is_none());
}

#[tokio::test]
async fn a_file_over_the_cap_is_refused_with_the_reason_and_nothing_kept() {
    let t = probe_host().await;
    t.prompter.answer_media(file("big.jpg", jpeg(3000)));
    let page = tap(&t, "alice", "image").await;
    let result = field(&page, "Result").unwrap();
    assert!(
        result.starts_with("too-large:")
            && result.contains("3000 bytes")
            && result.contains("2048"),
        "{result}"
    );
    assert!(
        t.host.privacy_export("alice", Some(APP)).unwrap().apps[0]
            .media
            .is_empty()
    );
    assert!(
        media_audit(&t)
            .iter()
            .any(|(o, d)| *o == Outcome::Denied && d.contains("2048")),
    );
}

#[tokio::test]
async fn a_jpg_that_is_really_text_is_refused_by_its_content() {
    let t = probe_host().await;
    t.prompter
        .answer_media(file("card.jpg", b"this is not a photo".to_vec()));
    let page = tap(&t, "alice", "image").await;
    let result = field(&page, "Result").unwrap();
    assert!(
        result.starts_with("wrong-type:")
            && result.contains("card.jpg")
            && result.contains("JPEG or PNG"),
        "{result}"
    );
    // A real PNG where a PDF is asked for: refused too, named for what it is.
    let mut png = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    png.extend_from_slice(&[0; 40]);
    t.prompter.answer_media(file("certificate.pdf", png));
    let page = tap(&t, "alice", "pdf").await;
    let result = field(&page, "Result").unwrap();
    assert!(
        result.starts_with("wrong-type:")
            && result.contains("a PNG file")
            && result.contains("PDF was asked for"),
        "{result}"
    );
    assert_eq!(t.prompter.media_prompts()[1].kinds, vec![MediaKind::Pdf]);
    // A PDF is taken.
    t.prompter
        .answer_media(file("certificate.pdf", b"%PDF-1.7\n%%EOF\n".to_vec()));
    let page = tap(&t, "alice", "pdf").await;
    assert_eq!(field(&page, "Kind").as_deref(), Some("pdf"), "{page:?}");
}

#[tokio::test]
async fn a_cancelled_picker_returns_cancelled_to_the_mini_app_and_is_audited() {
    let t = probe_host().await;
    // No answer scripted: the user closes the picker.
    let page = tap(&t, "alice", "image").await;
    assert_eq!(field(&page, "Result").as_deref(), Some("cancelled"));
    assert_eq!(t.prompter.media_prompts().len(), 1);
    assert!(
        media_audit(&t)
            .iter()
            .any(|(o, d)| *o == Outcome::Denied && d.contains("closed the picker")),
    );
}

#[tokio::test]
async fn asking_outside_a_tap_is_denied_without_asking_the_user() {
    let t = probe_host().await;
    let page = launch(&t, "alice", APP, "/?pick=1").await;
    let result = field(&page, "Result").unwrap();
    assert!(
        result.starts_with("denied:") && result.contains("tap"),
        "{result}"
    );
    assert!(t.prompter.media_prompts().is_empty());
}

#[tokio::test]
async fn files_and_values_share_the_quota() {
    let t = probe_host().await;
    // 3,000 bytes of storage (with its key) in the 4,096-byte quota.
    let page = tap(&t, "alice", "fill").await;
    assert_eq!(field(&page, "Result").as_deref(), Some("ok"));
    t.prompter.answer_media(file("card.jpg", jpeg(1500)));
    let page = tap(&t, "alice", "image").await;
    let result = field(&page, "Result").unwrap();
    assert!(
        result.starts_with("quota-exceeded:") && result.contains("4096-byte quota"),
        "{result}"
    );
    // A smaller one fits.
    t.prompter.answer_media(file("card.jpg", jpeg(900)));
    let page = tap(&t, "alice", "image").await;
    assert_eq!(field(&page, "Result").as_deref(), Some("ok"), "{page:?}");
}

#[tokio::test]
async fn another_user_or_another_mini_app_cannot_read_a_file() {
    let t = probe_host().await;
    let other = "test.plaza.media-other";
    t.host
        .install(package_with_manifest(
            &MEDIA_PROBE,
            &manifest_replacing(&MEDIA_PROBE, APP, other),
        ))
        .await
        .unwrap();
    t.prompter.answer_media(file("card.jpg", jpeg(200)));
    let id = field(&tap(&t, "alice", "image").await, "Id").unwrap();
    for (user, app) in [("bob", APP), ("alice", other)] {
        let page = launch(&t, user, app, &format!("/?read={id}")).await;
        let result = field(&page, "Result").unwrap();
        assert!(
            result.starts_with("not-found:"),
            "{user} in {app}: {result}"
        );
        let page = launch(&t, user, app, &format!("/?delete={id}")).await;
        assert_eq!(field(&page, "Deleted").as_deref(), Some("false"));
        assert!(t.host.media_file(user, app, &id).unwrap().is_none());
    }
    assert!(t.host.media_file("alice", APP, &id).unwrap().is_some());
}

#[tokio::test]
async fn erasing_the_mini_apps_data_deletes_the_files_listed_in_the_export() {
    let t = probe_host().await;
    t.prompter.answer_media(file("card.jpg", jpeg(200)));
    let id = field(&tap(&t, "alice", "image").await, "Id").unwrap();
    let export = t.host.privacy_export("alice", Some(APP)).unwrap();
    let listed = &export.apps[0].media;
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (
            listed[0].id.as_str(),
            listed[0].name.as_str(),
            listed[0].size
        ),
        (id.as_str(), "card.jpg", 200)
    );
    let erasure = t.host.erase_user_app_data("alice", APP).await.unwrap();
    assert_eq!(erasure.erased.media_files, 1);
    assert!(t.host.media_file("alice", APP, &id).unwrap().is_none());
    let page = launch(&t, "alice", APP, &format!("/?read={id}")).await;
    assert!(field(&page, "Result").unwrap().starts_with("not-found:"));
}

#[tokio::test]
async fn a_component_importing_media_without_declaring_it_is_refused_at_install() {
    let t = host();
    let manifest = manifest_replacing(
        &MEDIA_PROBE,
        "[capabilities.media]\nmax-file-bytes = 2048\n",
        "",
    );
    let e = t
        .host
        .install(package_with_manifest(&MEDIA_PROBE, &manifest))
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::UndeclaredImport { .. })
            && e.to_string().contains("[capabilities.media]"),
        "{e}"
    );
}
