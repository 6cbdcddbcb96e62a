//! `plaza bench --quick --json`: every row of the suite is there with a
//! positive figure (a smoke test of the suite, not of its timings).

mod common;

use common::{err as stderr, plaza};

/// The rows a run measures on Plaza and the bare host.
const MEASURED: &[&str] = &[
    "install.compile",
    "install.cached",
    "session",
    "bare.session",
    "event",
    "event.in-memory",
    "event.worker",
    "bare.event",
    "bare.event.store",
    "call",
    "bare.call",
    "sessions.memory",
    "sessions.events",
    "payments.1",
    "payments.8",
    "payments.64",
    "leakers.memory",
];

#[test]
fn quick_bench_reports_every_row() {
    let tmp = tempfile::tempdir().unwrap();
    let o = plaza(
        &tmp.path().join("unused.db"),
        &["bench", "--quick", "--json"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["quick"], true);
    let rows = json["rows"].as_array().unwrap();
    let row = |name: &str| {
        rows.iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("no row {name} in {json:#}"))
    };
    for name in MEASURED {
        let r = row(name);
        for figure in ["p50", "p10", "p90", "min", "max"] {
            let v = r["stats"][figure].as_f64();
            assert!(v.is_some_and(|v| v > 0.0), "{name}.{figure} = {v:?}: {r:#}");
        }
        assert!(r["stats"]["samples"].as_u64().unwrap() >= 1, "{r:#}");
    }
    for (name, base) in [
        ("event", "bare.event"),
        ("call", "bare.call"),
        ("session", "bare.session"),
    ] {
        let r = row(name);
        assert_eq!(r["ratio_to"], base);
        assert!(r["ratio"].as_f64().unwrap() > 0.0, "{r:#}");
        assert!(r["meets"].is_boolean(), "{r:#}");
    }
    // Extism's rows are there, measured if its peer is built, else saying
    // how to build it.
    for name in ["extism.event", "extism.call"] {
        let r = row(name);
        if r["stats"].is_null() {
            assert!(r["note"].is_string(), "an unmeasured row says why: {r:#}");
        } else {
            assert!(r["stats"]["p50"].as_f64().unwrap() > 0.0, "{r:#}");
        }
    }
    assert!(json["machine"]["cpus"].as_u64().unwrap() >= 1);
}

#[test]
fn bench_refuses_an_unknown_group() {
    let tmp = tempfile::tempdir().unwrap();
    let o = plaza(
        &tmp.path().join("unused.db"),
        &["bench", "--quick", "--only", "nonsense"],
    );
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("unknown group `nonsense`"),
        "{}",
        stderr(&o)
    );
}
