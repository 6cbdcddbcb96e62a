//! `plaza new` end to end: each template, generated into an empty temporary
//! folder, builds, passes its own scenario, packs, is signed with a fresh
//! publisher key, installs outside developer mode and shows its home page —
//! with the CLI alone and no edit. And the names, folders, ids and templates
//! it refuses, each with the fix.
//!
//! Every template in every language (Rust, JavaScript, TypeScript, Python).
//!
//! The guests share one cargo target folder (under `CARGO_TARGET_TMPDIR`), so
//! the SDK and its dependencies compile once for all templates and runs; the
//! JavaScript, TypeScript and Python toolchains are installed once (by
//! `plaza build` itself, at the first build) into a folder there too (see
//! `common::guests`). Each mini-app is built once per run: `plaza build` and
//! `plaza pack` after `plaza test` find its component fresh.

mod common;

use common::{err, ok, plaza_in as plaza};
use std::process::Command;
use std::time::Instant;

/// `plaza new NAME --template T --lang L`, then everything the tutorial does;
/// the installed mini-app's first page is titled `home_title` and shows
/// `home_text` (what the template's home page shows in every language).
fn template_works_as_generated(
    template: &str,
    lang: &str,
    name: &str,
    home_title: &str,
    home_text: &str,
) {
    let started = Instant::now();
    let id = format!("com.example.{}", name.replace('_', "-"));
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();

    let o = plaza(root, &["new", name, "--template", template, "--lang", lang]);
    ok(&o, "plaza new");
    assert!(
        err(&o).contains(&format!("Created {name} ({id}")),
        "{}",
        err(&o)
    );
    let app = root.join(name);
    let files: &[&str] = match lang {
        "rust" => &["Cargo.toml", "Cargo.lock", "src/lib.rs"],
        "js" => &["package.json", "src/app.js"],
        "ts" => &["package.json", "tsconfig.json", "src/app.ts"],
        _ => &["src/app.py"],
    };
    for file in files
        .iter()
        .chain(&["plaza.toml", ".gitignore", "README.md"])
    {
        assert!(app.join(file).is_file(), "{file} missing");
    }
    let manifest = std::fs::read_to_string(app.join("plaza.toml")).unwrap();
    assert!(manifest.contains(&format!("id = \"{id}\"")));
    // Every table, and every key of [app] and [publisher], is explained by a
    // comment right above it.
    let (mut previous, mut table) = ("", "");
    for line in manifest.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let header = line.starts_with('[') && !line.starts_with("[[");
        let key = matches!(table, "[app]" | "[publisher]") && line.contains(" = ");
        if header || key {
            assert!(
                previous.starts_with('#'),
                "{template}: `{line}` has no comment above it"
            );
        }
        if line.starts_with('[') {
            table = line;
        }
        previous = line;
    }

    // Its scenario passes: `plaza test` in the folder finds the scenarios and
    // builds the folder itself (Cargo.toml, package.json and plaza.toml are
    // not read as scenarios).
    let o = plaza(&app, &["test"]);
    let text = ok(&o, "plaza test");
    assert!(text.contains("1 passed, 0 failed"), "{text}");
    assert!(err(&o).contains("Built"), "{}", err(&o));

    // Build, key, pack, sign, verify.
    let o = plaza(&app, &["build", "."]);
    let wasm = ok(&o, "plaza build");
    assert!(wasm.trim().ends_with(".wasm"), "{wasm}");
    ok(
        &plaza(&app, &["keygen", "-o", "publisher.key"]),
        "plaza keygen",
    );
    let package = format!("{name}.plaza");
    let o = plaza(&app, &["pack", ".", "-o", &package]);
    ok(&o, "plaza pack");
    assert!(
        err(&o).contains(&format!("Packed {id} 0.1.0 into {package}")),
        "{}",
        err(&o)
    );
    ok(
        &plaza(&app, &["sign", &package, "--key", "publisher.key"]),
        "plaza sign",
    );
    let o = plaza(
        &app,
        &["verify", &package, "--public-key", "publisher.key.pub"],
    );
    assert!(ok(&o, "plaza verify").starts_with("signature OK"));

    // The host operator registers the publisher; the signed package installs
    // outside developer mode and runs.
    let manifest: toml::Table = toml::from_str(&manifest).unwrap();
    let publisher = manifest["publisher"].as_table().unwrap();
    ok(
        &plaza(
            &app,
            &[
                "publisher",
                "add",
                publisher["id"].as_str().unwrap(),
                "--name",
                publisher["name"].as_str().unwrap(),
                "--category",
                publisher["category"].as_str().unwrap(),
                "--key",
                "publisher.key.pub",
            ],
        ),
        "plaza publisher add",
    );
    let o = plaza(&app, &["install", &package]);
    assert!(ok(&o, "plaza install").starts_with(&format!("installed {id} 0.1.0")));
    let script = app.join("quit.txt");
    std::fs::write(&script, "quit\n").unwrap();
    let o = plaza(
        &app,
        &[
            "run",
            &id,
            "--script",
            script.to_str().unwrap(),
            "--consent",
            "allow",
        ],
    );
    let page = ok(&o, "plaza run");
    // The host's questions (the payment template asks for the profile) come
    // before the page.
    let shown: Vec<&str> = page.lines().skip_while(|l| l.starts_with("? ")).collect();
    assert_eq!(shown.first(), Some(&home_title), "{page}");
    assert!(shown.iter().any(|l| l.contains(home_text)), "{page}");
    eprintln!(
        "template {template} ({lang}): new, test, build, keygen, pack, sign, verify, install, run in {:.1}s",
        started.elapsed().as_secs_f64()
    );
}

