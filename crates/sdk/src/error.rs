//! The error a host call returns: the WIT `types.error` variant.
//!
//! ```no_run
//! use plaza_sdk::{HostError, Page, storage};
//!
//! let page = match storage::set_string("draft", "Dear doctor, ...") {
//!     Ok(()) => Page::builder("Saved").build(),
//!     // A denial is data: show it, or offer another way.
//!     Err(HostError::LimitExceeded(why)) => Page::builder("Too long").error(why).build(),
//!     Err(e) => Page::builder("Not saved").error(e.to_string()).build(),
//! };
//! # let _ = page;
//! ```

use core::fmt;

/// Why a host call did not do what was asked (the WIT `plaza:host/types`
/// `error` variant).
///
/// A denial is data, not a crash: show the user what happened, or offer
/// another way. Every case carries a message for people; do not parse it,
/// match on the case (or [`HostError::kind`]) instead.
///
/// It prints as `<kind>: <message>`, such as
/// `denied: the manifest does not declare storage`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum HostError {
    /// The mini-app may not do this for this user now: its manifest does not
    /// declare the capability, the host's policy does not allow it for the
    /// publisher's category, or the user refused consent.
    Denied(String),
    /// An argument is malformed or out of range (an empty key, a total that
    /// does not match its line items, an unknown field).
    InvalidArgument(String),
    /// A limit was reached: a value or key too large, a quota full, a rate
    /// limit hit. Nothing was written.
    LimitExceeded(String),
    /// The thing asked for does not exist (an unknown order id, a missing
    /// template).
    NotFound(String),
    /// The capability is not available in this host right now (not built into
    /// this host version, or its backing service is down).
    Unavailable(String),
}

impl HostError {
    /// The case as its WIT name: `"denied"`, `"invalid-argument"`,
    /// `"limit-exceeded"`, `"not-found"` or `"unavailable"`.
    pub fn kind(&self) -> &'static str {
        match self {
            HostError::Denied(_) => "denied",
            HostError::InvalidArgument(_) => "invalid-argument",
            HostError::LimitExceeded(_) => "limit-exceeded",
            HostError::NotFound(_) => "not-found",
            HostError::Unavailable(_) => "unavailable",
        }
    }

    /// The host's message for people.
    pub fn message(&self) -> &str {
        match self {
            HostError::Denied(m)
            | HostError::InvalidArgument(m)
            | HostError::LimitExceeded(m)
            | HostError::NotFound(m)
            | HostError::Unavailable(m) => m,
        }
    }
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind(), self.message())
    }
}

impl std::error::Error for HostError {}
