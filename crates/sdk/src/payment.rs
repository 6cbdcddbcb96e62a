//! Payments from the user's host wallet to the mini-app's publisher
//! (`plaza:host/payment`; manifest `[capabilities.payment]`).
//!
//! The host asks the user to confirm every payment and shows the publisher's
//! verified name as payee. Amounts are in minor units (fen for CNY). Hosts
//! that do not offer payments yet answer [`HostError::Unavailable`].

use crate::HostError;
use crate::bindings::plaza::host::payment as wit;

pub use wit::{
    HistoryPage, InsufficientFunds, LineItem, PaymentOutcome, PaymentRecord, PaymentRequest,
    Receipt, RefundReceipt,
};

/// Asks the user to pay, and pays if the user confirms.
pub fn request(request: &PaymentRequest) -> Result<PaymentOutcome, HostError> {
    wit::request(request)
}

/// Refunds `amount` of the mini-app's own payment of `order_id`.
pub fn refund(order_id: &str, amount: u64, reason: &str) -> Result<RefundReceipt, HostError> {
    wit::refund(order_id, amount, reason)
}

/// Looks up the payment of `order_id` for the current user.
pub fn query(order_id: &str) -> Result<PaymentRecord, HostError> {
    wit::query(order_id)
}

/// One page of the current user's payments to this mini-app, newest first, at
/// most `limit` (at most 100); pass the previous page's `next_cursor` to go
/// on.
pub fn history(cursor: Option<&str>, limit: u32) -> Result<HistoryPage, HostError> {
    wit::history(cursor, limit)
}
