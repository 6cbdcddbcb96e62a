//! Privacy on PostgreSQL: the audit log's counts per user and mini-app,
//! identity epochs, and [`PrivacyStore`] (a user's records and their
//! erasure).

use super::audit::outcome;
use super::ledger::{PAYMENT_COLUMNS, payment_row};
use super::messaging::{INBOX_COLUMNS, inbox_row};
use super::{Db, PgResult, PostgresStore, read, transaction};
use crate::store::{
    AccessCount, ConsentRecord, Erased, FollowRecord, LoginCodeInfo, PrivacyStore, StoreResult,
    StoredValue, SubscriptionRecord, UserMessageRecord, UserRecords,
};
use tokio_postgres::IsolationLevel;

pub(super) const SCHEMA: &str = "
-- The audit log counted per (user, mini-app, what, outcome): a privacy
-- report reads these rows, never the log. The trigger keeps it in the
-- transaction of each entry.
CREATE TABLE IF NOT EXISTS audit_summary (
    user_id TEXT NOT NULL,
    app_id TEXT NOT NULL,
    capability TEXT NOT NULL,
    outcome TEXT NOT NULL,
    count BIGINT NOT NULL,
    last_at_ms BIGINT NOT NULL,
    PRIMARY KEY (user_id, app_id, capability, outcome)
);
CREATE OR REPLACE FUNCTION audit_summary_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO audit_summary (user_id, app_id, capability, outcome, count, last_at_ms)
    VALUES (NEW.user_id, NEW.app_id, NEW.capability, NEW.outcome, 1, NEW.at_ms)
    ON CONFLICT (user_id, app_id, capability, outcome) DO UPDATE
    SET count = audit_summary.count + 1,
        last_at_ms = GREATEST(audit_summary.last_at_ms, excluded.last_at_ms);
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER audit_summary_count AFTER INSERT ON audit
    FOR EACH ROW EXECUTE FUNCTION audit_summary_count();
-- Moved on by each erasure of a mini-app's data about a user; no row is 0.
CREATE TABLE IF NOT EXISTS identity_epochs (
    user_id TEXT NOT NULL,
    app_id TEXT NOT NULL,
    epoch BIGINT NOT NULL,
    erased_at_ms BIGINT NOT NULL,
    PRIMARY KEY (user_id, app_id)
);
";

async fn delete_rows(c: &impl Db, table: &str, user: &str, app: &str) -> PgResult<u64> {
    c.exec(
        &format!("DELETE FROM {table} WHERE user_id = $1 AND app_id = $2"),
        &[&user, &app],
    )
    .await
}

async fn epoch_in(c: &impl Db, user: &str, app: &str) -> PgResult<u64> {
    Ok(c.opt(
        "SELECT epoch FROM identity_epochs WHERE user_id = $1 AND app_id = $2",
        &[&user, &app],
    )
    .await?
    .map(|r| r.get::<_, i64>(0) as u64)
    .unwrap_or(0))
}

impl PrivacyStore for PostgresStore {
    fn identity_epoch(&self, user: &str, app: &str) -> StoreResult<u64> {
        read!(self, "read an identity epoch", |c| epoch_in(c, user, app)
            .await)
    }

    fn erased_at_ms(&self, user: &str, app: &str) -> StoreResult<Option<i64>> {
        read!(self, "read an identity epoch", |c| {
            Ok(c.opt(
                "SELECT erased_at_ms FROM identity_epochs WHERE user_id = $1 AND app_id = $2",
                &[&user, &app],
            )
            .await?
            .map(|r| r.get(0)))
        })
    }

    fn access_counts(&self, user: &str, app: Option<&str>) -> StoreResult<Vec<AccessCount>> {
        read!(self, "read a user's data", |c| {
            Ok(c.rows(
                "SELECT app_id, capability, outcome, count, last_at_ms FROM audit_summary
                     WHERE user_id = $1 AND ($2::TEXT IS NULL OR app_id = $2)
                     ORDER BY app_id, capability, outcome",
                &[&user, &app],
            )
            .await?
            .iter()
            .map(|r| AccessCount {
                app: r.get(0),
                what: r.get(1),
                outcome: outcome(r.get(2)),
                count: r.get::<_, i64>(3) as u64,
                last_at_ms: r.get(4),
            })
            .collect())
        })
    }

