//! `plaza new`: scaffold a mini-app from a template — `Cargo.toml`,
//! `src/lib.rs`, a commented `plaza.toml` and a scenario test — that builds,
//! packs, runs and passes its scenario with no edits.
//!
//! ```text
//! plaza new my-clinic                          # the basic template: a page, storage
//! plaza new city-news --template service-account
//! plaza new tea-shop --template payment --id cn.hz.teashop
//! ```
//!
//! The templates are the files under `crates/cli/templates/`, compiled into
//! the binary. The SDK is not on crates.io: the generated `Cargo.toml` points
//! at `crates/sdk` of the checkout `plaza` was built from (`--sdk-path`
//! overrides it), and declares a `[workspace]` of its own so that a workspace
//! around the new folder does not take it in.

use crate::build::Lang;
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `plaza new`.
#[derive(Debug, clap::Args)]
pub struct NewArgs {
    /// The folder to create; its last part is the crate name (lowercase
    /// letters, digits, `-` and `_`, starting with a letter).
    #[arg(value_name = "NAME")]
    path: PathBuf,
    /// What the mini-app starts as.
    #[arg(long, short, value_enum, default_value = "basic")]
    template: Template,
    /// The language it is written in.
    #[arg(long, short, value_enum, default_value = "rust")]
    lang: Lang,
    /// The mini-app id, reverse-DNS (default: `com.example.NAME`). The
    /// publisher id is the id without its last label.
    #[arg(long, value_name = "ID")]
    id: Option<String>,
    /// The Plaza SDK to depend on: a checkout's `crates/sdk` (default: the one
    /// `plaza` was built from).
    #[arg(long, value_name = "DIR")]
    sdk_path: Option<PathBuf>,
}

/// The templates `plaza new` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Template {
    /// A page that counts visits and keeps notes in storage.
    Basic,
    /// A public service account: a subscription message, a broadcast to
    /// followers, a reply in a conversation.
    ServiceAccount,
    /// A shop: an order paid through the payment capability, the receipt, the
    /// payment history, a refund.
    Payment,
}

impl Template {
    /// Every template, in the order `--help` lists them.
    #[cfg(test)]
    pub const ALL: [Template; 3] = [Template::Basic, Template::ServiceAccount, Template::Payment];

    /// The name on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Template::Basic => "basic",
            Template::ServiceAccount => "service-account",
            Template::Payment => "payment",
        }
    }

    /// The template's own files in `lang`: (path in the new folder, text).
    fn files(self, lang: Lang) -> Vec<(&'static str, &'static str)> {
        macro_rules! t {
            ($dir:literal, $($path:literal),*) => {
                vec![$(($path, include_str!(concat!("../templates/", $dir, "/", $path)))),*]
            };
        }
        /// The mini-app's source in each language.
        macro_rules! source {
            ($dir:literal) => {
                match lang {
                    Lang::Rust => include_str!(concat!("../templates/", $dir, "/src/lib.rs")),
                    Lang::Js => include_str!(concat!("../templates/", $dir, "/js/app.js")),
                    Lang::Ts => include_str!(concat!("../templates/", $dir, "/ts/app.ts")),
                    Lang::Python => include_str!(concat!("../templates/", $dir, "/python/app.py")),
                }
            };
        }
        let (mut files, source) = match self {
            Template::Basic => (
                t!("basic", "plaza.toml", "scenarios/notes.toml"),
                source!("basic"),
            ),
            Template::ServiceAccount => (
                t!("service-account", "plaza.toml", "scenarios/messages.toml"),
                source!("service-account"),
            ),
            Template::Payment => (
                t!("payment", "plaza.toml", "scenarios/order.toml"),
                source!("payment"),
            ),
        };
        files.push((source_file(lang), source));
        files
    }
}

/// The file holding the code of a mini-app in `lang`.
fn source_file(lang: Lang) -> &'static str {
    match lang {
        Lang::Rust => "src/lib.rs",
        Lang::Js => "src/app.js",
        Lang::Ts => "src/app.ts",
        Lang::Python => "src/app.py",
    }
}

/// Files every template has in `lang`.
fn common(lang: Lang) -> &'static [(&'static str, &'static str)] {
    const GITIGNORE: (&str, &str) = (".gitignore", include_str!("../templates/common/gitignore"));
    const README: (&str, &str) = ("README.md", include_str!("../templates/common/README.md"));
    const PACKAGE: (&str, &str) = (
        "package.json",
        include_str!("../templates/common/js/package.json"),
    );
    match lang {
        Lang::Rust => COMMON_RUST,
        Lang::Js => &[PACKAGE, GITIGNORE, README],
        Lang::Ts => &[
            PACKAGE,
            (
                "tsconfig.json",
                include_str!("../templates/common/ts/tsconfig.json"),
            ),
            GITIGNORE,
            README,
        ],
        Lang::Python => &[GITIGNORE, README],
    }
}

