//! Marriage registration: the citizen picks a working day in the next week,
//! gives both partners' names (the citizen's own is the verified real name
//! from the host, if the citizen consents to share it; the partner's is
//! typed, with the partner's ID number), and gets an appointment at the
//! Hangzhou marriage registry. The appointment is kept in the citizen's
//! storage (`marriage`: `name=value` lines). The citizen then adds a photo
//! of the partner's ID card (the host's media capability: the citizen's
//! own picker, the photo kept by the host for the citizen), which the
//! appointment shows for the registry to check before the partners come.

use crate::data::{UTC_OFFSET, date_label};
use plaza_sdk::clock::{self, DAY_MS, LocalTime};
use plaza_sdk::media::{self, MediaError, Source};
use plaza_sdk::{HostError, InputKind, Page, PageBuilder, SubmitEvent, identity, storage};

const KEY: &str = "marriage";
const OFFICE: &str = "Hangzhou Marriage Registry, 1 Huancheng West Rd";

/// A booked appointment.
pub struct Appointment {
    pub number: String,
    pub date: String,
    pub you: String,
    pub partner: String,
    /// The media id of the photo of the partner's ID card, once added.
    pub card: String,
}

fn load() -> Result<Option<Appointment>, HostError> {
    let Some(text) = storage::get_string(KEY)? else {
        return Ok(None);
    };
    let get = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix('='))
            .unwrap_or_default()
            .to_string()
    };
    Ok(Some(Appointment {
        number: get("number"),
        date: get("date"),
        you: get("you"),
        partner: get("partner"),
        card: get("card"),
    }))
}

fn save(a: &Appointment) -> Result<(), HostError> {
    storage::set_string(
        KEY,
        &format!(
            "number={}\ndate={}\nyou={}\npartner={}\ncard={}",
            a.number, a.date, a.you, a.partner, a.card
        ),
    )
}

/// The working days of the next week from tomorrow: (`YYYYMMDD`, label).
fn days() -> Vec<(String, String)> {
    let now = clock::now().unix_ms;
    (1..=7)
        .map(|d| LocalTime::from_unix_ms(now + d * DAY_MS, UTC_OFFSET))
        .filter(|t| t.weekday < 5)
        .map(|t| {
            (
                format!("{:04}{:02}{:02}", t.year, t.month, t.day),
                date_label(&t),
            )
        })
        .collect()
}

fn appointment_page(page: PageBuilder, a: &Appointment) -> PageBuilder {
    let page = page
        .field("Appointment", a.number.as_str())
        .field("Date", a.date.as_str())
        .field("Office", OFFICE)
        .field("You", a.you.as_str())
        .field("Partner", a.partner.as_str());
    let page = if a.card.is_empty() {
        page.field("Partner's ID card", "not added yet")
            .primary_button("Add a photo of your partner's ID card", "marriage-id-card")
    } else {
        page.field("Partner's ID card", "added")
            .image(media::image_url(&a.card), "Your partner's ID card")
    };
    page.text("Both partners come in person with their ID cards, household registers and three 2-inch photos together.")
}

/// `marriage-id-card`: asks the citizen for a photo of the partner's ID
/// card (the host shows its own picker) and keeps its handle with the
/// appointment; the confirmation shows the photo.
pub fn add_id_card() -> Result<PageBuilder, HostError> {
    let Some(mut a) = load()? else {
        return Ok(Page::builder("Marriage registration")
            .replace()
            .info("You have no appointment.")
            .button("Back to services", "home"));
    };
    match media::choose_image(
        Source::Either,
        "Your partner's ID card, front side, for the registry to check before you come",
    ) {
        Ok(card) => {
            if !a.card.is_empty() {
                // The photo it replaces is not needed any more.
                let _ = media::delete(&a.card);
            }
            a.card = card.id;
            save(&a)?;
            let page = Page::builder("ID card added")
                .replace()
                .success(format!("The photo of your partner's ID card is with appointment {}.", a.number));
            Ok(appointment_page(page, &a).button("Back to services", "home"))
        }
        Err(e) => {
            let why = match e {
                MediaError::Cancelled => "No photo was chosen.".to_string(),
                MediaError::TooLarge(m)
                | MediaError::WrongType(m)
                | MediaError::QuotaExceeded(m)
                | MediaError::Denied(m)
                | MediaError::NotFound(m)
                | MediaError::Unavailable(m) => format!("The photo was not added: {m}"),
            };
            let page = Page::builder("Marriage registration").replace().warning(why);
            Ok(appointment_page(page, &a)
                .danger_button("Cancel the appointment", "marriage-cancel")
                .button("Back to services", "home"))
        }
    }
}