    fn user_records(&self, user: &str, app: Option<&str>) -> StoreResult<UserRecords> {
        let of_app = "user_id = $1 AND ($2::TEXT IS NULL OR app_id = $2)";
        transaction!(
            self,
            "read a user's data",
            IsolationLevel::RepeatableRead,
            |tx| {
                let p: &[&(dyn tokio_postgres::types::ToSql + Sync)] = &[&user, &app];
                let storage = tx
                    .rows(
                        &format!(
                            "SELECT app_id, key, value FROM kv WHERE {of_app} ORDER BY app_id, key"
                        ),
                        p,
                    )
                    .await?
                    .iter()
                    .map(|r| StoredValue {
                        app: r.get(0),
                        key: r.get(1),
                        value: r.get(2),
                    })
                    .collect();
                let consents = tx
                    .rows(
                        &format!(
                            "SELECT app_id, scope, granted, decided_at_ms FROM consents
                         WHERE {of_app} ORDER BY app_id, scope"
                        ),
                        p,
                    )
                    .await?
                    .iter()
                    .map(|r| ConsentRecord {
                        user: user.to_string(),
                        app: r.get(0),
                        scope: r.get(1),
                        granted: r.get(2),
                        decided_at_ms: r.get(3),
                    })
                    .collect();
                let subscriptions = tx
                    .rows(
                        &format!(
                            "SELECT app_id, template_id, long_term, remaining, updated_at_ms
                         FROM subscriptions WHERE {of_app} ORDER BY app_id, template_id"
                        ),
                        p,
                    )
                    .await?
                    .iter()
                    .map(|r| SubscriptionRecord {
                        app: r.get(0),
                        template: r.get(1),
                        long_term: r.get(2),
                        remaining: r.get::<_, i64>(3) as u64,
                        updated_at_ms: r.get(4),
                    })
                    .collect();
                let follows = tx
                .rows(
                    &format!("SELECT app_id, followed_at_ms FROM followers WHERE {of_app} ORDER BY app_id"),
                    p,
                )
                .await?
                .iter()
                .map(|r| FollowRecord {
                    app: r.get(0),
                    followed_at_ms: r.get(1),
                })
                .collect();
                let conversation = tx
                    .rows(
                        &format!(
                            "SELECT id, app_id, text, sent_at_ms, delivered FROM conversation
                         WHERE {of_app} ORDER BY sent_at_ms, seq"
                        ),
                        p,
                    )
                    .await?
                    .iter()
                    .map(|r| UserMessageRecord {
                        id: r.get(0),
                        app: r.get(1),
                        text: r.get(2),
                        sent_at_ms: r.get(3),
                        delivered: r.get::<_, i64>(4) == 1,
                    })
                    .collect();
                let login_codes = tx
                    .rows(
                        &format!(
                        "SELECT app_id, issued_at_ms, expires_at_ms, used_at_ms FROM login_codes
                         WHERE {of_app} ORDER BY issued_at_ms"
                    ),
                        p,
                    )
                    .await?
                    .iter()
                    .map(|r| LoginCodeInfo {
                        app: r.get(0),
                        issued_at_ms: r.get(1),
                        expires_at_ms: r.get(2),
                        used_at_ms: r.get(3),
                    })
                    .collect();
                let inbox = tx
                .rows(
                    &format!("SELECT {INBOX_COLUMNS} FROM inbox WHERE {of_app} ORDER BY sent_at_ms, seq"),
                    p,
                )
                .await?
                .iter()
                .map(inbox_row)
                .collect();
                let payments = tx
                    .rows(
                        &format!(
                            "SELECT {PAYMENT_COLUMNS} FROM payments WHERE {of_app} ORDER BY seq"
                        ),
                        p,
                    )
                    .await?
                    .iter()
                    .map(payment_row)
                    .collect::<PgResult<Vec<_>>>()?;
                let refunds = tx
                .rows(
                    "SELECT r.tx_id, r.app_id, r.order_id, r.amount, r.wallet_part, r.insurance_part,
                            r.reason, r.at_ms, r.refund_id
                     FROM refunds r JOIN payments p
                         ON p.app_id = r.app_id AND p.generation = r.generation AND p.order_id = r.order_id
                     WHERE p.user_id = $1 AND ($2::TEXT IS NULL OR p.app_id = $2) ORDER BY r.at_ms, r.tx_id",
                    p,
                )
                .await?
                .iter()
                .map(super::ledger::refund_row)
                .collect();
                let media = tx
                    .rows(
                        &format!(
                            "SELECT id, user_id, app_id, kind, name, size, created_at_ms FROM media
                             WHERE {of_app} ORDER BY app_id, created_at_ms, id"
                        ),
                        p,
                    )
                    .await?
                    .iter()
                    .map(super::media::media_row)
                    .collect();
                Ok(UserRecords {
                    media,
                    storage,
                    consents,
                    subscriptions,
                    follows,
                    conversation,
                    login_codes,
                    inbox,
                    payments,
                    refunds,
                })
            }
        )
    }

    fn erase_user_app(&self, user: &str, app: &str, at_ms: i64) -> StoreResult<Erased> {
        transaction!(
            self,
            "erase a user's data in a mini-app",
            IsolationLevel::Serializable,
            |tx| {
                let storage_keys = delete_rows(tx, "kv", user, app).await?;
                let media_files = delete_rows(tx, "media", user, app).await?;
                delete_rows(tx, "kv_usage", user, app).await?;
                let identity_epoch = epoch_in(tx, user, app).await? + 1;
                tx.exec(
                    "INSERT INTO identity_epochs (user_id, app_id, epoch, erased_at_ms)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (user_id, app_id) DO UPDATE
                 SET epoch = excluded.epoch, erased_at_ms = excluded.erased_at_ms",
                    &[&user, &app, &(identity_epoch as i64), &at_ms],
                )
                .await?;
                Ok(Erased {
                    storage_keys,
                    consents: delete_rows(tx, "consents", user, app).await?,
                    subscriptions: delete_rows(tx, "subscriptions", user, app).await?,
                    follows: delete_rows(tx, "followers", user, app).await?,
                    conversation: delete_rows(tx, "conversation", user, app).await?,
                    login_codes: delete_rows(tx, "login_codes", user, app).await?,
                    media_files,
                    identity_epoch,
                })
            }
        )
    }
}
