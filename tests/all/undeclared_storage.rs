//! A component importing an interface its manifest does not declare is
//! refused at install, with an error naming the interface.

use crate::support::*;
use plaza_host::Error;
use plaza_test_programs::{UNDECLARED_STORAGE, WASI_PROBE};

#[tokio::test]
async fn an_undeclared_import_is_refused_at_install() {
    let t = host();
    let err = t
        .host
        .install(package(&UNDECLARED_STORAGE))
        .await
        .unwrap_err();
    match &err {
        Error::UndeclaredImport {
            interface,
            capability,
            ..
        } => {
            assert_eq!(interface, "plaza:host/storage@0.1.1");
            assert_eq!(capability, "storage");
        }
        other => panic!("expected an undeclared import, got {other}"),
    }
    assert!(
        err.to_string()
            .contains("add `[capabilities.storage]` to plaza.toml"),
        "{err}"
    );
    // Nothing was installed.
    assert!(t.host.installed().unwrap().is_empty());
    assert!(matches!(
        t.host.session("alice", "test.plaza.undeclared-storage"),
        Err(Error::NotInstalled { .. })
    ));
}

/// Imports are read before compiling: a refused package is never compiled,
/// so it costs a parse (not seconds of Cranelift for a 15 MiB JavaScript or
/// Python component) and leaves no compiled file in the cache.
#[tokio::test]
async fn a_refused_package_is_never_compiled_and_leaves_the_cache_empty() {
    let cache = tempfile::tempdir().unwrap();
    let t = host_with(|c| c.cache_dir(Some(cache.path().to_path_buf())));
    let err = t
        .host
        .install(package(&UNDECLARED_STORAGE))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UndeclaredImport { .. }), "{err}");
    assert_eq!(t.host.cache_stats().compiled, 0, "nothing was compiled");
    let left: Vec<_> = walkdir(cache.path());
    assert!(left.is_empty(), "the cache holds {left:?}");
}

/// Every file under `dir`.
fn walkdir(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walkdir(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[tokio::test]
async fn declaring_the_capability_makes_it_installable() {
    let t = host();
    let manifest = manifest_replacing(
        &UNDECLARED_STORAGE,
        "[capabilities.log]",
        "[capabilities.log]\n[capabilities.storage]",
    );
    let report = t
        .host
        .install(package_with_manifest(&UNDECLARED_STORAGE, &manifest))
        .await
        .unwrap();
    assert!(
        report
            .imports
            .contains(&"plaza:host/storage@0.1.1".to_string())
    );
}

#[tokio::test]
async fn a_component_importing_an_interface_outside_wasi_and_plaza_is_refused() {
    // The WASI probe imports only WASI and is fine; a component whose world
    // has an unknown import is refused with its name. We build one by
    // renaming an import in the binary: `wasi:cli/` -> `wasi:clx/`.
    let t = host();
    let mut bytes = WASI_PROBE.component_bytes();
    let needle = b"wasi:cli/environment";
    let positions: Vec<usize> = bytes
        .windows(needle.len())
        .enumerate()
        .filter(|(_, w)| w == needle)
        .map(|(i, _)| i)
        .collect();
    assert!(
        !positions.is_empty(),
        "the probe imports wasi:cli/environment"
    );
    for pos in positions {
        bytes[pos + 7] = b'x';
    }
    let pkg = plaza_host::package::Package::new(&WASI_PROBE.manifest_text(), bytes).unwrap();
    let err = t.host.install(pkg).await.unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("wasi:clx/environment") && msg.contains("which Plaza does not provide"),
        "{msg}"
    );
}
