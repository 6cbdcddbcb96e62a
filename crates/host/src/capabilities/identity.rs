//! `plaza:host/identity`: pseudonymous ids, login codes, and the consent
//! scopes (profile, phone, real name, location, insurance card).
//!
//! - `openid` is a keyed hash (HMAC-SHA-256 with the host's id secret) of
//!   (user, mini-app), `unionid` of (user, publisher): stable, different per
//!   mini-app (per publisher), not reversible without the host's secret, and
//!   free of consent. Both also hash the user's identity epoch in the
//!   mini-app once the user has erased its data (`Host::erase_user_app_data`),
//!   so the mini-app sees a new user.
//! - Every scope goes through the gate's consent check,
//!   which reads the remembered decision from the store at every call (so a
//!   revocation takes effect at the very next call of a live session), asks
//!   the user through the prompter when there is none, and audits the use.
//! - `login` issues a single-use code that expires after
//!   [`LOGIN_CODE_TTL_MS`]; the mini-app's backend exchanges it with the app
//!   secret through [`Host::exchange_login_code`](crate::Host::exchange_login_code).
//!
//! The data behind the scopes is what the embedding app set with
//! [`Host::set_user_profile`](crate::Host::set_user_profile); the insurance card is the one bound in the
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

use crate::clock::Clock;
use crate::gate::SessionGate;
use crate::hex;
use crate::keys::{HostKeys, random_32};
use crate::manifest::{Capability, Scope};
use crate::store::{
    GeoPoint, LedgerStore, LoginCodeRecord, LoginStore, Outcome, PrivacyStore, UserDataStore,
    UserProfile,
};
use plaza_world::identity::{
    Host as IdentityHost, InsuranceCard, Location, LocationPrecision, LoginCode, Profile, RealName,
};
use plaza_world::types::Error as WitError;
use wasmtime::component::HasData;

/// How long a login code works: five minutes.
pub const LOGIN_CODE_TTL_MS: i64 = 5 * 60 * 1000;
/// How many unused, unexpired login codes a user may hold in one mini-app.
pub const MAX_LIVE_LOGIN_CODES: u64 = 10;
/// The grid coarse locations are rounded to, in degrees (about a kilometre).
pub const COARSE_LOCATION_DEGREES: f64 = 0.01;
/// The least accuracy a coarse location claims, in metres.
pub const COARSE_LOCATION_ACCURACY_M: f64 = 1000.0;

/// The user's pseudonymous id in a mini-app: in the `generation` of its app
/// id (each release of the id gives its users new openids) and at the user's
/// identity `epoch` in it ([`PrivacyStore::identity_epoch`]: 0 until the user
/// first erases the mini-app's data, which makes it see a new user).
pub(crate) fn openid(
    keys: &HostKeys,
    user: &str,
    app: &str,
    generation: u32,
    epoch: u64,
) -> String {
    pseudonym_at(keys, ["openid", user, app], generation, epoch)
}

/// Remembers the openid `user` has in `app_id` now, for the publisher
/// API to address the user by it
/// (in its app id's generation, at the user's identity epoch there);
/// returns it.
pub(crate) fn remember_openid(
    s: &crate::services::Services,
    user: &str,
    app_id: &str,
) -> crate::Result<String> {
    let generation = s
        .store
        .app_id_owner(app_id)?
        .map_or(0, |owner| owner.generation);
    let epoch = s.store.identity_epoch(user, app_id)?;
    let id = openid(&s.keys, user, app_id, generation, epoch);
    s.store
        .remember_openid(app_id, generation, &id, user, s.clock.now_ms())?;
    Ok(id)
}

/// The user's pseudonymous id for a publisher, as a mini-app of it at the
/// user's identity `epoch` in that mini-app sees it: the same in all the
/// publisher's mini-apps at epoch 0; a mini-app whose data the user erased
/// gets a new one, so the publisher cannot join the new user to the old.
pub(crate) fn unionid(keys: &HostKeys, user: &str, publisher: &str, epoch: u64) -> String {
    pseudonym_at(keys, ["unionid", user, publisher], 0, epoch)
}

/// The pseudonym of `parts`, with the app id's generation and the user's
/// epoch as further parts once they are past 0 (so generation 0 at epoch 0
/// keeps the ids issued before either existed). Each carries its own label,
/// so a generation never yields the pseudonym of an epoch.
fn pseudonym_at(keys: &HostKeys, parts: [&str; 3], generation: u32, epoch: u64) -> String {
    let generation = (generation > 0).then(|| format!("generation={generation}"));
    let epoch = (epoch > 0).then(|| epoch.to_string());
    let mut all: Vec<&str> = parts.to_vec();
    all.extend(generation.as_deref());
    all.extend(epoch.as_deref());
    keys.pseudonym(&all)
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

/// What the identity capability sees of a session: its way through the
/// gate, the user's data, login codes, the insurance card in the wallet, and
/// the host's pseudonym key.
pub(crate) struct IdentityView<'a> {
    pub(crate) gate: &'a mut SessionGate,
    pub(crate) users: &'a dyn UserDataStore,
    pub(crate) logins: &'a dyn LoginStore,
    pub(crate) cards: &'a dyn LedgerStore,
    pub(crate) epochs: &'a dyn PrivacyStore,
    pub(crate) keys: &'a HostKeys,
    pub(crate) clock: &'a dyn Clock,
}

