//! Expects payments to work: pays, refunds, queries and lists payments as each launch path and query say, and shows what the host answered.
//!
//! Every launch answers the page "Cashier" with fields; the first is
//! `outcome`: `paid`, `declined`, `timed-out`, `cancelled`,
//! `insufficient-funds <needed> <available>`, `refunded`, `found`, `listed`,
//! or `error <kind>: <message>` for a host error. A paid receipt adds
//! `transaction`, `order`, `amount`, `wallet part`, `insurance part`, `payee`,
//! `paid at`, `signature`; a refund adds `transaction`, `amount`,
//! `wallet part`, `insurance part`; a query adds the receipt fields and
//! `refunded`; a history adds `payment 1`, `payment 2`, ... (`<order>
//! <amount> refunded <n>`) and `next cursor`.
//!
//! Paths (query parameters in brackets):
//! - `/pay` (order, amount): one line item, not insurance-eligible;
//! - `/pay-insured` (order, eligible, other): an eligible item and, if
//!   `other` > 0, an ineligible one;
//! - `/pay-as` (order, amount, description): a description of its choosing
//!   (to try to disguise the payee);
//! - `/pay-usd` (order): 100 in USD; `/pay-mismatch` (order): amount 100,
//!   items adding up to 90;
//! - `/pay-then-trap` (order, amount): pays, then panics;
//! - `/refund` (order, amount, and a `refund_id` to refund once for it:
//!   `refunds.refund`); `/query` (order); `/history` (limit, cursor);
//! - `/pay-loop` (order, amount, times): asks `times` times (default 5) to
//!   pay the order, then once for the order `<order>-2`, stopping at the
//!   first `paid`; the fields `try 1`, `try 2`, ... and `other` show each
//!   answer (`outcome` is the first). A prompt storm: it runs at its launch,
//!   at its tap `pay` and when the mini-app is hidden.
//!
//! A payment must come from the user's tap: a launch of a payment path
//! (other than `/pay-loop`) pays nothing and answers `outcome` = `ready`
//! with the button `pay`, whose tap makes the payment the launch named.

use plaza_sdk::payment::{self, LineItem, PaymentOutcome, PaymentRequest, Receipt};
use plaza_sdk::{App, Event, HostError, Page, PageBuilder};

#[derive(Default)]
struct Cashier {
    /// The payment path and query the last launch named, for the tap `pay`.
    pending: (String, Vec<(String, String)>),
}

fn item(name: &str, price: u64, eligible: bool) -> LineItem {
    LineItem {
        name: name.to_string(),
        quantity: 1,
        unit_price: price,
        insurance_eligible: eligible,
    }
}

fn request(order: &str, amount: u64, currency: &str, description: &str, items: Vec<LineItem>) -> PaymentRequest {
    PaymentRequest {
        order_id: order.to_string(),
        amount,
        currency: currency.to_string(),
        description: description.to_string(),
        items,
    }
}

fn receipt(page: PageBuilder, r: &Receipt) -> PageBuilder {
    page.field("transaction", r.transaction_id.as_str())
        .field("order", r.order_id.as_str())
        .field("amount", r.amount.to_string())
        .field("wallet part", r.wallet_part.to_string())
        .field("insurance part", r.insurance_part.to_string())
        .field("payee", r.payee.as_str())
        .field("paid at", r.paid_at_ms.to_string())
        .field("signature", r.signature.as_str())
}

fn outcome(page: PageBuilder, result: Result<PaymentOutcome, HostError>) -> PageBuilder {
    match result {
        Ok(PaymentOutcome::Paid(r)) => receipt(page.field("outcome", "paid"), &r),
        Ok(PaymentOutcome::Declined) => page.field("outcome", "declined"),
        Ok(PaymentOutcome::TimedOut) => page.field("outcome", "timed-out"),
        Ok(PaymentOutcome::Cancelled) => page.field("outcome", "cancelled"),
        Ok(PaymentOutcome::InsufficientFunds(f)) => page.field(
            "outcome",
            format!("insufficient-funds {} {}", f.needed, f.available),
        ),
        Err(e) => page.field("outcome", format!("error {e}")),
    }
}

/// The one-word answer to a payment request (or `error <kind>: <message>`).
fn answer(result: &Result<PaymentOutcome, HostError>) -> String {
    match result {
        Ok(PaymentOutcome::Paid(_)) => "paid".to_string(),
        Ok(PaymentOutcome::Declined) => "declined".to_string(),
        Ok(PaymentOutcome::TimedOut) => "timed-out".to_string(),
        Ok(PaymentOutcome::Cancelled) => "cancelled".to_string(),
        Ok(PaymentOutcome::InsufficientFunds(_)) => "insufficient-funds".to_string(),
        Err(e) => format!("error {e}"),
    }
}

