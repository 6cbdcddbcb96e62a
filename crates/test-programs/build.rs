//! Builds the guest fixtures (`guests/`, a workspace of its own) and the
//! sample mini-apps (`sample-miniapps/` at the root of the repository) for
//! `wasm32-wasip2`, then writes `fixtures.rs` into `OUT_DIR`: a `Fixture`
//! constant per component and the `foreach_fixture!` / `foreach_sample!`
//! macros. `src/lib.rs` includes it.
//!
//! The components go to `<target dir>/guests`, beside the host's own builds,
//! so that one `cargo clean` removes them and a rebuild of the host does not
//! rebuild them.

use serde_json::Value;
use std::collections::BTreeMap;
use std::env;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const TARGET: &str = "wasm32-wasip2";

/// One component built by a guest workspace.
struct Built {
    /// The member's folder name, such as `kv-notes`.
    name: String,
    /// The component.
    wasm: PathBuf,
    /// The `plaza.toml` beside the member's `Cargo.toml`.
    manifest: PathBuf,
    /// The first line of the member's `src/lib.rs` doc comment.
    summary: String,
}

fn main() {
    let crate_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    let repo = crate_dir
        .join("../..")
        .canonicalize()
        .expect("the repository root");
    let guests_target = target_dir(&out_dir).join("guests");

    check_target_installed();

    let fixtures = build_workspace(&crate_dir.join("guests"), &guests_target);
    let samples = build_workspace(&repo.join("sample-miniapps"), &guests_target);

    // The SDK (which takes its dependencies from the root workspace) and the
    // WIT contract are compiled into every component; the dep-info files name
    // them too, but a new WIT file would not be there.
    for path in [
        repo.join("Cargo.toml"),
        repo.join("crates/sdk/Cargo.toml"),
        repo.join("crates/sdk/src"),
        repo.join("host-api/wit"),
    ] {
        rerun_if_changed(&path);
    }

    let mut names = BTreeMap::new();
    for built in fixtures.iter().chain(&samples) {
        if let Some(other) = names.insert(built.name.clone(), &built.wasm) {
            panic!(
                "two guests are named `{}` ({} and {}): rename one, their components would \
                 overwrite each other",
                built.name,
                other.display(),
                built.wasm.display()
            );
        }
    }

    let mut code = generate(&fixtures, &samples);
    code.push_str(&format!(
        "/// The target directory the guests were built in: run `cargo build` for a\n\
         /// guest with `CARGO_TARGET_DIR` set to it and it finds everything fresh.\n\
         pub const GUESTS_TARGET_DIR: &str = {:?};\n",
        guests_target.display().to_string()
    ));
    fs::write(out_dir.join("fixtures.rs"), code).expect("writing fixtures.rs");
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
    if let Some(dir) = env::var_os("CARGO_TARGET_DIR").map(PathBuf::from)
        && dir.is_absolute()
    {
        return dir;
    }
    // `<target>/<profile>/build/<package>-<hash>/out`.
    out_dir
        .ancestors()
        .nth(4)
        .expect("OUT_DIR is <target>/<profile>/build/<package>/out")
        .to_path_buf()
}

/// Fails the build with what to do if the Rust standard library for
/// `wasm32-wasip2` is missing.
fn check_target_installed() {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| OsString::from("rustc"));
    let output = Command::new(&rustc)
        .args(["--print", "target-libdir", "--target", TARGET])
        .output()
        .unwrap_or_else(|e| panic!("running {rustc:?}: {e}"));
    let libdir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    let has_std = fs::read_dir(&libdir)
        .map(|entries| {
            entries.filter_map(Result::ok).any(|entry| {
                let name = entry.file_name();
                let name = name.to_string_lossy();
                name.starts_with("libstd-") && name.ends_with(".rlib")
            })
        })
        .unwrap_or(false);
    if !output.status.success() || !has_std {
        panic!(
            "\n\nThe Rust target `{TARGET}` is not installed, and the guest fixtures and sample \
             mini-apps are built for it.\nRun `rustup target add {TARGET}` and build again.\n\n"
        );
    }
}

/// Builds every member of the workspace at `dir` for `wasm32-wasip2` in
/// release mode and returns its components.
fn build_workspace(dir: &Path, target_dir: &Path) -> Vec<Built> {
    let dir = dir
        .canonicalize()
        .unwrap_or_else(|e| panic!("the guest workspace {}: {e}", dir.display()));
    let cargo = env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&dir)
        .args(["build", "--release", "--workspace", "--target", TARGET])
        .arg("--message-format=json-render-diagnostics")
        .env("CARGO_TARGET_DIR", target_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
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

    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("running cargo for {}: {e}", dir.display()));
    let stdout = child.stdout.take().expect("piped stdout");
    let mut built = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("reading cargo's output");
        let Ok(message) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        if message["reason"] != "compiler-artifact" {
            continue;
        }
        let is_cdylib = message["target"]["kind"]
            .as_array()
            .is_some_and(|kinds| kinds.iter().any(|k| k == "cdylib"));
        let Some(manifest_path) = message["manifest_path"].as_str().map(PathBuf::from) else {
            continue;
        };
        if !is_cdylib || !manifest_path.starts_with(&dir) {
            continue;
        }
        let wasm = message["filenames"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(PathBuf::from)
            .find(|f| f.extension().is_some_and(|e| e == "wasm"))
            .unwrap_or_else(|| panic!("no .wasm among the outputs of {}", manifest_path.display()));
        built.push(member(&manifest_path, wasm));
    }
    let status = child.wait().expect("waiting for cargo");
    if !status.success() {
        panic!(
            "building the guests in {} for {TARGET} failed (see the errors above)",
            dir.display()
        );
    }
    if built.is_empty() {
        panic!("{} built no cdylib component", dir.display());
    }

    for path in ["Cargo.toml", "Cargo.lock"] {
        rerun_if_changed(&dir.join(path));
    }
    for b in &built {
        read_dep_info(&b.wasm);
    }
    built.sort_by(|a, b| a.name.cmp(&b.name));
    built
}

