//! Appointment slots and bookings, kept in the user's storage.
//!
//! Keys:
//! - `next-booking`: the number of the next booking, as decimal text;
//! - `booking:<no>`: one booking, as `name=value` lines (see [`Booking`]);
//! - `booked:<doctor>:<slot>`: marks a slot as taken; the value is the
//!   booking number.

use crate::data::{self, Doctor};
use plaza_sdk::clock::{DAY_MS, Datetime, LocalTime};
use plaza_sdk::{HostError, storage};

/// How many days ahead, from tomorrow, the doctor's page lists free times.
pub const DAYS_AHEAD: i64 = 3;

/// How many days ahead, from tomorrow, patients can book: the date picker's
/// range.
pub const BOOKING_DAYS: i64 = 14;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// One appointment time of one doctor.
#[derive(Clone)]
pub struct Slot {
    /// The doctor.
    pub doctor: &'static Doctor,
    /// The slot id, `YYYYMMDD-HHMM` in the hospital's local time.
    pub id: String,
    /// The time as shown to patients, such as `Tue 3 Nov 08:30`.
    pub label: String,
}

/// The doctor's slots of the next [`DAYS_AHEAD`] days from tomorrow, in time
/// order, without those already booked.
pub fn free_slots(doctor: &'static Doctor, now: &Datetime) -> Result<Vec<Slot>, HostError> {
    free_slots_in(doctor, now, 1..=DAYS_AHEAD)
}

/// Local midnight of today, counted like a UTC time.
fn today(now: &Datetime) -> i64 {
    let offset_ms = i64::from(now.utc_offset_minutes) * 60_000;
    (now.unix_ms + offset_ms).div_euclid(DAY_MS) * DAY_MS
}

/// The date `days` from today, `YYYY-MM-DD` in the hospital's time.
pub fn date_in(now: &Datetime, days: i64) -> String {
    let t = LocalTime::from_unix_ms(today(now) + days * DAY_MS, 0);
    format!("{:04}-{:02}-{:02}", t.year, t.month, t.day)
}

/// How many days from today `date` (`YYYY-MM-DD`) is, if it is one of the
/// next [`BOOKING_DAYS`] days from tomorrow.
pub fn booking_day(now: &Datetime, date: &str) -> Option<i64> {
    (1..=BOOKING_DAYS).find(|d| date_in(now, *d) == date)
}

/// The doctor's free slots on the day `days` from today.
pub fn free_slots_on(
    doctor: &'static Doctor,
    now: &Datetime,
    days: i64,
) -> Result<Vec<Slot>, HostError> {
    free_slots_in(doctor, now, days..=days)
}

fn free_slots_in(
    doctor: &'static Doctor,
    now: &Datetime,
    days: std::ops::RangeInclusive<i64>,
) -> Result<Vec<Slot>, HostError> {
    let prefix = format!("booked:{}:", doctor.id);
    let booked = storage::list_keys(&prefix, storage::MAX_LIST_KEYS)?;
    let today = today(now);
    let mut slots = Vec::new();
    for day in days {
        let midnight = today + day * DAY_MS;
        if !doctor.works_on(LocalTime::from_unix_ms(midnight, 0).weekday) {
            continue;
        }
        for &(hour, minute) in doctor.times {
            let start = midnight + (i64::from(hour) * 60 + i64::from(minute)) * 60_000;
            let slot = slot_at(doctor, LocalTime::from_unix_ms(start, 0));
            if !booked.iter().any(|key| key[prefix.len()..] == slot.id) {
                slots.push(slot);
            }
        }
    }
    Ok(slots)
}

/// The free slot `id` of the doctor, if it is one.
pub fn free_slot(
    doctor: &'static Doctor,
    id: &str,
    now: &Datetime,
) -> Result<Option<Slot>, HostError> {
    Ok(free_slots_in(doctor, now, 1..=BOOKING_DAYS)?
        .into_iter()
        .find(|slot| slot.id == id))
}

