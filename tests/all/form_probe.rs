//! The form probe: the host checks every input's kind and constraints
//! before a submission reaches the mini-app, refusing a bad value with the
//! reason for the user (the probe, which echoes every submission, never
//! sees it); a hidden or read-only value cannot be changed; sections'
//! "load more" and pull-to-refresh arrive as events, only when the page
//! offers them; the launch carries the user's locale; the tab bar of the
//! manifest opens its pages; every new block renders as text and JSON.

use crate::support::*;
use plaza_host::{Block, Error, InputKind, Page, Session};
use plaza_test_programs::FORM_PROBE;
use std::path::Path;

const APP: &str = "test.plaza.form-probe";

/// The probe with its `assets/` folder (the thumbnail `dot.png`).
async fn installed() -> (TestHost, Session) {
    let t = host();
    let assets = Path::new(FORM_PROBE.manifest)
        .parent()
        .unwrap()
        .join("assets");
    let pkg = package(&FORM_PROBE).with_assets_dir(&assets).unwrap();
    t.host.install(pkg).await.unwrap();
    let s = t.host.session("alice", APP).unwrap();
    (t, s)
}

/// Values every input accepts.
const GOOD: &[(&str, &str)] = &[
    ("name", "Li Na"),
    ("id", "11010519491231002X"),
    ("plate", "浙A12345"),
    ("age", "30"),
    ("day", "2026-12-10"),
    ("at", "09:30"),
    ("currency", "USD"),
    ("city", "sh"),
    ("extras", "wechat,sms"),
    ("notify", "true"),
];

/// `GOOD` with `name` set to `value`.
fn with(name: &str, value: &str) -> Vec<(String, String)> {
    GOOD.iter()
        .map(|(n, v)| {
            (
                n.to_string(),
                if *n == name { value } else { v }.to_string(),
            )
        })
        .collect()
}

async fn submit(s: &Session, fields: &[(String, String)]) -> plaza_host::Result<Page> {
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    s.submit("probe", &fields).await
}

#[tokio::test]
async fn each_constraint_is_refused_by_the_host_with_the_users_reason() {
    let (_t, s) = installed().await;
    s.launch("/").await.unwrap();
    let cases = [
        ("name", "", "is required"),
        ("name", "Abcdefghijk", "must be at most 10 characters"),
        (
            "id",
            "1101051949",
            "must look like an 18-character ID number such as 11010519491231002X",
        ),
        (
            "plate",
            "京A12345",
            "must match the pattern `[浙沪][A-Z][A-Z0-9]{5}`",
        ),
        ("age", "thirty", "must be a number"),
        ("age", "151", "must be at most 150"),
        ("age", "-1", "must be at least 0"),
        ("day", "2026-12-03", "must be on or after 2026-12-04"),
        ("day", "2026-12-18", "must be on or before 2026-12-17"),
        ("day", "2026-02-30", "must be a date (YYYY-MM-DD)"),
        ("at", "07:59", "must be on or after 08:00"),
        ("at", "17:31", "must be on or before 17:30"),
        ("at", "25:00", "must be a time (HH:MM)"),
        ("currency", "GBP", "must be one of: Yuan, US dollar, Euro"),
        (
            "extras",
            "sms,fax",
            "`fax` is not among the choices: SMS, E-mail, WeChat",
        ),
        ("notify", "maybe", "must be on or off (`true` or `false`)"),
    ];
    for (name, value, reason) in cases {
        let err = submit(&s, &with(name, value)).await.unwrap_err();
        let Error::FieldRefused {
            form,
            field,
            reason: why,
            ..
        } = &err
        else {
            panic!("{name}={value}: expected FieldRefused, got {err:?}");
        };
        assert_eq!(
            (form.as_str(), field.as_str(), why.as_str()),
            ("probe", name, reason),
            "{name}={value}"
        );
        assert!(err.to_string().contains(reason), "{err}");
        // The mini-app never saw it: the user is still on the form.
        let current = s.current_page().await.unwrap();
        assert_eq!(current.title, "Form probe", "{name}={value}");
    }
    // Every value fits: the probe gets them, normalised by the host (the
    // multi-choice in option order).
    let page = submit(&s, &with("", "")).await.unwrap();
    assert_eq!(page.title, "Received", "{}", text(&page));
    assert_eq!(field(&page, "extras").as_deref(), Some("sms,wechat"));
    assert_eq!(field(&page, "day").as_deref(), Some("2026-12-10"));
    assert_eq!(field(&page, "plate").as_deref(), Some("浙A12345"));
}

