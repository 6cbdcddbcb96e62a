//! The package file: one file holding a mini-app's manifest, its component and
//! the publisher's signature over both.
//!
//! Layout, all integers little-endian:
//!
//! ```text
//! magic    8 bytes  "PLAZAPKG"
//! format   u16      1
//! section  u8 tag, u64 length, bytes      -- repeated
//!   tag 1  manifest (UTF-8 TOML), exactly once, first
//!   tag 2  component (a WebAssembly component), exactly once, second
//!   tag 3  signature, at most once, last
//! ```
//!
//! The signature section is UTF-8 JSON, `{"publisher": ID, "key_id": HEX16,
//! "signature": HEX128}`: the publisher's id, the id of the key that signed
//! (the first 8 bytes of the SHA-256 of the ed25519 public key, hex), and an
//! ed25519 signature over [`signing_digest`]: SHA-256 of the domain
//! `plaza-package-signature-v1`, then the publisher id, the manifest text and
//! the component, each preceded by its length as a little-endian u64. The
//! host checks it at install against the key in its registry of trusted
//! publishers.
//!
//! Nothing may follow the last section. The reader checks every length against
//! the bytes there and against the host's caps before it allocates.
//!
//! ```
//! use plaza_host::package::Package;
//! let manifest = "[app]\nid = \"a.b\"\nname = \"A\"\nversion = \"1.0.0\"\n\
//!                 [publisher]\nid = \"a.pub\"\nname = \"P\"\ncategory = \"other\"\n";
//! let component = b"\0asm\x0d\0\x01\0".to_vec();
//! let pkg = Package::new(manifest, component).unwrap();
//! let bytes = pkg.to_bytes();
//! let again = Package::from_bytes("a.plaza", &bytes).unwrap();
//! assert_eq!(again.manifest.app.id, "a.b");
//!
//! // Signing: a publisher key pair, then the signature over both sections.
//! use plaza_host::package::{PublisherKey, SignatureStatus};
//! let key = PublisherKey::generate().unwrap();
//! let mut signed = again;
//! signed.sign(&key).unwrap();
//! let read = Package::from_bytes("a.plaza", &signed.to_bytes()).unwrap();
//! assert_eq!(read.verify_signature(&key.public_key_hex()).unwrap(), SignatureStatus::Valid);
//! ```

use crate::error::{Error, Result};
use crate::hex;
use crate::manifest::{MAX_MANIFEST_BYTES, Manifest};
use ed25519_dalek::{Signer, SigningKey};
use sha2::{Digest, Sha256};
use std::path::Path;

/// The first eight bytes of every package.
pub const MAGIC: &[u8; 8] = b"PLAZAPKG";
/// The package format this host writes and reads.
pub const FORMAT_VERSION: u16 = 1;
/// The largest component a package may hold: 64 MiB.
pub const MAX_COMPONENT_BYTES: u64 = 64 * 1024 * 1024;
/// The largest signature section: 4 KiB.
pub const MAX_SIGNATURE_BYTES: u64 = 4 * 1024;
/// The header of a WebAssembly component (a core module has `01 00 00 00`).
pub const COMPONENT_HEADER: [u8; 8] = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];

const TAG_MANIFEST: u8 = 1;
const TAG_COMPONENT: u8 = 2;
const TAG_SIGNATURE: u8 = 3;

/// A mini-app package.
#[derive(Debug, Clone)]
pub struct Package {
    /// The parsed manifest.
    pub manifest: Manifest,
    /// The component bytes.
    pub component: Vec<u8>,
    /// The signature section, if the package is signed.
    pub signature: Option<Vec<u8>>,
}

