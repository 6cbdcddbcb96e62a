//! `plaza build` for a Python mini-app: `componentize-py`, with the Plaza
//! SDK for Python (`host-api/python/plaza_sdk`, embedded here) on its path.

use super::{OUT_DIR, built, imports, prepare_world, read_manifest, run, toolchain, world::WORLD};
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// A file of `host-api/python/plaza_sdk`.
macro_rules! sdk_file {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../host-api/python/plaza_sdk/",
            $name
        ))
    };
}

/// The Plaza SDK for Python, `host-api/python/plaza_sdk`: (file name, text).
/// `plaza build` writes it into `.plaza/python-sdk/plaza_sdk`, so mini-apps
/// import it without PyPI.
pub const SDK: &[(&str, &str)] = &[
    ("__init__.py", sdk_file!("__init__.py")),
    ("errors.py", sdk_file!("errors.py")),
    ("page.py", sdk_file!("page.py")),
    ("storage.py", sdk_file!("storage.py")),
    ("identity.py", sdk_file!("identity.py")),
    ("payment.py", sdk_file!("payment.py")),
    ("messaging.py", sdk_file!("messaging.py")),
    ("clock.py", sdk_file!("clock.py")),
    ("log.py", sdk_file!("log.py")),
    ("config.py", sdk_file!("config.py")),
    ("scan.py", sdk_file!("scan.py")),
];

/// Where `plaza build` writes the SDK, in the mini-app's `.plaza`.
pub const SDK_DIR: &str = "python-sdk";

/// Feeds the SDK to `h` (what a build reads besides the mini-app's files).
pub fn sdk_hash(h: &mut impl std::hash::Hasher) {
    use std::hash::Hash;
    SDK.hash(h);
}

