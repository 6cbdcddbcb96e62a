//! Expects every host call to answer, as data, whatever its arguments: makes the calls a script names (from the launch query `script` or the form `calls`) and reports each result.
//!
//! The fuzzing guest behind the `host_calls` fuzz target and the host-call
//! property tests. A script ([`script`]) is a sequence of host calls with
//! their arguments; the guest makes them in order through `plaza-sdk` and
//! answers the page "Fuzz caller" with:
//!
//! - a field per call, labelled `<n> <call>` (`1 set`, `2 get`, ...), whose
//!   value is `error <kind>: <message>` for a host error, or `ok ...` for an
//!   answer: `ok` (set), `ok none` / `ok some <len> <first bytes as text>`
//!   (get), `ok <true|false>` (delete), `ok <n> <keys joined by ,>` (list),
//!   `ok <used> <quota> <keys>` (usage), `ok <unix ms>` (now), `ok <id>`
//!   (openid, unionid, phone, send, reply), ... A payment answers `paid <tx>
//!   <amount> wallet <part> insurance <part>`, `declined`, `timed-out`,
//!   `cancelled` or `insufficient-funds <needed> <available>`; a refund
//!   `refunded <tx> <amount> wallet <part> insurance <part>`;
//! - `script` = `error <what>` instead if the script does not decode;
//! - the form `calls` with the input `script`, to submit the next script as
//!   a user's gesture (subscriptions need one; a launch is not one).
//!
//! Values are cut to 200 characters so the page stays small.

mod script;

use plaza_sdk::identity::LocationPrecision;
use plaza_sdk::log::Level;
use plaza_sdk::payment::{LineItem, PaymentOutcome, PaymentRequest};
use plaza_sdk::{
    App, Event, FieldValue, HostError, InputKind, Page, clock, identity, log, messaging, payment,
    storage,
};
use script::Call;

/// The longest result value shown, in characters.
const MAX_SHOWN_CHARS: usize = 200;

#[derive(Default)]
struct FuzzCaller;

impl App for FuzzCaller {
    fn handle(&mut self, event: Event) -> Page {
        let script = match &event {
            Event::Submit(_) if event.form() == Some("calls") => event.field("script"),
            Event::Launch(_) => event.query_param("script"),
            _ => None,
        };
        let mut page = Page::builder("Fuzz caller");
        if let Some(script) = script {
            match script::decode(script) {
                Ok(calls) => {
                    for (i, call) in calls.iter().enumerate() {
                        page = page.field(format!("{} {}", i + 1, call.name()), shown(run(call)));
                    }
                }
                Err(e) => page = page.field("script", shown(format!("error {e}"))),
            }
        }
        page.input("calls", "script", InputKind::Text, "Script")
            .replace()
            .build()
    }
}

plaza_sdk::export_app!(FuzzCaller);

/// `text` cut to [`MAX_SHOWN_CHARS`] characters.
fn shown(text: String) -> String {
    if text.chars().count() <= MAX_SHOWN_CHARS {
        text
    } else {
        text.chars().take(MAX_SHOWN_CHARS).collect()
    }
}

/// `ok <what>` or `error <kind>: <message>`.
fn answer<T>(result: Result<T, HostError>, ok: impl FnOnce(T) -> String) -> String {
    match result {
        Ok(value) => {
            let text = ok(value);
            if text.is_empty() {
                "ok".to_string()
            } else {
                format!("ok {text}")
            }
        }
        Err(e) => format!("error {e}"),
    }
}