impl App for Cashier {
    fn handle(&mut self, event: Event) -> Page {
        let page = Page::builder("Cashier").replace();
        let (path, query) = match &event {
            Event::Launch(l) => (
                l.path_or_home().to_string(),
                l.query.iter().map(|f| (f.name.clone(), f.value.clone())).collect(),
            ),
            Event::Tap(a) if a == "pay" => self.pending.clone(),
            Event::Hide if self.pending.0 == "/pay-loop" => self.pending.clone(),
            _ => ("/".to_string(), Vec::new()),
        };
        if matches!(event, Event::Launch(_)) && path.starts_with("/pay") {
            self.pending = (path.clone(), query.clone());
            if path != "/pay-loop" {
                return page.field("outcome", "ready").button("Pay", "pay").build();
            }
        }
        let q = |name: &str| {
            query.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default()
        };
        let n = |name: &str| q(name).parse::<u64>().unwrap_or(0);
        let order = q("order");
        let page = match path.as_str() {
            "/pay-loop" => {
                let pay = |order: &str| payment::request(&request(order, n("amount"), "CNY", "Service", vec![item("Service", n("amount"), false)]));
                let times = if q("times").is_empty() { 5 } else { n("times") };
                let mut page = page;
                let mut paid = false;
                for i in 1..=times {
                    let result = pay(&order);
                    paid = matches!(result, Ok(PaymentOutcome::Paid(_)));
                    let word = answer(&result);
                    if i == 1 {
                        page = outcome(page, result);
                    }
                    page = page.field(format!("try {i}"), word);
                    if paid {
                        break;
                    }
                }
                if !paid {
                    page = page.field("other", answer(&pay(&format!("{order}-2"))));
                }
                page
            }
            "/pay" => outcome(page, payment::request(&request(&order, n("amount"), "CNY", "Service", vec![item("Service", n("amount"), false)]))),
            "/pay-insured" => {
                let mut items = vec![item("Consultation", n("eligible"), true)];
                if n("other") > 0 {
                    items.push(item("Parking", n("other"), false));
                }
                let total = n("eligible") + n("other");
                outcome(page, payment::request(&request(&order, total, "CNY", "Consultation bill", items)))
            }
            "/pay-as" => outcome(page, payment::request(&request(&order, n("amount"), "CNY", &q("description"), vec![item("Service", n("amount"), false)]))),
            "/pay-usd" => outcome(page, payment::request(&request(&order, 100, "USD", "Dollars", vec![item("Service", 100, false)]))),
            "/pay-mismatch" => outcome(page, payment::request(&request(&order, 100, "CNY", "Short bill", vec![item("Service", 90, false)]))),
            "/pay-then-trap" => {
                let _ = payment::request(&request(&order, n("amount"), "CNY", "Service", vec![item("Service", n("amount"), false)]));
                panic!("cashier trapped after paying on purpose");
            }
            "/refund" => match match q("refund_id").as_str() {
                "" => payment::refund(&order, n("amount"), "test refund"),
                id => payment::refund_once(&order, id, n("amount"), "test refund"),
            } {
                Ok(r) => page
                    .field("outcome", "refunded")
                    .field("transaction", r.transaction_id.as_str())
                    .field("amount", r.amount.to_string())
                    .field("wallet part", r.wallet_part.to_string())
                    .field("insurance part", r.insurance_part.to_string()),
                Err(e) => page.field("outcome", format!("error {e}")),
            },
            "/query" => match payment::query(&order) {
                Ok(p) => receipt(page.field("outcome", "found"), &p.receipt).field("refunded", p.refunded.to_string()),
                Err(e) => page.field("outcome", format!("error {e}")),
            },
            "/history" => {
                let cursor = q("cursor");
                let cursor = (!cursor.is_empty()).then_some(cursor.as_str());
                match payment::history(cursor, n("limit") as u32) {
                    Ok(h) => {
                        let mut page = page.field("outcome", "listed");
                        for (i, p) in h.payments.iter().enumerate() {
                            page = page.field(
                                format!("payment {}", i + 1),
                                format!("{} {} refunded {}", p.receipt.order_id, p.receipt.amount, p.refunded),
                            );
                        }
                        page.field("next cursor", h.next_cursor.unwrap_or_default())
                    }
                    Err(e) => page.field("outcome", format!("error {e}")),
                }
            }
            _ => page.field("outcome", "ready"),
        };
        page.button("Pay", "pay").build()
    }
}

plaza_sdk::export_app!(Cashier);
