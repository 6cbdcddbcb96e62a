//! Expects the host's UI to show pages as data: every block carries markup and script that must appear as literal text; also shows a build mark, a stored visit counter and the clock.
//!
//! Every event answers the page `<b>Probe</b><script>window.plazaInjected=1</script>`
//! (navigation `replace`) with, in order:
//!
//! - the heading `<h1 id="injected-heading">Injected</h1>`;
//! - the text `<script>window.plazaInjected = 2</script>` and the text
//!   `<img src=x onerror="window.plazaInjected=3">`;
//! - the field "Build" = `BUILD` (the constant below: the simulator's watch
//!   test rewrites it), the field "Visits" = the count of launches, taps,
//!   submissions and chat messages of this user (`hide` and `resume` do not
//!   count), kept in storage (key `visits`), and the field "Now" = the
//!   clock's unix ms;
//! - a field whose label is `<i>label</i>` and value
//!   `<a href="javascript:window.plazaInjected=4">value</a>`;
//! - a tappable item titled `<u onclick="window.plazaInjected=5">item</u>`
//!   (action `again`), a button labelled
//!   `<svg onload="window.plazaInjected=6">` (action `again`);
//! - a warning notice `</div><script>window.plazaInjected=7</script>`;
//! - the form `note` with a text input `text` labelled
//!   `<iframe src="javascript:window.plazaInjected=8">`; a submitted note
//!   is shown back as a text block `You wrote: <note>`.
//!
//! A launch with the query `image=URL` answers instead the page "Image"
//! with one image block of that URL (alt `probe image`) and a button
//! `again`: the host must refuse it unless the URL is an asset of the
//! package (the fixture has `assets/probe.png`, a 4×4 PNG) or from an origin
//! the manifest declares for images (it declares none).

use plaza_sdk::{App, Event, InputKind, Page, clock, storage};

/// Which build this is (the watch test changes it in a copy of this crate).
const BUILD: &str = "build-one";

#[derive(Default)]
struct Probe;

impl App for Probe {
    fn handle(&mut self, event: Event) -> Page {
        if let Some(url) = event.query_param("image") {
            return Page::builder("Image")
                .replace()
                .image(url, "probe image")
                .button("Again", "again")
                .build();
        }
        let counted = !matches!(event, Event::Hide | Event::Resume);
        let visits = storage::get_string("visits")
            .ok()
            .flatten()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
            + u64::from(counted);
        if counted {
            let _ = storage::set_string("visits", &visits.to_string());
        }
        let mut page = Page::builder("<b>Probe</b><script>window.plazaInjected=1</script>")
            .replace()
            .heading(r#"<h1 id="injected-heading">Injected</h1>"#)
            .text("<script>window.plazaInjected = 2</script>")
            .text(r#"<img src=x onerror="window.plazaInjected=3">"#)
            .field("Build", BUILD)
            .field("Visits", visits.to_string())
            .field("Now", clock::now().unix_ms.to_string())
            .field(
                "<i>label</i>",
                r#"<a href="javascript:window.plazaInjected=4">value</a>"#,
            )
            .link(r#"<u onclick="window.plazaInjected=5">item</u>"#, "", "again")
            .button(r#"<svg onload="window.plazaInjected=6">"#, "again")
            .warning("</div><script>window.plazaInjected=7</script>")
            .input(
                "note",
                "text",
                InputKind::Text,
                r#"<iframe src="javascript:window.plazaInjected=8">"#,
            );
        if let Event::Submit(s) = &event {
            page = page.text(format!("You wrote: {}", s.field("text").unwrap_or_default()));
        }
        page.build()
    }
}

plaza_sdk::export_app!(Probe);
