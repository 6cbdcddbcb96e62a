//! Expects identity, payment and messaging, declared in its manifest, to link and to answer the host's errors as data (or `ok`) rather than trap.
//!
//! On any event it answers the page "Future capabilities" with one field per
//! call, in this order: `identity.openid`, `payment.request` (100 fen CNY,
//! order id "future-caps-1", one item) and `messaging.reply`; each value is
//! `ok` or `<kind>: <message>` (the host's error).

use plaza_sdk::payment::{LineItem, PaymentRequest};
use plaza_sdk::{App, Event, HostError, Page, identity, messaging, payment};

#[derive(Default)]
struct FutureCaps;

fn outcome<T>(result: Result<T, HostError>) -> String {
    match result {
        Ok(_) => "ok".to_string(),
        Err(e) => e.to_string(),
    }
}

impl App for FutureCaps {
    fn handle(&mut self, _event: Event) -> Page {
        let request = PaymentRequest {
            order_id: "future-caps-1".into(),
            amount: 100,
            currency: "CNY".into(),
            description: "Test payment".into(),
            items: vec![LineItem {
                name: "Test item".into(),
                quantity: 1,
                unit_price: 100,
                insurance_eligible: false,
            }],
        };
        Page::builder("Future capabilities")
            .replace()
            .field("identity.openid", outcome(identity::openid()))
            .field("payment.request", outcome(payment::request(&request)))
            .field("messaging.reply", outcome(messaging::reply("hello")))
            .build()
    }
}

plaza_sdk::export_app!(FutureCaps);
