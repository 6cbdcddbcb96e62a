//! Hangzhou Maternity Hospital, a sample mini-app: patients book, list and cancel appointments (expects storage, log, clock and identity).
//!
//! A hospital's public account: patients pick a department, a doctor and a
//! free time in the next three days, give their name (at the first booking,
//! the verified real name from the host, if the patient consents: see
//! `patient.rs`) and phone, and get a booking number; they can list and cancel their bookings. Bookings are kept
//! in the user's storage, so they survive the session.
//!
//! Pages and the actions that lead to them:
//!
//! | event | page title | navigation |
//! |---|---|---|
//! | launch `/` (or empty), tap `home` | "Hangzhou Maternity Hospital" | push (launch), replace (`home`) |
//! | tap `dept:<id>`, launch `/dept/<id>` | the department's name, such as "Obstetrics" | push |
//! | tap `doctor:<id>` | the doctor's name, such as "Dr. Chen Li" | push |
//! | submit `day:<doctor>` (`day`, a date of the next 14 days) | "Free times" (that day's times, a section) | push |
//! | tap `slot:<doctor>:<YYYYMMDD-HHMM>`, `earliest:<doctor>` | "Confirm booking" (form `patient`) | push |
//! | submit `patient` (`name`, `phone`) | "Booking confirmed" (registered with the back office, which reminds the day before) | replace |
//! | tap `bookings`, launch `/bookings` | "My bookings" | push |
//! | tap `booking:<no>`, launch `/booking/<no>` (the reminder's link) | "Booking <no>" | push |
//! | tap `cancel:<no>` | "Booking cancelled" | replace |
//! | tap `deposit:<no>` | "Deposit" (paid by insurance / by you, payee) | replace |
//! | tap `bill:<no>` | "Consultation bill" (consultation and ultrasound insurance-eligible) | replace |
//! | tap `payments` | "Payment history" | push |
//! | tap `arrived:<no>` | "Checked in" (sends "The doctor is ready") | replace |
//! | launch `/checkin?clinic=<department>` (the QR code on the clinic's wall, `plaza://cn.hz.maternity/checkin?clinic=obstetrics`), tap `checkin:<department>` | "Checked in" for today's booking there, "No booking today" without one, "Unknown clinic" | push |
//! | tap `scan` (the phone's scanner reads the clinic's code; the host offers to open the check-in link) | "Clinic code" (check in there), "Not a check-in code"; the home page again if the scanner is closed | push |
//! | tap `chat`; a chat message | "Ask a doctor" (the exchange; the hospital replies) | push / replace |
//! | anything else | "Something went wrong" | replace |

mod backoffice;
mod bookings;
mod checkin;
mod data;
mod messages;
mod patient;
mod payments;

use bookings::{BookError, Slot};
use data::{DEPARTMENTS, Doctor, money};
use plaza_sdk::{
    App, Event, HostError, InputKind, ListItem, Page, PageBuilder, SubmitEvent, clock, log,
};

const HOSPITAL: &str = "Hangzhou Maternity Hospital";

/// The session: remembers the slot the patient is confirming.
#[derive(Default)]
struct Hospital {
    /// The slot of the "Confirm booking" page last shown.
    confirming: Option<Slot>,
}

impl App for Hospital {
    fn handle(&mut self, event: Event) -> Page {
        let page = match &event {
            Event::Launch(launch) if launch.path_or_home() == "/checkin" => {
                checkin::check_in(launch.query_param("clinic").unwrap_or_default())
                    .map_err(Problem::from)
            }
            Event::Launch(launch) => self.open(launch.path_or_home()),
            Event::Tap(action) => self.tap(action),
            Event::Submit(submit) if submit.form == "patient" => self.confirm(submit),
            Event::Submit(submit) if submit.form.starts_with("day:") => day(submit),
            Event::Submit(submit) => Err(Problem::Unknown("form", submit.form.clone())),
            Event::Chat(message) => messages::on_message(&message.text).map_err(Problem::from),
            // Resume and hide keep the user where they are.
            _ => return Page::builder(HOSPITAL).back().build(),
        };
        page.unwrap_or_else(Problem::page).build()
    }
}

/// Why an event could not be answered with the page asked for.
enum Problem {
    /// An action, form, page or id this mini-app does not know: what kind of
    /// thing, and the thing.
    Unknown(&'static str, String),
    /// Something the user should be told, such as a slot taken meanwhile.
    Message(String),
    /// The host refused a call.
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
            Problem::Host(e) => format!("The hospital could not do that ({e})"),
        };
        Page::builder("Something went wrong")
            .replace()
            .error(text)
            .button("Back to departments", "home")
    }
}

