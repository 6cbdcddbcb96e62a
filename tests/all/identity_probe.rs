//! Identity as mini-apps see it: pseudonymous ids without consent, consent
//! scopes asked once and remembered (a refusal too), revocation taking effect
//! at the very next call of a live session, the category rule, coarse and
//! precise location, and single-use, expiring login codes.

use crate::support::*;
use plaza_host::manifest::Scope;
use plaza_host::prompt::ConsentAnswer;
use plaza_host::store::{AuditQuery, GeoPoint, Outcome, RealNameRecord, UserProfile};
use plaza_host::{Error, Session};
use plaza_test_programs::IDENTITY_PROBE;
use std::time::Duration;

const APP: &str = "test.plaza.identity-probe";

/// The probe installed signed by its registered (verified or not) publisher.
async fn probe(verified: bool) -> (TestHost, String) {
    let t = host();
    let key = register_publisher(&t, &IDENTITY_PROBE, verified);
    let report = t
        .host
        .install(signed_package(
            &IDENTITY_PROBE,
            &IDENTITY_PROBE.manifest_text(),
            &key,
        ))
        .await
        .unwrap();
    t.host
        .set_user_profile(
            "li-na",
            UserProfile {
                nickname: Some("Na".into()),
                avatar_url: Some("https://img.example/na.png".into()),
                phone: Some("13800138000".into()),
                real_name: Some(RealNameRecord {
                    name: "Li Na".into(),
                    id_number: "330106199001010022".into(),
                    verified: true,
                }),
                location: Some(GeoPoint {
                    latitude: 30.274_08,
                    longitude: 120.155_07,
                    accuracy_m: 8.0,
                }),
            },
        )
        .unwrap();
    (t, report.app_secret.expect("first install issues a secret"))
}

async fn call(s: &Session, what: &str) -> String {
    let page = s.tap(what).await.unwrap();
    field(&page, what).unwrap_or_else(|| panic!("no field {what}:\n{}", text(&page)))
}

fn asked(t: &TestHost) -> Vec<Scope> {
    t.prompter
        .consent_questions()
        .iter()
        .map(|q| q.scope)
        .collect()
}

/// A second mini-app: the probe's component under another app id, of the
/// same publisher or another.
fn other_app(id: &str, publisher: Option<&str>) -> plaza_host::package::Package {
    let mut m = manifest_replacing(&IDENTITY_PROBE, APP, id);
    if let Some(p) = publisher {
        m = m.replace("test.plaza.clinic", p);
    }
    package_with_manifest(&IDENTITY_PROBE, &m)
}

#[tokio::test]
async fn openid_is_per_mini_app_and_unionid_per_publisher() {
    let (t, _) = probe(true).await;
    t.host
        .install(other_app("test.plaza.clinic-two", None))
        .await
        .unwrap();
    t.host
        .install(other_app(
            "test.plaza.elsewhere",
            Some("test.plaza.elsewhere"),
        ))
        .await
        .unwrap();
    let ids = |user: &'static str, app: &'static str| {
        let t = &t;
        async move {
            let s = t.host.session(user, app).unwrap();
            s.launch("/").await.unwrap();
            let ids = (call(&s, "openid").await, call(&s, "unionid").await);
            s.close().await;
            ids
        }
    };
    let (open_a, union_a) = ids("li-na", APP).await;
    assert_eq!(open_a.len(), 64, "{open_a}");
    // The same in a new session (and in a new instance).
    assert_eq!(ids("li-na", APP).await, (open_a.clone(), union_a.clone()));
    // Another mini-app of the same publisher: another openid, the same unionid.
    let (open_b, union_b) = ids("li-na", "test.plaza.clinic-two").await;
    assert_ne!(open_b, open_a);
    assert_eq!(union_b, union_a);
    // Another publisher: both differ.
    let (open_c, union_c) = ids("li-na", "test.plaza.elsewhere").await;
    assert_ne!(open_c, open_a);
    assert_ne!(union_c, union_a);
    // Another user: both differ.
    let (open_d, union_d) = ids("wang-fang", APP).await;
    assert_ne!(open_d, open_a);
    assert_ne!(union_d, union_a);
    // No consent was asked for any of it, and the use is audited.
    assert!(t.prompter.consent_questions().is_empty());
    let audit = t.host.audit(&AuditQuery::default()).unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.capability == "identity.openid" && e.outcome == Outcome::Allowed)
    );
}

