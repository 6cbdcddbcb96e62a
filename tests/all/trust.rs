//! Trust at install: unsigned, badly signed, unknown-publisher and
//! wrong-category packages are refused, each with its own error; updates need
//! the same publisher and a higher version; the registry decides the
//! publisher's name and verification that sessions see.

use crate::support::*;
use plaza_host::Error;
use plaza_host::manifest::Category;
use plaza_host::manifest::Scope;
use plaza_host::package::PublisherKey;
use plaza_host::prompt::ConsentAnswer;
use plaza_host::store::PublisherRecord;
use plaza_test_programs::IDENTITY_PROBE;

const APP: &str = "test.plaza.identity-probe";
const PUBLISHER: &str = "test.plaza.clinic";

/// A host outside developer mode, as users run it.
fn strict() -> TestHost {
    host_with(|c| c.developer_mode(false))
}

fn manifest() -> String {
    IDENTITY_PROBE.manifest_text()
}

fn with_version(v: &str) -> String {
    manifest_replacing(
        &IDENTITY_PROBE,
        "version = \"1.0.0\"",
        &format!("version = \"{v}\""),
    )
}

async fn nothing_installed(t: &TestHost) {
    assert!(t.host.installed().unwrap().is_empty());
    assert!(matches!(
        t.host.session("alice", APP),
        Err(Error::NotInstalled { .. })
    ));
}

#[tokio::test]
async fn an_unsigned_package_is_refused_outside_developer_mode() {
    let t = strict();
    register_publisher(&t, &IDENTITY_PROBE, true);
    let err = t.host.install(package(&IDENTITY_PROBE)).await.unwrap_err();
    assert!(matches!(err, Error::UnsignedPackage { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("is not signed") && msg.contains("plaza sign"),
        "{msg}"
    );
    nothing_installed(&t).await;
}

#[tokio::test]
async fn a_signature_by_another_key_or_over_changed_content_is_refused() {
    let t = strict();
    let registered = register_publisher(&t, &IDENTITY_PROBE, true);
    let stranger = PublisherKey::generate().unwrap();
    let err = t
        .host
        .install(signed_package(&IDENTITY_PROBE, &manifest(), &stranger))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::BadSignature { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("expected key id {}", registered.key_id()))
            && msg.contains(&stranger.key_id()),
        "{msg}"
    );

    // Signed with the right key, then the manifest changed: refused.
    let mut tampered = signed_package(&IDENTITY_PROBE, &manifest(), &registered);
    let grabby = manifest().replace("category = \"medical\"", "category = \"medical\"\n");
    tampered.manifest = plaza_host::manifest::Manifest::parse("m", &grabby).unwrap();
    let err = t.host.install(tampered).await.unwrap_err();
    assert!(matches!(err, Error::BadSignature { .. }), "{err}");
    // ... or the component changed.
    let mut tampered = signed_package(&IDENTITY_PROBE, &manifest(), &registered);
    tampered.component.extend_from_slice(&[0, 0]);
    let err = t.host.install(tampered).await.unwrap_err();
    assert!(matches!(err, Error::BadSignature { .. }), "{err}");

    // A signature made for another publisher's package does not carry over.
    let other = manifest().replace(PUBLISHER, "test.plaza.other");
    let theirs = signed_package(&IDENTITY_PROBE, &other, &registered);
    let mut borrowed = package(&IDENTITY_PROBE);
    borrowed.signature = theirs.signature;
    let err = t.host.install(borrowed).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("signed as publisher test.plaza.other"),
        "{err}"
    );
    nothing_installed(&t).await;
}

#[tokio::test]
async fn a_package_of_an_unknown_publisher_is_refused() {
    let t = strict();
    let key = PublisherKey::generate().unwrap();
    let err = t
        .host
        .install(signed_package(&IDENTITY_PROBE, &manifest(), &key))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UnknownPublisher { .. }), "{err}");
    assert!(
        err.to_string().contains(
            "test.plaza.clinic of test.plaza.identity-probe is not in this host's registry"
        ) && err.to_string().contains("plaza publisher add"),
        "{err}"
    );
    nothing_installed(&t).await;
}

