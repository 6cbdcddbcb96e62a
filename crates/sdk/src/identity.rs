//! Who the user is, as far as the user lets this mini-app know
//! (`plaza:host/identity`; manifest `[capabilities.identity]` with the
//! consent `scopes` and their purposes).
//!
//! [`openid`] and [`unionid`] need no consent; every other call reads a scope
//! the user must consent to, asked by the host at the first call. Hosts that do
//! not offer identity yet answer [`HostError::Unavailable`].
//!
//! ```no_run
//! use plaza_sdk::{HostError, identity, log};
//!
//! # fn main() -> Result<(), HostError> {
//! // No consent needed: the user's pseudonym in this mini-app.
//! let openid = identity::openid()?;
//! // Needs `real-name` in the manifest's scopes, a verified publisher in a
//! // category the policy allows, and the user's consent (the host asks).
//! match identity::real_name() {
//!     Ok(person) => log::info(&format!("registering {} as {openid}", person.name)),
//!     // Refused or not allowed: let the user type the name instead.
//!     Err(HostError::Denied(why)) => log::info(&format!("no real name: {why}")),
//!     Err(e) => return Err(e),
//! }
//! // A code for the mini-app's own backend to exchange for the openid.
//! let code = identity::login()?;
//! # let _ = code;
//! # Ok(())
//! # }
//! ```

use crate::HostError;
use crate::bindings::plaza::host::identity as wit;

pub use wit::{InsuranceCard, Location, LocationPrecision, LoginCode, Profile, RealName};

/// The user's pseudonymous id in this mini-app.
pub fn openid() -> Result<String, HostError> {
    wit::openid()
}

/// The user's pseudonymous id for this publisher, the same in all of its
/// mini-apps.
pub fn unionid() -> Result<String, HostError> {
    wit::unionid()
}

/// A single-use login code for the mini-app's own backend.
pub fn login() -> Result<LoginCode, HostError> {
    wit::login()
}

/// The user's nickname and avatar (scope `profile`).
pub fn profile() -> Result<Profile, HostError> {
    wit::get_profile()
}

/// The user's phone number (scope `phone`).
pub fn phone() -> Result<String, HostError> {
    wit::get_phone()
}

/// The user's verified legal name (scope `real-name`).
pub fn real_name() -> Result<RealName, HostError> {
    wit::get_real_name()
}

/// Where the user is (scope `location` or `precise-location`).
pub fn location(precision: LocationPrecision) -> Result<Location, HostError> {
    wit::get_location(precision)
}

/// The user's bound medical insurance card (scope `insurance-card`).
pub fn insurance_card() -> Result<InsuranceCard, HostError> {
    wit::get_insurance_card()
}
