//! Expects the host to end only this session when it loops, exhausts memory or the stack, panics or answers a page over the size cap, and to keep the host running.
//!
//! Every well-behaved answer is the page "Misbehave" (navigation `replace`):
//! a field "Events handled" (the number of events this instance has handled,
//! counting the current one: 1 in a fresh session), then one button per
//! action: `spin`, `alloc`, `recurse`, `panic`, `big-page`, `print`, `ok`.
//!
//! - `spin`: loops forever, without host calls;
//! - `alloc`: allocates 1 MiB chunks, touching every 4 KiB page, forever;
//! - `recurse`: recurses without end (not a tail call);
//! - `panic`: panics with "misbehave panicked on purpose";
//! - `big-page`: answers a page "Big page" of 2048 text blocks of 1024
//!   characters each (2 MiB of text);
//! - `print`: writes 100 KiB to standard output (1600 lines of 63 `.` and a
//!   newline), one line "misbehave wrote to stderr" to standard error, logs
//!   "misbehave printed 100 KiB" at info level, and answers the page;
//! - `ok`: answers the page.
//!
//! A launch with path `/spin` loops forever; any other launch answers the page.
//!
//! The patient attacker (each a launch, answering the page when it returns):
//! - `/sleep?ms=MS`: sleeps `MS` ms (`std::thread::sleep`, a blocking WASI
//!   poll);
//! - `/spin-then-sleep?spin=MS&sleep=MS`: loops `spin` ms of the monotonic
//!   clock (past its grace), then sleeps `sleep` ms;
//! - `/sleepy-hide?ms=MS`: answers the page; its `hide` event then sleeps
//!   `MS` ms.

use core::hint::black_box;
use plaza_sdk::{App, Event, Page};

const ACTIONS: [&str; 7] = [
    "spin", "alloc", "recurse", "panic", "big-page", "print", "ok",
];

#[derive(Default)]
struct Misbehave {
    events: u64,
    /// How long `hide` sleeps (`/sleepy-hide`).
    hide_sleep_ms: u64,
}

impl App for Misbehave {
    fn handle(&mut self, event: Event) -> Page {
        self.events += 1;
        match &event {
            Event::Launch(launch) if launch.path == "/spin" => spin(),
            Event::Launch(launch) if launch.path == "/sleep" => {
                sleep_ms(launch.query_param("ms"));
            }
            Event::Launch(launch) if launch.path == "/spin-then-sleep" => {
                let spin = launch.query_param("spin").and_then(|v| v.parse().ok());
                let start = std::time::Instant::now();
                let mut counter: u64 = 0;
                while start.elapsed().as_millis() < spin.unwrap_or(0) {
                    counter = black_box(counter.wrapping_add(1));
                }
                sleep_ms(launch.query_param("sleep"));
            }
            Event::Launch(launch) if launch.path == "/sleepy-hide" => {
                self.hide_sleep_ms = launch
                    .query_param("ms")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
            }
            Event::Hide if self.hide_sleep_ms > 0 => {
                std::thread::sleep(std::time::Duration::from_millis(self.hide_sleep_ms));
            }
            Event::Tap(action) => match action.as_str() {
                "spin" => spin(),
                "alloc" => alloc(),
                "recurse" => {
                    let depth = recurse(black_box(0));
                    panic!("recursion returned at depth {depth}");
                }
                "panic" => panic!("misbehave panicked on purpose"),
                "big-page" => return big_page(),
                "print" => print(),
                _ => {}
            },
            _ => {}
        }
        let mut page = Page::builder("Misbehave")
            .replace()
            .field("Events handled", self.events.to_string());
        for action in ACTIONS {
            page = page.button(action, action);
        }
        page.build()
    }
}

/// Sleeps `ms` milliseconds (a blocking WASI poll), if given.
fn sleep_ms(ms: Option<&str>) {
    let ms = ms.and_then(|v| v.parse().ok()).unwrap_or(0);
    std::thread::sleep(std::time::Duration::from_millis(ms));
}

/// Loops forever, making no host call.
fn spin() -> ! {
    let mut counter: u64 = 0;
    loop {
        counter = black_box(counter.wrapping_add(1));
    }
}

/// Allocates memory until the host's cap stops it.
fn alloc() -> ! {
    const CHUNK: usize = 1 << 20;
    let mut chunks: Vec<Vec<u8>> = Vec::new();
    loop {
        let mut chunk = Vec::<u8>::with_capacity(CHUNK);
        for offset in (0..CHUNK).step_by(4096) {
            chunk.spare_capacity_mut()[offset].write(1);
        }
        chunks.push(black_box(chunk));
    }
}

/// Recurses until the wasm call stack runs out. The work after the call
/// keeps it from being a tail call (or an accumulator loop), and no local has
/// its address taken, so the frames live on the wasm stack rather than on the
/// shadow stack in linear memory: the host sees a stack overflow, not an
/// out-of-bounds access.
#[inline(never)]
fn recurse(depth: u64) -> u64 {
    if black_box(depth) == u64::MAX {
        return 0;
    }
    let below = recurse(black_box(depth + 1));
    black_box(below.rotate_left((depth % 63) as u32) ^ depth)
}

/// 2048 text blocks of 1024 characters: 2 MiB of text.
fn big_page() -> Page {
    let line = "m".repeat(1024);
    let mut page = Page::builder("Big page").replace();
    for _ in 0..2048 {
        page = page.text(line.as_str());
    }
    page.build()
}

/// 100 KiB to standard output, a line to standard error and a log record.
fn print() {
    let line = ".".repeat(63);
    for _ in 0..1600 {
        println!("{line}");
    }
    eprintln!("misbehave wrote to stderr");
    plaza_sdk::log::info("misbehave printed 100 KiB");
}

plaza_sdk::export_app!(Misbehave);