#[tokio::test]
async fn consent_is_asked_once_and_remembered_allowed_or_refused() {
    let (t, _) = probe(true).await;
    t.prompter
        .answer_consent(Scope::Phone, ConsentAnswer::Allow);
    t.prompter
        .answer_consent(Scope::Profile, ConsentAnswer::Deny);
    let s = t.host.session("li-na", APP).unwrap();
    s.launch("/").await.unwrap();

    assert_eq!(call(&s, "phone").await, "13800138000");
    assert_eq!(call(&s, "phone").await, "13800138000");
    let refused = call(&s, "profile").await;
    assert!(refused.starts_with("denied: the user refused"), "{refused}");
    // The refusal is remembered: denied again without a second question,
    // in this session and the next.
    let again = call(&s, "profile").await;
    assert!(again.contains("refused `profile` earlier"), "{again}");
    s.close().await;
    s.launch("/profile").await.unwrap();
    assert_eq!(asked(&t), vec![Scope::Phone, Scope::Profile]);
    let q = &t.prompter.consent_questions()[0];
    assert_eq!(q.app_id, APP);
    assert_eq!(q.purpose, "To call you about your visit");

    // The host lists the decisions.
    let grants: Vec<(String, bool)> = t
        .host
        .consents("li-na")
        .unwrap()
        .into_iter()
        .map(|c| (c.scope, c.granted))
        .collect();
    assert_eq!(
        grants,
        vec![("phone".to_string(), true), ("profile".to_string(), false)]
    );
    // Every prompt, answer and use is in the audit log.
    let audit: Vec<(String, Outcome)> = t
        .host
        .audit(&AuditQuery {
            user: Some("li-na".into()),
            ..Default::default()
        })
        .unwrap()
        .into_iter()
        .filter(|e| e.capability.contains("phone") || e.capability.contains("profile"))
        .map(|e| (e.capability, e.outcome))
        .collect();
    assert_eq!(
        audit,
        vec![
            ("consent.prompt.phone".to_string(), Outcome::Allowed),
            ("identity.phone".to_string(), Outcome::Allowed),
            ("identity.phone".to_string(), Outcome::Allowed),
            ("consent.prompt.profile".to_string(), Outcome::Allowed),
            ("identity.profile".to_string(), Outcome::Denied),
            ("identity.profile".to_string(), Outcome::Denied),
            ("identity.profile".to_string(), Outcome::Denied),
        ]
    );
}

#[tokio::test]
async fn a_revocation_takes_effect_at_the_next_call_of_a_live_session() {
    let (t, _) = probe(true).await;
    t.prompter
        .answer_consent(Scope::Phone, ConsentAnswer::Allow);
    let s = t.host.session("li-na", APP).unwrap();
    s.launch("/").await.unwrap();
    assert_eq!(call(&s, "phone").await, "13800138000");
    let instance = s.instance_id().await.unwrap();

    // The user revokes it in the host's settings while the session is live;
    // this time the user says no when asked again.
    assert!(t.host.revoke_consent("li-na", APP, "phone").unwrap());
    t.prompter.answer_consent(Scope::Phone, ConsentAnswer::Deny);
    let v = call(&s, "phone").await;
    assert!(v.starts_with("denied: the user refused"), "{v}");
    assert_eq!(
        s.instance_id().await.unwrap(),
        instance,
        "same live instance"
    );
    assert_eq!(asked(&t), vec![Scope::Phone, Scope::Phone]);

    // Turned on in the settings: allowed at the next call, without a question.
    t.host
        .set_consent("li-na", APP, Scope::Phone, true)
        .unwrap();
    assert_eq!(call(&s, "phone").await, "13800138000");
    // Turned off: denied at the next call, without a question.
    t.host
        .set_consent("li-na", APP, Scope::Phone, false)
        .unwrap();
    assert!(call(&s, "phone").await.starts_with("denied:"));
    assert_eq!(asked(&t).len(), 2);
    assert_eq!(s.instance_id().await.unwrap(), instance);
    let audit = t.host.audit(&AuditQuery::default()).unwrap();
    for what in ["consent.revoked.phone", "consent.settings.phone"] {
        assert!(audit.iter().any(|e| e.capability == what), "{what}");
    }
}

