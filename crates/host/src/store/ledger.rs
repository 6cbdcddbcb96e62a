//! Money: the double-entry ledger (accounts, transactions, postings), the
//! payments and refunds of mini-apps, and the user's bound medical-insurance
//! card.
//!
//! Every transaction's postings sum to zero; an account's balance is the sum
//! of its postings (kept alongside for speed, checked by [`LedgerStore::verify_ledger`]);
//! wallets and merchant accounts never go below zero; one (mini-app, order
//! id) pays at most once; each payment or refund is applied whole and returns
//! once it has committed. How the SQLite store keeps each of these is in
//! `sqlite/ledger.rs`.

use super::{AuditEntry, PaymentNotice, RefundNotice, StoreResult};
use crate::ledger::{LineItem, Receipt};

/// Makes the audit entry of a payment from its record, for the store to
/// append in the payment's own transaction.
pub type PaymentAudit<'a> = &'a dyn Fn(&PaymentRecord) -> AuditEntry;
/// Makes the audit entry of a refund from its record, for the store to
/// append in the refund's own transaction.
pub type RefundAudit<'a> = &'a dyn Fn(&RefundRecord) -> AuditEntry;

/// The account of a user's wallet.
pub fn wallet_account(user: &str) -> String {
    format!("wallet:{user}")
}

/// The account of a publisher's takings.
pub fn merchant_account(publisher: &str) -> String {
    format!("merchant:{publisher}")
}

/// The medical-insurance fund: it pays out, so its balance goes negative by
/// what it has paid.
pub const INSURANCE_FUND: &str = "insurance-fund";
/// The outside world that top-ups come from: negative by what came in.
pub const EXTERNAL_BANK: &str = "external:bank";

/// What a payment needs to commit.
#[derive(Debug, Clone)]
pub struct PayCommand {
    /// The new transaction's id.
    pub tx_id: String,
    /// The mini-app.
    pub app_id: String,
    /// The generation of its app id ([`AppIdRecord`](crate::store::AppIdRecord)):
    /// the payment belongs to it, out of later generations' reach.
    pub generation: u32,
    /// Its publisher (whose merchant account is paid).
    pub publisher_id: String,
    /// The publisher's verified name, the payee on the receipt.
    pub payee: String,
    /// The user paying.
    pub user: String,
    /// The mini-app's order id.
    pub order_id: String,
    /// The total, minor units.
    pub amount: u64,
    /// The currency.
    pub currency: String,
    /// What it is for.
    pub description: String,
    /// The bill.
    pub items: Vec<LineItem>,
    /// When.
    pub at_ms: i64,
    /// Settle with insurance: the card's terms and the calendar year (host
    /// time zone) the payment counts against. `None`: the wallet pays all.
    pub insurance: Option<InsuranceTerms>,
}

/// The insurance terms a payment settles under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InsuranceTerms {
    /// Coverage in basis points.
    pub coverage_bp: u32,
    /// The annual cap, minor units.
    pub annual_cap: u64,
    /// The calendar year.
    pub year: i32,
}

/// What a refund needs to commit.
#[derive(Debug, Clone)]
pub struct RefundCommand {
    /// The new transaction's id.
    pub tx_id: String,
    /// The mini-app whose payment is refunded.
    pub app_id: String,
    /// The generation of its app id: only a payment of that generation is
    /// refunded.
    pub generation: u32,
    /// The user who paid, to whom the refund goes.
    pub user: String,
    /// The mini-app's order id of the payment.
    pub order_id: String,
    /// The amount to refund, minor units: part or all of what is left.
    pub amount: u64,
    /// Why.
    pub reason: String,
    /// When.
    pub at_ms: i64,
    /// The caller's id of this refund, unique per mini-app (and generation):
    /// a refund retried with the same id returns the first one
    /// ([`RefundResult::Repeated`]) instead of refunding again. `None`: no
    /// such protection (refunds by components of `plaza:host@0.1.0`).
    pub refund_id: Option<String>,
}

/// A payment as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PaymentRecord {
    /// The signed receipt.
    pub receipt: Receipt,
    /// The user who paid.
    pub user: String,
    /// What it was for.
    pub description: String,
    /// The bill.
    pub items: Vec<LineItem>,
    /// Refunded so far.
    pub refunded: u64,
    /// Of that, returned to the insurance fund.
    pub insurance_refunded: u64,
    /// Its position in the store's order of payments (the host's own: never
    /// shown to a mini-app, whose history pages by transaction id).
    pub seq: i64,
}

