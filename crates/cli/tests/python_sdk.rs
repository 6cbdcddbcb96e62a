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
//!
//! Also the Python examples of `docs/api.md` (`host-api/python/examples`),
//! checked against the SDK and the contract's bindings.

mod common;

use common::{err, out};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

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

/// The probe's copy, built: once per run (componentize-py is installed by
/// the first build).
fn probe() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/apps/py-probe");
        let copy = Path::new(env!("CARGO_TARGET_TMPDIR")).join("py-probe");
        for stale in ["src", "scenarios", "store"] {
            let _ = std::fs::remove_dir_all(copy.join(stale));
        }
        copy_tree(&source, &copy);
        let o = plaza(&copy, &["build", "."]);
        assert!(o.status.success(), "plaza build:\n{}\n{}", out(&o), err(&o));
        copy
    })
}

#[test]
fn the_python_probes_pages_pass_their_scenario_in_a_real_host() {
    let copy = probe();
    let o = plaza(copy, &["test"]);
    let text = out(&o);
    assert!(
        o.status.success() && text.contains("1 passed, 0 failed"),
        "plaza test:\n{text}\n{}",
        err(&o)
    );
}

/// The Python examples of `docs/api.md` (`host-api/python/examples`, one
/// per interface) checked against the Python SDK and the bindings
/// componentize-py makes of the contract's full world
/// (`plaza:host/mini-app` of `host-api/wit`) by
/// `check_python_examples.py`: each imports (every name it takes from the
/// SDK or the bindings exists), every attribute it reads from them exists,
/// every call of theirs fits the signature.
#[test]
fn the_python_examples_of_the_api_reference_check_against_the_sdk() {
    // A build installs the pinned toolchain first.
    probe();
    let toolchains = Path::new(env!("CARGO_TARGET_TMPDIR")).join("plaza-new-guests/toolchains");
    let python = std::fs::read_dir(&toolchains)
        .unwrap()
        .map(|e| e.unwrap().path().join("bin/python"))
        .find(|p| p.is_file())
        .expect("the toolchain plaza build installed");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let tmp = tempfile::tempdir().unwrap();
    let bindings = tmp.path().join("bindings");
    let o = Command::new(&python)
        .args([
            "-c",
            "import sys; from componentize_py import script; sys.argv[0] = 'componentize-py'; sys.exit(script())",
            "-d",
        ])
        .arg(repo.join("host-api/wit"))
        .args(["-w", "plaza:host/mini-app", "bindings"])
        .arg(&bindings)
        .output()
        .expect("run componentize-py");
    assert!(o.status.success(), "componentize-py bindings: {}", err(&o));
    copy_tree(
        &repo.join("host-api/python/plaza_sdk"),
        &tmp.path().join("sdk/plaza_sdk"),
    );
    let mut examples: Vec<_> = std::fs::read_dir(repo.join("host-api/python/examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    examples.sort();
    assert!(examples.len() >= 10, "{} Python examples", examples.len());
    let check = |files: &[std::path::PathBuf]| {
        Command::new(&python)
            .arg("-B")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/check_python_examples.py"))
            .args(files)
            .env(
                "PYTHONPATH",
                format!(
                    "{}:{}",
                    bindings.display(),
                    tmp.path().join("sdk").display()
                ),
            )
            .output()
            .expect("run python")
    };
    let o = check(&examples);
    assert!(
        o.status.success(),
        "host-api/python/examples:\n{}{}",
        out(&o),
        err(&o)
    );
    // The check finds what is wrong: a name the SDK does not have, a call
    // that does not fit.
    let bad = tmp.path().join("bad.py");
    std::fs::write(
        &bad,
        "from plaza_sdk import Page, storage\n\n\ndef f() -> None:\n    storage.get_txt(\"a\")\n    Page(\"t\", nav=\"push\")\n",
    )
    .unwrap();
    let o = check(&[bad]);
    let text = out(&o);
    assert!(!o.status.success(), "{text}");
    assert!(
        text.contains("plaza_sdk.storage has no `get_txt`"),
        "{text}"
    );
    assert!(text.contains("unexpected keyword argument 'nav'"), "{text}");
}
