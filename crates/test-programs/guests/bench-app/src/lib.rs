//! Expects storage and clock to work: the benchmark suite's workload (a tap that reads and writes storage and answers 20 blocks; N clock calls).
//!
//! Every page offers the buttons `work`, `calls:0` and `calls:1000`.
//!
//! - launch (any path): page "Bench" (navigation `replace`) with those three
//!   buttons and nothing else;
//! - tap `work`: reads the key `counter` (a decimal number, 0 if missing),
//!   stores it plus one, and answers the page "Work" (navigation `replace`)
//!   of exactly 20 blocks: a heading, a field "Counter" with the new value,
//!   15 fields "Row <i>", and the three buttons;
//! - tap `calls:<n>`: calls `clock::now` n times and answers the page
//!   "Calls" (navigation `replace`): a field "Calls" = n, a field "Sum"
//!   (the wrapping sum of the times, so the calls are not optimised away),
//!   and the three buttons. `calls:0` answers the same page without calls:
//!   the difference between the two is the cost of n host calls;
//! - anything else: page "Bench" with a notice `error` "unknown action".

use plaza_sdk::{App, Event, Page, PageBuilder, clock, storage};

/// The actions every page offers.
fn buttons(page: PageBuilder) -> PageBuilder {
    page.button("Work", "work")
        .button("No calls", "calls:0")
        .button("1000 calls", "calls:1000")
}

#[derive(Default)]
struct BenchApp;

impl App for BenchApp {
    fn handle(&mut self, event: Event) -> Page {
        match &event {
            Event::Tap(action) if action == "work" => {
                let n = storage::get_string("counter")
                    .ok()
                    .flatten()
                    .and_then(|s| s.parse::<u64>().ok())
                    .unwrap_or(0)
                    + 1;
                let saved = storage::set_string("counter", &n.to_string());
                let mut page = Page::builder("Work").replace().heading("Counter").field(
                    "Counter",
                    match saved {
                        Ok(()) => n.to_string(),
                        Err(e) => e.to_string(),
                    },
                );
                for i in 0..15 {
                    page = page.field(format!("Row {i}"), format!("value {i}"));
                }
                buttons(page).build()
            }
            Event::Tap(action) if action.starts_with("calls:") => {
                let n: u32 = action["calls:".len()..].parse().unwrap_or(0);
                let mut sum: i64 = 0;
                for _ in 0..n {
                    sum = sum.wrapping_add(clock::now().unix_ms);
                }
                buttons(
                    Page::builder("Calls")
                        .replace()
                        .field("Calls", n.to_string())
                        .field("Sum", sum.to_string()),
                )
                .build()
            }
            Event::Tap(_) => {
                buttons(Page::builder("Bench").replace().error("unknown action")).build()
            }
            _ => buttons(Page::builder("Bench").replace()).build(),
        }
    }
}

plaza_sdk::export_app!(BenchApp);