/// The outcome of [`LedgerStore::pay`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayResult {
    /// The money moved.
    Paid(PaymentRecord),
    /// The order was paid before with the same amount by the same user: the
    /// first payment, unchanged.
    AlreadyPaid(PaymentRecord),
    /// The order was paid before with another amount, currency or user.
    Conflict(PaymentRecord),
    /// The wallet holds less than its part.
    InsufficientFunds {
        /// The wallet's part.
        needed: u64,
        /// The wallet's balance (for the host and the user: a mini-app is
        /// not told it).
        available: u64,
    },
}

/// A refund as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RefundRecord {
    /// The refund's transaction.
    pub tx_id: String,
    /// The mini-app.
    pub app_id: String,
    /// The order.
    pub order_id: String,
    /// The amount returned.
    pub amount: u64,
    /// To the wallet.
    pub wallet_part: u64,
    /// To the insurance fund.
    pub insurance_part: u64,
    /// Why.
    pub reason: String,
    /// When.
    pub at_ms: i64,
    /// The caller's refund id, if it gave one.
    #[serde(default)]
    pub refund_id: Option<String>,
}

/// The outcome of [`LedgerStore::refund`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundResult {
    /// Refunded.
    Refunded(RefundRecord),
    /// The mini-app has no payment with that order id for that user.
    NotFound,
    /// More than is left to refund.
    TooMuch {
        /// What is left to refund.
        refundable: u64,
    },
    /// The refund id was used before for this order and amount: the first
    /// refund, unchanged; nothing moved.
    Repeated(RefundRecord),
    /// The refund id was used before for another order or amount: that
    /// refund; nothing moved.
    RefundIdConflict(RefundRecord),
}

/// One movement of a wallet.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WalletEntry {
    /// The transaction.
    pub tx_id: String,
    /// `topup`, `payment` or `refund`.
    pub kind: String,
    /// When.
    pub at_ms: i64,
    /// The change to the wallet (negative for money out).
    pub amount: i64,
    /// The mini-app, for payments and refunds.
    pub app_id: Option<String>,
    /// The order, for payments and refunds.
    pub order_id: Option<String>,
    /// What it was.
    pub memo: String,
}

/// What `ledger verify` checked and found.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct LedgerReport {
    /// Transactions whose postings were summed.
    pub transactions: u64,
    /// Postings read.
    pub postings: u64,
    /// Accounts whose balance was recomputed.
    pub accounts: u64,
    /// Payments checked against their transactions and refunds.
    pub payments: u64,
    /// Refunds checked.
    pub refunds: u64,
    /// Receipt signatures verified.
    pub signatures: u64,
    /// Of the transactions, those a previous clean verification checked
    /// (up to its checkpoint) and that were not read again: from a
    /// checkpoint, each account's balance is checked against its balance
    /// there plus its postings since, and only the transactions, payments
    /// and refunds made since (and payments refunded since) are read. 0 for
    /// a full verification, and on a store that keeps no checkpoint.
    pub checkpointed: u64,
    /// Every broken invariant, in words. Empty means the ledger is sound.
    pub problems: Vec<String>,
}

impl LedgerReport {
    /// Whether every invariant holds.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }
}

/// A medical-insurance card bound in a user's host wallet.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InsuranceCard {
    /// The user.
    pub user: String,
    /// The card number.
    pub card_number: String,
    /// The insured person's name.
    pub holder_name: String,
    /// The scheme (a city's basic medical insurance).
    pub scheme: String,
    /// The share of insurance-eligible items the fund pays, in basis points
    /// (7000 = 70 %).
    pub coverage_bp: u32,
    /// The most the fund pays for this user per calendar year, in minor units.
    pub annual_cap: u64,
    /// When it was bound, ms since the epoch.
    pub bound_at_ms: i64,
}

