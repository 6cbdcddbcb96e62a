//! The Plaza SDK for Python (`host-api/python`, `plaza_sdk`) in a real host:
//! the Python probe (`crates/cli/tests/apps/py-probe`) builds its pages with
//! the inputs and lists of `plaza:host@0.1.1` — a picker, checkboxes, a
//! switch, hidden and read-only fields, constraints, a section with trailing
//! values and "load more", pull-to-refresh — and its scenario checks them as
//! the host renders them, each bad value refused by the host with the
//! user's reason before the probe sees it, the good ones echoed back.
//!
//! The probe is copied into `CARGO_TARGET_TMPDIR/py-probe` and built there
//! with `plaza build` (`Fresh` in the next runs until its sources or the SDK
//! change); componentize-py is installed once, into the toolchain folder
//! `new.rs` uses too.

mod common;

use common::{err, out};
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn plaza(dir: &Path, args: &[&str]) -> Output {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    Command::new(env!("CARGO_BIN_EXE_plaza"))
        .args(args)
        .current_dir(dir)
        .env("PLAZA_STORE", dir.join("store/plaza.db"))
        .env("PLAZA_TOOLCHAINS", tmp.join("plaza-new-guests/toolchains"))
        .env("RUST_LIB_BACKTRACE", "0")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run plaza")
}

/// Copies `from` into `to`, file by file (no `.plaza`, no `__pycache__`).
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == ".plaza" || name == "__pycache__" {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            copy_tree(&path, &to.join(&name));
        } else {
            std::fs::copy(&path, to.join(&name)).unwrap();
        }
    }
}

#[test]
fn the_python_probes_pages_pass_their_scenario_in_a_real_host() {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/apps/py-probe");
    let copy = Path::new(env!("CARGO_TARGET_TMPDIR")).join("py-probe");
    for stale in ["src", "scenarios", "store"] {
        let _ = std::fs::remove_dir_all(copy.join(stale));
    }
    copy_tree(&source, &copy);
    let o = plaza(&copy, &["build", "."]);
    assert!(o.status.success(), "plaza build:\n{}\n{}", out(&o), err(&o));
    let o = plaza(&copy, &["test"]);
    let text = out(&o);
    assert!(
        o.status.success() && text.contains("1 passed, 0 failed"),
        "plaza test:\n{text}\n{}",
        err(&o)
    );
}
