//! Identity and trust: the registry of trusted publishers, the mini-apps'
//! app secrets and login codes, and the user's own identity data (nickname,
//! avatar, phone, verified real name, last known location) that the
//! embedding app sets and consent scopes read.
//!
//! Secrets and login codes are kept only as SHA-256 hashes: a copy of the
//! store does not give them away.

use super::sqlite::db;
use super::{SqliteStore, StoreError, StoreResult};
use crate::manifest::Category;
use rusqlite::{OptionalExtension, params};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS publishers (
    publisher_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    verified INTEGER NOT NULL,
    public_key TEXT NOT NULL,
    added_at_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS app_secrets (
    app_id TEXT PRIMARY KEY,
    secret_sha256 TEXT NOT NULL,
    issued_at_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS login_codes (
    code_sha256 TEXT PRIMARY KEY,
    app_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    publisher_id TEXT NOT NULL,
    issued_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    used_at_ms INTEGER
);
CREATE INDEX IF NOT EXISTS login_codes_by_expiry ON login_codes (expires_at_ms);
CREATE TABLE IF NOT EXISTS user_identity (
    user_id TEXT PRIMARY KEY,
    profile TEXT NOT NULL,
    updated_at_ms INTEGER NOT NULL
);
";

/// How long a used or expired login code is remembered (so a late retry gets
/// `reused` or `expired`, not `unknown`): one day.
pub const LOGIN_CODE_MEMORY_MS: i64 = 24 * 60 * 60 * 1000;

/// A publisher the host trusts to sign packages.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PublisherRecord {
    /// Reverse-DNS id, as manifests name it.
    pub id: String,
    /// The name users see (payee of payments, asker of consent).
    pub name: String,
    /// The category the host assigns it; manifests must claim the same.
    pub category: Category,
    /// Whether the host operator verified who the publisher is.
    pub verified: bool,
    /// Its ed25519 public key, hex (64 characters).
    pub public_key: String,
    /// When it was added or last changed, ms since the epoch.
    pub added_at_ms: i64,
}

/// The registry of trusted publishers.
pub trait PublisherStore: Send + Sync {
    /// Adds a publisher or replaces the entry with the same id.
    fn put_publisher(&self, record: &PublisherRecord) -> StoreResult<()>;
    /// The publisher `id`, if registered.
    fn get_publisher(&self, id: &str) -> StoreResult<Option<PublisherRecord>>;
    /// Every publisher, by id.
    fn list_publishers(&self) -> StoreResult<Vec<PublisherRecord>>;
    /// Removes a publisher; returns whether it was registered.
    fn delete_publisher(&self, id: &str) -> StoreResult<bool>;
}

/// A login code as issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginCodeRecord {
    /// SHA-256 of the code, hex.
    pub code_sha256: String,
    /// The mini-app it was issued to.
    pub app: String,
    /// The user it stands for.
    pub user: String,
    /// The mini-app's publisher (for the unionid).
    pub publisher: String,
    /// When it was issued, ms since the epoch.
    pub issued_at_ms: i64,
    /// When it stops working, ms since the epoch.
    pub expires_at_ms: i64,
}

/// What taking a login code found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginCodeTake {
    /// The code was valid and is now used up.
    Taken(LoginCodeRecord),
    /// No such code was issued to the mini-app (or it was forgotten).
    Unknown,
    /// The code was used before.
    Used,
    /// The code expired.
    Expired {
        /// When, ms since the epoch.
        expires_at_ms: i64,
    },
}

