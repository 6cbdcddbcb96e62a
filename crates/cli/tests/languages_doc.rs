//! The JavaScript and Python examples of `docs/languages.md` are valid
//! code: every ```js block passes `node --check` (as an ES module) and every
//! ```python block `python3 -m py_compile`. (The templates, which use every
//! capability but the network, are built and run by `new.rs`.)

use std::path::Path;
use std::process::Command;

/// The fenced blocks of `lang` in the document.
fn blocks(text: &str, lang: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        match &mut current {
            None if line == format!("```{lang}") => current = Some(String::new()),
            Some(_) if line == "```" => out.extend(current.take()),
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
            None => {}
        }
    }
    out
}

fn check(lang: &str, extension: &str, command: &[&str]) {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/languages.md"),
    )
    .unwrap();
    let blocks = blocks(&text, lang);
    assert!(
        blocks.len() >= 5,
        "docs/languages.md has {} {lang} blocks",
        blocks.len()
    );
    let tmp = tempfile::tempdir().unwrap();
    for (i, block) in blocks.iter().enumerate() {
        let file = tmp.path().join(format!("example{i}.{extension}"));
        std::fs::write(&file, block).unwrap();
        let output = Command::new(command[0])
            .args(&command[1..])
            .arg(&file)
            .output()
            .unwrap_or_else(|e| panic!("running {}: {e}", command[0]));
        assert!(
            output.status.success(),
            "{lang} example {i} of docs/languages.md:\n{block}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn the_javascript_examples_parse() {
    check("js", "mjs", &["node", "--check"]);
}

#[test]
fn the_python_examples_compile() {
    check("python", "py", &["python3", "-m", "py_compile"]);
}
