//! The pinned toolchains of JavaScript, TypeScript and Python mini-apps,
//! installed on first use into a project-local folder: an npm prefix and a
//! Python virtual environment under `.plaza/toolchains` of the mini-app, or
//! under `$PLAZA_TOOLCHAINS` when set (one folder for many mini-apps, as the
//! test suite does). Node.js and Python themselves must be installed.
//!
//! The versions are pinned: jco 1.35.0's `componentize` fails on every
//! `--wit` path; 1.34.0 with componentize-js 0.23.0 works.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// jco, the JavaScript component toolchain (`jco componentize`, `jco guest-types`).
pub const JCO: &str = "1.34.0";
/// componentize-js, which jco runs.
pub const COMPONENTIZE_JS: &str = "0.23.0";
/// The TypeScript compiler.
pub const TYPESCRIPT: &str = "5.6.3";
/// esbuild, which bundles a JavaScript or TypeScript mini-app with the SDK
/// (and any npm package it imports) into the one module componentize-js takes.
pub const ESBUILD: &str = "0.24.2";
/// componentize-py.
pub const COMPONENTIZE_PY: &str = "0.25.1";

/// Every pinned version, for what a build depends on.
pub const VERSIONS: [&str; 5] = [JCO, COMPONENTIZE_JS, TYPESCRIPT, ESBUILD, COMPONENTIZE_PY];

/// The environment variable naming a toolchain folder shared by mini-apps.
pub const ENV: &str = "PLAZA_TOOLCHAINS";

/// The folder the toolchains of the mini-app in `app_dir` live in.
pub fn root(app_dir: &Path) -> PathBuf {
    match std::env::var_os(ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => app_dir.join(super::OUT_DIR).join("toolchains"),
    }
}

/// An npm prefix holding jco, componentize-js, TypeScript and esbuild.
#[derive(Debug)]
pub struct Node {
    prefix: PathBuf,
}

impl Node {
    fn script(&self, path: &str) -> Command {
        let mut c = Command::new("node");
        c.arg(self.prefix.join("node_modules").join(path));
        c
    }

    /// `jco`.
    pub fn jco(&self) -> Command {
        self.script("@bytecodealliance/jco/dist/jco.js")
    }

    /// `tsc`.
    pub fn tsc(&self) -> Command {
        self.script("typescript/bin/tsc")
    }

    /// `esbuild` (npm puts its native executable, or a Node.js launcher of
    /// it, at `esbuild/bin/esbuild`).
    pub fn esbuild(&self) -> Command {
        Command::new(self.prefix.join("node_modules/esbuild/bin/esbuild"))
    }
}

/// A virtual environment holding componentize-py.
#[derive(Debug)]
pub struct Python {
    venv: PathBuf,
}

impl Python {
    /// `componentize-py`.
    pub fn componentize_py(&self) -> Command {
        let mut c = Command::new(self.venv.join("bin/python"));
        c.args([
            "-c",
            "import sys; from componentize_py import script; sys.argv[0] = 'componentize-py'; sys.exit(script())",
        ]);
        c
    }
}

/// The Node.js toolchain for the mini-app in `app_dir`, installed if missing.
pub fn node(app_dir: &Path) -> Result<Node> {
    require(
        "node",
        "JavaScript and TypeScript mini-apps are built with Node.js 18 or newer (and npm)",
        "https://nodejs.org",
    )?;
    require(
        "npm",
        "JavaScript and TypeScript mini-apps are built with Node.js 18 or newer (and npm)",
        "https://nodejs.org",
    )?;
    let prefix = root(app_dir).join(format!(
        "node-jco-{JCO}-cjs-{COMPONENTIZE_JS}-ts-{TYPESCRIPT}-esbuild-{ESBUILD}"
    ));
    install_once(
        &prefix,
        "jco, componentize-js, TypeScript and esbuild with npm",
        |tmp| {
            std::fs::create_dir_all(tmp)?;
            super::run(
                Command::new("npm")
                    .args([
                        "install",
                        "--no-audit",
                        "--no-fund",
                        "--loglevel=error",
                        "--prefix",
                    ])
                    .arg(tmp)
                    .arg(format!("@bytecodealliance/jco@{JCO}"))
                    .arg(format!(
                        "@bytecodealliance/componentize-js@{COMPONENTIZE_JS}"
                    ))
                    .arg(format!("typescript@{TYPESCRIPT}"))
                    .arg(format!("esbuild@{ESBUILD}")),
                "npm install",
            )
        },
    )?;
    Ok(Node { prefix })
}

/// The Python toolchain for the mini-app in `app_dir`, installed if missing.
pub fn python(app_dir: &Path) -> Result<Python> {
    let why = "Python mini-apps are built with componentize-py, installed into a Python 3.10 or newer virtual environment";
    require("python3", why, "https://www.python.org/downloads/")?;
    let venv = root(app_dir).join(format!("python-componentize-py-{COMPONENTIZE_PY}"));
    install_once(&venv, "componentize-py with pip", |tmp| {
        super::run(
            Command::new("python3").args(["-m", "venv"]).arg(tmp),
            "python3 -m venv (on Debian and Ubuntu, `apt-get install python3-venv`)",
        )?;
        super::run(
            Command::new(tmp.join("bin/python"))
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                ])
                .arg(format!("componentize-py=={COMPONENTIZE_PY}")),
            "pip install componentize-py",
        )
    })?;
    Ok(Python { venv })
}

/// Fails with what to install when `program` is not on PATH.
fn require(program: &str, why: &str, url: &str) -> Result<()> {
    let found = Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        bail!("{why}, and `{program}` is not on PATH: install it ({url}), then build again");
    }
    Ok(())
}

/// Installs into `dir` with `install` unless a finished install is there.
/// The install goes to a folder of its own, renamed into place when done,
/// so concurrent builds (and interrupted ones) never see half a toolchain.
fn install_once(dir: &Path, what: &str, install: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let done = |d: &Path| d.join(".plaza-installed").is_file();
    if done(dir) {
        return Ok(());
    }
    let parent = dir.parent().context("a toolchain folder has a parent")?;
    std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    let tmp = parent.join(format!(
        ".{}.{}.tmp",
        dir.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("toolchain"),
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&tmp);
    let progress =
        crate::ui::Progress::start("Installing", &format!("{what} into {}", dir.display()));
    let result = install(&tmp).and_then(|()| {
        std::fs::write(tmp.join(".plaza-installed"), "")?;
        Ok(())
    });
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    if std::fs::rename(&tmp, dir).is_err() {
        // Another build finished first: keep its install.
        let _ = std::fs::remove_dir_all(&tmp);
        if !done(dir) {
            bail!("could not move the toolchain into {}", dir.display());
        }
    }
    progress.done("Installed", what);
    Ok(())
}
