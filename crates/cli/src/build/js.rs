//! `plaza build` for a JavaScript or TypeScript mini-app: `tsc` (TypeScript,
//! with the world's types from `jco guest-types`), then `jco componentize`.

use super::{Lang, OUT_DIR, built, prepare_world, run, toolchain, world::WORLD};
use anyhow::Result;
use std::path::{Path, PathBuf};

/// Builds `src/app.js` (or `src/app.ts`) of the mini-app in `dir`.
pub fn build(dir: &Path, lang: Lang) -> Result<PathBuf> {
    let (wit, network) = prepare_world(dir)?;
    let node = toolchain::node(dir)?;
    let progress = crate::ui::Progress::start(
        "Building",
        &format!("{} ({}) with componentize-js", dir.display(), lang.as_str()),
    );
    let out = dir.join(OUT_DIR);
    let entry = if lang == Lang::Ts {
        // The world's types, so `tsc` refuses a call to an undeclared capability.
        run(
            node.jco()
                .args(["guest-types"])
                .arg(&wit)
                .args(["--world-name", WORLD, "-o"])
                .arg(out.join("types")),
            "jco guest-types",
        )?;
        run(
            node.tsc().arg("-p").arg(dir.join("tsconfig.json")),
            "tsc (the TypeScript compiler)",
        )?;
        out.join("js/app.js")
    } else {
        dir.join("src/app.js")
    };
    let wasm = out.join("app.wasm");
    // `fetch` needs wasi:http: only for a manifest that declares the network.
    let disable: &[&str] = if network {
        &["fetch-event"]
    } else {
        &["http", "fetch-event"]
    };
    run(
        node.jco()
            .arg("componentize")
            .arg(&entry)
            .arg("--wit")
            .arg(&wit)
            .args(["--world-name", WORLD, "--disable"])
            .args(disable)
            .arg("-o")
            .arg(&wasm),
        "jco componentize",
    )?;
    built(progress, dir, wasm)
}
