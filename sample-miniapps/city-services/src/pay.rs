//! Paying the city: a traffic fine or a utility bill. Each has a fixed order
//! id (the fine's decision number, the bill's utility, account and month),
//! so paying twice is the same order: the host returns the first receipt and
//! charges nothing more.

use crate::data::money;
use plaza_sdk::payment::{self, LineItem, PaymentOutcome, PaymentRequest};
use plaza_sdk::{HostError, Page, PageBuilder};

/// Whether `order_id` is paid.
pub fn is_paid(order_id: &str) -> Result<bool, HostError> {
    match payment::query(order_id) {
        Ok(p) => Ok(p.refunded < p.receipt.amount),
        Err(HostError::NotFound(_)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Asks the host to pay `amount` for one item; the page says what happened,
/// with the receipt when paid.
pub fn pay(
    title: &str,
    order_id: &str,
    item: &str,
    amount: u64,
    description: String,
) -> PageBuilder {
    let request = PaymentRequest {
        order_id: order_id.to_string(),
        amount,
        currency: "CNY".into(),
        description,
        items: vec![LineItem {
            name: item.to_string(),
            quantity: 1,
            unit_price: amount,
            insurance_eligible: false,
        }],
    };
    // The title says what happened: the receipt's title only once paid.
    let page = Page::builder("Not paid").replace();
    match payment::request(&request) {
        Ok(PaymentOutcome::Paid(r)) => Page::builder(title)
            .replace()
            .success(format!("Paid {} to {}.", money(r.amount), r.payee))
            .heading("Receipt")
            .field("Item", item)
            .field("Amount", money(r.amount))
            .field("Payee", r.payee.as_str())
            .field("Order", r.order_id.as_str())
            .field("Transaction", r.transaction_id.as_str()),
        Ok(PaymentOutcome::Declined) => page.warning("You declined the payment. Nothing was paid."),
        Ok(PaymentOutcome::Cancelled) => {
            page.warning("The payment was cancelled. Nothing was paid.")
        }
        Ok(PaymentOutcome::TimedOut) => {
            page.warning("The payment timed out. Nothing was paid; please try again.")
        }
        Ok(PaymentOutcome::InsufficientFunds(f)) => page.error(format!(
            "Your wallet does not hold the {} needed. Top up your wallet and try again.",
            money(f.needed)
        )),
        Err(e) => page.error(format!("The payment could not be made ({e}).")),
    }
}
