//! West Lake Bank, a sample mini-app: a credit-card statement, repayment from the wallet, branch appointments, exchange rates and a repayment-due message (expects storage, log, clock, payment and messaging).
//!
//! A bank's public account. A customer types the credit card's number once
//! (kept in storage), sees last month's statement, repays it in full or the
//! minimum from the host wallet, and may accept a long-term "repayment due"
//! subscription (the bank's back office sends the reminder three days before
//! the due date: see `backoffice.rs`); books a time at a
//! branch; reads the exchange rates and converts an amount. Statements come
//! from deterministic sample data (`data.rs`).
//!
//! Pages and the actions that lead to them:
//!
//! | event | page title | navigation |
//! |---|---|---|
//! | launch `/` (or empty), tap `home` | "West Lake Bank" | push (launch), replace (`home`) |
//! | tap `statement`, launch `/statement` | "Credit-card statement" (or, without a card, "Your credit card", form `card`: `number`) | push |
//! | submit `card` | "Credit-card statement" | replace |
//! | tap `repay-full`, `repay-minimum` | "Repayment" (the receipt) | replace |
//! | tap `remind` | "Repayment reminders" (long-term subscription; the card registered with the back office) | push |
//! | tap `forget-card` | "Your credit card" | replace |
//! | tap `rates`, launch `/rates` | "Exchange rates" (form `convert`: `amount`, `currency`) | push |
//! | submit `convert` | "Conversion" | push |
//! | tap `branches`, launch `/branches` | "Branch appointment" | push |
//! | tap `branch:<id>` | the branch, such as "Wulin Branch" | push |
//! | tap `visit:<branch>:<YYYYMMDD-HHMM>`, `visit:<branch>:earliest` | "Appointment booked" | replace |
//! | tap `cancel-visit` | "Appointment cancelled" | replace |
//! | anything else | "Something went wrong" | replace |

mod backoffice;
mod data;

use data::{UTC_OFFSET, money};
use plaza_sdk::clock::{self, DAY_MS, LocalTime};
use plaza_sdk::messaging::{self, SubscriptionAnswer};
use plaza_sdk::payment::{self, LineItem, PaymentOutcome, PaymentRequest};
use plaza_sdk::{App, Event, HostError, InputKind, Page, PageBuilder, SubmitEvent};
use plaza_sdk::{log, storage};

const BANK: &str = "West Lake Bank";

#[derive(Default)]
struct Bank;

impl App for Bank {
    fn handle(&mut self, event: Event) -> Page {
        let page = match &event {
            Event::Launch(launch) => open(launch.path_or_home()),
            Event::Tap(action) => tap(action),
            Event::Submit(submit) => form(submit),
            Event::Chat(_) => Err(Problem::Message(
                "This account does not answer messages. Call 95500, the bank's hotline."
                    .to_string(),
            )),
            _ => return Page::builder(BANK).back().build(),
        };
        page.unwrap_or_else(Problem::page).build()
    }
}