#[tokio::test]
async fn a_hidden_field_the_user_cannot_change() {
    let (_t, s) = installed().await;
    s.launch("/").await.unwrap();
    for (name, forged) in [("token", "t-999"), ("ref", "REF-1")] {
        let mut fields = with("", "");
        fields.push((name.to_string(), forged.to_string()));
        let err = submit(&s, &fields).await.unwrap_err();
        let Error::FieldRefused { field, reason, .. } = &err else {
            panic!("expected FieldRefused, got {err:?}");
        };
        assert_eq!(
            (field.as_str(), reason.as_str()),
            (name, "cannot be changed")
        );
    }
    // Left out (as a phone submits them) or sent as rendered, the probe gets
    // the values the page gave them.
    let page = submit(&s, &with("", "")).await.unwrap();
    assert_eq!(field(&page, "token").as_deref(), Some("t-123"));
    assert_eq!(field(&page, "ref").as_deref(), Some("REF-9"));
    s.launch("/").await.unwrap();
    let mut fields = with("", "");
    fields.push(("token".into(), "t-123".into()));
    let page = submit(&s, &fields).await.unwrap();
    assert_eq!(field(&page, "token").as_deref(), Some("t-123"));
    // Optional inputs left empty pass unchecked; a switch left out is off.
    s.launch("/").await.unwrap();
    let page = s
        .submit("probe", &[("name", "Li"), ("notify", "")])
        .await
        .unwrap();
    assert_eq!(field(&page, "notify").as_deref(), Some("false"));
    assert_eq!(field(&page, "age").as_deref(), Some(""));
}

#[tokio::test]
async fn load_more_and_refresh_arrive_as_events_only_where_offered() {
    let (_t, s) = installed().await;
    // The form page offers neither.
    s.launch("/").await.unwrap();
    let err = s.load_more("more:today").await.unwrap_err();
    assert!(matches!(err, Error::ActionNotOffered { .. }), "{err:?}");
    let err = s.refresh().await.unwrap_err();
    assert!(err.to_string().contains("not refreshable"), "{err}");

    let page = s.launch("/list").await.unwrap();
    let section = |page: &Page| match &page.blocks[1] {
        Block::Section(sec) => sec.clone(),
        other => panic!("expected a section, got {other:?}"),
    };
    let sec = section(&page);
    assert_eq!(sec.heading, "Today");
    assert_eq!(sec.items.len(), 2);
    assert_eq!(sec.items[0].thumbnail, "asset:dot.png");
    assert_eq!(sec.items[0].trailing, "3 left");
    assert_eq!(sec.load_more.as_deref(), Some("more:today"));
    assert!(page.refreshable);
    let page = s.load_more("more:today").await.unwrap();
    assert_eq!(section(&page).items.len(), 4);
    let page = s.load_more("more:today").await.unwrap();
    let sec = section(&page);
    assert_eq!(sec.items.len(), 6);
    assert_eq!(sec.load_more, None, "the list is complete");
    let err = s.load_more("more:today").await.unwrap_err();
    assert!(matches!(err, Error::ActionNotOffered { .. }), "{err:?}");
    // An item of a section is tappable like any item.
    let err = s.tap("slot:2").await.unwrap_err();
    assert!(err.to_string().contains("it offers: slot:1"), "{err}");
    let page = s.refresh().await.unwrap();
    assert_eq!(field(&page, "Refreshed").as_deref(), Some("1"));
    let page = s.refresh().await.unwrap();
    assert_eq!(field(&page, "Refreshed").as_deref(), Some("2"));
}

#[tokio::test]
async fn the_launch_carries_the_users_locale() {
    let (_t, s) = installed().await;
    // Unknown until the embedding app says it.
    let page = s.launch("/").await.unwrap();
    assert_eq!(field(&page, "Locale").as_deref(), Some("-"));
    let page = s.launch_in("/", "en-US").await.unwrap();
    assert_eq!(field(&page, "Locale").as_deref(), Some("en-US"));
    let page = s.launch_in("/", "zh-Hans-CN").await.unwrap();
    assert_eq!(field(&page, "Locale").as_deref(), Some("zh-Hans-CN"));
    // Said once, it goes with every later launch of the session.
    let page = s.launch("/").await.unwrap();
    assert_eq!(field(&page, "Locale").as_deref(), Some("zh-Hans-CN"));
    for bad in ["en US", "-en", "zh_CN", "<script>"] {
        let err = s.launch_in("/", bad).await.unwrap_err();
        assert!(
            matches!(err, Error::InvalidRequest(_)) && err.to_string().contains("language tag"),
            "{bad}: {err}"
        );
    }
    s.set_locale("en").await.unwrap();
    let page = s.launch("/").await.unwrap();
    assert_eq!(field(&page, "Locale").as_deref(), Some("en"));
}

