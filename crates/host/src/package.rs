//! The package file: one file holding a mini-app's manifest, its component and
//! (from the identity issue on) the publisher's signature over both.
//!
//! Layout, all integers little-endian:
//!
//! ```text
//! magic    8 bytes  "PLAZAPKG"
//! format   u16      1
//! section  u8 tag, u64 length, bytes      -- repeated
//!   tag 1  manifest (UTF-8 TOML), exactly once, first
//!   tag 2  component (a WebAssembly component), exactly once, second
//!   tag 3  signature, at most once, last (reserved for signed packages)
//! ```
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
//! ```

use crate::error::{Error, Result};
use crate::manifest::{MAX_MANIFEST_BYTES, Manifest};
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
        sha256_hex(&self.component)
    }
}

/// SHA-256 of `bytes`, as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    to_hex(&Sha256::digest(bytes))
}

/// Lowercase hex of `bytes`.
pub fn to_hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
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
    fn core_module_is_refused_with_advice() {
        let e = Package::new(MANIFEST, b"\0asm\x01\0\0\0".to_vec())
            .unwrap_err()
            .to_string();
        assert!(e.contains("wasm32-wasip2"), "{e}");
    }
}
