//! The package file: one file holding a mini-app's manifest, its component,
//! its assets (images its pages show) and the publisher's signature over them.
//!
//! Layout, all integers little-endian:
//!
//! ```text
//! magic    8 bytes  "PLAZAPKG"
//! format   u16      1 without assets, 2 with
//! section  u8 tag, u64 length, bytes      -- repeated
//!   tag 1  manifest (UTF-8 TOML), exactly once, first
//!   tag 2  component (a WebAssembly component), exactly once, second
//!   tag 4  assets, exactly once in format 2 (never in format 1), third
//!   tag 3  signature, at most once, last
//! ```
//!
//! The assets section is a run of assets, names in ascending byte order,
//! each once: u16 name length, the name (1 to [`MAX_ASSET_NAME_BYTES`] bytes
//! of ASCII letters, digits, `.`, `-` and `_`, not starting with `.`), u64
//! length, the bytes. An asset is a PNG, JPEG, GIF or WebP image, checked by
//! its first bytes (no SVG: it can hold script and fetch), of at most
//! [`MAX_ASSET_BYTES`] (1 MiB); all of a package's assets hold at most
//! [`MAX_ASSETS_TOTAL_BYTES`] (8 MiB), [`MAX_ASSETS`] of them. A page shows
//! one as `asset:NAME`. A package without assets is written in format 1, as
//! before assets existed, so hosts that read only format 1 still read it;
//! a host that reads only format 1 refuses a package with assets naming its
//! format.
//!
//! The signature section is UTF-8 JSON, `{"publisher": ID, "key_id": HEX16,
//! "signature": HEX128}`: the publisher's id, the id of the key that signed
//! (the first 8 bytes of the SHA-256 of the ed25519 public key, hex), and an
//! ed25519 signature over [`package_digest`]: for a package without assets,
//! [`signing_digest`], SHA-256 of the domain `plaza-package-signature-v1`,
//! then the publisher id, the manifest text and the component, each preceded
//! by its length as a little-endian u64 (so packages signed before assets
//! existed still verify); with assets, the same over the domain
//! `plaza-package-signature-v2`, followed by the number of assets and each
//! asset's name and bytes, each length-prefixed the same way. Adding,
//! removing or changing an asset breaks the signature. The host checks it at
//! install against the key in its registry of trusted publishers.
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
/// The newest package format this host writes and reads: 2, a package with
/// assets. A package without assets is written in format 1
/// ([`FORMAT_WITHOUT_ASSETS`]); this host reads both.
pub const FORMAT_VERSION: u16 = 2;
/// The format of a package without assets.
pub const FORMAT_WITHOUT_ASSETS: u16 = 1;
/// The largest asset: 1 MiB.
pub const MAX_ASSET_BYTES: u64 = 1024 * 1024;
/// The most all of a package's assets may hold together: 8 MiB.
pub const MAX_ASSETS_TOTAL_BYTES: u64 = 8 * 1024 * 1024;
/// The most assets a package may hold.
pub const MAX_ASSETS: usize = 256;
/// The longest asset name, in bytes.
pub const MAX_ASSET_NAME_BYTES: usize = 128;
/// The largest assets section: the assets and their names and lengths.
pub const MAX_ASSETS_SECTION_BYTES: u64 =
    MAX_ASSETS_TOTAL_BYTES + (MAX_ASSETS * (2 + MAX_ASSET_NAME_BYTES + 8)) as u64;
/// The largest component a package may hold: 64 MiB.
pub const MAX_COMPONENT_BYTES: u64 = 64 * 1024 * 1024;
/// The largest signature section: 4 KiB.
pub const MAX_SIGNATURE_BYTES: u64 = 4 * 1024;
/// The header of a WebAssembly component (a core module has `01 00 00 00`).
pub const COMPONENT_HEADER: [u8; 8] = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];

const TAG_MANIFEST: u8 = 1;
const TAG_COMPONENT: u8 = 2;
const TAG_SIGNATURE: u8 = 3;
const TAG_ASSETS: u8 = 4;

