//! Money rules: what a valid payment request is, how a bill splits between
//! medical insurance and the wallet, how a refund splits back, and the signed
//! receipt. The ledger's tables are the store's `LedgerStore`; the host call
//! is `capabilities/payment.rs`.
//!
//! Amounts are integers in minor units (fen for CNY); nothing is ever a float.
//!
//! ```
//! use plaza_host::ledger::{insurance_split, LineItem};
//! let items = vec![
//!     LineItem { name: "Consultation".into(), quantity: 1, unit_price: 5_000, insurance_eligible: true },
//!     LineItem { name: "Parking".into(), quantity: 1, unit_price: 1_000, insurance_eligible: false },
//! ];
//! // 70 % of the eligible 50.00, with 100.00 of the annual cap left: 35.00.
//! assert_eq!(insurance_split(&items, 7_000, 10_000), 3_500);
//! // With only 20.00 of the cap left, the fund pays 20.00.
//! assert_eq!(insurance_split(&items, 7_000, 2_000), 2_000);
//! ```

use serde::{Deserialize, Serialize};

/// The currencies the ledger keeps.
pub const CURRENCIES: [&str; 1] = ["CNY"];
/// The largest single payment or top-up, in minor units (10,000,000.00).
pub const MAX_AMOUNT: u64 = 1_000_000_000;
/// The most line items on one bill.
pub const MAX_ITEMS: usize = 100;
/// The longest order id.
pub const MAX_ORDER_ID: usize = 64;

/// One line of a bill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineItem {
    /// What is charged.
    pub name: String,
    /// How many.
    pub quantity: u32,
    /// Price of one, minor units.
    pub unit_price: u64,
    /// Whether insurance may pay for it. From a mini-app this is only its
    /// request: the payment capability keeps it only for the item kinds the
    /// policy lets insurance cover for the (verified) publisher, and the
    /// stored bill holds the host's decision.
    pub insurance_eligible: bool,
}

/// Why a payment request is not valid: the message for the guest's
/// `invalid-argument`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub String);

/// Checks a payment request's shape: order id, currency, amount, items and
/// that the items add up to the amount.
pub fn check_request(
    order_id: &str,
    amount: u64,
    currency: &str,
    description: &str,
    items: &[LineItem],
) -> Result<(), Invalid> {
    check_order_id(order_id)?;
    check_currency(currency)?;
    if amount == 0 || amount > MAX_AMOUNT {
        return Err(Invalid(format!(
            "amount {amount} is outside 1..={MAX_AMOUNT} minor units"
        )));
    }
    if description.trim().is_empty() || description.chars().count() > 256 {
        return Err(Invalid(
            "the description must be 1 to 256 characters".into(),
        ));
    }
    if items.is_empty() || items.len() > MAX_ITEMS {
        return Err(Invalid(format!(
            "a bill has 1 to {MAX_ITEMS} line items; this one has {}",
            items.len()
        )));
    }
    let mut total: u64 = 0;
    for (i, item) in items.iter().enumerate() {
        if item.name.trim().is_empty() || item.name.chars().count() > 128 {
            return Err(Invalid(format!(
                "item {i}: the name must be 1 to 128 characters"
            )));
        }
        if item.quantity == 0 {
            return Err(Invalid(format!(
                "item {i} ({}): the quantity must be at least 1",
                item.name
            )));
        }
        let line = item
            .unit_price
            .checked_mul(item.quantity as u64)
            .and_then(|l| total.checked_add(l))
            .filter(|t| *t <= MAX_AMOUNT)
            .ok_or_else(|| {
                Invalid(format!(
                    "item {i} ({}): the bill's total overflows",
                    item.name
                ))
            })?;
        total = line;
    }
    if total != amount {
        return Err(Invalid(format!(
            "the line items add up to {total} but the amount is {amount}: they must be equal"
        )));
    }
    Ok(())
}

/// Checks an order id: 1 to 64 characters of letters, digits and `-_.:`.
pub fn check_order_id(order_id: &str) -> Result<(), Invalid> {
    check_id("order id", order_id)
}

/// Checks a refund id: the same rule as an order id.
pub fn check_refund_id(refund_id: &str) -> Result<(), Invalid> {
    check_id("refund id", refund_id)
}

