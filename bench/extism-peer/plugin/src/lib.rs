//! The Extism plugin of the benchmark: the logic of Plaza's bench guest
//! (`crates/test-programs/guests/bench-app`), page for page.
//!
//! - `work` (Plaza: a tap on `work`): takes the event as JSON
//!   (`{"tap":"work"}`), reads the key `counter` with `kv_get` (a decimal
//!   number, 0 if missing), stores it plus one with `kv_set` (one call each),
//!   and returns the page "Work" (navigation `replace`) of exactly 20 blocks:
//!   a heading "Counter", a field "Counter" with the new value, 15 fields
//!   "Row <i>" = "value <i>", and the three buttons.
//! - `noop` (Plaza: a tap on `calls:<n>`): calls the host function `noop` N
//!   times, N the decimal input, and sums what it returns (so the calls are
//!   not optimised away); the host takes the per-call cost as
//!   (time(N) - time(0)) / N. Returns the page "Calls".
//! - `hello` (Plaza: the launch): returns the page "Bench" (navigation
//!   `replace`) with the three buttons, for "new instance + first call".
//!
//! The three buttons of every page: "Work" (`work`), "No calls" (`calls:0`),
//! "1000 calls" (`calls:1000`), all of style `secondary`.
//!
//! Plaza's pages are typed records passed through the component ABI; JSON is
//! what an Extism plugin realistically returns (the host decodes it into the
//! same typed records).

use extism_pdk::*;
use serde::{Deserialize, Serialize};

/// The host functions (module `extism:host/user`). In a module of their own:
/// the export `noop` has the same name as the import `noop`.
mod host {
    use extism_pdk::*;

    #[host_fn]
    extern "ExtismHost" {
        pub fn kv_get(key: String) -> Vec<u8>;
        pub fn kv_set(key: String, value: Vec<u8>);
    }

    #[link(wasm_import_module = "extism:host/user")]
    unsafe extern "C" {
        /// Does nothing and returns a constant (as the bare host's clock).
        #[link_name = "noop"]
        pub fn noop() -> i64;
    }
}

/// An event of the session (the case the bench uses: a tap).
#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Event {
    Tap(String),
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
enum Navigation {
    Replace,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
enum ButtonStyle {
    Secondary,
}

/// One block of a page, as Plaza's `block` variant (the cases used here).
#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
enum Block {
    Heading(String),
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

#[derive(Serialize)]
struct Page {
    title: String,
    blocks: Vec<Block>,
    navigation: Navigation,
}

fn field(label: impl Into<String>, value: impl Into<String>) -> Block {
    Block::Field {
        label: label.into(),
        value: value.into(),
    }
}

/// A page with `blocks` and the three buttons every page offers.
fn page(title: &str, mut blocks: Vec<Block>) -> Page {
    for (label, action) in [
        ("Work", "work"),
        ("No calls", "calls:0"),
        ("1000 calls", "calls:1000"),
    ] {
        blocks.push(Block::Button {
            label: label.to_string(),
            action: action.to_string(),
            style: ButtonStyle::Secondary,
        });
    }
    Page {
        title: title.to_string(),
        blocks,
        navigation: Navigation::Replace,
    }
}

#[plugin_fn]
pub fn work(Json(event): Json<Event>) -> FnResult<Json<Page>> {
    let Event::Tap(action) = event;
    if action != "work" {
        return Err(Error::msg(format!("unknown action: {action}")).into());
    }
    let stored = unsafe { host::kv_get("counter".to_string())? };
    let n = std::str::from_utf8(&stored)
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(0)
        + 1;
    unsafe { host::kv_set("counter".to_string(), n.to_string().into_bytes())? };

    let mut blocks = Vec::with_capacity(20);
    blocks.push(Block::Heading("Counter".to_string()));
    blocks.push(field("Counter", n.to_string()));
    for i in 0..15 {
        blocks.push(field(format!("Row {i}"), format!("value {i}")));
    }
    Ok(Json(page("Work", blocks)))
}

#[plugin_fn]
pub fn noop(count: String) -> FnResult<Json<Page>> {
    let n: u32 = count.trim().parse().map_err(Error::msg)?;
    let mut sum: i64 = 0;
    for _ in 0..n {
        sum = sum.wrapping_add(unsafe { host::noop() });
    }
    Ok(Json(page(
        "Calls",
        vec![field("Calls", n.to_string()), field("Sum", sum.to_string())],
    )))
}

#[plugin_fn]
pub fn hello() -> FnResult<Json<Page>> {
    Ok(Json(page("Bench", Vec::new())))
}
