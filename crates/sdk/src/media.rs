//! Photos and files the user gives this mini-app (`plaza:host/media`;
//! manifest `[capabilities.media]`).
//!
//! Ask while handling the user's tap or form: the embedding app shows its
//! picker, and the user's choice is the consent. The host checks the file
//! by its content (JPEG, PNG or PDF), its size (5 MiB, or the manifest's
//! `max-file-bytes`) and the storage quota it shares with [`crate::storage`],
//! and keeps it for this user in this mini-app. Show an image on a page with
//! [`image_url`]; read the bytes with [`read`] to send them to the
//! mini-app's back-end.
//!
//! ```no_run
//! use plaza_sdk::media::{self, MediaError, Source};
//!
//! match media::choose_image(Source::Either, "Your partner's ID card, front side") {
//!     Ok(card) => { let _shown = media::image_url(&card.id); }
//!     Err(MediaError::Cancelled) => { /* the user closed the picker */ }
//!     Err(other) => { let _why = media::describe(&other); }
//! }
//! ```

use crate::bindings::plaza::host::media as wit;

pub use wit::{Handle, MediaError, MediaKind, Source};

/// Asks the user for a photo (JPEG or PNG) from `source`; `purpose` is
/// shown to the user.
pub fn choose_image(source: Source, purpose: &str) -> Result<Handle, MediaError> {
    wit::choose_image(source, purpose)
}

/// Asks the user for a file of one of `kinds` (any of the three when
/// empty).
pub fn choose_file(kinds: &[MediaKind], purpose: &str) -> Result<Handle, MediaError> {
    wit::choose_file(kinds, purpose)
}

/// The bytes of the file `id`.
pub fn read(id: &str) -> Result<Vec<u8>, MediaError> {
    wit::read(id)
}

/// Deletes the file `id`; whether it was there.
pub fn delete(id: &str) -> Result<bool, MediaError> {
    wit::delete(id)
}

/// The image block URL that shows the file `id`: `media:ID`.
pub fn image_url(id: &str) -> String {
    format!("media:{id}")
}

/// `<kind>: <message>` for an error, such as `too-large: ...` or
/// `cancelled`.
pub fn describe(error: &MediaError) -> String {
    match error {
        MediaError::Cancelled => "cancelled".to_string(),
        MediaError::TooLarge(m) => format!("too-large: {m}"),
        MediaError::WrongType(m) => format!("wrong-type: {m}"),
        MediaError::QuotaExceeded(m) => format!("quota-exceeded: {m}"),
        MediaError::NotFound(m) => format!("not-found: {m}"),
        MediaError::Denied(m) => format!("denied: {m}"),
        MediaError::Unavailable(m) => format!("unavailable: {m}"),
    }
}
