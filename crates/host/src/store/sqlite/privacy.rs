//! The user's rights on SQLite: the audit log's aggregate (kept by a trigger,
//! so every insert into `audit`, whoever writes it, counts), the identity
//! epochs, and [`PrivacyStore`].

use super::ledger::{PAYMENT_COLUMNS, payment_row};
use super::messaging::{INBOX_COLUMNS, inbox_row};
use super::{SqliteStore, db};
use crate::store::{
    AccessCount, ConsentRecord, Erased, FollowRecord, LoginCodeInfo, Outcome, PrivacyStore,
    StoreResult, StoredValue, SubscriptionRecord, UserMessageRecord, UserRecords,
};
use rusqlite::{Connection, OptionalExtension, Params, Row, params};

pub(super) const SCHEMA: &str = "
-- The audit log counted per (user, mini-app, what, outcome): a privacy
-- report reads these rows, never the log. The trigger keeps it in the
-- transaction of each entry.
CREATE TABLE IF NOT EXISTS audit_summary (
    user_id TEXT NOT NULL,
    app_id TEXT NOT NULL,
    capability TEXT NOT NULL,
    outcome TEXT NOT NULL,
    count INTEGER NOT NULL,
    last_at_ms INTEGER NOT NULL,
    PRIMARY KEY (user_id, app_id, capability, outcome)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS audit_summary_count AFTER INSERT ON audit BEGIN
    INSERT INTO audit_summary (user_id, app_id, capability, outcome, count, last_at_ms)
    VALUES (NEW.user_id, NEW.app_id, NEW.capability, NEW.outcome, 1, NEW.at_ms)
    ON CONFLICT (user_id, app_id, capability, outcome) DO UPDATE
    SET count = count + 1, last_at_ms = max(last_at_ms, excluded.last_at_ms);
END;
-- Moved on by each erasure of a mini-app's data about a user; no row is 0.
CREATE TABLE IF NOT EXISTS identity_epochs (
    user_id TEXT NOT NULL,
    app_id TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    erased_at_ms INTEGER NOT NULL,
    PRIMARY KEY (user_id, app_id)
) WITHOUT ROWID;
";

/// From version 5: the aggregate counted from the log as it is (rebuilt
/// whole, so entries a migration of the same open moved count once).
pub(super) const MIGRATE_TO_6: &str = "
DELETE FROM audit_summary;
INSERT INTO audit_summary (user_id, app_id, capability, outcome, count, last_at_ms)
    SELECT user_id, app_id, capability, outcome, COUNT(*), MAX(at_ms)
    FROM audit GROUP BY user_id, app_id, capability, outcome;
";

/// Runs `sql` and collects its rows.
fn collect<T>(
    c: &Connection,
    sql: &str,
    params: impl Params,
    row: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
) -> StoreResult<Vec<T>> {
    let mut stmt = c.prepare_cached(sql).map_err(db("read a user's data"))?;
    let rows = stmt
        .query_map(params, row)
        .map_err(db("read a user's data"))?;
    rows.collect::<Result<Vec<_>, _>>()
        .map_err(db("read a user's data"))
}

fn outcome(text: &str) -> Outcome {
    if text == "allowed" {
        Outcome::Allowed
    } else {
        Outcome::Denied
    }
}

/// Deletes the rows of (user, app) in `table`; returns how many.
fn delete_rows(c: &Connection, table: &str, user: &str, app: &str) -> StoreResult<u64> {
    let n = c
        .prepare_cached(&format!(
            "DELETE FROM {table} WHERE user_id = ?1 AND app_id = ?2"
        ))
        .and_then(|mut s| s.execute(params![user, app]))
        .map_err(db("erase a user's data"))?;
    Ok(n as u64)
}

fn epoch_in(c: &Connection, user: &str, app: &str) -> StoreResult<u64> {
    let epoch: Option<i64> = c
        .prepare_cached("SELECT epoch FROM identity_epochs WHERE user_id = ?1 AND app_id = ?2")
        .and_then(|mut s| s.query_row(params![user, app], |r| r.get(0)).optional())
        .map_err(db("read an identity epoch"))?;
    Ok(epoch.unwrap_or(0) as u64)
}

impl PrivacyStore for SqliteStore {
    fn identity_epoch(&self, user: &str, app: &str) -> StoreResult<u64> {
        epoch_in(&self.read_point(), user, app)
    }

    fn erased_at_ms(&self, user: &str, app: &str) -> StoreResult<Option<i64>> {
        self.read_point()
            .prepare_cached(
                "SELECT erased_at_ms FROM identity_epochs WHERE user_id = ?1 AND app_id = ?2",
            )
            .and_then(|mut s| s.query_row(params![user, app], |r| r.get(0)).optional())
            .map_err(db("read an identity epoch"))
    }

    fn access_counts(&self, user: &str, app: Option<&str>) -> StoreResult<Vec<AccessCount>> {
        collect(
            &self.read(),
            "SELECT app_id, capability, outcome, count, last_at_ms FROM audit_summary
             WHERE user_id = ?1 AND (?2 IS NULL OR app_id = ?2)
             ORDER BY app_id, capability, outcome",
            params![user, app],
            |r| {
                Ok(AccessCount {
                    app: r.get(0)?,
                    what: r.get(1)?,
                    outcome: outcome(&r.get::<_, String>(2)?),
                    count: r.get::<_, i64>(3)? as u64,
                    last_at_ms: r.get(4)?,
                })
            },
        )
    }

    fn user_records(&self, user: &str, app: Option<&str>) -> StoreResult<UserRecords> {
        let c = self.read();
        // One reading: every table as of the same commit.
        let tx = c
            .unchecked_transaction()
            .map_err(db("read a user's data"))?;
        let p = params![user, app];
        let of_app = "user_id = ?1 AND (?2 IS NULL OR app_id = ?2)";
        let records = UserRecords {
            storage: collect(
                &tx,
                &format!("SELECT app_id, key, value FROM kv WHERE {of_app} ORDER BY app_id, key"),
                p,
                |r| {
                    Ok(StoredValue {
                        app: r.get(0)?,
                        key: r.get(1)?,
                        value: r.get(2)?,
                    })
                },
            )?,
            consents: collect(
                &tx,
                &format!(
                    "SELECT app_id, scope, granted, decided_at_ms FROM consents
                     WHERE {of_app} ORDER BY app_id, scope"
                ),
                p,
                |r| {
                    Ok(ConsentRecord {
                        user: user.to_string(),
                        app: r.get(0)?,
                        scope: r.get(1)?,
                        granted: r.get::<_, i64>(2)? != 0,
                        decided_at_ms: r.get(3)?,
                    })
                },
            )?,
            subscriptions: collect(
                &tx,
                &format!(
                    "SELECT app_id, template_id, long_term, remaining, updated_at_ms
                     FROM subscriptions WHERE {of_app} ORDER BY app_id, template_id"
                ),
                p,
                |r| {
                    Ok(SubscriptionRecord {
                        app: r.get(0)?,
                        template: r.get(1)?,
                        long_term: r.get::<_, i64>(2)? != 0,
                        remaining: r.get::<_, i64>(3)? as u64,
                        updated_at_ms: r.get(4)?,
                    })
                },
            )?,
            follows: collect(
                &tx,
                &format!(
                    "SELECT app_id, followed_at_ms FROM followers WHERE {of_app} ORDER BY app_id"
                ),
                p,
                |r| {
                    Ok(FollowRecord {
                        app: r.get(0)?,
                        followed_at_ms: r.get(1)?,
                    })
                },
            )?,
            conversation: collect(
                &tx,
                &format!(
                    "SELECT id, app_id, text, sent_at_ms, delivered FROM conversation
                     WHERE {of_app} ORDER BY sent_at_ms, rowid"
                ),
                p,
                |r| {
                    Ok(UserMessageRecord {
                        id: r.get(0)?,
                        app: r.get(1)?,
                        text: r.get(2)?,
                        sent_at_ms: r.get(3)?,
                        delivered: r.get::<_, i64>(4)? == 1,
                    })
                },
            )?,
            login_codes: collect(
                &tx,
                &format!(
                    "SELECT app_id, issued_at_ms, expires_at_ms, used_at_ms FROM login_codes
                     WHERE {of_app} ORDER BY issued_at_ms"
                ),
                p,
                |r| {
                    Ok(LoginCodeInfo {
                        app: r.get(0)?,
                        issued_at_ms: r.get(1)?,
                        expires_at_ms: r.get(2)?,
                        used_at_ms: r.get(3)?,
                    })
                },
            )?,
            inbox: collect(
                &tx,
                &format!(
                    "SELECT {INBOX_COLUMNS} FROM inbox WHERE {of_app} ORDER BY sent_at_ms, rowid"
                ),
                p,
                inbox_row,
            )?,
            payments: collect(
                &tx,
                &format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE {of_app} ORDER BY seq"),
                p,
                payment_row,
            )?,
            refunds: collect(
                &tx,
                "SELECT r.tx_id, r.app_id, r.order_id, r.amount, r.wallet_part, r.insurance_part,
                        r.reason, r.at_ms, r.refund_id
                 FROM refunds r JOIN payments p
                     ON p.app_id = r.app_id AND p.generation = r.generation AND p.order_id = r.order_id
                 WHERE p.user_id = ?1 AND (?2 IS NULL OR p.app_id = ?2) ORDER BY r.at_ms, r.tx_id",
                p,
                super::ledger::refund_row,
            )?,
            media: collect(
                &tx,
                &format!(
                    "SELECT id, user_id, app_id, kind, name, size, created_at_ms FROM media
                     WHERE {of_app} ORDER BY app_id, created_at_ms, id"
                ),
                p,
                super::media::media_row,
            )?,
        };
        tx.commit().map_err(db("read a user's data"))?;
        Ok(records)
    }

    fn erase_user_app(&self, user: &str, app: &str, at_ms: i64) -> StoreResult<Erased> {
        self.write("erase a user's data in a mini-app", |c| {
            let storage_keys = delete_rows(c, "kv", user, app)?;
            let media_files = delete_rows(c, "media", user, app)?;
            delete_rows(c, "kv_usage", user, app)?;
            let identity_epoch = epoch_in(c, user, app)? + 1;
            c.prepare_cached(
                "INSERT INTO identity_epochs (user_id, app_id, epoch, erased_at_ms)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (user_id, app_id) DO UPDATE
                 SET epoch = excluded.epoch, erased_at_ms = excluded.erased_at_ms",
            )
            .and_then(|mut s| s.execute(params![user, app, identity_epoch as i64, at_ms]))
            .map_err(db("move an identity epoch on"))?;
            Ok(Erased {
                storage_keys,
                consents: delete_rows(c, "consents", user, app)?,
                subscriptions: delete_rows(c, "subscriptions", user, app)?,
                follows: delete_rows(c, "followers", user, app)?,
                conversation: delete_rows(c, "conversation", user, app)?,
                login_codes: delete_rows(c, "login_codes", user, app)?,
                media_files,
                identity_epoch,
            })
        })
    }
}
