//! Fuzzes the package reader (`.plaza` files) and the signature check.
//!
//! The first byte of an input chooses how the rest is used:
//! - even: the rest is a package file as is;
//! - odd: the rest mutates a valid package, signed with a fixed publisher
//!   key (overwrites, truncation, insertions at input-chosen offsets), so
//!   the fuzzer reaches the sections, the manifest and the signature quickly.
//!
//! What must hold: reading never panics and refuses with a typed error that
//! says something; a package that reads writes back to exactly the bytes it
//! was read from (the format has one spelling); and a package that verifies
//! with the publisher's key holds exactly what the publisher signed: no
//! mutation of a signed package verifies.

#![no_main]

use libfuzzer_sys::fuzz_target;
use plaza_host::Error;
use plaza_host::package::{COMPONENT_HEADER, Package, PublisherKey, SignatureStatus};
use std::sync::OnceLock;

/// A manifest with every table, so mutations reach every part of the parser.
const MANIFEST: &str = r#"[app]
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
[capabilities.identity]
scopes = { real-name = "To register you" }
[capabilities.payment]
[capabilities.messaging]
[[capabilities.messaging.templates]]
id = "visit"
title = "Visit"
fields = ["when"]
"#;

/// The publisher's key: fixed, so runs are reproducible.
fn key() -> &'static PublisherKey {
    static KEY: OnceLock<PublisherKey> = OnceLock::new();
    KEY.get_or_init(|| PublisherKey::from_secret_hex(&"2a".repeat(32)).expect("a key"))
}

/// The valid signed package the odd inputs mutate, and its bytes.
fn signed() -> &'static (Package, Vec<u8>) {
    static SIGNED: OnceLock<(Package, Vec<u8>)> = OnceLock::new();
    SIGNED.get_or_init(|| {
        let mut component = COMPONENT_HEADER.to_vec();
        component.extend_from_slice(b"\x00\x04name");
        let mut p = Package::new(MANIFEST, component).expect("a valid package");
        p.sign(key()).expect("signing");
        let bytes = p.to_bytes();
        (p, bytes)
    })
}

/// `base` changed as `edits` says: 4-byte edits of (kind, offset, value).
fn mutate(base: &[u8], edits: &[u8]) -> Vec<u8> {
    let mut bytes = base.to_vec();
    for edit in edits.chunks_exact(4) {
        let at = u16::from_le_bytes([edit[1], edit[2]]) as usize;
        match edit[0] % 4 {
            0 if !bytes.is_empty() => {
                let i = at % bytes.len();
                bytes[i] = edit[3];
            }
            1 => bytes.truncate(at % (bytes.len() + 1)),
            2 => {
                let i = at % (bytes.len() + 1);
                bytes.insert(i, edit[3]);
            }
            3 if !bytes.is_empty() => {
                let i = at % bytes.len();
                bytes[i] ^= 1 << (edit[3] % 8);
            }
            _ => {}
        }
    }
    bytes
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let bytes = if mode % 2 == 0 {
        rest.to_vec()
    } else {
        mutate(&signed().1, rest)
    };
    match Package::from_bytes("fuzz.plaza", &bytes) {
        Err(e) => {
            assert!(
                matches!(
                    e,
                    Error::Package { .. } | Error::Manifest { .. } | Error::InvalidComponent { .. }
                ),
                "reading bytes gave an unexpected kind of error: {e:?}"
            );
            assert!(!e.to_string().trim().is_empty());
        }
        Ok(p) => {
            assert_eq!(
                p.to_bytes(),
                bytes,
                "a package writes back the bytes it was read from"
            );
            assert!(p.component.starts_with(&COMPONENT_HEADER));
            match p.verify_signature(&key().public_key_hex()) {
                Ok(SignatureStatus::Valid) => {
                    let (original, _) = signed();
                    assert_eq!(
                        p.manifest.source, original.manifest.source,
                        "a changed manifest verified"
                    );
                    assert_eq!(
                        p.component, original.component,
                        "a changed component verified"
                    );
                    assert_eq!(p.manifest.publisher.id, original.manifest.publisher.id);
                }
                Ok(SignatureStatus::Unsigned) => assert!(p.signature.is_none()),
                Ok(SignatureStatus::WrongPublisher { signed_for }) => {
                    assert_ne!(signed_for, p.manifest.publisher.id)
                }
                Ok(SignatureStatus::Mismatch { .. }) => {}
                Err(e) => assert!(
                    matches!(e, Error::BadSignature { .. }),
                    "a garbled signature gave {e:?}"
                ),
            }
        }
    }
});
