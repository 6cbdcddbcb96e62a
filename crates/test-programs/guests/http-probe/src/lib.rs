//! Expects outbound HTTP through wasi:http only to the origins its manifest lists, within the session's limits, with the host's identity header.
//!
//! At launch, the query says what to send (values percent-encoded):
//!
//! - `url`: the URL;
//! - `n`: how many copies to send at once (default 1), all in flight
//!   together before any response is read;
//! - `method` (default `GET`), `body`: a body of that many bytes of `x`;
//! - `header`: `name:value`, a header to add;
//! - `follow`: how many redirects to follow, as a client library would
//!   (default 0).
//!
//! It answers the page "HTTP probe" with, for each copy `i` from 1, the field
//! `request i`: `ok <status> <n> bytes` or `<error kind>: <message>`, and the
//! field `body i`: the start of the body (2,000 characters). Following
//! redirects adds a field `hop k`: `<status> <location>` for each redirect
//! followed.
//!
//! The handle leaker: launched with `?leak=N`, it offers the tap
//! `leak-fields:N`, which makes N `wasi:http` `fields`, each holding one
//! header of 15,000 bytes (`leak-fields:N:SIZE` for another size), and keeps
//! them all, event after event. Its page says how many it holds.

use plaza_sdk::http::{self, Request};
use plaza_sdk::{App, Event, Page};
use wasip2::http::types::Fields;

#[derive(Default)]
struct HttpProbe {
    /// The `fields` the leaker keeps.
    leaked: Vec<Fields>,
}

impl HttpProbe {
    fn leaker_page(&self, offer: &str, error: Option<String>) -> Page {
        let mut page = Page::builder("Leaker").field("fields held", self.leaked.len().to_string());
        if let Some(e) = error {
            page = page.field("error", e);
        }
        page.button("Leak more", offer).build()
    }
}

impl App for HttpProbe {
    fn handle(&mut self, event: Event) -> Page {
        if let Some(n) = event.query_param("leak") {
            return self.leaker_page(&format!("leak-fields:{n}"), None);
        }
        if let Some(action) = event.action()
            && let Some(spec) = action.strip_prefix("leak-fields:")
        {
            let mut parts = spec.split(':');
            let n: usize = parts.next().and_then(|v| v.parse().ok()).unwrap_or(1);
            let size: usize = parts.next().and_then(|v| v.parse().ok()).unwrap_or(15_000);
            let mut error = None;
            for _ in 0..n {
                match Fields::from_list(&[("x-leak".to_string(), vec![b'x'; size])]) {
                    Ok(f) => self.leaked.push(f),
                    Err(e) => {
                        error = Some(format!("{e:?}"));
                        break;
                    }
                }
            }
            return self.leaker_page(action, error);
        }
        let Some(url) = event.query_param("url") else {
            return Page::builder("HTTP probe")
                .text("launch with ?url=...")
                .build();
        };
        let n: usize = event
            .query_param("n")
            .and_then(|v| v.parse().ok())
            .unwrap_or(1);
        let follow: usize = event
            .query_param("follow")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut request = Request::get(url);
        if let Some(m) = event.query_param("method") {
            request.method = m.to_string();
        }
        if let Some(size) = event
            .query_param("body")
            .and_then(|v| v.parse::<usize>().ok())
        {
            request.body = vec![b'x'; size];
        }
        if let Some((name, value)) = event.query_param("header").and_then(|h| h.split_once(':')) {
            request = request.header(name.trim(), value.trim());
        }
        let mut page = Page::builder("HTTP probe");
        let mut results = http::send_all(&vec![request.clone(); n.max(1)]);
        // Follow redirects of the first request, as a client library does:
        // each hop is a new request, which the host checks again.
        let mut hops = 0;
        while hops < follow {
            let Some(Ok(r)) = results.first() else { break };
            if !(300..400).contains(&r.status) {
                break;
            }
            let Some(location) = r.header("location") else {
                break;
            };
            hops += 1;
            page = page.field(format!("hop {hops}"), format!("{} {location}", r.status));
            results[0] = http::send(&Request::get(location));
        }
        for (i, result) in results.iter().enumerate() {
            let (outcome, body) = match result {
                Ok(r) => (
                    format!("ok {} {} bytes", r.status, r.body.len()),
                    r.text().chars().take(2000).collect::<String>(),
                ),
                Err(e) => (e.to_string(), String::new()),
            };
            page = page
                .field(format!("request {}", i + 1), outcome)
                .field(format!("body {}", i + 1), body);
        }
        page.build()
    }
}

plaza_sdk::export_app!(HttpProbe);
