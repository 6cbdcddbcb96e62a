//! `plaza:host/log`: diagnostics into the host's `tracing`, tagged with the
//! mini-app and the session.

use crate::manifest::Capability;
use crate::session::SessionState;
use plaza_world::log::{Host, Level};

/// The longest log message kept, in bytes; the rest is cut.
pub const MAX_LOG_MESSAGE_BYTES: usize = 16 * 1024;

impl Host for SessionState {
    async fn write(&mut self, level: Level, mut message: String) {
        // `write` has no error to return: a denied or oversized record is
        // dropped or cut, and the denial is in the audit log.
        if self.allow(Capability::Log).is_err() {
            return;
        }
        if message.len() > MAX_LOG_MESSAGE_BYTES {
            let cut = message.floor_char_boundary(MAX_LOG_MESSAGE_BYTES);
            message.truncate(cut);
            message.push_str(" [cut]");
        }
        let app = self.subject.app();
        let session = &self.subject.session;
        match level {
            Level::Trace => tracing::trace!(target: "plaza::guest", app, session, "{message}"),
            Level::Debug => tracing::debug!(target: "plaza::guest", app, session, "{message}"),
            Level::Info => tracing::info!(target: "plaza::guest", app, session, "{message}"),
            Level::Warn => tracing::warn!(target: "plaza::guest", app, session, "{message}"),
            Level::Error => tracing::error!(target: "plaza::guest", app, session, "{message}"),
        }
    }
}
