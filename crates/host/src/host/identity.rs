//! What the host knows of its users and what they decided: the identity
//! data behind the consent scopes, consent settings, and the server-side
//! half of login (a backend exchanging a login code).

use super::Host;
use crate::capabilities::LoginExchange;
use crate::capabilities::identity::unionid;
use crate::error::{Error, Result};
use crate::hex;
use crate::manifest::Scope;
use crate::store::{ConsentRecord, LoginCodeTake, Outcome, UserProfile};

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
        self.check_app_secret(app_id, app_secret, "identity.login-exchange")?;
        self.take_login_code(app_id, code, "identity.login-exchange")
    }

    /// Checks a mini-app's app secret, a wrong one audited as `what`;
    /// returns the hash the host keeps of it. [`Error::NotInstalled`] for a
    /// mini-app that was never given one, [`Error::WrongAppSecret`].
    pub(crate) fn check_app_secret(
        &self,
        app_id: &str,
        app_secret: &str,
        what: &str,
    ) -> Result<String> {
        let Some(secret_hash) = self.inner.services.store.app_secret(app_id)? else {
            return Err(Error::NotInstalled {
                app: app_id.to_string(),
            });
        };
        if hex::sha256(app_secret.as_bytes()) != secret_hash {
            self.inner
                .audit_host("", app_id, what, Outcome::Denied, "wrong app secret");
            return Err(Error::WrongAppSecret {
                app: app_id.to_string(),
            });
        }
        Ok(secret_hash)
    }

    /// Uses up a login code of `app_id` for the user's openid and unionid,
    /// audited as `what`; the openid is remembered for the publisher API.
    pub(crate) fn take_login_code(
        &self,
        app_id: &str,
        code: &str,
        what: &str,
    ) -> Result<LoginExchange> {
        let services = &self.inner.services;
        let now = services.clock.now_ms();
        let taken = services
            .store
            .take_login_code(app_id, &hex::sha256(code.as_bytes()), now)?;
        let app = app_id.to_string();
        let record = match taken {
            LoginCodeTake::Taken(record) => record,
            LoginCodeTake::Used => return Err(Error::LoginCodeReused { app }),
            LoginCodeTake::Expired { expires_at_ms } => {
                return Err(Error::LoginCodeExpired {
                    app,
                    expired_at_ms: expires_at_ms,
                });
            }
            LoginCodeTake::Unknown => return Err(Error::UnknownLoginCode { app }),
        };
        self.inner.audit_host(
            &record.user,
            app_id,
            what,
            Outcome::Allowed,
            "the mini-app's backend exchanged a login code for the openid and unionid",
        );
        let epoch = services.store.identity_epoch(&record.user, app_id)?;
        Ok(LoginExchange {
            openid: self.remember_openid(&record.user, app_id)?,
            unionid: unionid(&services.keys, &record.user, &record.publisher, epoch),
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
        self.inner.audit_host(
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
        self.inner.audit_host(
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
    use crate::store::GeoPoint;

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
