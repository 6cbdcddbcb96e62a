//! Messages on SQLite: the tables of subscriptions, followers, broadcasts,
//! conversations and the inbox, and [`MessagingStore`]. A subscription
//! message and the acceptance it consumes commit in one transaction; a
//! broadcast's recipients are rows of `broadcast_recipients`, and the inbox's
//! unique (broadcast, user) key keeps a resumed broadcast from delivering
//! twice.

use super::{Durability, SqliteStore, db, off_the_runtime};
use crate::store::messaging::{PRUNE_RATES_SQL, PRUNE_RECIPIENTS_SQL, TAKE_RATE_SQL};
use crate::store::{BroadcastCount, InboxMessage, MessagingStore, SendResult, Sender, StoreResult};
use rusqlite::{OptionalExtension, params};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS subscriptions (
    user_id TEXT NOT NULL,
    app_id TEXT NOT NULL,
    template_id TEXT NOT NULL,
    long_term INTEGER NOT NULL,
    remaining INTEGER NOT NULL CHECK (remaining >= 0),
    updated_at_ms INTEGER NOT NULL,
    PRIMARY KEY (user_id, app_id, template_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS followers (
    app_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    followed_at_ms INTEGER NOT NULL,
    PRIMARY KEY (app_id, user_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS broadcasts (
    id TEXT PRIMARY KEY,
    app_id TEXT NOT NULL,
    app_name TEXT NOT NULL,
    publisher_name TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    month TEXT NOT NULL,
    quota INTEGER NOT NULL,
    created_at_ms INTEGER NOT NULL,
    done INTEGER NOT NULL DEFAULT 0,
    skipped INTEGER NOT NULL DEFAULT 0,
    link TEXT
);
CREATE TABLE IF NOT EXISTS broadcast_recipients (
    broadcast_id TEXT NOT NULL REFERENCES broadcasts (id),
    user_id TEXT NOT NULL,
    outcome TEXT,
    PRIMARY KEY (broadcast_id, user_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS inbox (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    app_id TEXT NOT NULL,
    app_name TEXT NOT NULL,
    publisher_name TEXT NOT NULL,
    kind TEXT NOT NULL,
    template_id TEXT,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    month TEXT NOT NULL,
    sent_at_ms INTEGER NOT NULL,
    read INTEGER NOT NULL DEFAULT 0,
    broadcast_id TEXT,
    link TEXT,
    UNIQUE (broadcast_id, user_id)
);
CREATE INDEX IF NOT EXISTS inbox_by_user ON inbox (user_id, sent_at_ms);
CREATE INDEX IF NOT EXISTS inbox_broadcasts ON inbox (app_id, user_id, kind, month);
CREATE TABLE IF NOT EXISTS conversation (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    app_id TEXT NOT NULL,
    text TEXT NOT NULL,
    sent_at_ms INTEGER NOT NULL,
    delivered INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS conversation_by_user ON conversation (user_id, app_id, sent_at_ms);
-- Uses per key (a mini-app, or a mini-app and a user) in its current
-- minute: the per-minute message limits (schema 7).
CREATE TABLE IF NOT EXISTS rate_windows (
    key TEXT PRIMARY KEY,
    minute INTEGER NOT NULL,
    count INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS rate_windows_by_minute ON rate_windows (minute);
";

/// Columns added to tables of earlier schemas, with the schema version that
/// added each: `(version, table, column, definition)`. A store of an older
/// version that has the table without the column gets it when it opens.
pub(super) const ADDED_COLUMNS: &[(i64, &str, &str, &str)] = &[
    // 4: the tries to give a user's message to the mini-app.
    (4, "conversation", "attempts", "INTEGER NOT NULL DEFAULT 0"),
    // 5: the followers a broadcast skipped at its start (counted, not a
    // row each).
    (5, "broadcasts", "skipped", "INTEGER NOT NULL DEFAULT 0"),
    // 8: the page a message opens in its mini-app (a path and query).
    (8, "inbox", "link", "TEXT"),
    (8, "broadcasts", "link", "TEXT"),
];

/// Recipients delivered per transaction: each transaction holds the write
/// connection, so other users' writes wait at most this many deliveries.
const DELIVERY_CHUNK: usize = 100;

/// `conversation.delivered` of a message set aside after failed attempts.
const SET_ASIDE: i64 = 2;

pub(super) const INBOX_COLUMNS: &str = "id, user_id, app_id, app_name, publisher_name, kind, template_id, title, body, sent_at_ms, read, link";

pub(super) fn inbox_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<InboxMessage> {
    Ok(InboxMessage {
        id: r.get(0)?,
        user: r.get(1)?,
        app_id: r.get(2)?,
        app_name: r.get(3)?,
        publisher_name: r.get(4)?,
        kind: r.get(5)?,
        template_id: r.get(6)?,
        title: r.get(7)?,
        body: r.get(8)?,
        sent_at_ms: r.get(9)?,
        read: r.get::<_, i64>(10)? != 0,
        link: r.get(11)?,
    })
}

#[allow(clippy::too_many_arguments)]
fn insert_inbox(
    c: &rusqlite::Connection,
    id: &str,
    user: &str,
    sender: &Sender,
    kind: &str,
    template: Option<&str>,
    title: &str,
    body: &str,
    month: &str,
    at_ms: i64,
    broadcast: Option<&str>,
) -> StoreResult<()> {
    c.prepare_cached(
        "INSERT INTO inbox (id, user_id, app_id, app_name, publisher_name, kind, template_id, title, body, month, sent_at_ms, broadcast_id, link)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )
    .and_then(|mut s| {
        s.execute(params![
            id,
            user,
            sender.app_id,
            sender.app_name,
            sender.publisher_name,
            kind,
            template,
            title,
            body,
            month,
            at_ms,
            broadcast,
            sender.link
        ])
    })
    .map_err(db("deliver a message"))?;
    Ok(())
}

impl SqliteStore {
    fn deliver_broadcast_here(
        &self,
        id: &str,
        message_ids: &mut dyn FnMut() -> String,
    ) -> StoreResult<BroadcastCount> {
        type Broadcast = (
            String,
            String,
            String,
            String,
            String,
            String,
            i64,
            i64,
            i64,
            Option<String>,
        );
        let b: Broadcast = self
            .read()
            .query_row(
                "SELECT app_id, app_name, publisher_name, title, body, month, quota, created_at_ms, skipped, link FROM broadcasts WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?, r.get(9)?)),
            )
            .map_err(db("read a broadcast"))?;
        let (
            app_id,
            app_name,
            publisher_name,
            title,
            body,
            month,
            quota,
            at_ms,
            skipped_at_start,
            link,
        ) = b;
        let sender = Sender {
            app_id: app_id.clone(),
            app_name,
            publisher_name,
            link,
        };
        let pending: Vec<String> = {
            let c = self.read();
            let mut s = c
                .prepare("SELECT user_id FROM broadcast_recipients WHERE broadcast_id = ?1 AND outcome IS NULL ORDER BY user_id")
                .map_err(db("read a broadcast's recipients"))?;
            let rows = s
                .query_map([id], |r| r.get(0))
                .map_err(db("read a broadcast's recipients"))?;
            rows.collect::<Result<Vec<_>, _>>()
                .map_err(db("read a broadcast's recipients"))?
        };
        // A few followers per transaction: each follower's message and its
        // outcome commit together, so a crash loses or repeats nothing. The
        // ids are taken before the write connection is, and the connection
        // is given back between transactions, so other writes go between.
        for chunk in pending.chunks(DELIVERY_CHUNK) {
            let ids: Vec<String> = chunk.iter().map(|_| message_ids()).collect();
            let mut c = self.conn();
            let tx = c.transaction().map_err(db("begin a delivery"))?;
            for (user, message_id) in chunk.iter().zip(&ids) {
                let received: i64 = tx
                    .query_row(
                        "SELECT COUNT(*) FROM inbox WHERE app_id = ?1 AND user_id = ?2 AND kind = 'broadcast' AND month = ?3",
                        params![app_id, user, month],
                        |r| r.get(0),
                    )
                    .map_err(db("count a follower's broadcasts"))?;
                let outcome = if received >= quota {
                    "skipped"
                } else {
                    "delivered"
                };
                if outcome == "delivered" {
                    insert_inbox(
                        &tx,
                        message_id,
                        user,
                        &sender,
                        "broadcast",
                        None,
                        &title,
                        &body,
                        &month,
                        at_ms,
                        Some(id),
                    )?;
                }
                tx.execute(
                    "UPDATE broadcast_recipients SET outcome = ?3 WHERE broadcast_id = ?1 AND user_id = ?2",
                    params![id, user, outcome],
                )
                .map_err(db("record a delivery"))?;
            }
            tx.commit().map_err(db("commit a delivery"))?;
        }
        let mut c = self.conn();
        let tx = c.transaction().map_err(db("finish a broadcast"))?;
        tx.execute("UPDATE broadcasts SET done = 1 WHERE id = ?1", [id])
            .map_err(db("finish a broadcast"))?;
        let (delivered, skipped): (i64, i64) = tx
            .query_row(
                "SELECT COALESCE(SUM(outcome = 'delivered'), 0), COALESCE(SUM(outcome = 'skipped'), 0)
                 FROM broadcast_recipients WHERE broadcast_id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(db("count a broadcast"))?;
        // The rows of finished broadcasts of earlier months are of no more
        // use (their quota month is over, nothing resumes them).
        tx.execute(PRUNE_RECIPIENTS_SQL, [&month])
            .map_err(db("prune broadcast recipients"))?;
        tx.commit().map_err(db("finish a broadcast"))?;
        Ok(BroadcastCount {
            delivered: delivered as u32,
            skipped: (skipped + skipped_at_start) as u32,
        })
    }
}

impl MessagingStore for SqliteStore {
    fn accept_template(
        &self,
        user: &str,
        app: &str,
        template: &str,
        long_term: bool,
        at_ms: i64,
    ) -> StoreResult<()> {
        self.conn()
            .execute(
                "INSERT INTO subscriptions (user_id, app_id, template_id, long_term, remaining, updated_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (user_id, app_id, template_id) DO UPDATE SET
                   long_term = MAX(long_term, excluded.long_term),
                   remaining = remaining + excluded.remaining,
                   updated_at_ms = excluded.updated_at_ms",
                params![user, app, template, long_term as i64, if long_term { 0 } else { 1 }, at_ms],
            )
            .map_err(db("record a subscription"))?;
        Ok(())
    }

    fn send_subscription(
        &self,
        id: &str,
        user: &str,
        sender: &Sender,
        template: &str,
        title: &str,
        body: &str,
        month: &str,
        at_ms: i64,
    ) -> StoreResult<SendResult> {
        let mut c = self.conn();
        let tx = c.transaction().map_err(db("begin a send"))?;
        let sub: Option<(i64, i64)> = tx
            .query_row(
                "SELECT long_term, remaining FROM subscriptions WHERE user_id = ?1 AND app_id = ?2 AND template_id = ?3",
                params![user, sender.app_id, template],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(db("read a subscription"))?;
        match sub {
            Some((1, _)) => {}
            Some((_, n)) if n > 0 => {
                tx.execute(
                    "UPDATE subscriptions SET remaining = remaining - 1, updated_at_ms = ?4
                     WHERE user_id = ?1 AND app_id = ?2 AND template_id = ?3",
                    params![user, sender.app_id, template, at_ms],
                )
                .map_err(db("use a subscription"))?;
            }
            _ => return Ok(SendResult::NoSubscription),
        }
        insert_inbox(
            &tx,
            id,
            user,
            sender,
            "subscription",
            Some(template),
            title,
            body,
            month,
            at_ms,
            None,
        )?;
        tx.commit().map_err(db("commit a send"))?;
        Ok(SendResult::Sent(id.to_string()))
    }

    fn set_following(&self, user: &str, app: &str, follow: bool, at_ms: i64) -> StoreResult<bool> {
        let c = self.conn();
        let n = if follow {
            c.execute(
                "INSERT OR IGNORE INTO followers (app_id, user_id, followed_at_ms) VALUES (?1, ?2, ?3)",
                params![app, user, at_ms],
            )
        } else {
            c.execute("DELETE FROM followers WHERE app_id = ?1 AND user_id = ?2", params![app, user])
        }
        .map_err(db("change following"))?;
        Ok(n > 0)
    }

    fn followers(&self, app: &str) -> StoreResult<Vec<String>> {
        let c = self.read();
        let mut s = c
            .prepare_cached("SELECT user_id FROM followers WHERE app_id = ?1 ORDER BY user_id")
            .map_err(db("list followers"))?;
        let rows = s
            .query_map([app], |r| r.get(0))
            .map_err(db("list followers"))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(db("list followers"))
    }

    fn start_broadcast(
        &self,
        id: &str,
        sender: &Sender,
        title: &str,
        body: &str,
        month: &str,
        quota: u32,
        at_ms: i64,
    ) -> StoreResult<()> {
        off_the_runtime(|| {
            let mut c = self.conn();
            let tx = c.transaction().map_err(db("begin a broadcast"))?;
            tx.execute(
                "INSERT INTO broadcasts (id, app_id, app_name, publisher_name, title, body, month, quota, created_at_ms, link)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![id, sender.app_id, sender.app_name, sender.publisher_name, title, body, month, quota, at_ms, sender.link],
            )
            .map_err(db("record a broadcast"))?;
            // Followers over the quota get no row: only their number.
            let under_quota =
                "(SELECT COUNT(*) FROM inbox i WHERE i.app_id = f.app_id AND i.user_id = f.user_id
                                AND i.kind = 'broadcast' AND i.month = ?3) < ?4";
            tx.execute(
                &format!(
                    "INSERT INTO broadcast_recipients (broadcast_id, user_id)
                     SELECT ?1, f.user_id FROM followers f WHERE f.app_id = ?2 AND {under_quota}"
                ),
                params![id, sender.app_id, month, quota],
            )
            .map_err(db("record a broadcast's recipients"))?;
            tx.execute(
                &format!(
                    "UPDATE broadcasts SET skipped =
                       (SELECT COUNT(*) FROM followers f WHERE f.app_id = ?2 AND NOT {under_quota})
                     WHERE id = ?1"
                ),
                params![id, sender.app_id, month, quota],
            )
            .map_err(db("count a broadcast's skipped followers"))?;
            tx.commit().map_err(db("commit a broadcast"))?;
            Ok(())
        })
    }

    fn deliver_broadcast(
        &self,
        id: &str,
        message_ids: &mut dyn FnMut() -> String,
    ) -> StoreResult<BroadcastCount> {
        off_the_runtime(|| self.deliver_broadcast_here(id, message_ids))
    }

    fn broadcast_recipient_rows(&self) -> StoreResult<u64> {
        let n: i64 = self
            .read()
            .query_row("SELECT COUNT(*) FROM broadcast_recipients", [], |r| {
                r.get(0)
            })
            .map_err(db("count broadcast recipients"))?;
        Ok(n as u64)
    }

    fn unfinished_broadcasts(&self) -> StoreResult<Vec<String>> {
        let c = self.read();
        let mut s = c
            .prepare("SELECT id FROM broadcasts WHERE done = 0 ORDER BY created_at_ms")
            .map_err(db("list unfinished broadcasts"))?;
        let rows = s
            .query_map([], |r| r.get(0))
            .map_err(db("list unfinished broadcasts"))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(db("list unfinished broadcasts"))
    }

    fn record_user_message(
        &self,
        id: &str,
        user: &str,
        app: &str,
        text: &str,
        at_ms: i64,
    ) -> StoreResult<()> {
        self.conn()
            .execute(
                "INSERT INTO conversation (id, user_id, app_id, text, sent_at_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id, user, app, text, at_ms],
            )
            .map_err(db("record a user's message"))?;
        Ok(())
    }

    fn last_user_message_at(&self, user: &str, app: &str) -> StoreResult<Option<i64>> {
        self.read_point()
            .query_row(
                "SELECT MAX(sent_at_ms) FROM conversation WHERE user_id = ?1 AND app_id = ?2",
                params![user, app],
                |r| r.get(0),
            )
            .map_err(db("read a conversation"))
    }

    fn undelivered_user_messages(
        &self,
        user: &str,
        app: &str,
    ) -> StoreResult<Vec<(String, String, i64)>> {
        let c = self.read_point();
        let mut s = c
            .prepare_cached(
                "SELECT id, text, sent_at_ms FROM conversation WHERE user_id = ?1 AND app_id = ?2 AND delivered = 0
                 ORDER BY sent_at_ms, rowid",
            )
            .map_err(db("read a conversation"))?;
        let rows = s
            .query_map(params![user, app], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .map_err(db("read a conversation"))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(db("read a conversation"))
    }

    fn mark_user_message_delivered(&self, id: &str) -> StoreResult<()> {
        self.conn()
            .execute("UPDATE conversation SET delivered = 1 WHERE id = ?1", [id])
            .map_err(db("mark a message delivered"))?;
        Ok(())
    }

    fn count_user_message_attempt(&self, id: &str) -> StoreResult<u32> {
        let attempts: i64 = self
            .conn()
            .query_row(
                "UPDATE conversation SET attempts = attempts + 1 WHERE id = ?1 RETURNING attempts",
                [id],
                |r| r.get(0),
            )
            .map_err(db("count a delivery attempt"))?;
        Ok(attempts as u32)
    }

    fn set_user_message_aside(&self, id: &str) -> StoreResult<()> {
        self.conn()
            .execute(
                "UPDATE conversation SET delivered = ?2 WHERE id = ?1",
                params![id, SET_ASIDE],
            )
            .map_err(db("set a message aside"))?;
        Ok(())
    }

    fn deliver_message(
        &self,
        id: &str,
        user: &str,
        sender: &Sender,
        kind: &str,
        title: &str,
        body: &str,
        month: &str,
        at_ms: i64,
    ) -> StoreResult<()> {
        insert_inbox(
            &self.conn(),
            id,
            user,
            sender,
            kind,
            None,
            title,
            body,
            month,
            at_ms,
            None,
        )
    }

    fn inbox(&self, user: &str, unread_only: bool, limit: usize) -> StoreResult<Vec<InboxMessage>> {
        let c = self.read();
        let mut s = c
            .prepare_cached(&format!(
                "SELECT {INBOX_COLUMNS} FROM inbox WHERE user_id = ?1 AND (?2 = 0 OR read = 0)
                 ORDER BY sent_at_ms DESC, rowid DESC LIMIT ?3"
            ))
            .map_err(db("read an inbox"))?;
        let rows = s
            .query_map(params![user, unread_only as i64, limit as i64], inbox_row)
            .map_err(db("read an inbox"))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(db("read an inbox"))
    }

    fn take_rate(&self, key: &str, minute: i64, limit: u32) -> StoreResult<bool> {
        if limit == 0 {
            return Ok(false);
        }
        self.write_surviving(
            Durability::ProcessCrash,
            "count a message against its limit",
            |c| {
                c.prepare_cached(PRUNE_RATES_SQL)
                    .and_then(|mut s| s.execute([minute]))
                    .map_err(db("count a message against its limit"))?;
                c.prepare_cached(TAKE_RATE_SQL)
                    .and_then(|mut s| {
                        s.query_row(params![key, minute, i64::from(limit)], |_| Ok(()))
                            .optional()
                    })
                    .map(|counted| counted.is_some())
                    .map_err(db("count a message against its limit"))
            },
        )
    }

    fn inbox_message(&self, user: &str, id: &str) -> StoreResult<Option<InboxMessage>> {
        self.read_point()
            .prepare_cached(&format!(
                "SELECT {INBOX_COLUMNS} FROM inbox WHERE user_id = ?1 AND id = ?2"
            ))
            .and_then(|mut s| s.query_row(params![user, id], inbox_row).optional())
            .map_err(db("read a message"))
    }

    fn mark_read(&self, user: &str, id: &str) -> StoreResult<bool> {
        let n = self
            .conn()
            .execute(
                "UPDATE inbox SET read = 1 WHERE user_id = ?1 AND id = ?2",
                params![user, id],
            )
            .map_err(db("mark a message read"))?;
        Ok(n > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sender() -> Sender {
        Sender {
            app_id: "cn.city".into(),
            app_name: "City".into(),
            publisher_name: "City Hall".into(),
            link: None,
        }
    }

    #[test]
    fn a_broadcast_resumed_after_a_crash_reaches_everyone_once() {
        let s = SqliteStore::open_in_memory().unwrap();
        for u in ["a", "b", "c"] {
            s.set_following(u, "cn.city", true, 0).unwrap();
        }
        s.start_broadcast("b1", &sender(), "Water", "Off on Monday", "2026-11", 4, 0)
            .unwrap();
        // A crash after one delivery: simulate by delivering to `a` by hand.
        {
            let c = s.conn();
            insert_inbox(
                &c,
                "pre",
                "a",
                &sender(),
                "broadcast",
                None,
                "Water",
                "Off on Monday",
                "2026-11",
                0,
                Some("b1"),
            )
            .unwrap();
            c.execute(
                "UPDATE broadcast_recipients SET outcome = 'delivered' WHERE user_id = 'a'",
                [],
            )
            .unwrap();
        }
        assert_eq!(s.unfinished_broadcasts().unwrap(), vec!["b1".to_string()]);
        let mut n = 0;
        let count = s
            .deliver_broadcast("b1", &mut || {
                n += 1;
                format!("m{n}")
            })
            .unwrap();
        assert_eq!(
            count,
            BroadcastCount {
                delivered: 3,
                skipped: 0
            }
        );
        let again = s
            .deliver_broadcast("b1", &mut || {
                n += 1;
                format!("m{n}")
            })
            .unwrap();
        assert_eq!(again, count);
        for u in ["a", "b", "c"] {
            assert_eq!(s.inbox(u, false, 10).unwrap().len(), 1, "{u}");
        }
        assert!(s.unfinished_broadcasts().unwrap().is_empty());
    }
}
