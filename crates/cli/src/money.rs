//! `plaza wallet`, `plaza insurance`, `plaza ledger`: the host's side of money
//! (top-ups, balances, insurance cards, the ledger's invariants).

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use plaza_host::Host;
use plaza_host::ledger::{format_money, parse_money};
use std::process::ExitCode;

/// `plaza wallet ...`
#[derive(Subcommand)]
pub enum WalletCommand {
    /// Add money to a user's wallet (from the external bank).
    Topup {
        /// The user.
        #[arg(long)]
        user: String,
        /// The amount in yuan, such as `100` or `12.50`.
        #[arg(long)]
        amount: String,
        /// The currency.
        #[arg(long, default_value = "CNY")]
        currency: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show a user's wallet balance.
    Balance {
        /// The user.
        #[arg(long)]
        user: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List a user's wallet movements, newest first.
    History {
        /// The user.
        #[arg(long)]
        user: String,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `plaza insurance ...`
#[derive(Subcommand)]
pub enum InsuranceCommand {
    /// Bind (or replace) a user's medical-insurance card.
    Bind {
        /// The user.
        #[arg(long)]
        user: String,
        /// The card number.
        #[arg(long)]
        card: String,
        /// The insured person's name.
        #[arg(long)]
        holder: String,
        /// The scheme.
        #[arg(long, default_value = "Basic medical insurance")]
        scheme: String,
        /// The share of eligible items the fund pays, in percent (`70`, `72.5`).
        #[arg(long)]
        coverage: String,
        /// The most the fund pays per calendar year, in yuan.
        #[arg(long)]
        annual_cap: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show a user's card and what is left of this year's cap.
    Show {
        /// The user.
        #[arg(long)]
        user: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `plaza ledger ...`
#[derive(Subcommand)]
pub enum LedgerCommand {
    /// Check every invariant of the ledger and every receipt's signature
    /// (on a SQLite store, what came after the last clean check).
    Verify {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Check the whole ledger from its first entry, not from the last
        /// clean check's checkpoint.
        #[arg(long)]
        full: bool,
    },
}

fn money(amount: &str) -> Result<u64> {
    parse_money(amount).with_context(|| {
        format!("`{amount}` is not an amount: write yuan with at most two decimals, such as 100 or 12.50")
    })
}

/// Percent with up to two decimals, as basis points.
fn percent_bp(p: &str) -> Result<u32> {
    let p = p.trim_end_matches('%');
    let bp =
        parse_money(p).with_context(|| format!("`{p}` is not a percentage such as 70 or 72.5"))?;
    if bp > 10_000 {
        bail!("coverage {p}% is over 100%");
    }
    Ok(bp as u32)
}

pub fn wallet(host: &Host, cmd: WalletCommand) -> Result<ExitCode> {
    match cmd {
        WalletCommand::Topup {
            user,
            amount,
            currency,
            json,
        } => {
            let (tx, balance) = host.top_up(&user, money(&amount)?, &currency)?;
            if json {
                crate::print_json(
                    &serde_json::json!({"user": user, "transaction": tx, "balance": balance, "currency": currency}),
                );
            } else {
                println!(
                    "topped up {user}: balance {} ({tx})",
                    format_money(balance as i64, &currency)
                );
            }
        }
        WalletCommand::Balance { user, json } => {
            let balance = host.wallet_balance(&user)?;
            if json {
                crate::print_json(
                    &serde_json::json!({"user": user, "balance": balance, "currency": "CNY"}),
                );
            } else {
                println!("{user}: {}", format_money(balance as i64, "CNY"));
            }
        }
        WalletCommand::History { user, limit, json } => {
            let entries = host.wallet_history(&user, limit)?;
            if json {
                crate::print_json(&serde_json::to_value(&entries)?);
            } else if entries.is_empty() {
                println!("{user} has no wallet movements");
            } else {
                for e in entries {
                    let whom = match (&e.app_id, &e.order_id) {
                        (Some(a), Some(o)) => format!("{a} order {o}"),
                        _ => String::new(),
                    };
                    println!(
                        "{}  {:<8} {:>14}  {}  {}  [{}]",
                        crate::run::format_time(e.at_ms),
                        e.kind,
                        format_money(e.amount, "CNY"),
                        whom,
                        e.memo,
                        e.tx_id
                    );
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn insurance(host: &Host, cmd: InsuranceCommand) -> Result<ExitCode> {
    match cmd {
        InsuranceCommand::Bind {
            user,
            card,
            holder,
            scheme,
            coverage,
            annual_cap,
            json,
        } => {
            let card = host.bind_insurance_card(
                &user,
                &card,
                &holder,
                &scheme,
                percent_bp(&coverage)?,
                money(&annual_cap)?,
            )?;
            if json {
                crate::print_json(&serde_json::to_value(&card)?);
            } else {
                println!(
                    "bound card {} ({}) to {user}: {}.{:02}% of eligible items, up to {} a year",
                    card.card_number,
                    card.scheme,
                    card.coverage_bp / 100,
                    card.coverage_bp % 100,
                    format_money(card.annual_cap as i64, "CNY")
                );
            }
        }
        InsuranceCommand::Show { user, json } => match host.insurance(&user)? {
            None if json => crate::print_json(&serde_json::json!({"user": user, "card": null})),
            None => println!("{user} has no insurance card bound"),
            Some((card, left)) => {
                if json {
                    crate::print_json(
                        &serde_json::json!({"user": user, "card": card, "cap_left": left}),
                    );
                } else {
                    println!(
                        "{user}: card {} ({}), {}.{:02}% coverage, {} of {} left this year",
                        card.card_number,
                        card.scheme,
                        card.coverage_bp / 100,
                        card.coverage_bp % 100,
                        format_money(left as i64, "CNY"),
                        format_money(card.annual_cap as i64, "CNY")
                    );
                }
            }
        },
    }
    Ok(ExitCode::SUCCESS)
}

pub fn ledger(host: &Host, cmd: LedgerCommand) -> Result<ExitCode> {
    let LedgerCommand::Verify { json, full } = cmd;
    let r = if full {
        host.verify_ledger_full()?
    } else {
        host.verify_ledger()?
    };
    if json {
        crate::print_json(&serde_json::json!({
            "clean": r.is_clean(),
            "transactions": r.transactions,
            "postings": r.postings,
            "accounts": r.accounts,
            "payments": r.payments,
            "refunds": r.refunds,
            "signatures": r.signatures,
            "checkpointed": r.checkpointed,
            "problems": r.problems,
        }));
    } else {
        println!(
            "checked {} transactions ({} postings): each sums to zero",
            r.transactions, r.postings
        );
        println!(
            "checked {} accounts: balances equal their postings; no wallet or merchant below zero",
            r.accounts
        );
        println!(
            "checked {} payments and {} refunds: parts add up, refunds within what was paid, insurance within caps",
            r.payments, r.refunds
        );
        println!(
            "checked {} receipt signatures against the host key",
            r.signatures
        );
        if r.checkpointed > 0 {
            println!(
                "{} transactions were checked by an earlier verification (its checkpoint): only what came after was read (--full reads everything)",
                r.checkpointed
            );
        }
        for p in &r.problems {
            println!("PROBLEM: {p}");
        }
        println!(
            "{}",
            if r.is_clean() {
                "ledger is sound"
            } else {
                "ledger has problems"
            }
        );
    }
    Ok(if r.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
