//! The trust flow from the shell, outside developer mode: keygen, a refused
//! unsigned package, sign, a refused unknown publisher, publisher add,
//! verify, install with its app secret; then users' data, grants set, list
//! and revoke, the audit per mini-app, and the login-code exchange.

mod common;

use common::plaza_signed_only as plaza;
use plaza_test_programs::{Fixture, IDENTITY_PROBE};
use std::path::{Path, PathBuf};
use std::process::Output;

const APP: &str = "test.plaza.identity-probe";

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn fails(o: &Output) -> String {
    assert!(
        !o.status.success(),
        "should fail: {}",
        String::from_utf8_lossy(&o.stdout)
    );
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn pack(tmp: &Path, store: &Path, f: &Fixture) -> PathBuf {
    let out = tmp.join(format!("{}.plaza", f.name));
    let dir = Path::new(f.manifest).parent().unwrap();
    ok(&plaza(
        store,
        &[
            "pack",
            dir.to_str().unwrap(),
            "--component",
            f.component,
            "-o",
            out.to_str().unwrap(),
        ],
    ));
    out
}

/// Runs the probe for `user` with one action; returns the page text.
fn run(store: &Path, tmp: &Path, user: &str, action: &str) -> String {
    let script = tmp.join("script.txt");
    std::fs::write(&script, format!("{action}\n")).unwrap();
    ok(&plaza(
        store,
        &[
            "run",
            APP,
            "--user",
            user,
            "--script",
            script.to_str().unwrap(),
        ],
    ))
}

fn line_value(text: &str, label: &str) -> String {
    text.lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix(&format!("{label}: ")))
        .unwrap_or_else(|| panic!("no `{label}:` in\n{text}"))
        .to_string()
}