type Answer = Result<PageBuilder, Problem>;

impl Hospital {
    fn open(&mut self, path: &str) -> Answer {
        match path {
            "/" => Ok(home()),
            "/bookings" => my_bookings(),
            _ => match (path.strip_prefix("/dept/"), path.strip_prefix("/booking/")) {
                (Some(id), _) => department(id),
                (_, Some(number)) => booking(number),
                _ => Err(Problem::Unknown("page", path.to_string())),
            },
        }
    }

    fn tap(&mut self, action: &str) -> Answer {
        if action == "home" {
            return Ok(home().replace());
        }
        if action == "chat" {
            return Ok(messages::chat_page()?);
        }
        if action == "payments" {
            return Ok(payments::history()?);
        }
        if action == "bookings" {
            return my_bookings();
        }
        if action == "scan" {
            return match checkin::scan_code() {
                Ok(Some(page)) => Ok(page),
                Ok(None) => Ok(home()
                    .replace()
                    .info("No code was scanned.")),
                Err(why) => Err(Problem::Message(format!(
                    "The phone could not scan the code ({why})."
                ))),
            };
        }
        let Some((kind, arg)) = action.split_once(':') else {
            return Err(Problem::Unknown("action", action.to_string()));
        };
        match kind {
            "dept" => department(arg),
            "doctor" => doctor(arg),
            "slot" => self.slot(arg),
            "earliest" => self.earliest(arg),
            "booking" => booking(arg),
            "cancel" => cancel(arg),
            "deposit" | "bill" => pay(kind, arg),
            "arrived" => arrived(arg),
            "checkin" => Ok(checkin::check_in(arg)?),
            _ => Err(Problem::Unknown("action", action.to_string())),
        }
    }

    /// `earliest:<doctor>`: the confirmation form for the doctor's first free
    /// time.
    fn earliest(&mut self, doctor_id: &str) -> Answer {
        let doctor = data::doctor(doctor_id)
            .ok_or_else(|| Problem::Unknown("doctor", doctor_id.to_string()))?;
        match bookings::free_slots(doctor, &clock::now())?
            .into_iter()
            .next()
        {
            Some(slot) => self.slot(&format!("{}:{}", doctor.id, slot.id)),
            None => Err(Problem::Message(format!(
                "{} has no free times in the next three days.",
                doctor.name
            ))),
        }
    }

    /// `slot:<doctor>:<slot-id>`: the confirmation form.
    fn slot(&mut self, arg: &str) -> Answer {
        let unknown = || Problem::Unknown("action", format!("slot:{arg}"));
        let (doctor_id, slot_id) = arg.split_once(':').ok_or_else(unknown)?;
        let doctor = data::doctor(doctor_id).ok_or_else(unknown)?;
        let Some(slot) = bookings::free_slot(doctor, slot_id, &clock::now())? else {
            return Err(Problem::Message(format!(
                "That time with {} is no longer free. Please choose another.",
                doctor.name
            )));
        };
        let page = Page::builder("Confirm booking")
            .field("Department", doctor.department().name)
            .field("Doctor", doctor.name)
            .field("Time", slot.label.as_str())
            .field("Fee", money(doctor.fee_fen))
            .text("Pay the fee at the registration desk on the day of your visit.");
        let page = patient::name_input(page)
            .input("patient", "phone", InputKind::Phone, "Phone")
            .required();
        self.confirming = Some(slot);
        Ok(page)
    }

    /// Submit `patient`: books the slot being confirmed.
    fn confirm(&mut self, submit: &SubmitEvent) -> Answer {
        let Some(slot) = self.confirming.clone() else {
            return Err(Problem::Message(
                "Please choose a doctor and a time first.".to_string(),
            ));
        };
        let name = submit.field("name").unwrap_or_default().trim();
        let phone = submit.field("phone").unwrap_or_default().trim();
        if name.is_empty() || phone.is_empty() {
            return Ok(confirm_again(
                &slot,
                "Please give the patient's name and phone.",
            ));
        }
        let booking = match bookings::book(&slot, name, phone) {
            Ok(booking) => booking,
            Err(BookError::Taken) => {
                self.confirming = None;
                return Err(Problem::Message(format!(
                    "Sorry, {} at {} was just booked. Please choose another time.",
                    slot.doctor.name, slot.label
                )));
            }
            Err(BookError::Host(e)) => return Err(e.into()),
        };
        self.confirming = None;
        log::info(&format!(
            "booking {} confirmed: {} at {}",
            booking.number, booking.doctor.id, booking.slot
        ));
        // The deposit's order id is fixed now, so the back office knows the
        // order to refund if the clinic is cancelled.
        let deposit_order = payments::deposit_order_id(&booking.number)?;
        let reminders = messages::subscribe_while_booking(&booking, &deposit_order);
        Ok(Page::builder("Booking confirmed")
            .replace()
            .success(format!("Your booking number is {}.", booking.number))
            .info(reminders)
            .field("Booking number", booking.number.as_str())
            .field("Department", booking.doctor.department().name)
            .field("Doctor", booking.doctor.name)
            .field("Time", booking.time.as_str())
            .field("Fee", money(booking.doctor.fee_fen))
            .field("Patient", booking.patient.as_str())
            .text("Please arrive 15 minutes early and bring your ID card.")
            .primary_button(
                format!("Pay deposit {}", money(booking.doctor.fee_fen)),
                format!("deposit:{}", booking.number),
            )
            .button("My bookings", "bookings")
            .button("Back to departments", "home"))
    }
}

