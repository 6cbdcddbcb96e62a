//! `docs/api.md`, the host API reference, is generated from the WIT
//! contract (`host-api/wit`, parsed with `wit-parser`, the Bytecode
//! Alliance's own parser) and its doc comments, with one example per
//! interface taken from this SDK's module docs — doc tests that
//! `cargo test --doc` compiles, so the examples stay right — and the same
//! in TypeScript (`host-api/js/examples/INTERFACE.ts`, type-checked with
//! the pinned `tsc` against the SDK and the contract's types by
//! `crates/cli/tests/js.rs`) and Python (`host-api/python/examples/INTERFACE.py`,
//! imported and checked against the Python SDK and the contract's bindings
//! by `crates/cli/tests/python_sdk.rs`).
//!
//! This test regenerates the page and fails when the file differs. To update
//! it after changing a doc comment or an example:
//!
//! ```text
//! PLAZA_BLESS=1 cargo test -p plaza-sdk --test api_reference
//! ```

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use wit_parser::{Docs, Function, Resolve, Type, TypeDefKind, TypeId};

/// The interfaces in the order the page shows them, with the SDK module
/// whose docs hold the example.
const INTERFACES: &[(&str, &str)] = &[
    ("pages", "src/lib.rs"),
    ("types", "src/error.rs"),
    ("storage", "src/storage.rs"),
    ("log", "src/log.rs"),
    ("clock", "src/clock.rs"),
    ("identity", "src/identity.rs"),
    ("payment", "src/payment.rs"),
    ("refunds", "src/payment.rs"),
    ("messaging", "src/messaging.rs"),
    ("config", "src/config.rs"),
    ("media", "src/media.rs"),
    ("scan", "src/scan.rs"),
    ("app", "src/lib.rs"),
];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn docs(d: &Docs) -> String {
    d.contents.as_deref().unwrap_or("").trim().to_string()
}

/// A doc comment as one line (for table cells).
fn one_line(d: &Docs) -> String {
    docs(d)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}

/// A WIT type as written in WIT.
fn ty(resolve: &Resolve, t: &Type) -> String {
    match t {
        Type::Bool => "bool".into(),
        Type::U8 => "u8".into(),
        Type::U16 => "u16".into(),
        Type::U32 => "u32".into(),
        Type::U64 => "u64".into(),
        Type::S8 => "s8".into(),
        Type::S16 => "s16".into(),
        Type::S32 => "s32".into(),
        Type::S64 => "s64".into(),
        Type::F32 => "f32".into(),
        Type::F64 => "f64".into(),
        Type::Char => "char".into(),
        Type::String => "string".into(),
        Type::ErrorContext => "error-context".into(),
        Type::Id(id) => type_id(resolve, *id),
    }
}

fn opt(resolve: &Resolve, t: &Option<Type>) -> String {
    t.as_ref().map_or("_".to_string(), |t| ty(resolve, t))
}

fn type_id(resolve: &Resolve, id: TypeId) -> String {
    let def = &resolve.types[id];
    if let Some(name) = &def.name {
        return name.clone();
    }
    match &def.kind {
        TypeDefKind::List(t) => format!("list<{}>", ty(resolve, t)),
        TypeDefKind::Option(t) => format!("option<{}>", ty(resolve, t)),
        TypeDefKind::Result(r) => {
            format!("result<{}, {}>", opt(resolve, &r.ok), opt(resolve, &r.err))
        }
        TypeDefKind::Tuple(t) => format!(
            "tuple<{}>",
            t.types
                .iter()
                .map(|t| ty(resolve, t))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        TypeDefKind::Type(t) => ty(resolve, t),
        other => panic!("the generator does not render {other:?} yet: extend `type_id`"),
    }
}

fn signature(resolve: &Resolve, f: &Function) -> String {
    let params: Vec<String> = f
        .params
        .iter()
        .map(|p| format!("{}: {}", p.name, ty(resolve, &p.ty)))
        .collect();
    let result = f
        .result
        .as_ref()
        .map(|r| format!(" -> {}", ty(resolve, r)))
        .unwrap_or_default();
    format!("{}: func({}){result};", f.name, params.join(", "))
}

/// The first fenced example of a module's `//!` docs, without the lines
/// rustdoc hides (`# ...`).
fn sdk_example(file: &str) -> Option<String> {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(file))
        .unwrap_or_else(|e| panic!("reading {file}: {e}"));
    let module_docs: Vec<&str> = text
        .lines()
        .take_while(|l| l.starts_with("//!"))
        .map(|l| {
            l.strip_prefix("//! ")
                .unwrap_or(l.trim_start_matches("//!"))
        })
        .collect();
    let start = module_docs.iter().position(|l| l.starts_with("```"))?;
    let end = start
        + 1
        + module_docs[start + 1..]
            .iter()
            .position(|l| l.starts_with("```"))?;
    let code: Vec<&str> = module_docs[start + 1..end]
        .iter()
        .copied()
        .filter(|l| *l != "#" && !l.starts_with("# "))
        .collect();
    Some(code.join("\n"))
}

