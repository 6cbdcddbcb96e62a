//! The world a mini-app targets, made from its manifest: exactly the
//! interfaces of the capabilities `plaza.toml` declares (and `wasi:http` for
//! `[capabilities.network]`), so that toolchains which import every
//! interface of their world (componentize-js, componentize-py) import only
//! what the manifest allows.
//!
//! [`IMPORTS`] is the one table of capability → interface: a new interface
//! is one row there.

use anyhow::{Context, Result};
use plaza_host::manifest::{Capability, Manifest};
use std::path::{Path, PathBuf};

mod contract {
    include!(concat!(env!("OUT_DIR"), "/contract.rs"));
}

/// The interfaces a generated world imports, each with the capability the
/// manifest must declare for it (`None`: imported by every mini-app).
pub const IMPORTS: &[(Option<Capability>, &str)] = &[
    (Some(Capability::Identity), "plaza:host/identity@0.1.1"),
    (Some(Capability::Payment), "plaza:host/payment@0.1.1"),
    (Some(Capability::Payment), "plaza:host/refunds@0.1.1"),
    (Some(Capability::Messaging), "plaza:host/messaging@0.1.1"),
    (Some(Capability::Storage), "plaza:host/storage@0.1.1"),
    (Some(Capability::Log), "plaza:host/log@0.1.1"),
    (Some(Capability::Clock), "plaza:host/clock@0.1.1"),
    (Some(Capability::Config), "plaza:host/config@0.1.1"),
    (Some(Capability::Media), "plaza:host/media@0.1.1"),
    (Some(Capability::Scan), "plaza:host/scan@0.1.1"),
    (
        Some(Capability::Network),
        "wasi:http/outgoing-handler@0.2.12",
    ),
];

/// What every mini-app exports.
pub const EXPORT: &str = "plaza:host/pages@0.1.1";

/// The generated world's package and name, as toolchains take it.
pub const WORLD: &str = "plaza:app/mini-app";

/// The world's WIT text for `manifest`.
pub fn world_wit(manifest: &Manifest) -> String {
    let mut text = String::from(
        "// Made by `plaza build` from plaza.toml: the interfaces its capabilities\n\
         // declare, nothing else. Edit plaza.toml, not this file.\n\
         package plaza:app;\n\nworld mini-app {\n",
    );
    for (capability, interface) in IMPORTS {
        if capability.is_none_or(|c| manifest.declares(c)) {
            text.push_str(&format!("    import {interface};\n"));
        }
    }
    text.push_str(&format!("\n    export {EXPORT};\n}}\n"));
    text
}

/// Feeds the embedded contract to `h` (for [`super::inputs_hash`]).
pub fn contract_hash(h: &mut impl std::hash::Hasher) {
    use std::hash::Hash;
    (contract::PLAZA_HOST_WIT, contract::WASI_HTTP_WIT).hash(h);
}

/// Whether the world of `manifest` needs the WASI HTTP interfaces.
pub fn needs_wasi_http(manifest: &Manifest) -> bool {
    IMPORTS
        .iter()
        .any(|(c, i)| i.starts_with("wasi:http/") && c.is_none_or(|c| manifest.declares(c)))
}