fn check_id(what: &str, id: &str) -> Result<(), Invalid> {
    if id.is_empty()
        || id.len() > MAX_ORDER_ID
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
    {
        return Err(Invalid(format!(
            "{what} `{}` must be 1 to {MAX_ORDER_ID} letters, digits or -_.:",
            id.chars().take(80).collect::<String>()
        )));
    }
    Ok(())
}

/// Checks that the ledger keeps `currency`.
pub fn check_currency(currency: &str) -> Result<(), Invalid> {
    if CURRENCIES.contains(&currency) {
        Ok(())
    } else {
        Err(Invalid(format!(
            "currency `{}` is not supported; supported: {}",
            currency.chars().take(16).collect::<String>(),
            CURRENCIES.join(", ")
        )))
    }
}

/// What the insurance fund pays of a bill: `coverage_bp` basis points of the
/// eligible items (rounded down to the minor unit), at most `cap_left`.
pub fn insurance_split(items: &[LineItem], coverage_bp: u32, cap_left: u64) -> u64 {
    let eligible: u128 = items
        .iter()
        .filter(|i| i.insurance_eligible)
        .map(|i| i.unit_price as u128 * i.quantity as u128)
        .sum();
    let share = eligible * coverage_bp.min(10_000) as u128 / 10_000;
    (share.min(cap_left as u128)) as u64
}

/// How a refund of `refund` splits back: `(wallet, insurance)`.
///
/// The wallet's cumulative refunds never pass its proportional share of
/// what has been refunded, rounded down: after refunds totalling `R` of a
/// payment of `amount` whose wallet paid `W`, the wallet has had back at most
/// `floor(R * W / amount)` and the fund the rest. So no sequence of small
/// refunds moves the fund's money to the wallet (300 one-fen refunds of a
/// 1000 payment paid 700 by insurance return 210 to the fund and 90 to the
/// wallet, not 300 to the wallet), neither side ever gets back more than it
/// paid, and the refund that completes the payment returns exactly what is
/// left of each part. `refunded` and `insurance_refunded` are what earlier
/// refunds returned in all and to the fund.
pub fn refund_split(
    amount: u64,
    insurance_part: u64,
    refunded: u64,
    insurance_refunded: u64,
    refund: u64,
) -> (u64, u64) {
    let wallet_part = amount.saturating_sub(insurance_part);
    let wallet_refunded = refunded.saturating_sub(insurance_refunded);
    let wallet_left = wallet_part.saturating_sub(wallet_refunded);
    let fund_left = insurance_part.saturating_sub(insurance_refunded);
    let total = refunded.saturating_add(refund);
    // The wallet's share of everything refunded after this refund.
    let wallet_share = if amount == 0 {
        0
    } else {
        (total as u128 * wallet_part as u128 / amount as u128) as u64
    };
    let mut wallet = wallet_share
        .saturating_sub(wallet_refunded)
        .min(refund)
        .min(wallet_left);
    // What the fund cannot take (it is owed less than the rest) goes to the
    // wallet: only when earlier refunds were split otherwise.
    if refund - wallet > fund_left {
        wallet = (refund - fund_left).min(wallet_left);
    }
    (wallet, refund - wallet)
}

/// The fields of a receipt, as signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// The ledger transaction.
    pub transaction_id: String,
    /// The mini-app paid through.
    pub app_id: String,
    /// The mini-app's order id.
    pub order_id: String,
    /// The total, minor units.
    pub amount: u64,
    /// The currency.
    pub currency: String,
    /// Paid from the wallet.
    pub wallet_part: u64,
    /// Paid by insurance.
    pub insurance_part: u64,
    /// The payee: the publisher's verified name.
    pub payee: String,
    /// When, ms since the epoch.
    pub paid_at_ms: i64,
    /// The host's ed25519 signature over [`receipt_message`], hex.
    pub signature: String,
}

/// The exact bytes a receipt's signature covers: `plaza-receipt-v1` and the
/// fields, one per line, in this order. A mini-app's backend rebuilds this
/// and checks the signature with the host's public key.
pub fn receipt_message(r: &Receipt) -> Vec<u8> {
    format!(
        "plaza-receipt-v1\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}",
        r.transaction_id,
        r.app_id,
        r.order_id,
        r.amount,
        r.currency,
        r.wallet_part,
        r.insurance_part,
        r.payee,
        r.paid_at_ms
    )
    .into_bytes()
}

/// Formats minor units as `CNY 12.34`.
pub fn format_money(amount: i64, currency: &str) -> String {
    let sign = if amount < 0 { "-" } else { "" };
    let a = amount.unsigned_abs();
    format!("{currency} {sign}{}.{:02}", a / 100, a % 100)
}

