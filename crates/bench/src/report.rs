//! The suite's result: one row per figure, printed as a table or JSON.

use crate::stats::Stats;
use serde::Serialize;

/// The unit a row's figures are in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Nanoseconds per operation.
    Ns,
    /// Bytes.
    Bytes,
    /// Operations per second.
    PerSecond,
}

/// One figure.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// A stable id, such as `event` or `bare.event`.
    pub name: String,
    /// What was measured, in words.
    pub what: String,
    /// The unit of `stats`.
    pub unit: Unit,
    /// The figure's distribution; `None` when it was not measured (see
    /// `note`).
    pub stats: Option<Stats>,
    /// `stats.p50` divided by the median of the row named `ratio_to`.
    pub ratio: Option<f64>,
    /// The row the ratio is taken against.
    pub ratio_to: Option<String>,
    /// The target, in words.
    pub target: Option<String>,
    /// Whether the median meets the target.
    pub meets: Option<bool>,
    /// Anything a reader must know about this figure.
    pub note: Option<String>,
}

impl Row {
    /// A measured row.
    pub fn new(name: &str, what: &str, unit: Unit, stats: Stats) -> Row {
        Row {
            name: name.into(),
            what: what.into(),
            unit,
            stats: Some(stats),
            ratio: None,
            ratio_to: None,
            target: None,
            meets: None,
            note: None,
        }
    }

    /// A row that could not be measured, and why.
    pub fn missing(name: &str, what: &str, unit: Unit, why: String) -> Row {
        Row {
            stats: None,
            note: Some(why),
            ..Row::new(name, what, unit, Stats::single(0.0))
        }
    }

    /// With a target and whether it is met.
    pub fn target(mut self, target: &str, meets: bool) -> Row {
        self.target = Some(target.into());
        self.meets = Some(meets);
        self
    }

    /// With a note.
    pub fn note(mut self, note: impl Into<String>) -> Row {
        self.note = Some(note.into());
        self
    }

    /// The median, if measured.
    pub fn median(&self) -> Option<f64> {
        self.stats.map(|s| s.p50)
    }
}

/// The machine the figures were measured on.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// Logical CPUs.
    pub cpus: usize,
    /// The CPU model (`/proc/cpuinfo`).
    pub cpu_model: String,
    /// The kernel release.
    pub kernel: String,
    /// `/proc/loadavg` when the suite started.
    pub load_before: String,
    /// `/proc/loadavg` when it ended.
    pub load_after: String,
    /// `RUST_BACKTRACE` and `RUST_LIB_BACKTRACE` as the suite saw them.
    pub backtrace_env: String,
    /// Whether this is an optimised build.
    pub release: bool,
}

impl Machine {
    /// What this process can tell about its machine now.
    pub fn probe() -> Machine {
        let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
        let cpu_model = read("/proc/cpuinfo")
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .and_then(|l| l.split_once(':'))
            .map(|(_, m)| m.trim().to_string())
            .unwrap_or_else(|| "unknown".into());
        let var = |k: &str| std::env::var(k).unwrap_or_else(|_| "unset".into());
        Machine {
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cpu_model,
            kernel: read("/proc/sys/kernel/osrelease").trim().to_string(),
            load_before: read("/proc/loadavg").trim().to_string(),
            load_after: String::new(),
            backtrace_env: format!(
                "RUST_BACKTRACE={} RUST_LIB_BACKTRACE={}",
                var("RUST_BACKTRACE"),
                var("RUST_LIB_BACKTRACE")
            ),
            release: !cfg!(debug_assertions),
        }
    }
}

/// Everything one run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Where.
    pub machine: Machine,
    /// Whether the sizes were shrunk (`--quick`): figures for a smoke test,
    /// not for comparison.
    pub quick: bool,
    /// The figures.
    pub rows: Vec<Row>,
}

impl Report {
    /// The row named `name`.
    pub fn row(&self, name: &str) -> Option<&Row> {
        self.rows.iter().find(|r| r.name == name)
    }