impl Package {
    /// Makes an unsigned package from a manifest's text and a component.
    pub fn new(manifest_text: &str, component: Vec<u8>) -> Result<Package> {
        let manifest = Manifest::parse("plaza.toml", manifest_text)?;
        check_component_header(&manifest.app.id, &component)?;
        if component.len() as u64 > MAX_COMPONENT_BYTES {
            return Err(Error::Package {
                source_name: manifest.app.id.clone(),
                message: format!(
                    "the component is {} bytes; the most a package may hold is {MAX_COMPONENT_BYTES}",
                    component.len()
                ),
            });
        }
        Ok(Package {
            manifest,
            component,
            signature: None,
        })
    }

    /// Reads a package file.
    pub fn read_file(path: &Path) -> Result<Package> {
        let name = path.display().to_string();
        let meta = std::fs::metadata(path).map_err(|e| Error::Package {
            source_name: name.clone(),
            message: format!("cannot read it: {e}"),
        })?;
        let cap =
            8 + 2 + 3 * 9 + MAX_MANIFEST_BYTES as u64 + MAX_COMPONENT_BYTES + MAX_SIGNATURE_BYTES;
        if meta.len() > cap {
            return Err(Error::Package {
                source_name: name,
                message: format!(
                    "it is {} bytes, more than any valid package ({cap})",
                    meta.len()
                ),
            });
        }
        let bytes = std::fs::read(path).map_err(|e| Error::Package {
            source_name: name.clone(),
            message: format!("cannot read it: {e}"),
        })?;
        Package::from_bytes(&name, &bytes)
    }

