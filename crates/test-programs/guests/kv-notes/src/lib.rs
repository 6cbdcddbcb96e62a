//! Expects storage, log and clock to work: lists, writes and deletes keys, reports usage, the clock and a log line.
//!
//! A `hide` event adds one to the key `hidden-count`. Every event answers the
//! page "Notes" (navigation `replace`):
//!
//! - a notice, when the event did something: `success` "Saved <key>",
//!   "Deleted <key>", "Logged", or `error` "<kind>: <message>" with the host's
//!   error, or `info` "<key> was not there";
//! - after a tap on `now`: fields "Now" (unix ms) and "UTC offset" (minutes);
//! - per stored key, in byte order: a field (label the key, value the value as
//!   UTF-8, or "<N bytes>" if it is not UTF-8) and a button "Delete <key>"
//!   with action `del:<key>`;
//! - a field "Used" = "<used-bytes>/<quota-bytes>";
//! - the form `put`: inputs `key` (text), `value` (text) and `size` (number;
//!   when given, `size` bytes of `x` are stored instead of `value`), none of
//!   them required so that tests can send what they like;
//! - buttons "Now" (action `now`) and "Log" (action `log`).
//!
//! A tap on `log` writes "hello from kv-notes" at info level.

use plaza_sdk::{App, Event, InputKind, Page, PageBuilder, clock, log, storage};

#[derive(Default)]
struct KvNotes;

impl App for KvNotes {
    fn handle(&mut self, event: Event) -> Page {
        let mut page = Page::builder("Notes").replace();
        match &event {
            Event::Submit(submit) if submit.form == "put" => {
                let key = submit.field("key").unwrap_or_default();
                let size = submit.field("size").map(str::trim).unwrap_or_default();
                let value = if size.is_empty() {
                    Ok(submit
                        .field("value")
                        .unwrap_or_default()
                        .as_bytes()
                        .to_vec())
                } else {
                    size.parse::<usize>()
                        .map(|n| vec![b'x'; n])
                        .map_err(|_| format!("size is not a number: {size}"))
                };
                page = match value {
                    Ok(value) => match storage::set(key, &value) {
                        Ok(()) => page.success(format!("Saved {key}")),
                        Err(e) => page.error(e.to_string()),
                    },
                    Err(message) => page.error(message),
                };
            }
            Event::Submit(submit) => {
                page = page.error(format!("unknown form: {}", submit.form));
            }
            Event::Tap(action) => {
                if let Some(key) = action.strip_prefix("del:") {
                    page = match storage::delete(key) {
                        Ok(true) => page.success(format!("Deleted {key}")),
                        Ok(false) => page.info(format!("{key} was not there")),
                        Err(e) => page.error(e.to_string()),
                    };
                } else if action == "now" {
                    let now = clock::now();
                    page = page
                        .field("Now", now.unix_ms.to_string())
                        .field("UTC offset", now.utc_offset_minutes.to_string());
                } else if action == "log" {
                    log::info("hello from kv-notes");
                    page = page.success("Logged");
                } else {
                    page = page.error(format!("unknown action: {action}"));
                }
            }
            Event::Hide => {
                // Counts the hides it was given, so a test can see that an
                // evicted or closed session was told before it ended.
                let n = storage::get_string("hidden-count")
                    .ok()
                    .flatten()
                    .and_then(|s| s.parse::<u32>().ok())
                    .unwrap_or(0);
                let _ = storage::set_string("hidden-count", &(n + 1).to_string());
            }
            _ => {}
        }
        notes(page).build()
    }
}

/// Adds the stored notes, the usage and the controls to `page`.
fn notes(mut page: PageBuilder) -> PageBuilder {
    match storage::list_keys("", storage::MAX_LIST_KEYS) {
        Ok(keys) => {
            for key in keys {
                let shown = match storage::get(&key) {
                    Ok(Some(bytes)) => match String::from_utf8(bytes) {
                        Ok(text) => text,
                        Err(e) => format!("<{} bytes>", e.as_bytes().len()),
                    },
                    Ok(None) => "<gone>".to_string(),
                    Err(e) => e.to_string(),
                };
                page = page
                    .field(key.as_str(), shown)
                    .button(format!("Delete {key}"), format!("del:{key}"));
            }
        }
        Err(e) => page = page.error(e.to_string()),
    }
    let used = match storage::usage() {
        Ok(usage) => format!("{}/{}", usage.used_bytes, usage.quota_bytes),
        Err(e) => e.to_string(),
    };
    page.field("Used", used)
        .input("put", "key", InputKind::Text, "Key")
        .input("put", "value", InputKind::Text, "Value")
        .input(
            "put",
            "size",
            InputKind::Number,
            "Size in bytes (instead of the value)",
        )
        .button("Now", "now")
        .button("Log", "log")
}

plaza_sdk::export_app!(KvNotes);