#[tokio::test]
async fn the_manifests_tab_bar_opens_its_pages() {
    let (t, s) = installed().await;
    let apps = t.host.installed().unwrap();
    let app = apps.iter().find(|a| a.app_id == APP).unwrap();
    let tabs: Vec<(&str, &str)> = app
        .tabs
        .iter()
        .map(|t| (t.title.as_str(), t.path.as_str()))
        .collect();
    assert_eq!(tabs, vec![("Form", "/"), ("List", "/list")]);
    let page = s.open_tab("/list", "zh-CN").await.unwrap();
    assert_eq!(page.title, "List");
    let page = s.open_tab("/", "zh-CN").await.unwrap();
    assert_eq!(field(&page, "Locale").as_deref(), Some("zh-CN"));
    let err = s.open_tab("/admin", "").await.unwrap_err();
    assert!(
        err.to_string()
            .contains("has no tab `/admin`; its tabs are: /, /list"),
        "{err}"
    );
}

#[tokio::test]
async fn every_new_block_renders_as_text_and_json() {
    let (_t, s) = installed().await;
    let page = s.launch_in("/", "en-US").await.unwrap();
    let shown = text(&page);
    for line in [
        "  probe.name (text, required, at most 10 characters): Name\n",
        "  probe.id (text, like an 18-character ID number such as 11010519491231002X): ID number\n",
        "  probe.plate (text, pattern [浙沪][A-Z][A-Z0-9]{5}): Plate\n",
        "  probe.age (number, min 0, max 150): Age\n",
        "  probe.day (date, min 2026-12-04, max 2026-12-17): Day\n",
        "  probe.at (time, min 08:00, max 17:30): Time\n",
        "  probe.currency (choice, radio): Currency\n      options: CNY=Yuan, USD=US dollar, EUR=Euro\n",
        "  probe.city (choice, picker): City\n",
        "  probe.extras (multi-choice): Reminders\n      options: sms=SMS, email=E-mail, wechat=WeChat\n",
        "  probe.notify (switch): Notify me [true]\n",
        "  probe.token (hidden):  [t-123]\n",
        "  probe.ref (text, read-only): Reference [REF-9]\n",
    ] {
        assert!(shown.contains(line), "missing {line:?} in\n{shown}");
    }
    let json = plaza_host::page::page_json(&page, &|n| format!("/a/{n}"));
    let input = |name: &str| {
        json["blocks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["name"] == name)
            .cloned()
            .unwrap()
    };
    assert_eq!(input("currency")["display"], "radio");
    assert_eq!(input("city")["display"], "picker");
    assert_eq!(input("city")["options"][6]["label"], "Wuhan");
    assert_eq!(input("day")["min"], "2026-12-04");
    assert_eq!(input("name")["max_length"], 10);
    assert_eq!(input("plate")["pattern"], "[浙沪][A-Z][A-Z0-9]{5}");
    assert_eq!(input("token")["kind"], "hidden");
    assert_eq!(input("ref")["read_only"], true);
    assert_eq!(input("notify")["kind"], "switch");
    assert!(
        page.blocks
            .iter()
            .any(|b| matches!(b, Block::Input(i) if i.kind == InputKind::MultiChoice))
    );

    let page = s.launch("/list").await.unwrap();
    let shown = text(&page);
    for line in [
        "\n### Today\n",
        "- [dot.png] Dr. Chen Li — Obstetrics  · 3 left  (tap slot:1)\n",
        "- Dr. Wang Fang  · Full\n",
        "  ... more  (load-more more:today)\n",
        "(refresh)\n",
    ] {
        assert!(shown.contains(line), "missing {line:?} in\n{shown}");
    }
    let json = plaza_host::page::page_json(&page, &|n| format!("/a/{n}"));
    assert_eq!(json["refreshable"], true);
    let section = &json["blocks"][1];
    assert_eq!(section["type"], "section");
    assert_eq!(section["heading"], "Today");
    assert_eq!(section["load_more"], "more:today");
    assert_eq!(section["items"][0]["thumbnail_src"], "/a/dot.png");
    assert_eq!(section["items"][0]["trailing"], "3 left");
    assert_eq!(section["items"][1]["action"], serde_json::Value::Null);
}
