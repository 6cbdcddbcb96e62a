//! Property tests of the two parsers that read what publishers send: the
//! manifest (`plaza.toml`) and the package file. The same surfaces as the
//! `manifest` and `package` fuzz targets (fuzz/), in the normal test suite.
//!
//! - Any text, and any mutation of a valid manifest, is either a manifest
//!   that parses again the same way, or refused with an error that names the
//!   line or the field to fix.
//! - A generated valid manifest parses to exactly what it says.
//! - Any bytes, and any truncation or byte change of a valid package, are
//!   refused with a typed error, or read back to a package that writes the
//!   same bytes; a changed signed package never verifies.
//! - A valid package, signed or not, round-trips.

use plaza_host::Error;
use plaza_host::manifest::{Category, MAX_STORAGE_QUOTA, Manifest};
use plaza_host::package::{COMPONENT_HEADER, Package, PublisherKey, SignatureStatus};
use proptest::prelude::*;
use std::sync::OnceLock;

/// A manifest with every table.
const FULL: &str = r#"[app]
id = "cn.hz.maternity"
name = "Maternity"
version = "1.2.0"
description = "Book a visit"

[publisher]
id = "cn.hz.health"
name = "Health Commission"
category = "medical"

[capabilities.storage]
quota-bytes = 4096
[capabilities.log]
[capabilities.clock]
[capabilities.identity]
scopes = { real-name = "To register you", phone = "To call you" }
[capabilities.payment]
[capabilities.messaging]
[[capabilities.messaging.templates]]
id = "visit"
title = "Visit"
fields = ["when"]
long-term = true
"#;

/// Whether an error message tells the author where to look: a line, or a
/// field or value in backticks.
fn names_line_or_field(message: &str) -> bool {
    message.contains("line ") || message.matches('`').count() >= 2
}

/// Parses `text` and checks what any outcome must satisfy.
fn check_manifest(text: &str) -> Result<Option<Manifest>, TestCaseError> {
    match Manifest::parse("plaza.toml", text) {
        Ok(m) => {
            let again = Manifest::parse("plaza.toml", text).expect("parsing is deterministic");
            prop_assert_eq!(&again.app, &m.app);
            prop_assert_eq!(&again.publisher, &m.publisher);
            prop_assert_eq!(&again.capabilities, &m.capabilities);
            prop_assert_eq!(&m.source, text);
            prop_assert!(m.storage_quota() <= MAX_STORAGE_QUOTA);
            Ok(Some(m))
        }
        Err(Error::Manifest {
            source_name,
            message,
        }) => {
            prop_assert_eq!(source_name, "plaza.toml");
            prop_assert!(
                names_line_or_field(&message),
                "the error names no line or field: {message}"
            );
            if let Some(line) = message
                .strip_prefix("line ")
                .and_then(|rest| rest.split(':').next())
                .and_then(|n| n.parse::<usize>().ok())
            {
                let lines = text.split('\n').count();
                prop_assert!(
                    (1..=lines).contains(&line),
                    "line {line} of a {lines}-line manifest: {message}"
                );
            }
            Ok(None)
        }
        Err(other) => Err(TestCaseError::fail(format!(
            "a manifest gave a non-manifest error: {other:?}"
        ))),
    }
}

/// One edit of a manifest's lines.
#[derive(Debug, Clone)]
enum Edit {
    DeleteLine(usize),
    DuplicateLine(usize),
    SwapLines(usize, usize),
    InsertLine(usize, String),
    /// Replaces the value after the first `=` of a line.
    ReplaceValue(usize, String),
    TruncateAt(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let value = prop_oneof![
        "\"[a-z.\\-]{0,12}\"",
        "-?[0-9]{1,22}",
        Just("\"\"".to_string()),
        Just("true".to_string()),
        Just("{ }".to_string()),
        Just("[\"a\", 1]".to_string()),
        "\\PC{0,12}",
    ];
    let line = prop_oneof![
        Just("[capabilities.teleport]".to_string()),
        Just("[app]".to_string()),
        Just("quota-bytes = 0".to_string()),
        "[a-z\\-]{1,8} = \"x\"",
        "\\PC{0,20}",
    ];
    prop_oneof![
        1 => any::<usize>().prop_map(Edit::DeleteLine),
        1 => any::<usize>().prop_map(Edit::DuplicateLine),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::SwapLines(a, b)),
        1 => (any::<usize>(), line).prop_map(|(i, l)| Edit::InsertLine(i, l)),
        3 => (any::<usize>(), value).prop_map(|(i, v)| Edit::ReplaceValue(i, v)),
        1 => any::<usize>().prop_map(Edit::TruncateAt),
    ]
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    for e in edits {
        let n = lines.len().max(1);
        match e {
            Edit::DeleteLine(i) if !lines.is_empty() => {
                lines.remove(i % n);
            }
            Edit::DuplicateLine(i) if !lines.is_empty() => {
                let l = lines[i % n].clone();
                lines.insert(i % n, l);
            }
            Edit::SwapLines(a, b) if !lines.is_empty() => lines.swap(a % n, b % n),
            Edit::InsertLine(i, l) => lines.insert(i % (lines.len() + 1), l.clone()),
            Edit::ReplaceValue(i, v) if !lines.is_empty() => {
                let l = &mut lines[i % n];
                if let Some((key, _)) = l.split_once('=') {
                    *l = format!("{key}= {v}");
                }
            }
            Edit::TruncateAt(i) => {
                let joined = lines.join("\n");
                let mut cut = i % (joined.len() + 1);
                while !joined.is_char_boundary(cut) {
                    cut -= 1;
                }
                lines = joined[..cut].lines().map(String::from).collect();
            }
            _ => {}
        }
    }
    lines.join("\n")
}

