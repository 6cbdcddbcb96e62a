//! Photos and files users give mini-apps (`plaza:host/media`): the kinds the
//! host keeps, how it tells them by their content, and the question the
//! embedding app answers with the user's choice.
//!
//! The bytes are kept in the store per (user, mini-app)
//! ([`crate::store::MediaStore`]); the capability is in
//! `capabilities/media.rs`.
//!
//! ```
//! use plaza_host::media::{MediaKind, sniff};
//! assert_eq!(sniff(b"\xFF\xD8\xFF\xE0rest"), Some(MediaKind::Jpeg));
//! assert_eq!(sniff(b"%PDF-1.7\n"), Some(MediaKind::Pdf));
//! assert_eq!(sniff(b"just text, named photo.jpg"), None);
//! ```

use std::fmt;

/// The prefix of an image block's `url` that shows a media file: `media:ID`.
pub const MEDIA_PREFIX: &str = "media:";

/// The longest purpose a mini-app gives for asking, in characters.
pub const MAX_PURPOSE_CHARS: usize = 200;

/// The longest name of a file the host keeps (longer names are cut), in
/// characters.
pub const MAX_NAME_CHARS: usize = 128;

/// What a file is, as its content shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MediaKind {
    /// A JPEG image.
    Jpeg,
    /// A PNG image.
    Png,
    /// A PDF document.
    Pdf,
}

impl MediaKind {
    /// Every kind.
    pub const ALL: [MediaKind; 3] = [MediaKind::Jpeg, MediaKind::Png, MediaKind::Pdf];

    /// `jpeg`, `png` or `pdf`: the name in the store and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Jpeg => "jpeg",
            MediaKind::Png => "png",
            MediaKind::Pdf => "pdf",
        }
    }

    /// Parses [`MediaKind::as_str`].
    pub fn parse(text: &str) -> Option<MediaKind> {
        MediaKind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// Its MIME type.
    pub fn mime(self) -> &'static str {
        match self {
            MediaKind::Jpeg => "image/jpeg",
            MediaKind::Png => "image/png",
            MediaKind::Pdf => "application/pdf",
        }
    }

    /// Whether it is an image (shown in an image block).
    pub fn is_image(self) -> bool {
        matches!(self, MediaKind::Jpeg | MediaKind::Png)
    }
}

impl fmt::Display for MediaKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MediaKind::Jpeg => "JPEG",
            MediaKind::Png => "PNG",
            MediaKind::Pdf => "PDF",
        })
    }
}

/// What `bytes` are by their first bytes (JPEG `FF D8 FF`, PNG
/// `89 50 4E 47 0D 0A 1A 0A`, PDF `%PDF-`), whatever their name says.
pub fn sniff(bytes: &[u8]) -> Option<MediaKind> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(MediaKind::Jpeg)
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some(MediaKind::Png)
    } else if bytes.starts_with(b"%PDF-") {
        Some(MediaKind::Pdf)
    } else {
        None
    }
}

/// Where the user is asked to take a photo from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaSource {
    /// The camera.
    Camera,
    /// The photo album.
    Album,
    /// Either.
    Either,
    /// The user's files (`choose-file`).
    Files,
}

impl MediaSource {
    /// `camera`, `album`, `either` or `files`.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaSource::Camera => "camera",
            MediaSource::Album => "album",
            MediaSource::Either => "either",
            MediaSource::Files => "files",
        }
    }

    /// Where from, in words: `the camera`, `the photo album`, `the camera
    /// or the photo album`, `the files`.
    pub fn words(self) -> &'static str {
        match self {
            MediaSource::Camera => "the camera",
            MediaSource::Album => "the photo album",
            MediaSource::Either => "the camera or the photo album",
            MediaSource::Files => "the files",
        }
    }
}

/// A mini-app asks the user for a photo or a file: what the embedding app
/// shows beside its picker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaPrompt {
    /// The user asked.
    pub user: String,
    /// The mini-app asking.
    pub app_id: String,
    /// Its name.
    pub app_name: String,
    /// The publisher's name as the host knows it.
    pub publisher_name: String,
    /// Why, in the mini-app's words.
    pub purpose: String,
    /// Where from.
    pub source: MediaSource,
    /// The kinds the host will accept.
    pub kinds: Vec<MediaKind>,
    /// The largest file the host will keep, in bytes.
    pub max_bytes: u64,
}

impl MediaPrompt {
    /// What the picker accepts, for a browser's `accept` attribute
    /// (`image/jpeg,image/png`).
    pub fn accept(&self) -> String {
        self.kinds
            .iter()
            .map(|k| k.mime())
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// The user's answer to a [`MediaPrompt`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaAnswer {
    /// The user chose a file: its name and bytes (checked by the host).
    File {
        /// The file's name, as the user's device calls it.
        name: String,
        /// Its bytes.
        bytes: Vec<u8>,
    },
    /// The user closed the picker.
    Cancel,
}
