//! `plaza build` for a Rust mini-app: cargo, for wasm32-wasip2.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The target mini-apps are compiled for.
pub const TARGET: &str = "wasm32-wasip2";

/// Builds the mini-app in `dir` (release) and returns its component's path.
pub fn build(dir: &Path) -> Result<PathBuf> {
    let manifest = dir.join("Cargo.toml");
    if !manifest.is_file() {
        bail!(
            "{} has no Cargo.toml: `plaza build` compiles Rust mini-apps (for other languages, build a component yourself and use `plaza pack --component FILE`)",
            dir.display()
        );
    }
    let manifest = manifest
        .canonicalize()
        .with_context(|| format!("resolving {}", manifest.display()))?;
    let what = dir.display().to_string();
    let progress = crate::ui::Progress::start("Building", &format!("{what} for {TARGET}"));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args([
            "build",
            "--release",
            "--target",
            TARGET,
            "--message-format=json-render-diagnostics",
            "--manifest-path",
        ])
        .arg(&manifest)
        .args(crate::ui::quiet().then_some("--quiet"))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .output()
        .context("running cargo")?;
    if !output.status.success() {
        let installed = Command::new("rustup")
            .args(["target", "list", "--installed"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).contains(TARGET))
            .unwrap_or(true);
        if !installed {
            bail!("the {TARGET} target is not installed: run `rustup target add {TARGET}`");
        }
        bail!(
            "cargo could not build {} (see its messages above)",
            dir.display()
        );
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut found = None;
    for line in stdout.lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if msg["reason"] != "compiler-artifact" {
            continue;
        }
        let same_package = msg["manifest_path"]
            .as_str()
            .map(|p| Path::new(p) == manifest)
            .unwrap_or(false);
        let is_cdylib = msg["target"]["kind"]
            .as_array()
            .is_some_and(|k| k.iter().any(|k| k == "cdylib"));
        if !(same_package && is_cdylib) {
            continue;
        }
        if let Some(files) = msg["filenames"].as_array() {
            for f in files.iter().filter_map(|f| f.as_str()) {
                if f.ends_with(".wasm") {
                    found = Some(PathBuf::from(f));
                }
            }
        }
    }
    let wasm = found.with_context(|| {
        format!(
            "cargo built {} but produced no .wasm: its Cargo.toml needs `[lib] crate-type = [\"cdylib\"]`",
            dir.display()
        )
    })?;
    let size = std::fs::metadata(&wasm).map(|m| m.len()).unwrap_or(0);
    progress.done("Built", &format!("{what} ({})", crate::ui::size(size)));
    Ok(wasm)
}