#[tokio::test]
async fn a_manifest_claiming_another_category_than_the_registry_is_refused() {
    let t = strict();
    let key = PublisherKey::generate().unwrap();
    // The registry knows the publisher as a shop; its manifest says medical.
    t.host
        .add_publisher(PublisherRecord {
            id: PUBLISHER.into(),
            name: "Clinic".into(),
            category: Category::Commerce,
            verified: true,
            public_key: key.public_key_hex(),
            added_at_ms: 0,
        })
        .unwrap();
    let err = t
        .host
        .install(signed_package(&IDENTITY_PROBE, &manifest(), &key))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::CategoryMismatch { .. }), "{err}");
    assert!(
        err.to_string().contains("claims the category `medical`")
            && err.to_string().contains("as `commerce`"),
        "{err}"
    );
    nothing_installed(&t).await;
}

#[tokio::test]
async fn a_signed_package_of_a_registered_publisher_installs_and_runs_as_verified() {
    let t = strict();
    let key = register_publisher(&t, &IDENTITY_PROBE, true);
    let report = t
        .host
        .install(signed_package(&IDENTITY_PROBE, &manifest(), &key))
        .await
        .unwrap();
    assert!(report.signed);
    assert!(report.app_secret.is_some());
    // The consent question names the publisher as the registry does, verified.
    t.prompter
        .answer_consent(Scope::RealName, ConsentAnswer::Deny);
    let s = t.host.session("alice", APP).unwrap();
    s.launch("/real-name").await.unwrap();
    let q = &t.prompter.consent_questions()[0];
    assert!(q.publisher_verified);
    assert_eq!(q.publisher_name, "Plaza Test Clinic (registered)");
    assert_eq!(q.purpose, "To register you as a patient");
    // The list of installed mini-apps shows the same name and verification.
    let listed = &t.host.installed().unwrap()[0];
    assert_eq!(listed.publisher_name, "Plaza Test Clinic (registered)");
    assert!(listed.publisher_verified && listed.signed);

    // Removing the publisher from the registry: new sessions are unverified,
    // so real-name is denied without asking; new packages do not install.
    assert!(t.host.remove_publisher(PUBLISHER).unwrap());
    t.host.revoke_consent("alice", APP, "real-name").unwrap();
    s.close().await;
    let page = s.launch("/real-name").await.unwrap();
    let v = field(&page, "real-name").unwrap();
    assert!(
        v.starts_with("denied:") && v.contains("not verified"),
        "{v}"
    );
    assert_eq!(t.prompter.consent_questions().len(), 1);
    let err = t
        .host
        .install(signed_package(
            &IDENTITY_PROBE,
            &with_version("1.1.0"),
            &key,
        ))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UnknownPublisher { .. }), "{err}");
}

