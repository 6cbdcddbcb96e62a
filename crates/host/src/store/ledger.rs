//! Money: the user's bound medical-insurance card (and, with the payment
//! capability, the double-entry ledger).

use super::sqlite::db;
use super::{SqliteStore, StoreResult};
use rusqlite::{OptionalExtension, params};

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
";

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
}

impl LedgerStore for SqliteStore {
    fn bind_insurance_card(&self, card: &InsuranceCard) -> StoreResult<()> {
        self.conn()
            .execute(
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
    }

    fn insurance_card(&self, user: &str) -> StoreResult<Option<InsuranceCard>> {
        self.conn()
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
}
