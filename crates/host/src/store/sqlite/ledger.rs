//! The ledger on SQLite: its tables and [`LedgerStore`].
//!
//! A `CHECK` constraint backs the code's own check that wallets and merchant
//! accounts never go below zero; the `payments` primary key makes one
//! (mini-app, order id) pay at most once; each payment or refund is applied
//! whole in its own savepoint and returns once the transaction carrying it
//! (shared with the concurrent writes of the moment: group commit) has
//! committed.

use super::audit::append_audit_in;
use super::outbox::insert_notification_in;
use super::{SqliteStore, db};
use crate::ledger::{Receipt, insurance_split, receipt_message, refund_split};
use crate::store::{
    EXTERNAL_BANK, INSURANCE_FUND, InsuranceCard, LedgerReport, LedgerStore, PayCommand, PayResult,
    PaymentAudit, PaymentNotice, PaymentRecord, RefundAudit, RefundCommand, RefundNotice,
    RefundRecord, RefundResult, StoreError, StoreResult, WalletEntry, merchant_account,
    wallet_account,
};
use rusqlite::{Connection, OptionalExtension, params};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS insurance_cards (
    user_id TEXT PRIMARY KEY,
    card_number TEXT NOT NULL,
    holder_name TEXT NOT NULL,
    scheme TEXT NOT NULL,
    coverage_bp INTEGER NOT NULL CHECK (coverage_bp BETWEEN 0 AND 10000),
    annual_cap INTEGER NOT NULL CHECK (annual_cap >= 0),
    bound_at_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS accounts (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    currency TEXT NOT NULL,
    balance INTEGER NOT NULL,
    CHECK (kind NOT IN ('wallet', 'merchant') OR balance >= 0)
);
CREATE TABLE IF NOT EXISTS ledger_transactions (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    user_id TEXT NOT NULL,
    app_id TEXT,
    order_id TEXT,
    memo TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ledger_transactions_by_user ON ledger_transactions (user_id, at_ms);
CREATE TABLE IF NOT EXISTS postings (
    tx_id TEXT NOT NULL REFERENCES ledger_transactions (id),
    account_id TEXT NOT NULL REFERENCES accounts (id),
    amount INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS postings_by_tx ON postings (tx_id);
CREATE INDEX IF NOT EXISTS postings_by_account ON postings (account_id);
CREATE TABLE IF NOT EXISTS payments (
    app_id TEXT NOT NULL,
    generation INTEGER NOT NULL DEFAULT 0,
    order_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    publisher_id TEXT NOT NULL,
    tx_id TEXT NOT NULL REFERENCES ledger_transactions (id),
    amount INTEGER NOT NULL,
    currency TEXT NOT NULL,
    wallet_part INTEGER NOT NULL,
    insurance_part INTEGER NOT NULL,
    insurance_year INTEGER,
    insurance_cap INTEGER,
    payee TEXT NOT NULL,
    description TEXT NOT NULL,
    items TEXT NOT NULL,
    paid_at_ms INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    signature TEXT NOT NULL,
    refunded INTEGER NOT NULL DEFAULT 0,
    insurance_refunded INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (app_id, generation, order_id),
    CHECK (wallet_part + insurance_part = amount),
    CHECK (refunded BETWEEN 0 AND amount),
    CHECK (insurance_refunded BETWEEN 0 AND insurance_part)
);
CREATE INDEX IF NOT EXISTS payments_by_user ON payments (app_id, generation, user_id, seq);
-- The next payment's seq is MAX(seq) + 1: without this index, a scan of
-- every payment inside every payment's transaction.
CREATE INDEX IF NOT EXISTS payments_by_seq ON payments (seq);
-- An insured payment sums the user's insurance use of the year: without this
-- index, a scan of every payment inside every insured payment's transaction.
CREATE INDEX IF NOT EXISTS payments_by_insurance_year ON payments (user_id, insurance_year);
CREATE TABLE IF NOT EXISTS refunds (
    tx_id TEXT PRIMARY KEY REFERENCES ledger_transactions (id),
    app_id TEXT NOT NULL,
    generation INTEGER NOT NULL DEFAULT 0,
    order_id TEXT NOT NULL,
    amount INTEGER NOT NULL,
    wallet_part INTEGER NOT NULL,
    insurance_part INTEGER NOT NULL,
    reason TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    refund_id TEXT
);
";

/// Schema 9: where the last clean verification of the ledger stopped (the
/// last rowid it read of each ledger table) and every account's balance up
/// to there, so the next verification reads only what came after
/// (`SqliteStore::verify_ledger_from`); and an index of the broadcasts left
/// unfinished, which the host looks for at every open, so that it does not
/// read the finished ones. New tables and an index made at open: nothing to
/// migrate.
pub(super) const CHECKPOINT_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS ledger_checkpoint (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    transactions INTEGER NOT NULL,
    postings INTEGER NOT NULL,
    payments INTEGER NOT NULL,
    refunds INTEGER NOT NULL,
    verified INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS ledger_checkpoint_balances (
    account_id TEXT PRIMARY KEY,
    balance INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS broadcasts_unfinished ON broadcasts (created_at_ms) WHERE done = 0;
";

/// Columns added to the ledger's tables of earlier schemas, as
/// [`messaging::ADDED_COLUMNS`](super::messaging::ADDED_COLUMNS).
pub(super) const ADDED_COLUMNS: &[(i64, &str, &str, &str)] = &[
    // 8: the caller's id of a refund, which makes it idempotent.
    (8, "refunds", "refund_id", "TEXT"),
];

/// Indexes on columns added by migrations, made once the columns exist: one
/// refund per refund id of a mini-app's generation; an order's refunds, and
/// a day's payments and refunds, for the publisher API.
pub(super) const INDEXES_ON_ADDED_COLUMNS: &str = "
CREATE UNIQUE INDEX IF NOT EXISTS refunds_by_refund_id ON refunds (app_id, generation, refund_id)
    WHERE refund_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS refunds_by_order ON refunds (app_id, generation, order_id);
CREATE INDEX IF NOT EXISTS refunds_by_time ON refunds (app_id, generation, at_ms);
CREATE INDEX IF NOT EXISTS payments_by_time ON payments (app_id, generation, paid_at_ms);
";

/// From version 5, where a payment's key was (mini-app, order id): the old
/// table and its indexes step aside before the schema makes the new one
/// (keyed by mini-app, generation and order id), ...
pub(super) const MIGRATE_TO_6_BEFORE: &str = "
ALTER TABLE payments RENAME TO payments_v5;
DROP INDEX IF EXISTS payments_by_user;
DROP INDEX IF EXISTS payments_by_seq;
DROP INDEX IF EXISTS payments_by_insurance_year;
";

/// ... and every payment moves to it as generation 0; refunds get their
/// generation column, 0.
pub(super) const MIGRATE_TO_6_AFTER: &str = "
INSERT INTO payments (app_id, generation, order_id, user_id, publisher_id, tx_id, amount, currency,
        wallet_part, insurance_part, insurance_year, insurance_cap, payee, description, items,
        paid_at_ms, seq, signature, refunded, insurance_refunded)
    SELECT app_id, 0, order_id, user_id, publisher_id, tx_id, amount, currency,
        wallet_part, insurance_part, insurance_year, insurance_cap, payee, description, items,
        paid_at_ms, seq, signature, refunded, insurance_refunded FROM payments_v5;
DROP TABLE payments_v5;
ALTER TABLE refunds ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
";

impl LedgerStore for SqliteStore {
    fn bind_insurance_card(&self, card: &InsuranceCard) -> StoreResult<()> {
        self.write("bind an insurance card", |c| {
            c.execute(
                "INSERT OR REPLACE INTO insurance_cards
                 (user_id, card_number, holder_name, scheme, coverage_bp, annual_cap, bound_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    card.user,
                    card.card_number,
                    card.holder_name,
                    card.scheme,
                    card.coverage_bp,
                    card.annual_cap as i64,
                    card.bound_at_ms
                ],
            )
            .map_err(db("bind an insurance card"))?;
            Ok(())
        })
    }

    fn insurance_card(&self, user: &str) -> StoreResult<Option<InsuranceCard>> {
        self.read_point()
            .query_row(
                "SELECT card_number, holder_name, scheme, coverage_bp, annual_cap, bound_at_ms
                 FROM insurance_cards WHERE user_id = ?1",
                [user],
                |r| {
                    Ok(InsuranceCard {
                        user: user.to_string(),
                        card_number: r.get(0)?,
                        holder_name: r.get(1)?,
                        scheme: r.get(2)?,
                        coverage_bp: r.get(3)?,
                        annual_cap: r.get::<_, i64>(4)? as u64,
                        bound_at_ms: r.get(5)?,
                    })
                },
            )
            .optional()
            .map_err(db("read an insurance card"))
    }

    fn insurance_used(&self, user: &str, year: i32) -> StoreResult<u64> {
        insurance_used_in(&self.read_point(), user, year)
    }

    fn top_up(
        &self,
        tx_id: &str,
        user: &str,
        amount: u64,
        currency: &str,
        at_ms: i64,
    ) -> StoreResult<u64> {
        self.write("commit a top-up", |c| {
            insert_tx(
                c,
                tx_id,
                "topup",
                at_ms,
                user,
                None,
                None,
                "top-up from the bank",
            )?;
            post(
                c,
                tx_id,
                EXTERNAL_BANK,
                "external",
                currency,
                -(amount as i64),
            )?;
            let balance = post(
                c,
                tx_id,
                &wallet_account(user),
                "wallet",
                currency,
                amount as i64,
            )?;
            Ok(balance as u64)
        })
    }

    fn balance(&self, account: &str) -> StoreResult<i64> {
        balance_of(&self.read_point(), account)
    }

    fn pay_audited(
        &self,
        cmd: &PayCommand,
        sign: &dyn Fn(&[u8]) -> String,
        audit: Option<PaymentAudit<'_>>,
        notice: Option<PaymentNotice<'_>>,
    ) -> StoreResult<PayResult> {
        self.write("commit a payment", |c| {
            if let Some(existing) = payment_in(c, &cmd.app_id, cmd.generation, &cmd.order_id)? {
                let same = existing.user == cmd.user
                    && existing.receipt.amount == cmd.amount
                    && existing.receipt.currency == cmd.currency;
                return Ok(if same {
                    PayResult::AlreadyPaid(existing)
                } else {
                    PayResult::Conflict(existing)
                });
            }
            let insurance_part = match cmd.insurance {
                Some(terms) => {
                    let used = insurance_used_in(c, &cmd.user, terms.year)?;
                    insurance_split(
                        &cmd.items,
                        terms.coverage_bp,
                        terms.annual_cap.saturating_sub(used),
                    )
                }
                None => 0,
            };
            let wallet_part = cmd.amount - insurance_part;
            let wallet = wallet_account(&cmd.user);
            let available = balance_of(c, &wallet)?.max(0) as u64;
            if available < wallet_part {
                return Ok(PayResult::InsufficientFunds {
                    needed: wallet_part,
                    available,
                });
            }
            insert_tx(
                c,
                &cmd.tx_id,
                "payment",
                cmd.at_ms,
                &cmd.user,
                Some(&cmd.app_id),
                Some(&cmd.order_id),
                &cmd.description,
            )?;
            if wallet_part > 0 {
                post(
                    c,
                    &cmd.tx_id,
                    &wallet,
                    "wallet",
                    &cmd.currency,
                    -(wallet_part as i64),
                )?;
            }
            if insurance_part > 0 {
                post(
                    c,
                    &cmd.tx_id,
                    INSURANCE_FUND,
                    "insurance-fund",
                    &cmd.currency,
                    -(insurance_part as i64),
                )?;
            }
            post(
                c,
                &cmd.tx_id,
                &merchant_account(&cmd.publisher_id),
                "merchant",
                &cmd.currency,
                cmd.amount as i64,
            )?;
            let mut receipt = Receipt {
                transaction_id: cmd.tx_id.clone(),
                app_id: cmd.app_id.clone(),
                order_id: cmd.order_id.clone(),
                amount: cmd.amount,
                currency: cmd.currency.clone(),
                wallet_part,
                insurance_part,
                payee: cmd.payee.clone(),
                paid_at_ms: cmd.at_ms,
                signature: String::new(),
            };
            receipt.signature = sign(&receipt_message(&receipt));
            let seq: i64 = c
                .query_row("SELECT COALESCE(MAX(seq), 0) + 1 FROM payments", [], |r| {
                    r.get(0)
                })
                .map_err(db("number a payment"))?;
            let items = serde_json::to_string(&cmd.items).map_err(|e| StoreError::Database {
                operation: "record a payment",
                message: e.to_string(),
            })?;
            c.execute(
                "INSERT INTO payments (app_id, order_id, user_id, publisher_id, tx_id, amount, currency,
                   wallet_part, insurance_part, insurance_year, insurance_cap, payee, description, items, paid_at_ms, seq, signature, generation)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
                params![
                    cmd.app_id,
                    cmd.order_id,
                    cmd.user,
                    cmd.publisher_id,
                    cmd.tx_id,
                    cmd.amount as i64,
                    cmd.currency,
                    wallet_part as i64,
                    insurance_part as i64,
                    cmd.insurance.map(|t| t.year),
                    cmd.insurance.map(|t| t.annual_cap as i64),
                    cmd.payee,
                    cmd.description,
                    items,
                    cmd.at_ms,
                    seq,
                    receipt.signature,
                    cmd.generation
                ],
            )
            .map_err(db("record a payment"))?;
            let paid = PaymentRecord {
                receipt,
                user: cmd.user.clone(),
                description: cmd.description.clone(),
                items: cmd.items.clone(),
                refunded: 0,
                insurance_refunded: 0,
                seq,
            };
            if let Some(audit) = audit {
                append_audit_in(c, &audit(&paid))?;
            }
            if let Some(notice) = notice {
                insert_notification_in(c, &notice(&paid))?;
            }
            Ok(PayResult::Paid(paid))
        })
    }

    fn refund_audited(
        &self,
        cmd: &RefundCommand,
        audit: Option<RefundAudit<'_>>,
        notice: Option<RefundNotice<'_>>,
    ) -> StoreResult<RefundResult> {
        let (tx_id, app_id, user, order_id) = (
            cmd.tx_id.as_str(),
            cmd.app_id.as_str(),
            cmd.user.as_str(),
            cmd.order_id.as_str(),
        );
        let (amount, reason, at_ms) = (cmd.amount, cmd.reason.as_str(), cmd.at_ms);
        let generation = cmd.generation;
        let refund_id = cmd.refund_id.as_deref();
        self.write("commit a refund", |c| {
            if let Some(id) = refund_id
                && let Some(first) = refund_by_id_in(c, app_id, generation, id)?
            {
                return Ok(if first.order_id == order_id && first.amount == amount {
                    RefundResult::Repeated(first)
                } else {
                    RefundResult::RefundIdConflict(first)
                });
            }
            let Some(p) = payment_in(c, app_id, generation, order_id)?.filter(|p| p.user == user)
            else {
                return Ok(RefundResult::NotFound);
            };
            let refundable = p.receipt.amount - p.refunded;
            if amount == 0 || amount > refundable {
                return Ok(RefundResult::TooMuch { refundable });
            }
            let (to_wallet, to_fund) = refund_split(
                p.receipt.amount,
                p.receipt.insurance_part,
                p.refunded,
                p.insurance_refunded,
                amount,
            );
            let publisher: String = c
                .query_row(
                    "SELECT publisher_id FROM payments WHERE app_id = ?1 AND generation = ?2 AND order_id = ?3",
                    params![app_id, generation, order_id],
                    |r| r.get(0),
                )
                .map_err(db("read a payment"))?;
            let currency = &p.receipt.currency;
            insert_tx(
                c,
                tx_id,
                "refund",
                at_ms,
                user,
                Some(app_id),
                Some(order_id),
                reason,
            )?;
            post(
                c,
                tx_id,
                &merchant_account(&publisher),
                "merchant",
                currency,
                -(amount as i64),
            )?;
            if to_wallet > 0 {
                post(
                    c,
                    tx_id,
                    &wallet_account(user),
                    "wallet",
                    currency,
                    to_wallet as i64,
                )?;
            }
            if to_fund > 0 {
                post(
                    c,
                    tx_id,
                    INSURANCE_FUND,
                    "insurance-fund",
                    currency,
                    to_fund as i64,
                )?;
            }
            c.execute(
                "UPDATE payments SET refunded = refunded + ?3, insurance_refunded = insurance_refunded + ?4
                 WHERE app_id = ?1 AND order_id = ?2 AND generation = ?5",
                params![app_id, order_id, amount as i64, to_fund as i64, generation],
            )
            .map_err(db("record a refund"))?;
            c.execute(
                "INSERT INTO refunds (tx_id, app_id, order_id, amount, wallet_part, insurance_part, reason, at_ms, generation, refund_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![tx_id, app_id, order_id, amount as i64, to_wallet as i64, to_fund as i64, reason, at_ms, generation, refund_id],
            )
            .map_err(db("record a refund"))?;
            let refunded = RefundRecord {
                tx_id: tx_id.to_string(),
                app_id: app_id.to_string(),
                order_id: order_id.to_string(),
                amount,
                wallet_part: to_wallet,
                insurance_part: to_fund,
                reason: reason.to_string(),
                at_ms,
                refund_id: refund_id.map(str::to_string),
            };
            if let Some(audit) = audit {
                append_audit_in(c, &audit(&refunded))?;
            }
            if let Some(notice) = notice {
                insert_notification_in(c, &notice(&refunded))?;
            }
            Ok(RefundResult::Refunded(refunded))
        })
    }

    fn payment(
        &self,
        app_id: &str,
        generation: u32,
        order_id: &str,
    ) -> StoreResult<Option<PaymentRecord>> {
        payment_in(&self.read_point(), app_id, generation, order_id)
    }

    fn payment_by_transaction(
        &self,
        app_id: &str,
        generation: u32,
        user: &str,
        tx_id: &str,
    ) -> StoreResult<Option<PaymentRecord>> {
        self.read_point()
            .prepare_cached(&format!(
                "SELECT {PAYMENT_COLUMNS} FROM payments
                 WHERE app_id = ?1 AND generation = ?2 AND user_id = ?3 AND tx_id = ?4"
            ))
            .and_then(|mut s| {
                s.query_row(params![app_id, generation, user, tx_id], payment_row)
                    .optional()
            })
            .map_err(db("read a payment"))
    }

    fn payments(
        &self,
        app_id: &str,
        generation: u32,
        user: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Option<Vec<PaymentRecord>>> {
        let c = self.read();
        let before = match after {
            None => i64::MAX,
            Some(tx) => {
                let seq = c
                    .prepare_cached(
                        "SELECT seq FROM payments
                         WHERE app_id = ?1 AND user_id = ?2 AND tx_id = ?3 AND generation = ?4",
                    )
                    .and_then(|mut s| {
                        s.query_row(params![app_id, user, tx, generation], |r| {
                            r.get::<_, i64>(0)
                        })
                        .optional()
                    })
                    .map_err(db("list payments"))?;
                match seq {
                    Some(seq) => seq,
                    None => return Ok(None),
                }
            }
        };
        let mut stmt = c
            .prepare_cached(&format!(
                "SELECT {PAYMENT_COLUMNS} FROM payments
                 WHERE app_id = ?1 AND user_id = ?2 AND seq < ?3 AND generation = ?5
                 ORDER BY seq DESC LIMIT ?4"
            ))
            .map_err(db("list payments"))?;
        let rows = stmt
            .query_map(
                params![app_id, user, before, limit as i64, generation],
                payment_row,
            )
            .map_err(db("list payments"))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map(Some)
            .map_err(db("list payments"))
    }

    fn refunds_of(
        &self,
        app_id: &str,
        generation: u32,
        order_id: &str,
    ) -> StoreResult<Vec<RefundRecord>> {
        rows_of(
            &self.read(),
            &format!(
                "SELECT {REFUND_COLUMNS} FROM refunds
                 WHERE app_id = ?1 AND generation = ?2 AND order_id = ?3 ORDER BY at_ms, rowid"
            ),
            params![app_id, generation, order_id],
            refund_row,
            "list refunds",
        )
    }

    fn payments_between(
        &self,
        app_id: &str,
        generation: u32,
        from_ms: i64,
        to_ms: i64,
    ) -> StoreResult<Vec<PaymentRecord>> {
        rows_of(
            &self.read(),
            &format!(
                "SELECT {PAYMENT_COLUMNS} FROM payments
                 WHERE app_id = ?1 AND generation = ?2 AND paid_at_ms >= ?3 AND paid_at_ms < ?4
                 ORDER BY paid_at_ms, seq"
            ),
            params![app_id, generation, from_ms, to_ms],
            payment_row,
            "list payments",
        )
    }

    fn refunds_between(
        &self,
        app_id: &str,
        generation: u32,
        from_ms: i64,
        to_ms: i64,
    ) -> StoreResult<Vec<RefundRecord>> {
        rows_of(
            &self.read(),
            &format!(
                "SELECT {REFUND_COLUMNS} FROM refunds
                 WHERE app_id = ?1 AND generation = ?2 AND at_ms >= ?3 AND at_ms < ?4
                 ORDER BY at_ms, rowid"
            ),
            params![app_id, generation, from_ms, to_ms],
            refund_row,
            "list refunds",
        )
    }

    fn wallet_history(&self, user: &str, limit: usize) -> StoreResult<Vec<WalletEntry>> {
        let c = self.read();
        let mut stmt = c
            .prepare_cached(
                "SELECT t.id, t.kind, t.at_ms, p.amount, t.app_id, t.order_id, t.memo
                 FROM postings p JOIN ledger_transactions t ON t.id = p.tx_id
                 WHERE p.account_id = ?1 ORDER BY t.at_ms DESC, p.rowid DESC LIMIT ?2",
            )
            .map_err(db("read a wallet's history"))?;
        let rows = stmt
            .query_map(params![wallet_account(user), limit as i64], |r| {
                Ok(WalletEntry {
                    tx_id: r.get(0)?,
                    kind: r.get(1)?,
                    at_ms: r.get(2)?,
                    amount: r.get(3)?,
                    app_id: r.get(4)?,
                    order_id: r.get(5)?,
                    memo: r.get(6)?,
                })
            })
            .map_err(db("read a wallet's history"))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(db("read a wallet's history"))
    }

    fn verify_ledger(&self, verify: &dyn Fn(&[u8], &str) -> bool) -> StoreResult<LedgerReport> {
        self.verify_ledger_from(verify, false)
    }

    fn verify_ledger_full(
        &self,
        verify: &dyn Fn(&[u8], &str) -> bool,
    ) -> StoreResult<LedgerReport> {
        self.verify_ledger_from(verify, true)
    }
}

/// Where a clean verification of the ledger stopped: the last rowid of each
/// ledger table it read (ledger rows are never deleted, so rowids only
/// grow and every later row has a larger one), and how many transactions
/// the ledger then held. Kept in `ledger_checkpoint`, with each account's
/// balance up to it in `ledger_checkpoint_balances` ([`CHECKPOINT_SCHEMA`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Checkpoint {
    transactions: i64,
    postings: i64,
    payments: i64,
    refunds: i64,
    verified: i64,
}

fn read_checkpoint(c: &Connection) -> StoreResult<Option<Checkpoint>> {
    c.query_row(
        "SELECT transactions, postings, payments, refunds, verified FROM ledger_checkpoint WHERE id = 1",
        [],
        |r| {
            Ok(Checkpoint {
                transactions: r.get(0)?,
                postings: r.get(1)?,
                payments: r.get(2)?,
                refunds: r.get(3)?,
                verified: r.get(4)?,
            })
        },
    )
    .optional()
    .map_err(db("read the ledger checkpoint"))
}

/// The payments a verification from a checkpoint reads: those made since,
/// and those refunded since (`?1`: the last payment rowid checked, `?2`:
/// the last refund rowid).
const TOUCHED_PAYMENTS: &str = "touched (id) AS (
    SELECT rowid FROM payments WHERE rowid > ?1
    UNION SELECT p.rowid FROM refunds r JOIN payments p
        ON p.app_id = r.app_id AND p.generation = r.generation AND p.order_id = r.order_id
        WHERE r.rowid > ?2)";

impl SqliteStore {
    /// Checks the ledger's invariants for what came after the checkpoint of
    /// the last clean verification (everything when `full`, or when there is
    /// none), in one read transaction; when the ledger is clean, moves the
    /// checkpoint to what it read.
    ///
    /// From a checkpoint, each account's balance is checked against its
    /// balance at the checkpoint plus its postings since; transactions,
    /// payments and refunds made since (and payments refunded since) are
    /// checked whole; rows before the checkpoint are taken as verified then.
    fn verify_ledger_from(
        &self,
        verify: &dyn Fn(&[u8], &str) -> bool,
        full: bool,
    ) -> StoreResult<LedgerReport> {
        let (report, stored, upto, deltas) = {
            // One read transaction, so every check sees the same ledger.
            let c = self.read();
            let snapshot = c.unchecked_transaction().map_err(db("verify the ledger"))?;
            let c = &*snapshot;
            let stored = read_checkpoint(c)?;
            let from = match stored {
                Some(cp) if !full => cp,
                _ => Checkpoint::default(),
            };
            let report = verify_since(c, verify, &from, stored.is_some() && !full)?;
            let max = |table: &str| -> StoreResult<i64> {
                c.query_row(
                    &format!("SELECT COALESCE(MAX(rowid), 0) FROM {table}"),
                    [],
                    |r| r.get(0),
                )
                .map_err(db("verify the ledger"))
            };
            let upto = Checkpoint {
                transactions: max("ledger_transactions")?,
                postings: max("postings")?,
                payments: max("payments")?,
                refunds: max("refunds")?,
                verified: report.transactions as i64,
            };
            let deltas = pairs(
                c,
                // By rowid: grouped through the index by account, SQLite
                // would read every posting.
                "SELECT account_id, SUM(amount) FROM postings NOT INDEXED WHERE rowid > ?1 GROUP BY account_id",
                [from.postings],
            )?;
            (report, stored, upto, deltas)
        };
        if report.is_clean() && (full || stored != Some(upto)) {
            self.write("checkpoint the ledger", |c| {
                // Another verification moved it meanwhile: leave it.
                if read_checkpoint(c)? != stored {
                    return Ok(());
                }
                let fresh = full || stored.is_none();
                if fresh {
                    c.execute("DELETE FROM ledger_checkpoint_balances", [])
                        .map_err(db("checkpoint the ledger"))?;
                }
                let mut add = c
                    .prepare_cached(
                        "INSERT INTO ledger_checkpoint_balances (account_id, balance) VALUES (?1, ?2)
                         ON CONFLICT (account_id) DO UPDATE SET balance = balance + excluded.balance",
                    )
                    .map_err(db("checkpoint the ledger"))?;
                for (account, delta) in &deltas {
                    add.execute(params![account, delta])
                        .map_err(db("checkpoint the ledger"))?;
                }
                c.execute(
                    "INSERT INTO ledger_checkpoint (id, transactions, postings, payments, refunds, verified)
                     VALUES (1, ?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (id) DO UPDATE SET transactions = ?1, postings = ?2, payments = ?3,
                         refunds = ?4, verified = ?5",
                    params![upto.transactions, upto.postings, upto.payments, upto.refunds, upto.verified],
                )
                .map_err(db("checkpoint the ledger"))?;
                Ok(())
            })?;
        }
        Ok(report)
    }
}

fn pairs(
    c: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> StoreResult<Vec<(String, i64)>> {
    let mut stmt = c.prepare(sql).map_err(db("verify the ledger"))?;
    let rows = stmt
        .query_map(params, |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(db("verify the ledger"))?;
    rows.collect::<Result<Vec<_>, _>>()
        .map_err(db("verify the ledger"))
}

/// The checks of [`SqliteStore::verify_ledger_from`] for the rows after
/// `from` (all rows from the default checkpoint); `balances`: whether
/// accounts start from their balance at the checkpoint.
fn verify_since(
    c: &Connection,
    verify: &dyn Fn(&[u8], &str) -> bool,
    from: &Checkpoint,
    balances: bool,
) -> StoreResult<LedgerReport> {
    let count = |sql: &str| -> StoreResult<u64> {
        c.query_row(sql, [], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
            .map_err(db("verify the ledger"))
    };
    let mut report = LedgerReport {
        transactions: count("SELECT COUNT(*) FROM ledger_transactions")?,
        postings: count("SELECT COUNT(*) FROM postings")?,
        accounts: count("SELECT COUNT(*) FROM accounts")?,
        payments: count("SELECT COUNT(*) FROM payments")?,
        refunds: count("SELECT COUNT(*) FROM refunds")?,
        checkpointed: if balances { from.verified as u64 } else { 0 },
        ..LedgerReport::default()
    };
    let payments_since = [from.payments, from.refunds];
    // Transactions made since, and any an added posting belongs to.
    for (tx, sum) in pairs(
        c,
        "SELECT tx_id, SUM(amount) FROM postings
         WHERE tx_id IN (SELECT id FROM ledger_transactions WHERE rowid > ?1
                         UNION SELECT tx_id FROM postings WHERE rowid > ?2)
         GROUP BY tx_id HAVING SUM(amount) != 0",
        [from.transactions, from.postings],
    )? {
        report.problems.push(format!(
            "transaction {tx}: its postings sum to {sum}, not 0"
        ));
    }
    for (tx, _) in pairs(
        c,
        "SELECT id, 0 FROM ledger_transactions t
         WHERE t.rowid > ?1 AND NOT EXISTS (SELECT 1 FROM postings p WHERE p.tx_id = t.id)",
        [from.transactions],
    )? {
        report
            .problems
            .push(format!("transaction {tx} has no postings"));
    }
    // Every account: its balance at the checkpoint plus its postings since
    // (an index range of its postings).
    for (account, diff) in pairs(
        c,
        "SELECT a.id, a.balance - ?2 * COALESCE(k.balance, 0)
             - COALESCE((SELECT SUM(amount) FROM postings p WHERE p.account_id = a.id AND p.rowid > ?1), 0)
         FROM accounts a LEFT JOIN ledger_checkpoint_balances k ON k.account_id = a.id",
        [from.postings, i64::from(balances)],
    )? {
        if diff != 0 {
            report.problems.push(format!(
                "account {account}: its balance differs from its postings by {diff}"
            ));
        }
    }
    for (account, balance) in pairs(
        c,
        "SELECT id, balance FROM accounts WHERE kind IN ('wallet', 'merchant') AND balance < 0",
        [],
    )? {
        report
            .problems
            .push(format!("account {account} is below zero: {balance}"));
    }
    // Each payment's transaction moves exactly its parts. The postings are
    // found by transaction (`+x.account_id` keeps SQLite from searching
    // them by account: every posting of the merchant, for each payment).
    for (key, bad) in pairs(
        c,
        "SELECT p.app_id || '/' || p.order_id,
                (SELECT COUNT(*) FROM ledger_transactions t WHERE t.id = p.tx_id AND t.kind = 'payment') != 1
             OR COALESCE((SELECT -SUM(amount) FROM postings x WHERE x.tx_id = p.tx_id AND +x.account_id = 'wallet:' || p.user_id), 0) != p.wallet_part
             OR COALESCE((SELECT -SUM(amount) FROM postings x WHERE x.tx_id = p.tx_id AND +x.account_id = 'insurance-fund'), 0) != p.insurance_part
             OR COALESCE((SELECT SUM(amount) FROM postings x WHERE x.tx_id = p.tx_id AND +x.account_id = 'merchant:' || p.publisher_id), 0) != p.amount
         FROM payments p WHERE p.rowid > ?1",
        [from.payments],
    )? {
        if bad != 0 {
            report.problems.push(format!(
                "payment {key}: its transaction does not move its wallet, insurance and merchant parts"
            ));
        }
    }
    // Refunds add up per payment and never exceed it.
    for (key, bad) in pairs(
        c,
        &format!(
            "WITH {TOUCHED_PAYMENTS}
             SELECT p.app_id || '/' || p.order_id,
                    p.refunded != COALESCE((SELECT SUM(amount) FROM refunds r WHERE r.app_id = p.app_id AND r.generation = p.generation AND r.order_id = p.order_id), 0)
                 OR p.insurance_refunded != COALESCE((SELECT SUM(insurance_part) FROM refunds r WHERE r.app_id = p.app_id AND r.generation = p.generation AND r.order_id = p.order_id), 0)
                 OR p.refunded > p.amount
             FROM payments p WHERE p.rowid IN touched"
        ),
        payments_since,
    )? {
        if bad != 0 {
            report.problems.push(format!(
                "payment {key}: its refunds do not add up, or exceed what was paid"
            ));
        }
    }
    for (tx, bad) in pairs(
        c,
        "SELECT r.tx_id, r.wallet_part + r.insurance_part != r.amount
             OR (SELECT COUNT(*) FROM ledger_transactions t WHERE t.id = r.tx_id AND t.kind = 'refund') != 1
         FROM refunds r WHERE r.rowid > ?1",
        [from.refunds],
    )? {
        if bad != 0 {
            report.problems.push(format!(
                "refund {tx}: its parts do not add up, or it has no transaction"
            ));
        }
    }
    // No refund gives a side more than its share, rounding included:
    // after each refund of a payment, the wallet has had back at most its
    // proportional share of everything refunded so far (rounded down),
    // and neither side more than it paid.
    for (tx, bad) in pairs(
        c,
        &format!(
            "WITH {TOUCHED_PAYMENTS}
             SELECT r.tx_id,
                    SUM(r.wallet_part) OVER w * p.amount > SUM(r.amount) OVER w * p.wallet_part
                 OR SUM(r.wallet_part) OVER w > p.wallet_part
                 OR SUM(r.insurance_part) OVER w > p.insurance_part
             FROM refunds r JOIN payments p
                 ON p.app_id = r.app_id AND p.generation = r.generation AND p.order_id = r.order_id
             WHERE p.rowid IN touched
             WINDOW w AS (PARTITION BY r.app_id, r.generation, r.order_id ORDER BY r.rowid)"
        ),
        payments_since,
    )? {
        if bad != 0 {
            report.problems.push(format!(
                "refund {tx}: it gives the wallet more than its share of the payment's refunds, or a side more than it paid"
            ));
        }
    }
    // Insurance within the annual cap: no payment's insurance part above
    // the cap in force when it was made, and a user's net insurance in a
    // year never above the largest cap in force that year (a card can be
    // re-bound with other terms).
    for (key, over) in pairs(
        c,
        "SELECT app_id || '/' || order_id, insurance_part - insurance_cap FROM payments
         WHERE rowid > ?1 AND insurance_cap IS NOT NULL AND insurance_part > insurance_cap",
        [from.payments],
    )? {
        report.problems.push(format!(
            "payment {key}: insurance paid {over} over the cap in force"
        ));
    }
    for (user_year, over) in pairs(
        c,
        &format!(
            "WITH {TOUCHED_PAYMENTS}
             SELECT user_id || ' in ' || insurance_year, SUM(insurance_part - insurance_refunded) - MAX(insurance_cap)
             FROM payments WHERE insurance_year IS NOT NULL AND (user_id, insurance_year) IN
                 (SELECT user_id, insurance_year FROM payments WHERE rowid IN touched)
             GROUP BY user_id, insurance_year"
        ),
        payments_since,
    )? {
        if over > 0 {
            report.problems.push(format!(
                "insurance for {user_year} is {over} over the annual cap"
            ));
        }
    }
    // Every receipt made since carries the host's signature.
    let mut stmt = c
        .prepare(&format!(
            "SELECT {PAYMENT_COLUMNS} FROM payments WHERE rowid > ?1"
        ))
        .map_err(db("verify the ledger"))?;
    let payments = stmt
        .query_map([from.payments], payment_row)
        .map_err(db("verify the ledger"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db("verify the ledger"))?;
    for p in payments {
        report.signatures += 1;
        if !verify(&receipt_message(&p.receipt), &p.receipt.signature) {
            report.problems.push(format!(
                "payment {}/{}: the receipt's signature does not verify",
                p.receipt.app_id, p.receipt.order_id
            ));
        }
    }
    Ok(report)
}

pub(super) const PAYMENT_COLUMNS: &str =
    "app_id, order_id, user_id, tx_id, amount, currency, wallet_part, insurance_part,
    payee, description, items, paid_at_ms, seq, signature, refunded, insurance_refunded";

pub(super) fn payment_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PaymentRecord> {
    let items: String = r.get(10)?;
    Ok(PaymentRecord {
        receipt: Receipt {
            app_id: r.get(0)?,
            order_id: r.get(1)?,
            transaction_id: r.get(3)?,
            amount: r.get::<_, i64>(4)? as u64,
            currency: r.get(5)?,
            wallet_part: r.get::<_, i64>(6)? as u64,
            insurance_part: r.get::<_, i64>(7)? as u64,
            payee: r.get(8)?,
            paid_at_ms: r.get(11)?,
            signature: r.get(13)?,
        },
        user: r.get(2)?,
        description: r.get(9)?,
        items: serde_json::from_str(&items).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(10, rusqlite::types::Type::Text, Box::new(e))
        })?,
        seq: r.get(12)?,
        refunded: r.get::<_, i64>(14)? as u64,
        insurance_refunded: r.get::<_, i64>(15)? as u64,
    })
}

fn payment_in(
    c: &rusqlite::Connection,
    app_id: &str,
    generation: u32,
    order_id: &str,
) -> StoreResult<Option<PaymentRecord>> {
    c.prepare_cached(&format!(
        "SELECT {PAYMENT_COLUMNS} FROM payments WHERE app_id = ?1 AND generation = ?2 AND order_id = ?3"
    ))
    .and_then(|mut s| {
        s.query_row(params![app_id, generation, order_id], payment_row)
            .optional()
    })
    .map_err(db("read a payment"))
}

/// Every row `sql` selects with `params`, each read by `row`.
fn rows_of<T>(
    c: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    row: fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    operation: &'static str,
) -> StoreResult<Vec<T>> {
    let mut stmt = c.prepare_cached(sql).map_err(db(operation))?;
    let rows = stmt.query_map(params, row).map_err(db(operation))?;
    rows.collect::<Result<Vec<_>, _>>().map_err(db(operation))
}

const REFUND_COLUMNS: &str =
    "tx_id, app_id, order_id, amount, wallet_part, insurance_part, reason, at_ms, refund_id";

pub(super) fn refund_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RefundRecord> {
    Ok(RefundRecord {
        tx_id: r.get(0)?,
        app_id: r.get(1)?,
        order_id: r.get(2)?,
        amount: r.get::<_, i64>(3)? as u64,
        wallet_part: r.get::<_, i64>(4)? as u64,
        insurance_part: r.get::<_, i64>(5)? as u64,
        reason: r.get(6)?,
        at_ms: r.get(7)?,
        refund_id: r.get(8)?,
    })
}

fn refund_by_id_in(
    c: &rusqlite::Connection,
    app_id: &str,
    generation: u32,
    refund_id: &str,
) -> StoreResult<Option<RefundRecord>> {
    c.prepare_cached(&format!(
        "SELECT {REFUND_COLUMNS} FROM refunds WHERE app_id = ?1 AND generation = ?2 AND refund_id = ?3"
    ))
    .and_then(|mut s| {
        s.query_row(params![app_id, generation, refund_id], refund_row)
            .optional()
    })
    .map_err(db("read a refund"))
}

fn insurance_used_in(c: &rusqlite::Connection, user: &str, year: i32) -> StoreResult<u64> {
    c.prepare_cached(
        "SELECT COALESCE(SUM(insurance_part - insurance_refunded), 0) FROM payments
         WHERE user_id = ?1 AND insurance_year = ?2",
    )
    .and_then(|mut s| s.query_row(params![user, year], |r| r.get::<_, i64>(0)))
    .map(|n| n.max(0) as u64)
    .map_err(db("read insurance use"))
}

fn balance_of(c: &rusqlite::Connection, account: &str) -> StoreResult<i64> {
    c.prepare_cached("SELECT balance FROM accounts WHERE id = ?1")
        .and_then(|mut s| s.query_row([account], |r| r.get(0)).optional())
        .map(|b| b.unwrap_or(0))
        .map_err(db("read a balance"))
}

#[allow(clippy::too_many_arguments)]
fn insert_tx(
    tx: &Connection,
    id: &str,
    kind: &str,
    at_ms: i64,
    user: &str,
    app_id: Option<&str>,
    order_id: Option<&str>,
    memo: &str,
) -> StoreResult<()> {
    tx.prepare_cached(
        "INSERT INTO ledger_transactions (id, kind, at_ms, user_id, app_id, order_id, memo)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .and_then(|mut s| s.execute(params![id, kind, at_ms, user, app_id, order_id, memo]))
    .map_err(db("record a transaction"))?;
    Ok(())
}

/// Posts `amount` to `account` (creating it), returning its new balance.
fn post(
    tx: &Connection,
    tx_id: &str,
    account: &str,
    kind: &str,
    currency: &str,
    amount: i64,
) -> StoreResult<i64> {
    // Update first: an upsert would check the CHECK constraint against the
    // candidate row (a negative wallet) before it saw the conflict.
    let updated = tx
        .prepare_cached("UPDATE accounts SET balance = balance + ?2 WHERE id = ?1")
        .and_then(|mut s| s.execute(params![account, amount]))
        .map_err(db("post to an account"))?;
    if updated == 0 {
        tx.prepare_cached(
            "INSERT INTO accounts (id, kind, currency, balance) VALUES (?1, ?2, ?3, ?4)",
        )
        .and_then(|mut s| s.execute(params![account, kind, currency, amount]))
        .map_err(db("open an account"))?;
    }
    tx.prepare_cached("INSERT INTO postings (tx_id, account_id, amount) VALUES (?1, ?2, ?3)")
        .and_then(|mut s| s.execute(params![tx_id, account, amount]))
        .map_err(db("post to an account"))?;
    balance_of(tx, account)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::conformance::{self, APP, TestKeys};
    use std::collections::BTreeMap;
    use std::sync::{Arc, Barrier};

    /// A payment at time 1 (the conformance suite's).
    fn pay_cmd(tx: &str, user: &str, order: &str, amount: u64) -> PayCommand {
        conformance::pay_cmd(tx, user, order, amount, 1)
    }

    /// `verify_ledger` finds a refund that gave the wallet more than its
    /// share: the old split, which rounded the fund's part of each one-fen
    /// refund down to nothing.
    #[test]
    fn verify_finds_refunds_that_give_the_wallet_the_funds_share() {
        let store = SqliteStore::open_in_memory().unwrap();
        let keys = TestKeys::new();
        store.top_up("t", "ann", 1_000, "CNY", 0).unwrap();
        let cmd = PayCommand {
            items: vec![crate::ledger::LineItem {
                name: "Consultation".into(),
                quantity: 1,
                unit_price: 1_000,
                insurance_eligible: true,
            }],
            insurance: Some(crate::store::InsuranceTerms {
                coverage_bp: 7_000,
                annual_cap: 10_000,
                year: 2026,
            }),
            ..pay_cmd("p", "ann", "o", 1_000)
        };
        let PayResult::Paid(p) = store.pay(&cmd, &|m| keys.sign(m)).unwrap() else {
            panic!("not paid");
        };
        assert_eq!(p.receipt.insurance_part, 700);
        let refund = |tx: &str| RefundCommand {
            tx_id: tx.into(),
            app_id: APP.into(),
            generation: 0,
            user: "ann".into(),
            order_id: "o".into(),
            amount: 1,
            reason: "r".into(),
            at_ms: 2,
            refund_id: None,
        };
        // One fen: the wallet's share of 1 is 0.3, rounded down: the fund's.
        let RefundResult::Refunded(r) = store.refund(&refund("r1")).unwrap() else {
            panic!("not refunded");
        };
        assert_eq!((r.wallet_part, r.insurance_part), (0, 1));
        let clean = store.verify_ledger(&|m, sig| keys.verify(m, sig)).unwrap();
        assert!(clean.is_clean(), "{:?}", clean.problems);
        // Rewritten as the old split did it: all to the wallet.
        store
            .write("tamper", |c| {
                c.execute_batch(
                    "UPDATE refunds SET wallet_part = 1, insurance_part = 0;
                     UPDATE payments SET insurance_refunded = 0;
                     UPDATE postings SET account_id = 'wallet:ann' WHERE tx_id = 'r1' AND account_id = 'insurance-fund';
                     UPDATE accounts SET balance = balance + 1 WHERE id = 'wallet:ann';
                     UPDATE accounts SET balance = balance - 1 WHERE id = 'insurance-fund';",
                )
                .map_err(db("tamper"))
            })
            .unwrap();
        // Behind the clean verification's checkpoint: a full one reads it.
        let report = store
            .verify_ledger_full(&|m, sig| keys.verify(m, sig))
            .unwrap();
        assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
        assert!(
            report.problems[0].contains("refund r1: it gives the wallet more than its share"),
            "{:?}",
            report.problems
        );
    }

    /// Many threads pay at once on a file store, so their payments share
    /// commits: each gets its own answer (paid, the first receipt again for a
    /// retried order, a conflict, insufficient funds), refunds never exceed
    /// what was paid, and the ledger adds up.
    #[test]
    fn concurrent_payers_sharing_commits_each_get_their_own_answer() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(&dir.path().join("plaza.db")).unwrap());
        let keys = Arc::new(TestKeys::new());
        // rich-0..31 hold 5,000: five payments of 1,000 each pass.
        // poor-0..7 hold 100: every payment fails.
        // tight holds 2,500: of its three concurrent payments two pass.
        for u in 0..32 {
            store
                .top_up(
                    &format!("t-rich-{u}"),
                    &format!("rich-{u}"),
                    5_000,
                    "CNY",
                    0,
                )
                .unwrap();
        }
        for u in 0..8 {
            store
                .top_up(&format!("t-poor-{u}"), &format!("poor-{u}"), 100, "CNY", 0)
                .unwrap();
        }
        store.top_up("t-tight", "tight", 2_500, "CNY", 0).unwrap();
        let before = store.group_commit_stats();

        let mut jobs: Vec<Vec<PayCommand>> = Vec::new();
        for u in 0..32 {
            // Two threads per rich user retry the same five orders.
            for copy in 0..2 {
                jobs.push(
                    (0..5)
                        .map(|k| {
                            pay_cmd(
                                &format!("tx-r{u}-{k}-{copy}"),
                                &format!("rich-{u}"),
                                &format!("o-r{u}-{k}"),
                                1_000,
                            )
                        })
                        .collect(),
                );
            }
        }
        for u in 0..8 {
            jobs.push(vec![pay_cmd(
                &format!("tx-p{u}"),
                &format!("poor-{u}"),
                &format!("o-p{u}"),
                1_000,
            )]);
        }
        for k in 0..3 {
            jobs.push(vec![pay_cmd(
                &format!("tx-t{k}"),
                "tight",
                &format!("o-t{k}"),
                1_000,
            )]);
        }
        // The same order as rich-0's first, with another amount: a conflict
        // (once the first is paid) — or it is paid first, and then rich-0's
        // own attempts conflict. Either way one payment for the order.
        jobs.push(vec![pay_cmd("tx-c", "rich-0", "o-r0-0", 999)]);
        let barrier = Arc::new(Barrier::new(jobs.len()));
        let threads: Vec<_> = jobs
            .into_iter()
            .map(|jobs| {
                let (store, keys, barrier) = (store.clone(), keys.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    jobs.into_iter()
                        .map(|cmd| {
                            let r = store.pay(&cmd, &|m| keys.sign(m)).unwrap();
                            (cmd, r)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let results: Vec<(PayCommand, PayResult)> = threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect();

        let mut receipts: BTreeMap<String, Receipt> = BTreeMap::new();
        let mut paid = BTreeMap::<String, u64>::new();
        for (cmd, r) in &results {
            match r {
                PayResult::Paid(p) => {
                    assert_eq!(p.receipt.transaction_id, cmd.tx_id);
                    assert_eq!(p.receipt.amount, cmd.amount);
                    let first = receipts.insert(cmd.order_id.clone(), p.receipt.clone());
                    assert!(first.is_none(), "order {} paid twice", cmd.order_id);
                    *paid.entry(cmd.user.clone()).or_default() += cmd.amount;
                }
                PayResult::AlreadyPaid(_) | PayResult::Conflict(_) => {}
                PayResult::InsufficientFunds { needed, available } => {
                    assert_eq!(*needed, cmd.amount, "{cmd:?}");
                    assert!(*available < *needed, "{cmd:?}");
                    assert!(
                        cmd.user.starts_with("poor") || cmd.user == "tight",
                        "{cmd:?}: {r:?}"
                    );
                }
            }
        }
        // A retry gets the first receipt, whoever came first; a conflict
        // names the payment that stands.
        for (cmd, r) in &results {
            match r {
                PayResult::AlreadyPaid(p) => {
                    assert_eq!(p.receipt, receipts[&cmd.order_id]);
                    assert_eq!(p.receipt.amount, cmd.amount);
                }
                PayResult::Conflict(p) => {
                    assert_eq!(p.receipt, receipts[&cmd.order_id]);
                    assert_ne!(p.receipt.amount, cmd.amount);
                }
                _ => {}
            }
        }
        for u in 0..32 {
            for k in 0..5 {
                assert!(receipts.contains_key(&format!("o-r{u}-{k}")), "o-r{u}-{k}");
            }
        }
        assert_eq!(paid.get("tight"), Some(&2_000));
        assert!(paid.keys().all(|u| !u.starts_with("poor")));
        for (user, spent) in &paid {
            let start = if user == "tight" { 2_500 } else { 5_000 };
            assert_eq!(
                store.balance(&wallet_account(user)).unwrap(),
                start - *spent as i64,
                "{user}"
            );
        }
        let total: u64 = paid.values().sum();
        assert_eq!(
            store.balance(&merchant_account("cn.hz")).unwrap(),
            total as i64
        );
        // Every stored payment is one of the receipts handed out, once.
        for (order, receipt) in &receipts {
            assert_eq!(
                &store.payment(APP, 0, order).unwrap().unwrap().receipt,
                receipt
            );
        }

        // Concurrent refunds of one payment never exceed it.
        let refunds: Vec<_> = (0..4)
            .map(|i| {
                let store = store.clone();
                std::thread::spawn(move || {
                    store
                        .refund(&RefundCommand {
                            tx_id: format!("rf-{i}"),
                            app_id: APP.into(),
                            generation: 0,
                            user: "rich-1".into(),
                            order_id: "o-r1-0".into(),
                            amount: 400,
                            reason: "r".into(),
                            at_ms: 2,
                            refund_id: None,
                        })
                        .unwrap()
                })
            })
            .collect();
        let refunds: Vec<RefundResult> = refunds.into_iter().map(|t| t.join().unwrap()).collect();
        let done = refunds
            .iter()
            .filter(|r| matches!(r, RefundResult::Refunded(_)))
            .count();
        assert_eq!(done, 2, "{refunds:?}");
        assert!(
            refunds
                .iter()
                .filter(|r| !matches!(r, RefundResult::Refunded(_)))
                .all(|r| *r == RefundResult::TooMuch { refundable: 200 }),
            "{refunds:?}"
        );
        assert_eq!(
            store.payment(APP, 0, "o-r1-0").unwrap().unwrap().refunded,
            800
        );

        let report = store.verify_ledger(&|m, sig| keys.verify(m, sig)).unwrap();
        assert!(report.is_clean(), "{:?}", report.problems);
        assert_eq!(report.payments, receipts.len() as u64);
        assert_eq!(report.signatures, receipts.len() as u64);
        // The payments shared commits.
        let stats = store.group_commit_stats();
        let (commits, commands) = (
            stats.commits - before.commits,
            stats.commands - before.commands,
        );
        assert!(commands >= results.len() as u64, "{stats:?}");
        assert!(commits < commands, "no commit was shared: {stats:?}");
    }
}
