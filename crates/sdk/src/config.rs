//! Settings the host's operator sets for this mini-app
//! (`plaza:host/config`; manifest `[[settings]]`): the origin of its
//! back-end, an API key, anything that changes between a test deployment
//! and the real one without a new package.
//!
//! ```no_run
//! // plaza.toml:
//! //   [[settings]]
//! //   name = "agency-origin"
//! //   default = "https://agency.example.gov.cn"
//! //   [[settings]]
//! //   name = "agency-api-key"
//! //   secret = true
//! let origin = plaza_sdk::config::get("agency-origin")?;
//! let key = plaza_sdk::config::get("agency-api-key")?;
//! # let _ = (origin, key);
//! # Ok::<(), plaza_sdk::HostError>(())
//! ```

use crate::HostError;
use crate::bindings::plaza::host::config as wit;

/// Reads the setting `name` as it was when the session started.
///
/// [`HostError::Denied`] if the manifest does not declare it;
/// [`HostError::NotFound`] if the operator has not set it and the manifest
/// gives no default.
pub fn get(name: &str) -> Result<String, HostError> {
    wit::get(name)
}
