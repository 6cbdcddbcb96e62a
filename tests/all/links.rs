//! Links that open a mini-app at a page (`plaza://APP-ID/PATH?QUERY` and the
//! operator's `https` form), through the hospital sample: a department's
//! page, and the check-in from the QR code on a clinic's wall.

use crate::support::*;
use plaza_host::store::{AuditQuery, Outcome};
use plaza_host::{Error, Page};
use plaza_test_programs::HOSPITAL;

const APP: &str = "cn.hz.maternity";

/// Books Dr. Chen Li (obstetrics) for `user` at `slot` (`YYYYMMDD-HHMM`).
async fn book_chen_li(t: &TestHost, user: &str, slot: &str) -> Page {
    let s = t.host.session(user, APP).unwrap();
    s.launch("/").await.unwrap();
    s.tap("dept:obstetrics").await.unwrap();
    s.tap("doctor:chen-li").await.unwrap();
    let confirm = s.tap(&format!("slot:chen-li:{slot}")).await.unwrap();
    assert_eq!(confirm.title, "Confirm booking", "{}", text(&confirm));
    let done = s
        .submit("patient", &[("name", "Li Na"), ("phone", "13800138000")])
        .await
        .unwrap();
    assert_eq!(done.title, "Booking confirmed", "{}", text(&done));
    done
}

fn link_audit(t: &TestHost) -> Vec<(String, String, Outcome, String)> {
    t.host
        .audit(&AuditQuery::default())
        .unwrap()
        .into_iter()
        .filter(|e| e.capability == "link.open")
        .map(|e| (e.user, e.app, e.outcome, e.detail))
        .collect()
}

#[tokio::test]
async fn a_link_opens_the_mini_app_at_its_page_in_the_users_running_session() {
    let t = host();
    install(&t, &HOSPITAL).await;
    let running = t.host.session("li-na", APP).unwrap();
    running.launch("/").await.unwrap();
    let instance = running.instance_id().await.unwrap();

    let (session, page) = t
        .host
        .open_link("li-na", "plaza://cn.hz.maternity/dept/obstetrics")
        .await
        .unwrap();
    assert_eq!(page.title, "Obstetrics", "{}", text(&page));
    assert_eq!(session.app_id(), APP);
    // The same session, the same instance: the link's page is pushed on it.
    assert_eq!(session.instance_id().await, Some(instance));
    let back = session.back().await.unwrap();
    assert_eq!(back.title, "Hangzhou Maternity Hospital");

    assert_eq!(
        link_audit(&t),
        vec![(
            "li-na".to_string(),
            APP.to_string(),
            Outcome::Allowed,
            "opened /dept/obstetrics".to_string()
        )]
    );
}

#[tokio::test]
async fn the_operators_https_form_is_the_same_link() {
    let t = host_with(|c| c.link_base(Some("https://plaza.example.cn/a/".into())));
    install(&t, &HOSPITAL).await;
    let (_, page) = t
        .host
        .open_link(
            "li-na",
            "https://plaza.example.cn/a/cn.hz.maternity/dept/paediatrics",
        )
        .await
        .unwrap();
    assert_eq!(page.title, "Paediatrics", "{}", text(&page));
    let link = t
        .host
        .parse_link("plaza://cn.hz.maternity/checkin?clinic=obstetrics")
        .unwrap();
    assert_eq!(
        link.to_https(t.host.link_base().unwrap()),
        "https://plaza.example.cn/a/cn.hz.maternity/checkin?clinic=obstetrics"
    );
    // Another site's address is no link of this host's.
    let err = t
        .host
        .open_link(
            "li-na",
            "https://phish.example.com/a/cn.hz.maternity/dept/paediatrics",
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("not under this host's link base `https://plaza.example.cn/a/`"),
        "{err}"
    );

    // A base that is not an https address is refused when the host opens.
    let dir = tempfile::tempdir().unwrap();
    let err = plaza_host::Host::open(
        &dir.path().join("plaza.db"),
        plaza_host::HostConfig::default().link_base(Some("http://plaza.example.cn/".into())),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("does not start with `https://`"),
        "{err}"
    );
}