/// What each template's home page shows, in every language.
const BASIC_HOME: &str = "No notes yet.";
const SERVICE_ACCOUNT_HOME: &str = "Opening hours: Monday to Friday, 9:00 to 17:00.";
const PAYMENT_HOME: &str = "Longjing tea, 100 g";

#[test]
fn the_basic_template_works_as_generated() {
    template_works_as_generated("basic", "rust", "my-notes", "My Notes", BASIC_HOME);
}

#[test]
fn the_service_account_template_works_as_generated() {
    template_works_as_generated(
        "service-account",
        "rust",
        "city-news",
        "City News",
        SERVICE_ACCOUNT_HOME,
    );
}

#[test]
fn the_payment_template_works_as_generated() {
    template_works_as_generated("payment", "rust", "tea_shop", "Tea Shop", PAYMENT_HOME);
}

// Every template in each other language. componentize-js and componentize-py
// take 20-50 s a build and Wasmtime 6-9 s to compile what they make: each
// mini-app is built once (by `plaza test`; `plaza build` and `plaza pack`
// find it fresh) and compiled once (the compiled-component cache beside the
// store serves `plaza install` and `plaza run`), with the toolchains
// installed once for all of them.

#[test]
fn the_basic_template_works_as_generated_in_javascript() {
    template_works_as_generated("basic", "js", "notes-js", "Notes Js", BASIC_HOME);
}

#[test]
fn the_basic_template_works_as_generated_in_typescript() {
    template_works_as_generated("basic", "ts", "notes-ts", "Notes Ts", BASIC_HOME);
}

#[test]
fn the_basic_template_works_as_generated_in_python() {
    template_works_as_generated("basic", "python", "notes-py", "Notes Py", BASIC_HOME);
}

#[test]
fn the_service_account_template_works_as_generated_in_javascript() {
    template_works_as_generated(
        "service-account",
        "js",
        "city-news-js",
        "City News Js",
        SERVICE_ACCOUNT_HOME,
    );
}

#[test]
fn the_service_account_template_works_as_generated_in_typescript() {
    template_works_as_generated(
        "service-account",
        "ts",
        "city-news-ts",
        "City News Ts",
        SERVICE_ACCOUNT_HOME,
    );
}

#[test]
fn the_service_account_template_works_as_generated_in_python() {
    template_works_as_generated(
        "service-account",
        "python",
        "city-news-py",
        "City News Py",
        SERVICE_ACCOUNT_HOME,
    );
}

#[test]
fn the_payment_template_works_as_generated_in_javascript() {
    template_works_as_generated("payment", "js", "tea-shop-js", "Tea Shop Js", PAYMENT_HOME);
}

#[test]
fn the_payment_template_works_as_generated_in_typescript() {
    template_works_as_generated("payment", "ts", "tea-shop-ts", "Tea Shop Ts", PAYMENT_HOME);
}

#[test]
fn the_payment_template_works_as_generated_in_python() {
    template_works_as_generated(
        "payment",
        "python",
        "tea-shop-py",
        "Tea Shop Py",
        PAYMENT_HOME,
    );
}

