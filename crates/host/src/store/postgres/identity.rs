//! Identity and trust on PostgreSQL: the tables of publishers, app secrets,
//! login codes and users' identity data, and [`PublisherStore`],
//! [`LoginStore`] and [`UserDataStore`].

use super::{Db, PgError, PostgresStore, read, transaction};
use crate::manifest::Category;
use crate::store::identity::LOGIN_CODE_MEMORY_MS;
use crate::store::{
    LoginCodeRecord, LoginCodeTake, LoginStore, PublisherRecord, PublisherStore, StoreError,
    StoreResult, UserDataStore, UserProfile,
};
use tokio_postgres::{IsolationLevel, Row};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS publishers (
    publisher_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    verified BOOLEAN NOT NULL,
    public_key TEXT NOT NULL,
    added_at_ms BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS app_secrets (
    app_id TEXT PRIMARY KEY,
    secret_sha256 TEXT NOT NULL,
    issued_at_ms BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS login_codes (
    code_sha256 TEXT PRIMARY KEY,
    app_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    publisher_id TEXT NOT NULL,
    issued_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL,
    used_at_ms BIGINT
);
CREATE INDEX IF NOT EXISTS login_codes_by_expiry ON login_codes (expires_at_ms);
CREATE INDEX IF NOT EXISTS login_codes_by_user ON login_codes (user_id, app_id);
CREATE TABLE IF NOT EXISTS user_identity (
    user_id TEXT PRIMARY KEY,
    profile TEXT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
";

fn publisher_row(r: &Row) -> Result<PublisherRecord, PgError> {
    let category: String = r.get(2);
    Ok(PublisherRecord {
        id: r.get(0),
        name: r.get(1),
        category: Category::ALL
            .into_iter()
            .find(|c| c.as_str() == category)
            .ok_or_else(|| {
                PgError::Store(StoreError::Database {
                    operation: "read a publisher",
                    message: format!("unknown category `{category}`"),
                })
            })?,
        verified: r.get(3),
        public_key: r.get(4),
        added_at_ms: r.get(5),
    })
}

const PUBLISHER_COLUMNS: &str = "publisher_id, name, category, verified, public_key, added_at_ms";

impl PublisherStore for PostgresStore {
    fn put_publisher(&self, p: &PublisherRecord) -> StoreResult<()> {
        read!(self, "save a publisher", |c| {
            c.exec(
                "INSERT INTO publishers (publisher_id, name, category, verified, public_key, added_at_ms)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (publisher_id) DO UPDATE SET name = excluded.name,
                     category = excluded.category, verified = excluded.verified,
                     public_key = excluded.public_key, added_at_ms = excluded.added_at_ms",
                &[
                    &p.id,
                    &p.name,
                    &p.category.as_str(),
                    &p.verified,
                    &p.public_key,
                    &p.added_at_ms,
                ],
            )
            .await?;
            Ok(())
        })
    }

    fn get_publisher(&self, id: &str) -> StoreResult<Option<PublisherRecord>> {
        read!(self, "read a publisher", |c| {
            c.opt(
                &format!("SELECT {PUBLISHER_COLUMNS} FROM publishers WHERE publisher_id = $1"),
                &[&id],
            )
            .await?
            .as_ref()
            .map(publisher_row)
            .transpose()
        })
    }

    fn list_publishers(&self) -> StoreResult<Vec<PublisherRecord>> {
        read!(self, "list publishers", |c| {
            c.rows(
                &format!("SELECT {PUBLISHER_COLUMNS} FROM publishers ORDER BY publisher_id"),
                &[],
            )
            .await?
            .iter()
            .map(publisher_row)
            .collect()
        })
    }

    fn delete_publisher(&self, id: &str) -> StoreResult<bool> {
        read!(self, "remove a publisher", |c| {
            Ok(
                c.exec("DELETE FROM publishers WHERE publisher_id = $1", &[&id])
                    .await?
                    > 0,
            )
        })
    }
}

impl LoginStore for PostgresStore {
    fn put_app_secret(&self, app: &str, secret_sha256: &str, now_ms: i64) -> StoreResult<()> {
        read!(self, "save an app secret", |c| {
            c.exec(
                "INSERT INTO app_secrets (app_id, secret_sha256, issued_at_ms) VALUES ($1, $2, $3)
                 ON CONFLICT (app_id) DO UPDATE SET secret_sha256 = excluded.secret_sha256,
                     issued_at_ms = excluded.issued_at_ms",
                &[&app, &secret_sha256, &now_ms],
            )
            .await?;
            Ok(())
        })
    }

    fn app_secret(&self, app: &str) -> StoreResult<Option<String>> {
        read!(self, "read an app secret", |c| {
            Ok(c.opt(
                "SELECT secret_sha256 FROM app_secrets WHERE app_id = $1",
                &[&app],
            )
            .await?
            .map(|r| r.get(0)))
        })
    }

    fn put_login_code(&self, r: &LoginCodeRecord) -> StoreResult<()> {
        transaction!(
            self,
            "save a login code",
            IsolationLevel::ReadCommitted,
            |tx| {
                tx.exec(
                    "DELETE FROM login_codes WHERE expires_at_ms < $1",
                    &[&(r.issued_at_ms - LOGIN_CODE_MEMORY_MS)],
                )
                .await?;
                tx.exec(
                    "INSERT INTO login_codes
                 (code_sha256, app_id, user_id, publisher_id, issued_at_ms, expires_at_ms)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                    &[
                        &r.code_sha256,
                        &r.app,
                        &r.user,
                        &r.publisher,
                        &r.issued_at_ms,
                        &r.expires_at_ms,
                    ],
                )
                .await?;
                Ok(())
            }
        )
    }

    fn live_login_codes(&self, app: &str, user: &str, now_ms: i64) -> StoreResult<u64> {
        read!(self, "count login codes", |c| {
            let n: i64 = c
                .one(
                    "SELECT COUNT(*) FROM login_codes WHERE app_id = $1 AND user_id = $2
                     AND used_at_ms IS NULL AND expires_at_ms > $3",
                    &[&app, &user, &now_ms],
                )
                .await?
                .get(0);
            Ok(n as u64)
        })
    }

    fn take_login_code(
        &self,
        app: &str,
        code_sha256: &str,
        now_ms: i64,
    ) -> StoreResult<LoginCodeTake> {
        // The conditional update is the single use: of two nodes taking one
        // code at once, one changes the row and the other finds it used.
        transaction!(
            self,
            "use a login code",
            IsolationLevel::ReadCommitted,
            |tx| {
                let Some(row) = tx
                    .opt(
                        "SELECT user_id, publisher_id, issued_at_ms, expires_at_ms, used_at_ms
                     FROM login_codes WHERE code_sha256 = $1 AND app_id = $2",
                        &[&code_sha256, &app],
                    )
                    .await?
                else {
                    return Ok(LoginCodeTake::Unknown);
                };
                let expires_at_ms: i64 = row.get(3);
                if row.get::<_, Option<i64>>(4).is_some() {
                    return Ok(LoginCodeTake::Used);
                }
                if now_ms >= expires_at_ms {
                    return Ok(LoginCodeTake::Expired { expires_at_ms });
                }
                let n = tx
                .exec(
                    "UPDATE login_codes SET used_at_ms = $1 WHERE code_sha256 = $2 AND used_at_ms IS NULL",
                    &[&now_ms, &code_sha256],
                )
                .await?;
                if n != 1 {
                    return Ok(LoginCodeTake::Used);
                }
                Ok(LoginCodeTake::Taken(LoginCodeRecord {
                    code_sha256: code_sha256.to_string(),
                    app: app.to_string(),
                    user: row.get(0),
                    publisher: row.get(1),
                    issued_at_ms: row.get(2),
                    expires_at_ms,
                }))
            }
        )
    }
}

fn json_err(operation: &'static str) -> impl Fn(serde_json::Error) -> StoreError {
    move |e| StoreError::Database {
        operation,
        message: e.to_string(),
    }
}

impl UserDataStore for PostgresStore {
    fn put_user_profile(&self, user: &str, profile: &UserProfile, now_ms: i64) -> StoreResult<()> {
        let json = serde_json::to_string(profile).map_err(json_err("encode a user's profile"))?;
        read!(self, "save a user's profile", |c| {
            c.exec(
                "INSERT INTO user_identity (user_id, profile, updated_at_ms) VALUES ($1, $2, $3)
                 ON CONFLICT (user_id) DO UPDATE SET profile = excluded.profile,
                     updated_at_ms = excluded.updated_at_ms",
                &[&user, &json, &now_ms],
            )
            .await?;
            Ok(())
        })
    }

    fn user_profile(&self, user: &str) -> StoreResult<Option<UserProfile>> {
        let json: Option<String> = read!(self, "read a user's profile", |c| {
            Ok(c.opt(
                "SELECT profile FROM user_identity WHERE user_id = $1",
                &[&user],
            )
            .await?
            .map(|r| r.get(0)))
        })?;
        json.map(|j| serde_json::from_str(&j).map_err(json_err("decode a user's profile")))
            .transpose()
    }
}
