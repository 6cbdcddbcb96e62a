//! Paying the hospital: the booking deposit (refunded when the booking is
//! cancelled), the consultation bill settled with the patient's medical
//! insurance where the host can, and the payment history.
//!
//! Order ids are made once per booking and kept in storage
//! (`order:deposit:<no>`, `order:bill:<no>`), so a retried payment is the same
//! order: the host then returns the first receipt instead of charging again.

use crate::data::money;
use plaza_sdk::payment::{self, LineItem, PaymentOutcome, PaymentRequest};
use plaza_sdk::{HostError, Page, PageBuilder, clock, storage};

/// What the consultation bill holds besides the doctor's fee: (item, price in
/// fen, insurance-eligible).
const BILL_EXTRAS: [(&str, u64, bool); 2] = [
    ("Ultrasound scan", 12_000, true),
    ("Medical record booklet", 500, false),
];

fn order_id(kind: &str, number: &str) -> Result<String, HostError> {
    let key = format!("order:{kind}:{number}");
    if let Some(existing) = storage::get_string(&key)? {
        return Ok(existing);
    }
    let id = format!("{kind}-{number}-{}", clock::now().unix_ms);
    storage::set_string(&key, &id)?;
    Ok(id)
}

/// The order id of a booking's deposit, made now if it was not yet.
pub fn deposit_order_id(number: &str) -> Result<String, HostError> {
    order_id("deposit", number)
}

fn known_order(kind: &str, number: &str) -> Result<Option<String>, HostError> {
    storage::get_string(&format!("order:{kind}:{number}"))
}

/// Whether the deposit of a booking is paid (and not refunded).
pub fn deposit_paid(number: &str) -> Result<bool, HostError> {
    let Some(order) = known_order("deposit", number)? else {
        return Ok(false);
    };
    match payment::query(&order) {
        Ok(p) => Ok(p.refunded < p.receipt.amount),
        Err(HostError::NotFound(_)) => Ok(false),
        Err(e) => Err(e),
    }
}

fn item(name: &str, price: u64, eligible: bool) -> LineItem {
    LineItem {
        name: name.to_string(),
        quantity: 1,
        unit_price: price,
        insurance_eligible: eligible,
    }
}

/// The page after asking the host to pay.
fn outcome(title: &str, number: &str, result: Result<PaymentOutcome, HostError>) -> PageBuilder {
    let page = Page::builder(title).replace();
    let page = match result {
        Ok(PaymentOutcome::Paid(r)) => page
            .success(format!("Paid {} to {}.", money(r.amount), r.payee))
            .field("Paid by insurance", money(r.insurance_part))
            .field("Paid by you", money(r.wallet_part))
            .field("Payee", r.payee.as_str())
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
    };
    page.button("Back to the booking", format!("booking:{number}"))
}

/// `deposit:<no>`: pays the booking's deposit (the doctor's fee).
pub fn pay_deposit(number: &str, fee: u64, doctor: &str) -> Result<PageBuilder, HostError> {
    let request = PaymentRequest {
        order_id: order_id("deposit", number)?,
        amount: fee,
        currency: "CNY".into(),
        description: format!("Deposit for booking {number} with {doctor}"),
        items: vec![item("Registration deposit", fee, false)],
    };
    Ok(outcome("Deposit", number, payment::request(&request)))
}

/// `bill:<no>`: pays the consultation bill; the insurance-eligible items are
/// settled with the patient's medical insurance where the host can.
pub fn pay_bill(number: &str, fee: u64, doctor: &str) -> Result<PageBuilder, HostError> {
    let mut items = vec![item("Consultation", fee, true)];
    items.extend(BILL_EXTRAS.iter().map(|(n, p, e)| item(n, *p, *e)));
    let request = PaymentRequest {
        order_id: order_id("bill", number)?,
        amount: items.iter().map(|i| i.unit_price).sum(),
        currency: "CNY".into(),
        description: format!("Consultation bill for booking {number} with {doctor}"),
        items,
    };
    // The card the patient lets the hospital see (asked at the first bill);
    // the host settles insurance either way when the patient confirms.
    let card = crate::patient::insurance_card()?;
    let mut page = outcome("Consultation bill", number, payment::request(&request));
    if let Some(card) = card {
        let tail: String = card
            .card_number
            .chars()
            .rev()
            .take(4)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        page = page.field("Insurance card", format!("{} ····{tail}", card.scheme));
    }
    Ok(page)
}

/// On cancelling a booking: refunds what is left of its deposit. Returns the
/// sentence to tell the patient, if anything was refunded.
pub fn refund_deposit(number: &str) -> Result<Option<String>, HostError> {
    let Some(order) = known_order("deposit", number)? else {
        return Ok(None);
    };
    let paid = match payment::query(&order) {
        Ok(p) => p,
        Err(HostError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    let left = paid.receipt.amount - paid.refunded;
    if left == 0 {
        return Ok(None);
    }
    let r = payment::refund(&order, left, &format!("booking {number} cancelled"))?;
    Ok(Some(format!(
        "Your deposit of {} was refunded to your wallet.",
        money(r.amount)
    )))
}

/// `payments`: the patient's payments to the hospital, newest first.
pub fn history() -> Result<PageBuilder, HostError> {
    let page_of = payment::history(None, 20)?;
    let mut page = Page::builder("Payment history");
    if page_of.payments.is_empty() {
        page = page.text("You have not paid the hospital anything yet.");
    }
    for p in page_of.payments {
        let r = &p.receipt;
        let mut detail = format!(
            "insurance {}, you {}",
            money(r.insurance_part),
            money(r.wallet_part)
        );
        if p.refunded > 0 {
            detail.push_str(&format!(", refunded {}", money(p.refunded)));
        }
        page = page.item(
            format!("{} · {}", money(r.amount), r.order_id),
            detail,
            None,
        );
    }
    Ok(page.button("Back to departments", "home"))
}
