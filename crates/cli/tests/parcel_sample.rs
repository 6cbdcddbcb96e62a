//! The parcel-tracking sample (`sample-miniapps/parcel-tracking`), a
//! courier's public account written in Python with the Plaza SDK for Python:
//! its scenarios pass under `plaza test` (tracking, a message each time the
//! parcel moves, customer service within the 48-hour window), and the
//! courier's back-end messages a customer who accepted through the
//! publisher API, by the openid the mini-app shows.
//!
//! The sample is copied into `CARGO_TARGET_TMPDIR/parcel-tracking` (so the
//! source tree gets no `.plaza`) and built once per run with `plaza build`
//! (`Fresh` in the next runs until its sources change); componentize-py is
//! installed once, into the toolchain folder `new.rs` uses too.

mod common;

use common::{copy_sources, ok, plaza_in as plaza};
use plaza_host::clock::{ManualClock, SequentialIds};
use plaza_host::package::Package;
use plaza_host::prompt::{ScriptedPrompter, SubscriptionAnswer};
use plaza_host::{Error, Host, HostConfig, Page};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

const APP: &str = "cn.hz.express.parcels";
/// 2026-11-21 09:00 in Hangzhou.
const START_MS: i64 = 1_795_222_800_000;

fn tmp() -> &'static Path {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
}

/// The sample's copy, built: once per run.
fn sample() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let source =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sample-miniapps/parcel-tracking");
        let copy = tmp().join("parcel-tracking");
        // Fresh sources and scenarios; the last build's .plaza stays, so an
        // unchanged sample is not built again.
        for stale in ["src", "scenarios", "store"] {
            let _ = std::fs::remove_dir_all(copy.join(stale));
        }
        copy_sources(&source, &copy);
        ok(&plaza(&copy, &["build", "."]), "plaza build");
        copy
    })
}

#[test]
fn the_parcel_samples_scenarios_pass() {
    let dir = sample();
    let o = plaza(dir, &["test"]);
    let text = ok(&o, "plaza test");
    assert!(text.contains("3 passed, 0 failed"), "{text}");
}

/// A host on a temporary store with a manual clock, where customers accept
/// the messages for good.
fn host(store: &Path, clock: &ManualClock) -> Host {
    let prompter = Arc::new(ScriptedPrompter::new());
    prompter.answer_subscriptions(SubscriptionAnswer::AcceptLongTerm);
    let config = HostConfig::default()
        .cache_dir(Some(tmp().join("plaza-test-cache")))
        .clock(Arc::new(clock.clone()))
        .ids(Arc::new(SequentialIds::default()))
        .prompter(prompter)
        .utc_offset_minutes(480)
        .developer_mode(true);
    Host::open(&store.join("plaza.db"), config).expect("open host")
}

fn text(page: &Page) -> String {
    plaza_host::page::render_text(page)
}

/// The value of the field `label` on `page`.
fn field(page: &Page, label: &str) -> String {
    let prefix = format!("{label}: ");
    text(page)
        .lines()
        .find_map(|l| l.strip_prefix(&prefix).map(str::to_string))
        .unwrap_or_else(|| panic!("no field {label} on\n{}", text(page)))
}

