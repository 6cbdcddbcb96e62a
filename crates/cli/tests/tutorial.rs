//! `docs/tutorial.md` followed as written: every shell block from "Make a
//! mini-app" on runs, in order, in one bash session in an empty folder, with
//! this build's `plaza` on the PATH. Every command must succeed except the
//! one the tutorial says fails (the scenario run after editing the page),
//! and the end state is the one the tutorial promises: a signed package,
//! verified, installed into a host that takes only signed packages, showing
//! the note the user saved.
//!
//! Step 1 (installing `plaza` with `cargo install`) is the one part not run:
//! the binary under test stands in for it.

use std::path::Path;
use std::process::{Command, Stdio};

/// The shell commands of the tutorial from its second section on.
fn commands() -> Vec<String> {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/tutorial.md"),
    )
    .unwrap();
    let from = text.find("## 2.").expect("the tutorial has a section 2");
    let mut commands = Vec::new();
    let mut in_sh = false;
    for line in text[from..].lines() {
        if line.starts_with("```") {
            in_sh = !in_sh && line == "```sh";
            continue;
        }
        if in_sh && !line.trim().is_empty() && !line.trim_start().starts_with('#') {
            commands.push(line.to_string());
        }
    }
    commands
}

#[test]
fn the_tutorial_works_as_written() {
    let commands = commands();
    assert!(commands.len() > 10, "{commands:?}");
    let tmp = tempfile::tempdir().unwrap();
    let bin = tmp.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_plaza"), bin.join("plaza")).unwrap();
    let work = tmp.path().join("work");
    std::fs::create_dir(&work).unwrap();

    // Each command, then its exit status on a line of its own.
    let mut script = String::new();
    for (n, c) in commands.iter().enumerate() {
        script.push_str(&format!("{c}\necho \"::status {n} $?\"\n"));
    }
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let o = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(&work)
        .env("PATH", path)
        .env("HOME", tmp.path())
        .env(
            "CARGO_HOME",
            std::env::var("CARGO_HOME").unwrap_or_else(|_| {
                format!("{}/.cargo", std::env::var("HOME").unwrap_or_default())
            }),
        )
        .env(
            "RUSTUP_HOME",
            std::env::var("RUSTUP_HOME").unwrap_or_else(|_| {
                format!("{}/.rustup", std::env::var("HOME").unwrap_or_default())
            }),
        )
        // The guests of tests/new.rs, to share their compiled SDK.
        .env(
            "CARGO_TARGET_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("plaza-new-guests"),
        )
        .env("RUST_LIB_BACKTRACE", "0")
        .env_remove("PLAZA_STORE")
        .env_remove("PLAZA_DEVELOPER_MODE")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    let context = format!("--- stdout\n{stdout}\n--- stderr\n{stderr}");

    // The one command expected to fail: the scenario run right after the
    // page was edited and before the scenario was.
    let edited = commands
        .iter()
        .position(|c| c.contains("src/lib.rs"))
        .expect("the tutorial edits src/lib.rs");
    let expected_failure = edited + 1;
    assert_eq!(commands[expected_failure], "plaza test scenarios");

    for (n, c) in commands.iter().enumerate() {
        let status = stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("::status {n} ")))
            .unwrap_or_else(|| panic!("`{c}` never ran\n{context}"));
        if n == expected_failure {
            assert_eq!(
                status, "1",
                "`{c}` should fail (the edited page)\n{context}"
            );
        } else {
            assert_eq!(status, "0", "`{c}` failed\n{context}");
        }
    }
    assert!(stdout.contains("0 passed, 1 failed"), "{context}");
    assert!(
        stdout.contains("signature OK: com.example.my-clinic 0.1.0 signed by com.example"),
        "{context}"
    );
    assert!(
        stdout.contains("installed com.example.my-clinic 0.1.0\n"),
        "{context}"
    );
    assert!(
        stdout.contains("! success: Saved your note.")
            && stdout.contains("- Bring the insurance card"),
        "{context}"
    );
    assert!(stdout.contains("Nothing noted yet."), "{context}");
    assert!(work.join("my-clinic/my-clinic.plaza").is_file());
}
