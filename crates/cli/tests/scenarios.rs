//! `plaza test` and `plaza run --record` end to end: a passing and a failing
//! scenario, the closing `N passed, N failed` line and the exit code, JUnit
//! and JSON output, a bad file's error, and a recorded session replayed.

use plaza_test_programs::HOSPITAL;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn plaza(dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_plaza"))
        .args(args)
        .current_dir(dir)
        .env("PLAZA_STORE", dir.join("store/plaza.db"))
        .env("PLAZA_DEVELOPER_MODE", "1")
        .env("RUST_LIB_BACKTRACE", "0")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run plaza");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A temporary directory with the hospital packed from its prebuilt
/// component as `hospital.plaza` (no guest is rebuilt).
fn workspace() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let dir = Path::new(HOSPITAL.manifest).parent().unwrap();
    let o = plaza(
        tmp.path(),
        &[
            "pack",
            dir.to_str().unwrap(),
            "--component",
            HOSPITAL.component,
            "-o",
            "hospital.plaza",
        ],
        "",
    );
    assert!(o.status.success(), "{}", err(&o));
    tmp
}

const PASSING: &str = r#"
name = "home page"
[[package]]
path = "../hospital.plaza"
[[step]]
launch = "/"
title = "Hangzhou Maternity Hospital"
"#;

const FAILING: &str = r#"
name = "wrong fee"
[[package]]
path = "../hospital.plaza"
[[step]]
launch = "/dept/obstetrics"
[[step]]
tap = "doctor:chen-li"
field = { Fee = "CNY 1.00" }
"#;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn test_prints_each_result_and_ends_with_the_counts() {
    let tmp = workspace();
    write(tmp.path(), "s/pass.toml", PASSING);
    write(tmp.path(), "s/fail.toml", FAILING);
    let o = plaza(tmp.path(), &["test", "s", "--junit", "junit.xml"], "");
    assert_eq!(o.status.code(), Some(1), "{}{}", out(&o), err(&o));
    let text = out(&o);
    assert!(
        text.contains("ok      home page (s/pass.toml, 1 steps"),
        "{text}"
    );
    assert!(text.contains("FAILED  wrong fee (s/fail.toml)"), "{text}");
    assert!(text.contains("  step 2 (line 7): tap = \"doctor:chen-li\"\n  expected: field \"Fee\" = \"CNY 1.00\"\n  found:    field \"Fee\" = \"CNY 50.00\"\n  the page:\n    | Dr. Chen Li\n"), "{text}");
    assert_eq!(text.lines().last(), Some("1 passed, 1 failed"), "{text}");
    let junit = std::fs::read_to_string(tmp.path().join("junit.xml")).unwrap();
    assert!(
        junit.contains("<testsuite name=\"plaza scenarios\" tests=\"2\" failures=\"1\""),
        "{junit}"
    );
    assert!(junit.contains("<failure message=\"expected field &quot;Fee&quot; = &quot;CNY 1.00&quot;; found field &quot;Fee&quot; = &quot;CNY 50.00&quot;\">"), "{junit}");

    // --filter picks by name; all passing is exit code 0.
    let o = plaza(tmp.path(), &["test", "s", "--filter", "home"], "");
    assert!(o.status.success(), "{}", out(&o));
    assert_eq!(out(&o).lines().last(), Some("1 passed, 0 failed"));

    // --json for scripts.
    let o = plaza(tmp.path(), &["test", "s/fail.toml", "--json"], "");
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(v["failed"], 1);
    assert_eq!(v["scenarios"][0]["failure"]["step"], 2);
    assert_eq!(
        v["scenarios"][0]["failure"]["found"],
        "field \"Fee\" = \"CNY 50.00\""
    );
    assert_eq!(err(&o).trim(), "0 passed, 1 failed");
}

#[test]
fn a_bad_file_is_an_error_with_its_line_and_counts_as_failed() {
    let tmp = workspace();
    write(tmp.path(), "s/pass.toml", PASSING);
    write(
        tmp.path(),
        "s/bad.toml",
        "[[package]]\npath = \"../hospital.plaza\"\n[[step]]\nlanuch = \"/\"\n",
    );
    let o = plaza(tmp.path(), &["test", "s"], "");
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err(&o).contains("error: s/bad.toml:4: unknown field `lanuch`, expected one of"),
        "{}",
        err(&o)
    );
    assert_eq!(out(&o).lines().last(), Some("1 passed, 1 failed"));
}

#[test]
fn run_record_writes_a_scenario_that_replays() {
    let tmp = workspace();
    let o = plaza(
        tmp.path(),
        &[
            "run",
            "hospital.plaza",
            "--user",
            "li-na",
            "--record",
            "rec.toml",
        ],
        "tap dept:obstetrics\ntap nowhere\ntap doctor:chen-li\n",
    );
    // Typed actions that fail do not fail an interactive run.
    assert!(o.status.success(), "{}", err(&o));
    assert!(
        err(&o).contains("recorded the session in rec.toml"),
        "{}",
        err(&o)
    );
    let rec = std::fs::read_to_string(tmp.path().join("rec.toml")).unwrap();
    assert!(
        rec.contains("[[package]]\npath = \"hospital.plaza\""),
        "{rec}"
    );
    assert!(
        rec.contains("[[step]]\ntap = \"doctor:chen-li\"\ntitle = \"Dr. Chen Li\"\n"),
        "{rec}"
    );
    assert!(
        rec.contains("error = \"the page does not offer the action `nowhere`"),
        "{rec}"
    );
    let o = plaza(tmp.path(), &["test", "rec.toml"], "");
    assert!(o.status.success(), "{}{}\n{rec}", out(&o), err(&o));
    assert_eq!(out(&o).lines().last(), Some("1 passed, 0 failed"));
}