/// Why an event could not be answered with the page asked for.
enum Problem {
    Unknown(&'static str, String),
    Message(String),
    Host(HostError),
}

impl From<HostError> for Problem {
    fn from(e: HostError) -> Self {
        Problem::Host(e)
    }
}

impl Problem {
    fn page(self) -> PageBuilder {
        let text = match self {
            Problem::Unknown(kind, what) => format!("Unknown {kind}: {what}"),
            Problem::Message(text) => text,
            Problem::Host(e) => format!("The bank could not do that ({e})"),
        };
        Page::builder("Something went wrong")
            .replace()
            .error(text)
            .button("Back to the bank", "home")
    }
}

type Answer = Result<PageBuilder, Problem>;

fn open(path: &str) -> Answer {
    match path {
        "/" => Ok(home()),
        "/statement" => statement(),
        "/rates" => Ok(rates()),
        "/branches" => branches(),
        _ => Err(Problem::Unknown("page", path.to_string())),
    }
}

fn tap(action: &str) -> Answer {
    match action {
        "home" => return Ok(home().replace()),
        "statement" => return statement(),
        "repay-full" => return repay(true),
        "repay-minimum" => return repay(false),
        "remind" => return remind(),
        "forget-card" => {
            storage::delete("card")?;
            return Ok(card_form().replace());
        }
        "rates" => return Ok(rates()),
        "branches" => return branches(),
        "cancel-visit" => return cancel_visit(),
        _ => {}
    }
    let unknown = || Problem::Unknown("action", action.to_string());
    let (kind, arg) = action.split_once(':').ok_or_else(unknown)?;
    match kind {
        "branch" => branch(data::branch(arg).ok_or_else(unknown)?),
        "visit" => {
            let (id, slot) = arg.split_once(':').ok_or_else(unknown)?;
            visit(data::branch(id).ok_or_else(unknown)?, slot)
        }
        _ => Err(unknown()),
    }
}

fn form(submit: &SubmitEvent) -> Answer {
    let value = |name: &str| submit.field(name).unwrap_or_default().trim().to_string();
    match submit.form.as_str() {
        "card" => {
            let Some(card) = data::normalise_card(&value("number")) else {
                return Ok(card_form()
                    .replace()
                    .warning("A card number has 16 digits, such as 6222 0210 0123 4567."));
            };
            storage::set_string("card", &card)?;
            Ok(statement()?.replace())
        }
        "convert" => convert(&value("amount"), &value("currency")),
        other => Err(Problem::Unknown("form", other.to_string())),
    }
}

/// The launch page.
fn home() -> PageBuilder {
    Page::builder(BANK)
        .heading("Credit card")
        .link(
            "Statement and repayment",
            "Last month's statement; repay from your wallet",
            "statement",
        )
        .heading("More")
        .link("Branch appointment", "Book a time at a branch", "branches")
        .link(
            "Exchange rates",
            "Today's rates; convert an amount",
            "rates",
        )
        .text("Hotline: 95500")
}

/// The form for the card number.
fn card_form() -> PageBuilder {
    Page::builder("Your credit card")
        .text("Type your West Lake Bank credit card's number to see its statement. It is kept in this mini-app for next time.")
        .input("card", "number", InputKind::Text, "Card number")
        .required()
        .button("Back to the bank", "home")
}

fn card() -> Result<Option<String>, HostError> {
    storage::get_string("card")
}

/// What has been repaid of a statement, in fen.
fn repaid(card: &str, period: &str) -> Result<u64, HostError> {
    Ok(storage::get_string(&format!("repaid:{card}:{period}"))?
        .and_then(|s| s.parse().ok())
        .unwrap_or(0))
}

/// `statement`: last month's statement of the card.
fn statement() -> Answer {
    let Some(card) = card()? else {
        return Ok(card_form());
    };
    let s = data::statement(&card, &clock::now().local());
    let paid = repaid(&card, &s.period)?;
    let left = s.total_fen.saturating_sub(paid);
    let mut page = Page::builder("Credit-card statement")
        .field("Card", data::masked(&card))
        .field("Period", s.period_label.as_str())
        .field("Due", s.due.as_str())
        .field("Statement balance", money(s.total_fen))
        .field("Minimum payment", money(s.minimum_fen))
        .field("Repaid", money(paid))
        .field("Left to repay", money(left))
        .heading("Transactions");
    for (date, merchant, amount) in &s.lines {
        page = page.item(*merchant, format!("{date} · {}", money(*amount)), None);
    }
    if left == 0 {
        page = page.success("This statement is repaid in full. Thank you.");
    } else {
        page = page.primary_button(format!("Repay {} in full", money(left)), "repay-full");
        if paid < s.minimum_fen {
            page = page.button(
                format!("Repay the minimum {}", money(s.minimum_fen - paid)),
                "repay-minimum",
            );
        }
    }
    Ok(page
        .button("Remind me before the due date", "remind")
        .button("Use another card", "forget-card")
        .button("Back to the bank", "home"))
}

/// `repay-full`, `repay-minimum`: repays from the wallet. The order id names
/// the card, the month and what was repaid before, so a retried repayment is
/// the same order.
fn repay(full: bool) -> Answer {
    let card =
        card()?.ok_or_else(|| Problem::Message("Please type your card number first.".into()))?;
    let s = data::statement(&card, &clock::now().local());
    let paid = repaid(&card, &s.period)?;
    let left = s.total_fen.saturating_sub(paid);
    let amount = if full {
        left
    } else {
        s.minimum_fen.saturating_sub(paid).min(left)
    };
    if amount == 0 {
        return Err(Problem::Message(
            "Nothing is left to repay on this statement.".into(),
        ));
    }
    let tail = &card[card.len() - 4..];
    let request = PaymentRequest {
        order_id: format!("repay-{tail}-{}-{paid}", s.period),
        amount,
        currency: "CNY".into(),
        description: format!(
            "Credit card {} repayment, {} statement",
            data::masked(&card),
            s.period_label
        ),
        items: vec![LineItem {
            name: format!("Repayment, {} statement", s.period_label),
            quantity: 1,
            unit_price: amount,
            insurance_eligible: false,
        }],
    };
    let page = Page::builder("Repayment").replace();
    let page = match payment::request(&request) {
        Ok(PaymentOutcome::Paid(r)) => {
            storage::set_string(
                &format!("repaid:{card}:{}", s.period),
                &(paid + r.amount).to_string(),
            )?;
            log::info(&format!("repaid {} of {}", r.amount, s.period));
            page.success(format!(
                "Repaid {} to your card {}.",
                money(r.amount),
                data::masked(&card)
            ))
            .field("Amount", money(r.amount))
            .field("Left to repay", money(left - r.amount))
            .field("Payee", r.payee.as_str())
            .field("Transaction", r.transaction_id.as_str())
        }
        Ok(PaymentOutcome::Declined) => {
            page.warning("You declined the repayment. Nothing was paid.")
        }
        Ok(PaymentOutcome::Cancelled) => {
            page.warning("The repayment was cancelled. Nothing was paid.")
        }
        Ok(PaymentOutcome::TimedOut) => {
            page.warning("The repayment timed out. Nothing was paid; please try again.")
        }
        Ok(PaymentOutcome::InsufficientFunds(f)) => page.error(format!(
            "Your wallet does not hold the {} needed. Top up your wallet, or repay the minimum.",
            money(f.needed)
        )),
        Err(e) => page.error(format!("The repayment could not be made ({e}).")),
    };
    Ok(page
        .button("Back to the statement", "statement")
        .button("Back to the bank", "home"))
}

/// `remind`: asks for the long-term "repayment due" subscription and, if
/// accepted, registers the statement with the bank's back office, which
/// sends the reminder three days before the due date.
fn remind() -> Answer {
    let card =
        card()?.ok_or_else(|| Problem::Message("Please type your card number first.".into()))?;
    let s = data::statement(&card, &clock::now().local());
    let left = s.total_fen.saturating_sub(repaid(&card, &s.period)?);
    let page = Page::builder("Repayment reminders");
    let answers = messaging::subscribe(&["repayment-due".to_string()])?;
    if !answers
        .iter()
        .any(|a| a.template_id == "repayment-due" && a.answer != SubscriptionAnswer::Rejected)
    {
        return Ok(page
            .info("You chose not to get repayment reminders.")
            .button("Back to the statement", "statement"));
    }
    let registered = backoffice::register(
        "/bank/reminders",
        &[
            ("card", &data::masked(&card)),
            ("amount", &money(left)),
            ("due", &s.due_day),
            ("due_label", &s.due),
        ],
    );
    let page = match registered {
        Ok(_) => page.success(format!(
            "You will be reminded three days before the due date, {}.",
            s.due
        )),
        Err(e) => {
            log::warn(&format!("reminder not registered: {e}"));
            page.error(format!("The reminder could not be arranged ({e})."))
        }
    };
    Ok(page.button("Back to the statement", "statement"))
}

/// `rates`: today's rates and the converter.
fn rates() -> PageBuilder {
    let mut page = Page::builder("Exchange rates").text("CNY per 100 units of each currency.");
    for (code, name, buy, sell) in data::RATES {
        page = page.item(
            format!("{code} · {name}"),
            format!("we buy {}, we sell {}", money(buy), money(sell)),
            None,
        );
    }
    page.heading("Convert")
        .input("convert", "amount", InputKind::Number, "Amount in CNY")
        .required()
        .choice(
            "convert",
            "currency",
            "Currency",
            data::RATES.map(|(code, name, _, _)| (code, format!("{code} · {name}"))),
        )
        .value("USD")
        .required()
        .button("Back to the bank", "home")
}

/// Submit `convert`: what `amount` yuan buys of `currency` at the bank's
/// selling rate.
fn convert(amount: &str, currency: &str) -> Answer {
    let code = currency.to_uppercase();
    let Some((code, name, _, sell)) = data::RATES.iter().find(|r| r.0 == code) else {
        return Ok(rates()
            .replace()
            .warning(format!("The bank does not exchange \"{currency}\".")));
    };
    let Some(fen) = parse_yuan(amount) else {
        return Ok(rates()
            .replace()
            .warning(format!("\"{amount}\" is not an amount of yuan.")));
    };
    // Hundredths of the currency: fen * 100 units / (sell fen per 100 units) * 100.
    let cents = u128::from(fen) * 10_000 / u128::from(*sell);
    Ok(Page::builder("Conversion")
        .field("You pay", money(fen))
        .field(
            "You get",
            format!("{code} {}.{:02}", cents / 100, cents % 100),
        )
        .field("Rate", format!("{} per 100 {code} ({name})", money(*sell)))
        .button("Exchange rates", "rates")
        .button("Back to the bank", "home"))
}

/// `123`, `123.4` or `123.45` yuan, in fen.
fn parse_yuan(text: &str) -> Option<u64> {
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() || whole.len() > 9 || frac.len() > 2 {
        return None;
    }
    let whole: u64 = whole.parse().ok()?;
    let frac: u64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<2}").parse().ok()?
    };
    Some(whole * 100 + frac).filter(|&f| f > 0)
}