/// App secrets and login codes: what a mini-app's backend needs to turn a
/// login code into the user's openid.
pub trait LoginStore: Send + Sync {
    /// Sets (or replaces) the hash of a mini-app's secret.
    fn put_app_secret(&self, app: &str, secret_sha256: &str, now_ms: i64) -> StoreResult<()>;
    /// The hash of a mini-app's secret, if one was issued.
    fn app_secret(&self, app: &str) -> StoreResult<Option<String>>;
    /// Records a new login code, forgetting codes that expired long ago.
    fn put_login_code(&self, record: &LoginCodeRecord) -> StoreResult<()>;
    /// How many codes of (`app`, `user`) are unused and unexpired at `now_ms`.
    fn live_login_codes(&self, app: &str, user: &str, now_ms: i64) -> StoreResult<u64>;
    /// Uses up a login code of `app` at `now_ms`, atomically: of two racing
    /// exchanges of one code, one gets `Taken`, the other `Used`.
    fn take_login_code(
        &self,
        app: &str,
        code_sha256: &str,
        now_ms: i64,
    ) -> StoreResult<LoginCodeTake>;
}

/// A verified legal name.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct RealNameRecord {
    /// The full legal name.
    pub name: String,
    /// The national identity document number.
    pub id_number: String,
    /// Whether the host verified them against an identity document.
    pub verified: bool,
}

/// A point on Earth (WGS 84).
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct GeoPoint {
    /// Latitude, degrees.
    pub latitude: f64,
    /// Longitude, degrees.
    pub longitude: f64,
    /// Radius of uncertainty, metres.
    pub accuracy_m: f64,
}

/// What the host knows of a user, as the embedding app set it. Consent
/// scopes read it: `profile` the nickname and avatar, `phone`, `real-name`,
/// `location` and `precise-location` the location.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct UserProfile {
    /// The nickname.
    pub nickname: Option<String>,
    /// An `https:` URL of the avatar.
    pub avatar_url: Option<String>,
    /// The phone number.
    pub phone: Option<String>,
    /// The legal name and identity number.
    pub real_name: Option<RealNameRecord>,
    /// The last known location of the user's device.
    pub location: Option<GeoPoint>,
}

/// The user's identity data.
pub trait UserDataStore: Send + Sync {
    /// Replaces what the host knows of `user`.
    fn put_user_profile(&self, user: &str, profile: &UserProfile, now_ms: i64) -> StoreResult<()>;
    /// What the host knows of `user`, if anything was set.
    fn user_profile(&self, user: &str) -> StoreResult<Option<UserProfile>>;
}

fn category_of(name: &str) -> rusqlite::Result<Category> {
    Category::ALL
        .into_iter()
        .find(|c| c.as_str() == name)
        .ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                2,
                rusqlite::types::Type::Text,
                format!("unknown category `{name}`").into(),
            )
        })
}

fn publisher_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PublisherRecord> {
    Ok(PublisherRecord {
        id: r.get(0)?,
        name: r.get(1)?,
        category: category_of(&r.get::<_, String>(2)?)?,
        verified: r.get::<_, i64>(3)? != 0,
        public_key: r.get(4)?,
        added_at_ms: r.get(5)?,
    })
}

impl PublisherStore for SqliteStore {
    fn put_publisher(&self, p: &PublisherRecord) -> StoreResult<()> {
        self.conn()
            .execute(
                "INSERT OR REPLACE INTO publishers
                 (publisher_id, name, category, verified, public_key, added_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    p.id,
                    p.name,
                    p.category.as_str(),
                    p.verified as i64,
                    p.public_key,
                    p.added_at_ms
                ],
            )
            .map_err(db("save a publisher"))?;
        Ok(())
    }

    fn get_publisher(&self, id: &str) -> StoreResult<Option<PublisherRecord>> {
        self.read_point()
            .prepare_cached(
                "SELECT publisher_id, name, category, verified, public_key, added_at_ms
                 FROM publishers WHERE publisher_id = ?1",
            )
            .and_then(|mut s| s.query_row([id], publisher_row).optional())
            .map_err(db("read a publisher"))
    }

    fn list_publishers(&self) -> StoreResult<Vec<PublisherRecord>> {
        let c = self.read();
        let mut stmt = c
            .prepare(
                "SELECT publisher_id, name, category, verified, public_key, added_at_ms
                 FROM publishers ORDER BY publisher_id",
            )
            .map_err(db("list publishers"))?;
        let rows = stmt
            .query_map([], publisher_row)
            .map_err(db("list publishers"))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(db("list publishers"))
    }

