//! Expects to be refused at install: it imports `plaza:host/storage@0.1.1` but its manifest declares only `log`.
//!
//! Were it ever run, it would answer the page "Undeclared storage" with a
//! field `storage.get` (`ok: <found or none>` or `err: <kind>: <message>`).

use plaza_sdk::{App, Event, Page, storage};

#[derive(Default)]
struct UndeclaredStorage;

impl App for UndeclaredStorage {
    fn handle(&mut self, _event: Event) -> Page {
        let value = match storage::get("anything") {
            Ok(Some(bytes)) => format!("ok: {} bytes", bytes.len()),
            Ok(None) => "ok: none".to_string(),
            Err(e) => format!("err: {e}"),
        };
        Page::builder("Undeclared storage")
            .field("storage.get", value)
            .build()
    }
}

plaza_sdk::export_app!(UndeclaredStorage);