#[test]
fn keygen_sign_register_verify_install_grants_audit_and_login() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let store = t.join("plaza.db");
    let key = t.join("clinic.key");
    let key_s = key.to_str().unwrap();
    let pub_s = format!("{key_s}.pub");

    let out = ok(&plaza(&store, &["keygen", "-o", key_s]));
    assert!(out.contains("key id: "), "{out}");
    let key_id = line_value(&out, "key id");
    assert_eq!(key_id.len(), 16);
    // A second keygen does not overwrite the key.
    let err = fails(&plaza(&store, &["keygen", "-o", key_s]));
    assert!(err.contains("--force"), "{err}");

    let pkg = pack(t, &store, &IDENTITY_PROBE);
    let pkg_s = pkg.to_str().unwrap();
    let err = fails(&plaza(&store, &["install", pkg_s]));
    assert!(err.contains("is not signed"), "{err}");

    let out = ok(&plaza(&store, &["sign", pkg_s, "--key", key_s]));
    assert!(
        out.contains(&format!(
            "signed {APP} 1.0.0 as test.plaza.clinic with key id {key_id}"
        )),
        "{out}"
    );
    let o = plaza(&store, &["inspect", "--json", pkg_s]);
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["signed"], true);

    let err = fails(&plaza(&store, &["install", pkg_s]));
    assert!(
        err.contains("is not in this host's registry") && err.contains("plaza publisher add"),
        "{err}"
    );
    let out = ok(&plaza(&store, &["verify", pkg_s, "--public-key", &pub_s]));
    assert!(out.starts_with("signature OK"), "{out}");
    // Checked against another key: a clear failure naming both key ids.
    let other = t.join("other.key");
    ok(&plaza(&store, &["keygen", "-o", other.to_str().unwrap()]));
    let o = plaza(
        &store,
        &[
            "verify",
            pkg_s,
            "--public-key",
            &format!("{}.pub", other.display()),
        ],
    );
    assert!(!o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains(&format!("signed with key id {key_id}")),
        "{out}"
    );

    // The wrong category is refused by `publisher add`'s parser, then the
    // right one is registered.
    let err = fails(&plaza(
        &store,
        &[
            "publisher",
            "add",
            "test.plaza.clinic",
            "--name",
            "Clinic",
            "--category",
            "casino",
            "--key",
            &pub_s,
        ],
    ));
    assert!(err.contains("unknown category `casino`"), "{err}");
    let out = ok(&plaza(
        &store,
        &[
            "publisher",
            "add",
            "test.plaza.clinic",
            "--name",
            "Plaza Test Clinic",
            "--category",
            "medical",
            "--key",
            &pub_s,
            "--verified",
        ],
    ));
    assert!(out.contains(&format!("key id {key_id}")), "{out}");
    let o = plaza(&store, &["publisher", "list", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json[0]["id"], "test.plaza.clinic");
    assert_eq!(json[0]["verified"], true);
    let out = ok(&plaza(&store, &["verify", pkg_s]));
    assert!(
        out.contains("registry: Plaza Test Clinic (medical, verified)"),
        "{out}"
    );

    let o = plaza(&store, &["install", "--json", pkg_s]);
    let json: serde_json::Value = serde_json::from_slice(&ok(&o).into_bytes()).unwrap();
    assert_eq!(json["signed"], true);
    let secret = json["app_secret"].as_str().unwrap().to_string();
    assert_eq!(secret.len(), 64);

    // The user's data, and a consent decision set in the host's settings.
    ok(&plaza(
        &store,
        &[
            "user",
            "set",
            "--user",
            "ann",
            "--phone",
            "13800138000",
            "--location",
            "30.27408,120.15507,8",
        ],
    ));
    let page = run(&store, t, "ann", "tap phone");
    assert!(
        line_value(&page, "phone").starts_with("denied: the user closed"),
        "the CLI dismisses consent questions: {page}"
    );
    ok(&plaza(
        &store,
        &["grants", "set", "--user", "ann", APP, "phone", "allow"],
    ));
    let page = run(&store, t, "ann", "tap phone");
    assert_eq!(line_value(&page, "phone"), "13800138000");
    let out = ok(&plaza(&store, &["grants", "list", "--user", "ann"]));
    assert!(out.contains(&format!("ann in {APP}:")), "{out}");
    assert!(out.contains("phone") && out.contains("allowed"), "{out}");
    let out = ok(&plaza(
        &store,
        &["grants", "revoke", "--user", "ann", APP, "phone"],
    ));
    assert!(out.contains("next use asks ann again"), "{out}");
    let o = plaza(&store, &["grants", "list", "--user", "ann", "--json"]);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap(),
        serde_json::json!([])
    );
    let err = fails(&plaza(
        &store,
        &["grants", "revoke", "--user", "ann", APP, "phone"],
    ));
    assert!(err.contains("no decision"), "{err}");

    // The audit, per mini-app: what it read, the prompts, the settings.
    let out = ok(&plaza(&store, &["audit", "--user", "ann"]));
    assert!(out.contains(&format!("ann in {APP}:")), "{out}");
    for what in [
        "identity.phone",
        "consent.prompt.phone",
        "consent.settings.phone",
        "consent.revoked.phone",
    ] {
        assert!(out.contains(what), "{what}: {out}");
    }

    // Login: the mini-app's code, exchanged once by its backend.
    let page = run(&store, t, "ann", "tap login");
    let code = line_value(&page, "login");
    let o = plaza(
        &store,
        &[
            "login", "exchange", APP, &code, "--secret", &secret, "--json",
        ],
    );
    let got: serde_json::Value = serde_json::from_slice(&ok(&o).into_bytes()).unwrap();
    let openid = line_value(&run(&store, t, "ann", "tap openid"), "openid");
    assert_eq!(got["openid"], openid.as_str());
    let err = fails(&plaza(
        &store,
        &["login", "exchange", APP, &code, "--secret", &secret],
    ));
    assert!(err.contains("already used"), "{err}");
    let new_secret = ok(&plaza(&store, &["secret", "reset", APP]))
        .trim()
        .to_string();
    assert_ne!(new_secret, secret);
    let code = line_value(&run(&store, t, "ann", "tap login"), "login");
    let err = fails(&plaza(
        &store,
        &["login", "exchange", APP, &code, "--secret", &secret],
    ));
    assert!(
        err.contains("app secret for test.plaza.identity-probe is wrong"),
        "{err}"
    );
    ok(&plaza(
        &store,
        &["login", "exchange", APP, &code, "--secret", &new_secret],
    ));

    // Removing the publisher.
    ok(&plaza(
        &store,
        &["publisher", "remove", "test.plaza.clinic"],
    ));
    let err = fails(&plaza(
        &store,
        &["publisher", "remove", "test.plaza.clinic"],
    ));
    assert!(err.contains("not in the registry"), "{err}");
}
