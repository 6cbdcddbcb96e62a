//! Codes users scan for mini-apps (`plaza:host/scan`): the kinds of code,
//! the question the embedding app answers with what its scanner read, and
//! the offer to open a scanned Plaza link.
//!
//! The capability is in `capabilities/scan.rs`. A mini-app asks
//! ([`ScanPrompt`]); the embedding app's prompter (`Prompter::scan_code`)
//! answers with the code ([`ScanAnswer::Code`]) or the closed scanner. When
//! the text is a Plaza link ([`crate::link`]) to an installed mini-app, the
//! host asks `Prompter::offer_link` ([`LinkOffer`]); if the user accepts,
//! the link opens once the event's page is done
//! ([`Host::follow_link`](crate::Host::follow_link)).
//!
//! ```
//! use plaza_host::scan::CodeKind;
//! assert_eq!(CodeKind::parse("qr"), Some(CodeKind::Qr));
//! assert_eq!(CodeKind::Barcode.to_string(), "barcode");
//! ```

use std::fmt;

/// The longest text a scan gives a mini-app, in bytes (a QR code holds at
/// most 7,089 digits or 2,953 bytes).
pub const MAX_SCAN_TEXT_BYTES: usize = 8192;

/// The longest purpose a mini-app gives for asking, in characters.
pub const MAX_PURPOSE_CHARS: usize = 200;

/// What kind of code the scanner reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CodeKind {
    /// A QR code.
    Qr,
    /// A one-dimensional barcode.
    Barcode,
}

impl CodeKind {
    /// Every kind.
    pub const ALL: [CodeKind; 2] = [CodeKind::Qr, CodeKind::Barcode];

    /// `qr` or `barcode`: the name in JSON, scenarios and the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            CodeKind::Qr => "qr",
            CodeKind::Barcode => "barcode",
        }
    }

    /// Parses [`CodeKind::as_str`].
    pub fn parse(text: &str) -> Option<CodeKind> {
        CodeKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

impl fmt::Display for CodeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A mini-app asks the user to scan a code: what the embedding app shows
/// beside its scanner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanPrompt {
    /// The user asked.
    pub user: String,
    /// The mini-app asking.
    pub app_id: String,
    /// Its name.
    pub app_name: String,
    /// The publisher's name as the host knows it.
    pub publisher_name: String,
    /// Why, in the mini-app's words.
    pub purpose: String,
    /// The kinds of code the mini-app takes (at least one).
    pub kinds: Vec<CodeKind>,
}

/// The user's answer to a [`ScanPrompt`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanAnswer {
    /// The scanner read a code.
    Code {
        /// Its text.
        text: String,
        /// Its kind.
        kind: CodeKind,
    },
    /// The user closed the scanner.
    Cancel,
}

/// The host offers the user to open a Plaza link a mini-app's scan read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkOffer {
    /// The user asked.
    pub user: String,
    /// The mini-app that scanned.
    pub app_id: String,
    /// Its name.
    pub app_name: String,
    /// The link, in its `plaza://` form.
    pub link: String,
    /// The mini-app the link opens (installed).
    pub target_app_id: String,
    /// Its name.
    pub target_app_name: String,
    /// The page it opens at, with its query (`/checkin?clinic=obstetrics`).
    pub target: String,
}