#[tokio::test]
async fn real_name_and_insurance_card_only_for_verified_publishers_of_allowed_categories() {
    // Registered but not verified: denied without a question.
    let (t, _) = probe(false).await;
    t.prompter
        .answer_consent(Scope::RealName, ConsentAnswer::Allow);
    t.prompter
        .answer_consent(Scope::InsuranceCard, ConsentAnswer::Allow);
    let s = t.host.session("li-na", APP).unwrap();
    s.launch("/").await.unwrap();
    for scope in ["real-name", "insurance-card"] {
        let v = call(&s, scope).await;
        assert!(
            v.starts_with("denied:") && v.contains("not verified"),
            "{v}"
        );
    }
    assert!(t.prompter.consent_questions().is_empty());

    // Verified (and medical): asked, then given.
    let (t, _) = probe(true).await;
    t.prompter
        .answer_consent(Scope::RealName, ConsentAnswer::Allow);
    t.prompter
        .answer_consent(Scope::InsuranceCard, ConsentAnswer::Allow);
    t.host
        .bind_insurance_card(
            "li-na",
            "ZJ3301-0042",
            "Li Na",
            "Hangzhou basic medical insurance",
            7000,
            5_000_000,
        )
        .unwrap();
    let s = t.host.session("li-na", APP).unwrap();
    s.launch("/").await.unwrap();
    assert_eq!(call(&s, "real-name").await, "Li Na|330106199001010022|true");
    assert_eq!(
        call(&s, "insurance-card").await,
        "ZJ3301-0042|Li Na|Hangzhou basic medical insurance"
    );
    assert_eq!(asked(&t), vec![Scope::RealName, Scope::InsuranceCard]);
    // A user without a card gets not-found, after consenting.
    let other = t.host.session("wang-fang", APP).unwrap();
    let page = other.launch("/insurance-card").await.unwrap();
    let v = field(&page, "insurance-card").unwrap();
    assert!(v.starts_with("not-found:"), "{v}");
}

#[tokio::test]
async fn coarse_and_precise_location_are_separate_scopes() {
    let (t, _) = probe(true).await;
    t.prompter
        .answer_consent(Scope::Location, ConsentAnswer::Allow);
    t.prompter
        .answer_consent(Scope::PreciseLocation, ConsentAnswer::Deny);
    let s = t.host.session("li-na", APP).unwrap();
    s.launch("/").await.unwrap();
    assert_eq!(
        call(&s, "location").await,
        "30.270000,120.160000,1000.000000"
    );
    let v = call(&s, "precise-location").await;
    assert!(v.starts_with("denied:"), "{v}");
    t.host
        .set_consent("li-na", APP, Scope::PreciseLocation, true)
        .unwrap();
    assert_eq!(
        call(&s, "precise-location").await,
        "30.274080,120.155070,8.000000"
    );
    // Data the user never set is not-found, not an error of the mini-app.
    let page = t
        .host
        .session("wang-fang", APP)
        .unwrap()
        .launch("/location")
        .await
        .unwrap();
    assert!(field(&page, "location").unwrap().starts_with("not-found:"));
}

#[tokio::test]
async fn a_login_code_works_once_for_five_minutes_with_the_app_secret() {
    let (t, secret) = probe(true).await;
    let s = t.host.session("li-na", APP).unwrap();
    s.launch("/").await.unwrap();
    let openid = call(&s, "openid").await;
    let unionid = call(&s, "unionid").await;

    let page = s.tap("login").await.unwrap();
    let code = field(&page, "login").unwrap();
    assert_eq!(
        field(&page, "login.expires-at-ms").unwrap(),
        (START_MS + 5 * 60 * 1000).to_string()
    );
    // A wrong secret is refused and leaves the code usable.
    let err = t
        .host
        .exchange_login_code(APP, "not-it", &code)
        .unwrap_err();
    assert!(matches!(err, Error::WrongAppSecret { .. }), "{err}");
    t.clock.advance(Duration::from_millis(5 * 60 * 1000 - 1));
    let got = t.host.exchange_login_code(APP, &secret, &code).unwrap();
    assert_eq!((got.openid, got.unionid), (openid, unionid));
    // Single use.
    let err = t.host.exchange_login_code(APP, &secret, &code).unwrap_err();
    assert!(matches!(err, Error::LoginCodeReused { .. }), "{err}");
    assert!(err.to_string().contains("already used"), "{err}");

    // Five minutes on the host's clock: expired.
    let page = s.tap("login").await.unwrap();
    let code = field(&page, "login").unwrap();
    t.clock.advance(Duration::from_secs(5 * 60));
    let err = t.host.exchange_login_code(APP, &secret, &code).unwrap_err();
    assert!(matches!(err, Error::LoginCodeExpired { .. }), "{err}");

    // A made-up code, or one issued to another mini-app, is unknown.
    let err = t
        .host
        .exchange_login_code(APP, &secret, "c0ffee")
        .unwrap_err();
    assert!(matches!(err, Error::UnknownLoginCode { .. }), "{err}");
    let other = t
        .host
        .install(other_app("test.plaza.clinic-two", None))
        .await
        .unwrap();
    let other_secret = other.app_secret.unwrap();
    let err = t
        .host
        .exchange_login_code("test.plaza.clinic-two", &other_secret, &code)
        .unwrap_err();
    assert!(matches!(err, Error::UnknownLoginCode { .. }), "{err}");

    // Resetting the secret: the old one stops working.
    let page = s.tap("login").await.unwrap();
    let code = field(&page, "login").unwrap();
    let new_secret = t.host.reset_app_secret(APP).unwrap();
    assert_ne!(new_secret, secret);
    assert!(matches!(
        t.host.exchange_login_code(APP, &secret, &code),
        Err(Error::WrongAppSecret { .. })
    ));
    assert!(t.host.exchange_login_code(APP, &new_secret, &code).is_ok());
    let audit = t.host.audit(&AuditQuery::default()).unwrap();
    assert!(audit.iter().any(|e| e.capability == "identity.login"));
    assert!(
        audit
            .iter()
            .any(|e| e.capability == "identity.login-exchange" && e.outcome == Outcome::Allowed)
    );
}

