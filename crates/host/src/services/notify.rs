//! Payment notifications: when a payment or refund of a mini-app commits,
//! the host POSTs a signed notification to the notify URL its manifest
//! declares (`[capabilities.payment] notify`), until the back-end answers
//! 2xx.
//!
//! The notification is written to the store's outbox in the money's own
//! transaction ([`OutboxStore`]), so a host that stops or crashes loses
//! none: the next pass of any host on the store sends it. A pass
//! ([`deliver_due`]) claims the due notifications (a lease, so hosts sharing
//! a store do not send one at once), sends each, and marks it delivered on
//! a 2xx or due again after a backoff (doubling from
//! [`NotifySettings::backoff_base`] up to [`NotifySettings::backoff_max`])
//! otherwise. Delivery is at least once: a receiver that answered but whose
//! answer was lost gets the notification again, with the same id.
//!
//! A notification goes out as a mini-app's request does: only to an origin
//! the mini-app's installed manifest declares (the gate's origin rule,
//! [`crate::gate::origin_rule`]), through the host's network
//! ([`Network::connect`](super::network::Network::connect): its TLS roots,
//! its address rules). Its body is JSON ([`NotificationBody`]); the header
//! [`NOTIFICATION_ID_HEADER`] carries its id and [`SIGNATURE_HEADER`] the
//! host's ed25519 signature (the receipt key) over
//! [`notification_message`], which a back-end checks with the host's public
//! key ([`verify_notification`]).

use super::Services;
use crate::error::Result;
use crate::gate::{Actor, RequestTarget, origin_rule};
use crate::ledger::Receipt;
use crate::manifest::{Manifest, NotifyUrl};
use crate::store::{NotificationRecord, Outcome, PaymentRecord, RefundRecord};
use bytes::Bytes;
use http_body_util::Full;
use std::sync::Arc;
use std::time::Duration;

/// The header carrying a notification's id: the same on every attempt.
pub const NOTIFICATION_ID_HEADER: &str = "plaza-notification-id";
/// The header carrying the host's signature over
/// [`notification_message`]: ed25519, hex.
pub const SIGNATURE_HEADER: &str = "plaza-signature";

/// How payment notifications are delivered. `NotifySettings::default()`:
/// retries from 15 seconds, doubling, at most an hour apart; 32 a pass; 10
/// seconds a delivery; a pass every second while the delivery runs
/// ([`Host::start_notifications`](crate::Host::start_notifications)).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct NotifySettings {
    /// The wait before the second attempt; each later wait doubles.
    pub backoff_base: Duration,
    /// The longest wait between attempts.
    pub backoff_max: Duration,
    /// The most notifications one pass claims.
    pub batch: usize,
    /// How long one delivery may take, connection and answer; a back-end
    /// slower than this counts as failed.
    pub timeout: Duration,
    /// How often the running delivery looks for due notifications (a
    /// payment or refund of this host wakes it at once).
    pub interval: Duration,
}

impl Default for NotifySettings {
    fn default() -> Self {
        NotifySettings {
            backoff_base: Duration::from_secs(15),
            backoff_max: Duration::from_secs(60 * 60),
            batch: 32,
            timeout: Duration::from_secs(10),
            interval: Duration::from_secs(1),
        }
    }
}

impl NotifySettings {
    /// Sets the wait before the second attempt (the field `backoff_base`).
    #[must_use]
    pub fn backoff_base(mut self, backoff_base: Duration) -> Self {
        self.backoff_base = backoff_base;
        self
    }

    /// Sets the longest wait between attempts (the field `backoff_max`).
    #[must_use]
    pub fn backoff_max(mut self, backoff_max: Duration) -> Self {
        self.backoff_max = backoff_max;
        self
    }

    /// Sets the most notifications one pass claims (the field `batch`).
    #[must_use]
    pub fn batch(mut self, batch: usize) -> Self {
        self.batch = batch;
        self
    }

    /// Sets how long one delivery may take (the field `timeout`).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets how often the running delivery looks for due notifications (the
    /// field `interval`).
    #[must_use]
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// The wait after the `attempts`th failed attempt: `backoff_base`
    /// doubled `attempts - 1` times, at most `backoff_max`.
    pub fn backoff(&self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(31);
        self.backoff_base
            .checked_mul(1 << doublings)
            .unwrap_or(self.backoff_max)
            .min(self.backoff_max)
    }
}

/// What a notification tells of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NotificationKind {
    /// A payment committed.
    Payment,
    /// A refund committed.
    Refund,
}

