//! `plaza build`: compile a mini-app into a component, in its language.
//!
//! The language is told by the folder's files: `Cargo.toml` (Rust),
//! `package.json` with `tsconfig.json` (TypeScript), `package.json`
//! (JavaScript), `src/app.py` (Python). For JavaScript, TypeScript and
//! Python, `plaza build` first writes the world the manifest makes
//! (`.plaza/wit`, see [`world`]) — those toolchains import every interface of
//! their world — then runs the pinned toolchain (see [`toolchain`]), which it
//! installs into a project-local folder when missing. The component is
//! `.plaza/app.wasm`. Rust's wit-bindgen drops the imports a mini-app does
//! not use, so a Rust mini-app builds against the SDK's full world.

mod imports;
mod js;
mod python;
mod rust;
pub mod toolchain;
pub mod world;

use anyhow::{Context, Result, bail};
use plaza_host::manifest::Manifest;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where `plaza build` writes what it makes in a mini-app's folder.
pub const OUT_DIR: &str = ".plaza";

/// The languages `plaza new` and `plaza build` know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    /// Rust, with the Plaza SDK (`crates/sdk`).
    Rust,
    /// JavaScript, through componentize-js.
    Js,
    /// TypeScript, compiled by `tsc`, then through componentize-js.
    Ts,
    /// Python, through componentize-py.
    Python,
}

impl Lang {
    /// Every language.
    #[cfg(test)]
    pub const ALL: [Lang; 4] = [Lang::Rust, Lang::Js, Lang::Ts, Lang::Python];

    /// The name on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Rust => "rust",
            Lang::Js => "js",
            Lang::Ts => "ts",
            Lang::Python => "python",
        }
    }

    /// The language of the mini-app in `dir`, from its files.
    pub fn detect(dir: &Path) -> Result<Lang> {
        let has = |f: &str| dir.join(f).is_file();
        Ok(if has("Cargo.toml") {
            Lang::Rust
        } else if has("package.json") && has("tsconfig.json") {
            Lang::Ts
        } else if has("package.json") {
            Lang::Js
        } else if has("src/app.py") {
            Lang::Python
        } else {
            bail!(
                "{} is not a mini-app folder `plaza build` knows: it needs plaza.toml and Cargo.toml (Rust), package.json (JavaScript; with tsconfig.json, TypeScript) or src/app.py (Python) — `plaza new NAME --lang rust|js|ts|python` makes one (or build a component yourself and use `plaza pack --component FILE`)",
                dir.display()
            );
        })
    }
}

/// Builds the mini-app in `dir` and returns its component's path.
pub fn build(dir: &Path) -> Result<PathBuf> {
    match Lang::detect(dir)? {
        Lang::Rust => rust::build(dir),
        lang => {
            // esbuild and componentize-py run in the app's folder: a
            // relative `dir` (such as `sample-miniapps/hotel-finder`) would
            // name their output twice over.
            let dir = &std::path::absolute(dir)
                .with_context(|| format!("finding the folder {}", dir.display()))?;
            if lang == Lang::Python {
                unless_fresh(dir, lang, || python::build(dir))
            } else {
                unless_fresh(dir, lang, || js::build(dir, lang))
            }
        }
    }
}

/// Runs `build` unless `.plaza/app.wasm` was built from the same sources,
/// manifest, contract and toolchain (componentize-js and componentize-py
/// take 20-50 s and are not incremental; `plaza pack` and `plaza test` would
/// otherwise build again what `plaza build` just built).
fn unless_fresh(
    dir: &Path,
    lang: Lang,
    build: impl FnOnce() -> Result<PathBuf>,
) -> Result<PathBuf> {
    let wasm = dir.join(OUT_DIR).join("app.wasm");
    let stamp = dir.join(OUT_DIR).join("app.wasm.inputs");
    let inputs = inputs_hash(dir, lang)?;
    if wasm.is_file() && std::fs::read_to_string(&stamp).is_ok_and(|s| s == inputs) {
        crate::ui::status("Fresh", &format!("{} ({})", dir.display(), wasm.display()));
        return Ok(wasm);
    }
    let _ = std::fs::remove_file(&stamp);
    let built = build()?;
    std::fs::write(&stamp, inputs).with_context(|| format!("writing {}", stamp.display()))?;
    Ok(built)
}

