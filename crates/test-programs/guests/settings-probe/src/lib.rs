//! Expects `plaza:host/config` to answer declared settings (set, default, secret) and to refuse undeclared ones as data.
//!
//! A launch reads the setting named by each `name` query parameter (a
//! launch of `/?name=greeting&name=api-key`), in order, and answers the page
//! "Settings" (navigation `replace`) with one field per name: the label is
//! the name, the value is the setting's value or `<kind>: <message>` (the
//! host's error). It logs at info level how many it read, never a value.
//! Any other event answers the same page for the names of the last launch,
//! read again (within the same session).

use plaza_sdk::{App, Event, Page, config, log};

#[derive(Default)]
struct SettingsProbe {
    names: Vec<String>,
}

impl App for SettingsProbe {
    fn handle(&mut self, event: Event) -> Page {
        if let Event::Launch(launch) = &event {
            self.names = launch
                .query
                .iter()
                .filter(|f| f.name == "name")
                .map(|f| f.value.clone())
                .collect();
        }
        let mut page = Page::builder("Settings").replace();
        for name in &self.names {
            let shown = match config::get(name) {
                Ok(value) => value,
                Err(e) => e.to_string(),
            };
            page = page.field(name.clone(), shown);
        }
        log::info(&format!("read {} settings", self.names.len()));
        page.primary_button("Read again", "again").build()
    }
}

plaza_sdk::export_app!(SettingsProbe);
