//! The patient's registration. At the first appointment the hospital asks
//! the host for the patient's verified real name (scope `real-name`, which
//! the host gives only to verified medical, government and finance
//! publishers, and only if the patient consents); it keeps the name in the
//! patient's storage (`patient`), so later bookings do not ask again. If the
//! host does not give it (the patient refused, or has not set it), the
//! patient types the name as before.
//!
//! At payment the hospital reads the insurance card bound in the patient's
//! host wallet (scope `insurance-card`) with [`insurance_card`].

use plaza_sdk::identity::{self, InsuranceCard};
use plaza_sdk::{HostError, InputKind, PageBuilder, storage};

/// The storage key of the registered patient: the name, then `verified`,
/// one per line (only names the host verified are kept).
const KEY: &str = "patient";

/// A registered patient.
pub struct Patient {
    /// The legal name, as the host verified it.
    pub name: String,
}

/// How the patient's name is known for a booking.
enum Registration {
    /// Registered at an earlier booking.
    Known(Patient),
    /// Just now, from the host.
    New(Patient),
    /// Not known: the patient types it. Why the host did not give it.
    Typed(String),
}

/// The registered patient, if any.
pub fn registered() -> Result<Option<Patient>, HostError> {
    Ok(storage::get_string(KEY)?.and_then(|text| {
        let (name, how) = text.split_once('\n')?;
        (how == "verified").then(|| Patient {
            name: name.to_string(),
        })
    }))
}

fn registration() -> Registration {
    match registered() {
        Ok(Some(p)) => return Registration::Known(p),
        Ok(None) => {}
        Err(e) => return Registration::Typed(e.message().to_string()),
    }
    match identity::real_name() {
        Ok(r) if r.verified => {
            // Not kept if storage fails: the next booking asks again.
            let _ = storage::set_string(KEY, &format!("{}\nverified", r.name));
            Registration::New(Patient { name: r.name })
        }
        Ok(_) => Registration::Typed("the host has not verified your name".to_string()),
        Err(e) => Registration::Typed(e.message().to_string()),
    }
}

/// Adds the `name` input of the form `patient`: filled with the registered
/// name (asking the host for it at the first booking), or empty with a note.
pub fn name_input(page: PageBuilder) -> PageBuilder {
    let input = |page: PageBuilder| page.input("patient", "name", InputKind::Text, "Patient name");
    match registration() {
        Registration::Known(p) => input(page).value(p.name).required(),
        Registration::New(p) => input(page.success(format!(
            "Registered as {}, the name verified by your host app.",
            p.name
        )))
        .value(p.name)
        .required(),
        Registration::Typed(why) => input(page.info(format!(
            "Please type the patient's name as on the ID card (your verified name was not shared: {why})."
        )))
        .required(),
    }
}

/// The insurance card bound in the patient's host wallet, if the patient lets
/// the hospital read it; `None` when refused or not bound (pay without
/// insurance then).
pub fn insurance_card() -> Result<Option<InsuranceCard>, HostError> {
    match identity::insurance_card() {
        Ok(card) => Ok(Some(card)),
        Err(HostError::Denied(_) | HostError::NotFound(_) | HostError::Unavailable(_)) => Ok(None),
        Err(e) => Err(e),
    }
}
