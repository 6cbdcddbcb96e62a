//! {{display_name}}: order, pay through the host's payment capability, see
//! the receipt and the payment history, cancel for a refund.
//!
//! Amounts are in minor units (fen for CNY). The order id is the mini-app's
//! own: paying the same order again returns the first receipt, so a retry
//! never charges twice.

use plaza_sdk::payment::{self, LineItem, PaymentOutcome, PaymentRequest, Receipt};
use plaza_sdk::{App, Event, Page, PageBuilder, identity, log, storage};

/// What the shop sells: id, name, price in fen.
const MENU: [(&str, &str, u64); 2] = [
    ("tea", "Longjing tea, 100 g", 6800),
    ("cup", "Celadon tea cup", 2500),
];

#[derive(Default)]
struct Shop;

impl App for Shop {
    fn handle(&mut self, event: Event) -> Page {
        let action = event.action().unwrap_or("");
        if let Some(item) = action.strip_prefix("buy:") {
            return buy(item);
        }
        if let Some(order) = action.strip_prefix("refund:") {
            return refund(order);
        }
        match action {
            "orders" => orders(),
            _ => home().build(),
        }
    }
}

fn home() -> PageBuilder {
    let mut page = Page::builder("{{display_name}}");
    // The host asks the user's consent at the first call and remembers it.
    if let Ok(profile) = identity::profile() {
        page = page.text(format!("Welcome, {}.", profile.nickname));
    }
    for (id, name, price) in MENU {
        page = page.link(name, money(price), format!("buy:{id}"));
    }
    page.button("My orders", "orders")
}

/// Asks the user to pay for one item and shows the receipt.
fn buy(item: &str) -> Page {
    let Some((id, name, price)) = MENU.into_iter().find(|(id, _, _)| *id == item) else {
        return home().error(format!("There is no item `{item}`.")).build();
    };
    // A new order id per order; kept so the order can be found again.
    let number = storage::get_string("next-order")
        .ok()
        .flatten()
        .and_then(|n| n.parse::<u32>().ok())
        .unwrap_or(0)
        + 1;
    let order_id = format!("{id}-{number:04}");
    let request = PaymentRequest {
        order_id: order_id.clone(),
        amount: price,
        currency: "CNY".to_string(),
        description: name.to_string(),
        items: vec![LineItem {
            name: name.to_string(),
            quantity: 1,
            unit_price: price,
            insurance_eligible: false,
        }],
    };
    match payment::request(&request) {
        Ok(PaymentOutcome::Paid(receipt)) => {
            let _ = storage::set_string("next-order", &number.to_string());
            log::info(&format!("order {order_id} paid: {}", receipt.transaction_id));
            receipt_page(&receipt).build()
        }
        Ok(PaymentOutcome::Declined) | Ok(PaymentOutcome::Cancelled) => home()
            .warning("You did not pay. Nothing was charged.")
            .replace()
            .build(),
        Ok(PaymentOutcome::TimedOut) => home()
            .warning("The payment timed out. Nothing was charged; please try again.")
            .replace()
            .build(),
        Ok(PaymentOutcome::InsufficientFunds(f)) => home()
            .error(format!(
                "Your wallet does not hold the {} needed. Top up your wallet and try again.",
                money(f.needed)
            ))
            .replace()
            .build(),
        // A denial is data: the host's policy, a malformed request.
        Err(e) => home().error(format!("The payment failed: {e}")).replace().build(),
    }
}

fn receipt_page(r: &Receipt) -> PageBuilder {
    Page::builder("Receipt")
        .replace()
        .success("Paid. Thank you!")
        .field("Order", &r.order_id)
        .field("Paid", money(r.amount))
        .field("Payee", &r.payee)
        .field("Transaction", &r.transaction_id)
        .danger_button("Cancel and refund", format!("refund:{}", r.order_id))
        .button("My orders", "orders")
}

/// The user's payments to this mini-app, newest first, from the host.
fn orders() -> Page {
    let mut page = Page::builder("My orders");
    match payment::history(None, 20) {
        Ok(history) if history.payments.is_empty() => page = page.text("No orders yet."),
        Ok(history) => {
            for p in history.payments {
                let state = if p.refunded == 0 {
                    "paid".to_string()
                } else {
                    format!("refunded {}", money(p.refunded))
                };
                page = page.item(
                    format!("{} {}", p.receipt.order_id, money(p.receipt.amount)),
                    state,
                    None,
                );
            }
        }
        Err(e) => page = page.error(format!("Your orders cannot be shown: {e}")),
    }
    page.button("Back to the shop", "home").build()
}

/// Refunds the whole of an order (the host refuses more than was paid).
fn refund(order_id: &str) -> Page {
    let page = Page::builder("Refund").replace();
    let paid = match payment::query(order_id) {
        Ok(record) => record.receipt.amount - record.refunded,
        Err(e) => return page.error(format!("No such order: {e}")).build(),
    };
    match payment::refund(order_id, paid, "cancelled by the customer") {
        Ok(r) => page
            .success(format!("{} was refunded to your wallet.", money(r.amount)))
            .field("Order", order_id)
            .button("My orders", "orders")
            .build(),
        Err(e) => page.error(format!("The refund failed: {e}")).build(),
    }
}

/// `CNY 68.00` for 6800 fen.
fn money(fen: u64) -> String {
    format!("CNY {}.{:02}", fen / 100, fen % 100)
}

plaza_sdk::export_app!(Shop);
