//! Expects the host to contain a mini-app that floods and snoops: every flood ends at a limit or a deadline, every guess finds nothing.
//!
//! Every answered event is the page "Hostile" (navigation `replace`) with
//! the fields below and one button per action. Launch `/` shows only the
//! buttons. The actions, by launch path (`/<action>`) or tap (`<action>`):
//!
//! - `key-flood`: stores empty values under keys `k0000000`, `k0000001`, ...
//!   until the host refuses one; fields `written` (how many were stored) and
//!   `error` (`<kind>: <message>` of the refusal);
//! - `value-over-cap`: stores 1 MiB + 1 byte under `big`; field `error`;
//! - `key-over-cap`: stores under a 300-byte key; field `error`;
//! - `call-flood`: asks the clock for the time forever;
//! - `log-flood`: writes 20,000 log records of 100 bytes, then answers with
//!   field `logged` = 20000;
//! - `guess-storage`: reads keys other mini-apps use (`note`, `notes`,
//!   `hidden-count`, `a`, and path-like keys naming other apps and users)
//!   and lists every key; field `found` = the keys that had a value, comma
//!   separated (empty when none), `listed` = the listed keys;
//! - `guess-orders` (launch query `orders`: comma-separated order ids to
//!   try, beside `o-1` ... `o-5`): queries and refunds (1 fen) each order
//!   and lists the payment history; fields `queried` and `refunded` = the
//!   orders the host answered with a payment (empty when none), `history` =
//!   the number of payments listed, `errors` = the distinct error kinds;
//! - `consent-storm`: asks 500 times for each of `phone`, `profile` and
//!   `location`; fields `granted` and `refused` (counts over all 1,500 calls).

use plaza_sdk::identity::{self, LocationPrecision};
use plaza_sdk::{App, Event, HostError, Page, PageBuilder, clock, log, payment, storage};
use std::collections::BTreeSet;

const ACTIONS: [&str; 8] = [
    "key-flood",
    "value-over-cap",
    "key-over-cap",
    "call-flood",
    "log-flood",
    "guess-storage",
    "guess-orders",
    "consent-storm",
];

#[derive(Default)]
struct Hostile;

fn shown(e: HostError) -> String {
    e.to_string()
}

fn key_flood(page: PageBuilder) -> PageBuilder {
    let mut written = 0u64;
    let error = loop {
        match storage::set(&format!("k{written:07}"), &[]) {
            Ok(()) => written += 1,
            Err(e) => break shown(e),
        }
    };
    page.field("written", written.to_string())
        .field("error", error)
}

fn refused(page: PageBuilder, result: Result<(), HostError>) -> PageBuilder {
    match result {
        Ok(()) => page.field("error", "none: the host accepted it"),
        Err(e) => page.field("error", shown(e)),
    }
}

fn call_flood() -> ! {
    loop {
        core::hint::black_box(clock::now());
    }
}

fn log_flood(page: PageBuilder) -> PageBuilder {
    let line = "f".repeat(100);
    for _ in 0..20_000 {
        log::info(&line);
    }
    page.field("logged", "20000")
}

fn guess_storage(page: PageBuilder) -> PageBuilder {
    let guesses = [
        "note",
        "notes",
        "hidden-count",
        "a",
        "b",
        "bookings",
        "../test.plaza.kv-notes/note",
        "test.plaza.kv-notes/note",
        "test.plaza.kv-notes:note",
        "bea/test.plaza.kv-notes/note",
        "%",
        "*",
    ];
    let found: Vec<&str> = guesses
        .iter()
        .copied()
        .filter(|k| matches!(storage::get(k), Ok(Some(_))))
        .collect();
    let listed = storage::list_keys("", 1000).unwrap_or_default();
    page.field("found", found.join(","))
        .field("listed", listed.join(","))
}

fn guess_orders(page: PageBuilder, extra: &str) -> PageBuilder {
    let mut orders: Vec<String> = (1..=5).map(|n| format!("o-{n}")).collect();
    orders.extend(
        extra
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string),
    );
    let mut queried = Vec::new();
    let mut refunded = Vec::new();
    let mut errors = BTreeSet::new();
    for order in &orders {
        match payment::query(order) {
            Ok(_) => queried.push(order.clone()),
            Err(e) => {
                errors.insert(e.kind().to_string());
            }
        }
        match payment::refund(order, 1, "refund requested") {
            Ok(_) => refunded.push(order.clone()),
            Err(e) => {
                errors.insert(e.kind().to_string());
            }
        }
    }
    let history = match payment::history(None, 50) {
        Ok(h) => h.payments.len(),
        Err(e) => {
            errors.insert(e.kind().to_string());
            0
        }
    };
    page.field("queried", queried.join(","))
        .field("refunded", refunded.join(","))
        .field("history", history.to_string())
        .field("errors", errors.into_iter().collect::<Vec<_>>().join(","))
}

fn consent_storm(page: PageBuilder) -> PageBuilder {
    let (mut granted, mut refused) = (0u32, 0u32);
    for _ in 0..500 {
        let results = [
            identity::phone().map(|_| ()),
            identity::profile().map(|_| ()),
            identity::location(LocationPrecision::Coarse).map(|_| ()),
        ];
        for r in results {
            match r {
                Ok(()) => granted += 1,
                Err(_) => refused += 1,
            }
        }
    }
    page.field("granted", granted.to_string())
        .field("refused", refused.to_string())
}

impl App for Hostile {
    fn handle(&mut self, event: Event) -> Page {
        let mut page = Page::builder("Hostile").replace();
        let action = match &event {
            Event::Tap(action) => action.clone(),
            _ => event
                .launch_path()
                .unwrap_or("/")
                .trim_start_matches('/')
                .to_string(),
        };
        page = match action.as_str() {
            "key-flood" => key_flood(page),
            "value-over-cap" => refused(page, storage::set("big", &vec![7; (1 << 20) + 1])),
            "key-over-cap" => refused(page, storage::set(&"k".repeat(300), b"v")),
            "call-flood" => call_flood(),
            "log-flood" => log_flood(page),
            "guess-storage" => guess_storage(page),
            "guess-orders" => guess_orders(page, event.query_param("orders").unwrap_or("")),
            "consent-storm" => consent_storm(page),
            _ => page,
        };
        for action in ACTIONS {
            page = page.button(action, action);
        }
        page.build()
    }
}

plaza_sdk::export_app!(Hostile);
