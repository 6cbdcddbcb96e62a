//! `plaza:host/log`: diagnostics into the host's `tracing`, tagged with the
//! mini-app and the session.

use crate::gate::SessionGate;
use crate::manifest::Capability;
use plaza_world::log::{Host, Level};
use wasmtime::component::HasData;

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

/// What one event has written to the log, against its budget.
#[derive(Debug, Default)]
pub(crate) struct LogBudget {
    records: usize,
    bytes: usize,
    /// Whether the event went over it (noted once in the host's log).
    over: bool,
}

/// What the log capability sees of a session: its way through the gate and
/// the event's log budget.
pub(crate) struct LogView<'a> {
    pub(crate) gate: &'a mut SessionGate,
    pub(crate) budget: &'a mut LogBudget,
}

/// Links `plaza:host/log` to a session's [`LogView`].
pub(crate) struct Log;

impl HasData for Log {
    type Data<'a> = LogView<'a>;
}

impl Host for LogView<'_> {
    async fn write(&mut self, level: Level, mut message: String) {
        // `write` has no error to return: a denied or oversized record is
        // dropped or cut, and the denial is in the audit log.
        if self.gate.check(Capability::Log).is_err() {
            return;
        }
        if message.len() > MAX_LOG_MESSAGE_BYTES {
            let cut = message.floor_char_boundary(MAX_LOG_MESSAGE_BYTES);
            message.truncate(cut);
            message.push_str(" [cut]");
        }
        // A budget per event keeps a mini-app from flooding the embedding
        // app's logs: the first record over it is noted (in the log and the
        // audit log), the rest of the event's records are dropped.
        let used = &mut *self.budget;
        if used.records >= MAX_LOG_RECORDS_PER_EVENT
            || used.bytes + message.len() > MAX_LOG_BYTES_PER_EVENT
        {
            let detail = OVER_BUDGET.as_str();
            if !used.over {
                used.over = true;
                let subject = self.gate.subject();
                let (app, session) = (subject.app(), subject.session.as_str());
                tracing::warn!(target: "plaza::guest", app, session, "{detail}");
            }
            self.gate.refuse_once_per_event("log", detail);
            return;
        }
        used.records += 1;
        used.bytes += message.len();
        let subject = self.gate.subject();
        let (app, session) = (subject.app(), subject.session.as_str());
        match level {
            Level::Trace => tracing::trace!(target: "plaza::guest", app, session, "{message}"),
            Level::Debug => tracing::debug!(target: "plaza::guest", app, session, "{message}"),
            Level::Info => tracing::info!(target: "plaza::guest", app, session, "{message}"),
            Level::Warn => tracing::warn!(target: "plaza::guest", app, session, "{message}"),
            Level::Error => tracing::error!(target: "plaza::guest", app, session, "{message}"),
        }
    }
}
