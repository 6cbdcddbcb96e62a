//! Runs every scenario under `tests/scenarios/` (the sample mini-apps'
//! flows), checks that the deliberately failing scenarios of
//! `tests/failing/` fail with the message described in each, and that bad
//! scenario files are refused with the file, the line and what was expected.
//!
//! Mini-app directories map to the components `plaza-test-programs` built
//! once for the whole test run: no guest is rebuilt here.

use plaza_scenario::{Components, Runner, ScenarioResult, discover, load, render, summary};
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn runner() -> Runner {
    let mut components = Components::new();
    for f in plaza_test_programs::SAMPLES
        .iter()
        .chain(plaza_test_programs::FIXTURES)
    {
        let dir = Path::new(f.manifest)
            .parent()
            .expect("manifest's directory");
        components = components.with_component(dir, Path::new(f.component));
    }
    Runner::new(components)
        .cache_dir(PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("plaza-test-cache"))
}

async fn run_dir(dir: &Path) -> Vec<ScenarioResult> {
    let files = discover(&[dir.to_path_buf()]).expect("scenario files");
    assert!(!files.is_empty(), "no scenarios in {}", dir.display());
    let scenarios = load(&files).unwrap_or_else(|e| panic!("{e}"));
    runner().run_all(scenarios).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_under_tests_scenarios_passes() {
    let results = run_dir(&repo().join("tests/scenarios")).await;
    let failed: Vec<String> = results.iter().filter(|r| !r.passed()).map(render).collect();
    assert!(
        failed.is_empty(),
        "{}{}",
        failed.join("\n"),
        summary(&results)
    );
}

/// The same scenarios with the store on PostgreSQL (a database per
/// scenario in the test run's cluster).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_under_tests_scenarios_passes_on_postgresql() {
    let server = plaza_host::store::test_server_url().expect("PostgreSQL for tests");
    let files = discover(&[repo().join("tests/scenarios")]).expect("scenario files");
    let scenarios = load(&files).unwrap_or_else(|e| panic!("{e}"));
    let results = runner().on_postgres(server).run_all(scenarios).await;
    let failed: Vec<String> = results.iter().filter(|r| !r.passed()).map(render).collect();
    assert!(
        failed.is_empty(),
        "{}{}",
        failed.join("\n"),
        summary(&results)
    );
}

/// Each file of `tests/failing/` says in a `# must fail: ...` line the text
/// its failure report must contain (one line each).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenarios_that_must_fail_fail_with_the_step_the_expectation_and_the_page() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/failing");
    let results = run_dir(&dir).await;
    for r in &results {
        let text = std::fs::read_to_string(&r.file).unwrap();
        let wanted: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# must fail: "))
            .collect();
        assert!(
            !wanted.is_empty(),
            "{} says nothing it must fail with",
            r.file.display()
        );
        assert!(!r.passed(), "{} passed:\n{}", r.file.display(), render(r));
        let report = render(r);
        for w in wanted {
            assert!(
                report.contains(w),
                "{}: no `{w}` in\n{report}",
                r.file.display()
            );
        }
    }
    let s = summary(&results);
    assert_eq!(s, format!("0 passed, {} failed\n", results.len()));
}

fn parse_error(text: &str) -> String {
    plaza_scenario::Scenario::parse(Path::new("dir/bad.toml"), text)
        .expect_err("must be refused")
        .to_string()
}