/// A hash of what a JavaScript, TypeScript or Python build reads.
fn inputs_hash(dir: &Path, lang: Lang) -> Result<String> {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut files = Vec::new();
    collect_files(&dir.join("src"), &mut files)?;
    for f in ["plaza.toml", "package.json", "tsconfig.json"] {
        files.push(dir.join(f));
    }
    files.sort();
    // `DefaultHasher::new` has fixed keys: the same inputs hash the same.
    let mut h = DefaultHasher::new();
    (
        lang.as_str(),
        env!("CARGO_PKG_VERSION"),
        toolchain::VERSIONS,
    )
        .hash(&mut h);
    world::contract_hash(&mut h);
    if lang == Lang::Python {
        python::sdk_hash(&mut h);
    }
    if matches!(lang, Lang::Js | Lang::Ts) {
        js::sdk_hash(&mut h);
    }
    for f in files {
        if let Ok(bytes) = std::fs::read(&f) {
            (f.strip_prefix(dir).unwrap_or(&f), bytes).hash(&mut h);
        }
    }
    Ok(format!("{:016x}", h.finish()))
}

/// Every file under `dir` (none if it does not exist).
fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries {
        let path = entry?.path();
        if path.file_name().is_some_and(|n| n == "__pycache__") {
            continue;
        }
        if path.is_dir() {
            collect_files(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// The manifest of the mini-app in `dir`.
fn read_manifest(dir: &Path) -> Result<Manifest> {
    let path = dir.join("plaza.toml");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    Ok(Manifest::parse(&path.display().to_string(), &text)?)
}

/// Writes the world of the manifest in `dir` into `dir/.plaza/wit`; returns
/// that folder and whether the world has the network (`wasi:http`).
fn prepare_world(dir: &Path) -> Result<(PathBuf, bool)> {
    let manifest = read_manifest(dir)?;
    let wit = world::write_world(&manifest, &dir.join(OUT_DIR).join("wit"))?;
    Ok((wit, world::needs_wasi_http(&manifest)))
}

/// Refuses, with what to change, a mini-app whose `entry` still exports the
/// `app` interface of `plaza:host@0.1.0` (`old`) and not `pages` (`new`):
/// `plaza build` builds against the current contract, whose world exports
/// `pages`, and the toolchain's own error would not say so. `change` says
/// what to write instead.
fn refuse_the_0_1_0_export(
    dir: &Path,
    entry: &str,
    old: &str,
    new: &str,
    change: &str,
) -> Result<()> {
    let Ok(text) = std::fs::read_to_string(dir.join(entry)) else {
        return Ok(());
    };
    if text.contains(old) && !text.contains(new) {
        bail!(
            "{} exports `app`, the interface of plaza:host@0.1.0: mini-apps now export `pages` (plaza:host@0.1.1), which takes the same events and pages and more: {change} (docs/languages.md)",
            dir.join(entry).display(),
        );
    }
    Ok(())
}

/// Runs a toolchain's command, its output shown only when it fails.
fn run(command: &mut Command, what: &str) -> Result<()> {
    let output = command
        .output()
        .with_context(|| format!("running {what}"))?;
    if !output.status.success() {
        bail!(
            "{what} failed:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

/// Reports a built component and returns its path.
fn built(progress: crate::ui::Progress, dir: &Path, wasm: PathBuf) -> Result<PathBuf> {
    let size = std::fs::metadata(&wasm)
        .with_context(|| format!("the toolchain wrote no {}", wasm.display()))?
        .len();
    progress.done(
        "Built",
        &format!("{} ({})", dir.display(), crate::ui::size(size)),
    );
    Ok(wasm)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A JavaScript or Python mini-app written for `plaza:host@0.1.0`'s
    /// `app` export is told what to rename before any toolchain runs; one
    /// exporting `pages` passes.
    #[test]
    fn an_app_exporting_0_1_0s_app_is_told_to_export_pages() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("src")).unwrap();
        let app = tmp.path().join("src/app.js");
        std::fs::write(&app, "export const app = defineApp((e) => page('Hi'));\n").unwrap();
        let e = refuse_the_0_1_0_export(
            tmp.path(),
            "src/app.js",
            "export const app ",
            "export const pages ",
            "write `export const pages = defineApp(...)`",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("exports `app`, the interface of plaza:host@0.1.0"),
            "{e}"
        );
        assert!(e.contains("export const pages = defineApp"), "{e}");
        std::fs::write(&app, "export const pages = defineApp((e) => page('Hi'));\n").unwrap();
        refuse_the_0_1_0_export(
            tmp.path(),
            "src/app.js",
            "export const app ",
            "export const pages ",
            "",
        )
        .unwrap();
    }
}
