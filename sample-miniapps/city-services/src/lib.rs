//! Hangzhou City Services, a sample mini-app: traffic fines, utility bills, the plate lottery, marriage registration and permits (expects storage, log, clock, payment, messaging, identity, network, media and settings).
//!
//! A city government's public account. A citizen looks up the traffic
//! violations of a plate and pays a fine; looks up a water, electricity or
//! gas bill by account number and pays it, getting a receipt; applies for the
//! licence-plate lottery and, after the draw date on the host's clock, sees
//! the result as a notice; books a marriage-registration appointment with
//! both partners' names (the citizen's verified real name with consent, the
//! partner's typed) and adds a photo of the partner's ID card; checks an
//! entry-exit permit's status. Violations and bills
//! come from the agency backend (`crates/agency-backend`, at the origin of the
//! setting `agency-origin`, by default `http://localhost:47180`, with the
//! secret setting `agency-api-key` as its key, over the network capability:
//! `backend.rs`); when it cannot be reached, the
//! page "Records unavailable" says so and nothing is paid. Permits come from
//! deterministic sample data (`data.rs`).
//!
//! Pages and the actions that lead to them:
//!
//! | event | page title | navigation |
//! |---|---|---|
//! | launch `/` (or empty), tap `home` | "Hangzhou City Services" | push (launch), replace (`home`) |
//! | tap `violations`, launch `/violations` | "Traffic violations" (form `plate`: `plate`) | push |
//! | submit `plate`, tap `plate:<plate>` | "Violations of <plate>" | push |
//! | tap `fine:<plate>:<no>` | "Fine <no>" | push |
//! | tap `pay-fine:<plate>:<no>` | "Fine paid" (the receipt), or "Not paid" (declined, cancelled, ...) | replace |
//! | tap `fine-notice:<plate>` | "Fine notices" (long-term subscription; a notice is sent) | push |
//! | tap `bills`, launch `/bills` | "Utility bills" | push |
//! | tap `bill:<utility>` | "Water bill", "Electricity bill", "Gas bill" (form `account-<utility>`: `account`) | push |
//! | submit `account-<utility>` | "<utility> bill <account>" | push |
//! | tap `pay-bill:<utility>:<account>` | "Bill paid" (the receipt), or "Not paid" | replace |
//! | tap `lottery`, launch `/lottery` | "Plate lottery" (result as a notice after the draw) | push |
//! | tap `lottery-apply` | "Application received" | replace |
//! | tap `marriage`, launch `/marriage` | "Marriage registration" | push |
//! | tap `marriage-day:<YYYYMMDD>`, `marriage-day:earliest` | "Registration details" (form `marriage`: `day`, `name`, `partner`, `partner-id`) | push |
//! | submit `marriage` | "Appointment booked" | replace |
//! | tap `marriage-id-card` | "ID card added" (the photo shown), or "Marriage registration" with the reason | replace |
//! | tap `marriage-cancel` | "Appointment cancelled" | replace |
//! | tap `permit`, launch `/permit` | "Entry-exit permit" (form `permit`: `number`) | push |
//! | submit `permit` | "Permit <number>" | push |
//! | anything else | "Something went wrong" | replace |

mod backend;
mod data;
mod lottery;
mod marriage;
mod pay;

use data::money;
use plaza_sdk::messaging::{self, SubscriptionAnswer};
use plaza_sdk::{App, Event, FieldValue, HostError, InputKind, Page, PageBuilder, SubmitEvent};
use plaza_sdk::{clock, log};

const CITY: &str = "Hangzhou City Services";

#[derive(Default)]
struct CityServices;

impl App for CityServices {
    fn handle(&mut self, event: Event) -> Page {
        let page = match &event {
            Event::Launch(launch) => open(launch.path_or_home()),
            Event::Tap(action) => tap(action),
            Event::Submit(submit) => form(submit),
            Event::Chat(_) => Err(Problem::Message(
                "This account does not answer messages. Call 12345, the city hotline.".to_string(),
            )),
            // Resume and hide keep the citizen where they are.
            _ => return Page::builder(CITY).back().build(),
        };
        page.unwrap_or_else(Problem::page).build()
    }
}

