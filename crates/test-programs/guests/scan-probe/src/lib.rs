//! Expects `plaza:host/scan` to ask the user only during a tap and to answer the scanned text, or a cancellation or refusal as data.
//!
//! A launch answers the page "Scan probe" with the buttons `scan` (either
//! kind of code, purpose "The code on the clinic's wall") and `qr` (QR
//! codes only, purpose "A QR code"). A launch with the query `scan=1` scans
//! at once (outside a tap); any other launch path shows the page "Opened"
//! with the field "Path" (the path and query, `a=1&b=2`). Every answer to a
//! scan is the page "Scanned" with the field "Result": `ok` or the error as
//! `<kind>: <message>` (`cancelled` alone), and for a code the fields
//! "Text" and "Kind" (`qr` or `barcode`), and the button `scan` again.

use plaza_sdk::scan::{self, CodeKind, ScanError};
use plaza_sdk::{App, Event, Page};

#[derive(Default)]
struct ScanProbe;

fn scanned(answer: Result<scan::Scanned, ScanError>) -> Page {
    let page = Page::builder("Scanned");
    match answer {
        Ok(code) => page
            .field("Result", "ok")
            .field("Text", code.text)
            .field(
                "Kind",
                match code.kind {
                    CodeKind::Qr => "qr",
                    CodeKind::Barcode => "barcode",
                },
            )
            .primary_button("Scan again", "scan")
            .build(),
        Err(e) => page
            .field("Result", scan::describe(&e))
            .primary_button("Try again", "scan")
            .build(),
    }
}

fn home() -> Page {
    Page::builder("Scan probe")
        .primary_button("Scan", "scan")
        .button("QR only", "qr")
        .build()
}

impl App for ScanProbe {
    fn handle(&mut self, event: Event) -> Page {
        match event {
            Event::Launch(launch) => {
                if launch.query.iter().any(|f| f.name == "scan") {
                    return scanned(scan::scan_code("The code on the clinic's wall", &[]));
                }
                if launch.path != "/" && !launch.path.is_empty() {
                    let query: Vec<String> = launch
                        .query
                        .iter()
                        .map(|f| format!("{}={}", f.name, f.value))
                        .collect();
                    let shown = if query.is_empty() {
                        launch.path.clone()
                    } else {
                        format!("{}?{}", launch.path, query.join("&"))
                    };
                    return Page::builder("Opened").field("Path", shown).build();
                }
                home()
            }
            Event::Tap(action) if action == "scan" => {
                scanned(scan::scan_code("The code on the clinic's wall", &[]))
            }
            Event::Tap(action) if action == "qr" => {
                scanned(scan::scan_code("A QR code", &[CodeKind::Qr]))
            }
            _ => home(),
        }
    }
}

plaza_sdk::export_app!(ScanProbe);