/// Makes one host call and describes its result.
fn run(call: &Call) -> String {
    match call {
        Call::Get { key } => answer(storage::get(key), |v| match v {
            None => "none".to_string(),
            Some(bytes) => {
                let head = &bytes[..bytes.len().min(64)];
                format!("some {} {}", bytes.len(), String::from_utf8_lossy(head))
            }
        }),
        Call::Set { key, fill, len } => {
            let value = vec![*fill; *len as usize];
            answer(storage::set(key, &value), |()| String::new())
        }
        Call::Delete { key } => answer(storage::delete(key), |was| was.to_string()),
        Call::List { prefix, limit } => answer(storage::list_keys(prefix, *limit), |keys| {
            format!("{} {}", keys.len(), keys.join(","))
        }),
        Call::Usage => answer(storage::usage(), |u| {
            format!("{} {} {}", u.used_bytes, u.quota_bytes, u.keys)
        }),
        Call::Log { level, message } => {
            let level = match level % 5 {
                0 => Level::Trace,
                1 => Level::Debug,
                2 => Level::Info,
                3 => Level::Warn,
                _ => Level::Error,
            };
            log::write(level, message);
            "ok".to_string()
        }
        Call::Now => {
            let now = clock::now();
            format!("ok {} {}", now.unix_ms, now.utc_offset_minutes)
        }
        Call::Openid => answer(identity::openid(), |id| id),
        Call::Unionid => answer(identity::unionid(), |id| id),
        Call::Login => answer(identity::login(), |c| {
            format!("{} {}", c.code, c.expires_at_ms)
        }),
        Call::Profile => answer(identity::profile(), |p| {
            format!("{} {}", p.nickname, p.avatar_url)
        }),
        Call::Phone => answer(identity::phone(), |p| p),
        Call::RealName => answer(identity::real_name(), |r| {
            format!("{} {} {}", r.name, r.id_number, r.verified)
        }),
        Call::Location { precise } => {
            let precision = if *precise {
                LocationPrecision::Precise
            } else {
                LocationPrecision::Coarse
            };
            answer(identity::location(precision), |l| {
                format!("{} {} {}", l.latitude, l.longitude, l.accuracy_m)
            })
        }
        Call::InsuranceCard => answer(identity::insurance_card(), |c| {
            format!("{} {} {}", c.card_number, c.holder_name, c.scheme)
        }),
        Call::Pay {
            order,
            amount,
            currency,
            description,
            items,
        } => {
            let request = PaymentRequest {
                order_id: order.clone(),
                amount: *amount,
                currency: currency.clone(),
                description: description.clone(),
                items: items
                    .iter()
                    .map(|i| LineItem {
                        name: i.name.clone(),
                        quantity: i.quantity,
                        unit_price: i.unit_price,
                        insurance_eligible: i.insurance_eligible,
                    })
                    .collect(),
            };
            match payment::request(&request) {
                Ok(PaymentOutcome::Paid(r)) => format!(
                    "paid {} {} wallet {} insurance {}",
                    r.transaction_id, r.amount, r.wallet_part, r.insurance_part
                ),
                Ok(PaymentOutcome::Declined) => "declined".to_string(),
                Ok(PaymentOutcome::TimedOut) => "timed-out".to_string(),
                Ok(PaymentOutcome::Cancelled) => "cancelled".to_string(),
                Ok(PaymentOutcome::InsufficientFunds(f)) => {
                    format!("insufficient-funds {} {}", f.needed, f.available)
                }
                Err(e) => format!("error {e}"),
            }
        }
        Call::Refund {
            order,
            amount,
            reason,
        } => match payment::refund(order, *amount, reason) {
            Ok(r) => format!(
                "refunded {} {} wallet {} insurance {}",
                r.transaction_id, r.amount, r.wallet_part, r.insurance_part
            ),
            Err(e) => format!("error {e}"),
        },
        Call::Query { order } => answer(payment::query(order), |p| {
            format!(
                "{} {} refunded {}",
                p.receipt.transaction_id, p.receipt.amount, p.refunded
            )
        }),
        Call::History { cursor, limit } => {
            answer(payment::history(cursor.as_deref(), *limit), |h| {
                format!(
                    "{} next {}",
                    h.payments.len(),
                    h.next_cursor.as_deref().unwrap_or("-")
                )
            })
        }
        Call::Subscribe { templates } => answer(messaging::subscribe(templates), |results| {
            results
                .iter()
                .map(|r| format!("{}={:?}", r.template_id, r.answer))
                .collect::<Vec<_>>()
                .join(",")
        }),
        Call::Send { template, fields } => {
            let fields: Vec<FieldValue> = fields
                .iter()
                .map(|(name, value)| FieldValue::new(name.as_str(), value.as_str()))
                .collect();
            answer(messaging::send(template, &fields), |id| id)
        }
        Call::Broadcast { title, text } => answer(messaging::broadcast(title, text), |b| {
            format!("{} {}", b.delivered, b.skipped)
        }),
        Call::Reply { text } => answer(messaging::reply(text), |id| id),
    }
}