/// The booked branch appointment: `branch`, `slot`, `label` lines.
fn appointment() -> Result<Option<(String, String, String)>, HostError> {
    Ok(storage::get_string("appointment")?.and_then(|t| {
        let mut l = t.lines();
        Some((
            l.next()?.to_string(),
            l.next()?.to_string(),
            l.next()?.to_string(),
        ))
    }))
}

/// `branches`: the branches, and the appointment if there is one.
fn branches() -> Answer {
    let mut page = Page::builder("Branch appointment");
    if let Some((id, _, label)) = appointment()? {
        let name = data::branch(&id).map_or(id.as_str(), |b| b.name);
        page = page
            .info(format!("You have an appointment at {name}, {label}."))
            .danger_button("Cancel the appointment", "cancel-visit");
    }
    page = page.text("Choose a branch:");
    for b in &data::BRANCHES {
        page = page.link(b.name, b.address, format!("branch:{}", b.id));
    }
    Ok(page.button("Back to the bank", "home"))
}

/// The branch's times over the next three working days: (`YYYYMMDD-HHMM`,
/// label).
fn visit_times() -> Vec<(String, String)> {
    let now = clock::now().unix_ms;
    let mut times = Vec::new();
    for d in 1..=5 {
        let t = LocalTime::from_unix_ms(now + d * DAY_MS, UTC_OFFSET);
        if t.weekday >= 5 || times.len() >= 3 * data::VISIT_TIMES.len() {
            continue;
        }
        for (h, m) in data::VISIT_TIMES {
            times.push((
                format!("{:04}{:02}{:02}-{h:02}{m:02}", t.year, t.month, t.day),
                format!(
                    "{} {} {} {h:02}:{m:02}",
                    t.weekday_name(),
                    t.day,
                    data::MONTHS[usize::from(t.month - 1)]
                ),
            ));
        }
    }
    times
}