/// A mini-app package.
#[derive(Debug, Clone)]
pub struct Package {
    /// The parsed manifest.
    pub manifest: Manifest,
    /// The component bytes.
    pub component: Vec<u8>,
    /// The assets (images pages show as `asset:NAME`), by name, each name
    /// once ([`Package::with_assets`] checks and sorts them).
    pub assets: Vec<Asset>,
    /// The signature section, if the package is signed.
    pub signature: Option<Vec<u8>>,
}

/// An image a package carries, shown by its pages as `asset:NAME`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asset {
    /// Its name (`logo.png`).
    pub name: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// The kinds of image an asset may be, told by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    /// PNG.
    Png,
    /// JPEG.
    Jpeg,
    /// GIF.
    Gif,
    /// WebP.
    Webp,
}

impl ImageKind {
    /// The kind of image `bytes` are, by their first bytes; `None` for
    /// anything else (SVG included).
    pub fn sniff(bytes: &[u8]) -> Option<ImageKind> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(ImageKind::Png)
        } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
            Some(ImageKind::Jpeg)
        } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
            Some(ImageKind::Gif)
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(ImageKind::Webp)
        } else {
            None
        }
    }

    /// Its media type (`image/png`).
    pub fn content_type(self) -> &'static str {
        match self {
            ImageKind::Png => "image/png",
            ImageKind::Jpeg => "image/jpeg",
            ImageKind::Gif => "image/gif",
            ImageKind::Webp => "image/webp",
        }
    }

    /// Its short name (`PNG`).
    pub fn name(self) -> &'static str {
        match self {
            ImageKind::Png => "PNG",
            ImageKind::Jpeg => "JPEG",
            ImageKind::Gif => "GIF",
            ImageKind::Webp => "WebP",
        }
    }
}

impl Asset {
    /// Its kind of image (checked when the package was made or read).
    pub fn kind(&self) -> Option<ImageKind> {
        ImageKind::sniff(&self.bytes)
    }

    /// Its media type (`application/octet-stream` if it is no image, which a
    /// checked package never holds).
    pub fn content_type(&self) -> &'static str {
        self.kind()
            .map_or("application/octet-stream", ImageKind::content_type)
    }
}

/// Whether `name` may name an asset: 1 to [`MAX_ASSET_NAME_BYTES`] bytes of
/// ASCII letters, digits, `.`, `-` and `_`, not starting with `.`.
pub fn is_asset_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_ASSET_NAME_BYTES
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

/// Checks a package's assets: names, kinds, sizes, count, each name once.
/// Sorts them by name. The error says which asset is wrong and why.
pub fn check_assets(assets: &mut [Asset]) -> std::result::Result<(), String> {
    if assets.len() > MAX_ASSETS {
        return Err(format!(
            "it has {} assets; the most a package may hold is {MAX_ASSETS}",
            assets.len()
        ));
    }
    let mut total = 0u64;
    for a in assets.iter() {
        if !is_asset_name(&a.name) {
            return Err(format!(
                "the asset name `{}` is not allowed: 1 to {MAX_ASSET_NAME_BYTES} ASCII letters, digits, `.`, `-` and `_`, not starting with `.`",
                a.name.chars().take(80).collect::<String>()
            ));
        }
        if a.bytes.len() as u64 > MAX_ASSET_BYTES {
            return Err(format!(
                "the asset `{}` is {} bytes; the most an asset may hold is {MAX_ASSET_BYTES} (1 MiB)",
                a.name,
                a.bytes.len()
            ));
        }
        if ImageKind::sniff(&a.bytes).is_none() {
            return Err(format!(
                "the asset `{}` is not a PNG, JPEG, GIF or WebP image (by its first bytes; SVG is not allowed)",
                a.name
            ));
        }
        total += a.bytes.len() as u64;
    }
    if total > MAX_ASSETS_TOTAL_BYTES {
        return Err(format!(
            "its assets hold {total} bytes; the most a package's assets may hold together is {MAX_ASSETS_TOTAL_BYTES} (8 MiB)"
        ));
    }
    assets.sort_by(|a, b| a.name.cmp(&b.name));
    if let Some(w) = assets.windows(2).find(|w| w[0].name == w[1].name) {
        return Err(format!("it has two assets named `{}`", w[0].name));
    }
    Ok(())
}

