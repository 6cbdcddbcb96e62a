//! What host calls need, shared by the host and every session: the store,
//! the gate, the clock and ids, the sandbox's limits, the host's keys, the
//! busy lanes, the network, the delivery of payment notifications, and each
//! capability's settings.
//!
//! Nothing here knows of the host or of sessions: the host makes one
//! [`Services`], every session's store data holds it, and each capability
//! gets a view with its own slice of it (see `instance.rs`), never the whole.

pub(crate) mod network;
pub(crate) mod notify;

use crate::clock::{Clock, IdSource};
use crate::gate::Gate;
use crate::keys::HostKeys;
use crate::lanes::BusyLanes;
use crate::sandbox::SandboxLimits;
use crate::settings::SettingsKey;
use crate::store::Store;
use network::Network;
use std::sync::Arc;
use std::time::Duration;

/// The host-wide services (the host and sessions share one; a session must
/// not hold the host itself, or sessions would keep it alive).
pub(crate) struct Services {
    /// Everything the host keeps.
    pub(crate) store: Arc<dyn Store>,
    /// The gate: every decision and every audit entry.
    pub(crate) gate: Arc<Gate>,
    /// The host's keys: receipts are signed and pseudonyms derived with them.
    pub(crate) keys: HostKeys,
    /// Where the time comes from.
    pub(crate) clock: Arc<dyn Clock>,
    /// Where ids come from.
    pub(crate) ids: Arc<dyn IdSource>,
    /// The sandbox's limits.
    pub(crate) limits: Arc<SandboxLimits>,
    /// The host's time zone as minutes east of UTC.
    pub(crate) utc_offset_minutes: i32,
    /// The lanes busy events take turns on ([`SandboxLimits::busy_lanes`]).
    pub(crate) busy_lanes: Arc<BusyLanes>,
    /// How outbound requests are sent (TLS roots, address rules).
    pub(crate) network: Arc<Network>,
    /// The payment capability's settings.
    pub(crate) payment: PaymentSettings,
    /// How payment notifications are delivered.
    pub(crate) notify: notify::NotifySettings,
    /// The messaging capability's settings and its rate window.
    pub(crate) messaging: MessagingSettings,
    /// The key that seals mini-apps' secret settings, if the host has one.
    pub(crate) settings_key: Option<SettingsKey>,
    /// The publisher API's calls per mini-app a minute, counted in the
    /// store ([`crate::store::MessagingStore::take_rate`]) so that every
    /// node on one store shares each mini-app's allowance.
    pub(crate) backend_calls_per_minute: u32,
    /// The operator's `https` form of links, if any: a scanned code in that
    /// form is a Plaza link too.
    pub(crate) link_base: Option<crate::link::LinkBase>,
}

/// How payments behave.
#[derive(Debug)]
pub(crate) struct PaymentSettings {
    /// How long a payment confirmation waits for the user before the guest
    /// gets `timed-out`.
    pub(crate) confirmation_timeout: Duration,
    /// Woken when a payment or refund writes a notification, so the
    /// running delivery sends it at once.
    pub(crate) notifications_due: Arc<tokio::sync::Notify>,
}

/// How messaging behaves.
#[derive(Debug)]
pub(crate) struct MessagingSettings {
    /// Messages one mini-app may send a minute: sends, replies and
    /// subscription requests to each user, and broadcasts.
    pub(crate) per_minute: u32,
    /// Broadcasts one account may deliver to a follower per calendar month.
    pub(crate) broadcasts_per_month: u32,
}