fn slot_at(doctor: &'static Doctor, t: LocalTime) -> Slot {
    Slot {
        doctor,
        id: format!(
            "{:04}{:02}{:02}-{:02}{:02}",
            t.year, t.month, t.day, t.hour, t.minute
        ),
        label: format!(
            "{} {} {} {:02}:{:02}",
            t.weekday_name(),
            t.day,
            MONTHS[usize::from(t.month - 1)],
            t.hour,
            t.minute
        ),
    }
}

/// A confirmed appointment.
pub struct Booking {
    /// The booking number, such as `B0001`.
    pub number: String,
    /// The doctor.
    pub doctor: &'static Doctor,
    /// The slot id.
    pub slot: String,
    /// The time as shown to patients.
    pub time: String,
    /// The patient's name.
    pub patient: String,
    /// The patient's phone number.
    pub phone: String,
}

impl Booking {
    fn key(number: &str) -> String {
        format!("booking:{number}")
    }

    fn slot_key(&self) -> String {
        format!("booked:{}:{}", self.doctor.id, self.slot)
    }

    fn encode(&self) -> String {
        [
            ("doctor", self.doctor.id),
            ("slot", &self.slot),
            ("time", &self.time),
            ("patient", &self.patient),
            ("phone", &self.phone),
        ]
        .iter()
        .map(|(name, value)| format!("{name}={}\n", one_line(value)))
        .collect()
    }

    fn decode(number: &str, text: &str) -> Option<Booking> {
        let get = |name: &str| {
            text.lines()
                .filter_map(|line| line.split_once('='))
                .find(|(n, _)| *n == name)
                .map(|(_, value)| value.to_string())
        };
        Some(Booking {
            number: number.to_string(),
            doctor: data::doctor(&get("doctor")?)?,
            slot: get("slot")?,
            time: get("time")?,
            patient: get("patient")?,
            phone: get("phone")?,
        })
    }
}

/// Text without line breaks, so that it fits one `name=value` line.
fn one_line(text: &str) -> String {
    text.replace(['\r', '\n'], " ")
}

/// Why a booking could not be made.
pub enum BookError {
    /// Someone took the slot meanwhile.
    Taken,
    /// The host refused a storage call.
    Host(HostError),
}

impl From<HostError> for BookError {
    fn from(e: HostError) -> Self {
        BookError::Host(e)
    }
}

/// Books `slot` for the patient and returns the booking.
pub fn book(slot: &Slot, patient: &str, phone: &str) -> Result<Booking, BookError> {
    let slot_key = format!("booked:{}:{}", slot.doctor.id, slot.id);
    if storage::get(&slot_key)?.is_some() {
        return Err(BookError::Taken);
    }
    let next = storage::get_string("next-booking")?
        .and_then(|n| n.trim().parse::<u32>().ok())
        .unwrap_or(1);
    let booking = Booking {
        number: format!("B{next:04}"),
        doctor: slot.doctor,
        slot: slot.id.clone(),
        time: slot.label.clone(),
        patient: one_line(patient.trim()),
        phone: one_line(phone.trim()),
    };
    storage::set_string("next-booking", &(next + 1).to_string())?;
    storage::set_string(&Booking::key(&booking.number), &booking.encode())?;
    storage::set_string(&slot_key, &booking.number)?;
    Ok(booking)
}

/// The user's bookings, oldest first.
pub fn list() -> Result<Vec<Booking>, HostError> {
    let mut bookings = Vec::new();
    for key in storage::list_keys("booking:", storage::MAX_LIST_KEYS)? {
        let number = &key["booking:".len()..];
        if let Some(booking) = find(number)? {
            bookings.push(booking);
        }
    }
    Ok(bookings)
}

/// The booking with this number, if the user has it.
pub fn find(number: &str) -> Result<Option<Booking>, HostError> {
    Ok(storage::get_string(&Booking::key(number))?.and_then(|text| Booking::decode(number, &text)))
}

/// Cancels the booking with this number, freeing its slot; returns it, or
/// `None` if the user has no such booking.
pub fn cancel(number: &str) -> Result<Option<Booking>, HostError> {
    let Some(booking) = find(number)? else {
        return Ok(None);
    };
    storage::delete(&booking.slot_key())?;
    storage::delete(&Booking::key(number))?;
    Ok(Some(booking))
}
