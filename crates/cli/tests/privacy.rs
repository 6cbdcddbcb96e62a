//! `plaza privacy report|export|erase`: the user's rights from the shell,
//! against a user who paid a mini-app, follows it, wrote to it and answered
//! one of its consent questions.

mod common;

use common::{err, out, plaza};
use plaza_test_programs::CASHIER;
use std::path::Path;
use std::process::Output;

const APP: &str = "test.plaza.cashier";

fn json(o: &Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", err(o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", out(o)))
}

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "{}\n{}", out(o), err(o));
    out(o)
}

#[test]
fn privacy_report_export_and_erase_from_the_shell() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("plaza.db");
    let pkg = tmp.path().join("cashier.plaza");
    let dir = Path::new(CASHIER.manifest).parent().unwrap();
    let (pkg_arg, component) = (pkg.to_str().unwrap(), CASHIER.component);
    ok(&plaza(
        &store,
        &[
            "pack",
            dir.to_str().unwrap(),
            "--component",
            component,
            "-o",
            pkg_arg,
        ],
    ));
    ok(&plaza(
        &store,
        &["wallet", "topup", "--user", "ann", "--amount", "100"],
    ));
    let script = tmp.path().join("pay.txt");
    std::fs::write(&script, "tap pay\nquit\n").unwrap();
    let script_arg = script.to_str().unwrap();
    let run = ok(&plaza(
        &store,
        &[
            "run",
            pkg_arg,
            "--user",
            "ann",
            "--path",
            "/pay?order=c-1&amount=1000",
            "--pay",
            "confirm",
            "--script",
            script_arg,
        ],
    ));
    assert!(run.contains("outcome: paid"), "{run}");
    ok(&plaza(&store, &["follow", "--user", "ann", APP]));
    ok(&plaza(
        &store,
        &["write", "--user", "ann", APP, "where is my receipt?"],
    ));
    ok(&plaza(
        &store,
        &["grants", "set", "--user", "ann", APP, "phone", "allow"],
    ));

    // The report: per mini-app, per capability and scope.
    let text = ok(&plaza(&store, &["privacy", "report", "--user", "ann"]));
    assert!(text.contains(&format!("{APP} (Cashier):")), "{text}");
    assert!(text.contains("payment"), "{text}");
    let report = json(&plaza(
        &store,
        &["privacy", "report", "--user", "ann", "--app", APP, "--json"],
    ));
    let lines = report["apps"][0]["lines"].as_array().unwrap();
    assert!(
        lines
            .iter()
            .any(|l| l["capability"] == "consent" && l["scope"] == "settings.phone"),
        "{lines:?}"
    );

    // The export, to a file.
    let file = tmp.path().join("ann.json");
    let o = plaza(
        &store,
        &[
            "privacy",
            "export",
            "--user",
            "ann",
            "--out",
            file.to_str().unwrap(),
        ],
    );
    ok(&o);
    assert!(
        err(&o).contains("exported what the host holds about ann"),
        "{}",
        err(&o)
    );
    let export: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let app = &export["apps"][0];
    assert_eq!(app["app_id"], APP);
    assert_eq!(app["payments"].as_array().unwrap().len(), 1);
    assert_eq!(app["payments"][0]["receipt"]["order_id"], "c-1");
    assert_eq!(app["consents"][0]["scope"], "phone");
    assert!(app["following"].is_object());
    assert_eq!(app["conversation"][0]["text"], "where is my receipt?");
    assert_eq!(export["wallet"]["balance"], 10_000 - 1_000);
    let openid = app["openid"].clone();

    // Erase the cashier's data: the money stays.
    let erased = ok(&plaza(
        &store,
        &["privacy", "erase", "--user", "ann", "--app", APP],
    ));
    assert!(
        erased.contains(&format!("erased what {APP} held about ann"))
            && erased.contains("1 consents")
            && erased.contains("1 follows")
            && erased.contains("1 messages"),
        "{erased}"
    );
    let after = json(&plaza(
        &store,
        &["privacy", "export", "--user", "ann", "--app", APP],
    ));
    let app = &after["apps"][0];
    assert!(app["consents"].as_array().unwrap().is_empty(), "{app}");
    assert!(app["following"].is_null(), "{app}");
    assert!(app["conversation"].as_array().unwrap().is_empty(), "{app}");
    assert_eq!(app["payments"].as_array().unwrap().len(), 1);
    assert_ne!(app["openid"], openid);
    assert!(after.get("wallet").is_none(), "{after}");
    let ledger = ok(&plaza(&store, &["ledger", "verify"]));
    assert!(
        ledger.contains("sound") || ledger.contains("ok"),
        "{ledger}"
    );

    // Without --app: every mini-app that knows the user.
    let all = json(&plaza(
        &store,
        &["privacy", "erase", "--user", "ann", "--json"],
    ));
    assert_eq!(all[0]["app_id"], APP);
    assert_eq!(all[0]["identity_epoch"], 2);

    // Each use is in the audit log.
    let audit = json(&plaza(&store, &["audit", "--user", "ann", "--json"]));
    let uses: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["capability"].as_str())
        .filter(|c| c.starts_with("privacy."))
        .collect();
    assert_eq!(
        uses,
        [
            "privacy.report",
            "privacy.report",
            "privacy.export",
            "privacy.erase",
            "privacy.export",
            "privacy.erase",
        ]
    );
}