    /// Parses a package from bytes. `source_name` names it in errors.
    pub fn from_bytes(source_name: &str, bytes: &[u8]) -> Result<Package> {
        let bad = |message: String| Error::Package {
            source_name: source_name.to_string(),
            message,
        };
        if bytes.len() < 10 || &bytes[..8] != MAGIC {
            return Err(bad(
                "it does not start with the Plaza package header (make packages with `plaza pack`)"
                    .into(),
            ));
        }
        let format = u16::from_le_bytes([bytes[8], bytes[9]]);
        if format != FORMAT_VERSION {
            return Err(bad(format!(
                "it is in package format {format}; this host reads format {FORMAT_VERSION}"
            )));
        }
        let mut rest = &bytes[10..];
        let mut sections: Vec<(u8, &[u8])> = Vec::new();
        while !rest.is_empty() {
            if rest.len() < 9 {
                return Err(bad(format!(
                    "it ends in the middle of a section header ({} bytes left)",
                    rest.len()
                )));
            }
            let tag = rest[0];
            let len = u64::from_le_bytes(rest[1..9].try_into().expect("8 bytes"));
            let cap = match tag {
                TAG_MANIFEST => MAX_MANIFEST_BYTES as u64,
                TAG_COMPONENT => MAX_COMPONENT_BYTES,
                TAG_SIGNATURE => MAX_SIGNATURE_BYTES,
                other => return Err(bad(format!("it has a section with unknown tag {other}"))),
            };
            if len > cap {
                return Err(bad(format!(
                    "its {} section claims {len} bytes; the most allowed is {cap}",
                    tag_name(tag)
                )));
            }
            let body_len = len as usize;
            if rest.len() - 9 < body_len {
                return Err(bad(format!(
                    "its {} section claims {len} bytes but only {} follow (truncated file?)",
                    tag_name(tag),
                    rest.len() - 9
                )));
            }
            sections.push((tag, &rest[9..9 + body_len]));
            rest = &rest[9 + body_len..];
        }
        let order: Vec<u8> = sections.iter().map(|(t, _)| *t).collect();
        let signature = match order.as_slice() {
            [TAG_MANIFEST, TAG_COMPONENT] => None,
            [TAG_MANIFEST, TAG_COMPONENT, TAG_SIGNATURE] => Some(sections[2].1.to_vec()),
            _ => {
                return Err(bad(format!(
                    "its sections are [{}]; a package holds manifest, component and optionally signature, in that order, once each",
                    order
                        .iter()
                        .map(|t| tag_name(*t))
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        };
        let text = std::str::from_utf8(sections[0].1)
            .map_err(|e| bad(format!("its manifest is not UTF-8: {e}")))?;
        let manifest = Manifest::parse(&format!("{source_name}: plaza.toml"), text)?;
        let component = sections[1].1.to_vec();
        check_component_header(&manifest.app.id, &component)?;
        Ok(Package {
            manifest,
            component,
            signature,
        })
    }

    /// Serialises the package.
    pub fn to_bytes(&self) -> Vec<u8> {
        let m = self.manifest.source.as_bytes();
        let mut out = Vec::with_capacity(10 + 27 + m.len() + self.component.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        let mut section = |tag: u8, body: &[u8]| {
            out.push(tag);
            out.extend_from_slice(&(body.len() as u64).to_le_bytes());
            out.extend_from_slice(body);
        };
        section(TAG_MANIFEST, m);
        section(TAG_COMPONENT, &self.component);
        if let Some(sig) = &self.signature {
            section(TAG_SIGNATURE, sig);
        }
        out
    }

    /// The SHA-256 of the component, hex-encoded: its identity in the
    /// compiled-component cache.
    pub fn component_hash(&self) -> String {
        hex::sha256(&self.component)
    }

    /// Signs the package as its manifest's publisher with `key`, replacing
    /// any signature it had.
    pub fn sign(&mut self, key: &PublisherKey) -> Result<()> {
        let publisher = self.manifest.publisher.id.clone();
        let digest = signing_digest(&publisher, &self.manifest.source, &self.component);
        let signature = PackageSignature {
            publisher,
            key_id: key.key_id(),
            signature: hex::encode(&key.key.sign(&digest).to_bytes()),
        };
        self.signature = Some(signature.to_bytes());
        Ok(())
    }

    /// The signature section, parsed; `None` for an unsigned package.
    pub fn signature_info(&self) -> Result<Option<PackageSignature>> {
        self.signature
            .as_deref()
            .map(|bytes| PackageSignature::parse(&self.manifest.app.id, bytes))
            .transpose()
    }

    /// Checks the signature against a publisher's public key (hex).
    pub fn verify_signature(&self, public_key_hex: &str) -> Result<SignatureStatus> {
        let Some(sig) = self.signature_info()? else {
            return Ok(SignatureStatus::Unsigned);
        };
        if sig.publisher != self.manifest.publisher.id {
            return Ok(SignatureStatus::WrongPublisher {
                signed_for: sig.publisher,
            });
        }
        let digest = signing_digest(&sig.publisher, &self.manifest.source, &self.component);
        if crate::keys::verify(public_key_hex, &digest, &sig.signature) {
            Ok(SignatureStatus::Valid)
        } else {
            Ok(SignatureStatus::Mismatch {
                signed_with_key_id: sig.key_id,
                expected_key_id: key_id(public_key_hex),
            })
        }
    }
}

/// The domain that separates package signatures from anything else a
/// publisher key might sign.
pub const SIGNATURE_DOMAIN: &str = "plaza-package-signature-v1";

/// What a package signature signs: SHA-256 of [`SIGNATURE_DOMAIN`], the
/// publisher id, the manifest text and the component, each length-prefixed
/// (u64, little-endian), so no two inputs hash alike.
pub fn signing_digest(publisher_id: &str, manifest_text: &str, component: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    for part in [
        SIGNATURE_DOMAIN.as_bytes(),
        publisher_id.as_bytes(),
        manifest_text.as_bytes(),
        component,
    ] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part);
    }
    h.finalize().into()
}

/// The id of a public key: the first 8 bytes of its SHA-256, hex (16
/// characters). Errors name keys by it.
pub fn key_id(public_key_hex: &str) -> String {
    match crate::hex::decode(public_key_hex) {
        Some(bytes) => hex::sha256(&bytes)[..16].to_string(),
        None => "not-hex".to_string(),
    }
}

/// The signature section of a package.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageSignature {
    /// The publisher that signed (must be the manifest's publisher).
    pub publisher: String,
    /// The id of the key that signed ([`key_id`]).
    pub key_id: String,
    /// The ed25519 signature over [`signing_digest`], hex (128 characters).
    pub signature: String,
}

impl PackageSignature {
    /// The section's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a signature serialises")
    }

    /// Parses a signature section of the package of `app`.
    pub fn parse(app: &str, bytes: &[u8]) -> Result<PackageSignature> {
        let sig: PackageSignature =
            serde_json::from_slice(bytes).map_err(|e| Error::BadSignature {
                app: app.to_string(),
                message: format!(
                    "its signature section is malformed ({e}); sign it again with `plaza sign`"
                ),
                source: Some(e.into()),
            })?;
        if sig.signature.len() != 128 || crate::hex::decode(&sig.signature).is_none() {
            return Err(Error::BadSignature {
                app: app.to_string(),
                message: "its signature is not 64 bytes of hex; sign it again with `plaza sign`"
                    .to_string(),
                source: None,
            });
        }
        Ok(sig)
    }
}

/// What checking a package's signature against a key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureStatus {
    /// The package has no signature.
    Unsigned,
    /// The signature verifies with the key.
    Valid,
    /// The signature names another publisher than the manifest.
    WrongPublisher {
        /// The publisher the signature names.
        signed_for: String,
    },
    /// The signature does not verify with the key: another key signed, or
    /// the manifest or component changed after signing.
    Mismatch {
        /// The key id the signature claims.
        signed_with_key_id: String,
        /// The id of the key checked against.
        expected_key_id: String,
    },
}

