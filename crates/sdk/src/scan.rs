//! Codes the user scans for this mini-app (`plaza:host/scan`; manifest
//! `[capabilities.scan]`).
//!
//! Ask while handling the user's tap or form: the embedding app opens its
//! scanner, and the user points it at a code or closes it. You get the
//! code's text. When the text is a Plaza link (`plaza://APP-ID/PATH?QUERY`)
//! to an installed mini-app, the host also offers the user to open it; if
//! the user accepts, that page is shown once your page for this event is
//! done, so answer the event as if nothing opened.
//!
//! ```no_run
//! use plaza_sdk::scan::{self, CodeKind, ScanError};
//!
//! match scan::scan_code("The QR code at the clinic's door", &[CodeKind::Qr]) {
//!     Ok(code) => { let _text = code.text; }
//!     Err(ScanError::Cancelled) => { /* the user closed the scanner */ }
//!     Err(other) => { let _why = scan::describe(&other); }
//! }
//! ```

use crate::bindings::plaza::host::scan as wit;

pub use wit::{CodeKind, ScanError, Scanned};

/// Asks the user to scan a code of one of `kinds` (either kind when
/// empty); `purpose` is shown to the user.
pub fn scan_code(purpose: &str, kinds: &[CodeKind]) -> Result<Scanned, ScanError> {
    wit::scan_code(purpose, kinds)
}

/// `<kind>: <message>` for an error, such as `denied: ...` or `cancelled`.
pub fn describe(error: &ScanError) -> String {
    match error {
        ScanError::Cancelled => "cancelled".to_string(),
        ScanError::Denied(m) => format!("denied: {m}"),
        ScanError::Unavailable(m) => format!("unavailable: {m}"),
    }
}
