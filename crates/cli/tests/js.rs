//! JavaScript and TypeScript mini-apps on the SDK (`host-api/js`,
//! `@plaza/sdk`), end to end with the CLI: the SDK probe (a JavaScript app:
//! the page builder's blocks, each host error as its typed exception, `fetch`
//! to the loopback agency back-end allowed for the declared origin and refused
//! for an undeclared one) and the hotel-finder sample (TypeScript: its
//! scenarios; build, pack, sign, install outside developer mode and run).
//!
//! componentize-js takes a minute or two a build on a busy machine: each app
//! is copied once into a folder under `CARGO_TARGET_TMPDIR` and built there
//! by the first `plaza` command that needs it; `plaza build` finds it fresh
//! afterwards (in this run and the next, until a source, the SDK or the
//! toolchain changes). The pinned toolchains are installed by `plaza build`
//! itself, into the folder `new.rs` uses too.

mod common;

use common::{copy_sources, err, ok, out, plaza_in_store as plaza, toolchains};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn tmp_root() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("plaza-js")
}

/// A copy of the mini-app at `source` (relative to the repository), built:
/// kept between runs (its sources refreshed, its `.plaza` kept, so an
/// unchanged app is fresh), built once per run by the first test that asks.
/// Builds run one at a time.
fn built_app(source: &str) -> PathBuf {
    static BUILT: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let mut built = BUILT.lock().unwrap_or_else(|p| p.into_inner());
    let from = repo().join(source);
    let to = tmp_root().join(from.file_name().unwrap());
    if !built.iter().any(|b| b == source) {
        copy_sources(&from, &to);
        let store = tempfile::tempdir().unwrap();
        // Built from the folder above, by a relative path, as
        // `scripts/demo.sh` builds the samples.
        let name = to.file_name().unwrap().to_str().unwrap();
        ok(
            &plaza(
                to.parent().unwrap(),
                &store.path().join("plaza.db"),
                &["build", name],
            ),
            &format!("plaza build ({source})"),
        );
        built.push(source.to_string());
    }
    to
}

/// The SDK probe's scenario: the page builder's blocks as the host renders
/// them, each WIT error case thrown as its class of the SDK, and `fetch`
/// through the network capability — the declared origin answers, an
/// undeclared one is refused by the host before anything connects.
#[test]
fn the_sdk_probe_passes_its_scenario_in_a_real_host() {
    let app = built_app("crates/cli/tests/apps/sdk-probe");
    let store = tempfile::tempdir().unwrap();
    let o = plaza(&app, &store.path().join("plaza.db"), &["test"]);
    let text = ok(&o, "plaza test (sdk-probe)");
    assert!(text.contains("1 passed, 0 failed"), "{text}\n{}", err(&o));
}

/// The hotel finder's scenarios: location with consent or an area picked
/// instead, hotels from the agency back-end over `fetch`, a booking paid
/// through the ledger and cancelled for a refund.
#[test]
fn the_hotel_finder_passes_its_scenarios() {
    let app = built_app("sample-miniapps/hotel-finder");
    let store = tempfile::tempdir().unwrap();
    let o = plaza(&app, &store.path().join("plaza.db"), &["test"]);
    let text = ok(&o, "plaza test (hotel-finder)");
    assert!(text.contains(" passed, 0 failed"), "{text}\n{}", err(&o));
    assert!(!text.contains(" 0 passed"), "{text}");
}

/// Build, key, pack, sign, register the publisher, install outside
/// developer mode and run: the signed TypeScript package is a mini-app like
/// any other.
#[test]
fn the_hotel_finder_installs_signed_outside_developer_mode_and_runs() {
    let app = built_app("sample-miniapps/hotel-finder");
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("plaza.db");
    let run = |args: &[&str]| plaza(&app, &store, args);
    let wasm = ok(&run(&["build", "."]), "plaza build");
    assert!(wasm.trim().ends_with("app.wasm"), "{wasm}");
    let key = tmp.path().join("publisher.key");
    let key = key.to_str().unwrap();
    ok(&run(&["keygen", "-o", key]), "plaza keygen");
    let package = tmp.path().join("hotel-finder.plaza");
    let package = package.to_str().unwrap();
    ok(&run(&["pack", ".", "-o", package]), "plaza pack");
    ok(&run(&["sign", package, "--key", key]), "plaza sign");
    ok(
        &run(&[
            "publisher",
            "add",
            "cn.hz.westlake-travel",
            "--name",
            "West Lake Travel",
            "--category",
            "commerce",
            "--key",
            &format!("{key}.pub"),
            "--verified",
        ]),
        "plaza publisher add",
    );
    let o = run(&["install", package]);
    assert!(
        ok(&o, "plaza install").starts_with("installed cn.hz.westlake-travel.hotels 0.1.0"),
        "{}",
        out(&o)
    );
    // The user refuses the location: the areas to pick from instead.
    let script = tmp.path().join("quit.txt");
    std::fs::write(&script, "quit\n").unwrap();
    let o = run(&[
        "run",
        "cn.hz.westlake-travel.hotels",
        "--script",
        script.to_str().unwrap(),
        "--consent",
        "deny",
    ]);
    let page = ok(&o, "plaza run");
    let shown: Vec<&str> = page.lines().skip_while(|l| l.starts_with("? ")).collect();
    assert_eq!(shown.first(), Some(&"Hotel Finder"), "{page}");
    assert!(
        page.contains("Without your location, pick an area to search.")
            && page.contains("West Lake"),
        "{page}"
    );
}

