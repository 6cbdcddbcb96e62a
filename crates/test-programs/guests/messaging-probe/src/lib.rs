//! Expects messaging to work: asks for subscriptions from taps, sends template messages, broadcasts to followers and replies to the user's messages, showing what the host answered.
//!
//! Every event answers the page "City Services" with buttons
//! `subscribe:fine-notice`, `subscribe:bill-due`, `subscribe:both` and
//! `reply`, and fields:
//! - after a subscription tap: `subscription <template>` = `accepted-once`,
//!   `accepted-long-term` or `rejected`, or `outcome` = `error <kind>: <msg>`;
//! - launch `/send` (query `template` and the template's fields): `outcome` =
//!   `ok <message id>` or `error <kind>: <msg>`;
//! - launch `/broadcast` (query `title`, `text`): `delivered`, `skipped`, or
//!   `outcome` = `error ...`;
//! - launch `/subscribe-on-launch`: tries to subscribe outside a tap;
//! - a chat message: `received` = its text; tap `reply`: `outcome` = `ok
//!   <id>` or `error ...` after replying "We got your message: <text>";
//! - a chat message starting with `poison`: panics (a message the app
//!   cannot take).

use plaza_sdk::messaging::{self, SubscriptionAnswer};
use plaza_sdk::{App, Event, FieldValue, HostError, Page, PageBuilder};

#[derive(Default)]
struct CityServices {
    last_message: String,
}

fn outcome(page: PageBuilder, r: Result<String, HostError>) -> PageBuilder {
    match r {
        Ok(id) => page.field("outcome", format!("ok {id}")),
        Err(e) => page.field("outcome", format!("error {e}")),
    }
}

fn subscribe(page: PageBuilder, ids: &[&str]) -> PageBuilder {
    let ids: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    match messaging::subscribe(&ids) {
        Ok(results) => results.into_iter().fold(page, |p, r| {
            let answer = match r.answer {
                SubscriptionAnswer::AcceptedOnce => "accepted-once",
                SubscriptionAnswer::AcceptedLongTerm => "accepted-long-term",
                SubscriptionAnswer::Rejected => "rejected",
            };
            p.field(format!("subscription {}", r.template_id), answer)
        }),
        Err(e) => page.field("outcome", format!("error {e}")),
    }
}

impl App for CityServices {
    fn handle(&mut self, event: Event) -> Page {
        let mut page = Page::builder("City Services").replace();
        match &event {
            Event::Launch(l) => match l.path_or_home() {
                "/send" => {
                    let template = l.query_param("template").unwrap_or_default().to_string();
                    let fields: Vec<FieldValue> = l
                        .query
                        .iter()
                        .filter(|q| q.name != "template")
                        .map(|q| FieldValue::new(q.name.as_str(), q.value.as_str()))
                        .collect();
                    page = outcome(page, messaging::send(&template, &fields));
                }
                "/broadcast" => {
                    let title = l.query_param("title").unwrap_or_default();
                    let text = l.query_param("text").unwrap_or_default();
                    page = match messaging::broadcast(title, text) {
                        Ok(r) => page
                            .field("delivered", r.delivered.to_string())
                            .field("skipped", r.skipped.to_string()),
                        Err(e) => page.field("outcome", format!("error {e}")),
                    };
                }
                "/subscribe-on-launch" => page = subscribe(page, &["bill-due"]),
                _ => {}
            },
            Event::Tap(action) => match action.as_str() {
                "subscribe:fine-notice" => page = subscribe(page, &["fine-notice"]),
                "subscribe:bill-due" => page = subscribe(page, &["bill-due"]),
                "subscribe:both" => page = subscribe(page, &["fine-notice", "bill-due"]),
                "reply" => {
                    let text = format!("We got your message: {}", self.last_message);
                    page = outcome(page, messaging::reply(&text));
                }
                _ => {}
            },
            Event::Chat(m) if m.text.starts_with("poison") => {
                panic!("messaging-probe cannot take this message on purpose");
            }
            Event::Chat(m) => {
                self.last_message = m.text.clone();
                page = page.field("received", m.text.as_str());
            }
            _ => {}
        }
        page.button("Traffic fines", "subscribe:fine-notice")
            .button("Water bills", "subscribe:bill-due")
            .button("Both", "subscribe:both")
            .button("Reply", "reply")
            .build()
    }
}

plaza_sdk::export_app!(CityServices);
