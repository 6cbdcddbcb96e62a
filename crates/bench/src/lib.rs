//! # plaza-bench
//!
//! Plaza's benchmark suite (issue 8): install, a new session, an event round
//! trip, a no-op host call, 10,000 live sessions and durable payments, each
//! Plaza figure beside the same work on a bare Wasmtime host ([`bare`]) and,
//! when its binary is built, on Extism (`bench/extism-peer`), all in one
//! process and one run. `plaza bench` prints the [`Report`] as a table or
//! JSON; the criterion benches in `benches/` reuse the same set-ups.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let report = plaza_bench::run(&plaza_bench::Options {
//!     quick: true,
//!     ..Default::default()
//! })
//! .await?;
//! println!("{}", report.table());
//! # Ok(()) }
//! ```
//!
//! Measure with `RUST_BACKTRACE=0 RUST_LIB_BACKTRACE=0` in a release build
//! (`scripts/bench.sh` does both): this machine sets `RUST_BACKTRACE=1`, and
//! a library that makes an error value per call then walks the stack each
//! time.
//!
//! This is a measuring harness, not a library an app embeds: its errors are
//! `anyhow` errors, as in test helpers.

pub mod bare;
mod extism;
mod languages;
mod many_apps;
pub mod report;
pub mod setup;
pub mod stats;
mod suite;

pub use report::{Machine, Report, Row};
pub use stats::Stats;
pub use suite::{GROUPS, Options, Sizes, run};
