//! Results as text (for people), JUnit XML (for CI systems) and JSON (for
//! scripts).

use crate::ScenarioResult;
use std::fmt::Write;
use std::time::Duration;

pub(crate) fn ser_duration<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// One scenario's result as text: `ok NAME` or `FAILED NAME`, and on
/// failure the step, the expectation, what was there instead and the page.
pub fn render(r: &ScenarioResult) -> String {
    let mut s = String::new();
    let where_ = r.file.display();
    if r.passed() {
        let _ = writeln!(
            s,
            "ok      {} ({where_}, {} steps, {:.2}s)",
            r.name,
            r.steps,
            r.duration.as_secs_f64()
        );
        return s;
    }
    let _ = writeln!(s, "FAILED  {} ({where_})", r.name);
    if let Some(f) = &r.failure {
        match f.step {
            Some(n) => {
                let _ = writeln!(s, "  step {n} (line {}): {}", f.line, f.action);
            }
            // The set-up, or what is checked after the last step.
            None => {
                let _ = writeln!(s, "  {} (line {})", f.action, f.line);
            }
        }
        let _ = writeln!(s, "  expected: {}", f.expected);
        let _ = writeln!(s, "  found:    {}", f.found);
        if let Some(page) = &f.page {
            let _ = writeln!(s, "  the page:");
            for line in page.lines() {
                let _ = writeln!(s, "    | {line}");
            }
        }
    }
    s
}

/// The closing line: `N passed, N failed`.
pub fn summary(results: &[ScenarioResult]) -> String {
    let passed = results.iter().filter(|r| r.passed()).count();
    format!("{passed} passed, {} failed\n", results.len() - passed)
}

fn xml(s: &str) -> String {
    s.chars()
        .filter(|c| *c == '\n' || *c == '\t' || !c.is_control())
        .collect::<String>()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// JUnit XML: one test suite, a test case per scenario.
pub fn junit(results: &[ScenarioResult]) -> String {
    let failures = results.iter().filter(|r| !r.passed()).count();
    let time: f64 = results.iter().map(|r| r.duration.as_secs_f64()).sum();
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        s,
        "<testsuites tests=\"{}\" failures=\"{failures}\" time=\"{time:.3}\">",
        results.len()
    );
    let _ = writeln!(
        s,
        "  <testsuite name=\"plaza scenarios\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" time=\"{time:.3}\">",
        results.len()
    );
    for r in results {
        let _ = write!(
            s,
            "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\" time=\"{:.3}\"",
            xml(&r.name),
            xml(&r.file.display().to_string()),
            xml(&r.file.display().to_string()),
            r.duration.as_secs_f64()
        );
        match &r.failure {
            None => s.push_str("/>\n"),
            Some(f) => {
                let message = format!("expected {}; found {}", f.expected, f.found);
                let _ = writeln!(
                    s,
                    ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>",
                    xml(&message),
                    xml(&render(r))
                );
            }
        }
    }
    s.push_str("  </testsuite>\n</testsuites>\n");
    s
}

/// JSON: `{"passed": N, "failed": N, "scenarios": [...]}`.
pub fn json(results: &[ScenarioResult]) -> serde_json::Value {
    let passed = results.iter().filter(|r| r.passed()).count();
    serde_json::json!({
        "passed": passed,
        "failed": results.len() - passed,
        "scenarios": results,
    })
}
