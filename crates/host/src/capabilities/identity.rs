//! `plaza:host/identity`: pseudonymous ids, login codes, and the consent
//! scopes (profile, phone, real name, location, insurance card).
//!
//! - `openid` is a keyed hash (HMAC-SHA-256 with the host's id secret) of
//!   (user, mini-app), `unionid` of (user, publisher): stable, different per
//!   mini-app (per publisher), not reversible without the host's secret, and
//!   free of consent.
//! - Every scope goes through [`Gate::check_scope`](crate::gate::Gate::check_scope),
//!   which reads the remembered decision from the store at every call (so a
//!   revocation takes effect at the very next call of a live session), asks
//!   the user through the prompter when there is none, and audits the use.
//! - `login` issues a single-use code that expires after
//!   [`LOGIN_CODE_TTL_MS`]; the mini-app's backend exchanges it with the app
//!   secret through [`Host::exchange_login_code`].
//!
//! The data behind the scopes is what the embedding app set with
//! [`Host::set_user_profile`]; the insurance card is the one bound in the
//! user's wallet ([`LedgerStore::insurance_card`]).
//!
//! ```
//! # async fn demo(host: plaza_host::Host) -> plaza_host::Result<()> {
//! use plaza_host::store::{UserProfile, RealNameRecord};
//! host.set_user_profile("li-na", UserProfile {
//!     nickname: Some("Na".into()),
//!     phone: Some("13800138000".into()),
//!     real_name: Some(RealNameRecord { name: "Li Na".into(), id_number: "330106199001010022".into(), verified: true }),
//!     ..UserProfile::default()
//! })?;
//! # Ok(()) }
//! ```

use crate::error::{Error, Result};
use crate::host::{Host, Services};
use crate::keys::{HostKeys, random_32};
use crate::manifest::{Capability, Scope};
use crate::package::{sha256_hex, to_hex};
use crate::session::SessionState;
use crate::store::{
    AuditEntry, ConsentRecord, GeoPoint, LoginCodeRecord, LoginCodeTake, Outcome, UserProfile,
};
use plaza_world::identity::{
    Host as IdentityHost, InsuranceCard, Location, LocationPrecision, LoginCode, Profile, RealName,
};
use plaza_world::types::Error as WitError;

/// How long a login code works: five minutes.
pub const LOGIN_CODE_TTL_MS: i64 = 5 * 60 * 1000;
/// How many unused, unexpired login codes a user may hold in one mini-app.
pub const MAX_LIVE_LOGIN_CODES: u64 = 10;
/// The grid coarse locations are rounded to, in degrees (about a kilometre).
pub const COARSE_LOCATION_DEGREES: f64 = 0.01;
/// The least accuracy a coarse location claims, in metres.
pub const COARSE_LOCATION_ACCURACY_M: f64 = 1000.0;
/// The session id in audit entries of what the host's own settings and its
/// server-side API did.
pub const HOST_SESSION: &str = "host";

/// The user's pseudonymous id in a mini-app.
pub(crate) fn openid(keys: &HostKeys, user: &str, app: &str) -> String {
    keys.pseudonym(&["openid", user, app])
}

/// The user's pseudonymous id for a publisher.
pub(crate) fn unionid(keys: &HostKeys, user: &str, publisher: &str) -> String {
    keys.pseudonym(&["unionid", user, publisher])
}

/// What a mini-app's backend gets for a login code.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LoginExchange {
    /// The user's openid in the mini-app.
    pub openid: String,
    /// The user's unionid for the mini-app's publisher.
    pub unionid: String,
}

/// Rounds a location to the coarse grid.
pub fn coarse_location(p: GeoPoint) -> GeoPoint {
    let round = |d: f64| (d / COARSE_LOCATION_DEGREES).round() * COARSE_LOCATION_DEGREES;
    GeoPoint {
        latitude: round(p.latitude),
        longitude: round(p.longitude),
        accuracy_m: p.accuracy_m.max(COARSE_LOCATION_ACCURACY_M),
    }
}

fn store_failed(e: impl std::fmt::Display) -> WitError {
    tracing::error!("identity: {e}");
    WitError::Unavailable("the host could not read the user's data; try again later".into())
}

fn not_set(what: &str) -> WitError {
    WitError::NotFound(format!(
        "the user has not set {what} in the host; ask the user to enter it instead"
    ))
}