/// The assets section's bytes (see the module's documentation).
pub fn encode_assets(assets: &[Asset]) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        assets
            .iter()
            .map(|a| 10 + a.name.len() + a.bytes.len())
            .sum(),
    );
    for a in assets {
        out.extend_from_slice(&(a.name.len() as u16).to_le_bytes());
        out.extend_from_slice(a.name.as_bytes());
        out.extend_from_slice(&(a.bytes.len() as u64).to_le_bytes());
        out.extend_from_slice(&a.bytes);
    }
    out
}

/// Reads an assets section and checks it as [`check_assets`] does; the names
/// must already be in ascending order (as [`encode_assets`] writes them).
pub fn decode_assets(section: &[u8]) -> std::result::Result<Vec<Asset>, String> {
    fn cut(rest: &[u8], n: usize) -> std::result::Result<(&[u8], &[u8]), String> {
        if rest.len() >= n {
            Ok(rest.split_at(n))
        } else {
            Err("its assets section ends in the middle of an asset".to_string())
        }
    }
    let mut rest = section;
    let mut assets = Vec::new();
    while !rest.is_empty() {
        if assets.len() >= MAX_ASSETS {
            return Err(format!(
                "its assets section holds more than {MAX_ASSETS} assets"
            ));
        }
        let (len, r) = cut(rest, 2)?;
        let (name, r) = cut(r, u16::from_le_bytes([len[0], len[1]]) as usize)?;
        let (len, r) = cut(r, 8)?;
        let len = u64::from_le_bytes(len.try_into().expect("8 bytes"));
        if len > MAX_ASSET_BYTES {
            return Err(format!(
                "an asset claims {len} bytes; the most an asset may hold is {MAX_ASSET_BYTES} (1 MiB)"
            ));
        }
        let (bytes, r) = cut(r, len as usize)?;
        let name =
            std::str::from_utf8(name).map_err(|_| "an asset's name is not UTF-8".to_string())?;
        assets.push(Asset {
            name: name.to_string(),
            bytes: bytes.to_vec(),
        });
        rest = r;
    }
    let in_order = assets.windows(2).all(|w| w[0].name < w[1].name);
    check_assets(&mut assets)?;
    if !in_order {
        return Err("its assets are not in ascending order of name".to_string());
    }
    Ok(assets)
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
            assets: Vec::new(),
            signature: None,
        })
    }

    /// The package with these assets (replacing any it had), checked
    /// ([`check_assets`]) and sorted by name. Sign it afterwards: the
    /// signature covers the assets.
    pub fn with_assets(mut self, mut assets: Vec<Asset>) -> Result<Package> {
        check_assets(&mut assets).map_err(|message| Error::Package {
            source_name: self.manifest.app.id.clone(),
            message,
        })?;
        self.assets = assets;
        Ok(self)
    }

    /// The package with the images in `dir` as its assets (a mini-app's
    /// `assets/` folder, next to its `plaza.toml`), each named by its file
    /// name; hidden files (`.name`) are skipped. Without the folder, the
    /// package unchanged. A subfolder, or a file that is no allowed image or
    /// too large, is refused naming it.
    pub fn with_assets_dir(self, dir: &Path) -> Result<Package> {
        if !dir.is_dir() {
            return Ok(self);
        }
        let bad = |message: String| Error::Package {
            source_name: dir.display().to_string(),
            message,
        };
        let entries = std::fs::read_dir(dir).map_err(|e| bad(format!("cannot read it: {e}")))?;
        let mut assets = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| bad(format!("cannot read it: {e}")))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let path = entry.path();
            let meta =
                std::fs::metadata(&path).map_err(|e| bad(format!("cannot read `{name}`: {e}")))?;
            if !meta.is_file() {
                return Err(bad(format!(
                    "`{name}` is not a file: assets are the image files directly in the folder"
                )));
            }
            if meta.len() > MAX_ASSET_BYTES {
                return Err(bad(format!(
                    "the asset `{name}` is {} bytes; the most an asset may hold is {MAX_ASSET_BYTES} (1 MiB)",
                    meta.len()
                )));
            }
            let bytes =
                std::fs::read(&path).map_err(|e| bad(format!("cannot read `{name}`: {e}")))?;
            assets.push(Asset { name, bytes });
        }
        if assets.is_empty() {
            return Ok(self);
        }
        check_assets(&mut assets).map_err(bad)?;
        let mut p = self;
        p.assets = assets;
        Ok(p)
    }

    /// The asset named `name`, if the package has one.
    pub fn asset(&self, name: &str) -> Option<&Asset> {
        self.assets
            .binary_search_by(|a| a.name.as_str().cmp(name))
            .ok()
            .map(|i| &self.assets[i])
    }

    /// The names of the assets, in order.
    pub fn asset_names(&self) -> Vec<String> {
        self.assets.iter().map(|a| a.name.clone()).collect()
    }

    /// Reads a package file.
    pub fn read_file(path: &Path) -> Result<Package> {
        let name = path.display().to_string();
        let meta = std::fs::metadata(path).map_err(|e| Error::Package {
            source_name: name.clone(),
            message: format!("cannot read it: {e}"),
        })?;
        let cap = 8
            + 2
            + 4 * 9
            + MAX_MANIFEST_BYTES as u64
            + MAX_COMPONENT_BYTES
            + MAX_ASSETS_SECTION_BYTES
            + MAX_SIGNATURE_BYTES;
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
        if format != FORMAT_WITHOUT_ASSETS && format != FORMAT_VERSION {
            return Err(bad(format!(
                "it is in package format {format}; this host reads formats {FORMAT_WITHOUT_ASSETS} and {FORMAT_VERSION} (a newer `plaza` made it?)"
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
                TAG_ASSETS => MAX_ASSETS_SECTION_BYTES,
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
        let with_assets = format == FORMAT_VERSION;
        let (assets, signature) = match (with_assets, order.as_slice()) {
            (false, [TAG_MANIFEST, TAG_COMPONENT]) => (None, None),
            (false, [TAG_MANIFEST, TAG_COMPONENT, TAG_SIGNATURE]) => {
                (None, Some(sections[2].1.to_vec()))
            }
            (true, [TAG_MANIFEST, TAG_COMPONENT, TAG_ASSETS]) => (Some(sections[2].1), None),
            (true, [TAG_MANIFEST, TAG_COMPONENT, TAG_ASSETS, TAG_SIGNATURE]) => {
                (Some(sections[2].1), Some(sections[3].1.to_vec()))
            }
            _ => {
                return Err(bad(format!(
                    "its sections are [{}]; a package of format {format} holds manifest, component, {}and optionally signature, in that order, once each",
                    order
                        .iter()
                        .map(|t| tag_name(*t))
                        .collect::<Vec<_>>()
                        .join(", "),
                    if with_assets { "assets " } else { "" }
                )));
            }
        };
        let assets = match assets {
            None => Vec::new(),
            Some(section) => {
                let assets = decode_assets(section).map_err(bad)?;
                if assets.is_empty() {
                    return Err(bad(
                        "its assets section is empty (a package without assets is format 1)"
                            .to_string(),
                    ));
                }
                assets
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
            assets,
            signature,
        })
    }

    /// Serialises the package: format 1 without assets, 2 with.
    pub fn to_bytes(&self) -> Vec<u8> {
        let m = self.manifest.source.as_bytes();
        let mut out = Vec::with_capacity(10 + 27 + m.len() + self.component.len());
        out.extend_from_slice(MAGIC);
        let format = if self.assets.is_empty() {
            FORMAT_WITHOUT_ASSETS
        } else {
            FORMAT_VERSION
        };
        out.extend_from_slice(&format.to_le_bytes());
        let mut section = |tag: u8, body: &[u8]| {
            out.push(tag);
            out.extend_from_slice(&(body.len() as u64).to_le_bytes());
            out.extend_from_slice(body);
        };
        section(TAG_MANIFEST, m);
        section(TAG_COMPONENT, &self.component);
        if !self.assets.is_empty() {
            section(TAG_ASSETS, &encode_assets(&self.assets));
        }
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
        let digest = package_digest(
            &publisher,
            &self.manifest.source,
            &self.component,
            &self.assets,
        );
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
        let digest = package_digest(
            &sig.publisher,
            &self.manifest.source,
            &self.component,
            &self.assets,
        );
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

/// The domain of signatures over packages with assets.
pub const SIGNATURE_DOMAIN_WITH_ASSETS: &str = "plaza-package-signature-v2";

/// What a package signature signs: [`signing_digest`] for a package without
/// assets (as before assets existed); with assets, SHA-256 of
/// [`SIGNATURE_DOMAIN_WITH_ASSETS`], the publisher id, the manifest text, the
/// component, the number of assets (u64), then each asset's name and bytes,
/// every part length-prefixed (u64, little-endian).
pub fn package_digest(
    publisher_id: &str,
    manifest_text: &str,
    component: &[u8],
    assets: &[Asset],
) -> [u8; 32] {
    if assets.is_empty() {
        return signing_digest(publisher_id, manifest_text, component);
    }
    let mut h = Sha256::new();
    let count = (assets.len() as u64).to_le_bytes();
    let mut parts: Vec<&[u8]> = vec![
        SIGNATURE_DOMAIN_WITH_ASSETS.as_bytes(),
        publisher_id.as_bytes(),
        manifest_text.as_bytes(),
        component,
        &count,
    ];
    for a in assets {
        parts.push(a.name.as_bytes());
        parts.push(&a.bytes);
    }
    for part in parts {
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
    /// the manifest, component or assets changed after signing.
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
        TAG_ASSETS => "assets".into(),
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

    /// A tiny valid PNG's first bytes (the check reads only the header).
    pub(crate) fn png(extra: &[u8]) -> Vec<u8> {
        let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
        b.extend_from_slice(extra);
        b
    }

    fn asset(name: &str, bytes: Vec<u8>) -> Asset {
        Asset {
            name: name.into(),
            bytes,
        }
    }

    #[test]
    fn assets_round_trip_in_format_2_and_old_packages_stay_format_1() {
        let plain = pkg().to_bytes();
        assert_eq!(u16::from_le_bytes([plain[8], plain[9]]), 1);
        let p = pkg()
            .with_assets(vec![
                asset("logo.png", png(b"logo")),
                asset("a.jpg", vec![0xff, 0xd8, 0xff, 0xe0]),
                asset("b.gif", b"GIF89a..".to_vec()),
                asset("c.webp", b"RIFF\0\0\0\0WEBPVP8 ".to_vec()),
            ])
            .unwrap();
        assert_eq!(p.asset_names(), ["a.jpg", "b.gif", "c.webp", "logo.png"]);
        let bytes = p.to_bytes();
        assert_eq!(u16::from_le_bytes([bytes[8], bytes[9]]), 2);
        let q = Package::from_bytes("p", &bytes).unwrap();
        assert_eq!(q.assets, p.assets);
        assert_eq!(q.to_bytes(), bytes);
        let logo = q.asset("logo.png").unwrap();
        assert_eq!(logo.bytes, png(b"logo"));
        assert_eq!(logo.content_type(), "image/png");
        assert_eq!(q.asset("c.webp").unwrap().kind(), Some(ImageKind::Webp));
        assert!(q.asset("missing.png").is_none());
        // A format-1 package with an assets section, or format 2 without, is refused.
        let mut one = bytes.clone();
        one[8] = 1;
        assert!(
            Package::from_bytes("p", &one)
                .unwrap_err()
                .to_string()
                .contains("format 1")
        );
        let mut two = plain.clone();
        two[8] = 2;
        assert!(
            Package::from_bytes("p", &two)
                .unwrap_err()
                .to_string()
                .contains("format 2")
        );
        let mut three = plain;
        three[8] = 3;
        assert!(
            Package::from_bytes("p", &three)
                .unwrap_err()
                .to_string()
                .contains("format 3")
        );
    }

    #[test]
    fn assets_are_checked_for_kind_name_and_size() {
        let e = |assets: Vec<Asset>| pkg().with_assets(assets).unwrap_err().to_string();
        assert!(
            e(vec![asset("x.svg", b"<svg onload=alert(1)>".to_vec())])
                .contains("not a PNG, JPEG, GIF or WebP")
        );
        assert!(e(vec![asset("x.png", b"\x89PNX".to_vec())]).contains("`x.png` is not a PNG"));
        assert!(e(vec![asset("../x.png", png(b""))]).contains("not allowed"));
        assert!(e(vec![asset(".x.png", png(b""))]).contains("not allowed"));
        assert!(e(vec![asset("a b.png", png(b""))]).contains("not allowed"));
        assert!(
            e(vec![asset("x.png", png(b"")), asset("x.png", png(b"2"))])
                .contains("two assets named `x.png`")
        );
        let big = png(&vec![0; MAX_ASSET_BYTES as usize - 8]);
        assert!(
            pkg()
                .with_assets(vec![asset("big.png", big.clone())])
                .is_ok()
        );
        let mut over = big.clone();
        over.push(0);
        assert!(e(vec![asset("big.png", over)]).contains("most an asset may hold is 1048576"));
        let nine: Vec<Asset> = (0..9)
            .map(|i| asset(&format!("{i}.png"), big.clone()))
            .collect();
        assert!(e(nine).contains("8388608"));
        let many: Vec<Asset> = (0..=MAX_ASSETS)
            .map(|i| asset(&format!("{i}.png"), png(b"")))
            .collect();
        assert!(e(many).contains("most a package may hold is 256"));
        // The reader applies the same checks to a package's bytes.
        let p = pkg().with_assets(vec![asset("x.png", png(b"ok"))]).unwrap();
        let mut bytes = p.to_bytes();
        let at = bytes.windows(4).position(|w| w == b"\x89PNG").unwrap();
        bytes[at + 1] = b'X';
        let err = Package::from_bytes("p", &bytes).unwrap_err().to_string();
        assert!(err.contains("`x.png` is not a PNG"), "{err}");
    }

    #[test]
    fn the_signature_covers_the_assets() {
        let key = PublisherKey::generate().unwrap();
        let mut p = pkg()
            .with_assets(vec![asset("logo.png", png(b"one"))])
            .unwrap();
        p.sign(&key).unwrap();
        let p = Package::from_bytes("p", &p.to_bytes()).unwrap();
        assert_eq!(
            p.verify_signature(&key.public_key_hex()).unwrap(),
            SignatureStatus::Valid
        );
        // A changed, added, renamed or removed asset no longer verifies.
        let mut changed = p.clone();
        changed.assets[0].bytes.push(0);
        let mut added = p.clone();
        added.assets.push(asset("more.png", png(b"")));
        let mut renamed = p.clone();
        renamed.assets[0].name = "other.png".into();
        let mut removed = p.clone();
        removed.assets.clear();
        for changed in [changed, added, renamed, removed] {
            assert!(
                matches!(
                    changed.verify_signature(&key.public_key_hex()).unwrap(),
                    SignatureStatus::Mismatch { .. }
                ),
                "{:?}",
                changed.asset_names()
            );
        }
        // A package without assets signs over the digest of format 1, so a
        // package signed before assets existed still verifies.
        let mut plain = pkg();
        plain.sign(&key).unwrap();
        let sig = plain.signature_info().unwrap().unwrap();
        let digest = signing_digest("a.pub", MANIFEST, &plain.component);
        assert!(crate::keys::verify(
            &key.public_key_hex(),
            &digest,
            &sig.signature
        ));
        assert_ne!(
            package_digest(
                "a.pub",
                MANIFEST,
                &plain.component,
                &[asset("x.png", png(b""))]
            ),
            digest
        );
    }

    #[test]
    fn core_module_is_refused_with_advice() {
        let e = Package::new(MANIFEST, b"\0asm\x01\0\0\0".to_vec())
            .unwrap_err()
            .to_string();
        assert!(e.contains("wasm32-wasip2"), "{e}");
    }
}