/// Writes the world of `manifest` into `dir` (emptied first): `world.wit`,
/// the contract in `deps/plaza-host/`, and the WASI HTTP packages in `deps/`
/// when the manifest declares the network. Returns `dir`.
pub fn write_world(manifest: &Manifest, dir: &Path) -> Result<PathBuf> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("emptying {}", dir.display()))?;
    }
    let plaza = dir.join("deps/plaza-host");
    std::fs::create_dir_all(&plaza).with_context(|| format!("creating {}", plaza.display()))?;
    let write = |path: PathBuf, text: &str| {
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
    };
    write(dir.join("world.wit"), &world_wit(manifest))?;
    for (name, text) in contract::PLAZA_HOST_WIT {
        write(plaza.join(name), text)?;
    }
    if needs_wasi_http(manifest) {
        for (name, text) in contract::WASI_HTTP_WIT {
            write(dir.join("deps").join(format!("wasi-{name}")), text)?;
        }
    }
    Ok(dir.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(capabilities: &str) -> Manifest {
        let text = format!(
            "[app]\nid = \"com.example.notes\"\nname = \"Notes\"\nversion = \"0.1.0\"\n\
             [publisher]\nid = \"com.example\"\nname = \"Example\"\ncategory = \"other\"\n{capabilities}"
        );
        Manifest::parse("plaza.toml", &text).unwrap()
    }

    /// The imports of the world written for `manifest` into `tmp`, as the
    /// WIT resolver (what the toolchains run first) names them.
    fn resolved_imports(manifest: &Manifest, tmp: &Path) -> Vec<String> {
        let dir = write_world(manifest, &tmp.join("wit")).unwrap();
        let mut resolve = wit_parser::Resolve::default();
        let (package, _) = resolve.push_dir(&dir).unwrap();
        let world = resolve.select_world(&[package], Some("mini-app")).unwrap();
        resolve.worlds[world]
            .imports
            .keys()
            .map(|k| resolve.name_world_key(k))
            .collect()
    }

    #[test]
    fn every_capability_has_its_row() {
        for c in Capability::ALL {
            assert!(
                IMPORTS.iter().any(|(row, _)| *row == Some(c)),
                "{c} has no row in IMPORTS"
            );
        }
    }

    #[test]
    fn a_world_imports_scan_only_when_declared_and_resolves() {
        let undeclared = world_wit(&manifest("[capabilities.media]\n"));
        assert!(!undeclared.contains("scan"), "{undeclared}");
        let tmp = tempfile::tempdir().unwrap();
        let declared = manifest("[capabilities.scan]\n");
        assert!(world_wit(&declared).contains("import plaza:host/scan@0.1.1;"));
        let imports = resolved_imports(&declared, tmp.path());
        assert!(
            imports.iter().any(|i| i == "plaza:host/scan@0.1.1"),
            "{imports:?}"
        );
    }

    #[test]
    fn a_world_imports_media_only_when_declared_and_resolves() {
        let undeclared = world_wit(&manifest("[capabilities.storage]\n"));
        assert!(!undeclared.contains("media"), "{undeclared}");
        let tmp = tempfile::tempdir().unwrap();
        let declared = manifest("[capabilities.storage]\n[capabilities.media]\n");
        assert!(world_wit(&declared).contains("import plaza:host/media@0.1.1;"));
        let imports = resolved_imports(&declared, tmp.path());
        assert!(
            imports.iter().any(|i| i == "plaza:host/media@0.1.1")
                && imports.iter().any(|i| i == "plaza:host/storage@0.1.1"),
            "{imports:?}"
        );
    }

    /// Every interface the contract's full world imports has its row, so a
    /// new interface in `host-api/wit` cannot be forgotten here.
    #[test]
    fn every_interface_of_the_contract_has_its_row() {
        let world = contract::PLAZA_HOST_WIT
            .iter()
            .find(|(name, _)| *name == "world.wit")
            .expect("host-api/wit/world.wit")
            .1;
        for line in world.lines().map(str::trim) {
            if let Some(name) = line
                .strip_prefix("import ")
                .and_then(|l| l.strip_suffix(';'))
            {
                let interface = format!("plaza:host/{name}@{}", plaza_host_version());
                assert!(
                    IMPORTS.iter().any(|(_, i)| *i == interface),
                    "{interface} has no row in IMPORTS"
                );
            }
        }
        assert_eq!(EXPORT, format!("plaza:host/pages@{}", plaza_host_version()));
    }

    fn plaza_host_version() -> &'static str {
        let world = contract::PLAZA_HOST_WIT[0].1;
        world
            .lines()
            .find_map(|l| l.strip_prefix("package plaza:host@"))
            .and_then(|l| l.strip_suffix(';'))
            .expect("a package line")
    }

    #[test]
    fn the_world_holds_exactly_the_declared_capabilities() {
        let text = world_wit(&manifest("[capabilities.storage]\n[capabilities.log]\n"));
        assert!(text.contains("import plaza:host/storage@0.1.1;"), "{text}");
        assert!(text.contains("import plaza:host/log@0.1.1;"), "{text}");
        assert!(text.contains("export plaza:host/pages@0.1.1;"), "{text}");
        for absent in ["payment", "messaging", "identity", "clock", "wasi:http"] {
            assert!(!text.contains(absent), "{absent} in {text}");
        }
    }

    /// The written folder resolves as WIT (what the toolchains do first),
    /// with `wasi:http` only for a manifest that declares the network.
    #[test]
    fn the_written_world_resolves() {
        let tmp = tempfile::tempdir().unwrap();
        for (capabilities, http) in [
            ("[capabilities.storage]\n", false),
            (
                "[capabilities.network]\norigins = [\"https://api.example.com\"]\n",
                true,
            ),
        ] {
            let imports = resolved_imports(&manifest(capabilities), tmp.path());
            assert_eq!(
                imports
                    .iter()
                    .any(|i| i.starts_with("wasi:http/outgoing-handler")),
                http,
                "{imports:?}"
            );
        }
    }
}
