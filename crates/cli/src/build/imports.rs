//! What a JavaScript, TypeScript or Python mini-app's code imports, checked
//! against its manifest: an SDK module (or host interface) of a capability
//! plaza.toml does not declare is named, with the table to add, instead of
//! failing deep in a toolchain (the world `plaza build` makes has only the
//! declared interfaces, so componentize-js, `tsc` and componentize-py each
//! fail on such an import in their own words).

use super::world::IMPORTS;
use anyhow::{Context, Result};
use plaza_host::manifest::{Capability, Manifest};
use std::collections::{BTreeSet, HashSet, VecDeque};
use std::path::Path;

/// The capability behind `interface` as a component imports it
/// (`plaza:host/payment@0.1.0`, `wasi:http/types@0.2.12`), whatever its
/// version; `None` for what no capability guards (`plaza:host/types`).
pub fn capability_of(interface: &str) -> Option<Capability> {
    let name = interface.split('@').next()?;
    if name.starts_with("wasi:http/") {
        return Some(Capability::Network);
    }
    IMPORTS
        .iter()
        .find(|(_, i)| i.split('@').next() == Some(name))
        .and_then(|(c, _)| *c)
}

/// One import of a capability the manifest does not declare.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Undeclared {
    /// The capability.
    pub capability: Capability,
    /// Where the mini-app's code imports it: `src/app.js imports
    /// `@plaza/sdk/payment``.
    pub at: String,
}

/// The error `plaza build` reports for `undeclared` (not empty).
pub fn error(undeclared: &[Undeclared]) -> anyhow::Error {
    let mut text = String::from(
        "the code imports a capability plaza.toml does not declare (the host would refuse the package at install):",
    );
    for u in undeclared {
        text.push_str(&format!(
            "\n  {}: that is the `{}` capability; add {} to plaza.toml (docs/manifest.md), or remove the import",
            u.at,
            u.capability,
            u.capability.declaration()
        ));
    }
    anyhow::anyhow!(text)
}

/// The undeclared capabilities a JavaScript or TypeScript mini-app's bundle
/// imports, from esbuild's metafile (`--metafile`, paths relative to the
/// mini-app's folder): each traced back to the import in the mini-app's own
/// code that leads to it (an `@plaza/sdk/...` module, say).
pub fn undeclared_in_bundle(manifest: &Manifest, metafile: &Path) -> Result<Vec<Undeclared>> {
    let text = std::fs::read_to_string(metafile)
        .with_context(|| format!("reading esbuild's {}", metafile.display()))?;
    let meta: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("esbuild's {} is not JSON", metafile.display()))?;
    Ok(undeclared_in_metafile(manifest, &meta))
}

fn undeclared_in_metafile(manifest: &Manifest, meta: &serde_json::Value) -> Vec<Undeclared> {
    let empty = serde_json::Map::new();
    let edges = |file: &serde_json::Value| -> Vec<(String, String)> {
        file["imports"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| {
                let path = i["path"].as_str()?.to_string();
                let original = i["original"].as_str().unwrap_or(&path).to_string();
                Some((path, original))
            })
            .collect()
    };
    let inputs = meta["inputs"].as_object().unwrap_or(&empty);
    // What the component will import: the bundle's external imports.
    let external: BTreeSet<String> = meta["outputs"]
        .as_object()
        .unwrap_or(&empty)
        .values()
        .flat_map(|o| edges(o).into_iter().map(|(path, _)| path))
        .collect();
    let mut found = BTreeSet::new();
    for interface in external {
        let Some(capability) = capability_of(&interface) else {
            continue;
        };
        if manifest.declares(capability) {
            continue;
        }
        // Back from the interface to the nearest file of the mini-app's own.
        let mut queue = VecDeque::from([interface.clone()]);
        let mut seen = HashSet::from([interface.clone()]);
        let mut at = None;
        'search: while let Some(target) = queue.pop_front() {
            for (file, data) in inputs {
                let Some((_, original)) = edges(data).into_iter().find(|(p, _)| *p == target)
                else {
                    continue;
                };
                if is_own(file) {
                    at = Some(format!("{file} imports `{original}`"));
                    break 'search;
                }
                if seen.insert(file.clone()) {
                    queue.push_back(file.clone());
                }
            }
        }
        found.insert(Undeclared {
            capability,
            at: at.unwrap_or_else(|| format!("the bundle imports `{interface}`")),
        });
    }
    found.into_iter().collect()
}