/// A valid manifest's parts, and its text.
#[derive(Debug, Clone)]
struct Generated {
    id: String,
    name: String,
    version: (u64, u64, u64),
    publisher: String,
    category: Category,
    quota: Option<u64>,
    payment: bool,
    text: String,
}

fn reverse_dns() -> impl Strategy<Value = String> {
    proptest::collection::vec("[a-z0-9]([a-z0-9\\-]{0,6}[a-z0-9])?", 2..4).prop_map(|l| l.join("."))
}

fn generated() -> impl Strategy<Value = Generated> {
    (
        reverse_dns(),
        "[A-Za-z][A-Za-z ]{0,20}[a-z]",
        (0..100u64, 0..100u64, 0..100u64),
        reverse_dns(),
        proptest::sample::select(Category::ALL.to_vec()),
        proptest::option::of(1..=MAX_STORAGE_QUOTA),
        any::<bool>(),
    )
        .prop_map(|(id, name, version, publisher, category, quota, payment)| {
            let mut text = format!(
                "[app]\nid = \"{id}\"\nname = \"{name}\"\nversion = \"{}.{}.{}\"\n\n\
                 [publisher]\nid = \"{publisher}\"\nname = \"P\"\ncategory = \"{category}\"\n",
                version.0, version.1, version.2
            );
            if let Some(q) = quota {
                text.push_str(&format!("[capabilities.storage]\nquota-bytes = {q}\n"));
            }
            if payment {
                text.push_str("[capabilities.payment]\n");
            }
            Generated {
                id,
                name,
                version,
                publisher,
                category,
                quota,
                payment,
                text,
            }
        })
}

/// The fixed key the package properties sign with.
fn key() -> &'static PublisherKey {
    static KEY: OnceLock<PublisherKey> = OnceLock::new();
    KEY.get_or_init(|| PublisherKey::from_secret_hex(&"2a".repeat(32)).unwrap())
}

fn component() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..64).prop_map(|tail| {
        let mut c = COMPONENT_HEADER.to_vec();
        c.extend(tail);
        c
    })
}

