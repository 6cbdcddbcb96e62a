//! The audit log on SQLite: its table and [`AuditStore`].

use super::{Durability, SqliteStore, db};
use crate::store::{AuditEntry, AuditQuery, AuditStore, Outcome, StoreResult};
use rusqlite::{Connection, params};

pub(super) const SCHEMA: &str = "
-- `seq` orders the log. Rows are never deleted, so the rowid's next value
-- (the largest plus one) never reuses one; `AUTOINCREMENT` would make every
-- entry also write the `sqlite_sequence` table's page.
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY,
    at_ms INTEGER NOT NULL,
    user_id TEXT NOT NULL,
    app_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    capability TEXT NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_by_user ON audit (user_id, seq);
";

/// Appends `e` to the audit log within the caller's transaction (the
/// ledger writes a payment's entry with the payment).
pub(super) fn append_audit_in(c: &Connection, e: &AuditEntry) -> StoreResult<()> {
    c.prepare_cached(
        "INSERT INTO audit (at_ms, user_id, app_id, session_id, capability, outcome, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .and_then(|mut s| {
        s.execute(params![
            e.at_ms,
            e.user,
            e.app,
            e.session,
            e.capability,
            e.outcome.as_str(),
            e.detail
        ])
    })
    .map_err(db("append to the audit log"))?;
    Ok(())
}

impl AuditStore for SqliteStore {
    fn append_audit(&self, e: &AuditEntry) -> StoreResult<()> {
        self.write_surviving(Durability::ProcessCrash, "append to the audit log", |c| {
            append_audit_in(c, e)
        })
    }

    fn audit_entries(&self, q: &AuditQuery) -> StoreResult<Vec<AuditEntry>> {
        let c = self.read();
        let limit = if q.limit == 0 {
            i64::MAX
        } else {
            q.limit as i64
        };
        let mut stmt = c
            .prepare_cached(
                "SELECT at_ms, user_id, app_id, session_id, capability, outcome, detail FROM (
                   SELECT * FROM audit
                   WHERE (?1 IS NULL OR user_id = ?1) AND (?2 IS NULL OR app_id = ?2)
                   ORDER BY seq DESC LIMIT ?3
                 ) ORDER BY seq ASC",
            )
            .map_err(db("read the audit log"))?;
        let rows = stmt
            .query_map(params![q.user, q.app, limit], |r| {
                let outcome: String = r.get(5)?;
                Ok(AuditEntry {
                    at_ms: r.get(0)?,
                    user: r.get(1)?,
                    app: r.get(2)?,
                    session: r.get(3)?,
                    capability: r.get(4)?,
                    outcome: if outcome == "allowed" {
                        Outcome::Allowed
                    } else {
                        Outcome::Denied
                    },
                    detail: r.get(6)?,
                })
            })
            .map_err(db("read the audit log"))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(db("read the audit log"))
    }
}
