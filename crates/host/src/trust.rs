//! Trust: the registry of publishers the host trusts, the checks a package
//! passes at install (signature, publisher, category, update rules), and the
//! app secrets mini-apps' backends use to exchange login codes.
//!
//! A package is installed only if
//! 1. it is signed (a host in [developer mode](crate::HostConfig::developer_mode)
//!    also takes unsigned packages, and runs them as unverified);
//! 2. its publisher is in the registry, and the signature verifies with the
//!    registered key over the manifest and the component;
//! 3. its manifest claims the category the registry gives the publisher;
//! 4. if it replaces an installed version: the same publisher, and a higher
//!    version (reinstalling the identical package is allowed).
//!
//! Each refusal is its own [`Error`] variant, saying what to do.
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

use crate::error::{Error, Result};
use crate::host::{Host, LoadedApp, Services};
use crate::keys::{from_hex, random_32};
use crate::manifest::is_reverse_dns;
use crate::package::{Package, SignatureStatus, key_id, sha256_hex, to_hex};
use crate::store::{PackageRecord, PublisherRecord, Store};
use std::cmp::Ordering;

/// What the install checks found.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Trust {
    /// Whether the package is signed by its (registered) publisher.
    pub(crate) signed: bool,
}

/// Runs the install checks: signature, publisher, category, update rules.
pub(crate) fn check_install(
    store: &dyn Store,
    package: &Package,
    developer_mode: bool,
) -> Result<Trust> {
    let m = &package.manifest;
    let app = &m.app.id;
    let publisher_id = &m.publisher.id;
    let registered = store.get_publisher(publisher_id)?;
    let signed = match package.signature_info()? {
        None if developer_mode => false,
        None => return Err(Error::UnsignedPackage { app: app.clone() }),
        Some(sig) => {
            if &sig.publisher != publisher_id {
                return Err(Error::BadSignature {
                    app: app.clone(),
                    message: format!(
                        "it is signed as publisher {}, but its manifest names publisher {publisher_id}: sign it with the key of {publisher_id}",
                        sig.publisher
                    ),
                    source: None,
                });
            }
            let Some(publisher) = &registered else {
                return Err(Error::UnknownPublisher {
                    app: app.clone(),
                    publisher: publisher_id.clone(),
                });
            };
            match package.verify_signature(&publisher.public_key)? {
                SignatureStatus::Valid => true,
                SignatureStatus::Mismatch {
                    signed_with_key_id,
                    expected_key_id,
                } => {
                    return Err(Error::BadSignature {
                        app: app.clone(),
                        message: format!(
                            "it does not match the key of publisher {publisher_id} in the registry (expected key id {expected_key_id}, the package says key id {signed_with_key_id}): it was changed after signing or signed with another key; sign it again with the registered key, or update the registry's key"
                        ),
                        source: None,
                    });
                }
                SignatureStatus::Unsigned | SignatureStatus::WrongPublisher { .. } => {
                    return Err(Error::Internal {
                        message: "a parsed signature verified as absent".into(),
                        source: None,
                    });
                }
            }
        }
    };
    if let Some(publisher) = &registered
        && publisher.category != m.publisher.category
    {
        return Err(Error::CategoryMismatch {
            app: app.clone(),
            publisher: publisher_id.clone(),
            claimed: m.publisher.category.to_string(),
            registered: publisher.category.to_string(),
        });
    }
    if let Some(previous) = store.package_info(app)? {
        check_update(&previous, package, signed)?;
    }
    Ok(Trust { signed })
}

/// An update keeps the publisher (and its signature) and raises the version;
/// the identical package may be installed again.
fn check_update(previous: &PackageRecord, package: &Package, signed: bool) -> Result<()> {
    let m = &package.manifest;
    let app = &m.app.id;
    if previous.publisher_id != m.publisher.id {
        return Err(Error::UpdatePublisherMismatch {
            app: app.clone(),
            installed: previous.publisher_id.clone(),
            offered: m.publisher.id.clone(),
        });
    }
    if previous.signature.is_some() && !signed {
        return Err(Error::UpdatePublisherMismatch {
            app: app.clone(),
            installed: format!("{} (signed)", previous.publisher_id),
            offered: "an unsigned package".to_string(),
        });
    }
    let identical =
        previous.manifest == m.source && previous.component_sha256 == package.component_hash();
    if identical {
        return Ok(());
    }
    let newer = semver::Version::parse(&previous.version)
        .map(|installed| m.app.version.cmp_precedence(&installed) == Ordering::Greater)
        .unwrap_or(true);
    if !newer {
        return Err(Error::UpdateNotNewer {
            app: app.clone(),
            installed: previous.version.clone(),
            offered: m.app.version.to_string(),
        });
    }
    Ok(())
}

/// The publisher as a session shows it: verified and named by the registry
/// when the package was signed, else unverified under the manifest's name.
pub(crate) fn publisher_of(services: &Services, app: &LoadedApp) -> (bool, String) {
    let m = &app.manifest;
    if app.signed {
        match services.store.get_publisher(&m.publisher.id) {
            Ok(Some(p)) => return (p.verified, p.name),
            Ok(None) => {}
            Err(e) => tracing::error!("reading the publisher registry: {e}"),
        }
    }
    (false, m.publisher.name.clone())
}

/// Issues a new app secret for `app`, replacing any earlier one; returns it.
pub(crate) fn issue_app_secret(services: &Services, app: &str) -> Result<String> {
    let secret = to_hex(&random_32()?);
    services
        .store
        .put_app_secret(app, &sha256_hex(secret.as_bytes()), services.clock.now_ms())?;
    Ok(secret)
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
        let key_ok = from_hex(&publisher.public_key)
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
        issue_app_secret(services, app_id)
    }
}