/// Files every Rust mini-app has.
const COMMON_RUST: &[(&str, &str)] = &[
    ("Cargo.toml", include_str!("../templates/common/Cargo.toml")),
    // The versions the SDK was last built with, so the first build needs no
    // registry look-up (cargo updates it if the SDK asks for newer ones).
    ("Cargo.lock", include_str!("../templates/common/Cargo.lock")),
    (".gitignore", include_str!("../templates/common/gitignore")),
    (
        "rust-toolchain.toml",
        concat!(
            "# The Rust toolchain Plaza is built and tested with; rustup installs it,\n",
            "# with the wasm32-wasip2 target mini-apps compile for, at the first build.\n",
            include_str!("../../../rust-toolchain.toml")
        ),
    ),
    ("README.md", include_str!("../templates/common/README.md")),
];

/// The SDK of the checkout this binary was built from.
fn built_in_sdk() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../sdk")
}

/// Rust keywords and crate names a mini-app cannot take.
const RESERVED: &[&str] = &[
    "as",
    "async",
    "await",
    "box",
    "break",
    "const",
    "continue",
    "crate",
    "dyn",
    "else",
    "enum",
    "extern",
    "false",
    "fn",
    "for",
    "if",
    "impl",
    "in",
    "let",
    "loop",
    "match",
    "mod",
    "move",
    "mut",
    "priv",
    "pub",
    "ref",
    "return",
    "self",
    "static",
    "struct",
    "super",
    "trait",
    "true",
    "try",
    "type",
    "unsafe",
    "use",
    "where",
    "while",
    "yield",
    "abstract",
    "become",
    "do",
    "final",
    "gen",
    "macro",
    "override",
    "typeof",
    "unsized",
    "virtual",
    "core",
    "std",
    "alloc",
    "test",
    "proc_macro",
    "proc-macro",
    "plaza-sdk",
    "plaza_sdk",
];

/// Why `name` is not a crate name a mini-app can have, if it is not.
pub fn check_name(name: &str) -> Result<(), String> {
    let suggestion = suggest_name(name);
    let fix = match &suggestion {
        Some(s) if s != name => format!(" (such as `{s}`)"),
        _ => String::new(),
    };
    if name.is_empty() || name.len() > 64 {
        return Err(format!(
            "`{name}` is not a mini-app name: it must be 1 to 64 characters{fix}"
        ));
    }
    let first = name.chars().next().unwrap_or(' ');
    if !first.is_ascii_lowercase()
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
    {
        return Err(format!(
            "`{name}` is not a mini-app name: use lowercase ASCII letters, digits, `-` and `_`, starting with a letter{fix}"
        ));
    }
    if RESERVED.contains(&name) {
        return Err(format!(
            "`{name}` is a Rust keyword or a reserved crate name: choose another name, such as `my-{name}`"
        ));
    }
    Ok(())
}

/// A valid name close to `name` (lowercased, spaces and dots to `-`).
fn suggest_name(name: &str) -> Option<String> {
    let mut s: String = name
        .trim()
        .chars()
        .map(|c| match c {
            'A'..='Z' => c.to_ascii_lowercase(),
            'a'..='z' | '0'..='9' | '-' | '_' => c,
            _ => '-',
        })
        .collect();
    while s.contains("--") {
        s = s.replace("--", "-");
    }
    let s = s.trim_matches(|c| c == '-' || c == '_').to_string();
    let s = match s.chars().next() {
        Some(c) if c.is_ascii_lowercase() => s,
        Some(_) => format!("app-{s}"),
        None => return None,
    };
    (s.len() <= 64 && !RESERVED.contains(&s.as_str())).then_some(s)
}

/// Whether `id` is a reverse-DNS id the manifest accepts.
fn is_reverse_dns(id: &str) -> bool {
    let labels: Vec<&str> = id.split('.').collect();
    labels.len() >= 2
        && id.len() <= 128
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        })
}

