//! Payments from the user's host wallet to the mini-app's publisher
//! (`plaza:host/payment`; manifest `[capabilities.payment]`).
//!
//! The host asks the user to confirm every payment and shows the publisher's
//! verified name as payee. Amounts are in minor units (fen for CNY). Hosts
//! that do not offer payments yet answer [`HostError::Unavailable`].
//!
//! ```no_run
//! use plaza_sdk::payment::{self, LineItem, PaymentOutcome, PaymentRequest};
//!
//! # fn main() -> Result<(), plaza_sdk::HostError> {
//! let request = PaymentRequest {
//!     // The mini-app's own order id: paying it again returns the first receipt.
//!     order_id: "B0001-deposit".into(),
//!     amount: 5000, // CNY 50.00, in fen: the sum of the items
//!     currency: "CNY".into(),
//!     description: "Booking deposit".into(),
//!     items: vec![LineItem {
//!         name: "Deposit, obstetrics".into(),
//!         quantity: 1,
//!         unit_price: 5000,
//!         insurance_eligible: false,
//!     }],
//! };
//! match payment::request(&request)? {
//!     PaymentOutcome::Paid(receipt) => {
//!         // `receipt.payee` is the publisher's verified name, from the host.
//!         plaza_sdk::log::info(&format!("paid {} to {}", receipt.amount, receipt.payee));
//!     }
//!     PaymentOutcome::InsufficientFunds(f) => {
//!         // What the wallet had to pay; the host never tells the balance.
//!         plaza_sdk::log::info(&format!("{} needed from the wallet", f.needed));
//!     }
//!     PaymentOutcome::Declined | PaymentOutcome::Cancelled | PaymentOutcome::TimedOut => {}
//! }
//! // Later: give part of it back (never more than was paid).
//! let refund = payment::refund("B0001-deposit", 2000, "cancelled a day ahead")?;
//! # let _ = refund;
//! # Ok(())
//! # }
//! ```

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

/// Refunds `amount` of the mini-app's own payment of `order_id`, once for
/// `refund_id`: retried with the same id (after a timeout, a crash), it
/// returns the first refund instead of refunding again.
pub fn refund_once(
    order_id: &str,
    refund_id: &str,
    amount: u64,
    reason: &str,
) -> Result<RefundReceipt, HostError> {
    crate::bindings::plaza::host::refunds::refund(order_id, refund_id, amount, reason)
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