/// A notification's body, as JSON: what moved, for which order, and whose
/// money (by the openid the mini-app knows the user by, never the host's
/// user id).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NotificationBody {
    /// The notification's id (also in [`NOTIFICATION_ID_HEADER`]).
    pub id: String,
    /// A payment or a refund.
    pub kind: NotificationKind,
    /// The mini-app.
    pub app_id: String,
    /// The mini-app's order id.
    pub order_id: String,
    /// The ledger transaction of the payment or refund.
    pub transaction_id: String,
    /// The refund id the refund was made with, if any (refunds only).
    pub refund_id: Option<String>,
    /// The payer's openid in the mini-app; `None` for money of a payment
    /// made before the payer erased the mini-app's data (to the mini-app,
    /// the payer is a new user since).
    pub openid: Option<String>,
    /// The amount paid or refunded, minor units.
    pub amount: u64,
    /// The currency.
    pub currency: String,
    /// Of the amount, the wallet's part.
    pub wallet_part: u64,
    /// Of the amount, the medical-insurance fund's part.
    pub insurance_part: u64,
    /// When the money moved, ms since the epoch.
    pub at_ms: i64,
    /// For a payment, its receipt as the host signed it.
    pub receipt: Option<Receipt>,
}

/// The exact bytes a notification's signature covers:
/// `plaza-notification-v1`, the id and the body, one per line.
pub fn notification_message(id: &str, body: &str) -> Vec<u8> {
    format!("plaza-notification-v1\n{id}\n{body}").into_bytes()
}

/// Whether `signature` (hex) is the host's whose public key is
/// `public_key_hex` ([`Host::public_key`](crate::Host::public_key)) over the
/// notification `id` with `body` (as received, byte for byte).
pub fn verify_notification(public_key_hex: &str, id: &str, body: &str, signature: &str) -> bool {
    crate::keys::verify(public_key_hex, &notification_message(id, body), signature)
}

/// What one delivery pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Notifications claimed (due, and not claimed by another host).
    pub claimed: usize,
    /// Of those, acknowledged with a 2xx.
    pub delivered: usize,
    /// Of those, failed: due again after their backoff.
    pub failed: usize,
}

/// The notification of a payment, for the ledger to write with it.
pub(crate) fn payment_notification(
    id: String,
    notify: &NotifyUrl,
    p: &PaymentRecord,
    openid: Option<String>,
) -> NotificationRecord {
    let r = &p.receipt;
    let body = NotificationBody {
        id: id.clone(),
        kind: NotificationKind::Payment,
        app_id: r.app_id.clone(),
        order_id: r.order_id.clone(),
        transaction_id: r.transaction_id.clone(),
        refund_id: None,
        openid,
        amount: r.amount,
        currency: r.currency.clone(),
        wallet_part: r.wallet_part,
        insurance_part: r.insurance_part,
        at_ms: r.paid_at_ms,
        receipt: Some(r.clone()),
    };
    record(body, notify)
}

/// The notification of a refund of a payment in `currency`, for the ledger
/// to write with it.
pub(crate) fn refund_notification(
    id: String,
    notify: &NotifyUrl,
    r: &RefundRecord,
    currency: &str,
    openid: Option<String>,
) -> NotificationRecord {
    let body = NotificationBody {
        id: id.clone(),
        kind: NotificationKind::Refund,
        app_id: r.app_id.clone(),
        order_id: r.order_id.clone(),
        transaction_id: r.tx_id.clone(),
        refund_id: r.refund_id.clone(),
        openid,
        amount: r.amount,
        currency: currency.to_string(),
        wallet_part: r.wallet_part,
        insurance_part: r.insurance_part,
        at_ms: r.at_ms,
        receipt: None,
    };
    record(body, notify)
}

fn record(body: NotificationBody, notify: &NotifyUrl) -> NotificationRecord {
    // A struct of strings and numbers always serializes.
    let text = serde_json::to_string(&body).unwrap_or_default();
    NotificationRecord::new(body.id, body.app_id, notify.url.clone(), text, body.at_ms)
}

/// One pass: claims the notifications due now, sends them (at once, each
/// within [`NotifySettings::timeout`]), and records each outcome.
pub(crate) async fn deliver_due(s: &Arc<Services>) -> Result<DeliveryReport> {
    let settings = &s.notify;
    let now = s.clock.now_ms();
    // The lease outlasts a delivery: until it lapses no host claims the
    // notifications again; after, another host may (this one died).
    let lease = duration_ms(settings.timeout).saturating_mul(2).max(1_000);
    let claimed =
        s.store
            .claim_notifications(now, now.saturating_add(lease), settings.batch.max(1))?;
    let mut report = DeliveryReport {
        claimed: claimed.len(),
        ..DeliveryReport::default()
    };
    let mut sending = tokio::task::JoinSet::new();
    for n in claimed {
        let s = s.clone();
        sending.spawn(async move {
            let outcome = send(&s, &n).await;
            (n, outcome)
        });
    }
    while let Some(joined) = sending.join_next().await {
        let Ok((n, outcome)) = joined else {
            // A delivery task that panicked: its lease lapses and the
            // notification is claimed again.
            report.failed += 1;
            continue;
        };
        let at = s.clock.now_ms();
        match outcome {
            Ok(status) => {
                s.store.notification_delivered(&n.id, at)?;
                report.delivered += 1;
                audit(
                    s,
                    &n,
                    Outcome::Allowed,
                    &format!(
                        "delivered notification {} to {} (attempt {}, HTTP {status})",
                        n.id, n.url, n.attempts
                    ),
                );
            }
            Err(failure) => {
                let next = at.saturating_add(duration_ms(settings.backoff(n.attempts)));
                s.store.notification_failed(&n.id, next, &failure.message)?;
                report.failed += 1;
                tracing::warn!(
                    notification = %n.id,
                    app = %n.app_id,
                    attempt = n.attempts,
                    "payment notification not delivered: {}",
                    failure.message
                );
                if failure.refused {
                    audit(
                        s,
                        &n,
                        Outcome::Denied,
                        &format!("notification {}: {}", n.id, failure.message),
                    );
                }
            }
        }
    }
    Ok(report)
}

