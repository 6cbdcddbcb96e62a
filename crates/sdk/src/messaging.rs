//! Messages from the mini-app to the user's inbox in the host
//! (`plaza:host/messaging`; manifest `[capabilities.messaging]` with the
//! templates).
//!
//! Hosts that do not offer messaging yet answer [`HostError::Unavailable`].

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
