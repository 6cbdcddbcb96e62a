//! Mini-apps' settings as the operator (or the publisher's back-end) sets
//! them: [`Host::set_setting`], [`Host::unset_setting`], [`Host::settings`].
//! The values, sealing and sessions' snapshots are in `crate::settings`.
//!
//! ```
//! # async fn demo(host: plaza_host::Host) -> plaza_host::Result<()> {
//! host.set_setting("cn.hz.citizen", "agency-origin", "https://api.hz.gov.cn", false)?;
//! host.set_setting("cn.hz.citizen", "agency-api-key", "k-123", true)?;
//! for s in host.settings("cn.hz.citizen")? {
//!     // A secret's value is never shown.
//!     println!("{} = {}", s.name, s.value.as_deref().unwrap_or("********"));
//! }
//! # Ok(()) }
//! ```

use super::Host;
use crate::error::{Error, Result};
use crate::manifest::{MAX_SETTING_VALUE_BYTES, Manifest, Origin};
use crate::settings::{SettingInfo, describe};
use crate::store::{Outcome, SettingRecord};

impl Host {
    /// Sets the setting `name` of the installed mini-app `app_id`; the next
    /// session of the mini-app reads `value` (sessions already running keep
    /// what they started with).
    ///
    /// `name` must be one its manifest declares (`Error::UnknownSetting`).
    /// The value is kept as a secret, sealed with the host's settings key,
    /// if the manifest declares the setting secret or `secret` is true;
    /// without a settings key that is `Error::SettingsKey`. A value is at
    /// most [`MAX_SETTING_VALUE_BYTES`]; a setting the manifest names as a
    /// network origin (`"${name}"`) must be an origin
    /// (`Error::InvalidSetting`, which never quotes the value). When such an
    /// origin changes, every user's consent decisions about the mini-app are
    /// forgotten (the user agreed with the old destination in view).
    ///
    /// Audited (`config.set`, by name, never the value). This is the method
    /// the publisher's back-end reaches through the host's publisher API too.
    pub fn set_setting(&self, app_id: &str, name: &str, value: &str, secret: bool) -> Result<()> {
        let manifest = self.installed_manifest(app_id)?;
        let decl = manifest
            .setting(name)
            .ok_or_else(|| unknown(&manifest, name))?;
        let invalid = |message: String| Error::InvalidSetting {
            app: app_id.to_string(),
            name: name.to_string(),
            message,
        };
        if value.len() > MAX_SETTING_VALUE_BYTES {
            return Err(invalid(format!(
                "it is {} bytes; a value is at most {MAX_SETTING_VALUE_BYTES}",
                value.len()
            )));
        }
        let is_origin = manifest.origin_settings().iter().any(|n| n == name);
        if is_origin && let Err(why) = Origin::parse(value) {
            return Err(invalid(format!(
                "the manifest names it as a network origin, and it is not one: {why}"
            )));
        }
        let secret = secret || decl.secret;
        let s = &self.inner.services;
        let stored = if secret {
            let key = s.settings_key.as_ref().ok_or_else(|| Error::SettingsKey {
                message: format!(
                    "the host has no settings key, so it cannot keep the secret `{name}`: give it one (the {} environment variable, or a key file; see docs/security.md)",
                    crate::settings::SETTINGS_KEY_ENV
                ),
                source: None,
            })?;
            key.seal(app_id, name, value)?
        } else {
            value.as_bytes().to_vec()
        };
        let previous = s.store.settings(app_id)?;
        s.store.put_setting(&SettingRecord {
            app_id: app_id.to_string(),
            name: name.to_string(),
            secret,
            value: stored,
            updated_at_ms: s.clock.now_ms(),
        })?;
        let kind = if secret { "secret" } else { "value" };
        self.inner.audit_host(
            "",
            app_id,
            "config.set",
            Outcome::Allowed,
            &format!("set the {kind} of `{name}`"),
        );
        if is_origin {
            let before = describe(&manifest, &previous)
                .into_iter()
                .find(|i| i.name == name)
                .and_then(|i| i.value);
            if before.as_deref() != Some(value) {
                self.forget_consents_for_new_origin(app_id, name)?;
            }
        }
        Ok(())
    }

    /// Removes the value set for `name` of `app_id`: the next session reads
    /// the manifest's default, or gets `not-found`. Returns whether a value
    /// was set. Audited (`config.unset`).
    pub fn unset_setting(&self, app_id: &str, name: &str) -> Result<bool> {
        let manifest = self.installed_manifest(app_id)?;
        if manifest.setting(name).is_none() {
            return Err(unknown(&manifest, name));
        }
        let removed = self.inner.services.store.delete_setting(app_id, name)?;
        if removed {
            self.inner.audit_host(
                "",
                app_id,
                "config.unset",
                Outcome::Allowed,
                &format!("removed the value of `{name}`"),
            );
            if manifest.origin_settings().iter().any(|n| n == name) {
                self.forget_consents_for_new_origin(app_id, name)?;
            }
        }
        Ok(removed)
    }

    /// The settings the installed mini-app `app_id` declares, in manifest
    /// order, each with the value its next session reads and where that
    /// comes from; a secret's value is never given (`None`).
    pub fn settings(&self, app_id: &str) -> Result<Vec<SettingInfo>> {
        let manifest = self.installed_manifest(app_id)?;
        let records = self.inner.services.store.settings(app_id)?;
        Ok(describe(&manifest, &records))
    }

    /// The manifest of the installed mini-app `app_id`.
    fn installed_manifest(&self, app_id: &str) -> Result<Manifest> {
        let Some(record) = self.inner.services.store.package_info(app_id)? else {
            return Err(Error::NotInstalled {
                app: app_id.to_string(),
            });
        };
        Manifest::parse(&format!("{app_id} (installed)"), &record.manifest)
    }

    /// Forgets every user's consent decisions about `app_id`: the origin
    /// its setting `name` names changed. Audited (`consent.reset`).
    fn forget_consents_for_new_origin(&self, app_id: &str, name: &str) -> Result<()> {
        let forgotten = self.inner.services.store.reset_consents(app_id, None)?;
        self.inner.audit_host(
            "",
            app_id,
            "consent.reset",
            Outcome::Denied,
            &format!(
                "the origin the setting `{name}` names changed: every user is asked again ({forgotten} decisions forgotten)"
            ),
        );
        Ok(())
    }
}

fn unknown(manifest: &Manifest, name: &str) -> Error {
    Error::UnknownSetting {
        app: manifest.app.id.clone(),
        name: name.chars().take(64).collect(),
        declared: manifest.settings.iter().map(|s| s.name.clone()).collect(),
    }
}