/// Links `plaza:host/identity` to a session's [`IdentityView`].
pub(crate) struct Identity;

impl HasData for Identity {
    type Data<'a> = IdentityView<'a>;
}

impl IdentityView<'_> {
    fn allow(&mut self) -> Result<(), WitError> {
        self.gate
            .check(Capability::Identity)
            .map_err(WitError::from)
    }

    /// Asks the gate for a consent scope (it prompts, remembers and audits).
    async fn scope(&mut self, scope: Scope) -> Result<(), WitError> {
        self.gate.check_scope(scope).await.map_err(WitError::from)
    }

    /// The user's identity data, empty if none was set.
    fn user_data(&self) -> Result<UserProfile, WitError> {
        Ok(self
            .users
            .user_profile(&self.gate.subject().user)
            .map_err(store_failed)?
            .unwrap_or_default())
    }

    /// The user's identity epoch in this mini-app, read at every call: an
    /// erasure during a live session takes effect at its next call.
    fn epoch(&self) -> Result<u64, WitError> {
        let subject = self.gate.subject();
        self.epochs
            .identity_epoch(&subject.user, subject.app())
            .map_err(store_failed)
    }

    /// Audits a pseudonymous id's first use in this session.
    fn audit_id(&mut self, what: &str) -> Result<(), WitError> {
        self.gate
            .audit_first_use(
                what,
                "pseudonymous id, no consent needed (first use in this session)",
            )
            .map_err(WitError::from)
    }
}

impl IdentityHost for IdentityView<'_> {
    async fn openid(&mut self) -> Result<String, WitError> {
        self.allow()?;
        self.audit_id("identity.openid")?;
        let epoch = self.epoch()?;
        let subject = self.gate.subject();
        Ok(openid(
            self.keys,
            &subject.user,
            subject.app(),
            subject.generation,
            epoch,
        ))
    }

    async fn unionid(&mut self) -> Result<String, WitError> {
        self.allow()?;
        self.audit_id("identity.unionid")?;
        let epoch = self.epoch()?;
        let subject = self.gate.subject();
        Ok(unionid(
            self.keys,
            &subject.user,
            &subject.manifest.publisher.id,
            epoch,
        ))
    }

    async fn login(&mut self) -> Result<LoginCode, WitError> {
        self.allow()?;
        let now = self.clock.now_ms();
        let subject = self.gate.subject();
        let live = self
            .logins
            .live_login_codes(subject.app(), &subject.user, now)
            .map_err(store_failed)?;
        if live >= MAX_LIVE_LOGIN_CODES {
            return Err(WitError::LimitExceeded(format!(
                "the user already holds {live} unused login codes of this mini-app (at most {MAX_LIVE_LOGIN_CODES}); exchange one, or wait until they expire"
            )));
        }
        let code = hex::encode(&random_32().map_err(store_failed)?[..16]);
        let expires_at_ms = now + LOGIN_CODE_TTL_MS;
        self.logins
            .put_login_code(&LoginCodeRecord {
                code_sha256: hex::sha256(code.as_bytes()),
                app: subject.app().to_string(),
                user: subject.user.clone(),
                publisher: subject.manifest.publisher.id.clone(),
                issued_at_ms: now,
                expires_at_ms,
            })
            .map_err(store_failed)?;
        self.gate
            .audit(
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
            .cards
            .insurance_card(&self.gate.subject().user)
            .map_err(store_failed)?
            .ok_or_else(|| not_set("a medical insurance card (bind one in the wallet)"))?;
        Ok(InsuranceCard {
            card_number: card.card_number,
            holder_name: card.holder_name,
            scheme: card.scheme,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_0_at_epoch_0_keeps_the_ids_issued_before_and_each_later_one_changes_them() {
        let store = crate::store::SqliteStore::open_in_memory().unwrap();
        let keys = HostKeys::load(&store).unwrap();
        assert_eq!(
            openid(&keys, "u", "a.b", 0, 0),
            keys.pseudonym(&["openid", "u", "a.b"])
        );
        assert_eq!(
            unionid(&keys, "u", "p", 0),
            keys.pseudonym(&["unionid", "u", "p"])
        );
        let ids = [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (2, 0)]
            .map(|(generation, epoch)| openid(&keys, "u", "a.b", generation, epoch));
        for (i, a) in ids.iter().enumerate() {
            for b in &ids[i + 1..] {
                assert_ne!(a, b, "a generation and an epoch gave one openid");
            }
        }
        assert_ne!(unionid(&keys, "u", "p", 1), unionid(&keys, "u", "p", 0));
    }

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
}