#[test]
fn bad_names_folders_ids_and_templates_are_refused_with_the_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();

    let o = plaza(root, &["new", "My Clinic"]);
    assert!(!o.status.success());
    assert!(
        err(&o).contains("`My Clinic` is not a mini-app name")
            && err(&o).contains("such as `my-clinic`"),
        "{}",
        err(&o)
    );
    assert!(!root.join("My Clinic").exists());

    let o = plaza(root, &["new", "fn"]);
    assert!(err(&o).contains("Rust keyword"), "{}", err(&o));

    std::fs::create_dir(root.join("taken")).unwrap();
    std::fs::write(root.join("taken/notes.txt"), "mine").unwrap();
    let o = plaza(root, &["new", "taken"]);
    assert!(!o.status.success());
    assert!(err(&o).contains("exists and is not empty"), "{}", err(&o));
    assert_eq!(
        std::fs::read_dir(root.join("taken")).unwrap().count(),
        1,
        "nothing was written into the folder"
    );

    // An empty folder is fine.
    std::fs::create_dir(root.join("empty")).unwrap();
    ok(
        &plaza(root, &["new", "empty"]),
        "plaza new into an empty folder",
    );
    assert!(root.join("empty/plaza.toml").is_file());

    let o = plaza(root, &["new", "clinic", "--id", "Clinic"]);
    assert!(
        err(&o).contains("`Clinic` is not a mini-app id"),
        "{}",
        err(&o)
    );

    let o = plaza(root, &["new", "clinic", "--sdk-path", "/nowhere"]);
    assert!(err(&o).contains("no Plaza SDK at /nowhere"), "{}", err(&o));

    let o = plaza(root, &["new", "clinic", "--template", "payments"]);
    assert!(!o.status.success());
    assert!(
        err(&o).contains("a similar value exists: 'payment'"),
        "{}",
        err(&o)
    );
    assert!(!root.join("clinic").exists());
}

/// Without Node.js or Python on the PATH, `plaza build` says what to install
/// instead of failing inside a toolchain; nothing is installed.
#[test]
fn a_missing_node_or_python_is_named_with_where_to_get_it() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    for (lang, program) in [("js", "node"), ("ts", "node"), ("python", "python3")] {
        let name = format!("no-{lang}");
        ok(&plaza(root, &["new", &name, "--lang", lang]), "plaza new");
        let o = Command::new(env!("CARGO_BIN_EXE_plaza"))
            .args(["build", "."])
            .current_dir(root.join(&name))
            .env("PATH", root.join("empty-path"))
            .env("PLAZA_TOOLCHAINS", root.join("toolchains"))
            .env("NO_COLOR", "1")
            .output()
            .expect("run plaza");
        assert!(!o.status.success());
        assert!(
            err(&o).contains(&format!("`{program}` is not on PATH: install it (https://")),
            "{lang}: {}",
            err(&o)
        );
        assert!(!root.join("toolchains").exists(), "nothing was installed");
    }
}

/// A mini-app whose code imports the SDK module of a capability its
/// manifest does not declare is told, at build, which capability and which
/// table to add to plaza.toml, and where the import is — in JavaScript and
/// TypeScript before any toolchain but the bundler runs; in Python from
/// componentize-py's failure, without its traceback.
#[test]
fn an_sdk_module_of_an_undeclared_capability_is_named_at_build() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    for (lang, file, import, at) in [
        (
            "js",
            "src/app.js",
            "import * as payment from '@plaza/sdk/payment';\n",
            "src/app.js imports `@plaza/sdk/payment`",
        ),
        (
            "ts",
            "src/app.ts",
            "import * as payment from '@plaza/sdk/payment';\n",
            "src/app.ts imports `@plaza/sdk/payment`",
        ),
        (
            "python",
            "src/app.py",
            "from plaza_sdk import payment\n",
            "src/app.py:1 imports `plaza_sdk.payment`",
        ),
    ] {
        // The basic template declares storage and log, not payment.
        let name = format!("undeclared-{lang}");
        ok(&plaza(root, &["new", &name, "--lang", lang]), "plaza new");
        let app = root.join(&name);
        let source = app.join(file);
        let text = std::fs::read_to_string(&source).unwrap();
        let used = if lang == "python" {
            "\nprint(payment.pay)\n"
        } else {
            "\nconsole.log(typeof payment.pay);\n"
        };
        std::fs::write(&source, format!("{import}{text}{used}")).unwrap();
        let o = plaza(&app, &["build", "."]);
        assert!(!o.status.success(), "{lang}: the build succeeded");
        let e = err(&o);
        assert!(
            e.contains(at)
                && e.contains("the `payment` capability")
                && e.contains("add [capabilities.payment] to plaza.toml"),
            "{lang}: {e}"
        );
        assert!(!e.contains("Traceback"), "{lang}: {e}");
        assert!(!app.join(".plaza/app.wasm").exists(), "{lang}: a component");
    }
}