/// Parses `12`, `12.3` or `12.34` (major units) into minor units.
pub fn parse_money(s: &str) -> Option<u64> {
    let (whole, frac) = match s.split_once('.') {
        Some((w, f)) if !f.is_empty() && f.len() <= 2 => (w, f),
        Some(_) => return None,
        None => (s, ""),
    };
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let whole: u64 = whole.parse().ok()?;
    let frac: u64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<2}").parse().ok()?
    };
    whole.checked_mul(100)?.checked_add(frac)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(price: u64, qty: u32, eligible: bool) -> LineItem {
        LineItem {
            name: "x".into(),
            quantity: qty,
            unit_price: price,
            insurance_eligible: eligible,
        }
    }

    #[test]
    fn requests_are_checked() {
        let items = vec![item(500, 2, true), item(100, 1, false)];
        assert!(check_request("o-1", 1100, "CNY", "bill", &items).is_ok());
        assert!(
            check_request("o-1", 1000, "CNY", "bill", &items)
                .unwrap_err()
                .0
                .contains("add up to 1100")
        );
        assert!(
            check_request("o-1", 1100, "USD", "bill", &items)
                .unwrap_err()
                .0
                .contains("USD")
        );
        assert!(check_request("", 1100, "CNY", "bill", &items).is_err());
        assert!(check_request("o 1", 1100, "CNY", "bill", &items).is_err());
        assert!(check_request("o-1", 1100, "CNY", "", &items).is_err());
        assert!(check_request("o-1", 0, "CNY", "bill", &[]).is_err());
        assert!(
            check_request("o-1", 1, "CNY", "b", &[item(u64::MAX, 2, false)])
                .unwrap_err()
                .0
                .contains("overflows")
        );
        assert!(check_request("o-1", 0, "CNY", "b", &[item(0, 0, false)]).is_err());
    }

    #[test]
    fn insurance_split_rounds_down_and_respects_the_cap() {
        assert_eq!(insurance_split(&[item(333, 1, true)], 5_000, 1_000), 166);
        assert_eq!(insurance_split(&[item(1000, 1, false)], 10_000, 1_000), 0);
        assert_eq!(
            insurance_split(&[item(1000, 3, true)], 10_000, 1_000),
            1_000
        );
        assert_eq!(
            insurance_split(&[item(1000, 3, true)], 12_000, 10_000),
            3_000
        );
    }

    #[test]
    fn refunds_split_back_without_losing_a_fen() {
        // 1000 paid: 333 by insurance, 667 by wallet; refunded in 3 steps.
        let (mut refunded, mut ins_refunded) = (0, 0);
        let (mut to_wallet, mut to_fund) = (0, 0);
        for r in [100, 450, 450] {
            let (w, i) = refund_split(1000, 333, refunded, ins_refunded, r);
            assert_eq!(w + i, r);
            refunded += r;
            ins_refunded += i;
            to_wallet += w;
            to_fund += i;
        }
        assert_eq!((to_wallet, to_fund), (667, 333));
    }

    #[test]
    fn one_fen_refunds_do_not_move_the_funds_share_to_the_wallet() {
        // 1000 paid: 700 by insurance, 300 by the wallet; 300 refunds of 1.
        let (mut refunded, mut to_fund) = (0, 0);
        for _ in 0..300 {
            let (w, i) = refund_split(1000, 700, refunded, to_fund, 1);
            assert_eq!(w + i, 1);
            refunded += 1;
            to_fund += i;
        }
        assert_eq!((refunded - to_fund, to_fund), (90, 210));
        // The rest completes both parts exactly.
        let (w, i) = refund_split(1000, 700, refunded, to_fund, 700);
        assert_eq!((refunded - to_fund + w, to_fund + i), (300, 700));
    }

    #[test]
    fn money_formats_and_parses() {
        assert_eq!(format_money(12345, "CNY"), "CNY 123.45");
        assert_eq!(format_money(-5, "CNY"), "CNY -0.05");
        assert_eq!(parse_money("12"), Some(1200));
        assert_eq!(parse_money("12.3"), Some(1230));
        assert_eq!(parse_money("12.34"), Some(1234));
        assert_eq!(parse_money("12.345"), None);
        assert_eq!(parse_money("-1"), None);
        assert_eq!(parse_money("1e3"), None);
        assert_eq!(parse_money("."), None);
    }
}
