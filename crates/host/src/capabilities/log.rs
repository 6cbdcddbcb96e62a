//! `plaza:host/log`: diagnostics into the host's `tracing`, tagged with the
//! mini-app and the session.

use crate::manifest::Capability;
use crate::session::SessionState;
use plaza_world::log::{Host, Level};

/// The longest log message kept, in bytes; the rest is cut.
pub const MAX_LOG_MESSAGE_BYTES: usize = 16 * 1024;
/// The most log records one event may write; later ones are dropped.
pub const MAX_LOG_RECORDS_PER_EVENT: usize = 1000;
/// The most log bytes one event may write; later records are dropped.
pub const MAX_LOG_BYTES_PER_EVENT: usize = 256 * 1024;

/// What the log and the audit log say when an event goes over its budget.
static OVER_BUDGET: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "over the log budget of {MAX_LOG_RECORDS_PER_EVENT} records or {MAX_LOG_BYTES_PER_EVENT} bytes per event: the event's further records are dropped"
    )
});

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
        // A budget per event keeps a mini-app from flooding the embedding
        // app's logs: the first record over it is noted (in the log and the
        // audit log), the rest of the event's records are dropped.
        let used = &mut self.event_use;
        if used.log_records >= MAX_LOG_RECORDS_PER_EVENT
            || used.log_bytes + message.len() > MAX_LOG_BYTES_PER_EVENT
        {
            let detail = OVER_BUDGET.as_str();
            if used
                .memo
                .first_entry("log", crate::store::Outcome::Denied, detail)
            {
                tracing::warn!(target: "plaza::guest", app, session, "{detail}");
                if let Err(e) = self.services.gate.audit(
                    &self.subject,
                    "log",
                    crate::store::Outcome::Denied,
                    detail,
                ) {
                    tracing::error!("{e}");
                }
            }
            return;
        }
        used.log_records += 1;
        used.log_bytes += message.len();
        match level {
            Level::Trace => tracing::trace!(target: "plaza::guest", app, session, "{message}"),
            Level::Debug => tracing::debug!(target: "plaza::guest", app, session, "{message}"),
            Level::Info => tracing::info!(target: "plaza::guest", app, session, "{message}"),
            Level::Warn => tracing::warn!(target: "plaza::guest", app, session, "{message}"),
            Level::Error => tracing::error!(target: "plaza::guest", app, session, "{message}"),
        }
    }
}