/// Writes the SDK into `out/python-sdk` (emptied first); returns that folder,
/// the one to put on the Python path.
pub fn write_sdk(out: &Path) -> Result<PathBuf> {
    let root = out.join(SDK_DIR);
    if root.exists() {
        std::fs::remove_dir_all(&root).with_context(|| format!("emptying {}", root.display()))?;
    }
    let package = root.join("plaza_sdk");
    std::fs::create_dir_all(&package).with_context(|| format!("creating {}", package.display()))?;
    for (name, text) in SDK {
        let path = package.join(name);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(root)
}

/// Builds `src/app.py` (its class `Pages`) of the mini-app in `dir`; also
/// writes the world's bindings to `.plaza/bindings` and the SDK to
/// `.plaza/python-sdk`, for editors and type checkers.
pub fn build(dir: &Path) -> Result<PathBuf> {
    super::refuse_the_0_1_0_export(
        dir,
        "src/app.py",
        "class App(",
        "Pages",
        "name the class `Pages` (`class Pages(MiniApp)`)",
    )?;
    let (wit, _) = prepare_world(dir)?;
    let python = toolchain::python(dir)?;
    let progress = crate::ui::Progress::start(
        "Building",
        &format!("{} (python) with componentize-py", dir.display()),
    );
    let out = dir.join(OUT_DIR);
    let sdk = write_sdk(&out)?;
    let bindings = out.join("bindings");
    if bindings.exists() {
        std::fs::remove_dir_all(&bindings)?;
    }
    run(
        python
            .componentize_py()
            .arg("-d")
            .arg(&wit)
            .args(["-w", WORLD, "bindings"])
            .arg(&bindings),
        "componentize-py bindings",
    )?;
    let wasm = out.join("app.wasm");
    run(
        python
            .componentize_py()
            .arg("-d")
            .arg(&wit)
            .args(["-w", WORLD, "componentize", "app", "-p"])
            .arg(dir.join("src"))
            .arg("-p")
            .arg(&sdk)
            .arg("-o")
            .arg(&wasm),
        "componentize-py",
    )
    .map_err(|e| {
        // An import of an undeclared capability fails as Python runs the
        // app's modules: named with its line instead of the whole traceback.
        // componentize-py shows the first `-p` folder, `src`, as `/0`.
        let found = read_manifest(dir)
            .ok()
            .and_then(|m| imports::undeclared_in_python_failure(&m, &e.to_string(), "/0"));
        match found {
            Some(undeclared) => imports::error(&[undeclared]),
            None => e,
        }
    })?;
    built(progress, dir, wasm)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::world::IMPORTS;

    fn sdk_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../host-api/python/plaza_sdk")
    }

    fn sdk(name: &str) -> &'static str {
        SDK.iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("{name} is not in SDK"))
            .1
    }

    /// Every module of `host-api/python/plaza_sdk` is embedded, so none is
    /// missing from what `plaza build` writes.
    #[test]
    fn every_file_of_the_sdk_is_embedded() {
        let mut on_disk: Vec<String> = std::fs::read_dir(sdk_dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".py"))
            .collect();
        on_disk.sort();
        let mut embedded: Vec<String> = SDK.iter().map(|(n, _)| n.to_string()).collect();
        embedded.sort();
        assert_eq!(on_disk, embedded);
    }

    /// The exceptions are one class per case of the WIT `error` variant, each
    /// mapped from its binding's dataclass: a new case in `types.wit` fails
    /// here until the SDK raises it as its own class.
    #[test]
    fn every_wit_error_case_has_its_exception_class() {
        let types = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../host-api/wit/types.wit"),
        )
        .unwrap();
        let variant = types
            .split("variant error {")
            .nth(1)
            .and_then(|rest| rest.split('}').next())
            .expect("types.wit has `variant error`");
        let cases: Vec<&str> = variant
            .lines()
            .map(str::trim)
            .filter(|l| !l.starts_with("//") && l.contains('('))
            .map(|l| l.split('(').next().unwrap())
            .collect();
        assert_eq!(cases.len(), 5, "{cases:?}");
        let errors = sdk("errors.py");
        let init = sdk("__init__.py");
        for case in cases {
            let class: String = case
                .split('-')
                .map(|w| w[..1].to_uppercase() + &w[1..])
                .collect();
            assert!(
                errors.contains(&format!("class {class}(HostError):")),
                "no class {class}"
            );
            assert!(
                errors.contains(&format!("case = \"{case}\"")),
                "{class} names no case `{case}`"
            );
            assert!(
                errors.contains(&format!("types.Error_{class}: {class},")),
                "the WIT case {case} does not map to {class}"
            );
            assert!(
                init.contains(&format!("\"{class}\"")),
                "{class} not exported"
            );
        }
    }

    /// The modules a mini-app always imports (`plaza_sdk`, its pages and
    /// errors) use only what every world has (`app`, `types`); each
    /// capability module imports only its own interface, so a mini-app
    /// imports the bindings of exactly the capabilities it uses.
    #[test]
    fn each_module_imports_only_the_interfaces_of_its_capability() {
        let interface_of = |module: &str| -> Option<&str> {
            let name = module.strip_suffix(".py")?;
            IMPORTS.iter().find_map(|(_, i)| {
                let short = i.strip_prefix("plaza:host/")?.split('@').next()?;
                (short == name).then_some(short)
            })
        };
        for (name, text) in SDK {
            let imported: Vec<&str> = text
                .lines()
                .filter_map(|l| l.trim().strip_prefix("from wit_world.imports import "))
                .map(|l| l.split_whitespace().next().unwrap())
                .collect();
            match interface_of(name) {
                Some(own) => {
                    for i in &imported {
                        assert!(
                            *i == own || *i == "types",
                            "{name} imports {i}, another capability's interface"
                        );
                    }
                    assert!(imported.contains(&own), "{name} does not bind {own}");
                }
                None => assert!(
                    imported.iter().all(|i| *i == "types"),
                    "{name} (imported by every mini-app) imports {imported:?}"
                ),
            }
            if ["__init__.py", "errors.py", "page.py"].contains(name) {
                for (n, _) in SDK {
                    let module = n.trim_end_matches(".py");
                    if interface_of(n).is_some() {
                        assert!(
                            !text.contains(&format!("from . import {module}"))
                                && !text.contains(&format!("from .{module} import")),
                            "{name} imports the capability module {module}"
                        );
                    }
                }
            }
        }
    }

    /// What `plaza build` writes is the package, and it is valid Python
    /// (`python3 -m py_compile`, when Python is installed).
    #[test]
    fn the_written_sdk_is_a_python_package_that_compiles() {
        let tmp = tempfile::tempdir().unwrap();
        let root = write_sdk(tmp.path()).unwrap();
        assert_eq!(root, tmp.path().join(SDK_DIR));
        let package = root.join("plaza_sdk");
        for (name, text) in SDK {
            assert_eq!(std::fs::read_to_string(package.join(name)).unwrap(), *text);
        }
        // Written again, stale files go.
        std::fs::write(package.join("stale.py"), "").unwrap();
        write_sdk(tmp.path()).unwrap();
        assert!(!package.join("stale.py").exists());
        let Ok(o) = std::process::Command::new("python3")
            .args(["-m", "py_compile"])
            .args(SDK.iter().map(|(n, _)| package.join(n)))
            .output()
        else {
            eprintln!("no python3: the SDK's syntax is checked by the Python builds");
            return;
        };
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
}
