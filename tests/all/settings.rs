//! Settings per mini-app, through a real guest (the settings-probe fixture):
//! declared and undeclared reads, defaults and missing values, secrets that
//! appear nowhere but in the session that reads them, a change seen by the
//! next session only, two mini-apps kept apart.

use crate::support::*;
use plaza_host::settings::{SettingSource, SettingsKey};
use plaza_host::store::{AuditQuery, Outcome};
use plaza_host::{Error, Page};
use plaza_test_programs::SETTINGS_PROBE;
use std::sync::{Arc, Mutex};

const APP: &str = "test.plaza.settings-probe";
const SECRET: &str = "sk-live-7f3a9c21-do-not-leak";

/// A host with a settings key file beside its store, the probe installed.
async fn probe_host() -> TestHost {
    let t = host();
    let key = SettingsKey::file(SettingsKey::default_file(&t.store_file()).unwrap());
    let t = reopen_with_key(t, Some(key));
    install(&t, &SETTINGS_PROBE).await;
    t
}

/// The same store, opened again with `key`.
fn reopen_with_key(t: TestHost, key: Option<SettingsKey>) -> TestHost {
    t.reopen(|c| c.settings_key(key))
}

/// The page of a launch reading `names`.
async fn read(t: &TestHost, user: &str, app: &str, names: &[&str]) -> Page {
    let query: Vec<String> = names.iter().map(|n| format!("name={n}")).collect();
    let s = t.host.session(user, app).unwrap();
    let page = s.launch(&format!("/?{}", query.join("&"))).await.unwrap();
    s.close().await;
    page
}

#[tokio::test]
async fn declared_settings_are_read_and_undeclared_ones_denied() {
    let t = probe_host().await;
    t.host
        .set_setting(APP, "endpoint", "https://api.example.gov.cn", false)
        .unwrap();
    t.host.set_setting(APP, "api-key", SECRET, false).unwrap();
    let page = read(
        &t,
        "alice",
        APP,
        &["greeting", "endpoint", "api-key", "colour"],
    )
    .await;
    // The default, the value set, the secret (declared secret: sealed).
    assert_eq!(field(&page, "greeting").as_deref(), Some("hello"));
    assert_eq!(
        field(&page, "endpoint").as_deref(),
        Some("https://api.example.gov.cn")
    );
    assert_eq!(field(&page, "api-key").as_deref(), Some(SECRET));
    let denied = field(&page, "colour").unwrap();
    assert!(
        denied.starts_with("denied:") && denied.contains("[[settings]]"),
        "{denied}"
    );
    // Unset, with no default: not-found, and the mini-app goes on.
    assert!(t.host.unset_setting(APP, "endpoint").unwrap());
    let page = read(&t, "alice", APP, &["endpoint"]).await;
    let missing = field(&page, "endpoint").unwrap();
    assert!(missing.starts_with("not-found:"), "{missing}");
    // Audited once per session when allowed, the denial too; by name only.
    let audit = t.host.audit(&AuditQuery::default()).unwrap();
    let config: Vec<_> = audit.iter().filter(|e| e.capability == "config").collect();
    assert_eq!(
        config
            .iter()
            .filter(|e| e.outcome == Outcome::Allowed)
            .count(),
        2,
        "one allowed entry per session: {config:?}"
    );
    assert!(
        config
            .iter()
            .any(|e| e.outcome == Outcome::Denied && e.detail.contains("`colour`")),
        "{config:?}"
    );
    // The operator's own view: the secret masked, the missing one named.
    let shown = t.host.settings(APP).unwrap();
    let api_key = shown.iter().find(|s| s.name == "api-key").unwrap();
    assert!(api_key.secret && api_key.value.is_none());
    assert_eq!(api_key.source, SettingSource::Set);
    let app = &t.host.installed().unwrap()[0];
    assert_eq!(app.missing_settings, vec!["endpoint".to_string()]);
}

