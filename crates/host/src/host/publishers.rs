//! The registry of publishers the host trusts, who owns each app id, and
//! mini-apps' app secrets. The install checks themselves are in `trust.rs`.
//!
//! ```
//! # async fn demo() -> plaza_host::Result<()> {
//! use plaza_host::{Host, HostConfig, manifest::Category, package::PublisherKey};
//! use plaza_host::store::{PublisherRecord, SqliteStore};
//! let host = Host::with_store(std::sync::Arc::new(SqliteStore::open_in_memory()?), HostConfig::default())?;
//! let key = PublisherKey::generate()?;
//! host.add_publisher(PublisherRecord {
//!     id: "cn.hz.health".into(),
//!     name: "Hangzhou Health Commission".into(),
//!     category: Category::Medical,
//!     verified: true,
//!     public_key: key.public_key_hex(),
//!     added_at_ms: 0,
//! })?;
//! assert_eq!(host.publishers()?.len(), 1);
//! # Ok(()) }
//! ```

use super::Host;
use crate::error::{Error, Result};
use crate::hex;
use crate::manifest::is_reverse_dns;
use crate::package::key_id;
use crate::store::{AppIdRecord, Outcome, PublisherRecord, ReleaseResult};
use crate::trust::issue_app_secret;

/// What [`Host::release_app_id`] did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ReleasedAppId {
    /// The app id.
    pub app_id: String,
    /// The publisher that owned it (`None` if it was released before and
    /// nobody claimed it since).
    pub previous_owner: Option<String>,
    /// The generation the next package installed under it runs in.
    pub generation: u32,
}

impl Host {
    /// Adds a publisher to the registry of trusted publishers, or replaces
    /// its entry (a new key, name, category or verification). Packages it
    /// signs install from now on; sessions started from now on see the new
    /// name and verification. `added_at_ms` is set to now.
    pub fn add_publisher(&self, mut publisher: PublisherRecord) -> Result<PublisherRecord> {
        let bad = |message: String| Error::Publisher {
            publisher: publisher.id.clone(),
            message,
        };
        if !is_reverse_dns(&publisher.id) {
            return Err(bad(
                "the id must be a reverse-DNS name such as `cn.hz.health`, as manifests name it"
                    .into(),
            ));
        }
        let name = publisher.name.trim();
        if name.is_empty() || name.chars().count() > 64 {
            return Err(bad("the name must be 1 to 64 characters".into()));
        }
        publisher.name = name.to_string();
        publisher.public_key = publisher.public_key.trim().to_ascii_lowercase();
        let key_ok = hex::decode(&publisher.public_key)
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .is_some_and(|b| ed25519_dalek::VerifyingKey::from_bytes(&b).is_ok());
        if !key_ok {
            return Err(bad(
                "the public key must be an ed25519 public key as 64 hex characters (the `.pub` file `plaza keygen` writes)".into(),
            ));
        }
        let services = &self.inner.services;
        publisher.added_at_ms = services.clock.now_ms();
        services.store.put_publisher(&publisher)?;
        tracing::info!(publisher = %publisher.id, key_id = %key_id(&publisher.public_key), verified = publisher.verified, "publisher registered");
        Ok(publisher)
    }

    /// The registry of trusted publishers, by id.
    pub fn publishers(&self) -> Result<Vec<PublisherRecord>> {
        Ok(self.inner.services.store.list_publishers()?)
    }

    /// One publisher of the registry.
    pub fn publisher(&self, id: &str) -> Result<Option<PublisherRecord>> {
        Ok(self.inner.services.store.get_publisher(id)?)
    }

    /// Removes a publisher from the registry: its packages no longer install,
    /// and new sessions of its installed mini-apps run as unverified.
    /// Returns whether it was registered.
    pub fn remove_publisher(&self, id: &str) -> Result<bool> {
        Ok(self.inner.services.store.delete_publisher(id)?)
    }

    /// Who owns an app id: the publisher of the first package installed under
    /// it, for good (uninstalling keeps it), and the id's generation. `None`
    /// if no package was ever installed under it.
    pub fn app_id_owner(&self, app_id: &str) -> Result<Option<AppIdRecord>> {
        Ok(self.inner.services.store.app_id_owner(app_id)?)
    }

    /// Releases an app id from its publisher, so that another publisher's
    /// package may be installed under it: the host operator's decision,
    /// audited (capability `app-id.release`). Refused while a package is
    /// installed under the id ([`Error::AppIdInstalled`]: uninstall it
    /// first) and for an id never used ([`Error::UnknownAppId`]).
    ///
    /// The old users' data for the id is erased, in one transaction: their
    /// storage, consent decisions, subscriptions, follows, their
    /// conversation with it and pending broadcasts, login codes and the app
    /// secret (the old back-end's secret stops working; the next install
    /// issues a new one). The id's generation goes up: the next mini-app
    /// under it gives its users new openids, and sees, queries and refunds
    /// only its own generation's payments. Money records stay (receipts,
    /// refunds, the ledger: the law keeps them), as do messages already in
    /// users' inboxes, which no mini-app can read.
    pub fn release_app_id(&self, app_id: &str) -> Result<ReleasedAppId> {
        let result = self.inner.services.store.release_app_id(app_id);
        let (outcome, detail) = match &result {
            Ok(ReleaseResult::Released {
                previous_owner,
                generation,
            }) => (
                Outcome::Allowed,
                format!(
                    "the operator released the app id from publisher {}: its users' data erased, generation {generation} begins",
                    previous_owner.as_deref().unwrap_or("(none)")
                ),
            ),
            Ok(ReleaseResult::Installed) => (
                Outcome::Denied,
                "refused to release the app id: a package is installed under it".into(),
            ),
            Ok(ReleaseResult::Unknown) => (
                Outcome::Denied,
                "refused to release the app id: no package was ever installed under it".into(),
            ),
            Err(e) => (Outcome::Denied, format!("releasing the app id failed: {e}")),
        };
        self.inner
            .audit_host("", app_id, "app-id.release", outcome, &detail);
        let app = app_id.to_string();
        match result? {
            ReleaseResult::Released {
                previous_owner,
                generation,
            } => {
                tracing::info!(app = %app_id, generation, "app id released");
                Ok(ReleasedAppId {
                    app_id: app,
                    previous_owner,
                    generation,
                })
            }
            ReleaseResult::Installed => Err(Error::AppIdInstalled { app }),
            ReleaseResult::Unknown => Err(Error::UnknownAppId { app }),
        }
    }

    /// Makes a new app secret for an installed mini-app (the old one stops
    /// working) and returns it. The host keeps only its hash: this is the
    /// only time it is shown. The first secret is issued at install
    /// ([`InstallReport::app_secret`](crate::InstallReport::app_secret)).
    pub fn reset_app_secret(&self, app_id: &str) -> Result<String> {
        let services = &self.inner.services;
        if services
            .store
            .list_packages()?
            .iter()
            .all(|p| p.app_id != app_id)
        {
            return Err(Error::NotInstalled {
                app: app_id.to_string(),
            });
        }
        issue_app_secret(&*services.store, app_id, services.clock.now_ms())
    }
}
