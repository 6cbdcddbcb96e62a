//! The delivery of payment notifications to mini-apps' back-ends: one pass
//! on demand ([`Host::deliver_notifications`]), or a task that keeps
//! delivering ([`Host::start_notifications`]). What is sent, how it is
//! signed and retried: `services/notify.rs` and `docs/payments.md`.
//!
//! ```no_run
//! # async fn demo(host: plaza_host::Host) -> plaza_host::Result<()> {
//! // A server: deliver in the background while it runs.
//! let delivery = host.start_notifications();
//! // ... serve ...
//! delivery.stop();
//! // A tool or a test: one pass over what is due now.
//! let report = host.deliver_notifications().await?;
//! println!("{} delivered, {} to retry", report.delivered, report.failed);
//! # Ok(()) }
//! ```

use super::{Host, HostInner};
use crate::error::Result;
use crate::services::notify::{DeliveryReport, deliver_due};
use crate::store::NotificationRecord;
use std::sync::Weak;

/// The running delivery of payment notifications
/// ([`Host::start_notifications`]): it stops when this is dropped, when
/// [`NotificationDelivery::stop`] is called, or when the host is dropped.
#[derive(Debug)]
pub struct NotificationDelivery {
    task: tokio::task::JoinHandle<()>,
}

impl NotificationDelivery {
    /// Stops the delivery (a delivery under way is abandoned: its
    /// notification is claimed again when its lease lapses).
    pub fn stop(self) {}
}

impl Drop for NotificationDelivery {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Host {
    /// One delivery pass: claims the payment notifications due now (up to
    /// [`NotifySettings::batch`](crate::NotifySettings::batch); not those
    /// another host on the store is sending), POSTs each to its mini-app's
    /// notify URL, and marks it delivered on a 2xx, else due again after its
    /// backoff. A notification whose origin the installed mini-app no
    /// longer declares, or whose mini-app is not installed, is not sent
    /// (and waits, retried like a failure).
    pub async fn deliver_notifications(&self) -> Result<DeliveryReport> {
        deliver_due(&self.inner.services).await
    }

    /// Starts delivering payment notifications in the background, on the
    /// current tokio runtime: a pass whenever a payment or refund of this
    /// host writes one, at least every
    /// [`NotifySettings::interval`](crate::NotifySettings::interval) (for
    /// retries, and for what other hosts on the store wrote), and again at
    /// once while passes find full batches. Must be called within a tokio
    /// runtime.
    pub fn start_notifications(&self) -> NotificationDelivery {
        let weak = std::sync::Arc::downgrade(&self.inner);
        NotificationDelivery {
            task: tokio::spawn(deliver_periodically(weak)),
        }
    }

    /// A mini-app's payment notifications, oldest first, at most `limit`:
    /// each with its attempts, when it is due, and whether it was
    /// delivered (the operator's view of the outbox).
    pub fn notifications(&self, app_id: &str, limit: usize) -> Result<Vec<NotificationRecord>> {
        Ok(self.inner.services.store.notifications(app_id, limit)?)
    }
}

async fn deliver_periodically(host: Weak<HostInner>) {
    loop {
        let Some(inner) = host.upgrade() else {
            return;
        };
        let services = inner.services.clone();
        drop(inner);
        let full = match deliver_due(&services).await {
            Ok(report) => report.claimed >= services.notify.batch.max(1),
            Err(e) => {
                tracing::warn!("payment notifications: {e}");
                false
            }
        };
        if full {
            continue;
        }
        let due = services.payment.notifications_due.clone();
        let interval = services.notify.interval;
        // Not holding the services while waiting: a dropped host ends the
        // loop at its next turn.
        drop(services);
        tokio::select! {
            _ = due.notified() => {}
            _ = tokio::time::sleep(interval) => {}
        }
    }
}