#[tokio::test]
async fn a_mini_app_cannot_hoard_login_codes() {
    let (t, _) = probe(true).await;
    let s = t.host.session("li-na", APP).unwrap();
    s.launch("/").await.unwrap();
    for _ in 0..plaza_host::capabilities::MAX_LIVE_LOGIN_CODES {
        assert_eq!(call(&s, "login").await.len(), 32);
    }
    let v = call(&s, "login").await;
    assert!(v.starts_with("limit-exceeded:"), "{v}");
    // Expired codes no longer count.
    t.clock.advance(Duration::from_secs(5 * 60));
    assert_eq!(call(&s, "login").await.len(), 32);
}

/// An update that rewrites a scope's purpose asks every user again for that
/// scope (with the new purpose), one that adds an origin asks again for every
/// scope, and one that changes neither keeps the users' answers; each reset
/// is in the audit log.
#[tokio::test]
async fn an_update_that_changes_a_purpose_or_adds_an_origin_asks_again() {
    let (t, _) = probe(true).await;
    let key = register_publisher(&t, &IDENTITY_PROBE, true);
    let v1 = IDENTITY_PROBE.manifest_text();
    let update = |version: &str, edit: &dyn Fn(String) -> String| {
        signed_package(
            &IDENTITY_PROBE,
            &edit(v1.replace("version = \"1.0.0\"", &format!("version = \"{version}\""))),
            &key,
        )
    };
    t.prompter
        .answer_consent(Scope::Phone, ConsentAnswer::Allow);
    t.prompter
        .answer_consent(Scope::Profile, ConsentAnswer::Allow);
    let s = t.host.session("li-na", APP).unwrap();
    s.launch("/").await.unwrap();
    assert_eq!(call(&s, "phone").await, "13800138000");
    assert_eq!(call(&s, "profile").await, "Na|https://img.example/na.png");
    assert_eq!(asked(&t), vec![Scope::Phone, Scope::Profile]);

    // Installs an update, reopens the session on it (a live instance keeps
    // the version it started with) and uses the phone and the profile.
    async fn update_and_use(t: &TestHost, s: &Session, package: plaza_host::package::Package) {
        t.host.install(package).await.unwrap();
        s.close().await;
        s.launch("/").await.unwrap();
        assert_eq!(call(s, "phone").await, "13800138000");
        assert_eq!(call(s, "profile").await, "Na|https://img.example/na.png");
    }

    // A new version with the same purposes and origins: nothing is asked.
    update_and_use(&t, &s, update("1.1.0", &|m| m)).await;
    assert_eq!(asked(&t).len(), 2);

    // The phone's purpose changes: the phone is asked again, with the new
    // purpose; the profile keeps its answer.
    let insurance = |m: String| m.replace("To call you about your visit", "To sell you insurance");
    update_and_use(&t, &s, update("1.2.0", &insurance)).await;
    assert_eq!(asked(&t), vec![Scope::Phone, Scope::Profile, Scope::Phone]);
    assert_eq!(
        t.prompter.consent_questions()[2].purpose,
        "To sell you insurance"
    );

    // The update adds an origin the data may go to: every scope is asked
    // again.
    let origin = |m: String| {
        format!(
            "{}\n[capabilities.network]\norigins = [\"https://api.clinic.example.cn\"]\n",
            insurance(m)
        )
    };
    update_and_use(&t, &s, update("1.3.0", &origin)).await;
    assert_eq!(asked(&t).len(), 5);

    let resets: Vec<(String, String)> = t
        .host
        .audit(&AuditQuery {
            app: Some(APP.into()),
            ..AuditQuery::default()
        })
        .unwrap()
        .into_iter()
        .filter(|e| e.capability.starts_with("consent.reset"))
        .map(|e| (e.capability, e.detail))
        .collect();
    assert_eq!(resets.len(), 2, "{resets:?}");
    assert_eq!(resets[0].0, "consent.reset.phone");
    assert!(resets[0].1.contains("To sell you insurance"), "{resets:?}");
    assert!(resets[0].1.contains("1 decisions forgotten"), "{resets:?}");
    assert_eq!(resets[1].0, "consent.reset");
    assert!(
        resets[1]
            .1
            .contains("adds the origins https://api.clinic.example.cn"),
        "{resets:?}"
    );
}