/// Whether an esbuild input path is the mini-app's own code (not the SDK
/// `plaza build` writes into `.plaza`, nor an npm package).
fn is_own(path: &str) -> bool {
    !path.starts_with(&format!("{}/", super::OUT_DIR))
        && !path.split('/').any(|p| p == "node_modules")
}

/// The undeclared capability behind componentize-py's failure `output`, if
/// that is why it failed: the mini-app imported a `plaza_sdk` module (or a
/// binding) of a capability whose interface the world lacks. Named with the
/// line of the mini-app's own code the traceback leads from: componentize-py
/// shows the folders of its Python path as `/0`, `/1`, ...; `src_in_guest`
/// is the one of the mini-app's `src` (`/0`).
pub fn undeclared_in_python_failure(
    manifest: &Manifest,
    output: &str,
    src_in_guest: &str,
) -> Option<Undeclared> {
    let name = missing_module(output)?;
    let capability = capability_of(&format!("plaza:host/{name}"))?;
    if manifest.declares(capability) {
        return None;
    }
    // The traceback's last frame in the mini-app's own sources: `File
    // "/0/app.py", line 17, in <module>`, then the line itself.
    let prefix = format!("{}/", src_in_guest.trim_end_matches('/'));
    let lines: Vec<&str> = output.lines().collect();
    let at = lines
        .iter()
        .enumerate()
        .filter_map(|(n, l)| {
            let rest = l.trim().strip_prefix("File \"")?;
            let (file, rest) = rest.split_once('"')?;
            let file = file.strip_prefix(&prefix)?;
            let line = rest.strip_prefix(", line ")?.split(',').next()?.trim();
            let code = lines.get(n + 1).map(|c| c.trim()).unwrap_or_default();
            Some(format!(
                "src/{file}:{line} imports `plaza_sdk.{name}` (`{code}`)"
            ))
        })
        .last()
        .unwrap_or_else(|| format!("the code imports `plaza_sdk.{name}`"));
    Some(Undeclared { capability, at })
}

