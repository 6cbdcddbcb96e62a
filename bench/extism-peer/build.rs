//! Builds the plugin (`plugin/`, a member of this workspace) for
//! `wasm32-unknown-unknown` with the `plugin` profile (opt-level "s", LTO, one
//! codegen unit, strip, panic abort: the settings of Plaza's guests), in
//! `<target dir>/plugin`, and hands its path to `src/main.rs` as
//! `EXTISM_PEER_PLUGIN_WASM` (the host embeds it with `include_bytes!`).
//!
//! So `cargo build --release` in this folder builds plugin and host. The Rust
//! target is added with rustup if it is missing (RUSTUP_AUTO_INSTALL=0 does not
//! add targets by itself).

use std::env;
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-unknown-unknown";
const PROFILE: &str = "plugin";
const PLUGIN: &str = "extism-peer-plugin";
const WASM: &str = "extism_peer_plugin.wasm";

fn main() {
    let crate_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    let plugin_target = target_dir(&out_dir).join("plugin");

    ensure_target_installed();

    let cargo = env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&crate_dir)
        .args([
            "build",
            "-p",
            PLUGIN,
            "--target",
            TARGET,
            "--profile",
            PROFILE,
        ])
        .env("CARGO_TARGET_DIR", &plugin_target);
    // What configures the outer build must not leak into this one: flags for
    // the host target, clippy's driver, the outer jobserver and target.
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_MAKEFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_BUILD_TARGET",
        "CARGO_BUILD_TARGET_DIR",
        "CARGO_BUILD_BUILD_DIR",
        "CARGO_BUILD_DEP_INFO_BASEDIR",
    ] {
        cmd.env_remove(var);
    }
    eprintln!("running: {cmd:?}");
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("running cargo for the plugin: {e}"));
    if !status.success() {
        panic!("building the plugin for {TARGET} failed (see the errors above)");
    }

    let wasm = plugin_target.join(TARGET).join(PROFILE).join(WASM);
    if !wasm.is_file() {
        panic!("the plugin build made no {}", wasm.display());
    }
    println!("cargo:rustc-env=EXTISM_PEER_PLUGIN_WASM={}", wasm.display());
    // The versions `--json` reports, as locked.
    let lock = fs::read_to_string(crate_dir.join("Cargo.lock")).expect("reading Cargo.lock");
    for (name, var) in [
        ("extism", "EXTISM_VERSION"),
        ("wasmtime", "WASMTIME_VERSION"),
    ] {
        let version =
            locked_version(&lock, name).unwrap_or_else(|| panic!("{name} is not in Cargo.lock"));
        println!("cargo:rustc-env={var}={version}");
    }
    for path in [
        "plugin/src",
        "plugin/Cargo.toml",
        "Cargo.toml",
        "Cargo.lock",
    ] {
        println!("cargo:rerun-if-changed={}", crate_dir.join(path).display());
    }
}

/// The target directory of the build running this script: the ancestor of
/// `OUT_DIR` that Cargo marked with `CACHEDIR.TAG`.
fn target_dir(out_dir: &Path) -> PathBuf {
    if let Some(dir) = out_dir
        .ancestors()
        .find(|dir| dir.join("CACHEDIR.TAG").is_file())
    {
        return dir.to_path_buf();
    }
    // `<target>/<profile>/build/<package>-<hash>/out`.
    out_dir
        .ancestors()
        .nth(4)
        .expect("OUT_DIR is <target>/<profile>/build/<package>/out")
        .to_path_buf()
}

/// Whether the standard library for `TARGET` is there.
fn has_target() -> bool {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| OsString::from("rustc"));
    let Ok(output) = Command::new(&rustc)
        .args(["--print", "target-libdir", "--target", TARGET])
        .output()
    else {
        return false;
    };
    let libdir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    output.status.success()
        && fs::read_dir(&libdir)
            .map(|entries| {
                entries.filter_map(Result::ok).any(|entry| {
                    let name = entry.file_name();
                    let name = name.to_string_lossy();
                    name.starts_with("libstd-") && name.ends_with(".rlib")
                })
            })
            .unwrap_or(false)
}

/// Adds `TARGET` with rustup if it is missing; fails with what to do if that
/// does not work.
fn ensure_target_installed() {
    if has_target() {
        return;
    }
    println!(
        "cargo:warning=adding the Rust target {TARGET} with rustup (the plugin is built for it)"
    );
    let added = Command::new("rustup")
        .args(["target", "add", TARGET])
        .status()
        .is_ok_and(|s| s.success());
    if !added || !has_target() {
        panic!(
            "\n\nThe Rust target `{TARGET}` is not installed, and the Extism plugin is built \
             for it.\nRun `rustup target add {TARGET}` and build again.\n\n"
        );
    }
}

/// The version of `name` in this workspace's Cargo.lock.
fn locked_version(lock: &str, name: &str) -> Option<String> {
    let needle = format!("name = \"{name}\"\nversion = \"");
    let start = lock.find(&needle)? + needle.len();
    let len = lock[start..].find('"')?;
    Some(lock[start..start + len].to_string())
}
