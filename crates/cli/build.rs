//! Embeds the WIT contract JavaScript, TypeScript and Python mini-apps build
//! against (`host-api/wit`, `plaza:host@0.1.1`: they export `pages`, as Rust
//! mini-apps do) and the WASI HTTP interfaces
//! (`host-api/wasi-http`) in the `plaza` binary: `plaza build` writes them,
//! with the world a mini-app's manifest makes, beside such a mini-app. Every
//! `.wit` file of those folders is taken, so a new interface file needs no
//! change here. Likewise the TypeScript sources of the JavaScript SDK
//! (`host-api/js/src`, every `.ts` file), which `plaza build` writes into
//! `.plaza/sdk` of a JavaScript or TypeScript mini-app.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../host-api");
    let mut contract = String::new();
    let mut sdk = String::new();
    for (name, folder, ext) in [
        ("PLAZA_HOST_WIT", "wit", "wit"),
        ("WASI_HTTP_WIT", "wasi-http", "wit"),
        ("JS_SDK", "js/src", "ts"),
    ] {
        let out = if ext == "ts" { &mut sdk } else { &mut contract };
        let dir = root.join(folder);
        println!("cargo:rerun-if-changed={}", dir.display());
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
            .map(|e| e.expect("a folder entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == ext))
            .collect();
        files.sort();
        writeln!(out, "pub const {name}: &[(&str, &str)] = &[").unwrap();
        for path in files {
            let path = path.canonicalize().expect("a contract file's path");
            println!("cargo:rerun-if-changed={}", path.display());
            let file = path
                .file_name()
                .and_then(|n| n.to_str())
                .expect("a file name");
            writeln!(
                out,
                "    ({file:?}, include_str!({:?})),",
                path.display().to_string()
            )
            .unwrap();
        }
        writeln!(out, "];").unwrap();
    }
    let out_dir = std::env::var("OUT_DIR").expect("OUT_DIR");
    std::fs::write(Path::new(&out_dir).join("contract.rs"), contract).expect("writing contract.rs");
    std::fs::write(Path::new(&out_dir).join("js_sdk.rs"), sdk).expect("writing js_sdk.rs");
}