impl SessionState {
    /// Asks the gate for a consent scope (it prompts, remembers and audits).
    async fn scope(&mut self, scope: Scope) -> Result<(), WitError> {
        // The gate may ask the user.
        self.release_lane();
        let services = self.services.clone();
        services
            .gate
            .check_scope_in_event(&self.subject, &mut self.event_use.memo, scope)
            .await
            .map_err(WitError::from)
    }

    /// The user's identity data, empty if none was set.
    fn user_data(&self) -> Result<UserProfile, WitError> {
        Ok(self
            .services
            .store
            .user_profile(&self.subject.user)
            .map_err(store_failed)?
            .unwrap_or_default())
    }

    /// Audits a pseudonymous id's first use in this session.
    fn audit_id(&mut self, what: &str) -> Result<(), WitError> {
        if self.memo.first_use(what) {
            let services = self.services.clone();
            services
                .gate
                .audit(
                    &self.subject,
                    what,
                    Outcome::Allowed,
                    "pseudonymous id, no consent needed (first use in this session)",
                )
                .map_err(WitError::from)?;
        }
        Ok(())
    }
}

impl IdentityHost for SessionState {
    async fn openid(&mut self) -> Result<String, WitError> {
        self.allow(Capability::Identity)?;
        self.audit_id("identity.openid")?;
        Ok(openid(
            &self.services.keys,
            &self.subject.user,
            self.subject.app(),
        ))
    }

    async fn unionid(&mut self) -> Result<String, WitError> {
        self.allow(Capability::Identity)?;
        self.audit_id("identity.unionid")?;
        Ok(unionid(
            &self.services.keys,
            &self.subject.user,
            &self.subject.manifest.publisher.id,
        ))
    }

    async fn login(&mut self) -> Result<LoginCode, WitError> {
        self.allow(Capability::Identity)?;
        let now = self.services.clock.now_ms();
        let live = self
            .services
            .store
            .live_login_codes(self.subject.app(), &self.subject.user, now)
            .map_err(store_failed)?;
        if live >= MAX_LIVE_LOGIN_CODES {
            return Err(WitError::LimitExceeded(format!(
                "the user already holds {live} unused login codes of this mini-app (at most {MAX_LIVE_LOGIN_CODES}); exchange one, or wait until they expire"
            )));
        }
        let code = to_hex(&random_32().map_err(store_failed)?[..16]);
        let expires_at_ms = now + LOGIN_CODE_TTL_MS;
        self.services
            .store
            .put_login_code(&LoginCodeRecord {
                code_sha256: sha256_hex(code.as_bytes()),
                app: self.subject.app().to_string(),
                user: self.subject.user.clone(),
                publisher: self.subject.manifest.publisher.id.clone(),
                issued_at_ms: now,
                expires_at_ms,
            })
            .map_err(store_failed)?;
        self.services
            .gate
            .audit(
                &self.subject,
                "identity.login",
                Outcome::Allowed,
                "issued a single-use login code (expires in 5 minutes)",
            )
            .map_err(WitError::from)?;
        Ok(LoginCode {
            code,
            expires_at_ms,
        })
    }

    async fn get_profile(&mut self) -> Result<Profile, WitError> {
        self.scope(Scope::Profile).await?;
        let data = self.user_data()?;
        if data.nickname.is_none() && data.avatar_url.is_none() {
            return Err(not_set("a nickname or avatar"));
        }
        Ok(Profile {
            nickname: data.nickname.unwrap_or_default(),
            avatar_url: data.avatar_url.unwrap_or_default(),
        })
    }

    async fn get_phone(&mut self) -> Result<String, WitError> {
        self.scope(Scope::Phone).await?;
        self.user_data()?
            .phone
            .ok_or_else(|| not_set("a phone number"))
    }

    async fn get_real_name(&mut self) -> Result<RealName, WitError> {
        self.scope(Scope::RealName).await?;
        let r = self
            .user_data()?
            .real_name
            .ok_or_else(|| not_set("a real name"))?;
        Ok(RealName {
            name: r.name,
            id_number: r.id_number,
            verified: r.verified,
        })
    }

