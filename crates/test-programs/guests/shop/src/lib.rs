//! Expects a commerce publisher's request for the customer's real name to be denied without asking the customer.
//!
//! On launch it answers the page "Corner Shop" with the field `real-name`:
//! `name|id-number|verified`, or `<kind>: <message>` when the host refused;
//! tap `phone` adds the field `phone` (a scope commerce publishers may ask
//! for, with the customer's consent).

use plaza_sdk::{App, Event, HostError, Page, identity};

#[derive(Default)]
struct Shop;

fn shown<T>(result: Result<T, HostError>, show: impl FnOnce(T) -> String) -> String {
    match result {
        Ok(v) => show(v),
        Err(e) => e.to_string(),
    }
}

impl App for Shop {
    fn handle(&mut self, event: Event) -> Page {
        let mut page = Page::builder("Corner Shop").replace().field(
            "real-name",
            shown(identity::real_name(), |r| {
                format!("{}|{}|{}", r.name, r.id_number, r.verified)
            }),
        );
        if event.action() == Some("phone") {
            page = page.field("phone", shown(identity::phone(), |p| p));
        }
        page.button("Ready-for-pickup message", "phone").build()
    }
}

plaza_sdk::export_app!(Shop);