/// Reads `bytes` and checks what any outcome must satisfy; returns the
/// package if it read.
fn check_package(bytes: &[u8]) -> Result<Option<Package>, TestCaseError> {
    match Package::from_bytes("p.plaza", bytes) {
        Ok(p) => {
            prop_assert_eq!(
                p.to_bytes(),
                bytes,
                "a package writes back the bytes it was read from"
            );
            prop_assert!(p.component.starts_with(&COMPONENT_HEADER));
            Ok(Some(p))
        }
        Err(Error::Package {
            source_name,
            message,
        }) => {
            prop_assert_eq!(source_name, "p.plaza");
            prop_assert!(!message.trim().is_empty());
            Ok(None)
        }
        Err(Error::Manifest { source_name, .. }) => {
            prop_assert_eq!(source_name, "p.plaza: plaza.toml");
            Ok(None)
        }
        // The sections read, but the component is no WebAssembly component.
        Err(Error::InvalidComponent { message, .. }) => {
            prop_assert!(
                message.contains("WebAssembly") || message.contains("wasm"),
                "{message}"
            );
            Ok(None)
        }
        Err(other) => Err(TestCaseError::fail(format!(
            "reading a package gave an unexpected error: {other:?}"
        ))),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn any_text_parses_or_is_refused_naming_a_line_or_field(text in "\\PC{0,200}") {
        check_manifest(&text)?;
    }

    #[test]
    fn toml_shaped_text_parses_or_is_refused_naming_a_line_or_field(
        text in "(\\[[a-z.\\[\\]]{1,20}\\]\n|[a-z\\-]{1,10} = (\"[^\"\n]{0,10}\"|[0-9]{1,3}|\\{ \\})\n){0,12}"
    ) {
        check_manifest(&text)?;
    }

    #[test]
    fn mutated_manifests_parse_or_are_refused_naming_a_line_or_field(
        edits in proptest::collection::vec(edit(), 1..4)
    ) {
        check_manifest(&apply(FULL, &edits))?;
    }

    #[test]
    fn a_generated_manifest_parses_to_what_it_says(g in generated()) {
        let m = check_manifest(&g.text)?.expect("a valid manifest parses");
        prop_assert_eq!(&m.app.id, &g.id);
        prop_assert_eq!(&m.app.name, &g.name);
        prop_assert_eq!(
            (m.app.version.major, m.app.version.minor, m.app.version.patch),
            g.version
        );
        prop_assert_eq!(&m.publisher.id, &g.publisher);
        prop_assert_eq!(m.publisher.category, g.category);
        prop_assert_eq!(m.capabilities.storage.map(|s| s.quota_bytes), g.quota);
        prop_assert_eq!(m.capabilities.payment.is_some(), g.payment);
    }

    #[test]
    fn any_bytes_are_refused_with_a_typed_error(
        bytes in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..64),
            proptest::collection::vec(any::<u8>(), 0..64).prop_map(|tail| {
                let mut b = b"PLAZAPKG\x01\x00".to_vec();
                b.extend(tail);
                b
            }),
        ]
    ) {
        check_package(&bytes)?;
    }

    #[test]
    fn a_valid_package_round_trips(g in generated(), component in component(), signed in any::<bool>()) {
        let mut p = Package::new(&g.text, component.clone()).unwrap();
        if signed {
            p.sign(key()).unwrap();
        }
        let again = check_package(&p.to_bytes())?.expect("a valid package reads");
        prop_assert_eq!(&again.manifest.source, &g.text);
        prop_assert_eq!(&again.manifest.app, &p.manifest.app);
        prop_assert_eq!(&again.component, &component);
        prop_assert_eq!(&again.signature, &p.signature);
        let status = again.verify_signature(&key().public_key_hex()).unwrap();
        prop_assert_eq!(
            status,
            if signed { SignatureStatus::Valid } else { SignatureStatus::Unsigned }
        );
    }

    #[test]
    fn a_truncated_package_is_refused(g in generated(), component in component(), cut in any::<prop::sample::Index>()) {
        let mut p = Package::new(&g.text, component).unwrap();
        let unsigned_len = p.to_bytes().len();
        p.sign(key()).unwrap();
        let bytes = p.to_bytes();
        let cut = cut.index(bytes.len());
        let read = check_package(&bytes[..cut])?;
        if cut == unsigned_len {
            // Cutting off exactly the signature section leaves a valid
            // unsigned package: the host then refuses it as unsigned unless
            // in developer mode.
            let read = read.expect("the unsigned package reads");
            prop_assert_eq!(read.signature, None);
        } else {
            prop_assert!(read.is_none(), "a package cut at {cut} of {} read", bytes.len());
        }
    }

    #[test]
    fn a_changed_signed_package_never_verifies(
        g in generated(),
        component in component(),
        changes in proptest::collection::vec((any::<prop::sample::Index>(), 1..=255u8), 1..4),
    ) {
        let mut p = Package::new(&g.text, component).unwrap();
        p.sign(key()).unwrap();
        let original = p.to_bytes();
        let mut bytes = original.clone();
        for (at, xor) in &changes {
            bytes[at.index(original.len())] ^= xor;
        }
        if let Some(read) = check_package(&bytes)? {
            match read.verify_signature(&key().public_key_hex()) {
                Ok(SignatureStatus::Valid) => {
                    // Only the signature section's key id is outside what is
                    // signed; anything else changed must not verify.
                    prop_assert_eq!(&read.manifest.source, &p.manifest.source);
                    prop_assert_eq!(&read.component, &p.component);
                }
                Ok(_) => {}
                Err(e) => prop_assert!(matches!(e, Error::BadSignature { .. }), "{e:?}"),
            }
        }
    }
}
