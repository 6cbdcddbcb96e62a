//! Messages from the mini-app to the user's inbox in the host
//! (`plaza:host/messaging`; manifest `[capabilities.messaging]` with the
//! templates).
//!
//! Hosts that do not offer messaging yet answer [`HostError::Unavailable`].
//!
//! ```no_run
//! use plaza_sdk::FieldValue;
//! use plaza_sdk::messaging::{self, SubscriptionAnswer};
//!
//! # fn main() -> Result<(), plaza_sdk::HostError> {
//! // While handling a tap: ask the user to accept a template of the manifest ...
//! let answers = messaging::subscribe(&["appointment-reminder".to_string()])?;
//! if answers.iter().any(|a| a.answer != SubscriptionAnswer::Rejected) {
//!     // ... then send a message with it, filling every field it declares.
//!     messaging::send(
//!         "appointment-reminder",
//!         &[
//!             FieldValue::new("doctor", "Dr. Chen Li"),
//!             FieldValue::new("time", "2026-11-22 10:00"),
//!         ],
//!     )?;
//! }
//! // To every follower of the account: at most four a month each.
//! let sent = messaging::broadcast("Sunday clinic", "We are open this Sunday.")?;
//! // In a conversation, within 48 hours of the user's last message.
//! messaging::reply("The doctor will call you back today.")?;
//! # let _ = sent;
//! # Ok(())
//! # }
//! ```

use crate::bindings::plaza::host::messaging as wit;
use crate::{FieldValue, HostError};

pub use wit::{BroadcastResult, SubscriptionAnswer, SubscriptionResult};

/// Asks the user to accept the templates `template_ids` (call it while
/// handling a tap).
pub fn subscribe(template_ids: &[String]) -> Result<Vec<SubscriptionResult>, HostError> {
    wit::subscribe(template_ids)
}

/// Sends the current user a message with an accepted template, filling every
/// field it declares. Returns the message id.
pub fn send(template_id: &str, fields: &[FieldValue]) -> Result<String, HostError> {
    wit::send(template_id, fields)
}

/// Sends a message to every follower of the publisher's account.
pub fn broadcast(title: &str, text: &str) -> Result<BroadcastResult, HostError> {
    wit::broadcast(title, text)
}

/// Replies to the current user's conversation. Returns the message id.
pub fn reply(text: &str) -> Result<String, HostError> {
    wit::reply(text)
}