/// The wallet-side records of money.
pub trait LedgerStore: Send + Sync {
    /// Binds (or replaces) a user's insurance card.
    fn bind_insurance_card(&self, card: &InsuranceCard) -> StoreResult<()>;
    /// The user's bound insurance card, if any.
    fn insurance_card(&self, user: &str) -> StoreResult<Option<InsuranceCard>>;
    /// What insurance has paid (net of refunds) for `user` in `year`.
    fn insurance_used(&self, user: &str, year: i32) -> StoreResult<u64>;
    /// Adds `amount` to the user's wallet from the external bank; returns the
    /// new balance.
    fn top_up(
        &self,
        tx_id: &str,
        user: &str,
        amount: u64,
        currency: &str,
        at_ms: i64,
    ) -> StoreResult<u64>;
    /// The balance of an account (0 for one that never moved).
    fn balance(&self, account: &str) -> StoreResult<i64>;
    /// Pays, in one transaction; `sign` signs the receipt. When the money
    /// moves, `audit` makes the payment's audit entry, appended in the same
    /// transaction: a payment never commits without its entry, nor an entry
    /// without its payment. So does `notice` make its notification to the
    /// mini-app's back-end, written to the outbox ([`OutboxStore`](super::OutboxStore)).
    fn pay_audited(
        &self,
        cmd: &PayCommand,
        sign: &dyn Fn(&[u8]) -> String,
        audit: Option<PaymentAudit<'_>>,
        notice: Option<PaymentNotice<'_>>,
    ) -> StoreResult<PayResult>;
    /// [`pay_audited`](LedgerStore::pay_audited) without an audit entry or
    /// a notification (for tools and tests: the host's payments are
    /// audited).
    fn pay(&self, cmd: &PayCommand, sign: &dyn Fn(&[u8]) -> String) -> StoreResult<PayResult> {
        self.pay_audited(cmd, sign, None, None)
    }
    /// Refunds part or all of a mini-app's payment to `cmd.user`, each part
    /// back where it came from (see [`refund_split`](crate::ledger::refund_split)),
    /// in one transaction; when money moves, `audit` makes the refund's
    /// audit entry, appended in the same transaction, and `notice` its
    /// notification, written to the outbox in it too.
    fn refund_audited(
        &self,
        cmd: &RefundCommand,
        audit: Option<RefundAudit<'_>>,
        notice: Option<RefundNotice<'_>>,
    ) -> StoreResult<RefundResult>;
    /// [`refund_audited`](LedgerStore::refund_audited) without an audit
    /// entry or a notification (for tools and tests).
    fn refund(&self, cmd: &RefundCommand) -> StoreResult<RefundResult> {
        self.refund_audited(cmd, None, None)
    }
    /// A mini-app's payment by order id, among those made under the
    /// `generation` of its app id.
    fn payment(
        &self,
        app_id: &str,
        generation: u32,
        order_id: &str,
    ) -> StoreResult<Option<PaymentRecord>>;
    /// A user's payment to a mini-app by its transaction id, among those
    /// made under the `generation` of its app id.
    fn payment_by_transaction(
        &self,
        app_id: &str,
        generation: u32,
        user: &str,
        tx_id: &str,
    ) -> StoreResult<Option<PaymentRecord>>;
    /// A user's payments to a mini-app under the `generation` of its app id,
    /// newest first, at most `limit`: from
    /// the newest, or after the payment whose transaction id is `after` (the
    /// last of the previous page). `None` when `after` is not one of this
    /// user's payments to this mini-app.
    fn payments(
        &self,
        app_id: &str,
        generation: u32,
        user: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Option<Vec<PaymentRecord>>>;
    /// A mini-app's refunds of `order_id` under the `generation` of its app
    /// id, oldest first.
    fn refunds_of(
        &self,
        app_id: &str,
        generation: u32,
        order_id: &str,
    ) -> StoreResult<Vec<RefundRecord>>;
    /// A mini-app's payments under `generation` paid from `from_ms`
    /// (included) to `to_ms` (excluded), oldest first: a day's takings for
    /// the publisher's reconciliation.
    fn payments_between(
        &self,
        app_id: &str,
        generation: u32,
        from_ms: i64,
        to_ms: i64,
    ) -> StoreResult<Vec<PaymentRecord>>;
    /// A mini-app's refunds under `generation` made from `from_ms`
    /// (included) to `to_ms` (excluded), oldest first.
    fn refunds_between(
        &self,
        app_id: &str,
        generation: u32,
        from_ms: i64,
        to_ms: i64,
    ) -> StoreResult<Vec<RefundRecord>>;
    /// A wallet's movements, newest first.
    fn wallet_history(&self, user: &str, limit: usize) -> StoreResult<Vec<WalletEntry>>;
    /// Checks every invariant of the ledger; `verify` checks a receipt's
    /// signature.
    ///
    /// A store may keep a checkpoint of the last clean verification and
    /// check only what came after it ([`LedgerReport::checkpointed`]): the
    /// SQLite and PostgreSQL stores do.
    fn verify_ledger(&self, verify: &dyn Fn(&[u8], &str) -> bool) -> StoreResult<LedgerReport>;
    /// [`verify_ledger`](LedgerStore::verify_ledger) of the whole ledger,
    /// from its first entry, whatever checkpoint the store keeps.
    fn verify_ledger_full(
        &self,
        verify: &dyn Fn(&[u8], &str) -> bool,
    ) -> StoreResult<LedgerReport> {
        self.verify_ledger(verify)
    }
}