/// `marriage`: the appointment if there is one; else the days to choose from.
pub fn page() -> Result<PageBuilder, HostError> {
    if let Some(a) = load()? {
        return Ok(appointment_page(Page::builder("Marriage registration"), &a)
            .danger_button("Cancel the appointment", "marriage-cancel")
            .button("Back to services", "home"));
    }
    let mut page = Page::builder("Marriage registration")
        .text("Book a time at the marriage registry. Choose a day:")
        .primary_button("The earliest day", "marriage-day:earliest");
    for (id, label) in days() {
        page = page.link(label, "09:00 to 17:00", format!("marriage-day:{id}"));
    }
    Ok(page.button("Back to services", "home"))
}

/// `marriage-day:<YYYYMMDD>` (or `earliest`): the partners' names for that
/// day.
pub fn form(day: &str) -> Result<Option<PageBuilder>, HostError> {
    let found = if day == "earliest" {
        days().into_iter().next()
    } else {
        days().into_iter().find(|(id, _)| id == day)
    };
    let Some((day, label)) = found else {
        return Ok(None);
    };
    let day = day.as_str();
    let mut page = Page::builder("Registration details")
        .field("Date", label.as_str())
        .field("Office", OFFICE);
    let name = page_name();
    page = match &name {
        Ok(n) => page.success(format!("Your verified name: {n}.")),
        Err(why) => page.info(format!(
            "Please type your name as on your ID card (your verified name was not shared: {why})."
        )),
    };
    // The day is picked from a calendar of the next working days; the host
    // refuses a day outside them, the registry a weekend.
    let all = days();
    let iso = |id: &str| format!("{}-{}-{}", &id[0..4], &id[4..6], &id[6..8]);
    page = page
        .input("marriage", "day", InputKind::Date, "Day")
        .value(iso(day))
        .required();
    if let (Some((first, _)), Some((last, _))) = (all.first(), all.last()) {
        page = page.min(iso(first.as_str())).max(iso(last.as_str()));
    }
    page = page.input("marriage", "name", InputKind::Text, "Your name");
    if let Ok(n) = name {
        page = page.value(n);
    }
    Ok(Some(
        page.required()
            .input("marriage", "partner", InputKind::Text, "Your partner's name (as on the ID card)")
            .required()
            .input("marriage", "partner-id", InputKind::Text, "Your partner's ID number")
            .required()
            .pattern("[0-9]{17}[0-9Xx]", "18 characters: 17 digits, then a digit or X")
            .text("Your partner's name and ID number are used only for this appointment; both of you confirm them at the registry.")
            .button("Back to services", "home"),
    ))
}

/// The citizen's verified real name, asked from the host (which asks the
/// citizen's consent the first time), or why not.
fn page_name() -> Result<String, String> {
    match identity::real_name() {
        Ok(r) if r.verified => Ok(r.name),
        Ok(_) => Err("the host has not verified your name".to_string()),
        Err(e) => Err(e.message().to_string()),
    }
}

/// Submit `marriage` (`day`, `name`, `partner`, `partner-id`): books.
pub fn book(submit: &SubmitEvent) -> Result<PageBuilder, String> {
    let get = |n: &str| submit.field(n).unwrap_or_default().trim().to_string();
    let (day, you, partner, partner_id) =
        (get("day"), get("name"), get("partner"), get("partner-id"));
    // The picker's `YYYY-MM-DD`, as the registry's `YYYYMMDD`.
    let day = day.replace('-', "");
    let Some((_, label)) = days().into_iter().find(|(id, _)| *id == day) else {
        return Err(format!(
            "The registry has no free times on {day}. Please choose another day."
        ));
    };
    if you.is_empty() || partner.is_empty() {
        return Err("Please give both partners' names.".to_string());
    }
    if partner_id.len() != 18 || !partner_id.bytes().take(17).all(|b| b.is_ascii_digit()) {
        return Err(
            "Your partner's ID number has 18 characters: 17 digits, then a digit or X.".to_string(),
        );
    }
    let a = Appointment {
        number: format!("M{day}-{:03}", crate::data::hash(&partner_id) % 1000),
        date: format!("{label} 09:30"),
        you,
        partner,
        card: String::new(),
    };
    save(&a).map_err(|e| format!("The appointment could not be kept ({e})."))?;
    let page = Page::builder("Appointment booked")
        .replace()
        .success(format!("Your appointment number is {}.", a.number));
    Ok(appointment_page(page, &a).button("Back to services", "home"))
}

/// `marriage-cancel`: cancels the appointment.
pub fn cancel() -> Result<PageBuilder, HostError> {
    let page = Page::builder("Appointment cancelled").replace();
    let page = match load()? {
        Some(a) => {
            storage::delete(KEY)?;
            if !a.card.is_empty() {
                // The partner's ID card is not kept past the appointment.
                let _ = media::delete(&a.card);
            }
            page.success(format!(
                "Appointment {} on {} is cancelled.",
                a.number, a.date
            ))
        }
        None => page.info("You have no appointment."),
    };
    Ok(page.button("Back to services", "home"))
}