/// "My Clinic" for `my-clinic`.
fn display_name(name: &str) -> String {
    name.split(['-', '_'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A TOML basic string holding `s`.
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// What the placeholders of the templates stand for.
struct Values {
    name: String,
    display_name: String,
    app_id: String,
    publisher_id: String,
    sdk_path: String,
    template: &'static str,
    /// The language's name on the command line.
    lang: &'static str,
    /// The file holding the mini-app's code.
    source: &'static str,
}

fn render(text: &str, v: &Values) -> String {
    // The SDK path goes into a TOML string: `{{sdk_path}}` sits between quotes.
    let sdk = toml_string(&v.sdk_path);
    text.replace("\"{{sdk_path}}\"", &sdk)
        .replace("{{name}}", &v.name)
        .replace("{{display_name}}", &v.display_name)
        .replace("{{app_id}}", &v.app_id)
        .replace("{{publisher_id}}", &v.publisher_id)
        .replace("{{template}}", v.template)
        .replace("{{lang}}", v.lang)
        .replace("{{source}}", v.source)
}

/// The files `plaza new` writes for `template` in `lang` with these values.
fn files(template: Template, lang: Lang, v: &Values) -> Vec<(&'static str, String)> {
    common(lang)
        .iter()
        .copied()
        .chain(template.files(lang))
        .map(|(path, text)| (path, render(text, v)))
        .collect()
}

/// `plaza new`.
pub fn new(args: NewArgs) -> Result<ExitCode> {
    let dir = args.path;
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .with_context(|| format!("`{}` does not end in a folder name", dir.display()))?;
    check_name(&name).map_err(anyhow::Error::msg)?;
    if dir.exists() {
        if !dir.is_dir() {
            bail!(
                "{} exists and is not a folder: choose another name",
                dir.display()
            );
        }
        let mut entries = std::fs::read_dir(&dir)
            .with_context(|| format!("reading the folder {}", dir.display()))?;
        if entries.next().is_some() {
            bail!(
                "{} exists and is not empty: choose another name, or move its files away first (`plaza new` never overwrites)",
                dir.display()
            );
        }
    }
    let app_id = match args.id {
        Some(id) => {
            if !is_reverse_dns(&id) {
                bail!(
                    "`{id}` is not a mini-app id: use a reverse-DNS name of at least two dot-separated labels of lowercase letters, digits and '-', such as `cn.hz.{}`",
                    name.replace('_', "-")
                );
            }
            id
        }
        None => format!("com.example.{}", name.replace('_', "-")),
    };
    let publisher_id = match app_id.rsplit_once('.') {
        Some((p, _)) if p.contains('.') => p.to_string(),
        _ => app_id.clone(),
    };
    let sdk_path = match args.lang {
        Lang::Rust => rust_sdk(args.sdk_path.as_deref())?,
        _ => String::new(),
    };
    let values = Values {
        display_name: display_name(&name),
        name: name.clone(),
        app_id: app_id.clone(),
        publisher_id,
        sdk_path,
        template: args.template.as_str(),
        lang: args.lang.as_str(),
        source: source_file(args.lang),
    };
    for (path, text) in files(args.template, args.lang, &values) {
        let target = dir.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&target, text).with_context(|| format!("writing {}", target.display()))?;
    }
    let shown = dir.display();
    crate::ui::status(
        "Created",
        &format!(
            "{name} ({}, template {}, {}) in {shown}",
            app_id,
            args.template.as_str(),
            args.lang.as_str()
        ),
    );
    println!(
        "\nNext:\n  cd {shown}\n  plaza test                              # build it and run its scenario\n  plaza keygen -o publisher.key           # once: the publisher's key pair\n  plaza pack . -o {name}.plaza\n  plaza sign {name}.plaza --key publisher.key\n\nThe tutorial (docs/tutorial.md) goes on from here."
    );
    Ok(ExitCode::SUCCESS)
}

/// The Rust SDK a new Rust mini-app depends on: `given`, or the one of the
/// checkout `plaza` was built from.
fn rust_sdk(given: Option<&Path>) -> Result<String> {
    let sdk = given.map(Path::to_path_buf).unwrap_or_else(built_in_sdk);
    let is_sdk = std::fs::read_to_string(sdk.join("Cargo.toml"))
        .map(|t| t.contains("name = \"plaza-sdk\""))
        .unwrap_or(false);
    if !is_sdk {
        let how = if given.is_some() {
            "pass --sdk-path the `crates/sdk` folder of a Plaza checkout"
        } else {
            "this `plaza` was built from a checkout that is no longer there: pass --sdk-path the `crates/sdk` folder of a Plaza checkout"
        };
        bail!("no Plaza SDK at {}: {how}", sdk.display());
    }
    let sdk = sdk
        .canonicalize()
        .with_context(|| format!("resolving {}", sdk.display()))?;
    Ok(sdk.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> Values {
        Values {
            name: "my-app".into(),
            display_name: "My App".into(),
            app_id: "com.example.my-app".into(),
            publisher_id: "com.example".into(),
            sdk_path: "/a \"b\"\\c".into(),
            template: "basic",
            lang: "rust",
            source: "src/lib.rs",
        }
    }

    #[test]
    fn every_placeholder_of_every_template_is_filled() {
        for t in Template::ALL {
            for lang in Lang::ALL {
                for (path, text) in files(t, lang, &values()) {
                    assert!(!text.contains("{{"), "{} {path}: {text}", t.as_str());
                }
            }
        }
    }

    #[test]
    fn the_sdk_path_is_a_toml_string() {
        let cargo = &files(Template::Basic, Lang::Rust, &values())[0].1;
        let v: toml::Table = toml::from_str(cargo).unwrap();
        assert_eq!(
            v["dependencies"]["plaza-sdk"]["path"].as_str(),
            Some("/a \"b\"\\c")
        );
        assert!(v.contains_key("workspace"));
    }

    /// The template's Cargo.lock pins what the SDK builds with; when the
    /// repository's guests move to newer versions, it must follow (copy
    /// the lock of a freshly generated app, with its name as `{{name}}`).
    #[test]
    fn the_template_lock_agrees_with_the_sample_mini_apps() {
        let versions = |text: &str| -> std::collections::BTreeMap<String, String> {
            let lock: toml::Table = toml::from_str(text).unwrap();
            lock["package"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|p| p.get("source").is_some())
                .map(|p| {
                    (
                        p["name"].as_str().unwrap().to_string(),
                        p["version"].as_str().unwrap().to_string(),
                    )
                })
                .collect()
        };
        let template = versions(include_str!("../templates/common/Cargo.lock"));
        let samples = versions(include_str!("../../../sample-miniapps/Cargo.lock"));
        assert!(template.contains_key("wit-bindgen"));
        for (name, version) in &template {
            if let Some(v) = samples.get(name) {
                assert_eq!(v, version, "{name}: templates/common/Cargo.lock is stale");
            }
        }
        // And it holds everything the SDK depends on now, so a new app's
        // first build needs no registry.
        let template_text = include_str!("../templates/common/Cargo.lock");
        for dependency in sdk_dependencies(include_str!("../../../sample-miniapps/Cargo.lock")) {
            assert!(
                template_text.contains(&format!(
                    "name = \"{}\"\nversion = \"{}\"",
                    dependency.0, dependency.1
                )),
                "{} {}: the SDK depends on it, templates/common/Cargo.lock lacks it",
                dependency.0,
                dependency.1
            );
        }
    }

    /// The (name, version) of every registry package `plaza-sdk` depends
    /// on, directly or not, in a Cargo.lock.
    fn sdk_dependencies(lock: &str) -> std::collections::BTreeSet<(String, String)> {
        let lock: toml::Table = toml::from_str(lock).unwrap();
        let packages = lock["package"].as_array().unwrap();
        // A dependency is written `name` or, where versions differ, `name version`.
        let find = |spec: &str| {
            let (name, version) = spec.split_once(' ').unwrap_or((spec, ""));
            packages
                .iter()
                .find(|p| {
                    p["name"].as_str() == Some(name)
                        && (version.is_empty() || p["version"].as_str() == Some(version))
                })
                .unwrap_or_else(|| panic!("{spec} is not in the lock"))
        };
        let mut seen = std::collections::BTreeSet::new();
        let mut todo = vec![find("plaza-sdk")];
        while let Some(p) = todo.pop() {
            for d in p
                .get("dependencies")
                .and_then(|d| d.as_array())
                .into_iter()
                .flatten()
            {
                let d = find(d.as_str().unwrap());
                let key = (
                    d["name"].as_str().unwrap().to_string(),
                    d["version"].as_str().unwrap().to_string(),
                );
                if d.get("source").is_some() && seen.insert(key) {
                    todo.push(d);
                }
            }
        }
        seen
    }

    #[test]
    fn names_are_checked_with_a_fix() {
        assert!(check_name("my-clinic").is_ok());
        assert!(check_name("clinic_2").is_ok());
        let e = check_name("My Clinic").unwrap_err();
        assert!(e.contains("such as `my-clinic`"), "{e}");
        let e = check_name("2fast").unwrap_err();
        assert!(e.contains("starting with a letter"), "{e}");
        assert!(e.contains("`app-2fast`"), "{e}");
        assert!(check_name("struct").unwrap_err().contains("keyword"));
        assert!(check_name("").is_err());
    }

    #[test]
    fn ids_and_display_names() {
        assert!(is_reverse_dns("cn.hz.clinic"));
        assert!(!is_reverse_dns("clinic"));
        assert!(!is_reverse_dns("cn.hz.my_clinic"));
        assert_eq!(display_name("my-tea_shop"), "My Tea Shop");
    }
}