#[tokio::test]
async fn a_link_to_a_mini_app_that_is_not_installed_names_it() {
    let t = host();
    install(&t, &HOSPITAL).await;
    let err = t
        .host
        .open_link("li-na", "plaza://cn.sh.renji/checkin?clinic=3")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::NotInstalled { app } if app == "cn.sh.renji"),
        "{err:?}"
    );
    assert!(err.to_string().contains("cn.sh.renji"), "{err}");
    let audit = link_audit(&t);
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].1, "cn.sh.renji");
    assert_eq!(audit[0].2, Outcome::Denied);
}

#[tokio::test]
async fn malformed_links_are_refused_with_what_is_wrong() {
    let t = host();
    install(&t, &HOSPITAL).await;
    for (link, problem) in [
        ("cn.hz.maternity/checkin", "does not start with `plaza://`"),
        ("plaza://", "names no mini-app"),
        (
            "plaza://maternity/checkin",
            "`maternity` is not a mini-app id",
        ),
        ("plaza://cn.hz.maternity/check in", "has a space"),
        ("plaza://cn.hz.maternity/checkin#wall", "`#` fragment"),
        ("https://plaza.example.cn/a/cn.hz.maternity/", "no web form"),
        ("weixin://dl/scan", "its scheme is `weixin`"),
    ] {
        let err = t.host.open_link("li-na", link).await.unwrap_err();
        assert!(matches!(err, Error::MalformedLink(_)), "{link}: {err:?}");
        let message = err.to_string();
        assert!(message.contains(problem), "{link}: {message}");
        assert!(
            message.contains("A link looks like `plaza://APP-ID/PATH?QUERY`"),
            "{message}"
        );
    }
    let audit = link_audit(&t);
    assert_eq!(audit.len(), 7);
    assert!(
        audit
            .iter()
            .all(|(_, app, o, _)| app.is_empty() && *o == Outcome::Denied)
    );
    // Nothing was started.
    assert!(
        t.host
            .session("li-na", APP)
            .unwrap()
            .instance_id()
            .await
            .is_none()
    );
}

#[tokio::test]
async fn the_clinics_qr_code_checks_the_patient_in_for_todays_booking() {
    let t = host_with_offices();
    t.install_sample(&HOSPITAL).await;
    // Booked for tomorrow (the 22nd) at 09:00.
    book_chen_li(&t, "li-na", "20261122-0900").await;
    let wall = "plaza://cn.hz.maternity/checkin?clinic=obstetrics";

    // Today is the 21st: nothing to check in.
    let (_, page) = t.host.open_link("li-na", wall).await.unwrap();
    assert_eq!(page.title, "No booking today", "{}", text(&page));
    assert!(text(&page).contains("no booking at Obstetrics today"));

    // The morning of the 22nd, at the clinic.
    t.clock
        .advance(std::time::Duration::from_secs(24 * 3600 - 20 * 60));
    let (_, page) = t.host.open_link("li-na", wall).await.unwrap();
    assert_eq!(page.title, "Checked in", "{}", text(&page));
    assert_eq!(field(&page, "Booking number").as_deref(), Some("B0001"));
    assert_eq!(field(&page, "Clinic").as_deref(), Some("Obstetrics"));
    assert!(text(&page).contains("Checked in."), "{}", text(&page));

    // Scanning again says when; another clinic has no booking of hers.
    let (_, again) = t.host.open_link("li-na", wall).await.unwrap();
    assert!(
        text(&again).contains("You checked in at 08:40"),
        "{}",
        text(&again)
    );
    let (_, other) = t
        .host
        .open_link(
            "li-na",
            "plaza://cn.hz.maternity/checkin?clinic=paediatrics",
        )
        .await
        .unwrap();
    assert_eq!(other.title, "No booking today");
    // Another patient has no booking at all.
    let (_, stranger) = t.host.open_link("wang-fang", wall).await.unwrap();
    assert_eq!(stranger.title, "No booking today");
    let (_, unknown) = t
        .host
        .open_link("li-na", "plaza://cn.hz.maternity/checkin?clinic=radiology")
        .await
        .unwrap();
    assert_eq!(unknown.title, "Unknown clinic");
    assert!(text(&unknown).contains("`radiology`"), "{}", text(&unknown));
}