fn moved(status: &str, place: &str) -> Vec<(String, String)> {
    [
        ("parcel", "WL1234567895"),
        ("status", status),
        ("place", place),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .to_vec()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_couriers_back_end_messages_a_customer_who_accepted_through_the_publisher_api() {
    let dir = sample();
    let work = tempfile::tempdir().unwrap();
    let package = work.path().join("parcels.plaza");
    ok(
        &plaza(dir, &["pack", ".", "-o", package.to_str().unwrap()]),
        "plaza pack",
    );
    let clock = ManualClock::new(START_MS);
    let host = host(work.path(), &clock);
    let report = host
        .install(Package::read_file(&package).unwrap())
        .await
        .unwrap();
    let secret = report
        .app_secret
        .expect("a first install issues the app secret");

    // Ann tracks her parcel and accepts the messages; customer service's
    // page shows her customer number, the openid the back-end knows her by.
    let ann = host.session("ann", APP).unwrap();
    ann.launch("/").await.unwrap();
    let page = ann
        .submit("track", &[("number", "WL1234567895")])
        .await
        .unwrap();
    assert_eq!(field(&page, "Status"), "Picked up");
    let page = ann.tap("notify:WL1234567895").await.unwrap();
    assert!(
        text(&page).contains("We will send you a message each time WL1234567895 moves."),
        "{}",
        text(&page)
    );
    let page = ann.launch("/chat").await.unwrap();
    let openid = field(&page, "Your customer number");
    assert!(!openid.is_empty());

    // The scan comes in at the back-end: it messages Ann by openid, with a
    // link to the parcel's page.
    let token = host.access_token(APP, &secret).unwrap();
    let api = host.publisher_api(&token.access_token).unwrap();
    let id = api
        .send_message(
            &openid,
            "parcel-moved",
            &moved("Out for delivery", "Shanghai"),
            Some("/parcel?number=WL1234567895"),
        )
        .unwrap();
    let inbox = host.inbox("ann", false, 10).unwrap();
    assert_eq!(inbox[0].id, id);
    assert_eq!(inbox[0].title, "Your parcel moved");
    assert!(
        inbox[0].body.contains("Out for delivery"),
        "{}",
        inbox[0].body
    );
    // Opening the message opens the parcel's page in the mini-app.
    let (_, page) = host.open_message("ann", &id).await.unwrap();
    assert_eq!(page.title, "Parcel WL1234567895");

    // A field the template does not declare, or one missing, is refused.
    let mut wrong = moved("Delivered", "Shanghai");
    wrong.pop();
    assert!(
        api.send_message(&openid, "parcel-moved", &wrong, None)
            .is_err()
    );
    // An openid the mini-app never gave out is not found.
    let err = api
        .send_message(
            "nobody",
            "parcel-moved",
            &moved("Delivered", "Shanghai"),
            None,
        )
        .unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err}");

    // Bo opened the mini-app but never accepted: the back-end cannot message him.
    let bo = host.session("bo", APP).unwrap();
    let page = bo.launch("/chat").await.unwrap();
    let bo_openid = field(&page, "Your customer number");
    assert_ne!(bo_openid, openid);
    let err = api
        .send_message(
            &bo_openid,
            "parcel-moved",
            &moved("Delivered", "Shanghai"),
            None,
        )
        .unwrap_err();
    assert!(matches!(err, Error::Refused(_)), "{err}");
    assert!(host.inbox("bo", false, 10).unwrap().is_empty());

    // Customer service replies from the back-end while Ann's last message is
    // less than 48 hours old; after that the host refuses.
    let page = ann.chat("Where is WL1234567895?").await.unwrap();
    assert!(
        text(&page).contains("Us: Parcel WL1234567895: Picked up, Nanjing"),
        "{}",
        text(&page)
    );
    // (An access token lasts two hours: the back-end signs in again.)
    let signed_in = || {
        let token = host.access_token(APP, &secret).unwrap();
        host.publisher_api(&token.access_token).unwrap()
    };
    clock.advance(Duration::from_secs(47 * 3600));
    signed_in()
        .reply(&openid, "Your parcel is at the Qingpu depot.", None)
        .unwrap();
    clock.advance(Duration::from_secs(2 * 3600));
    let err = signed_in()
        .reply(&openid, "Anything else?", None)
        .unwrap_err();
    assert!(
        matches!(&err, Error::Refused(m) if m.contains("48 hours")),
        "{err}"
    );
    let replies: Vec<String> = host
        .inbox("ann", false, 20)
        .unwrap()
        .into_iter()
        .filter(|m| m.kind == "conversation")
        .map(|m| m.body)
        .collect();
    assert_eq!(
        replies,
        [
            "Your parcel is at the Qingpu depot.",
            "Parcel WL1234567895: Picked up, Nanjing, 2026-11-21 07:00."
        ]
    );
}
