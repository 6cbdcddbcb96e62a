//! The outbox of payment notifications on PostgreSQL: the `outbox` table
//! and [`OutboxStore`]. A payment's or refund's notification is inserted in
//! the ledger's own transaction ([`insert_notification_in`]). Nodes claim
//! with `FOR UPDATE SKIP LOCKED`: two nodes claiming at once lock different
//! rows, and each moves its rows' next attempt past its lease before it
//! commits, so a row is delivered by one node at a time.

use super::{Db, PgResult, PostgresStore, read};
use crate::store::{NotificationRecord, OutboxStore, StoreResult};
use tokio_postgres::Row;

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS outbox (
    id TEXT PRIMARY KEY,
    app_id TEXT NOT NULL,
    url TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at_ms BIGINT NOT NULL,
    delivered_at_ms BIGINT,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (next_attempt_at_ms) WHERE delivered_at_ms IS NULL;
CREATE INDEX IF NOT EXISTS outbox_by_app ON outbox (app_id, created_at_ms);
";

const COLUMNS: &str = "id, app_id, url, body, created_at_ms, attempts, next_attempt_at_ms, delivered_at_ms, last_error";

fn notification_row(r: &Row) -> NotificationRecord {
    NotificationRecord {
        id: r.get(0),
        app_id: r.get(1),
        url: r.get(2),
        body: r.get(3),
        created_at_ms: r.get(4),
        attempts: u32::try_from(r.get::<_, i64>(5)).unwrap_or(u32::MAX),
        next_attempt_at_ms: r.get(6),
        delivered_at_ms: r.get(7),
        last_error: r.get(8),
    }
}

/// Writes `n` to the outbox within the caller's transaction (the ledger
/// writes a payment's notification with the payment).
pub(super) async fn insert_notification_in(c: &impl Db, n: &NotificationRecord) -> PgResult<()> {
    c.exec(
        &format!("INSERT INTO outbox ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"),
        &[
            &n.id,
            &n.app_id,
            &n.url,
            &n.body,
            &n.created_at_ms,
            &i64::from(n.attempts),
            &n.next_attempt_at_ms,
            &n.delivered_at_ms,
            &n.last_error,
        ],
    )
    .await?;
    Ok(())
}

impl OutboxStore for PostgresStore {
    fn claim_notifications(
        &self,
        now_ms: i64,
        lease_until_ms: i64,
        limit: usize,
    ) -> StoreResult<Vec<NotificationRecord>> {
        let limit = limit.min(i64::MAX as usize) as i64;
        // One statement, committed on its own: the rows it locks are
        // skipped by the other nodes' claims until it commits, and due no
        // more after.
        let mut claimed = read!(self, "claim notifications", |c| {
            Ok(c.rows(
                &format!(
                    "UPDATE outbox SET attempts = attempts + 1, next_attempt_at_ms = $2
                     WHERE id IN (SELECT id FROM outbox
                                  WHERE delivered_at_ms IS NULL AND next_attempt_at_ms <= $1
                                  ORDER BY next_attempt_at_ms, created_at_ms, id LIMIT $3
                                  FOR UPDATE SKIP LOCKED)
                     RETURNING {COLUMNS}"
                ),
                &[&now_ms, &lease_until_ms, &limit],
            )
            .await?
            .iter()
            .map(notification_row)
            .collect::<Vec<_>>())
        })?;
        claimed.sort_by(|a, b| (a.created_at_ms, &a.id).cmp(&(b.created_at_ms, &b.id)));
        Ok(claimed)
    }

    fn notification_delivered(&self, id: &str, at_ms: i64) -> StoreResult<bool> {
        read!(self, "mark a notification delivered", |c| {
            Ok(c.exec(
                "UPDATE outbox SET delivered_at_ms = $2, last_error = NULL
                 WHERE id = $1 AND delivered_at_ms IS NULL",
                &[&id, &at_ms],
            )
            .await?
                > 0)
        })
    }

    fn notification_failed(
        &self,
        id: &str,
        next_attempt_at_ms: i64,
        error: &str,
    ) -> StoreResult<()> {
        read!(self, "reschedule a notification", |c| {
            c.exec(
                "UPDATE outbox SET next_attempt_at_ms = $2, last_error = $3
                 WHERE id = $1 AND delivered_at_ms IS NULL",
                &[&id, &next_attempt_at_ms, &error],
            )
            .await?;
            Ok(())
        })
    }

    fn notification(&self, id: &str) -> StoreResult<Option<NotificationRecord>> {
        read!(self, "read a notification", |c| {
            Ok(c.opt(
                &format!("SELECT {COLUMNS} FROM outbox WHERE id = $1"),
                &[&id],
            )
            .await?
            .as_ref()
            .map(notification_row))
        })
    }

    fn notifications(&self, app_id: &str, limit: usize) -> StoreResult<Vec<NotificationRecord>> {
        let limit = limit.min(i64::MAX as usize) as i64;
        read!(self, "list notifications", |c| {
            Ok(c.rows(
                &format!(
                    "SELECT {COLUMNS} FROM outbox WHERE app_id = $1
                     ORDER BY created_at_ms, id LIMIT $2"
                ),
                &[&app_id, &limit],
            )
            .await?
            .iter()
            .map(notification_row)
            .collect())
        })
    }
}