    /// Fills in every row's ratio from its `ratio_to` row's median.
    pub(crate) fn compute_ratios(&mut self) {
        let medians: Vec<(String, Option<f64>)> = self
            .rows
            .iter()
            .map(|r| (r.name.clone(), r.median()))
            .collect();
        for row in &mut self.rows {
            let Some(to) = &row.ratio_to else { continue };
            let base = medians.iter().find(|(n, _)| n == to).and_then(|(_, m)| *m);
            row.ratio = match (row.median(), base) {
                (Some(m), Some(b)) if b > 0.0 => Some(m / b),
                _ => None,
            };
        }
    }

    /// The report as an aligned text table.
    pub fn table(&self) -> String {
        let mut lines = vec![[
            "row".to_string(),
            "what".into(),
            "median".into(),
            "spread (p10..p90) [min..max]".into(),
            "n".into(),
            "ratio".into(),
            "target".into(),
            "meets?".into(),
        ]];
        for r in &self.rows {
            let (median, spread, n) = match r.stats {
                Some(s) => (
                    fmt(r.unit, s.p50),
                    format!(
                        "{}..{} [{}..{}]",
                        fmt(r.unit, s.p10),
                        fmt(r.unit, s.p90),
                        fmt(r.unit, s.min),
                        fmt(r.unit, s.max)
                    ),
                    s.samples.to_string(),
                ),
                None => ("-".into(), "-".into(), "0".into()),
            };
            let ratio = match (&r.ratio, &r.ratio_to) {
                (Some(x), Some(to)) => format!("{x:.2}x {to}"),
                _ => String::new(),
            };
            let meets = match r.meets {
                Some(true) => "yes",
                Some(false) => "NO",
                None => "",
            };
            lines.push([
                r.name.clone(),
                r.what.clone(),
                median,
                spread,
                n,
                ratio,
                r.target.clone().unwrap_or_default(),
                meets.into(),
            ]);
        }
        let mut widths = [0usize; 8];
        for l in &lines {
            for (w, c) in widths.iter_mut().zip(l) {
                *w = (*w).max(c.chars().count());
            }
        }
        let mut out = String::new();
        for l in &lines {
            let cells: Vec<String> = l
                .iter()
                .zip(widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect();
            out.push_str(cells.join("  ").trim_end());
            out.push('\n');
        }
        let notes: Vec<String> = self
            .rows
            .iter()
            .filter_map(|r| r.note.as_ref().map(|n| format!("  {}: {n}", r.name)))
            .collect();
        if !notes.is_empty() {
            out.push_str("\nnotes:\n");
            out.push_str(&notes.join("\n"));
            out.push('\n');
        }
        let m = &self.machine;
        out.push_str(&format!(
            "\nmachine: {} CPUs, {}, Linux {}; load before {} / after {}; {}; {} build{}\n",
            m.cpus,
            m.cpu_model,
            m.kernel,
            m.load_before,
            m.load_after,
            m.backtrace_env,
            if m.release { "release" } else { "DEBUG" },
            if self.quick {
                "; --quick (smoke-test sizes, not figures to compare)"
            } else {
                ""
            }
        ));
        out
    }
}

/// A figure in its unit, readably.
pub fn fmt(unit: Unit, v: f64) -> String {
    match unit {
        Unit::Ns if v >= 1e6 => format!("{:.2} ms", v / 1e6),
        Unit::Ns if v >= 1e3 => format!("{:.2} µs", v / 1e3),
        Unit::Ns => format!("{v:.0} ns"),
        Unit::Bytes if v >= 1024.0 * 1024.0 => format!("{:.1} MiB", v / 1024.0 / 1024.0),
        Unit::Bytes if v >= 1024.0 => format!("{:.1} KiB", v / 1024.0),
        Unit::Bytes => format!("{v:.0} B"),
        Unit::PerSecond => format!("{v:.0}/s"),
    }
}
