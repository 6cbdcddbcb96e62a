//! The licence-plate lottery: a citizen applies once per draw; the draw is on
//! the 26th of each month at 10:00, and after it (on the host's clock) the
//! lottery page shows the result as a notice. The application is kept in the
//! citizen's storage (`lottery`: the application number, then the draw's
//! Unix time in ms, one per line). A citizen who accepts the "lottery
//! result" message when applying is entered with the city's back office,
//! which sends the result after the draw.

use crate::data::{self, UTC_OFFSET, date_label};
use plaza_sdk::clock::{self, LocalTime};
use plaza_sdk::messaging::{self, SubscriptionAnswer};
use plaza_sdk::{HostError, Page, PageBuilder, log, storage};

const KEY: &str = "lottery";
/// The day of the month of the draw.
const DRAW_DAY: u8 = 26;

/// An application to the lottery.
struct Application {
    number: String,
    draw_ms: i64,
}

fn load() -> Result<Option<Application>, HostError> {
    Ok(storage::get_string(KEY)?.and_then(|text| {
        let (number, draw) = text.split_once('\n')?;
        Some(Application {
            number: number.to_string(),
            draw_ms: draw.parse().ok()?,
        })
    }))
}

/// The next draw at or after `now_ms`.
fn next_draw(now_ms: i64) -> i64 {
    let t = LocalTime::from_unix_ms(now_ms, UTC_OFFSET);
    let this_month = data::local_ms(t.year, t.month, DRAW_DAY, 10);
    if now_ms < this_month {
        return this_month;
    }
    let (year, month) = if t.month == 12 {
        (t.year + 1, 1)
    } else {
        (t.year, t.month + 1)
    };
    data::local_ms(year, month, DRAW_DAY, 10)
}

fn draw_label(ms: i64) -> String {
    format!(
        "{} 10:00",
        date_label(&LocalTime::from_unix_ms(ms, UTC_OFFSET))
    )
}

/// Whether an application is drawn: one in five, by its number.
fn drawn(number: &str) -> bool {
    data::hash(number).is_multiple_of(5)
}

/// `lottery`: the application and, after the draw, its result; or how to
/// apply.
pub fn page() -> Result<PageBuilder, HostError> {
    let now = clock::now().unix_ms;
    let page = Page::builder("Plate lottery");
    let Some(app) = load()? else {
        return Ok(page
            .text("Hangzhou allots new small-car plates by lottery, drawn on the 26th of each month. Apply once; the result is shown here after the draw.")
            .field("Next draw", draw_label(next_draw(now)))
            .primary_button("Apply for the next draw", "lottery-apply")
            .button("Back to services", "home"));
    };
    let page = page
        .field("Application", app.number.as_str())
        .field("Draw", draw_label(app.draw_ms));
    let page = if now < app.draw_ms {
        page.info(format!(
            "Your application takes part in the draw of {}. Come back after the draw for the result.",
            draw_label(app.draw_ms)
        ))
        .field("Status", "Waiting for the draw")
    } else if drawn(&app.number) {
        page.success(format!(
            "Congratulations: application {} was drawn. Register your new car within 6 months.",
            app.number
        ))
        .field("Status", "Drawn")
    } else {
        page.info(format!(
            "Application {} was not drawn this time. You may apply for the next draw.",
            app.number
        ))
        .field("Status", "Not drawn")
        .primary_button("Apply for the next draw", "lottery-apply")
    };
    Ok(page.button("Back to services", "home"))
}

/// `lottery-apply`: applies for the next draw, unless already waiting for one.
pub fn apply() -> Result<PageBuilder, HostError> {
    let now = clock::now().unix_ms;
    if let Some(app) = load()?
        && now < app.draw_ms
    {
        return Ok(page()?.replace().warning(format!(
            "You already applied ({}) for the draw of {}.",
            app.number,
            draw_label(app.draw_ms)
        )));
    }
    let draw_ms = next_draw(now);
    let t = LocalTime::from_unix_ms(now, UTC_OFFSET);
    let number = format!(
        "L{:04}{:02}{:06}",
        t.year,
        t.month,
        (now / 1000).rem_euclid(1_000_000)
    );
    storage::set_string(KEY, &format!("{number}\n{draw_ms}"))?;
    let told = announce_to_me(&number, draw_ms);
    Ok(Page::builder("Application received")
        .replace()
        .success(format!(
            "You are in the draw of {}. Your application number is {number}.",
            draw_label(draw_ms)
        ))
        .info(told)
        .field("Application", number.as_str())
        .field("Draw", draw_label(draw_ms))
        .button("See the lottery", "lottery")
        .button("Back to services", "home"))
}

/// Asks the citizen (applying: a tap) to accept the "lottery result"
/// message and, if accepted, enters the application with the city's back
/// office, which sends the result after the draw. What to tell the citizen.
fn announce_to_me(number: &str, draw_ms: i64) -> String {
    let answers = match messaging::subscribe(&["lottery-result".to_string()]) {
        Ok(a) => a,
        Err(e) => {
            return format!("The result cannot be sent to you ({e}); see it here after the draw.");
        }
    };
    if !answers
        .iter()
        .any(|a| a.template_id == "lottery-result" && a.answer != SubscriptionAnswer::Rejected)
    {
        return "See the result here after the draw.".to_string();
    }
    let draw = draw_ms.to_string();
    match crate::backend::register("/city/lottery", &[("application", number), ("draw", &draw)]) {
        Ok(_) => "The result will be sent to your inbox after the draw.".to_string(),
        Err(e) => {
            log::warn(&format!(
                "application {number} not entered with the back office: {}",
                e.0
            ));
            format!(
                "The result cannot be sent to you ({}); see it here after the draw.",
                e.0
            )
        }
    }
}
