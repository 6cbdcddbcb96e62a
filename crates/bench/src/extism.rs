//! The Extism peer (`bench/extism-peer`, a cargo project of its own): its
//! binary, run with `--json`, prints
//! `{"extism_version": "..", "event_round_trip_ns": {p50, p90, min, max,
//! samples}, "noop_call_ns": {same}}` for the same work as rows `event` and
//! `call`.

use crate::report::{Row, Unit};
use crate::stats::Stats;
use anyhow::{Context, Result, bail};
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Deserialize)]
struct Figures {
    p50: f64,
    #[serde(default)]
    p10: Option<f64>,
    p90: f64,
    min: f64,
    max: f64,
    samples: usize,
}

impl Figures {
    fn stats(&self) -> Stats {
        Stats {
            p50: self.p50,
            // The peer reports min, p50, p90 and max; its p10 if it has one.
            p10: self.p10.unwrap_or(self.min),
            p90: self.p90,
            min: self.min,
            max: self.max,
            samples: self.samples,
        }
    }
}

#[derive(Deserialize)]
struct PeerOutput {
    extism_version: String,
    event_round_trip_ns: Figures,
    noop_call_ns: Figures,
}

/// Where the peer's binary is when built by `scripts/bench.sh`.
pub(crate) fn default_binary() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/extism-peer/target/release/extism-peer")
}

fn run_peer(binary: &Path) -> Result<PeerOutput> {
    let out = std::process::Command::new(binary)
        .arg("--json")
        .env("RUST_BACKTRACE", "0")
        .env("RUST_LIB_BACKTRACE", "0")
        .output()
        .with_context(|| format!("running {}", binary.display()))?;
    if !out.status.success() {
        bail!(
            "{} --json failed ({}): {}",
            binary.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    serde_json::from_slice(&out.stdout).with_context(|| {
        format!(
            "{} --json printed something else than the agreed JSON",
            binary.display()
        )
    })
}

/// The Extism rows: measured by the peer if its binary exists, else rows
/// that say how to build it.
pub(crate) fn rows(binary: Option<&Path>) -> Vec<Row> {
    const EVENT: &str = "event round trip on Extism (same work as `event`)";
    const CALL: &str = "no-op host call on Extism";
    let explicit = binary.is_some();
    let binary = binary.map(Path::to_path_buf).unwrap_or_else(default_binary);
    if !explicit && !binary.exists() {
        let why = "not built: run scripts/bench.sh".to_string();
        return vec![
            Row::missing("extism.event", EVENT, Unit::Ns, why.clone()),
            Row::missing("extism.call", CALL, Unit::Ns, why),
        ];
    }
    match run_peer(&binary) {
        Ok(p) => {
            let note = format!("extism {}, from {}", p.extism_version, binary.display());
            let mut event = Row::new(
                "extism.event",
                EVENT,
                Unit::Ns,
                p.event_round_trip_ns.stats(),
            )
            .note(note.clone());
            event.ratio_to = Some("event".into());
            let mut call =
                Row::new("extism.call", CALL, Unit::Ns, p.noop_call_ns.stats()).note(note);
            call.ratio_to = Some("call".into());
            vec![event, call]
        }
        Err(e) => {
            let why = format!("{e:#}");
            vec![
                Row::missing("extism.event", EVENT, Unit::Ns, why.clone()),
                Row::missing("extism.call", CALL, Unit::Ns, why),
            ]
        }
    }
}
