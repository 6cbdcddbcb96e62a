//! `plaza build` for a Python mini-app: `componentize-py`.

use super::{OUT_DIR, built, prepare_world, run, toolchain, world::WORLD};
use anyhow::Result;
use std::path::{Path, PathBuf};

/// Builds `src/app.py` (its class `App`) of the mini-app in `dir`; also
/// writes the world's bindings to `.plaza/bindings` for editors and type
/// checkers.
pub fn build(dir: &Path) -> Result<PathBuf> {
    let (wit, _) = prepare_world(dir)?;
    let python = toolchain::python(dir)?;
    let progress = crate::ui::Progress::start(
        "Building",
        &format!("{} (python) with componentize-py", dir.display()),
    );
    let out = dir.join(OUT_DIR);
    let bindings = out.join("bindings");
    if bindings.exists() {
        std::fs::remove_dir_all(&bindings)?;
    }
    run(
        python
            .componentize_py()
            .arg("-d")
            .arg(&wit)
            .args(["-w", WORLD, "bindings"])
            .arg(&bindings),
        "componentize-py bindings",
    )?;
    let wasm = out.join("app.wasm");
    run(
        python
            .componentize_py()
            .arg("-d")
            .arg(&wit)
            .args(["-w", WORLD, "componentize", "app", "-p"])
            .arg(dir.join("src"))
            .arg("-o")
            .arg(&wasm),
        "componentize-py",
    )?;
    built(progress, dir, wasm)
}
