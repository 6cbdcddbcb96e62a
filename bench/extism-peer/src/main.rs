//! The Extism side of Plaza's benchmark comparison (issue 8, item 7).
//!
//! Hosts the plugin in `plugin/` (embedded at build time, see build.rs; the
//! environment variable `EXTISM_PEER_PLUGIN` names another .wasm to load
//! instead) with the host functions `kv_get` and `kv_set` (a HashMap in
//! UserData) and `noop` (does nothing, returns a constant), compiles it once into a
//! `CompiledPlugin`, and measures:
//!
//! - `event_round_trip_ns`: one `work` call on a warm plugin, the event
//!   encoded to JSON and the page decoded from JSON into typed records
//!   included (Plaza's host gets typed records from the component ABI);
//! - `noop_call_ns`: the cost of one call of the host function `noop`, as
//!   (time(noop N) - time(noop 0)) / N per sample of time(noop N), with
//!   time(noop 0) the median of as many samples taken in alternation;
//! - `new_instance_first_call_ns`: `Plugin::new_from_compiled` plus the first
//!   `hello` call (page decoded); the drop of the plugin is not timed.
//!
//! `--json` prints one JSON object (read by `plaza bench`); without it, a
//! table. Set RUST_BACKTRACE=0 RUST_LIB_BACKTRACE=0 when measuring.

