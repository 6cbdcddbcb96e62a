//! Identity and trust on SQLite: the tables of publishers, app secrets, login
//! codes and users' identity data, and [`PublisherStore`], [`LoginStore`] and
//! [`UserDataStore`].

use super::{SqliteStore, db};
use crate::manifest::Category;
use crate::store::identity::LOGIN_CODE_MEMORY_MS;
use crate::store::{
    LoginCodeRecord, LoginCodeTake, LoginStore, PublisherRecord, PublisherStore, StoreError,
    StoreResult, UserDataStore, UserProfile,
};
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
