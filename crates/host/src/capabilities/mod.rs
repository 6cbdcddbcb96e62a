//! The host calls, one module per capability: `storage.rs`, `log.rs`,
//! `clock.rs`, `identity.rs`, `payment.rs`, `messaging.rs`, `config.rs` (the
//! operator's settings), `media.rs` (photos and files the user gives), `scan.rs` (codes the user
//! scans), and `network.rs`
//! (not a `plaza:host` interface but `wasi:http`'s outgoing handler, gated
//! per request); `wasi.rs` audits what WASI refuses (sockets, files). Each answers with the WIT `error` variant, never a trap,
//! when it cannot do what was asked.
//!
//! Each capability implements its WIT `Host` trait on a small view of the
//! session (`StorageView`, `PaymentView`, ...), the way `wasmtime-wasi-http`
//! implements its traits on `WasiHttpCtxView`: the session's way through the
//! gate, that capability's store trait, and its settings, nothing else. The
//! views are made from the session's store data in `instance.rs` and linked
//! there through a `HasData` projection per interface. A capability asks the
//! gate before it acts and writes the audit log only through it.
//!
//! Capabilities that keep money or messages (`payment`, `messaging`) audit
//! every call; the others audit their first use in a session and every
//! denial.

pub(crate) mod clock;
pub(crate) mod config;
pub(crate) mod identity;
pub(crate) mod log;
pub(crate) mod media;
pub(crate) mod messaging;
pub mod network;
pub(crate) mod payment;
pub(crate) mod scan;
pub(crate) mod storage;
pub(crate) mod wasi;

use crate::gate::{Denial, DenialCause};
use plaza_world::types::Error as WitError;
use wasmtime::component::HasData;

pub use crate::gate::HOST_SESSION;
pub use identity::{
    COARSE_LOCATION_ACCURACY_M, COARSE_LOCATION_DEGREES, LOGIN_CODE_TTL_MS, LoginExchange,
    MAX_LIVE_LOGIN_CODES, coarse_location,
};
pub use log::{MAX_LOG_BYTES_PER_EVENT, MAX_LOG_MESSAGE_BYTES, MAX_LOG_RECORDS_PER_EVENT};
pub use media::MAX_MEDIA_ID_BYTES;
pub use messaging::{MAX_FIELD_CHARS, MAX_TEXT_CHARS, MAX_TITLE_CHARS, REPLY_WINDOW_MS};
pub use payment::MAX_HISTORY_PAGE;
pub use storage::{MAX_KEY_BYTES, MAX_LIST_KEYS, MAX_VALUE_BYTES};

impl From<Denial> for WitError {
    /// A refusal is `denied`; a decision the store's failure prevented is
    /// `unavailable` (the guest may try again).
    fn from(d: Denial) -> WitError {
        match d.cause {
            DenialCause::Refused => WitError::Denied(d.reason),
            DenialCause::StoreFailed => WitError::Unavailable(d.reason),
        }
    }
}

/// `plaza:host/types` holds types only; linked to nothing of the session.
pub(crate) struct Types;

impl HasData for Types {
    type Data<'a> = Types;
}

impl plaza_world::types::Host for Types {}
