//! The outbox of payment notifications: what the host owes mini-apps'
//! back-ends, kept in the store so a restart loses none.
//!
//! A notification is written in the same transaction as the payment or
//! refund it tells of ([`LedgerStore::pay_audited`](super::LedgerStore::pay_audited),
//! [`LedgerStore::refund_audited`](super::LedgerStore::refund_audited)): the
//! money never moves without its notification, nor a notification exist
//! without its money. The host's delivery then claims the rows that are
//! due ([`OutboxStore::claim_notifications`]), sends each, and marks it
//! delivered or due again later. A claim is a lease: it moves the row's
//! next attempt past the time a delivery may take, so another host on the
//! same store does not claim it meanwhile (and claims it again if the
//! first host died before it answered: at least once).

use super::{PaymentRecord, RefundRecord, StoreResult};

/// One notification in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NotificationRecord {
    /// Its id: the same on every attempt, so the receiver can tell a retry
    /// from a new notification.
    pub id: String,
    /// The mini-app whose back-end it is for.
    pub app_id: String,
    /// Where it is sent: the notify URL the mini-app's manifest declared
    /// when the money moved.
    pub url: String,
    /// The body, JSON text, exactly as sent and signed.
    pub body: String,
    /// When it was written (with its payment or refund), ms since the epoch.
    pub created_at_ms: i64,
    /// Deliveries begun so far (each claim counts one).
    pub attempts: u32,
    /// When it is due next, ms since the epoch (while claimed: when the
    /// claim lapses).
    pub next_attempt_at_ms: i64,
    /// When a delivery was acknowledged with a 2xx; `None` while pending.
    pub delivered_at_ms: Option<i64>,
    /// Why the last attempt failed, if it did.
    pub last_error: Option<String>,
}

impl NotificationRecord {
    /// A new notification, due at `at_ms`, never attempted.
    pub fn new(id: String, app_id: String, url: String, body: String, at_ms: i64) -> Self {
        NotificationRecord {
            id,
            app_id,
            url,
            body,
            created_at_ms: at_ms,
            attempts: 0,
            next_attempt_at_ms: at_ms,
            delivered_at_ms: None,
            last_error: None,
        }
    }
}

/// Makes the notification of a payment from its record, for the store to
/// write in the payment's own transaction.
pub type PaymentNotice<'a> = &'a dyn Fn(&PaymentRecord) -> NotificationRecord;
/// Makes the notification of a refund from its record, for the store to
/// write in the refund's own transaction.
pub type RefundNotice<'a> = &'a dyn Fn(&RefundRecord) -> NotificationRecord;

/// The outbox of payment notifications.
pub trait OutboxStore: Send + Sync {
    /// Claims up to `limit` notifications due at `now_ms` (not delivered,
    /// next attempt at or before `now_ms`), oldest due first: counts an
    /// attempt on each and moves its next attempt to `lease_until_ms`, in
    /// one transaction, so no other host claims them until then. Hosts on
    /// one store claiming at once get different notifications. Returns them
    /// as claimed.
    fn claim_notifications(
        &self,
        now_ms: i64,
        lease_until_ms: i64,
        limit: usize,
    ) -> StoreResult<Vec<NotificationRecord>>;
    /// Records that `id` was acknowledged at `at_ms`; returns whether it
    /// was pending (a notification delivered before stays as it was).
    fn notification_delivered(&self, id: &str, at_ms: i64) -> StoreResult<bool>;
    /// Records that an attempt at `id` failed with `error`: due again at
    /// `next_attempt_at_ms`. Nothing changes for a delivered notification.
    fn notification_failed(
        &self,
        id: &str,
        next_attempt_at_ms: i64,
        error: &str,
    ) -> StoreResult<()>;
    /// The notification `id`, if any.
    fn notification(&self, id: &str) -> StoreResult<Option<NotificationRecord>>;
    /// A mini-app's notifications, oldest first, at most `limit`.
    fn notifications(&self, app_id: &str, limit: usize) -> StoreResult<Vec<NotificationRecord>>;
}
