//! Messages from the hospital: the patient accepts the "appointment reminder"
//! and "doctor is ready" templates while booking; the hospital's back office
//! sends the reminder the day before the appointment, the mini-app "doctor is
//! ready" when the patient checks in. And a conversation:
//! the patient writes to the hospital (a `chat` event), the hospital replies
//! within the host's 48-hour window, and the "Ask a doctor" page shows the
//! exchange, kept in storage (`chat:log`).

use crate::backoffice;
use crate::bookings::Booking;
use plaza_sdk::messaging::{self, SubscriptionAnswer};
use plaza_sdk::{FieldValue, HostError, InputKind, Page, PageBuilder, log, storage};

/// Registers the booking with the hospital's back office (which reminds
/// the patient the day before, and refunds the deposit if the clinic is
/// cancelled), and asks the patient (while handling the booking form, a
/// user's gesture) to accept both templates. Returns what to tell the
/// patient.
pub fn subscribe_while_booking(booking: &Booking, deposit_order: &str) -> String {
    let registered = backoffice::register(
        "/hospital/bookings",
        &[
            ("number", &booking.number),
            ("doctor", booking.doctor.id),
            ("doctor_name", booking.doctor.name),
            ("slot", &booking.slot),
            ("time", &booking.time),
            ("deposit", deposit_order),
        ],
    );
    if let Err(e) = &registered {
        log::warn(&format!("booking {} not registered: {e}", booking.number));
    }
    let ids = vec![
        "appointment-reminder".to_string(),
        "doctor-ready".to_string(),
    ];
    let results = match messaging::subscribe(&ids) {
        Ok(r) => r,
        Err(e) => return format!("Reminders are not available ({e})."),
    };
    let accepted = |id: &str| {
        results
            .iter()
            .any(|r| r.template_id == id && r.answer != SubscriptionAnswer::Rejected)
    };
    let mut said = Vec::new();
    if accepted("appointment-reminder") {
        match &registered {
            Ok(_) => said.push("You will be reminded the day before.".to_string()),
            Err(e) => said.push(format!("The reminder could not be arranged ({e}).")),
        }
    }
    if accepted("doctor-ready") {
        said.push("You will be told when the doctor is ready.".to_string());
    }
    if said.is_empty() {
        "You chose not to get reminders.".to_string()
    } else {
        said.join(" ")
    }
}

/// `arrived:<no>`: the patient checked in; tells them the doctor is ready,
/// if they accepted that message.
pub fn doctor_ready(doctor: &str, room: &str) -> Result<String, HostError> {
    let fields = [
        FieldValue::new("doctor", doctor),
        FieldValue::new("room", room),
    ];
    match messaging::send("doctor-ready", &fields) {
        Ok(_) => Ok(format!("Checked in. {doctor} is ready: see your inbox.")),
        Err(HostError::Denied(_)) => Ok(format!(
            "Checked in. Please wait to be called by {doctor} (you chose not to get messages)."
        )),
        Err(e) => Err(e),
    }
}

fn log_lines() -> Result<Vec<String>, HostError> {
    Ok(storage::get_string("chat:log")?
        .map(|s| s.lines().map(str::to_string).collect())
        .unwrap_or_default())
}

fn append(line: &str) -> Result<(), HostError> {
    let mut lines = log_lines()?;
    lines.push(line.replace('\n', " "));
    // Keep the last 50 lines.
    let start = lines.len().saturating_sub(50);
    storage::set_string("chat:log", &lines[start..].join("\n"))
}

/// The "Ask a doctor" page: the exchange so far.
pub fn chat_page() -> Result<PageBuilder, HostError> {
    let mut page = Page::builder("Ask a doctor").text(
        "Write your question to the hospital. A doctor answers within a day; the hospital can reply for 48 hours after your last message.",
    );
    let lines = log_lines()?;
    if lines.is_empty() {
        page = page.text("No messages yet.");
    }
    for line in lines {
        let (who, text) = line.split_once(": ").unwrap_or(("", line.as_str()));
        page = page.field(who, text);
    }
    Ok(page
        .input(
            "chat",
            "note",
            InputKind::Multiline,
            "Your question (sent from the host's chat box)",
        )
        .button("Back to departments", "home"))
}

/// A message the patient wrote: kept, answered, and the exchange shown.
pub fn on_message(text: &str) -> Result<PageBuilder, HostError> {
    append(&format!("You: {text}"))?;
    let answer = "Thank you. A doctor of the hospital will answer your question within a day.";
    match messaging::reply(answer) {
        Ok(_) => append(&format!("Hospital: {answer}"))?,
        Err(e) => append(&format!("Hospital: (could not reply: {e})"))?,
    }
    Ok(chat_page()?.replace())
}
