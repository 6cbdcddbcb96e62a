//! Fuzzes the scenario-file parser (`plaza test FILE`): any UTF-8 text either
//! parses or is refused with a parse error naming a line inside the file and
//! saying what was expected. It never panics.

#![no_main]

use libfuzzer_sys::fuzz_target;
use plaza_scenario::Scenario;
use std::path::Path;

fuzz_target!(|text: &str| {
    let file = Path::new("/fuzz/scenario.toml");
    match Scenario::parse(file, text) {
        Ok(s) => {
            assert!(!s.packages.is_empty(), "a scenario installs something");
            assert_eq!(s.file, file);
            let lines = text.lines().count().max(1);
            for p in &s.packages {
                assert!(
                    p.line >= 1 && p.line <= lines + 1,
                    "package line {} of {lines}",
                    p.line
                );
            }
        }
        Err(plaza_scenario::Error::Parse {
            file: f,
            line,
            message,
        }) => {
            assert_eq!(f, file);
            assert!(
                !message.trim().is_empty(),
                "an empty parse error for {text:?}"
            );
            // A line past the end is allowed only for an error at the very end
            // (a missing closing quote on the last line, ...).
            let lines = text.split('\n').count();
            assert!(
                line >= 1 && line <= lines,
                "line {line} of a {lines}-line file"
            );
        }
        Err(e) => panic!("parsing text gave a non-parse error: {e}"),
    }
});
