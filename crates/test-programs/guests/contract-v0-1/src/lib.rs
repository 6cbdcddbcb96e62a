//! Expects a host of a later contract to install and run a component built against `plaza:host@0.1.0` (`host-api/wit-0.1.0`, the contract as released): it exports `app` and imports `storage@0.1.0`.
//!
//! Every launch and tap counts a visit in storage (key `visits`) and
//! answers the page "Old contract" (navigation replace): the field "Path"
//! (the launch's path, or the last one), the field "Visits", the form
//! `note` with a required text input `text`, a tappable item `again` and a
//! button `again`. A submission answers the same page with the field "Note"
//! = the text submitted.

wit_bindgen::generate!({
    path: "../../../../host-api/wit-0.1.0",
    world: "plaza:host/mini-app",
});

use exports::plaza::host::app::{
    Block, Button, ButtonStyle, Event, Guest, Input, InputKind, KeyValue, ListItem, Navigation,
    Page,
};
use plaza::host::storage;
use std::cell::RefCell;

thread_local! {
    static PATH: RefCell<String> = const { RefCell::new(String::new()) };
}

struct OldApp;

fn visit() -> u32 {
    let n = storage::get("visits")
        .ok()
        .flatten()
        .and_then(|v| String::from_utf8(v).ok())
        .and_then(|v| v.parse::<u32>().ok())
        .unwrap_or(0)
        + 1;
    let _ = storage::set("visits", n.to_string().as_bytes());
    n
}

fn page(visits: Option<u32>, note: Option<String>) -> Page {
    let field = |label: &str, value: String| {
        Block::Field(KeyValue {
            label: label.into(),
            value,
        })
    };
    let mut blocks = vec![field("Path", PATH.with(|p| p.borrow().clone()))];
    if let Some(v) = visits {
        blocks.push(field("Visits", v.to_string()));
    }
    if let Some(n) = note {
        blocks.push(field("Note", n));
    }
    blocks.push(Block::Input(Input {
        form: "note".into(),
        name: "text".into(),
        kind: InputKind::Text,
        label: "Note".into(),
        value: String::new(),
        required: true,
    }));
    blocks.push(Block::Item(ListItem {
        title: "Again".into(),
        detail: String::new(),
        action: Some("again".into()),
    }));
    blocks.push(Block::Button(Button {
        label: "Again".into(),
        action: "again".into(),
        style: ButtonStyle::Primary,
    }));
    Page {
        title: "Old contract".into(),
        blocks,
        navigation: Navigation::Replace,
    }
}

impl Guest for OldApp {
    fn handle(event: Event) -> Page {
        match event {
            Event::Launch(launch) => {
                PATH.with(|p| *p.borrow_mut() = launch.path);
                page(Some(visit()), None)
            }
            Event::Tap(_) => page(Some(visit()), None),
            Event::Submit(submit) => page(
                None,
                submit
                    .fields
                    .into_iter()
                    .find(|f| f.name == "text")
                    .map(|f| f.value),
            ),
            _ => page(None, None),
        }
    }
}

export!(OldApp);
