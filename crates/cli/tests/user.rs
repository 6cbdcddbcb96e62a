//! The user's side from the shell: `plaza wallet`, `plaza insurance`,
//! `plaza ledger verify`, `plaza run --pay`, and `plaza follow`, `write`,
//! `inbox`.

mod common;

use common::{err, out, plaza};
use plaza_test_programs::CASHIER;
use std::path::Path;
use std::process::Output;

fn json(o: &Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", err(o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", out(o)))
}

#[test]
fn wallet_insurance_payments_and_ledger_verify_from_the_shell() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("plaza.db");
    let topup = json(&plaza(
        &store,
        &[
            "wallet", "topup", "--user", "ann", "--amount", "300.50", "--json",
        ],
    ));
    assert_eq!(topup["balance"], 30_050);
    let bad = plaza(
        &store,
        &["wallet", "topup", "--user", "ann", "--amount", "1.234"],
    );
    assert!(!bad.status.success());
    assert!(
        err(&bad).contains("`1.234` is not an amount"),
        "{}",
        err(&bad)
    );

    let card = plaza(
        &store,
        &[
            "insurance",
            "bind",
            "--user",
            "ann",
            "--card",
            "3301",
            "--holder",
            "Ann Li",
            "--coverage",
            "70",
            "--annual-cap",
            "100",
        ],
    );
    assert!(
        out(&card).contains("70.00% of eligible items, up to CNY 100.00 a year"),
        "{}",
        out(&card)
    );

    // Pay through the cashier fixture with the user confirming.
    let pkg = tmp.path().join("cashier.plaza");
    let dir = Path::new(CASHIER.manifest).parent().unwrap();
    let o = plaza(
        &store,
        &[
            "pack",
            dir.to_str().unwrap(),
            "--component",
            CASHIER.component,
            "-o",
            pkg.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", err(&o));
    // Insurance settles only for a verified publisher in the registry: the
    // operator registers the clinic and it signs its package.
    let key = tmp.path().join("clinic.key");
    let public = format!("{}.pub", key.display());
    for args in [
        vec!["keygen", "-o", key.to_str().unwrap()],
        vec![
            "publisher",
            "add",
            "test.plaza.clinic",
            "--name",
            "Plaza Test Clinic",
            "--category",
            "medical",
            "--key",
            &public,
            "--verified",
        ],
        vec![
            "sign",
            pkg.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
        ],
    ] {
        let o = plaza(&store, &args);
        assert!(o.status.success(), "{args:?}: {}", err(&o));
    }
    // The launch names the payment; the user's tap on `pay` makes it.
    let script = tmp.path().join("pay.txt");
    std::fs::write(&script, "tap pay\nquit\n").unwrap();
    let run = plaza(
        &store,
        &[
            "run",
            pkg.to_str().unwrap(),
            "--user",
            "ann",
            "--path",
            "/pay-insured?order=c-1&eligible=10000&other=500",
            "--pay",
            "confirm",
            "--script",
            script.to_str().unwrap(),
        ],
    );
    let text = out(&run);
    assert!(run.status.success(), "{text}\n{}", err(&run));
    // The question the user was asked, and the page after it.
    assert!(text.contains("? pay CNY 105.00 to "), "{text}");
    assert!(
        text.contains("(insurance CNY 70.00, wallet CNY 35.00 of CNY 300.50) -> Confirm"),
        "{text}"
    );
    assert!(text.contains("outcome: paid"), "{text}");

    let balance = json(&plaza(
        &store,
        &["wallet", "balance", "--user", "ann", "--json"],
    ));
    assert_eq!(balance["balance"], 30_050 - 3_500);
    let history = json(&plaza(
        &store,
        &["wallet", "history", "--user", "ann", "--json"],
    ));
    assert_eq!(history[0]["kind"], "payment");
    assert_eq!(history[0]["amount"], -3_500);
    assert_eq!(history[0]["order_id"], "c-1");
    let shown = json(&plaza(
        &store,
        &["insurance", "show", "--user", "ann", "--json"],
    ));
    assert_eq!(shown["cap_left"], 3_000);

    // Declining moves nothing.
    let run = plaza(
        &store,
        &[
            "run",
            "test.plaza.cashier",
            "--user",
            "ann",
            "--path",
            "/pay?order=c-2&amount=100",
            "--pay",
            "decline",
            "--script",
            script.to_str().unwrap(),
        ],
    );
    assert!(out(&run).contains("outcome: declined"), "{}", out(&run));

    let verify = plaza(&store, &["ledger", "verify"]);
    assert!(verify.status.success(), "{}", out(&verify));
    let text = out(&verify);
    assert!(
        text.contains("checked 2 transactions (5 postings): each sums to zero"),
        "{text}"
    );
    assert!(text.contains("checked 1 receipt signatures"), "{text}");
    assert!(text.trim_end().ends_with("ledger is sound"), "{text}");
    let report = json(&plaza(&store, &["ledger", "verify", "--json"]));
    assert_eq!(report["clean"], true);
    assert_eq!(report["payments"], 1);
}

#[test]
fn ledger_verify_fails_on_a_tampered_store() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("plaza.db");
    json(&plaza(
        &store,
        &[
            "wallet", "topup", "--user", "ann", "--amount", "10", "--json",
        ],
    ));
    // Someone edits a balance behind the ledger's back.
    rusqlite::Connection::open(&store)
        .unwrap()
        .execute(
            "UPDATE accounts SET balance = balance + 100 WHERE id = 'wallet:ann'",
            [],
        )
        .unwrap();
    let verify = plaza(&store, &["ledger", "verify"]);
    assert!(!verify.status.success());
    assert!(
        out(&verify)
            .contains("PROBLEM: account wallet:ann: its balance differs from its postings by 100"),
        "{}",
        out(&verify)
    );
}