    fn delete_publisher(&self, id: &str) -> StoreResult<bool> {
        let n = self
            .conn()
            .execute("DELETE FROM publishers WHERE publisher_id = ?1", [id])
            .map_err(db("remove a publisher"))?;
        Ok(n > 0)
    }
}

impl LoginStore for SqliteStore {
    fn put_app_secret(&self, app: &str, secret_sha256: &str, now_ms: i64) -> StoreResult<()> {
        self.conn()
            .execute(
                "INSERT OR REPLACE INTO app_secrets (app_id, secret_sha256, issued_at_ms)
                 VALUES (?1, ?2, ?3)",
                params![app, secret_sha256, now_ms],
            )
            .map_err(db("save an app secret"))?;
        Ok(())
    }

    fn app_secret(&self, app: &str) -> StoreResult<Option<String>> {
        self.read_point()
            .query_row(
                "SELECT secret_sha256 FROM app_secrets WHERE app_id = ?1",
                [app],
                |r| r.get(0),
            )
            .optional()
            .map_err(db("read an app secret"))
    }

    fn put_login_code(&self, r: &LoginCodeRecord) -> StoreResult<()> {
        let mut c = self.conn();
        let tx = c.transaction().map_err(db("begin a write"))?;
        tx.execute(
            "DELETE FROM login_codes WHERE expires_at_ms < ?1",
            [r.issued_at_ms - LOGIN_CODE_MEMORY_MS],
        )
        .map_err(db("forget old login codes"))?;
        tx.execute(
            "INSERT INTO login_codes
             (code_sha256, app_id, user_id, publisher_id, issued_at_ms, expires_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                r.code_sha256,
                r.app,
                r.user,
                r.publisher,
                r.issued_at_ms,
                r.expires_at_ms
            ],
        )
        .map_err(db("save a login code"))?;
        tx.commit().map_err(db("commit a login code"))?;
        Ok(())
    }

    fn live_login_codes(&self, app: &str, user: &str, now_ms: i64) -> StoreResult<u64> {
        let n: i64 = self
            .read()
            .query_row(
                "SELECT COUNT(*) FROM login_codes WHERE app_id = ?1 AND user_id = ?2
                 AND used_at_ms IS NULL AND expires_at_ms > ?3",
                params![app, user, now_ms],
                |r| r.get(0),
            )
            .map_err(db("count login codes"))?;
        Ok(n as u64)
    }

    fn take_login_code(
        &self,
        app: &str,
        code_sha256: &str,
        now_ms: i64,
    ) -> StoreResult<LoginCodeTake> {
        let mut c = self.conn();
        let tx = c.transaction().map_err(db("begin a login"))?;
        let row = tx
            .query_row(
                "SELECT user_id, publisher_id, issued_at_ms, expires_at_ms, used_at_ms
                 FROM login_codes WHERE code_sha256 = ?1 AND app_id = ?2",
                params![code_sha256, app],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, Option<i64>>(4)?,
                    ))
                },
            )
            .optional()
            .map_err(db("read a login code"))?;
        let Some((user, publisher, issued_at_ms, expires_at_ms, used_at)) = row else {
            return Ok(LoginCodeTake::Unknown);
        };
        if used_at.is_some() {
            return Ok(LoginCodeTake::Used);
        }
        if now_ms >= expires_at_ms {
            return Ok(LoginCodeTake::Expired { expires_at_ms });
        }
        let n = tx
            .execute(
                "UPDATE login_codes SET used_at_ms = ?1 WHERE code_sha256 = ?2 AND used_at_ms IS NULL",
                params![now_ms, code_sha256],
            )
            .map_err(db("use a login code"))?;
        tx.commit().map_err(db("commit a login"))?;
        if n != 1 {
            return Ok(LoginCodeTake::Used);
        }
        Ok(LoginCodeTake::Taken(LoginCodeRecord {
            code_sha256: code_sha256.to_string(),
            app: app.to_string(),
            user,
            publisher,
            issued_at_ms,
            expires_at_ms,
        }))
    }
}