#[test]
fn bad_scenario_files_name_the_file_the_line_and_what_was_expected() {
    let pkg = "[[package]]\npath = \"app.plaza\"\n";
    // An unknown key in a step.
    let e = parse_error(&format!(
        "{pkg}\n[[step]]\nlaunch = \"/\"\ntitel = \"Home\"\n"
    ));
    assert!(
        e.starts_with("dir/bad.toml:6: unknown field `titel`, expected one of"),
        "{e}"
    );
    assert!(e.contains("`title`"), "{e}");
    // A wrong type.
    let e = parse_error(&format!("{pkg}\n[[step]]\ninbox-count = \"two\"\n"));
    assert!(
        e.starts_with("dir/bad.toml:5: invalid type: string \"two\", expected u64"),
        "{e}"
    );
    // A number where text is expected.
    let e = parse_error(&format!("{pkg}\n[[step]]\ntext = 5\n"));
    assert!(
        e.starts_with("dir/bad.toml:5: a string or a list of strings"),
        "{e}"
    );
    // Two actions in one step.
    let e = parse_error(&format!("{pkg}\n[[step]]\nlaunch = \"/\"\ntap = \"x\"\n"));
    assert!(
        e.starts_with("dir/bad.toml:4: expected at most one action in a step"),
        "{e}"
    );
    // An answer that does not exist.
    let e = parse_error(&format!(
        "{pkg}\n[answers]\npayment = \"yes\"\n\n[[step]]\nlaunch = \"/\"\n"
    ));
    assert!(e.starts_with("dir/bad.toml:4: `answers.payment`: expected `confirm`, `decline` or `cancel`, found `yes`"), "{e}");
    // A scope that does not exist.
    let e = parse_error(&format!(
        "{pkg}\n[[user]]\nid = \"a\"\nconsents = {{ app = {{ mood = \"allow\" }} }}\n\n[[step]]\nlaunch = \"/\"\n"
    ));
    assert!(
        e.starts_with("dir/bad.toml:4: unknown consent scope `mood`: expected one of profile,"),
        "{e}"
    );
    // Money without a currency, a bad duration, a start without an offset.
    let e = parse_error(&format!("{pkg}\n[[step]]\nwallet = \"12.50\"\n"));
    assert!(
        e.starts_with("dir/bad.toml:4: `wallet`: expected an amount such as \"CNY 12.50\""),
        "{e}"
    );
    let e = parse_error(&format!("{pkg}\n[[step]]\nadvance = \"soon\"\n"));
    assert!(
        e.starts_with("dir/bad.toml:4: `advance`: expected a duration"),
        "{e}"
    );
    let e = parse_error(&format!(
        "start = 2026-11-21T09:00:00\n{pkg}\n[[step]]\nlaunch = \"/\"\n"
    ));
    assert!(
        e.starts_with("dir/bad.toml:1: `start`: expected a date and time with an offset"),
        "{e}"
    );
    // No package, no step, broken TOML.
    let e = parse_error("[[step]]\nlaunch = \"/\"\n");
    assert!(
        e.starts_with("dir/bad.toml:1: expected at least one `[[package]]`"),
        "{e}"
    );
    let e = parse_error(pkg);
    assert!(
        e.starts_with("dir/bad.toml:3: expected at least one `[[step]]`"),
        "{e}"
    );
    let e = parse_error(&format!("{pkg}\n[[step]]\nlaunch = \"/\n"));
    assert!(e.starts_with("dir/bad.toml:5: invalid basic string"), "{e}");
}

#[test]
fn a_missing_file_or_directory_is_named() {
    let e = discover(&[PathBuf::from("no/such/dir")]).unwrap_err();
    assert_eq!(e.to_string(), "no/such/dir: no such file or directory");
}

/// The complete example of `docs/scenarios.md` parses and passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_documented_example_passes() {
    let doc = std::fs::read_to_string(repo().join("docs/scenarios.md")).unwrap();
    let example = doc
        .split("```toml\n")
        .nth(1)
        .and_then(|s| s.split("```").next())
        .expect("a toml block in docs/scenarios.md");
    // Its package path is relative to tests/scenarios.
    let file = repo().join("tests/scenarios/docs-example.toml");
    let scenario =
        plaza_scenario::Scenario::parse(&file, example).unwrap_or_else(|e| panic!("{e}"));
    let result = runner().run(&scenario).await;
    assert!(result.passed(), "{}", render(&result));
}