    async fn get_location(&mut self, precision: LocationPrecision) -> Result<Location, WitError> {
        let scope = match precision {
            LocationPrecision::Coarse => Scope::Location,
            LocationPrecision::Precise => Scope::PreciseLocation,
        };
        self.scope(scope).await?;
        let point = self
            .user_data()?
            .location
            .ok_or_else(|| not_set("a location (the device has not reported one)"))?;
        let point = match precision {
            LocationPrecision::Coarse => coarse_location(point),
            LocationPrecision::Precise => point,
        };
        Ok(Location {
            latitude: point.latitude,
            longitude: point.longitude,
            accuracy_m: point.accuracy_m,
        })
    }

    async fn get_insurance_card(&mut self) -> Result<InsuranceCard, WitError> {
        self.scope(Scope::InsuranceCard).await?;
        let card = self
            .services
            .store
            .insurance_card(&self.subject.user)
            .map_err(store_failed)?
            .ok_or_else(|| not_set("a medical insurance card (bind one in the wallet)"))?;
        Ok(InsuranceCard {
            card_number: card.card_number,
            holder_name: card.holder_name,
            scheme: card.scheme,
        })
    }
}

fn check_text(field: &'static str, value: &Option<String>, max_chars: usize) -> Result<()> {
    if let Some(v) = value
        && (v.trim().is_empty() || v.chars().count() > max_chars)
    {
        return Err(Error::InvalidUserData {
            field,
            message: format!("it must be 1 to {max_chars} characters (leave it unset for none)"),
        });
    }
    Ok(())
}

fn check_profile(p: &UserProfile) -> Result<()> {
    check_text("nickname", &p.nickname, 64)?;
    check_text("avatar URL", &p.avatar_url, 2048)?;
    if let Some(url) = &p.avatar_url
        && !url.starts_with("https://")
    {
        return Err(Error::InvalidUserData {
            field: "avatar URL",
            message: format!("`{url}` is not an https: URL"),
        });
    }
    check_text("phone", &p.phone, 32)?;
    if let Some(phone) = &p.phone
        && !phone
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' '))
    {
        return Err(Error::InvalidUserData {
            field: "phone",
            message: format!("`{phone}` has characters other than digits, `+`, `-` and spaces"),
        });
    }
    if let Some(r) = &p.real_name {
        check_text("real name", &Some(r.name.clone()), 64)?;
        check_text("ID number", &Some(r.id_number.clone()), 32)?;
    }
    if let Some(l) = &p.location {
        let ok = (-90.0..=90.0).contains(&l.latitude)
            && (-180.0..=180.0).contains(&l.longitude)
            && l.accuracy_m.is_finite()
            && l.accuracy_m >= 0.0;
        if !ok {
            return Err(Error::InvalidUserData {
                field: "location",
                message: format!(
                    "latitude {} must be within ±90, longitude {} within ±180, accuracy {} m finite and not negative",
                    l.latitude, l.longitude, l.accuracy_m
                ),
            });
        }
    }
    Ok(())
}

impl Services {
    fn audit_host(&self, user: &str, app: &str, what: &str, outcome: Outcome, detail: &str) {
        let entry = AuditEntry {
            at_ms: self.clock.now_ms(),
            user: user.to_string(),
            app: app.to_string(),
            session: HOST_SESSION.to_string(),
            capability: what.to_string(),
            outcome,
            detail: detail.to_string(),
        };
        if let Err(e) = self.store.append_audit(&entry) {
            tracing::error!("writing the audit log: {e}");
        }
    }
}

impl Host {
    /// Sets what the host knows of a user (replacing what it knew): nickname
    /// and avatar (scope `profile`), phone (`phone`), legal name and ID
    /// number (`real-name`), the device's last known location (`location`
    /// rounded, `precise-location` as is). Mini-apps read it only through
    /// the consent scopes.
    pub fn set_user_profile(&self, user: &str, profile: UserProfile) -> Result<()> {
        check_profile(&profile)?;
        let services = &self.inner.services;
        services
            .store
            .put_user_profile(user, &profile, services.clock.now_ms())?;
        Ok(())
    }

    /// What the host knows of a user.
    pub fn user_profile(&self, user: &str) -> Result<Option<UserProfile>> {
        Ok(self.inner.services.store.user_profile(user)?)
    }