use extism::{
    CompiledPlugin, CurrentPlugin, Error, Function, Manifest, PTR, Plugin, PluginBuilder, UserData,
    Val, ValType, Wasm, host_fn,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// The plugin built by build.rs.
static PLUGIN_WASM: &[u8] = include_bytes!(env!("EXTISM_PEER_PLUGIN_WASM"));

const EXTISM_VERSION: &str = env!("EXTISM_VERSION");
const WASMTIME_VERSION: &str = env!("WASMTIME_VERSION");

/// Samples of each measurement.
const ROUND_TRIP_SAMPLES: usize = 10_000;
const NOOP_CALLS: u32 = 10_000;
const NOOP_SAMPLES: usize = 200;
const NEW_INSTANCE_SAMPLES: usize = 500;

/// The store of `kv_get` / `kv_set`.
type Kv = HashMap<String, Vec<u8>>;

host_fn!(kv_get(kv: Kv; key: String) -> Vec<u8> {
    let kv = kv.get()?;
    let kv = kv.lock().unwrap();
    Ok(kv.get(&key).cloned().unwrap_or_default())
});

host_fn!(kv_set(kv: Kv; key: String, value: Vec<u8>) {
    let kv = kv.get()?;
    kv.lock().unwrap().insert(key, value);
    Ok(())
});

/// The no-op host function: no arguments, no work; returns a constant i64
/// (as the bare Wasmtime host's `clock::now`, Plaza's no-op call, returns a
/// constant time), which the plugin sums.
fn noop(
    _plugin: &mut CurrentPlugin,
    _inputs: &[Val],
    outputs: &mut [Val],
    _user_data: UserData<()>,
) -> Result<(), Error> {
    outputs[0] = Val::I64(1_700_000_000_000);
    Ok(())
}

/// The event `work` is given, as Plaza's `event` variant (a tap).
#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
enum Event<'a> {
    Tap(&'a str),
}

/// The page a plugin returns, decoded into typed records as Plaza's host gets
/// them (the cases the plugin uses).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[allow(dead_code)]
enum Navigation {
    Push,
    Replace,
    Back,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[allow(dead_code)]
enum ButtonStyle {
    Primary,
    Secondary,
    Danger,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[allow(dead_code)]
enum Block {
    Heading(String),
    Text(String),
    Field {
        label: String,
        value: String,
    },
    Button {
        label: String,
        action: String,
        style: ButtonStyle,
    },
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Page {
    title: String,
    blocks: Vec<Block>,
    navigation: Navigation,
}

/// p50, p90, min, max of a set of samples (nanoseconds).
struct Stats {
    p50: f64,
    p90: f64,
    min: f64,
    max: f64,
    samples: usize,
}

impl Stats {
    fn of(mut ns: Vec<f64>) -> Stats {
        assert!(!ns.is_empty());
        ns.sort_by(f64::total_cmp);
        let at = |q: usize| ns[(ns.len() - 1) * q / 100];
        Stats {
            p50: at(50),
            p90: at(90),
            min: ns[0],
            max: ns[ns.len() - 1],
            samples: ns.len(),
        }
    }

    /// As JSON, with `decimals` digits after the point.
    fn json(&self, decimals: usize) -> String {
        format!(
            "{{\"p50\": {:.d$}, \"p90\": {:.d$}, \"min\": {:.d$}, \"max\": {:.d$}, \"samples\": {}}}",
            self.p50,
            self.p90,
            self.min,
            self.max,
            self.samples,
            d = decimals
        )
    }

    fn row(&self, what: &str, decimals: usize) -> String {
        format!(
            "{what:<44} {:>10.d$} {:>10.d$} {:>10.d$} {:>10.d$} {:>8}",
            self.p50,
            self.p90,
            self.min,
            self.max,
            self.samples,
            d = decimals
        )
    }
}

fn ns(d: Duration) -> f64 {
    d.as_nanos() as f64
}

/// Compiles the plugin once, with the three host functions.
fn compile(kv: &UserData<Kv>) -> Result<CompiledPlugin, Error> {
    let wasm = match std::env::var_os("EXTISM_PEER_PLUGIN") {
        Some(path) => Wasm::file(path),
        None => Wasm::data(PLUGIN_WASM),
    };
    let functions = [
        Function::new("kv_get", [PTR], [PTR], kv.clone(), kv_get),
        Function::new("kv_set", [PTR, PTR], [], kv.clone(), kv_set),
        Function::new("noop", [], [ValType::I64], UserData::new(()), noop),
    ];
    PluginBuilder::new(Manifest::new([wasm]))
        .with_wasi(false)
        .with_cache_disabled()
        .with_functions(functions)
        .compile()
}

/// One event round trip: the event encoded, `work` called, the page decoded.
fn round_trip(plugin: &mut Plugin) -> Result<Page, Error> {
    let event = serde_json::to_vec(&Event::Tap("work"))?;
    let out: &[u8] = plugin.call("work", event)?;
    Ok(serde_json::from_slice(out)?)
}

/// `noop` with `n` host calls, timed.
fn time_noop(plugin: &mut Plugin, n: &str) -> Result<Duration, Error> {
    let start = Instant::now();
    let page: &[u8] = plugin.call("noop", n)?;
    black_box(page);
    Ok(start.elapsed())
}

/// A new plugin from the compiled one and its first call.
fn new_instance(compiled: &CompiledPlugin) -> Result<(Plugin, Page), Error> {
    let mut plugin = Plugin::new_from_compiled(compiled)?;
    let out: &[u8] = plugin.call("hello", "")?;
    let page = serde_json::from_slice(out)?;
    Ok((plugin, page))
}

fn main() -> Result<(), Error> {
    let json = match std::env::args().nth(1).as_deref() {
        None => false,
        Some("--json") => true,
        Some(other) => {
            eprintln!("usage: extism-peer [--json]   (unknown argument {other:?})");
            std::process::exit(2);
        }
    };

    let kv = UserData::new(Kv::new());
    let compile_start = Instant::now();
    let compiled = compile(&kv)?;
    let compile_time = compile_start.elapsed();

    // (a) The event round trip on a warm plugin.
    let mut plugin = Plugin::new_from_compiled(&compiled)?;
    let first = round_trip(&mut plugin)?;
    let second = round_trip(&mut plugin)?;
    assert_eq!(first.title, "Work");
    assert_eq!(first.blocks.len(), 20, "the page has 20 blocks");
    for (page, n) in [(&first, "1"), (&second, "2")] {
        assert!(
            matches!(&page.blocks[1], Block::Field { label, value } if label == "Counter" && value == n),
            "the counter block of {page:?}"
        );
    }
    for _ in 0..1_000 {
        black_box(round_trip(&mut plugin)?);
    }
    let mut samples = Vec::with_capacity(ROUND_TRIP_SAMPLES);
    for _ in 0..ROUND_TRIP_SAMPLES {
        let start = Instant::now();
        let page = round_trip(&mut plugin)?;
        samples.push(ns(start.elapsed()));
        black_box(page);
    }
    let round_trip_stats = Stats::of(samples);
    let counter = kv.get()?.lock().unwrap().get("counter").cloned();
    let expected = (2 + 1_000 + ROUND_TRIP_SAMPLES).to_string().into_bytes();
    assert_eq!(counter, Some(expected), "one kv_set per work call");

    // The same call without the JSON encoding of the event and decoding of
    // the page (table only).
    let event = serde_json::to_vec(&Event::Tap("work"))?;
    let mut samples = Vec::with_capacity(ROUND_TRIP_SAMPLES);
    for _ in 0..ROUND_TRIP_SAMPLES {
        let start = Instant::now();
        let out: &[u8] = plugin.call("work", &event)?;
        samples.push(ns(start.elapsed()));
        black_box(out);
    }
    let raw_call_stats = Stats::of(samples);

    // (b) The no-op host call: (time(N) - time(0)) / N, per sample.
    let n = NOOP_CALLS.to_string();
    for _ in 0..5 {
        time_noop(&mut plugin, "0")?;
        time_noop(&mut plugin, &n)?;
    }
    // time(0) and time(N) alternate; time(0) is taken as the median of its
    // samples, so that a descheduled time(0) sample (this machine is shared)
    // does not make a time(N) sample look cheap or negative.
    let mut full_samples = Vec::with_capacity(NOOP_SAMPLES);
    let mut zero_samples = Vec::with_capacity(NOOP_SAMPLES);
    for _ in 0..NOOP_SAMPLES {
        zero_samples.push(ns(time_noop(&mut plugin, "0")?));
        full_samples.push(ns(time_noop(&mut plugin, &n)?));
    }
    let noop_zero_stats = Stats::of(zero_samples);
    let noop_stats = Stats::of(
        full_samples
            .into_iter()
            .map(|full| (full - noop_zero_stats.p50) / f64::from(NOOP_CALLS))
            .collect(),
    );
    drop(plugin);

    // (c) A new instance from the compiled plugin and its first call.
    for _ in 0..20 {
        black_box(new_instance(&compiled)?);
    }
    let mut samples = Vec::with_capacity(NEW_INSTANCE_SAMPLES);
    for _ in 0..NEW_INSTANCE_SAMPLES {
        let start = Instant::now();
        let (plugin, page) = new_instance(&compiled)?;
        samples.push(ns(start.elapsed()));
        assert_eq!((page.title.as_str(), page.blocks.len()), ("Bench", 3));
        drop(plugin);
    }
    let new_instance_stats = Stats::of(samples);

    if json {
        println!(
            "{{\"extism_version\": \"{EXTISM_VERSION}\", \"wasmtime_version\": \"{WASMTIME_VERSION}\", \
             \"event_round_trip_ns\": {}, \"noop_call_ns\": {}, \"new_instance_first_call_ns\": {}}}",
            round_trip_stats.json(0),
            noop_stats.json(1),
            new_instance_stats.json(0),
        );
    } else {
        println!(
            "Extism {EXTISM_VERSION} (Wasmtime {WASMTIME_VERSION}); plugin {} bytes, compiled in {:.1} ms",
            PLUGIN_WASM.len(),
            compile_time.as_secs_f64() * 1e3
        );
        println!(
            "{:<44} {:>10} {:>10} {:>10} {:>10} {:>8}",
            "nanoseconds", "p50", "p90", "min", "max", "samples"
        );
        println!(
            "{}",
            round_trip_stats.row("event round trip (work, JSON in/out)", 0)
        );
        println!(
            "{}",
            raw_call_stats.row("  the work call alone (no JSON on host)", 0)
        );
        println!("{}", noop_stats.row("no-op host call, per call", 1));
        println!(
            "{}",
            noop_zero_stats.row("  noop export with N=0 (call floor)", 0)
        );
        println!(
            "{}",
            new_instance_stats.row("new instance + first call (hello)", 0)
        );
    }
    Ok(())
}
