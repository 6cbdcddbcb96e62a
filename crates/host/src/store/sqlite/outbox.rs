//! The outbox of payment notifications on SQLite: the `outbox` table and
//! [`OutboxStore`]. A payment's or refund's notification is inserted in the
//! ledger's own savepoint ([`insert_notification_in`]); a claim is one
//! `UPDATE ... RETURNING` under SQLite's single writer, so two claims never
//! take one row.

use super::{Durability, SqliteStore, db};
use crate::store::{NotificationRecord, OutboxStore, StoreResult};
use rusqlite::{Connection, OptionalExtension, Row, params};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS outbox (
    id TEXT PRIMARY KEY,
    app_id TEXT NOT NULL,
    url TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at_ms INTEGER NOT NULL,
    delivered_at_ms INTEGER,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (next_attempt_at_ms) WHERE delivered_at_ms IS NULL;
CREATE INDEX IF NOT EXISTS outbox_by_app ON outbox (app_id, created_at_ms);
";

const COLUMNS: &str = "id, app_id, url, body, created_at_ms, attempts, next_attempt_at_ms, delivered_at_ms, last_error";

fn notification_row(r: &Row<'_>) -> rusqlite::Result<NotificationRecord> {
    Ok(NotificationRecord {
        id: r.get(0)?,
        app_id: r.get(1)?,
        url: r.get(2)?,
        body: r.get(3)?,
        created_at_ms: r.get(4)?,
        attempts: r.get(5)?,
        next_attempt_at_ms: r.get(6)?,
        delivered_at_ms: r.get(7)?,
        last_error: r.get(8)?,
    })
}

/// Writes `n` to the outbox within the caller's transaction (the ledger
/// writes a payment's notification with the payment).
pub(super) fn insert_notification_in(c: &Connection, n: &NotificationRecord) -> StoreResult<()> {
    c.prepare_cached(&format!(
        "INSERT INTO outbox ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
    ))
    .and_then(|mut s| {
        s.execute(params![
            n.id,
            n.app_id,
            n.url,
            n.body,
            n.created_at_ms,
            n.attempts,
            n.next_attempt_at_ms,
            n.delivered_at_ms,
            n.last_error
        ])
    })
    .map_err(db("write a notification"))?;
    Ok(())
}

impl OutboxStore for SqliteStore {
    fn claim_notifications(
        &self,
        now_ms: i64,
        lease_until_ms: i64,
        limit: usize,
    ) -> StoreResult<Vec<NotificationRecord>> {
        // A claim that a crash loses only lets the rows be claimed again.
        self.write_surviving(Durability::ProcessCrash, "claim notifications", |c| {
            let mut claimed = c
                .prepare_cached(&format!(
                    "UPDATE outbox SET attempts = attempts + 1, next_attempt_at_ms = ?2
                     WHERE id IN (SELECT id FROM outbox
                                  WHERE delivered_at_ms IS NULL AND next_attempt_at_ms <= ?1
                                  ORDER BY next_attempt_at_ms, created_at_ms, id LIMIT ?3)
                     RETURNING {COLUMNS}"
                ))
                .and_then(|mut s| {
                    s.query_map(
                        params![now_ms, lease_until_ms, limit.min(i64::MAX as usize) as i64],
                        notification_row,
                    )?
                    .collect::<Result<Vec<_>, _>>()
                })
                .map_err(db("claim notifications"))?;
            claimed.sort_by(|a, b| (a.created_at_ms, &a.id).cmp(&(b.created_at_ms, &b.id)));
            Ok(claimed)
        })
    }

    fn notification_delivered(&self, id: &str, at_ms: i64) -> StoreResult<bool> {
        self.write_surviving(
            Durability::ProcessCrash,
            "mark a notification delivered",
            |c| {
                let n = c
                    .prepare_cached(
                        "UPDATE outbox SET delivered_at_ms = ?2, last_error = NULL
                     WHERE id = ?1 AND delivered_at_ms IS NULL",
                    )
                    .and_then(|mut s| s.execute(params![id, at_ms]))
                    .map_err(db("mark a notification delivered"))?;
                Ok(n > 0)
            },
        )
    }

    fn notification_failed(
        &self,
        id: &str,
        next_attempt_at_ms: i64,
        error: &str,
    ) -> StoreResult<()> {
        self.write_surviving(Durability::ProcessCrash, "reschedule a notification", |c| {
            c.prepare_cached(
                "UPDATE outbox SET next_attempt_at_ms = ?2, last_error = ?3
                 WHERE id = ?1 AND delivered_at_ms IS NULL",
            )
            .and_then(|mut s| s.execute(params![id, next_attempt_at_ms, error]))
            .map_err(db("reschedule a notification"))?;
            Ok(())
        })
    }

    fn notification(&self, id: &str) -> StoreResult<Option<NotificationRecord>> {
        self.read_point()
            .prepare_cached(&format!("SELECT {COLUMNS} FROM outbox WHERE id = ?1"))
            .and_then(|mut s| s.query_row([id], notification_row).optional())
            .map_err(db("read a notification"))
    }

    fn notifications(&self, app_id: &str, limit: usize) -> StoreResult<Vec<NotificationRecord>> {
        self.read()
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM outbox WHERE app_id = ?1
                 ORDER BY created_at_ms, id LIMIT ?2"
            ))
            .and_then(|mut s| {
                s.query_map(
                    params![app_id, limit.min(i64::MAX as usize) as i64],
                    notification_row,
                )?
                .collect::<Result<Vec<_>, _>>()
            })
            .map_err(db("list notifications"))
    }
}