#[tokio::test]
async fn updates_need_the_same_publisher_and_a_higher_version() {
    let t = strict();
    let key = register_publisher(&t, &IDENTITY_PROBE, true);
    t.host
        .install(signed_package(&IDENTITY_PROBE, &manifest(), &key))
        .await
        .unwrap();
    // The identical package again: allowed, nothing changes.
    let again = t
        .host
        .install(signed_package(&IDENTITY_PROBE, &manifest(), &key))
        .await
        .unwrap();
    assert_eq!(again.replaced.as_deref(), Some("1.0.0"));
    assert_eq!(again.app_secret, None, "the secret is issued once");

    // Same version, other content; a lower version: refused.
    let changed = manifest().replace(
        "description = \"Test fixture",
        "description = \"Changed test fixture",
    );
    for (text, offered) in [(changed, "1.0.0"), (with_version("0.9.0"), "0.9.0")] {
        let err = t
            .host
            .install(signed_package(&IDENTITY_PROBE, &text, &key))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::UpdateNotNewer { .. }), "{err}");
        assert!(
            err.to_string().contains(&format!(
                "test.plaza.identity-probe 1.0.0 is installed; this package is version {offered}"
            )),
            "{err}"
        );
    }
    // Build metadata does not make a version higher.
    let err = t
        .host
        .install(signed_package(
            &IDENTITY_PROBE,
            &with_version("1.0.0+rebuild"),
            &key,
        ))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UpdateNotNewer { .. }), "{err}");

    // Another publisher may not take the mini-app over, even with a higher
    // version and a valid signature of its own.
    let other_key = PublisherKey::generate().unwrap();
    t.host
        .add_publisher(PublisherRecord {
            id: "test.plaza.rival".into(),
            name: "Rival".into(),
            category: Category::Medical,
            verified: true,
            public_key: other_key.public_key_hex(),
            added_at_ms: 0,
        })
        .unwrap();
    let rival = with_version("2.0.0").replace(PUBLISHER, "test.plaza.rival");
    let err = t
        .host
        .install(signed_package(&IDENTITY_PROBE, &rival, &other_key))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::UpdatePublisherMismatch { .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains(
            "installed from publisher test.plaza.clinic; this package is test.plaza.rival"
        ),
        "{err}"
    );

    // A higher version of the same publisher updates.
    let report = t
        .host
        .install(signed_package(
            &IDENTITY_PROBE,
            &with_version("1.1.0"),
            &key,
        ))
        .await
        .unwrap();
    assert_eq!(report.version, "1.1.0");
    assert_eq!(report.replaced.as_deref(), Some("1.0.0"));
    assert_eq!(t.host.installed().unwrap()[0].version, "1.1.0");
}

#[tokio::test]
async fn developer_mode_takes_unsigned_packages_but_runs_them_unverified() {
    // The default test host is in developer mode.
    let t = host();
    // Even with its publisher registered as verified, an unsigned package
    // cannot borrow the publisher's trust.
    register_publisher(&t, &IDENTITY_PROBE, true);
    t.prompter
        .answer_consent(Scope::RealName, ConsentAnswer::Allow);
    let report = install(&t, &IDENTITY_PROBE).await;
    assert!(!report.signed);
    let s = t.host.session("alice", APP).unwrap();
    let page = s.launch("/real-name").await.unwrap();
    let v = field(&page, "real-name").unwrap();
    assert!(
        v.starts_with("denied:") && v.contains("not verified"),
        "{v}"
    );
    assert!(t.prompter.consent_questions().is_empty());
    // Listed with the manifest's name, unverified.
    let listed = &t.host.installed().unwrap()[0];
    assert!(!listed.publisher_verified && !listed.signed);
    assert_ne!(listed.publisher_name, "Plaza Test Clinic (registered)");

    // Nor replace a signed installation with an unsigned one.
    let t = host();
    let key = register_publisher(&t, &IDENTITY_PROBE, true);
    t.host
        .install(signed_package(&IDENTITY_PROBE, &manifest(), &key))
        .await
        .unwrap();
    let err = t
        .host
        .install(package_with_manifest(
            &IDENTITY_PROBE,
            &with_version("1.2.0"),
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::UpdatePublisherMismatch { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("unsigned"), "{err}");
}

#[tokio::test]
async fn the_registry_refuses_malformed_entries() {
    let t = strict();
    let good = PublisherRecord {
        id: "cn.hz.health".into(),
        name: "Health".into(),
        category: Category::Medical,
        verified: false,
        public_key: PublisherKey::generate().unwrap().public_key_hex(),
        added_at_ms: 0,
    };
    for bad in [
        PublisherRecord {
            id: "Health".into(),
            ..good.clone()
        },
        PublisherRecord {
            name: " ".into(),
            ..good.clone()
        },
        PublisherRecord {
            public_key: "abcd".into(),
            ..good.clone()
        },
    ] {
        let err = t.host.add_publisher(bad).unwrap_err();
        assert!(matches!(err, Error::Publisher { .. }), "{err}");
    }
    let added = t.host.add_publisher(good.clone()).unwrap();
    assert_eq!(added.added_at_ms, START_MS);
    assert_eq!(t.host.publishers().unwrap(), vec![added]);
}
