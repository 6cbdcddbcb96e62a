//! Helpers shared by the CLI tests: run the `plaza` binary on a store.

#![allow(dead_code)] // each test file uses some of them

use std::path::Path;
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