/// A publisher's ed25519 signing key (`plaza keygen` makes one).
pub struct PublisherKey {
    key: SigningKey,
}

impl std::fmt::Debug for PublisherKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PublisherKey")
            .field("key_id", &self.key_id())
            .finish_non_exhaustive()
    }
}

impl PublisherKey {
    /// A new key from the system's random source.
    pub fn generate() -> Result<PublisherKey> {
        Ok(PublisherKey {
            key: SigningKey::from_bytes(&crate::keys::random_32()?),
        })
    }

    /// The key from its secret half, hex (64 characters, as `plaza keygen`
    /// writes it; surrounding whitespace is ignored).
    pub fn from_secret_hex(hex: &str) -> Result<PublisherKey> {
        let bytes = crate::hex::decode(hex.trim())
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| Error::BadKey {
                message: "a publisher's secret key is 32 bytes as 64 hex characters".to_string(),
            })?;
        Ok(PublisherKey {
            key: SigningKey::from_bytes(&bytes),
        })
    }

    /// The secret half, hex. Keep it secret.
    pub fn secret_hex(&self) -> String {
        hex::encode(self.key.as_bytes())
    }

    /// The public half, hex (64 characters): what the host's registry holds.
    pub fn public_key_hex(&self) -> String {
        hex::encode(self.key.verifying_key().as_bytes())
    }

    /// The key's id ([`key_id`]).
    pub fn key_id(&self) -> String {
        key_id(&self.public_key_hex())
    }
}

fn tag_name(tag: u8) -> String {
    match tag {
        TAG_MANIFEST => "manifest".into(),
        TAG_COMPONENT => "component".into(),
        TAG_SIGNATURE => "signature".into(),
        other => format!("unknown({other})"),
    }
}