#[test]
fn follow_write_and_inbox_from_the_shell() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("plaza.db");
    let fixture = plaza_test_programs::MESSAGING_PROBE;
    let pkg = tmp.path().join("city.plaza");
    let dir = Path::new(fixture.manifest).parent().unwrap();
    let o = plaza(
        &store,
        &[
            "pack",
            dir.to_str().unwrap(),
            "--component",
            fixture.component,
            "-o",
            pkg.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", err(&o));
    assert!(
        plaza(&store, &["install", pkg.to_str().unwrap()])
            .status
            .success()
    );
    let app = "test.plaza.city-services";
    assert!(out(&plaza(&store, &["follow", "--user", "ann", app])).contains("ann follows"));
    let o = plaza(&store, &["follow", "--user", "ann", "no.such.app"]);
    assert!(!o.status.success());

    // A broadcast reaches the follower; the user's written message reaches
    // the mini-app at its next launch, and `say` writes in a session.
    let o = plaza(
        &store,
        &[
            "run",
            app,
            "--user",
            "clerk",
            "--path",
            "/broadcast?title=Water%20cut&text=Monday%209-12",
        ],
    );
    assert!(out(&o).contains("delivered: 1"), "{}", out(&o));
    let o = plaza(
        &store,
        &["write", "--user", "ann", app, "When is the water back?"],
    );
    assert!(o.status.success(), "{}", err(&o));
    let script = tmp.path().join("s.txt");
    std::fs::write(&script, "say \"Thanks!\"\ntap reply\n").unwrap();
    let o = plaza(
        &store,
        &[
            "run",
            app,
            "--user",
            "ann",
            "--script",
            script.to_str().unwrap(),
        ],
    );
    let text = out(&o);
    assert!(o.status.success(), "{text}");
    assert!(text.contains("received: When is the water back?"), "{text}");
    assert!(text.contains("received: Thanks!"), "{text}");

    let list = json(&plaza(&store, &["inbox", "--user", "ann", "--json"]));
    let titles: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, vec!["Reply from City Services", "Water cut"]);
    let id = list[1]["id"].as_str().unwrap().to_string();
    assert!(
        plaza(&store, &["inbox", "--user", "ann", "--mark-read", &id])
            .status
            .success()
    );
    let unread = json(&plaza(
        &store,
        &["inbox", "--user", "ann", "--unread", "--json"],
    ));
    assert_eq!(unread.as_array().unwrap().len(), 1);
    let o = plaza(&store, &["inbox", "--user", "bob", "--mark-read", &id]);
    assert!(!o.status.success(), "another user's message");
    let text = out(&plaza(&store, &["inbox", "--user", "ann"]));
    assert!(
        text.contains("Water cut") && text.contains("Monday 9-12"),
        "{text}"
    );
    // Opening the reply (it links nowhere) launches the mini-app at its home
    // and marks it read; another user's message does not open.
    let reply = list[0]["id"].as_str().unwrap().to_string();
    let o = plaza(&store, &["inbox", "--user", "ann", "--open", &reply]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("City Services"), "{}", out(&o));
    let unread = json(&plaza(
        &store,
        &["inbox", "--user", "ann", "--unread", "--json"],
    ));
    assert!(unread.as_array().unwrap().is_empty(), "{unread}");
    assert!(
        !plaza(&store, &["inbox", "--user", "bob", "--open", &reply])
            .status
            .success()
    );
    assert!(out(&plaza(&store, &["unfollow", "--user", "ann", app])).contains("no longer follows"));
}

/// Times show in the host's time zone: China time unless `--utc-offset` or
/// `PLAZA_UTC_OFFSET` says otherwise; a malformed offset is refused with the
/// form to use.
#[test]
fn times_show_in_china_time_unless_the_offset_says_otherwise() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("plaza.db");
    let topup = plaza(
        &store,
        &["wallet", "topup", "--user", "ann", "--amount", "5"],
    );
    assert!(topup.status.success(), "{}", err(&topup));
    // `2026-12-02 18:14:00 +08:00  topup ...`: the time and its offset.
    let shown = |extra: &[&str]| {
        let mut args = vec!["wallet", "history", "--user", "ann"];
        args.extend_from_slice(extra);
        let o = plaza(&store, &args);
        assert!(o.status.success(), "{}", err(&o));
        let line = out(&o).lines().next().unwrap_or_default().to_string();
        let words: Vec<&str> = line.split_whitespace().collect();
        assert!(words.len() > 3, "{line}");
        let hour: i32 = words[1][..2].parse().unwrap();
        (hour, words[2].to_string())
    };
    let (china, offset) = shown(&[]);
    assert_eq!(offset, "+08:00");
    let (utc, offset) = shown(&["--utc-offset", "+00:00"]);
    assert_eq!(offset, "+00:00");
    assert_eq!((china - utc).rem_euclid(24), 8);
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_plaza"))
        .args(["wallet", "history", "--user", "ann"])
        .env("PLAZA_STORE", &store)
        .env("PLAZA_UTC_OFFSET", "-05:30")
        .output()
        .unwrap();
    assert!(out(&o).contains(" -05:30 "), "{}", out(&o));
    let bad = plaza(
        &store,
        &["wallet", "history", "--user", "ann", "--utc-offset", "8"],
    );
    assert!(!bad.status.success());
    assert!(err(&bad).contains("+08:00"), "{}", err(&bad));
}
