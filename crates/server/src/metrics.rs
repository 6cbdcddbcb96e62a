//! The server's counters, served at `/metrics` in Prometheus' text format.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The upper bounds of the event latency histogram, in seconds.
pub const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// Events by kind and their latency (until the page or the prompt).
#[derive(Debug, Default)]
pub struct Metrics {
    events: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_us: AtomicU64,
    responses: Mutex<BTreeMap<u16, u64>>,
    /// Requests refused for the rate limit.
    pub rate_limited: AtomicU64,
}

impl Metrics {
    /// Counts an event of `kind` answered with `outcome` (`page`, `prompt`,
    /// `home`, `error`) after `latency`.
    pub fn event(&self, kind: &'static str, outcome: &'static str, latency: Duration) {
        *self
            .events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry((kind, outcome))
            .or_default() += 1;
        let secs = latency.as_secs_f64();
        for (i, bound) in LATENCY_BUCKETS.iter().enumerate() {
            if secs <= *bound {
                self.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_sum_us
            .fetch_add(latency.as_micros() as u64, Ordering::Relaxed);
    }

    /// Counts a response by status.
    pub fn response(&self, status: u16) {
        *self
            .responses
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(status)
            .or_default() += 1;
    }

    /// The counters in Prometheus' text format, after `gauges` (name, help,
    /// value) the caller measured now.
    pub fn render(&self, gauges: &[(&str, &str, f64)], counters: &[(&str, &str, u64)]) -> String {
        let mut out = String::new();
        for (name, help, value) in gauges {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}\n"
            ));
        }
        for (name, help, value) in counters {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}\n"
            ));
        }
        out.push_str("# HELP plaza_events_total Events by kind and how they were answered.\n# TYPE plaza_events_total counter\n");
        for ((kind, outcome), n) in self.events.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            out.push_str(&format!(
                "plaza_events_total{{kind=\"{kind}\",outcome=\"{outcome}\"}} {n}\n"
            ));
        }
        out.push_str("# HELP plaza_event_seconds Time from an event's request to its page or prompt.\n# TYPE plaza_event_seconds histogram\n");
        for (i, bound) in LATENCY_BUCKETS.iter().enumerate() {
            out.push_str(&format!(
                "plaza_event_seconds_bucket{{le=\"{bound}\"}} {}\n",
                self.buckets[i].load(Ordering::Relaxed)
            ));
        }
        let count = self.latency_count.load(Ordering::Relaxed);
        out.push_str(&format!(
            "plaza_event_seconds_bucket{{le=\"+Inf\"}} {count}\n"
        ));
        out.push_str(&format!(
            "plaza_event_seconds_sum {}\nplaza_event_seconds_count {count}\n",
            self.latency_sum_us.load(Ordering::Relaxed) as f64 / 1e6
        ));
        out.push_str("# HELP plaza_http_responses_total Responses by status.\n# TYPE plaza_http_responses_total counter\n");
        for (status, n) in self
            .responses
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            out.push_str(&format!(
                "plaza_http_responses_total{{status=\"{status}\"}} {n}\n"
            ));
        }
        out
    }
}

/// A labelled counter in Prometheus' text format: `name{label="key"} n` for
/// each entry of `values` (the label's value escaped as the format asks).
pub fn render_labelled(
    name: &str,
    help: &str,
    label: &str,
    values: &BTreeMap<String, u64>,
) -> String {
    let mut out = format!("# HELP {name} {help}\n# TYPE {name} counter\n");
    for (key, n) in values {
        let key = key
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n");
        out.push_str(&format!("{name}{{{label}=\"{key}\"}} {n}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_histogram_is_cumulative() {
        let m = Metrics::default();
        m.event("tap", "page", Duration::from_millis(3));
        m.event("tap", "prompt", Duration::from_millis(300));
        let text = m.render(&[("plaza_live_sessions", "Live sessions.", 2.0)], &[]);
        assert!(text.contains("plaza_live_sessions 2\n"), "{text}");
        assert!(
            text.contains("plaza_event_seconds_bucket{le=\"0.005\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("plaza_event_seconds_bucket{le=\"0.5\"} 2\n"),
            "{text}"
        );
        assert!(text.contains("plaza_events_total{kind=\"tap\",outcome=\"prompt\"} 1\n"));
    }

    #[test]
    fn labels_are_escaped() {
        let values = BTreeMap::from([("a\"b\\c".to_string(), 3)]);
        let text = render_labelled("x_total", "X.", "capability", &values);
        assert!(
            text.contains("x_total{capability=\"a\\\"b\\\\c\"} 3\n"),
            "{text}"
        );
    }
}