#[tokio::test]
async fn a_required_setting_without_a_default_installs_and_reads_not_found_until_set() {
    let t = probe_host().await;
    assert_eq!(
        t.host.installed().unwrap()[0].missing_settings,
        vec!["endpoint".to_string(), "api-key".to_string()]
    );
    let page = read(&t, "alice", APP, &["api-key"]).await;
    assert!(field(&page, "api-key").unwrap().starts_with("not-found:"));
    t.host.set_setting(APP, "api-key", SECRET, true).unwrap();
    t.host
        .set_setting(APP, "endpoint", "https://a.example", false)
        .unwrap();
    assert!(t.host.installed().unwrap()[0].missing_settings.is_empty());
    let page = read(&t, "alice", APP, &["api-key"]).await;
    assert_eq!(field(&page, "api-key").as_deref(), Some(SECRET));
}

#[tokio::test]
async fn a_changed_setting_is_what_the_next_session_reads() {
    let t = probe_host().await;
    t.host
        .set_setting(APP, "endpoint", "https://one.example", false)
        .unwrap();
    let s = t.host.session("alice", APP).unwrap();
    let page = s.launch("/?name=endpoint").await.unwrap();
    assert_eq!(
        field(&page, "endpoint").as_deref(),
        Some("https://one.example")
    );
    t.host
        .set_setting(APP, "endpoint", "https://two.example", false)
        .unwrap();
    // The running session keeps what it started with...
    let page = s.tap("again").await.unwrap();
    assert_eq!(
        field(&page, "endpoint").as_deref(),
        Some("https://one.example")
    );
    // ...the next one reads the change.
    s.close().await;
    let page = s.launch("/?name=endpoint").await.unwrap();
    assert_eq!(
        field(&page, "endpoint").as_deref(),
        Some("https://two.example")
    );
}

#[tokio::test]
async fn two_mini_apps_settings_are_kept_apart() {
    let t = probe_host().await;
    const OTHER: &str = "test.plaza.settings-probe-two";
    let manifest = manifest_replacing(&SETTINGS_PROBE, APP, OTHER);
    t.host
        .install(package_with_manifest(&SETTINGS_PROBE, &manifest))
        .await
        .unwrap();
    t.host
        .set_setting(APP, "endpoint", "https://one.example", false)
        .unwrap();
    t.host.set_setting(APP, "api-key", SECRET, true).unwrap();
    t.host
        .set_setting(OTHER, "endpoint", "https://two.example", false)
        .unwrap();
    let one = read(&t, "alice", APP, &["endpoint", "api-key"]).await;
    let two = read(&t, "alice", OTHER, &["endpoint", "api-key"]).await;
    assert_eq!(
        field(&one, "endpoint").as_deref(),
        Some("https://one.example")
    );
    assert_eq!(
        field(&two, "endpoint").as_deref(),
        Some("https://two.example")
    );
    assert_eq!(field(&one, "api-key").as_deref(), Some(SECRET));
    let other_key = field(&two, "api-key").unwrap();
    assert!(other_key.starts_with("not-found:"), "{other_key}");
    assert_eq!(
        t.host.installed().unwrap()[1].missing_settings,
        vec!["api-key".to_string()]
    );
}

/// The bytes of the store's files: the database and its write-ahead log.
fn store_bytes(t: &TestHost) -> Vec<u8> {
    let store = t.store_file();
    let mut bytes = std::fs::read(&store).unwrap();
    if let Ok(wal) = std::fs::read(store.with_extension("db-wal")) {
        bytes.extend(wal);
    }
    bytes
}

