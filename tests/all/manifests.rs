//! Malformed manifests and packages are refused with errors that say where
//! and what.

use crate::support::*;
use plaza_host::Error;
use plaza_host::package::Package;
use plaza_test_programs::KV_NOTES;

async fn install_error(manifest: &str) -> String {
    let t = host();
    let err = match Package::new(manifest, KV_NOTES.component_bytes()) {
        Err(e) => e,
        Ok(pkg) => t.host.install(pkg).await.unwrap_err(),
    };
    assert!(matches!(err, Error::Manifest { .. }), "{err}");
    err.to_string()
}

#[tokio::test]
async fn unknown_fields_are_named_with_their_line() {
    let m = manifest_replacing(
        &KV_NOTES,
        "[publisher]",
        "[publisher]\nwebsite = \"https://example.com\"",
    );
    let line = m.lines().position(|l| l.starts_with("website")).unwrap() + 1;
    let e = install_error(&m).await;
    assert!(
        e.contains("website") && e.contains(&format!("line {line}")),
        "{e}"
    );
}

#[tokio::test]
async fn bad_values_are_named_with_their_line() {
    let m = manifest_replacing(&KV_NOTES, "version = \"", "version = \"v");
    let e = install_error(&m).await;
    assert!(
        e.contains("app.version") && e.contains("not a semantic version"),
        "{e}"
    );
    let m = manifest_replacing(&KV_NOTES, "category = \"", "category = \"casino-");
    let e = install_error(&m).await;
    assert!(
        e.contains("unknown variant") && e.contains("government"),
        "{e}"
    );
    let m = manifest_replacing(
        &KV_NOTES,
        "[capabilities.storage]",
        "[capabilities.storage]\nquota-bytes = 20000000",
    );
    let e = install_error(&m.replacen("quota-bytes = 10485760\n", "", 1)).await;
    assert!(e.contains("quota-bytes") && e.contains("10 MiB"), "{e}");
}

#[tokio::test]
async fn a_manifest_that_is_not_toml_says_where() {
    let e = install_error("[app\nid = 1").await;
    assert!(e.contains("line 1"), "{e}");
}

#[tokio::test]
async fn malformed_packages_are_refused() {
    let t = host();
    let dir = tempfile::tempdir().unwrap();
    let good = package(&KV_NOTES).to_bytes();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", vec![]),
        ("not a package", b"hello world, not a package".to_vec()),
        ("truncated", good[..good.len() / 2].to_vec()),
        ("bad format", {
            let mut b = good.clone();
            b[8] = 7;
            b
        }),
    ];
    for (name, bytes) in cases {
        let path = dir.path().join(format!("{}.plaza", name.replace(' ', "-")));
        std::fs::write(&path, &bytes).unwrap();
        let err = Package::read_file(&path).unwrap_err();
        assert!(matches!(err, Error::Package { .. }), "{name}: {err}");
        assert!(
            err.to_string().contains(&path.display().to_string()),
            "{name}: {err}"
        );
    }
    // A core module instead of a component.
    let err = Package::new(&KV_NOTES.manifest_text(), b"\0asm\x01\0\0\0".to_vec()).unwrap_err();
    assert!(err.to_string().contains("wasm32-wasip2"), "{err}");
    // A corrupted component body is refused at install, and nothing is stored.
    let mut bytes = KV_NOTES.component_bytes();
    let mid = bytes.len() / 2;
    bytes.truncate(mid);
    let pkg = Package::new(&KV_NOTES.manifest_text(), bytes).unwrap();
    let err = t.host.install(pkg).await.unwrap_err();
    assert!(matches!(err, Error::InvalidComponent { .. }), "{err}");
    assert!(t.host.installed().unwrap().is_empty());
}
