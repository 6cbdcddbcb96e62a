//! Fuzzes the manifest parser (`plaza.toml`): any UTF-8 text either parses to
//! a manifest that parses the same way again, or is refused with a message
//! that says something (the package's author has to act on it). It never
//! panics.

#![no_main]

use libfuzzer_sys::fuzz_target;
use plaza_host::manifest::Manifest;

fuzz_target!(|text: &str| {
    match Manifest::parse("plaza.toml", text) {
        Ok(m) => {
            assert_eq!(m.source, text, "the manifest keeps its text as written");
            let again = Manifest::parse("plaza.toml", text).expect("parsing is deterministic");
            assert_eq!(again.app, m.app);
            assert_eq!(again.publisher, m.publisher);
            assert_eq!(again.capabilities, m.capabilities);
            // What the host derives from the manifest agrees with it.
            assert_eq!(
                m.declared().len(),
                m.declared().iter().filter(|c| m.declares(**c)).count()
            );
            assert!(m.storage_quota() <= plaza_host::manifest::MAX_STORAGE_QUOTA);
        }
        Err(e) => {
            let message = e.to_string();
            assert!(
                matches!(e, plaza_host::Error::Manifest { .. }),
                "a manifest error is Error::Manifest, not {e:?}"
            );
            assert!(
                message.len() > "plaza.toml: ".len(),
                "an empty error message for {text:?}"
            );
            let again = Manifest::parse("plaza.toml", text).unwrap_err().to_string();
            assert_eq!(again, message, "parsing is deterministic");
        }
    }
});