/// The component of the member whose manifest is `cargo_toml`.
fn member(cargo_toml: &Path, wasm: PathBuf) -> Built {
    let dir = cargo_toml.parent().expect("a manifest's folder");
    let name = dir
        .file_name()
        .expect("a member folder")
        .to_string_lossy()
        .into_owned();
    let manifest = dir.join("plaza.toml");
    if !manifest.is_file() {
        panic!(
            "{} has no plaza.toml: every mini-app needs its manifest beside its Cargo.toml",
            dir.display()
        );
    }
    for path in [cargo_toml, &manifest, &dir.join("src")] {
        rerun_if_changed(path);
    }
    let lib = dir.join("src/lib.rs");
    let summary = fs::read_to_string(&lib)
        .ok()
        .and_then(|text| {
            text.lines()
                .next()
                .and_then(|line| line.strip_prefix("//!"))
                .map(|line| line.trim().to_string())
        })
        .filter(|line| !line.is_empty())
        .unwrap_or_else(|| {
            panic!(
                "{} must open with a one-line `//!` comment saying what it expects of the host",
                lib.display()
            )
        });
    Built {
        name,
        wasm,
        manifest,
        summary,
    }
}

fn rerun_if_changed(path: &Path) {
    println!("cargo:rerun-if-changed={}", path.display());
}

/// Asks Cargo to run this script again when a source file of `artifact`
/// changes, as listed by the dep-info file Cargo writes beside it.
fn read_dep_info(artifact: &Path) {
    let deps = artifact.with_extension("d");
    let text = fs::read_to_string(&deps)
        .unwrap_or_else(|e| panic!("reading the dep-info file {}: {e}", deps.display()));
    for line in text.lines() {
        let Some((_, files)) = line.split_once(": ") else {
            continue;
        };
        let mut parts = files.split_whitespace();
        while let Some(part) = parts.next() {
            let mut file = part.to_string();
            while file.ends_with('\\') {
                file.pop();
                file.push(' ');
                file.push_str(parts.next().unwrap_or_default());
            }
            println!("cargo:rerun-if-changed={file}");
        }
    }
}

/// The Rust source of `fixtures.rs`.
fn generate(fixtures: &[Built], samples: &[Built]) -> String {
    let mut code = String::from("// Generated by crates/test-programs/build.rs.\n\n");
    for built in fixtures.iter().chain(samples) {
        writeln!(
            code,
            "/// `{name}`: {summary}\n\
             pub const {constant}: Fixture = Fixture {{\n    \
                 name: {name:?},\n    \
                 component: {wasm:?},\n    \
                 manifest: {manifest:?},\n\
             }};\n",
            name = built.name,
            summary = built.summary,
            constant = built.name.replace('-', "_").to_uppercase(),
            wasm = built.wasm.display().to_string(),
            manifest = built.manifest.display().to_string(),
        )
        .unwrap();
    }
    writeln!(
        code,
        "/// The test fixtures (`crates/test-programs/guests`), by name.\n\
         pub const FIXTURES: &[Fixture] = &[{}];\n\n\
         /// The sample mini-apps (`sample-miniapps`), by name.\n\
         pub const SAMPLES: &[Fixture] = &[{}];\n\n\
         const ALL: &[Fixture] = &[{}];\n",
        constants(fixtures),
        constants(samples),
        constants(fixtures.iter().chain(samples)),
    )
    .unwrap();
    for (macro_name, set, what) in [
        ("foreach_fixture", fixtures, "test fixture"),
        ("foreach_sample", samples, "sample mini-app"),
    ] {
        writeln!(
            code,
            "/// Calls `$mac!(<name>)` for every {what}, its folder name in snake case.\n\
             #[macro_export]\n\
             macro_rules! {macro_name} {{\n    ($mac:ident) => {{"
        )
        .unwrap();
        for built in set {
            writeln!(code, "        $mac!({});", built.name.replace('-', "_")).unwrap();
        }
        code.push_str("    };\n}\n\n");
    }
    code
}

/// The constants' names of `set`, comma-separated.
fn constants<'a>(set: impl IntoIterator<Item = &'a Built>) -> String {
    set.into_iter()
        .map(|b| b.name.replace('-', "_").to_uppercase())
        .collect::<Vec<_>>()
        .join(", ")
}