    /// The server-side half of login: a mini-app's backend gives its app
    /// secret and the code the mini-app got from `login`, and gets the
    /// user's openid and unionid. A code works once, for five minutes, and
    /// only for the mini-app it was issued to. Each failure is its own
    /// error: [`Error::WrongAppSecret`], [`Error::LoginCodeReused`],
    /// [`Error::LoginCodeExpired`], [`Error::UnknownLoginCode`].
    pub fn exchange_login_code(
        &self,
        app_id: &str,
        app_secret: &str,
        code: &str,
    ) -> Result<LoginExchange> {
        let services = &self.inner.services;
        let Some(secret_hash) = services.store.app_secret(app_id)? else {
            return Err(Error::NotInstalled {
                app: app_id.to_string(),
            });
        };
        if sha256_hex(app_secret.as_bytes()) != secret_hash {
            services.audit_host(
                "",
                app_id,
                "identity.login-exchange",
                Outcome::Denied,
                "wrong app secret",
            );
            return Err(Error::WrongAppSecret {
                app: app_id.to_string(),
            });
        }
        let now = services.clock.now_ms();
        let taken = services
            .store
            .take_login_code(app_id, &sha256_hex(code.as_bytes()), now)?;
        let record = match taken {
            LoginCodeTake::Taken(record) => record,
            LoginCodeTake::Used => {
                return Err(Error::LoginCodeReused {
                    app: app_id.to_string(),
                });
            }
            LoginCodeTake::Expired { expires_at_ms } => {
                return Err(Error::LoginCodeExpired {
                    app: app_id.to_string(),
                    expired_at_ms: expires_at_ms,
                });
            }
            LoginCodeTake::Unknown => {
                return Err(Error::UnknownLoginCode {
                    app: app_id.to_string(),
                });
            }
        };
        services.audit_host(
            &record.user,
            app_id,
            "identity.login-exchange",
            Outcome::Allowed,
            "the mini-app's backend exchanged a login code for the openid and unionid",
        );
        Ok(LoginExchange {
            openid: openid(&services.keys, &record.user, app_id),
            unionid: unionid(&services.keys, &record.user, &record.publisher),
        })
    }

    /// Sets a consent decision from the host's settings (the user turned a
    /// scope on or off), replacing the remembered answer. Live sessions
    /// follow it from their next call.
    pub fn set_consent(&self, user: &str, app_id: &str, scope: Scope, granted: bool) -> Result<()> {
        let services = &self.inner.services;
        services.store.put_consent(&ConsentRecord {
            user: user.to_string(),
            app: app_id.to_string(),
            scope: scope.as_str().to_string(),
            granted,
            decided_at_ms: services.clock.now_ms(),
        })?;
        services.audit_host(
            user,
            app_id,
            &format!("consent.settings.{scope}"),
            if granted {
                Outcome::Allowed
            } else {
                Outcome::Denied
            },
            if granted {
                "the user allowed it in the host's settings"
            } else {
                "the user refused it in the host's settings"
            },
        );
        Ok(())
    }

    /// Audits a revocation made through the host's settings.
    pub(crate) fn audit_revocation(&self, user: &str, app_id: &str, scope: &str) {
        self.inner.services.audit_host(
            user,
            app_id,
            &format!("consent.revoked.{scope}"),
            Outcome::Denied,
            "the user revoked it in the host's settings; the next use asks again",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coarse_location_is_rounded_to_about_a_kilometre() {
        let c = coarse_location(GeoPoint {
            latitude: 30.274_08,
            longitude: 120.155_07,
            accuracy_m: 8.0,
        });
        assert!((c.latitude - 30.27).abs() < 1e-9, "{c:?}");
        assert!((c.longitude - 120.16).abs() < 1e-9, "{c:?}");
        assert_eq!(c.accuracy_m, 1000.0);
    }

    #[test]
    fn profiles_are_checked() {
        let bad = UserProfile {
            avatar_url: Some("http://a/x.png".into()),
            ..UserProfile::default()
        };
        assert!(
            check_profile(&bad)
                .unwrap_err()
                .to_string()
                .contains("https")
        );
        let bad = UserProfile {
            phone: Some("call me".into()),
            ..UserProfile::default()
        };
        assert!(check_profile(&bad).is_err());
        let bad = UserProfile {
            location: Some(GeoPoint {
                latitude: 91.0,
                ..GeoPoint::default()
            }),
            ..UserProfile::default()
        };
        assert!(check_profile(&bad).is_err());
        assert!(check_profile(&UserProfile::default()).is_ok());
    }
}
