//! The host calls, one module per capability. Each asks the [gate](crate::gate)
//! first, checks its arguments against the caps, and answers with the WIT
//! `error` variant, never a trap, when it cannot do what was asked.
//!
//! `network` is not a `plaza:host` interface but `wasi:http`'s outgoing
//! handler, gated in [`network`].
//!
//! Capabilities that keep money or messages (`payment`, `messaging`) audit
//! every call; the others audit their first use in a session and every
//! denial (see [`crate::gate`]).

mod clock;
mod identity;
mod log;
mod messaging;
pub mod network;
mod payment;
mod storage;

use crate::gate::Denial;
use crate::manifest::Capability;
use crate::session::SessionState;
use plaza_world::types::Error as WitError;

pub use identity::{
    COARSE_LOCATION_ACCURACY_M, COARSE_LOCATION_DEGREES, HOST_SESSION, LOGIN_CODE_TTL_MS,
    LoginExchange, MAX_LIVE_LOGIN_CODES, coarse_location,
};
pub use log::{MAX_LOG_BYTES_PER_EVENT, MAX_LOG_MESSAGE_BYTES, MAX_LOG_RECORDS_PER_EVENT};
pub use messaging::{MAX_FIELD_CHARS, MAX_TEXT_CHARS, MAX_TITLE_CHARS, REPLY_WINDOW_MS};
pub use payment::MAX_HISTORY_PAGE;
pub use storage::{MAX_KEY_BYTES, MAX_LIST_KEYS, MAX_VALUE_BYTES};

impl From<Denial> for WitError {
    fn from(d: Denial) -> WitError {
        WitError::Denied(d.0)
    }
}

impl SessionState {
    /// Asks the gate whether this session may use `capability` now.
    pub(crate) fn allow(&mut self, capability: Capability) -> Result<(), WitError> {
        let services = self.services.clone();
        services
            .gate
            .check(&self.subject, &mut self.memo, capability)
            .map_err(WitError::from)
    }
}

impl plaza_world::types::Host for SessionState {}
