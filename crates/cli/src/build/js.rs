//! `plaza build` for a JavaScript or TypeScript mini-app: the SDK written
//! into `.plaza/sdk`, `esbuild` (the app, the SDK modules it imports and any
//! npm package it uses, bundled into `.plaza/app.js`; an SDK import of an
//! undeclared capability is named here), `tsc` (TypeScript: a type check
//! against the world's types from `jco guest-types`), then `jco componentize`.

use super::{
    Lang, OUT_DIR, built, imports, prepare_world, read_manifest, run, toolchain, world::WORLD,
};
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

mod sdk {
    include!(concat!(env!("OUT_DIR"), "/js_sdk.rs"));
}

/// The folder under `.plaza` the SDK (`@plaza/sdk`) is written to.
pub const SDK_DIR: &str = "sdk";

/// Builds `src/app.js` (or `src/app.ts`) of the mini-app in `dir`.
pub fn build(dir: &Path, lang: Lang) -> Result<PathBuf> {
    let entry = if lang == Lang::Ts {
        "src/app.ts"
    } else {
        "src/app.js"
    };
    super::refuse_the_0_1_0_export(
        dir,
        entry,
        "export const app ",
        "export const pages ",
        "write `export const pages = defineApp(...)`",
    )?;
    let (wit, network) = prepare_world(dir)?;
    let node = toolchain::node(dir)?;
    let progress = crate::ui::Progress::start(
        "Building",
        &format!("{} ({}) with componentize-js", dir.display(), lang.as_str()),
    );
    let out = dir.join(OUT_DIR);
    write_sdk(&out.join(SDK_DIR))?;
    // componentize-js takes one module: the app with what it imports, the
    // host's interfaces left as imports of the component. esbuild only strips
    // TypeScript's types, so this comes first: an import of a capability
    // plaza.toml does not declare is named here, in a second, rather than
    // by `tsc` or componentize-js in their own words.
    let bundle = out.join("app.js");
    let metafile = out.join("app.meta.json");
    run(
        node.esbuild()
            .current_dir(dir)
            .arg(entry)
            .args([
                "--bundle",
                "--format=esm",
                "--platform=browser",
                "--target=es2022",
                "--external:plaza:*",
                "--external:wasi:*",
                "--log-level=warning",
            ])
            .arg(format!("--alias:@plaza/sdk=./{OUT_DIR}/{SDK_DIR}"))
            .arg(format!("--outfile={}", bundle.display()))
            .arg(format!("--metafile={}", metafile.display())),
        "esbuild (bundling the app with @plaza/sdk)",
    )?;
    let undeclared = imports::undeclared_in_bundle(&read_manifest(dir)?, &metafile)?;
    if !undeclared.is_empty() {
        return Err(imports::error(&undeclared));
    }
    if lang == Lang::Ts {
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
            node.tsc()
                .arg("-p")
                .arg(dir.join("tsconfig.json"))
                .arg("--noEmit"),
            "tsc (the TypeScript compiler)",
        )?;
    }
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
            .arg(&bundle)
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

/// Writes the SDK's TypeScript sources into `dir` (emptied first), where the
/// app's `@plaza/sdk` imports lead (tsconfig.json's `paths`, esbuild's alias).
pub fn write_sdk(dir: &Path) -> Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("emptying {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for (name, text) in sdk::JS_SDK {
        let path = dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// Feeds the SDK's sources to `h` (a changed SDK builds the app again).
pub fn sdk_hash(h: &mut impl std::hash::Hasher) {
    use std::hash::Hash;
    sdk::JS_SDK.hash(h);
}

#[cfg(test)]
mod tests {
    /// Every module of the SDK is embedded, the core one among them.
    #[test]
    fn the_sdk_is_embedded_whole() {
        let names: Vec<&str> = super::sdk::JS_SDK.iter().map(|(n, _)| *n).collect();
        for module in [
            "index.ts",
            "errors.ts",
            "storage.ts",
            "identity.ts",
            "payment.ts",
            "messaging.ts",
            "log.ts",
            "clock.ts",
            "config.ts",
        ] {
            assert!(names.contains(&module), "{module} missing from {names:?}");
        }
    }
}
