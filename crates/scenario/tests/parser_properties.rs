//! Property tests of the scenario-file parser, the surface of the `scenario`
//! fuzz target (fuzz/), in the normal test suite.
//!
//! - Any text, and any mutation of the repository's real scenario files,
//!   parses or is refused with a parse error naming a line of the file.
//! - Lines added at the top of a real scenario move every reported line by
//!   as many and change nothing else.
//! - What `plaza run --record` writes ([`Recorder`]) parses back to the
//!   recorded actions and the pages' titles, fields, notices and errors.

use plaza_host::{Block, KeyValue, Navigation, Notice, NoticeLevel, Page};
use plaza_scenario::format::parse_duration;
use plaza_scenario::{Action, Error, Expectation, Recorder, Scenario};
use proptest::prelude::*;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The repository's scenario files, with their text.
fn real_scenarios() -> Vec<(PathBuf, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/scenarios");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no scenarios in {}", dir.display());
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p, text)
        })
        .collect()
}

/// Parses `text` and checks what any outcome must satisfy.
fn check(text: &str) -> Result<Option<Scenario>, TestCaseError> {
    check_at(Path::new("/scenarios/s.toml"), text)
}

/// As [`check`], for a scenario read as the file at `file` (the files its
/// answers name, such as an upload's, are found beside it).
fn check_at(file: &Path, text: &str) -> Result<Option<Scenario>, TestCaseError> {
    match Scenario::parse(file, text) {
        Ok(s) => {
            prop_assert!(!s.packages.is_empty());
            let lines = text.split('\n').count();
            for step in &s.steps {
                prop_assert!((1..=lines).contains(&step.line), "step line {}", step.line);
            }
            Ok(Some(s))
        }
        Err(Error::Parse {
            file: f,
            line,
            message,
        }) => {
            prop_assert_eq!(f, file);
            prop_assert!(!message.trim().is_empty());
            let lines = text.split('\n').count();
            prop_assert!(
                (1..=lines).contains(&line),
                "line {line} of a {lines}-line file: {message}"
            );
            Ok(None)
        }
        Err(other) => Err(TestCaseError::fail(format!(
            "parsing text gave a non-parse error: {other}"
        ))),
    }
}

/// A line-level mutation of a file.
#[derive(Debug, Clone)]
enum Edit {
    Delete(prop::sample::Index),
    Duplicate(prop::sample::Index),
    Insert(prop::sample::Index, String),
    ReplaceValue(prop::sample::Index, String),
    Truncate(prop::sample::Index),
}

fn edit() -> impl Strategy<Value = Edit> {
    let value = prop_oneof![
        "\"[A-Za-z0-9 .:/\\-]{0,12}\"",
        "-?[0-9]{1,25}",
        Just("\"99999999999999999999d\"".to_string()),
        Just("\"18446744073709551615s\"".to_string()),
        Just("\"CNY 99999999999999999999.99\"".to_string()),
        Just("1970-01-01T00:00:00Z".to_string()),
        Just("9999-12-31T23:59:59-23:59".to_string()),
        Just("{ }".to_string()),
        Just("[]".to_string()),
        "\\PC{0,10}",
    ];
    let line = prop_oneof![
        Just("[[step]]".to_string()),
        Just("[[user]]".to_string()),
        Just("advance = \"1d\"".to_string()),
        Just("restart = true".to_string()),
        "[a-z\\-]{1,8} = \"[a-z/]{0,6}\"",
        "\\PC{0,16}",
    ];
    prop_oneof![
        1 => any::<prop::sample::Index>().prop_map(Edit::Delete),
        1 => any::<prop::sample::Index>().prop_map(Edit::Duplicate),
        1 => (any::<prop::sample::Index>(), line).prop_map(|(i, l)| Edit::Insert(i, l)),
        3 => (any::<prop::sample::Index>(), value).prop_map(|(i, v)| Edit::ReplaceValue(i, v)),
        1 => any::<prop::sample::Index>().prop_map(Edit::Truncate),
    ]
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    for e in edits {
        if lines.is_empty() {
            break;
        }
        match e {
            Edit::Delete(i) => {
                lines.remove(i.index(lines.len()));
            }
            Edit::Duplicate(i) => {
                let at = i.index(lines.len());
                lines.insert(at, lines[at].clone());
            }
            Edit::Insert(i, l) => lines.insert(i.index(lines.len() + 1), l.clone()),
            Edit::ReplaceValue(i, v) => {
                let at = i.index(lines.len());
                if let Some((key, _)) = lines[at].split_once('=') {
                    lines[at] = format!("{key}= {v}");
                }
            }
            Edit::Truncate(i) => lines.truncate(i.index(lines.len() + 1)),
        }
    }
    lines.join("\n")
}