fn audit(s: &Services, n: &NotificationRecord, outcome: Outcome, detail: &str) {
    if let Err(e) = s.gate.audit(
        Actor::host("", &n.app_id),
        "payment.notify",
        outcome,
        detail,
    ) {
        tracing::error!("writing the audit log: {e}");
    }
}

fn duration_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Why an attempt failed.
struct Failure {
    message: String,
    /// The host's rules refused to send it (audited as a denial).
    refused: bool,
}

impl Failure {
    fn failed(message: String) -> Failure {
        Failure {
            message,
            refused: false,
        }
    }
}

/// Sends one notification; the response's status when it is 2xx.
async fn send(s: &Services, n: &NotificationRecord) -> Result<u16, Failure> {
    let notify = NotifyUrl::parse(&n.url).map_err(|why| Failure {
        message: format!("the notify URL `{}` is not valid: {why}", n.url),
        refused: true,
    })?;
    // The origin must still be one the installed mini-app declares.
    let manifest = installed_manifest(s, &n.app_id).map_err(|message| Failure {
        message,
        refused: true,
    })?;
    let origin = &notify.origin;
    let target = RequestTarget {
        method: "POST",
        scheme: origin.scheme.as_str(),
        host: &origin.host,
        port: origin.port,
    };
    origin_rule(manifest.origins(), &target, s.network.developer_mode).map_err(|denial| {
        Failure {
            message: denial.reason,
            refused: true,
        }
    })?;
    let timeout = s.notify.timeout;
    tokio::time::timeout(timeout, exchange(s, n, &notify))
        .await
        .unwrap_or_else(|_| {
            Err(Failure::failed(format!(
                "no answer within {} ms",
                timeout.as_millis()
            )))
        })
}

fn installed_manifest(s: &Services, app_id: &str) -> std::result::Result<Manifest, String> {
    match s.store.package_info(app_id) {
        Ok(Some(record)) => Manifest::parse(&format!("{app_id} (installed)"), &record.manifest)
            .map_err(|e| e.to_string()),
        Ok(None) => Err(format!(
            "{app_id} is not installed: its notifications wait until it is"
        )),
        Err(e) => Err(e.to_string()),
    }
}

async fn exchange(
    s: &Services,
    n: &NotificationRecord,
    notify: &NotifyUrl,
) -> Result<u16, Failure> {
    let origin = &notify.origin;
    let scheme = origin.scheme.as_str();
    let io = s
        .network
        .connect(scheme, &origin.host, origin.port)
        .await
        .map_err(|e| Failure {
            refused: matches!(
                e,
                super::network::ConnectError::Unreachable(super::network::Unreachable::Refused(_))
            ),
            message: e.to_string(),
        })?;
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(wasmtime_wasi_http::io::TokioIo::new(io))
            .await
            .map_err(|e| Failure::failed(format!("HTTP: {e}")))?;
    let conn = tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::debug!("notification connection: {e}");
        }
    });
    let authority = if origin.port == origin.scheme.default_port() {
        origin.host.clone()
    } else {
        format!("{}:{}", origin.host, origin.port)
    };
    let signature = s.keys.sign(&notification_message(&n.id, &n.body));
    let request = http::Request::post(notify.path.as_str())
        .header(http::header::HOST, authority)
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::USER_AGENT, "plaza-host")
        .header(NOTIFICATION_ID_HEADER, n.id.as_str())
        .header(SIGNATURE_HEADER, signature)
        .body(Full::new(Bytes::from(n.body.clone())))
        .map_err(|e| Failure::failed(format!("the request cannot be made: {e}")))?;
    let sent = sender.send_request(request).await;
    conn.abort();
    let response = sent.map_err(|e| Failure::failed(format!("HTTP: {e}")))?;
    let status = response.status();
    if status.is_success() {
        Ok(status.as_u16())
    } else {
        Err(Failure::failed(format!(
            "the back-end answered HTTP {}",
            status.as_u16()
        )))
    }
}