/// The confirmation form again, with a warning.
fn confirm_again(slot: &Slot, warning: &str) -> PageBuilder {
    let page = Page::builder("Confirm booking")
        .replace()
        .warning(warning)
        .field("Department", slot.doctor.department().name)
        .field("Doctor", slot.doctor.name)
        .field("Time", slot.label.as_str())
        .field("Fee", money(slot.doctor.fee_fen));
    patient::name_input(page)
        .input("patient", "phone", InputKind::Phone, "Phone")
        .required()
}

/// The launch page: the departments.
fn home() -> PageBuilder {
    let mut page = Page::builder(HOSPITAL).heading("Book an appointment").text(
        "Choose a department to see its doctors and their free times in the next three days.",
    );
    for dept in DEPARTMENTS {
        page = page.link(dept.name, dept.about, format!("dept:{}", dept.id));
    }
    page.button("Scan the clinic's code", "scan")
        .button("My bookings", "bookings")
        .button("Payment history", "payments")
        .button("Ask a doctor", "chat")
}

/// `dept:<id>`: the department's doctors.
fn department(id: &str) -> Answer {
    let dept =
        data::department(id).ok_or_else(|| Problem::Unknown("department", id.to_string()))?;
    let mut page = Page::builder(dept.name).text(dept.about);
    for doctor in data::doctors_of(dept.id) {
        page = page.link(
            doctor.name,
            format!(
                "{} · {} · {}",
                doctor.title,
                doctor.speciality,
                money(doctor.fee_fen)
            ),
            format!("doctor:{}", doctor.id),
        );
    }
    Ok(page)
}

/// `doctor:<id>`: the doctor and the free times.
fn doctor(id: &str) -> Answer {
    let doctor: &'static Doctor =
        data::doctor(id).ok_or_else(|| Problem::Unknown("doctor", id.to_string()))?;
    let slots = bookings::free_slots(doctor, &clock::now())?;
    let mut page = Page::builder(doctor.name)
        .field("Department", doctor.department().name)
        .field("Title", doctor.title)
        .field("Speciality", doctor.speciality)
        .field("Fee", money(doctor.fee_fen))
        .heading("Free times");
    if slots.is_empty() {
        page = page.text("No free times in the next three days.");
    } else {
        page = page.primary_button(
            "Book the earliest free time",
            format!("earliest:{}", doctor.id),
        );
    }
    for slot in slots {
        page = page.link(
            slot.label,
            money(doctor.fee_fen),
            format!("slot:{}:{}", doctor.id, slot.id),
        );
    }
    // Any day of the next two weeks, from a date picker the host bounds.
    let now = clock::now();
    Ok(page
        .heading("Another day")
        .input(format!("day:{}", doctor.id), "day", InputKind::Date, "Day")
        .required()
        .value(bookings::date_in(&now, 1))
        .min(bookings::date_in(&now, 1))
        .max(bookings::date_in(&now, bookings::BOOKING_DAYS)))
}