/// What a recorded step led to.
#[derive(Debug, Clone)]
enum Outcome {
    Page {
        title: String,
        fields: Vec<(String, String)>,
        notices: Vec<String>,
    },
    Error(String),
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9/:\\-]{1,8}",
        "\\PC{1,8}",
        Just("a \"quoted\" \\ value".into())
    ]
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        text().prop_map(Action::Launch),
        text().prop_map(Action::Tap),
        (
            text(),
            proptest::collection::vec((text(), "\\PC{0,8}"), 0..3)
        )
            .prop_map(|(form, fields)| Action::Submit(form, fields)),
        text().prop_map(Action::Say),
        Just(Action::Back),
        (1..10_000_000u64).prop_map(|s| Action::Advance(Duration::from_secs(s))),
        Just(Action::Restart),
        Just(Action::Check),
    ]
}

fn outcome() -> impl Strategy<Value = Outcome> {
    prop_oneof![
        3 => (
            text(),
            proptest::collection::vec((text(), "\\PC{0,8}"), 0..3),
            proptest::collection::vec(text(), 0..2)
        )
            .prop_map(|(title, fields, notices)| Outcome::Page {
                title,
                fields,
                notices
            }),
        1 => text().prop_map(Outcome::Error),
    ]
}

fn page(title: &str, fields: &[(String, String)], notices: &[String]) -> Page {
    let mut blocks: Vec<Block> = fields
        .iter()
        .map(|(label, value)| {
            Block::Field(KeyValue {
                label: label.clone(),
                value: value.clone(),
            })
        })
        .collect();
    blocks.extend(notices.iter().map(|n| {
        Block::Notice(Notice {
            level: NoticeLevel::Info,
            text: n.clone(),
        })
    }));
    Page {
        title: title.to_string(),
        blocks,
        navigation: Navigation::Push,
        refreshable: false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_text_parses_or_is_refused_naming_a_line(text in "\\PC{0,200}") {
        check(&text)?;
    }

    #[test]
    fn mutated_scenarios_parse_or_are_refused_naming_a_line(
        file in any::<prop::sample::Index>(),
        edits in proptest::collection::vec(edit(), 1..4),
    ) {
        let files = real_scenarios();
        let (path, original) = &files[file.index(files.len())];
        check_at(path, &apply(original, &edits))?;
    }

    #[test]
    fn lines_added_at_the_top_move_every_line_and_nothing_else(
        file in any::<prop::sample::Index>(),
        added in 1..20usize,
    ) {
        let files = real_scenarios();
        let (path, original) = &files[file.index(files.len())];
        let before = check_at(path, original)?.unwrap_or_else(|| panic!("{} parses", path.display()));
        let moved = format!("{}{original}", "# a comment\n".repeat(added));
        let after = check_at(path, &moved)?.expect("the same scenario with comments parses");
        prop_assert_eq!(after.steps.len(), before.steps.len());
        for (a, b) in after.steps.iter().zip(&before.steps) {
            prop_assert_eq!(a.line, b.line + added);
            prop_assert_eq!(&a.action, &b.action);
            prop_assert_eq!(&a.expect, &b.expect);
        }
        for (a, b) in after.packages.iter().zip(&before.packages) {
            prop_assert_eq!(a.line, b.line + added);
        }
        prop_assert_eq!(after.start_ms, before.start_ms);
    }

    #[test]
    fn a_recorded_session_parses_back_to_what_was_recorded(
        steps in proptest::collection::vec((action(), outcome()), 1..6),
        start_ms in 0..4_102_444_800_000i64,
    ) {
        let mut r = Recorder::new("../apps/some app.plaza", "li-na");
        r.start_at(start_ms);
        r.answers(Some("allow"), "confirm", "accept");
        for (action, outcome) in &steps {
            match outcome {
                Outcome::Page { title, fields, notices } => {
                    r.step(action, Ok(&page(title, fields, notices)))
                }
                Outcome::Error(e) => r.step(action, Err(e)),
            }
        }
        let toml = r.to_toml();
        let s = check(&toml)?.unwrap_or_else(|| panic!("the recording parses:\n{toml}"));
        prop_assert_eq!(s.start_ms, start_ms - start_ms.rem_euclid(1000));
        prop_assert_eq!(s.steps.len(), steps.len(), "{}", toml);
        for ((action, outcome), step) in steps.iter().zip(&s.steps) {
            match (action, &step.action) {
                // A form's field given twice is submitted with its last value
                // (as the host does), so the recording keeps that one.
                (Action::Submit(form, fields), Action::Submit(f2, fields2)) => {
                    prop_assert_eq!(form, f2);
                    let mut last: Vec<(String, String)> = Vec::new();
                    for (n, v) in fields {
                        last.retain(|(m, _)| m != n);
                        last.push((n.clone(), v.clone()));
                    }
                    let mut got = fields2.clone();
                    got.sort();
                    last.sort();
                    prop_assert_eq!(got, last, "{}", toml);
                }
                (a, b) => prop_assert_eq!(a, b, "{}", toml),
            }
            match outcome {
                Outcome::Error(e) => {
                    prop_assert!(step.expect.contains(&Expectation::Error(e.clone())), "{:?}", step.expect)
                }
                Outcome::Page { title, fields, notices } => {
                    prop_assert!(step.expect.contains(&Expectation::Title(title.clone())));
                    // The first field with a label is the one a `field`
                    // expectation checks.
                    for (i, (label, value)) in fields.iter().enumerate() {
                        if fields[..i].iter().all(|(l, _)| l != label) {
                            prop_assert!(
                                step.expect.contains(&Expectation::Field(label.clone(), value.clone())),
                                "{:?} in {:?}\n{}", (label, value), step.expect, toml
                            );
                        }
                    }
                    for n in notices {
                        prop_assert!(step.expect.contains(&Expectation::Notice(n.clone())));
                    }
                }
            }
        }
    }

    #[test]
    fn durations_add_up_or_are_refused(parts in proptest::collection::vec((any::<u64>(), proptest::sample::select(vec!['s', 'm', 'h', 'd'])), 1..4)) {
        let text: String = parts.iter().map(|(n, u)| format!("{n}{u}")).collect();
        let total = parts.iter().try_fold(0u64, |sum, (n, u)| {
            let unit = match u { 's' => 1, 'm' => 60, 'h' => 3600, _ => 86_400 };
            sum.checked_add(n.checked_mul(unit)?)
        });
        match (parse_duration(&text), total) {
            (Ok(d), Some(t)) => prop_assert_eq!(d, Duration::from_secs(t)),
            (Err(e), None) => prop_assert!(e.contains("advance"), "{e}"),
            (Err(e), Some(0)) => prop_assert!(e.contains("advance"), "{e}"),
            (got, want) => prop_assert!(false, "{text}: got {got:?}, want {want:?} seconds"),
        }
    }
}
