//! Helpers shared by the CLI tests: run the `plaza` binary on a store, or in
//! a mini-app's folder as its author would (with the toolchains every test
//! shares).

#![allow(dead_code)] // each test file uses some of them

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Runs `plaza ARGS` on `store` in developer mode (the fixtures are unsigned;
/// `trust.rs` signs its own and uses [`plaza_signed_only`]).
pub fn plaza(store: &Path, args: &[&str]) -> Output {
    run(store, args, true)
}

/// Runs `plaza ARGS` on `store` outside developer mode.
pub fn plaza_signed_only(store: &Path, args: &[&str]) -> Output {
    run(store, args, false)
}

fn run(store: &Path, args: &[&str], developer_mode: bool) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_plaza"));
    cmd.args(args)
        .env("PLAZA_STORE", store)
        .env("RUST_LIB_BACKTRACE", "0")
        .stdin(Stdio::null());
    if developer_mode {
        cmd.env("PLAZA_DEVELOPER_MODE", "1");
    } else {
        cmd.env_remove("PLAZA_DEVELOPER_MODE");
    }
    cmd.output().expect("run plaza")
}

/// What it printed on standard output.
pub fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// What it printed on standard error.
pub fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts that `plaza` succeeded (`what` names the command in the failure,
/// with everything it printed); returns its standard output.
pub fn ok(o: &Output, what: &str) -> String {
    assert!(
        o.status.success(),
        "{what} failed:\n--- stdout\n{}\n--- stderr\n{}",
        out(o),
        err(o)
    );
    out(o)
}

/// The folder under `CARGO_TARGET_TMPDIR` the tests build mini-apps with:
/// `toolchains/` holds the pinned JavaScript, TypeScript and Python
/// toolchains (installed by `plaza build` itself at the first build of a run
/// on a fresh machine, then shared by every test and run); it is also the
/// cargo target folder of Rust mini-apps, so the SDK compiles once.
pub fn guests() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("plaza-new-guests")
}

/// The shared toolchain folder (`PLAZA_TOOLCHAINS`), see [`guests`].
pub fn toolchains() -> PathBuf {
    guests().join("toolchains")
}

/// Runs `plaza ARGS` in the mini-app folder `dir` as its author would: on
/// the store `dir/store/plaza.db` (its compiled-component cache beside it,
/// shared by `plaza test`, `install` and `run`), outside developer mode,
/// with the shared toolchains and guest target folder.
pub fn plaza_in(dir: &Path, args: &[&str]) -> Output {
    plaza_in_store(dir, &dir.join("store/plaza.db"), args)
}

/// [`plaza_in`] on the store `store`.
pub fn plaza_in_store(dir: &Path, store: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_plaza"))
        .args(args)
        .current_dir(dir)
        .env("PLAZA_STORE", store)
        .env_remove("PLAZA_DEVELOPER_MODE")
        .env("RUST_LIB_BACKTRACE", "0")
        .env("CARGO_TARGET_DIR", guests())
        .env("PLAZA_TOOLCHAINS", toolchains())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run plaza")
}

/// Copies the mini-app sources at `from` into `to`, but for what builds
/// make (`.plaza`, `node_modules`, `__pycache__`, packages). A file whose
/// bytes are unchanged is not written again, so a build of an unchanged app
/// stays fresh between runs (its stamp hashes contents).
pub fn copy_sources(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        let name = name.to_str().unwrap();
        if matches!(name, ".plaza" | "node_modules" | "__pycache__") || name.ends_with(".plaza") {
            continue;
        }
        let target = to.join(name);
        if entry.file_type().unwrap().is_dir() {
            copy_sources(&entry.path(), &target);
        } else {
            let bytes = std::fs::read(entry.path()).unwrap();
            if std::fs::read(&target).ok().as_deref() != Some(&bytes[..]) {
                std::fs::write(&target, bytes).unwrap();
            }
        }
    }
}
