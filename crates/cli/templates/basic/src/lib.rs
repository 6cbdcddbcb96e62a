//! {{display_name}}: a Plaza mini-app.
//!
//! The host delivers one event at a time (a launch, a tap, a form submit)
//! and shows the page `handle` answers. Fields of the struct live as long as
//! the session; what must survive it goes to `storage`.

use plaza_sdk::{App, Event, InputKind, Page, PageBuilder, log, storage};

/// Notes are stored under `note:<number>`; the visit count under `visits`.
const NOTE_PREFIX: &str = "note:";

#[derive(Default)]
struct Notes {
    /// Whether this session counted its visit yet (memory of the session).
    counted: bool,
}

impl App for Notes {
    fn handle(&mut self, event: Event) -> Page {
        match &event {
            Event::Launch(_) => {
                if !self.counted {
                    self.counted = true;
                    let visits = read_number("visits") + 1;
                    if let Err(e) = storage::set_string("visits", &visits.to_string()) {
                        log::warn(&format!("could not count the visit: {e}"));
                    }
                }
                home().build()
            }
            Event::Submit(submit) if submit.form == "note" => {
                let text = submit.field("text").unwrap_or("").trim();
                if text.is_empty() {
                    return home().warning("Type a note first.").replace().build();
                }
                let number = read_number("next-note") + 1;
                let saved = storage::set_string(&format!("{NOTE_PREFIX}{number:06}"), text)
                    .and_then(|()| storage::set_string("next-note", &number.to_string()));
                match saved {
                    Ok(()) => home().success("Saved your note.").replace().build(),
                    // A denial is data, not a crash: show it (a full quota, say).
                    Err(e) => home()
                        .error(format!("Your note was not saved: {e}"))
                        .replace()
                        .build(),
                }
            }
            Event::Tap(action) if action == "clear" => {
                let keys = storage::list_keys(NOTE_PREFIX, storage::MAX_LIST_KEYS).unwrap_or_default();
                for key in &keys {
                    let _ = storage::delete(key);
                }
                log::info(&format!("cleared {} notes", keys.len()));
                home().info("Your notes are cleared.").replace().build()
            }
            _ => home().replace().build(),
        }
    }
}

/// The home page: the visit count, the notes, a form to add one.
fn home() -> PageBuilder {
    let mut page = Page::builder("{{display_name}}")
        .field("Visits", read_number("visits").to_string())
        .heading("Your notes");
    let keys = storage::list_keys(NOTE_PREFIX, storage::MAX_LIST_KEYS).unwrap_or_default();
    if keys.is_empty() {
        page = page.text("No notes yet.");
    }
    for key in keys {
        if let Ok(Some(text)) = storage::get_string(&key) {
            page = page.item(text, "", None);
        }
    }
    page = page
        .input("note", "text", InputKind::Text, "New note")
        .required();
    if read_number("next-note") > 0 {
        page = page.danger_button("Clear notes", "clear");
    }
    page
}

/// A number kept in storage as text; 0 when absent.
fn read_number(key: &str) -> u64 {
    storage::get_string(key)
        .ok()
        .flatten()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

plaza_sdk::export_app!(Notes);