impl UserDataStore for SqliteStore {
    fn put_user_profile(&self, user: &str, profile: &UserProfile, now_ms: i64) -> StoreResult<()> {
        let json = serde_json::to_string(profile).map_err(|e| StoreError::Database {
            operation: "encode a user's profile",
            message: e.to_string(),
        })?;
        self.conn()
            .execute(
                "INSERT OR REPLACE INTO user_identity (user_id, profile, updated_at_ms)
                 VALUES (?1, ?2, ?3)",
                params![user, json, now_ms],
            )
            .map_err(db("save a user's profile"))?;
        Ok(())
    }

    fn user_profile(&self, user: &str) -> StoreResult<Option<UserProfile>> {
        let json: Option<String> = self
            .read()
            .query_row(
                "SELECT profile FROM user_identity WHERE user_id = ?1",
                [user],
                |r| r.get(0),
            )
            .optional()
            .map_err(db("read a user's profile"))?;
        json.map(|j| {
            serde_json::from_str(&j).map_err(|e| StoreError::Database {
                operation: "decode a user's profile",
                message: e.to_string(),
            })
        })
        .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publishers_round_trip_and_replace() {
        let s = SqliteStore::open_in_memory().unwrap();
        let mut p = PublisherRecord {
            id: "cn.hz.health".into(),
            name: "Health".into(),
            category: Category::Medical,
            verified: true,
            public_key: "ab".repeat(32),
            added_at_ms: 5,
        };
        s.put_publisher(&p).unwrap();
        assert_eq!(s.get_publisher("cn.hz.health").unwrap(), Some(p.clone()));
        p.verified = false;
        s.put_publisher(&p).unwrap();
        assert_eq!(s.list_publishers().unwrap(), vec![p]);
        assert!(s.delete_publisher("cn.hz.health").unwrap());
        assert!(!s.delete_publisher("cn.hz.health").unwrap());
        assert_eq!(s.get_publisher("cn.hz.health").unwrap(), None);
    }

    #[test]
    fn login_codes_are_single_use_expire_and_belong_to_one_app() {
        let s = SqliteStore::open_in_memory().unwrap();
        let rec = LoginCodeRecord {
            code_sha256: "h1".into(),
            app: "a.b".into(),
            user: "alice".into(),
            publisher: "a.pub".into(),
            issued_at_ms: 1_000,
            expires_at_ms: 301_000,
        };
        s.put_login_code(&rec).unwrap();
        assert_eq!(s.live_login_codes("a.b", "alice", 2_000).unwrap(), 1);
        assert_eq!(s.live_login_codes("a.b", "bob", 2_000).unwrap(), 0);
        assert_eq!(
            s.take_login_code("other.app", "h1", 2_000).unwrap(),
            LoginCodeTake::Unknown
        );
        assert_eq!(
            s.take_login_code("a.b", "h1", 2_000).unwrap(),
            LoginCodeTake::Taken(rec.clone())
        );
        assert_eq!(
            s.take_login_code("a.b", "h1", 3_000).unwrap(),
            LoginCodeTake::Used
        );
        assert_eq!(s.live_login_codes("a.b", "alice", 3_000).unwrap(), 0);
        s.put_login_code(&LoginCodeRecord {
            code_sha256: "h2".into(),
            ..rec
        })
        .unwrap();
        assert_eq!(
            s.take_login_code("a.b", "h2", 301_000).unwrap(),
            LoginCodeTake::Expired {
                expires_at_ms: 301_000
            }
        );
    }

    #[test]
    fn user_profile_round_trips() {
        let s = SqliteStore::open_in_memory().unwrap();
        assert_eq!(s.user_profile("u").unwrap(), None);
        let p = UserProfile {
            nickname: Some("Na".into()),
            location: Some(GeoPoint {
                latitude: 30.25,
                longitude: 120.16,
                accuracy_m: 12.0,
            }),
            ..UserProfile::default()
        };
        s.put_user_profile("u", &p, 1).unwrap();
        assert_eq!(s.user_profile("u").unwrap(), Some(p));
    }
}