/// The TypeScript and Python examples of `interface`, when there are:
/// (language, fence, file relative to the repository, code).
fn other_examples(interface: &str) -> Vec<(&'static str, &'static str, String, String)> {
    [
        ("TypeScript", "ts", "js", "ts"),
        ("Python", "python", "python", "py"),
    ]
    .into_iter()
    .filter_map(|(language, fence, dir, ext)| {
        let file = format!("host-api/{dir}/examples/{interface}.{ext}");
        let code = std::fs::read_to_string(repo().join(&file)).ok()?;
        Some((language, fence, file, code.trim_end().to_string()))
    })
    .collect()
}

fn generate() -> String {
    let mut resolve = Resolve::default();
    let (pkg, _) = resolve
        .push_dir(repo().join("host-api/wit"))
        .expect("host-api/wit parses");
    let package = &resolve.packages[pkg];
    let mut md = String::new();
    let name = &package.name;
    writeln!(
        md,
        "<!-- Generated from host-api/wit and the SDK's examples by crates/sdk/tests/api_reference.rs.\n     Do not edit: change the WIT doc comments or the SDK's module docs, then run\n     PLAZA_BLESS=1 cargo test -p plaza-sdk --test api_reference -->\n"
    )
    .unwrap();
    writeln!(md, "# Host API reference: `{name}`\n").unwrap();
    writeln!(
        md,
        "What a mini-app can call, and what it must export, as the WIT contract in \
         [`host-api/wit/`](../host-api/wit) says it. Any language that builds WebAssembly \
         components can target it; the examples use the Rust SDK (`crates/sdk`, \
         `plaza_sdk`), whose module for each interface wraps its functions one for one, \
         the TypeScript SDK (`host-api/js`, `@plaza/sdk`) and the Python SDK \
         (`host-api/python`, `plaza_sdk`); \
         [languages](languages.md) says how each WIT type looks in JavaScript, TypeScript \
         and Python. A capability interface is usable only when the manifest (`plaza.toml`) declares \
         it: see [the tutorial](tutorial.md) and [the FAQ](faq.md).\n"
    )
    .unwrap();

    for (world_id, world) in package
        .worlds
        .iter()
        .map(|(_, id)| (*id, &resolve.worlds[*id]))
    {
        let _ = world_id;
        writeln!(md, "## World `{}`\n\n{}\n", world.name, docs(&world.docs)).unwrap();
        md.push_str("| interface | direction | what for |\n|---|---|---|\n");
        for (order, _) in INTERFACES {
            let id = package.interfaces[*order];
            let direction = if world
                .exports
                .keys()
                .any(|k| matches!(k, wit_parser::WorldKey::Interface(i) if *i == id))
            {
                "export"
            } else if world
                .imports
                .keys()
                .any(|k| matches!(k, wit_parser::WorldKey::Interface(i) if *i == id))
            {
                "import"
            } else {
                "shared types"
            };
            let first = docs(&resolve.interfaces[id].docs);
            let first = first
                .split("\n\n")
                .next()
                .unwrap_or("")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            writeln!(md, "| [`{order}`](#{order}) | {direction} | {first} |").unwrap();
        }
        md.push('\n');
    }
    assert_eq!(
        package.interfaces.len(),
        INTERFACES.len(),
        "an interface was added to host-api/wit: list it in INTERFACES with its SDK module"
    );

    for (iface_name, sdk_file) in INTERFACES {
        let iface = &resolve.interfaces[package.interfaces[*iface_name]];
        writeln!(md, "## {iface_name}\n").unwrap();
        writeln!(
            md,
            "`{name}/{iface_name}` — {}\n",
            match *iface_name {
                "pages" => "exported by every mini-app",
                "app" => "exported by mini-apps built against `plaza:host@0.1.0` (the host still runs them)",
                _ => "imported",
            }
        )
        .unwrap();
        writeln!(md, "{}\n", docs(&iface.docs)).unwrap();
        if let Some(example) = sdk_example(sdk_file) {
            writeln!(
                md,
                "**Example** (Rust SDK, from [`crates/sdk/{sdk_file}`](../crates/sdk/{sdk_file}), compiled by `cargo test --doc`):\n\n```rust\n{example}\n```\n"
            )
            .unwrap();
        }
        for (language, fence, file, code) in other_examples(iface_name) {
            let check = match fence {
                "ts" => "type-checked by `crates/cli/tests/js.rs`",
                _ => "checked against the SDK by `crates/cli/tests/python_sdk.rs`",
            };
            writeln!(
                md,
                "**{language}** (from [`{file}`](../{file}), {check}):\n\n```{fence}\n{code}\n```\n"
            )
            .unwrap();
        }
        if !iface.functions.is_empty() {
            writeln!(md, "### Functions\n").unwrap();
            for f in iface.functions.values() {
                writeln!(
                    md,
                    "#### `{}`\n\n```wit\n{}\n```\n\n{}\n",
                    f.name,
                    signature(&resolve, f),
                    docs(&f.docs)
                )
                .unwrap();
            }
        }
        let own_types: Vec<TypeId> = iface
            .types
            .values()
            .copied()
            .filter(|id| !matches!(resolve.types[*id].kind, TypeDefKind::Type(_)))
            .collect();
        if !own_types.is_empty() {
            writeln!(md, "### Types\n").unwrap();
        }
        for id in own_types {
            let def = &resolve.types[id];
            let tname = def.name.as_deref().unwrap_or("?");
            let (kind, rows): (&str, Vec<(String, String, String)>) = match &def.kind {
                TypeDefKind::Record(r) => (
                    "record",
                    r.fields
                        .iter()
                        .map(|f| (f.name.clone(), ty(&resolve, &f.ty), one_line(&f.docs)))
                        .collect(),
                ),
                TypeDefKind::Variant(v) => (
                    "variant",
                    v.cases
                        .iter()
                        .map(|c| {
                            (
                                c.name.clone(),
                                c.ty.as_ref().map(|t| ty(&resolve, t)).unwrap_or_default(),
                                one_line(&c.docs),
                            )
                        })
                        .collect(),
                ),
                TypeDefKind::Enum(e) => (
                    "enum",
                    e.cases
                        .iter()
                        .map(|c| (c.name.clone(), String::new(), one_line(&c.docs)))
                        .collect(),
                ),
                TypeDefKind::Flags(f) => (
                    "flags",
                    f.flags
                        .iter()
                        .map(|c| (c.name.clone(), String::new(), one_line(&c.docs)))
                        .collect(),
                ),
                other => panic!("the generator does not render {other:?} yet"),
            };
            writeln!(md, "#### {kind} `{tname}`\n\n{}\n", docs(&def.docs)).unwrap();
            let header = match kind {
                "record" => "| field | type | meaning |\n|---|---|---|",
                "variant" => "| case | payload | meaning |\n|---|---|---|",
                _ => "| case | | meaning |\n|---|---|---|",
            };
            writeln!(md, "{header}").unwrap();
            for (n, t, d) in rows {
                let t = if t.is_empty() {
                    String::new()
                } else {
                    format!("`{t}`")
                };
                writeln!(md, "| `{n}` | {t} | {d} |").unwrap();
            }
            md.push('\n');
        }
    }
    md.trim_end().to_string() + "\n"
}

