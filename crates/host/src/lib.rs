//! # plaza-host
//!
//! The library an app embeds to become a super-app: it installs mini-app
//! packages (WebAssembly components from hospitals, banks and agencies), runs
//! each user's session of a mini-app in a sandbox, and serves the host calls
//! (storage, log, clock; identity, payment and messaging; the operator's
//! settings) that a mini-app gets
//! only when its manifest declares them, the host's policy allows them for the
//! publisher, and the user consented.
//!
//! ```no_run
//! use plaza_host::{Host, HostConfig, package::Package, page::render_text};
//! # async fn demo() -> plaza_host::Result<()> {
//! let host = Host::open("plaza.db".as_ref(), HostConfig::default())?;
//! host.install(Package::read_file("hospital.plaza".as_ref())?).await?;
//! let session = host.session("alice", "cn.hz.maternity")?;
//! println!("{}", render_text(&session.launch("/").await?));
//! println!("{}", render_text(&session.tap("dept:obstetrics").await?));
//! # Ok(()) }
//! ```
//!
//! The layers, outside in: [`Host`] (packages, sessions, eviction) →
//! [`Session`] (one user in one mini-app: page stack, event checks) → the
//! sandbox ([`sandbox`]: memory, tables, CPU deadline, output caps) → the
//! guest → host calls ([`capabilities`], each on its own view of the
//! session) → the gate (manifest, policy, consent, audit) → the [`store`].
//! `docs/architecture.md` lists the modules and follows one event through
//! them.

pub mod capabilities;
pub mod clock;
mod config;
mod engine;
pub mod error;
mod gate;
pub mod hex;
mod host;
mod instance;
pub mod keys;
mod lanes;
pub mod ledger;
pub mod link;
mod loaded;
pub mod manifest;
pub mod media;
pub mod package;
pub mod page;
pub mod policy;
pub mod prompt;
pub mod sandbox;
pub mod scan;
mod services;
mod session;
pub mod settings;
pub mod store;
mod trust;

pub use config::{DEFAULT_MAX_LOADED_CODE_BYTES, HostConfig, RefundHook};
pub use engine::{
    ComponentShape, WASI_PACKAGES, component_imports, component_shape, describe_import,
    engine_config,
};
pub use error::{Error, GuestFault, Result};
pub use host::{
    ACCESS_TOKEN_TTL_MS, AccessLine, AccessToken, AppAccess, AppExport, CacheStats, DayStatement,
    Erasure, ExportedValue, Host, InstallReport, InstalledApp, LinkTarget, MAX_LINK_BYTES,
    NotificationDelivery, PrivacyExport, PrivacyReport, Publisher, PublisherPayment, ReleasedAppId,
    WalletExport,
};
pub use loaded::{LoadedAppInfo, LoadedTotals};
pub use services::network::{InterceptedRequest, InterceptedResponse, Interceptor, NetworkConfig};
pub use services::notify::{DeliveryReport, NotifySettings};

/// Payment notifications to mini-apps' back-ends: their body, headers and
/// signature, for a back-end (or a test) that receives them. The host's
/// side is [`Host::deliver_notifications`] and
/// [`Host::start_notifications`]; `docs/payments.md` describes the format.
pub mod notify {
    pub use crate::services::notify::{
        DeliveryReport, NOTIFICATION_ID_HEADER, NotificationBody, NotificationKind, NotifySettings,
        SIGNATURE_HEADER, notification_message, verify_notification,
    };
}
pub use session::{MAX_CHAT_ATTEMPTS, MAX_PAGE_STACK, Session};

pub use plaza_world::pages::{
    Block, Button, ButtonStyle, ChatMessage, ChoiceOption, Constraints, Event, Image, Input,
    InputKind, KeyValue, LaunchEvent, ListItem, Navigation, Notice, NoticeLevel, Page, Section,
    SubmitEvent,
};
pub use plaza_world::types::FieldValue;

/// The embedding guide, `docs/embedding.md`: its examples are compiled as
/// doc tests, so the guide stays true to the API.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/embedding.md")]
pub struct EmbeddingGuide;

#[cfg(test)]
mod tests {
    fn assert_send_sync<T: Send + Sync>() {}
    fn assert_send<T: Send>(_: &T) {}

    #[test]
    fn handles_and_their_futures_can_move_between_threads() {
        assert_send_sync::<crate::Host>();
        assert_send_sync::<crate::Session>();
        let check = |s: crate::Session, h: crate::Host| {
            assert_send(&s.launch("/"));
            assert_send(&s.tap("x"));
            assert_send(&h.evict_idle());
        };
        let _ = check;
    }
}
