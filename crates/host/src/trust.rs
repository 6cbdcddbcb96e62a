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
//!    version (reinstalling the identical package is allowed);
//! 5. its app id is its publisher's: the first publisher to install a
//!    package under an id owns it for good, uninstalled or not, until the
//!    operator releases it ([`Host::release_app_id`](crate::Host::release_app_id)).
//!
//! Each refusal is its own [`Error`] variant, saying what to do.

use crate::error::{Error, Result};
use crate::hex;
use crate::keys::random_32;
use crate::manifest::{Manifest, Scope};
use crate::package::{Package, SignatureStatus};
use crate::store::{LoginStore, PackageRecord, PublisherStore, Store, StoreResult};
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
    if let Some(owner) = store.app_id_owner(app)?.and_then(|o| o.publisher_id)
        && &owner != publisher_id
    {
        return Err(Error::AppIdOwned {
            app: app.clone(),
            owner,
            offered: publisher_id.clone(),
        });
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

/// What an update changes of what users consented to: the consent decisions
/// to forget, so that each user is asked again, each with the reason for the
/// audit log. A scope whose purpose changed is asked again (the user agreed
/// to the old purpose); when the update adds an origin the mini-app may
/// send data to, every scope is (the user agreed with the old destinations
/// in view). `None` stands for every scope.
pub(crate) fn consents_to_ask_again(
    previous: &Manifest,
    next: &Manifest,
) -> Vec<(Option<Scope>, String)> {
    let added: Vec<String> = next
        .origins()
        .iter()
        .filter(|o| !previous.origins().contains(o))
        .map(|o| o.to_string())
        .chain(
            next.origin_settings()
                .iter()
                .filter(|n| !previous.origin_settings().contains(n))
                .map(|n| format!("${{{n}}} (the value of the setting `{n}`)")),
        )
        .collect();
    if !added.is_empty() {
        return vec![(
            None,
            format!(
                "the update to version {} adds the origins {}: every user is asked again",
                next.app.version,
                added.join(", ")
            ),
        )];
    }
    Scope::ALL
        .into_iter()
        .filter_map(|scope| {
            let (before, after) = (previous.scope_purpose(scope)?, next.scope_purpose(scope)?);
            (before != after).then(|| {
                (
                    Some(scope),
                    format!(
                        "the update to version {} changes the purpose of `{scope}` from \"{before}\" to \"{after}\": every user is asked again",
                        next.app.version
                    ),
                )
            })
        })
        .collect()
}

/// The publisher as users see it, in sessions and in the list of installed
/// mini-apps: verified and named by the registry when the package was
/// signed by a registered publisher, else unverified under the manifest's
/// name. Returns (verified, name).
pub(crate) fn publisher_as_shown(
    registry: &dyn PublisherStore,
    manifest: &Manifest,
    signed: bool,
) -> StoreResult<(bool, String)> {
    if signed && let Some(p) = registry.get_publisher(&manifest.publisher.id)? {
        return Ok((p.verified, p.name));
    }
    Ok((false, manifest.publisher.name.clone()))
}

/// Issues a new app secret for `app`, replacing any earlier one; returns it.
/// The store keeps only its hash.
pub(crate) fn issue_app_secret(secrets: &dyn LoginStore, app: &str, now_ms: i64) -> Result<String> {
    let secret = hex::encode(&random_32()?);
    secrets.put_app_secret(app, &hex::sha256(secret.as_bytes()), now_ms)?;
    Ok(secret)
}