#[test]
fn docs_api_md_is_generated_from_the_wit_contract() {
    let path = repo().join("docs/api.md");
    let fresh = generate();
    if std::env::var_os("PLAZA_BLESS").is_some() {
        std::fs::write(&path, &fresh).unwrap();
        return;
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    if on_disk != fresh {
        let line = on_disk
            .lines()
            .zip(fresh.lines())
            .position(|(a, b)| a != b)
            .map_or(
                on_disk.lines().count().min(fresh.lines().count()) + 1,
                |n| n + 1,
            );
        panic!(
            "docs/api.md is out of date with host-api/wit or the SDK's examples (first difference at line {line}).\nRegenerate it: PLAZA_BLESS=1 cargo test -p plaza-sdk --test api_reference"
        );
    }
}

#[test]
fn every_capability_has_an_example_and_every_item_a_doc_comment() {
    let mut resolve = Resolve::default();
    let (pkg, _) = resolve.push_dir(repo().join("host-api/wit")).unwrap();
    for (name, id) in &resolve.packages[pkg].interfaces {
        let sdk = INTERFACES.iter().find(|(n, _)| n == name).unwrap().1;
        assert!(
            sdk_example(sdk).is_some(),
            "{sdk} has no example in its module docs for {name}"
        );
        let iface = &resolve.interfaces[*id];
        assert!(
            !docs(&iface.docs).is_empty(),
            "interface {name} has no doc comment"
        );
        for f in iface.functions.values() {
            assert!(
                !docs(&f.docs).is_empty(),
                "{name}.{} has no doc comment",
                f.name
            );
        }
        for t in iface.types.values() {
            let def = &resolve.types[*t];
            if matches!(def.kind, TypeDefKind::Type(_)) {
                continue;
            }
            assert!(
                !docs(&def.docs).is_empty(),
                "{name}.{:?} has no doc comment",
                def.name
            );
        }
    }
}

/// Every TypeScript and Python example file is named after an interface of
/// the contract, so none is left out of `docs/api.md` (a renamed or removed
/// interface takes its examples along).
#[test]
fn every_typescript_and_python_example_names_an_interface() {
    let mut resolve = Resolve::default();
    let (pkg, _) = resolve.push_dir(repo().join("host-api/wit")).unwrap();
    let interfaces = &resolve.packages[pkg].interfaces;
    let mut seen = 0;
    for (dir, ext) in [("js", "ts"), ("python", "py")] {
        let folder = repo().join(format!("host-api/{dir}/examples"));
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_str().unwrap().to_string();
            assert_eq!(
                path.extension().and_then(|e| e.to_str()),
                Some(ext),
                "{} is not a .{ext} example",
                path.display()
            );
            assert!(
                interfaces.contains_key(&name),
                "{} names no interface of host-api/wit",
                path.display()
            );
            assert!(!other_examples(&name).is_empty());
            seen += 1;
        }
    }
    assert!(seen >= 20, "{seen} example files");
}