fn check_component_header(app: &str, component: &[u8]) -> Result<()> {
    if component.len() >= 8 && component[..8] == COMPONENT_HEADER {
        return Ok(());
    }
    let message = if component.len() >= 8 && component[..4] == COMPONENT_HEADER[..4] {
        "it is a core WebAssembly module, not a component: build for the wasm32-wasip2 target (`plaza build`)".to_string()
    } else {
        "it is not WebAssembly (no `\\0asm` header)".to_string()
    };
    Err(Error::InvalidComponent {
        app: app.to_string(),
        message,
        source: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = "[app]\nid = \"a.b\"\nname = \"A\"\nversion = \"1.0.0\"\n[publisher]\nid = \"a.pub\"\nname = \"P\"\ncategory = \"other\"\n";

    fn pkg() -> Package {
        let mut c = COMPONENT_HEADER.to_vec();
        c.extend_from_slice(b"rest");
        Package::new(MANIFEST, c).unwrap()
    }

    #[test]
    fn round_trip() {
        let p = pkg();
        let q = Package::from_bytes("p", &p.to_bytes()).unwrap();
        assert_eq!(q.component, p.component);
        assert_eq!(q.manifest.app.id, "a.b");
        assert!(q.signature.is_none());
    }

    #[test]
    fn truncated_and_corrupt_packages_are_refused() {
        let bytes = pkg().to_bytes();
        for cut in [0, 5, 9, 12, bytes.len() - 1] {
            let e = Package::from_bytes("p", &bytes[..cut])
                .unwrap_err()
                .to_string();
            assert!(e.contains("malformed"), "{cut}: {e}");
        }
        let mut wrong_tag = bytes.clone();
        wrong_tag[10] = 9;
        assert!(
            Package::from_bytes("p", &wrong_tag)
                .unwrap_err()
                .to_string()
                .contains("unknown tag 9")
        );
        let mut huge = bytes.clone();
        huge[11..19].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(
            Package::from_bytes("p", &huge)
                .unwrap_err()
                .to_string()
                .contains("most allowed")
        );
        let mut trailing = bytes.clone();
        trailing.push(1);
        assert!(Package::from_bytes("p", &trailing).is_err());
    }

    #[test]
    fn signatures_verify_and_catch_every_change() {
        let key = PublisherKey::generate().unwrap();
        let other = PublisherKey::generate().unwrap();
        let mut p = pkg();
        assert_eq!(
            p.verify_signature(&key.public_key_hex()).unwrap(),
            SignatureStatus::Unsigned
        );
        p.sign(&key).unwrap();
        let p = Package::from_bytes("p", &p.to_bytes()).unwrap();
        assert_eq!(
            p.verify_signature(&key.public_key_hex()).unwrap(),
            SignatureStatus::Valid
        );
        assert_eq!(
            p.verify_signature(&other.public_key_hex()).unwrap(),
            SignatureStatus::Mismatch {
                signed_with_key_id: key.key_id(),
                expected_key_id: other.key_id()
            }
        );
        // A changed component or manifest no longer verifies.
        let mut changed = p.clone();
        changed.component.push(0);
        assert!(matches!(
            changed.verify_signature(&key.public_key_hex()).unwrap(),
            SignatureStatus::Mismatch { .. }
        ));
        let mut changed = p.clone();
        changed.manifest = Manifest::parse("m", &MANIFEST.replace("1.0.0", "1.0.1")).unwrap();
        assert!(matches!(
            changed.verify_signature(&key.public_key_hex()).unwrap(),
            SignatureStatus::Mismatch { .. }
        ));
        // The secret round-trips through hex.
        let again = PublisherKey::from_secret_hex(&format!(" {}\n", key.secret_hex())).unwrap();
        assert_eq!(again.public_key_hex(), key.public_key_hex());
        assert!(PublisherKey::from_secret_hex("abc").is_err());
        // A garbled section is refused with advice.
        let mut garbled = p.clone();
        garbled.signature = Some(b"{}".to_vec());
        assert!(
            garbled
                .verify_signature(&key.public_key_hex())
                .unwrap_err()
                .to_string()
                .contains("plaza sign")
        );
    }

    #[test]
    fn digest_is_domain_separated_and_length_prefixed() {
        assert_ne!(
            signing_digest("a", "bc", b""),
            signing_digest("ab", "c", b"")
        );
        assert_ne!(signing_digest("a", "", b"x"), signing_digest("a", "x", b""));
    }

    #[test]
    fn core_module_is_refused_with_advice() {
        let e = Package::new(MANIFEST, b"\0asm\x01\0\0\0".to_vec())
            .unwrap_err()
            .to_string();
        assert!(e.contains("wasm32-wasip2"), "{e}");
    }
}
