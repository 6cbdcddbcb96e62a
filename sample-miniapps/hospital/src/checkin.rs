//! Check-in from the QR code on a clinic's wall.
//!
//! Each clinic (a department's waiting room) shows a QR code of the link
//! `plaza://cn.hz.maternity/checkin?clinic=<department>`. Scanning it opens
//! this page: the patient's booking of today at that clinic is checked in
//! (once; the doctor's "ready" message is sent then), or the patient is
//! told there is none.
//!
//! Keys: `checked-in:<no>`, the time (`HH:MM`) the booking was checked in.

use crate::bookings::{self, Booking};
use crate::data::{self, Department};
use crate::messages;
use plaza_sdk::clock::{self, LocalTime};
use plaza_sdk::scan::{self, CodeKind, ScanError};
use plaza_sdk::{HostError, Page, PageBuilder, storage};

/// The start of the link of every clinic's check-in code.
const CHECKIN_LINK: &str = "plaza://cn.hz.maternity/checkin?clinic=";

/// Tap `scan` (on the home page): the patient scans the clinic's code with
/// the phone's scanner. The hospital's own check-in code shows its clinic,
/// to check in there (`checkin:<department>`); the host has also offered to
/// open the link, and shows the check-in page at once if the patient
/// accepted. Any other code is not one of the hospital's.
pub fn scan_code() -> Result<Option<PageBuilder>, String> {
    let code = match scan::scan_code("The QR code on the clinic's wall", &[CodeKind::Qr]) {
        Ok(code) => code,
        Err(ScanError::Cancelled) => return Ok(None),
        Err(other) => return Err(scan::describe(&other)),
    };
    let clinic = code
        .text
        .trim()
        .strip_prefix(CHECKIN_LINK)
        .and_then(|c| data::department(c.split('&').next().unwrap_or_default()));
    Ok(Some(match clinic {
        Some(dept) => Page::builder("Clinic code")
            .text(format!("This is the check-in code of {}.", dept.name))
            .primary_button("Check in", format!("checkin:{}", dept.id))
            .button("Back to departments", "home"),
        None => Page::builder("Not a check-in code")
            .error(
                "This code is not one of the hospital's check-in codes. Scan the code on the wall of your clinic's waiting room.",
            )
            .primary_button("Scan again", "scan")
            .button("Back to departments", "home"),
    }))
}

/// The page of `/checkin?clinic=<clinic>`.
pub fn check_in(clinic: &str) -> Result<PageBuilder, HostError> {
    let Some(dept) = data::department(clinic) else {
        return Ok(Page::builder("Unknown clinic")
            .error(if clinic.is_empty() {
                "This check-in code names no clinic. Please ask at the registration desk."
                    .to_string()
            } else {
                format!(
                    "The check-in code names the clinic `{}`, which this hospital does not have. Please ask at the registration desk.",
                    clinic.chars().take(40).collect::<String>()
                )
            })
            .button("Back to departments", "home"));
    };
    let now = clock::now();
    let today = LocalTime::from_unix_ms(now.unix_ms, now.utc_offset_minutes);
    let today_id = bookings::date_in(&now, 0).replace('-', "");
    let booking = bookings::list()?.into_iter().find(|b| {
        b.doctor.department == dept.id && b.slot.get(..8) == Some(today_id.as_str())
    });
    let Some(booking) = booking else {
        return Ok(no_booking(dept));
    };
    let key = format!("checked-in:{}", booking.number);
    if let Some(at) = storage::get_string(&key)? {
        return Ok(checked_in(&booking, dept)
            .info(format!("You checked in at {at}; please wait to be called.")));
    }
    let at = format!("{:02}:{:02}", today.hour, today.minute);
    storage::set_string(&key, &at)?;
    let said = messages::doctor_ready(booking.doctor.name, dept_room(dept))?;
    Ok(checked_in(&booking, dept).success(said))
}

fn checked_in(booking: &Booking, dept: &Department) -> PageBuilder {
    Page::builder("Checked in")
        .field("Clinic", dept.name)
        .field("Booking number", booking.number.as_str())
        .field("Doctor", booking.doctor.name)
        .field("Time", booking.time.as_str())
        .field("Patient", booking.patient.as_str())
        .button("Show the booking", format!("booking:{}", booking.number))
}

fn no_booking(dept: &Department) -> PageBuilder {
    Page::builder("No booking today")
        .info(format!(
            "You have no booking at {} today, so there is nothing to check in. Book a time, or ask at the registration desk.",
            dept.name
        ))
        .button(format!("Book at {}", dept.name), format!("dept:{}", dept.id))
        .button("My bookings", "bookings")
}

/// The consulting room of a clinic, for the "doctor is ready" message.
fn dept_room(dept: &Department) -> &'static str {
    match dept.id {
        "obstetrics" => "203",
        "gynaecology" => "210",
        "prenatal" => "305",
        _ => "118",
    }
}