/// `branch:<id>`: the branch's free times.
fn branch(b: &data::Branch) -> Answer {
    let mut page = Page::builder(b.name)
        .field("Address", b.address)
        .primary_button("The earliest time", format!("visit:{}:earliest", b.id))
        .heading("Times");
    for (slot, label) in visit_times() {
        page = page.link(
            label,
            "Counter services, card and account matters",
            format!("visit:{}:{slot}", b.id),
        );
    }
    Ok(page.button("Back to the branches", "branches"))
}

/// `visit:<branch>:<slot>` (or `earliest`): books the time.
fn visit(b: &data::Branch, slot: &str) -> Answer {
    let found = if slot == "earliest" {
        visit_times().into_iter().next()
    } else {
        visit_times().into_iter().find(|(s, _)| s == slot)
    };
    let Some((slot, label)) = found else {
        return Err(Problem::Message(format!(
            "{} has no appointments at {slot}.",
            b.name
        )));
    };
    storage::set_string("appointment", &format!("{}\n{slot}\n{label}", b.id))?;
    Ok(Page::builder("Appointment booked")
        .replace()
        .success(format!("You are expected at {}, {label}.", b.name))
        .field("Branch", b.name)
        .field("Address", b.address)
        .field("Time", label.as_str())
        .text("Bring your ID card and your bank card; take a number with this appointment at the entrance.")
        .button("Branch appointment", "branches")
        .button("Back to the bank", "home"))
}

/// `cancel-visit`: cancels the branch appointment.
fn cancel_visit() -> Answer {
    let page = Page::builder("Appointment cancelled").replace();
    let page = match appointment()? {
        Some((_, _, label)) => {
            storage::delete("appointment")?;
            page.success(format!("Your appointment of {label} is cancelled."))
        }
        None => page.info("You have no appointment."),
    };
    Ok(page.button("Back to the bank", "home"))
}

plaza_sdk::export_app!(Bank);
