//! Plaza's guest fixtures and sample mini-apps, as real components.
//!
//! The build script compiles every crate of `crates/test-programs/guests`
//! (the test fixtures) and of `sample-miniapps` for `wasm32-wasip2` with
//! `cargo build --release` (into `<target dir>/guests`), and defines here one
//! [`Fixture`] constant per crate, named after its folder: [`KV_NOTES`],
//! [`MISBEHAVE`], [`WASI_PROBE`], [`FUTURE_CAPS`], [`UNDECLARED_STORAGE`],
//! [`HOSPITAL`], ...
//!
//! Each fixture's `src/lib.rs` says in its first line what it expects of the
//! host; that line is also the constant's documentation.
//!
//! ```no_run
//! use plaza_test_programs::KV_NOTES;
//!
//! let component: Vec<u8> = KV_NOTES.component_bytes();
//! let manifest: String = KV_NOTES.manifest_text();
//! assert!(manifest.contains("test.plaza.kv-notes"));
//! # let _ = component;
//! ```
//!
//! [`foreach_fixture!`] calls a macro with every test fixture's name, so a
//! test suite can make a fixture without tests fail to compile (Wasmtime's
//! `foreach_p2!` pattern):
//!
//! ```ignore
//! mod kv_notes { /* tests of KV_NOTES */ }
//! // ... a module per fixture ...
//!
//! macro_rules! assert_fixture_has_tests {
//!     ($name:ident) => {
//!         #[allow(unused_imports)]
//!         use crate::$name as _;
//!     };
//! }
//! plaza_test_programs::foreach_fixture!(assert_fixture_has_tests);
//! ```
//!
//! Building needs the `wasm32-wasip2` target (`rustup target add
//! wasm32-wasip2`); the build fails with that advice if it is missing.

use std::path::Path;

/// A mini-app component built for the tests, and its manifest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Fixture {
    /// The crate's folder name, such as `kv-notes`.
    pub name: &'static str,
    /// The absolute path of the component (`.wasm`).
    pub component: &'static str,
    /// The absolute path of its manifest (`plaza.toml`).
    pub manifest: &'static str,
}

impl Fixture {
    /// The component's bytes.
    ///
    /// # Panics
    ///
    /// If the file cannot be read (it was deleted since the build).
    pub fn component_bytes(&self) -> Vec<u8> {
        std::fs::read(self.component).unwrap_or_else(|e| {
            panic!(
                "reading the component of fixture `{}` at {}: {e}",
                self.name, self.component
            )
        })
    }

    /// The manifest's text.
    ///
    /// # Panics
    ///
    /// If the file cannot be read.
    pub fn manifest_text(&self) -> String {
        std::fs::read_to_string(self.manifest).unwrap_or_else(|e| {
            panic!(
                "reading the manifest of fixture `{}` at {}: {e}",
                self.name, self.manifest
            )
        })
    }

    /// The component's path.
    pub fn component_path(&self) -> &'static Path {
        Path::new(self.component)
    }

    /// The manifest's path.
    pub fn manifest_path(&self) -> &'static Path {
        Path::new(self.manifest)
    }
}

include!(concat!(env!("OUT_DIR"), "/fixtures.rs"));

/// The call script of the [`FUZZ_CALLER`] fixture: a sequence of host calls
/// with their arguments, encoded as one line for a launch query or a form
/// field. The guest's own source, shared so that tests write exactly what
/// the guest reads.
#[path = "../guests/fuzz-caller/src/script.rs"]
pub mod fuzz_script;

/// A back-end on loopback for the guests that call one (`http-probe`): it
/// answers every request with `200 ok` after `delay`, each connection on a
/// thread of its own. Returns its port; it runs until the process ends.
pub fn slow_backend(delay: std::time::Duration) -> u16 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the back-end");
    let port = listener.local_addr().expect("its address").port();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                    head.push(byte[0]);
                }
                std::thread::sleep(delay);
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                );
            });
        }
    });
    port
}

/// Every component built: the test fixtures, then the sample mini-apps.
pub fn all() -> &'static [Fixture] {
    ALL
}

/// The fixture or sample named `name` (its folder name, such as `kv-notes`).
pub fn by_name(name: &str) -> Option<Fixture> {
    ALL.iter().copied().find(|f| f.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_component_is_a_component_with_a_manifest() {
        assert!(!FIXTURES.is_empty() && !SAMPLES.is_empty());
        for fixture in all() {
            let bytes = fixture.component_bytes();
            assert_eq!(
                bytes.get(..8),
                Some(&b"\0asm\x0d\0\x01\0"[..]),
                "{} is not a component",
                fixture.name
            );
            assert!(
                fixture.manifest_text().contains("[app]"),
                "{}",
                fixture.name
            );
        }
    }

    #[test]
    fn foreach_fixture_names_every_fixture_but_no_sample() {
        let mut names = Vec::new();
        macro_rules! collect {
            ($name:ident) => {
                names.push(stringify!($name).replace('_', "-"));
            };
        }
        foreach_fixture!(collect);
        let expected: Vec<_> = FIXTURES.iter().map(|f| f.name.to_string()).collect();
        assert_eq!(names, expected);
    }
}