/// Captures what the host logs (`tracing`) on this thread.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_secret_is_in_no_log_error_audit_export_or_store_byte() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // With a single scoped subscriber alive, tracing asks only the
    // registering thread's own subscriber about a new call site: one first
    // reached by another test's thread (the guest log's) would be cached as
    // "nobody listens" for every thread. A second live dispatcher makes it
    // ask every registered subscriber, this one included.
    let _second = tracing::Dispatch::new(tracing_subscriber::registry());
    let _guard = tracing::subscriber::set_default(subscriber);
    // Call sites registered before this subscriber: ask them again.
    tracing::callsite::rebuild_interest_cache();

    let t = probe_host().await;
    t.host.set_setting(APP, "api-key", SECRET, true).unwrap();
    let page = read(&t, "alice", APP, &["api-key", "greeting", "nope"]).await;
    assert_eq!(field(&page, "api-key").as_deref(), Some(SECRET));

    // Errors: a refused value is never quoted.
    let too_long = format!("{SECRET}{}", "x".repeat(5000));
    let e = t
        .host
        .set_setting(APP, "api-key", &too_long, true)
        .unwrap_err();
    assert!(matches!(e, Error::InvalidSetting { .. }), "{e}");
    let e = t
        .host
        .set_setting(APP, "no-such", SECRET, true)
        .unwrap_err();
    assert!(matches!(e, Error::UnknownSetting { .. }), "{e}");
    let mut errors = vec![e.to_string()];
    errors.push(
        t.host
            .set_setting(APP, "api-key", &too_long, true)
            .unwrap_err()
            .to_string(),
    );
    // Opened with another key, the secret is unavailable, not revealed.
    let t = reopen_with_key(t, Some(SettingsKey::from_hex(&"5a".repeat(32)).unwrap()));
    let page = read(&t, "alice", APP, &["api-key"]).await;
    let unreadable = field(&page, "api-key").unwrap();
    assert!(unreadable.starts_with("unavailable:"), "{unreadable}");
    errors.push(unreadable);
    // Without a key, a secret cannot be set: a typed error.
    let t = reopen_with_key(t, None);
    let e = t
        .host
        .set_setting(APP, "api-key", SECRET, true)
        .unwrap_err();
    assert!(matches!(e, Error::SettingsKey { .. }), "{e}");
    errors.push(e.to_string());
    for e in &errors {
        assert!(!e.contains("sk-live"), "an error quotes the secret: {e}");
    }

    // The audit log, the privacy export, the operator's listing.
    let audit = t.host.audit(&AuditQuery::default()).unwrap();
    assert!(audit.iter().any(|e| e.capability == "config.set"));
    let audit_text = serde_json::to_string(&audit).unwrap();
    assert!(!audit_text.contains("sk-live"), "{audit_text}");
    let export = serde_json::to_string(&t.host.privacy_export("alice", None).unwrap()).unwrap();
    assert!(!export.contains("sk-live"));
    let listed = serde_json::to_string(&t.host.settings(APP).unwrap()).unwrap();
    assert!(!listed.contains("sk-live"), "{listed}");

    // The host's log saw the sessions, never the value.
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        log.contains("read 3 settings"),
        "the guest's log line: {log}"
    );
    assert!(!log.contains("sk-live"), "{log}");

    // The store's files: the database and its write-ahead log.
    let bytes = store_bytes(&t);
    assert!(bytes.len() > 4096);
    assert!(
        !bytes.windows(7).any(|w| w == b"sk-live"),
        "the secret is in the store's plain bytes"
    );
    // The endpoint (no secret) is there in plain: the check looks.
    t.host
        .set_setting(APP, "endpoint", "https://plain-marker.example", false)
        .unwrap();
    let bytes = store_bytes(&t);
    assert!(bytes.windows(12).any(|w| w == b"plain-marker"));
}

#[tokio::test]
async fn a_component_reading_settings_needs_settings_in_its_manifest() {
    let t = host();
    let manifest = SETTINGS_PROBE
        .manifest_text()
        .split("[[settings]]")
        .next()
        .unwrap()
        .to_string();
    let e = t
        .host
        .install(package_with_manifest(&SETTINGS_PROBE, &manifest))
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::UndeclaredImport { .. }) && e.to_string().contains("[[settings]]"),
        "{e}"
    );
}