/// Submit `day:<doctor>`: the doctor's free times on the day picked.
fn day(submit: &SubmitEvent) -> Answer {
    let doctor_id = submit.form.strip_prefix("day:").unwrap_or_default();
    let doctor: &'static Doctor =
        data::doctor(doctor_id).ok_or_else(|| Problem::Unknown("doctor", doctor_id.to_string()))?;
    let date = submit.field("day").unwrap_or_default();
    let now = clock::now();
    let Some(days) = bookings::booking_day(&now, date) else {
        return Err(Problem::Message(format!(
            "{date} is not one of the next {} days.",
            bookings::BOOKING_DAYS
        )));
    };
    let slots = bookings::free_slots_on(doctor, &now, days)?;
    let page = Page::builder("Free times")
        .field("Doctor", doctor.name)
        .field("Fee", money(doctor.fee_fen));
    if slots.is_empty() {
        return Ok(page.info(format!("{} has no free times on {date}.", doctor.name)));
    }
    let heading = slots[0]
        .label
        .rsplit_once(' ')
        .map_or(date.to_string(), |(d, _)| d.to_string());
    let items: Vec<ListItem> = slots
        .iter()
        .map(|slot| {
            ListItem::new(slot.label.rsplit(' ').next().unwrap_or_default())
                .trailing(money(doctor.fee_fen))
                .action(format!("slot:{}:{}", doctor.id, slot.id))
        })
        .collect();
    Ok(page.section(heading, items))
}

/// `bookings`: the user's bookings.
fn my_bookings() -> Answer {
    let bookings = bookings::list()?;
    let mut page = Page::builder("My bookings");
    if bookings.is_empty() {
        page = page.text("You have no bookings yet.");
    }
    for booking in bookings {
        page = page.link(
            format!("{} · {}", booking.number, booking.doctor.name),
            format!("{}, {}", booking.doctor.department().name, booking.time),
            format!("booking:{}", booking.number),
        );
    }
    Ok(page.button("Back to departments", "home"))
}

/// `booking:<no>`: one booking, with a way to cancel it.
fn booking(number: &str) -> Answer {
    let booking = bookings::find(number)?
        .ok_or_else(|| Problem::Message(format!("You have no booking {number}.")))?;
    Ok(Page::builder(format!("Booking {}", booking.number))
        .field("Booking number", booking.number.as_str())
        .field("Department", booking.doctor.department().name)
        .field("Doctor", booking.doctor.name)
        .field("Time", booking.time.as_str())
        .field("Fee", money(booking.doctor.fee_fen))
        .field("Patient", booking.patient.as_str())
        .field("Phone", booking.phone.as_str())
        .field(
            "Deposit",
            if payments::deposit_paid(&booking.number)? {
                "paid"
            } else {
                "not paid"
            },
        )
        .button(
            format!("Pay deposit {}", money(booking.doctor.fee_fen)),
            format!("deposit:{}", booking.number),
        )
        .button("Pay consultation bill", format!("bill:{}", booking.number))
        .button("I have arrived", format!("arrived:{}", booking.number))
        .danger_button("Cancel booking", format!("cancel:{}", booking.number)))
}

/// `arrived:<no>`: the patient checked in at the hospital.
fn arrived(number: &str) -> Answer {
    let booking = bookings::find(number)?
        .ok_or_else(|| Problem::Message(format!("You have no booking {number}.")))?;
    let said = messages::doctor_ready(booking.doctor.name, "203")?;
    Ok(Page::builder("Checked in")
        .replace()
        .success(said)
        .button("Back to the booking", format!("booking:{number}")))
}

/// `deposit:<no>`, `bill:<no>`: pays for a booking.
fn pay(kind: &str, number: &str) -> Answer {
    let booking = bookings::find(number)?
        .ok_or_else(|| Problem::Message(format!("You have no booking {number}.")))?;
    let (fee, doctor) = (booking.doctor.fee_fen, booking.doctor.name);
    Ok(if kind == "deposit" {
        payments::pay_deposit(number, fee, doctor)?
    } else {
        payments::pay_bill(number, fee, doctor)?
    })
}

/// `cancel:<no>`: cancels a booking.
fn cancel(number: &str) -> Answer {
    let refunded = payments::refund_deposit(number)?;
    let booking = bookings::cancel(number)?
        .ok_or_else(|| Problem::Message(format!("You have no booking {number}.")))?;
    log::info(&format!("booking {} cancelled", booking.number));
    // The back office forgets it (no reminder); it may not know it (the
    // patient declined reminders), which is fine.
    if let Err(e) = backoffice::register("/hospital/cancellations", &[("number", number)]) {
        log::warn(&format!(
            "booking {number}: the back office was not told: {e}"
        ));
    }
    let mut page = Page::builder("Booking cancelled")
        .replace()
        .success(format!(
            "Booking {} with {} at {} is cancelled.",
            booking.number, booking.doctor.name, booking.time
        ));
    if let Some(refund) = refunded {
        page = page.info(refund);
    }
    Ok(page
        .button("My bookings", "bookings")
        .button("Back to departments", "home"))
}

plaza_sdk::export_app!(Hospital);