/// The TypeScript examples of `docs/languages.md` type-check with `tsc`
/// against the SDK and the types of the hotel finder's world (which declares
/// every capability they use), with the template's compiler options.
#[test]
fn the_typescript_examples_of_the_languages_doc_type_check() {
    let hotel = built_app("sample-miniapps/hotel-finder");
    let doc = std::fs::read_to_string(repo().join("docs/languages.md")).unwrap();
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in doc.lines() {
        match &mut current {
            None if line == "```ts" => current = Some(String::new()),
            Some(_) if line == "```" => blocks.extend(current.take()),
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
            None => {}
        }
    }
    assert!(blocks.len() >= 6, "{} ts blocks", blocks.len());
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("src")).unwrap();
    for (i, block) in blocks.iter().enumerate() {
        std::fs::write(tmp.path().join(format!("src/example{i}.ts")), block).unwrap();
    }
    let plaza_dir = hotel.join(".plaza");
    let tsconfig =
        std::fs::read_to_string(repo().join("crates/cli/templates/common/ts/tsconfig.json"))
            .unwrap()
            .replace("./.plaza/", &format!("{}/", plaza_dir.display()))
            .replace(
                "\".plaza/types\"",
                &format!("\"{}/types\"", plaza_dir.display()),
            );
    std::fs::write(tmp.path().join("tsconfig.json"), tsconfig).unwrap();
    // The TypeScript compiler `plaza build` installed.
    let tsc = std::fs::read_dir(toolchains())
        .unwrap()
        .map(|e| e.unwrap().path().join("node_modules/typescript/bin/tsc"))
        .find(|p| p.is_file())
        .expect("the toolchain plaza build installed");
    let o = Command::new("node")
        .arg(tsc)
        .arg("-p")
        .arg(tmp.path().join("tsconfig.json"))
        .output()
        .expect("run tsc");
    assert!(
        o.status.success(),
        "tsc on docs/languages.md's examples:\n{}{}",
        out(&o),
        err(&o)
    );
}

/// The TypeScript examples of `docs/api.md` (`host-api/js/examples`, one
/// per interface) type-check with the pinned `tsc` against the SDK's
/// sources and the types `jco guest-types` makes of the contract's full
/// world (`plaza:host/mini-app` of `host-api/wit`: every capability, the
/// `pages` export), with the template's compiler options.
#[test]
fn the_typescript_examples_of_the_api_reference_type_check() {
    // A build installs the pinned toolchain first.
    built_app("crates/cli/tests/apps/sdk-probe");
    let toolchains = Path::new(env!("CARGO_TARGET_TMPDIR")).join("plaza-new-guests/toolchains");
    let node_modules = std::fs::read_dir(&toolchains)
        .unwrap()
        .map(|e| e.unwrap().path().join("node_modules"))
        .find(|p| p.join("typescript/bin/tsc").is_file())
        .expect("the toolchain plaza build installed");
    let tmp = tempfile::tempdir().unwrap();
    let types = tmp.path().join("types");
    let o = Command::new("node")
        .arg(node_modules.join("@bytecodealliance/jco/dist/jco.js"))
        .arg("guest-types")
        .arg(repo().join("host-api/wit"))
        .args(["--world-name", "plaza:host/mini-app", "-o"])
        .arg(&types)
        .output()
        .expect("run jco guest-types");
    ok(&o, "jco guest-types");
    let examples = repo().join("host-api/js/examples");
    let count = std::fs::read_dir(&examples).unwrap().count();
    assert!(count >= 10, "{count} TypeScript examples");
    let sdk = repo().join("host-api/js/src");
    let tsconfig =
        std::fs::read_to_string(repo().join("crates/cli/templates/common/ts/tsconfig.json"))
            .unwrap()
            .replace("./.plaza/sdk/", &format!("{}/", sdk.display()))
            .replace(
                "\"include\": [\"src\", \".plaza/types\"]",
                &format!(
                    "\"include\": [\"{}\", \"{}\"]",
                    examples.display(),
                    types.display()
                ),
            );
    assert!(
        tsconfig.contains(&examples.display().to_string()),
        "{tsconfig}"
    );
    std::fs::write(tmp.path().join("tsconfig.json"), tsconfig).unwrap();
    let o = Command::new("node")
        .arg(node_modules.join("typescript/bin/tsc"))
        .arg("-p")
        .arg(tmp.path().join("tsconfig.json"))
        .output()
        .expect("run tsc");
    assert!(
        o.status.success(),
        "tsc on host-api/js/examples:\n{}{}",
        out(&o),
        err(&o)
    );
}
