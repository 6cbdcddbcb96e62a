//! Expects `plaza:host/media` to ask the user only during a tap, to keep what the user chose after checking its content, size and quota, and to answer refusals and cancellations as data.
//!
//! A launch answers the page "Media probe" with the buttons `image`
//! (choose-image from either source, purpose "The ID card, front side"),
//! `pdf` (choose-file for PDF, purpose "The certificate") and `fill`
//! (stores a 3,000-byte value under `fill` in storage). A launch with the
//! query `pick=1` calls choose-image at once (outside a tap); `read=ID`
//! reads the file `ID`; `delete=ID` deletes it. Every answer is the page
//! "Media" with the field "Result": `ok` or the error as
//! `<kind>: <message>` (`cancelled` alone), and for a file chosen the
//! fields "Id", "Kind", "Size", "Name" and the image `media:ID` (alt
//! "Chosen"); for a read, "Bytes" (its length) and "Start" (its first
//! three bytes in hex); for a delete, "Deleted" (`true`/`false`).

use plaza_sdk::media::{self, MediaError, MediaKind, Source};
use plaza_sdk::{App, Event, Page, PageBuilder, storage};

#[derive(Default)]
struct MediaProbe;

fn result(e: &MediaError) -> String {
    media::describe(e)
}

fn chosen(answer: Result<media::Handle, MediaError>) -> Page {
    let page = Page::builder("Media");
    match answer {
        Ok(h) => page
            .field("Result", "ok")
            .field("Id", h.id.clone())
            .field(
                "Kind",
                match h.kind {
                    MediaKind::Jpeg => "jpeg",
                    MediaKind::Png => "png",
                    MediaKind::Pdf => "pdf",
                },
            )
            .field("Size", h.size.to_string())
            .field("Name", h.name)
            .image(media::image_url(&h.id), "Chosen")
            .primary_button("Another", "image")
            .build(),
        Err(e) => page
            .field("Result", result(&e))
            .primary_button("Try again", "image")
            .build(),
    }
}

fn home() -> PageBuilder {
    Page::builder("Media probe")
        .primary_button("Photo", "image")
        .button("PDF", "pdf")
        .button("Fill", "fill")
}

impl App for MediaProbe {
    fn handle(&mut self, event: Event) -> Page {
        match event {
            Event::Launch(launch) => {
                let q = |name: &str| {
                    launch
                        .query
                        .iter()
                        .find(|f| f.name == name)
                        .map(|f| f.value.clone())
                };
                if q("pick").is_some() {
                    return chosen(media::choose_image(Source::Either, "The ID card, front side"));
                }
                if let Some(id) = q("read") {
                    return match media::read(&id) {
                        Ok(bytes) => {
                            let start: String =
                                bytes.iter().take(3).map(|b| format!("{b:02x}")).collect();
                            Page::builder("Media")
                                .field("Result", "ok")
                                .field("Bytes", bytes.len().to_string())
                                .field("Start", start)
                                .build()
                        }
                        Err(e) => Page::builder("Media").field("Result", result(&e)).build(),
                    };
                }
                if let Some(id) = q("delete") {
                    return match media::delete(&id) {
                        Ok(deleted) => Page::builder("Media")
                            .field("Result", "ok")
                            .field("Deleted", deleted.to_string())
                            .build(),
                        Err(e) => Page::builder("Media").field("Result", result(&e)).build(),
                    };
                }
                home().build()
            }
            Event::Tap(action) if action == "image" => {
                chosen(media::choose_image(Source::Either, "The ID card, front side"))
            }
            Event::Tap(action) if action == "pdf" => {
                chosen(media::choose_file(&[MediaKind::Pdf], "The certificate"))
            }
            Event::Tap(action) if action == "fill" => {
                let shown = match storage::set("fill", &[7u8; 3000]) {
                    Ok(()) => "ok".to_string(),
                    Err(e) => e.to_string(),
                };
                Page::builder("Media").field("Result", shown).build()
            }
            _ => home().build(),
        }
    }
}

plaza_sdk::export_app!(MediaProbe);