/// The capability module Python could not import, from its error: the
/// SDK's own (`plaza_sdk.payment needs [capabilities.payment] ...`), or a
/// binding's (`cannot import name 'payment' from 'wit_world.imports'`, `No
/// module named 'wit_world.imports.payment'`).
fn missing_module(output: &str) -> Option<String> {
    let word = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    for line in output.lines() {
        if let Some(rest) = line.split("ImportError: plaza_sdk.").nth(1) {
            return Some(word(rest));
        }
        if let Some(rest) = line.split("cannot import name '").nth(1) {
            if let Some((name, rest)) = rest.split_once('\'')
                && rest.contains("'wit_world.imports'")
            {
                return Some(name.to_string());
            }
        }
        if let Some(rest) = line.split("No module named 'wit_world.imports.").nth(1) {
            return Some(word(rest));
        }
    }
    None
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

    #[test]
    fn interfaces_map_to_their_capability_whatever_the_version() {
        assert_eq!(
            capability_of("plaza:host/payment@0.1.0"),
            Some(Capability::Payment)
        );
        assert_eq!(
            capability_of("plaza:host/refunds@0.1.1"),
            Some(Capability::Payment)
        );
        assert_eq!(
            capability_of("wasi:http/types@0.2.12"),
            Some(Capability::Network)
        );
        assert_eq!(capability_of("plaza:host/types@0.1.0"), None);
        assert_eq!(capability_of("wasi:io/streams@0.2.0"), None);
    }

    /// What componentize-py printed for `from plaza_sdk import log, storage,
    /// payment` in a mini-app that declares storage and log.
    const PYTHON_FAILURE: &str = r#"error: componentize-py failed:
Traceback (most recent call last):
  File "<string>", line 1, in <module>
AssertionError: Traceback (most recent call last):
  File "/0/app.py", line 17, in <module>
    from plaza_sdk import log, storage, payment
  File "/1/plaza_sdk/payment.py", line 20, in <module>
    raise ImportError(
    ...<2 lines>...
    ) from None
ImportError: plaza_sdk.payment needs [capabilities.payment] in plaza.toml: `plaza build` makes the world from the capabilities it declares, and only those
"#;

    #[test]
    fn a_python_import_of_an_undeclared_capability_is_named_with_its_line() {
        let notes = manifest("[capabilities.storage]\n[capabilities.log]\n");
        let found = undeclared_in_python_failure(&notes, PYTHON_FAILURE, "/0").unwrap();
        assert_eq!(found.capability, Capability::Payment);
        assert_eq!(
            found.at,
            "src/app.py:17 imports `plaza_sdk.payment` (`from plaza_sdk import log, storage, payment`)"
        );
        let binding = "ModuleNotFoundError: No module named 'wit_world.imports.messaging'";
        let found = undeclared_in_python_failure(&notes, binding, "/0").unwrap();
        assert_eq!(found.capability, Capability::Messaging);
        // A declared capability, or another failure, is not this error.
        let shop = manifest("[capabilities.payment]\n");
        assert_eq!(
            undeclared_in_python_failure(&shop, PYTHON_FAILURE, "/0"),
            None
        );
        let other = "NameError: name 'pge' is not defined";
        assert_eq!(undeclared_in_python_failure(&notes, other, "/0"), None);
    }

    /// esbuild's metafile for an app whose `src/app.js` imports the payment
    /// module of the SDK: the import is traced back to the app's line.
    #[test]
    fn a_bundled_import_of_an_undeclared_capability_is_traced_to_the_apps_import() {
        let meta = serde_json::json!({
            "inputs": {
                ".plaza/sdk/errors.ts": { "imports": [] },
                ".plaza/sdk/payment.ts": { "imports": [
                    { "path": "plaza:host/payment@0.1.0", "kind": "import-statement", "external": true },
                    { "path": "plaza:host/refunds@0.1.0", "kind": "import-statement", "external": true },
                    { "path": ".plaza/sdk/errors.ts", "kind": "import-statement", "original": "./errors" }
                ] },
                ".plaza/sdk/storage.ts": { "imports": [
                    { "path": "plaza:host/storage@0.1.0", "kind": "import-statement", "external": true }
                ] },
                "src/app.js": { "imports": [
                    { "path": ".plaza/sdk/storage.ts", "kind": "import-statement", "original": "@plaza/sdk/storage" },
                    { "path": ".plaza/sdk/payment.ts", "kind": "import-statement", "original": "@plaza/sdk/payment" }
                ] }
            },
            "outputs": { ".plaza/app.js": { "imports": [
                { "path": "plaza:host/storage@0.1.0", "kind": "import-statement", "external": true },
                { "path": "plaza:host/payment@0.1.0", "kind": "import-statement", "external": true },
                { "path": "plaza:host/refunds@0.1.0", "kind": "import-statement", "external": true }
            ] } }
        });
        let notes = manifest("[capabilities.storage]\n");
        assert_eq!(
            undeclared_in_metafile(&notes, &meta),
            vec![Undeclared {
                capability: Capability::Payment,
                at: "src/app.js imports `@plaza/sdk/payment`".to_string(),
            }]
        );
        let shop = manifest("[capabilities.storage]\n[capabilities.payment]\n");
        assert_eq!(undeclared_in_metafile(&shop, &meta), vec![]);
        let message = error(&undeclared_in_metafile(&notes, &meta)).to_string();
        assert!(
            message.contains("add [capabilities.payment] to plaza.toml"),
            "{message}"
        );
    }
}
