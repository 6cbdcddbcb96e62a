//! Diagnostics for the mini-app's developers (`plaza:host/log`; manifest
//! `[capabilities.log]`).
//!
//! Records go to the host's log, tagged with the mini-app and the session;
//! users never see them. A message longer than 16 KiB is cut to 16 KiB.
//!
//! ```no_run
//! use plaza_sdk::log;
//!
//! log::info("booking B0001 confirmed");
//! log::write(log::Level::Warn, "no free time in the next three days");
//! ```

use crate::bindings::plaza::host::log as wit;

pub use wit::Level;

/// Writes one record at `level`.
pub fn write(level: Level, message: &str) {
    wit::write(level, message)
}

/// Writes a [`Level::Trace`] record.
pub fn trace(message: &str) {
    write(Level::Trace, message)
}

/// Writes a [`Level::Debug`] record.
pub fn debug(message: &str) {
    write(Level::Debug, message)
}

/// Writes a [`Level::Info`] record.
pub fn info(message: &str) {
    write(Level::Info, message)
}

/// Writes a [`Level::Warn`] record.
pub fn warn(message: &str) {
    write(Level::Warn, message)
}

/// Writes a [`Level::Error`] record.
pub fn error(message: &str) {
    write(Level::Error, message)
}
