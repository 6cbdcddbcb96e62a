//! {{display_name}}: a public service account on Plaza.
//!
//! Three ways to reach a citizen's inbox, each with the host's rules:
//! a subscription message (the user accepts a template from a tap, then the
//! account may send it), a broadcast to the account's followers (at most four
//! a month each), and a reply to a user's own message (within 48 hours).

use plaza_sdk::messaging::{self, SubscriptionAnswer};
use plaza_sdk::{App, Event, FieldValue, HostError, Page, PageBuilder, clock, log};

const REMINDER: &str = "appointment-reminder";

#[derive(Default)]
struct Account;

impl App for Account {
    fn handle(&mut self, event: Event) -> Page {
        match &event {
            Event::Launch(_) => home().build(),
            Event::Tap(action) if action == "remind" => remind(),
            Event::Tap(action) if action == "bulletin" => bulletin(),
            Event::Chat(message) => answer(&message.text),
            _ => home().replace().build(),
        }
    }
}

fn home() -> PageBuilder {
    Page::builder("{{display_name}}")
        .text("Opening hours: Monday to Friday, 9:00 to 17:00.")
        .primary_button("Remind me of my appointment", "remind")
        .text("Write to us any time: we answer within two days.")
        // In a real account, broadcasts come from your staff's tools; this
        // button sends one so that you can see it reach the followers.
        .button("Send this week's bulletin to followers", "bulletin")
}

/// Asks the user to accept the reminder template (only from a tap), then
/// sends the first reminder.
fn remind() -> Page {
    let page = Page::builder("Reminders").replace();
    let answers = match messaging::subscribe(&[REMINDER.to_string()]) {
        Ok(answers) => answers,
        Err(e) => return page.error(format!("Reminders are not available: {e}")).build(),
    };
    let accepted = answers
        .iter()
        .any(|a| a.template_id == REMINDER && a.answer != SubscriptionAnswer::Rejected);
    if !accepted {
        return page
            .info("No reminders then. You can turn them on here any time.")
            .build();
    }
    let fields = [
        FieldValue::new("service", "Residence permit renewal"),
        FieldValue::new("time", tomorrow_at_ten()),
    ];
    match messaging::send(REMINDER, &fields) {
        Ok(_) => page
            .success("Done: your reminder is in your inbox.")
            .build(),
        Err(e) => page.error(format!("The reminder was not sent: {e}")).build(),
    }
}

/// Sends the weekly bulletin to every follower of the account.
fn bulletin() -> Page {
    let page = Page::builder("Bulletin").replace();
    match messaging::broadcast(
        "This week at {{display_name}}",
        "Passport photos are taken on site from Monday.",
    ) {
        Ok(r) => {
            log::info(&format!("bulletin: {} delivered, {} skipped", r.delivered, r.skipped));
            page.field("Delivered", r.delivered.to_string())
                .field("Skipped (monthly quota reached)", r.skipped.to_string())
                .build()
        }
        Err(HostError::LimitExceeded(why)) => page.warning(why).build(),
        Err(e) => page.error(format!("The bulletin was not sent: {e}")).build(),
    }
}

/// Answers a citizen's message in the conversation.
fn answer(question: &str) -> Page {
    let reply = if question.to_lowercase().contains("open") {
        "We are open Monday to Friday, 9:00 to 17:00."
    } else {
        "Thank you for your message: a member of staff will answer you here."
    };
    let page = Page::builder("Ask us").replace().text(format!("You: {question}"));
    match messaging::reply(reply) {
        Ok(_) => page.text(format!("Us: {reply}")).build(),
        Err(e) => page.error(format!("We could not answer: {e}")).build(),
    }
}

/// Tomorrow at 10:00 on the host's clock, as `YYYY-MM-DD 10:00`.
fn tomorrow_at_ten() -> String {
    let now = clock::now();
    let tomorrow = clock::Datetime {
        unix_ms: now.unix_ms + clock::DAY_MS,
        utc_offset_minutes: now.utc_offset_minutes,
    }
    .local();
    format!(
        "{:04}-{:02}-{:02} 10:00",
        tomorrow.year, tomorrow.month, tomorrow.day
    )
}

plaza_sdk::export_app!(Account);