/// Why an event could not be answered with the page asked for.
enum Problem {
    /// An action, form, page or record this mini-app does not know.
    Unknown(&'static str, String),
    /// Something the citizen should be told.
    Message(String),
    /// The host refused a call.
    Host(HostError),
    /// The agency's records could not be reached.
    Unavailable(&'static str, backend::Unreachable),
}

impl From<HostError> for Problem {
    fn from(e: HostError) -> Self {
        Problem::Host(e)
    }
}

impl Problem {
    fn page(self) -> PageBuilder {
        let text = match self {
            Problem::Unavailable(what, why) => return unavailable(what, why),
            Problem::Unknown(kind, what) => format!("Unknown {kind}: {what}"),
            Problem::Message(text) => text,
            Problem::Host(e) => format!("The city could not do that ({e})"),
        };
        Page::builder("Something went wrong")
            .replace()
            .error(text)
            .button("Back to services", "home")
    }
}

/// The notice when an agency's records cannot be reached.
fn unavailable(what: &str, why: backend::Unreachable) -> PageBuilder {
    log::warn(&format!("the {what} are unreachable: {}", why.0));
    Page::builder("Records unavailable")
        .replace()
        .warning(format!(
            "The {what} cannot be reached right now. Nothing was paid or changed: try again in a few minutes, or call the city hotline 12345."
        ))
        .field("Reason", why.0)
        .button("Back to services", "home")
}

type Answer = Result<PageBuilder, Problem>;

fn open(path: &str) -> Answer {
    match path {
        "/" => Ok(home()),
        "/violations" => Ok(violations()),
        "/bills" => Ok(bills()),
        "/lottery" => Ok(lottery::page()?),
        "/marriage" => Ok(marriage::page()?),
        "/permit" => Ok(permit()),
        _ => Err(Problem::Unknown("page", path.to_string())),
    }
}

fn tap(action: &str) -> Answer {
    match action {
        "home" => return Ok(home().replace()),
        "violations" => return Ok(violations()),
        "bills" => return Ok(bills()),
        "lottery" => return Ok(lottery::page()?),
        "lottery-apply" => return Ok(lottery::apply()?),
        "marriage" => return Ok(marriage::page()?),
        "marriage-cancel" => return Ok(marriage::cancel()?),
        "marriage-id-card" => return Ok(marriage::add_id_card()?),
        "permit" => return Ok(permit()),
        _ => {}
    }
    let unknown = || Problem::Unknown("action", action.to_string());
    let (kind, arg) = action.split_once(':').ok_or_else(unknown)?;
    match kind {
        "fine" | "pay-fine" => {
            let (plate, number) = arg.split_once(':').ok_or_else(unknown)?;
            let plate = data::normalise_plate(plate).ok_or_else(unknown)?;
            let v = traffic_records(&plate)?
                .into_iter()
                .find(|v| v.number == number)
                .ok_or_else(|| Problem::Message(format!("{plate} has no fine {number}.")))?;
            if kind == "fine" {
                fine(&plate, &v)
            } else {
                pay_fine(&plate, &v)
            }
        }
        "fine-notice" => fine_notice(arg),
        "plate" => plate_violations(arg),
        "bill" => {
            let u = data::utility(arg).ok_or_else(unknown)?;
            Ok(bill_lookup(u))
        }
        "pay-bill" => {
            let (utility, account) = arg.split_once(':').ok_or_else(unknown)?;
            let u = data::utility(utility).ok_or_else(unknown)?;
            if !data::valid_account(account) {
                return Err(unknown());
            }
            let bill = utility_bill(u, account)?;
            log::info(&format!("paying {}", bill.order_id()));
            Ok(pay::pay(
                "Bill paid",
                &bill.order_id(),
                &format!("{} {}, {}", u.name, bill.account, bill.period_label),
                bill.amount_fen,
                format!(
                    "{} of account {} for {}",
                    u.name, bill.account, bill.period_label
                ),
            )
            .field("Supplier", u.company)
            .button("Utility bills", "bills")
            .button("Back to services", "home"))
        }
        "marriage-day" => marriage::form(arg)?
            .ok_or_else(|| Problem::Message(format!("The registry has no free times on {arg}."))),
        _ => Err(unknown()),
    }
}

fn form(submit: &SubmitEvent) -> Answer {
    let value = |name: &str| submit.field(name).unwrap_or_default().trim().to_string();
    match submit.form.as_str() {
        "plate" => plate_violations(&value("plate")),
        "permit" => permit_status(&value("number")),
        "marriage" => marriage::book(submit).map_err(Problem::Message),
        other => match other.strip_prefix("account-").and_then(data::utility) {
            Some(u) => show_bill(u, &value("account")),
            None => Err(Problem::Unknown("form", other.to_string())),
        },
    }
}

/// The launch page: the services.
fn home() -> PageBuilder {
    Page::builder(CITY)
        .heading("Services")
        .link(
            "Traffic violations",
            "Look up a plate's violations and pay a fine",
            "violations",
        )
        .link(
            "Water, electricity and gas",
            "Look up and pay a utility bill",
            "bills",
        )
        .link(
            "Plate lottery",
            "Apply for a new car's licence plate; see the result",
            "lottery",
        )
        .link(
            "Marriage registration",
            "Book an appointment at the registry",
            "marriage",
        )
        .link(
            "Entry-exit permit",
            "Check the status of a permit application",
            "permit",
        )
        .text("City hotline: 12345")
}

/// `violations`: the plate to look up.
fn violations() -> PageBuilder {
    Page::builder("Traffic violations")
        .text("Type a plate to see the violations recorded against it and pay the fines.")
        .input("plate", "plate", InputKind::Text, "Plate, such as ZA12345")
        .required()
        .pattern(data::PLATE_PATTERN, data::PLATE_HINT)
        .button("Back to services", "home")
}

/// Submit `plate`, tap `plate:<plate>`: the plate's violations.
fn plate_violations(typed: &str) -> Answer {
    let Some(plate) = data::normalise_plate(typed) else {
        return Ok(violations().replace().warning(format!(
            "\"{typed}\" is not a plate: 5 to 10 letters and digits, such as ZA12345."
        )));
    };
    let list = traffic_records(&plate)?;
    let mut page = Page::builder(format!("Violations of {plate}"));
    if list.is_empty() {
        return Ok(page
            .success(format!("No violations are recorded against {plate}."))
            .button("Back to services", "home"));
    }
    let mut unpaid = 0;
    for v in &list {
        let paid = pay::is_paid(&v.number)?;
        if !paid {
            unpaid += v.fine_fen;
        }
        page = page.link(
            format!("{} · {}", v.date, v.what),
            format!(
                "{} · {} points · {}",
                money(v.fine_fen),
                v.points,
                if paid { "paid" } else { "unpaid" }
            ),
            format!("fine:{plate}:{}", v.number),
        );
    }
    Ok(page
        .field("Unpaid", money(unpaid))
        .button(
            "Send me fine notices for this plate",
            format!("fine-notice:{plate}"),
        )
        .button("Back to services", "home"))
}

/// `fine:<plate>:<no>`: one violation and its fine.
fn fine(plate: &str, v: &data::Violation) -> Answer {
    let paid = pay::is_paid(&v.number)?;
    let page = Page::builder(format!("Fine {}", v.number))
        .field("Plate", plate)
        .field("Offence", v.what.as_str())
        .field("Place", v.place.as_str())
        .field("Date", v.date.as_str())
        .field("Fine", money(v.fine_fen))
        .field("Points", v.points.to_string())
        .field("Status", if paid { "paid" } else { "unpaid" });
    let page = if paid {
        page
    } else {
        page.primary_button(
            format!("Pay {}", money(v.fine_fen)),
            format!("pay-fine:{plate}:{}", v.number),
        )
    };
    Ok(page
        .button("Back to the violations", format!("plate:{plate}"))
        .button("Back to services", "home"))
}

/// `pay-fine:<plate>:<no>`: pays the fine (its order id is the decision
/// number).
fn pay_fine(plate: &str, v: &data::Violation) -> Answer {
    log::info(&format!("paying fine {} of {plate}", v.number));
    Ok(pay::pay(
        "Fine paid",
        &v.number,
        &format!("Traffic fine {}", v.number),
        v.fine_fen,
        format!("Traffic fine {} for {plate}: {}", v.number, v.what),
    )
    .field("Plate", plate)
    .button("Back to the violations", format!("plate:{plate}"))
    .button("Back to services", "home"))
}

/// `fine-notice:<plate>`: asks for the long-term "fine notice" subscription
/// and, if accepted, sends the plate's unpaid fines now.
fn fine_notice(plate: &str) -> Answer {
    let plate =
        data::normalise_plate(plate).ok_or_else(|| Problem::Unknown("plate", plate.to_string()))?;
    let page = Page::builder("Fine notices");
    let answers = messaging::subscribe(&["fine-notice".to_string()])?;
    let accepted = answers
        .iter()
        .any(|a| a.template_id == "fine-notice" && a.answer != SubscriptionAnswer::Rejected);
    if !accepted {
        return Ok(page
            .info("You chose not to get fine notices.")
            .button("Back to the violations", format!("plate:{plate}"))
            .button("Back to services", "home"));
    }
    let mut unpaid = (0, 0);
    for v in traffic_records(&plate)? {
        if !pay::is_paid(&v.number)? {
            unpaid = (unpaid.0 + 1, unpaid.1 + v.fine_fen);
        }
    }
    let fields = [
        FieldValue::new("plate", plate.as_str()),
        FieldValue::new("fines", unpaid.0.to_string()),
        FieldValue::new("amount", money(unpaid.1)),
    ];
    let said = match messaging::send("fine-notice", &fields) {
        Ok(_) => format!("You will get fine notices for {plate}. The first is in your inbox."),
        Err(e) => format!("The notice could not be sent ({e})."),
    };
    Ok(page
        .success(said)
        .button("Back to the violations", format!("plate:{plate}"))
        .button("Back to services", "home"))
}

/// `bills`: the utilities.
fn bills() -> PageBuilder {
    let mut page = Page::builder("Utility bills").text("Choose a utility:");
    for u in &data::UTILITIES {
        page = page.link(u.name, u.company, format!("bill:{}", u.id));
    }
    page.button("Back to services", "home")
}

/// `bill:<utility>`: the account number to look up.
fn bill_lookup(u: &data::Utility) -> PageBuilder {
    Page::builder(u.name)
        .text(format!(
            "Type your {} account number (on your paper bill).",
            u.company
        ))
        .input(
            format!("account-{}", u.id),
            "account",
            InputKind::Number,
            "Account number",
        )
        .required()
        .button("Back to services", "home")
}

/// Submit `account-<utility>`: last month's bill of the account.
fn show_bill(u: &'static data::Utility, account: &str) -> Answer {
    if !data::valid_account(account) {
        return Ok(bill_lookup(u).replace().warning(format!(
            "\"{account}\" is not an account number: 8 to 12 digits."
        )));
    }
    let bill = utility_bill(u, account)?;
    let paid = pay::is_paid(&bill.order_id())?;
    let page = Page::builder(format!("{} {}", u.name, bill.account))
        .field("Supplier", u.company)
        .field("Account", bill.account.as_str())
        .field("Holder", bill.holder.as_str())
        .field("Period", bill.period_label.as_str())
        .field("Usage", format!("{} {}", bill.usage, u.unit))
        .field(
            "Price",
            format!("{} per {}", money(bill.unit_price_fen), u.unit),
        )
        .field("Amount", money(bill.amount_fen))
        .field("Status", if paid { "paid" } else { "unpaid" });
    Ok(if paid {
        page.button("Back to services", "home")
    } else {
        page.primary_button(
            format!("Pay {}", money(bill.amount_fen)),
            format!("pay-bill:{}:{}", u.id, bill.account),
        )
        .button("Back to services", "home")
    })
}

/// The violations of a plate, from the traffic police's records.
fn traffic_records(plate: &str) -> Result<Vec<data::Violation>, Problem> {
    backend::violations(plate).map_err(|e| Problem::Unavailable("traffic police's records", e))
}

/// Last month's bill of an account, from the utility's records.
fn utility_bill(u: &'static data::Utility, account: &str) -> Result<data::Bill, Problem> {
    backend::bill(u, account, &clock::now().local())
        .map_err(|e| Problem::Unavailable("utility's billing records", e))
}

/// `permit`: the application number to look up.
fn permit() -> PageBuilder {
    Page::builder("Entry-exit permit")
        .text("Type the application number on your receipt (a letter and 8 digits, such as C12345678).")
        .input("permit", "number", InputKind::Text, "Application number")
        .required()
        .button("Back to services", "home")
}

/// Submit `permit`: the application's status.
fn permit_status(number: &str) -> Answer {
    let Some(p) = data::permit(number) else {
        return Ok(permit()
            .replace()
            .warning(format!("\"{number}\" is not an application number.")));
    };
    Ok(Page::builder(format!("Permit {}", p.number))
        .field("Application", p.number.as_str())
        .field("Document", p.kind)
        .field("Submitted", p.submitted.as_str())
        .field("Status", p.status)
        .text(p.next)
        .button("Back to services", "home"))
}

plaza_sdk::export_app!(CityServices);
