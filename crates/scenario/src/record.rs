//! Writing a scenario from an interactive session (`plaza run --record`):
//! every action becomes a step, the page it led to (title, fields,
//! notices) or the error it gave becomes its expectations.
//!
//! ```
//! use plaza_scenario::{Action, Recorder};
//! use plaza_host::{Navigation, Page};
//! let mut r = Recorder::new("hospital.plaza", "li-na");
//! let page = Page { title: "Hospital".into(), blocks: vec![], navigation: Navigation::Push, refreshable: false };
//! r.step(&Action::Launch("/".into()), Ok(&page));
//! let text = r.to_toml();
//! assert!(text.contains("launch = \"/\"") && text.contains("title = \"Hospital\""));
//! ```

use crate::format::Action;
use plaza_host::{Block, Page};
use std::fmt::Write;

/// A scenario being recorded.
#[derive(Debug, Clone)]
pub struct Recorder {
    package: String,
    user: String,
    start: String,
    answers: String,
    steps: String,
}

fn q(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// `s` as a TOML key: bare if it can be, else a basic string. Not [`q`]:
/// for a text with both kinds of quote it writes a multi-line string,
/// which TOML allows as a value but not as a key.
fn key(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl Recorder {
    /// A recording of `user` in the package at `package` (a path as the
    /// scenario file will see it).
    pub fn new(package: &str, user: &str) -> Recorder {
        Recorder {
            package: package.to_string(),
            user: user.to_string(),
            start: String::new(),
            answers: String::new(),
            steps: String::new(),
        }
    }

    /// Records an action and what came of it.
    pub fn step(&mut self, action: &Action, outcome: Result<&Page, &str>) {
        let s = &mut self.steps;
        let _ = writeln!(s, "\n[[step]]");
        match action {
            Action::Submit(form, fields) => {
                let _ = writeln!(s, "submit = {}", q(form));
                // A field given twice is submitted with its last value (as
                // the host does); a TOML table cannot hold a key twice.
                let list: Vec<String> = fields
                    .iter()
                    .enumerate()
                    .filter(|(i, (n, _))| fields[i + 1..].iter().all(|(m, _)| m != n))
                    .map(|(_, (n, v))| format!("{} = {}", key(n), q(v)))
                    .collect();
                let _ = writeln!(s, "fields = {{ {} }}", list.join(", "));
            }
            Action::Check => {}
            other => {
                let _ = writeln!(s, "{other}");
            }
        }
        match outcome {
            Err(e) => {
                let _ = writeln!(s, "error = {}", q(e));
            }
            Ok(page) => {
                let _ = writeln!(s, "title = {}", q(&page.title));
                // Only the first field of each label: a `field` expectation
                // checks the first, and a TOML table cannot hold a key twice
                // (a page showing two fields labelled alike recorded a
                // scenario that `plaza test` could not read).
                let mut labels = std::collections::HashSet::new();
                let fields: Vec<String> = page
                    .blocks
                    .iter()
                    .filter_map(|b| match b {
                        Block::Field(f) if labels.insert(f.label.as_str()) => {
                            Some(format!("{} = {}", key(&f.label), q(&f.value)))
                        }
                        _ => None,
                    })
                    .collect();
                if !fields.is_empty() {
                    let _ = writeln!(s, "field = {{ {} }}", fields.join(", "));
                }
                let notices: Vec<String> = page
                    .blocks
                    .iter()
                    .filter_map(|b| match b {
                        Block::Notice(n) => Some(q(&n.text)),
                        _ => None,
                    })
                    .collect();
                if !notices.is_empty() {
                    let _ = writeln!(s, "notice = [{}]", notices.join(", "));
                }
            }
        }
    }

    /// The scenario as TOML.
    pub fn to_toml(&self) -> String {
        format!(
            "# Recorded with `plaza run --record`: each step's page as its expectations.\n\
             # The prompts' answers and the user's set-up are the run's; edit them here.\n\n\
             {}[[package]]\npath = {}\n\n[[user]]\nid = {}\n{}{}",
            self.start,
            q(&self.package),
            q(&self.user),
            self.answers,
            self.steps
        )
    }

    /// Sets the time the recording started (ms since the epoch, UTC), so the
    /// replay's clock starts there too.
    pub fn start_at(&mut self, ms: i64) {
        let (y, m, d) = plaza_host::clock::civil_date(ms, 0);
        let secs = ms.div_euclid(1000).rem_euclid(86_400);
        self.start = format!(
            "start = {y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z\n\n",
            secs / 3600,
            secs % 3600 / 60,
            secs % 60
        );
    }

    /// Sets how the recorded run answered prompts (written as `[answers]`).
    pub fn answers(&mut self, consent: Option<&str>, payment: &str, subscription: &str) {
        let mut s = String::from("\n[answers]\n");
        if let Some(c) = consent.filter(|c| *c != "dismiss") {
            let _ = writeln!(
                s,
                "consent = {{ {} }}",
                plaza_host::manifest::Scope::ALL
                    .iter()
                    .map(|sc| format!("{} = {}", sc.as_str(), q(c)))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        let _ = writeln!(s, "payment = {}", q(payment));
        let _ = writeln!(s, "subscription = {}", q(subscription));
        self.answers = s;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{Expectation, Scenario};
    use plaza_host::{KeyValue, Navigation};

    #[test]
    fn a_label_or_field_given_twice_records_a_scenario_that_parses() {
        // Found by the property test: two fields with one label, or a form
        // field submitted twice, wrote a TOML table with a duplicate key.
        let field = |label: &str, value: &str| {
            Block::Field(KeyValue {
                label: label.into(),
                value: value.into(),
            })
        };
        let page = Page {
            title: "Bill".into(),
            blocks: vec![
                field("Amount", "CNY 1.00"),
                field("Amount", "CNY 2.00"),
                // Found next: a label with both kinds of quote was written as
                // a multi-line string, which is no valid key.
                field("'\"\u{7f}\n", "x"),
            ],
            navigation: Navigation::Push,
            refreshable: false,
        };
        let mut r = Recorder::new("app.plaza", "li-na");
        let submit = Action::Submit(
            "pay".into(),
            vec![("card".into(), "1".into()), ("card".into(), "2".into())],
        );
        r.step(&submit, Ok(&page));
        let s = Scenario::parse("/s.toml".as_ref(), &r.to_toml()).unwrap();
        assert_eq!(
            s.steps[0].action,
            Action::Submit("pay".into(), vec![("card".into(), "2".into())])
        );
        assert!(
            s.steps[0]
                .expect
                .contains(&Expectation::Field("Amount".into(), "CNY 1.00".into()))
        );
        assert!(
            s.steps[0]
                .expect
                .contains(&Expectation::Field("'\"\u{7f}\n".into(), "x".into()))
        );
    }
}
