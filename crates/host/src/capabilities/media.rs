//! `plaza:host/media`: photos and files the user chooses for the mini-app,
//! kept per (user, mini-app) in the store.
//!
//! Asking is allowed only while the user's tap or form is handled, and goes
//! through the embedding app's prompter: the user's choice is the consent.
//! The host checks the chosen bytes by their content (the kind asked for,
//! the manifest's size cap) and keeps them within the quota the mini-app's
//! storage shares. Every choice is audited (`media`): a file kept (allowed),
//! a file refused or the picker closed (denied, with the reason).

use crate::clock::{Clock, IdSource};
use crate::gate::{DenialCause, SessionGate};
use crate::manifest::Capability;
use crate::media::{
    MAX_NAME_CHARS, MAX_PURPOSE_CHARS, MediaAnswer, MediaKind, MediaPrompt, MediaSource, sniff,
};
use crate::store::{MediaPut, MediaRecord, MediaStore, Outcome};
use plaza_world::media::{Handle, Host, MediaError, MediaKind as WitKind, Source};
use wasmtime::component::HasData;

/// The longest file id a call may name, in bytes.
pub const MAX_MEDIA_ID_BYTES: usize = 64;

/// What the media capability sees of a session: its way through the gate,
/// the store of files, the clock and the ids.
pub(crate) struct MediaView<'a> {
    pub(crate) gate: &'a mut SessionGate,
    pub(crate) store: &'a dyn MediaStore,
    pub(crate) clock: &'a dyn Clock,
    pub(crate) ids: &'a dyn IdSource,
}

/// Links `plaza:host/media` to a session's [`MediaView`].
pub(crate) struct Media;

impl HasData for Media {
    type Data<'a> = MediaView<'a>;
}

fn to_wit(kind: MediaKind) -> WitKind {
    match kind {
        MediaKind::Jpeg => WitKind::Jpeg,
        MediaKind::Png => WitKind::Png,
        MediaKind::Pdf => WitKind::Pdf,
    }
}

fn from_wit(kind: WitKind) -> MediaKind {
    match kind {
        WitKind::Jpeg => MediaKind::Jpeg,
        WitKind::Png => MediaKind::Png,
        WitKind::Pdf => MediaKind::Pdf,
    }
}

fn unavailable(e: crate::store::StoreError) -> MediaError {
    tracing::error!("media: {e}");
    MediaError::Unavailable("the host's store of files failed; try again later".into())
}

fn kinds_text(kinds: &[MediaKind]) -> String {
    kinds
        .iter()
        .map(|k| k.to_string())
        .collect::<Vec<_>>()
        .join(" or ")
}

/// A name fit to keep and show: one line, at most [`MAX_NAME_CHARS`]
/// characters, `file` when the user's file had none.
fn clean_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME_CHARS)
        .collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() {
        "file".to_string()
    } else {
        cleaned.to_string()
    }
}

impl MediaView<'_> {
    /// The capability's decision (manifest and policy), audited by the gate.
    fn allow(&mut self) -> Result<(), MediaError> {
        self.gate
            .check(Capability::Media)
            .map_err(|d| match d.cause {
                DenialCause::Refused => MediaError::Denied(d.reason),
                DenialCause::StoreFailed => MediaError::Unavailable(d.reason),
            })
    }

    /// Audits a refusal (once per event for the same reason) and gives the
    /// error back.
    fn refused(&mut self, error: MediaError) -> MediaError {
        let detail = match &error {
            MediaError::Cancelled => "the user closed the picker without choosing".to_string(),
            MediaError::TooLarge(m)
            | MediaError::WrongType(m)
            | MediaError::QuotaExceeded(m)
            | MediaError::NotFound(m)
            | MediaError::Denied(m)
            | MediaError::Unavailable(m) => m.clone(),
        };
        self.gate.refuse_once_per_event("media", &detail);
        error
    }

    /// Asks the user, checks the answer and keeps it.
    async fn choose(
        &mut self,
        source: MediaSource,
        kinds: Vec<MediaKind>,
        purpose: String,
    ) -> Result<Handle, MediaError> {
        self.allow()?;
        if let Err(d) = self.gate.require_gesture("media", "a photo or a file") {
            return Err(MediaError::Denied(d.reason));
        }
        let purpose = purpose.trim().to_string();
        let chars = purpose.chars().count();
        if chars == 0 || chars > MAX_PURPOSE_CHARS || purpose.chars().any(char::is_control) {
            return Err(self.refused(MediaError::Denied(format!(
                "the purpose shown to the user must be one line of 1 to {MAX_PURPOSE_CHARS} characters"
            ))));
        }
        let subject = self.gate.subject();
        let max_bytes = subject.manifest.media_file_cap();
        let quota = subject.manifest.media_quota();
        let prompt = MediaPrompt {
            user: subject.user.clone(),
            app_id: subject.app().to_string(),
            app_name: subject.manifest.app.name.clone(),
            publisher_name: subject.publisher_name.clone(),
            purpose,
            source,
            kinds: kinds.clone(),
            max_bytes,
        };
        let (name, bytes) = match self.gate.choose_media(&prompt).await {
            Some(MediaAnswer::File { name, bytes }) => (clean_name(&name), bytes),
            Some(MediaAnswer::Cancel) => return Err(self.refused(MediaError::Cancelled)),
            None => {
                self.gate.refuse_once_per_event(
                    "media",
                    "the user did not answer in time: the picker was closed",
                );
                return Err(MediaError::Cancelled);
            }
        };
        let size = bytes.len() as u64;
        if size > max_bytes {
            return Err(self.refused(MediaError::TooLarge(format!(
                "`{name}` is {size} bytes; this mini-app takes files of at most {max_bytes} bytes. Nothing was kept"
            ))));
        }
        let kind = match sniff(&bytes) {
            Some(k) if kinds.contains(&k) => k,
            found => {
                let what = found.map_or("not a JPEG, PNG or PDF file".to_string(), |k| {
                    format!("a {k} file")
                });
                return Err(self.refused(MediaError::WrongType(format!(
                    "`{name}` is {what} by its content; {} was asked for. Nothing was kept",
                    kinds_text(&kinds)
                ))));
            }
        };
        let subject = self.gate.subject();
        let record = MediaRecord {
            id: self.ids.next_id("m-"),
            user: subject.user.clone(),
            app: subject.app().to_string(),
            kind: kind.as_str().to_string(),
            name: name.clone(),
            size,
            created_at_ms: self.clock.now_ms(),
        };
        match self
            .store
            .media_put(&record, &bytes, quota)
            .map_err(unavailable)?
        {
            MediaPut::Stored => {}
            MediaPut::OverQuota {
                used,
                would_use,
                quota,
            } => {
                return Err(self.refused(MediaError::QuotaExceeded(format!(
                    "keeping `{name}` would use {would_use} bytes of the {quota}-byte quota this mini-app has for you ({used} in use). Nothing was kept"
                ))));
            }
        }
        if let Err(d) = self.gate.audit_use(
            "media",
            Outcome::Allowed,
            &format!(
                "the user gave `{name}` ({kind}, {size} bytes) from {}; kept as {}",
                source.words(),
                record.id
            ),
        ) {
            // Without its audit entry the file is not kept.
            let _ = self
                .store
                .media_delete(&record.user, &record.app, &record.id);
            return Err(MediaError::Unavailable(d.reason));
        }
        Ok(Handle {
            id: record.id,
            kind: to_wit(kind),
            size,
            name,
        })
    }

    fn check_id(&mut self, id: &str) -> Result<(), MediaError> {
        if id.is_empty() || id.len() > MAX_MEDIA_ID_BYTES {
            return Err(self.refused(MediaError::NotFound(format!(
                "a file id is 1 to {MAX_MEDIA_ID_BYTES} bytes"
            ))));
        }
        Ok(())
    }
}

impl Host for MediaView<'_> {
    async fn choose_image(
        &mut self,
        source: Source,
        purpose: String,
    ) -> Result<Handle, MediaError> {
        let source = match source {
            Source::Camera => MediaSource::Camera,
            Source::Album => MediaSource::Album,
            Source::Either => MediaSource::Either,
        };
        self.choose(source, vec![MediaKind::Jpeg, MediaKind::Png], purpose)
            .await
    }

    async fn choose_file(
        &mut self,
        kinds: Vec<WitKind>,
        purpose: String,
    ) -> Result<Handle, MediaError> {
        let mut asked: Vec<MediaKind> = kinds.into_iter().map(from_wit).collect();
        asked.sort();
        asked.dedup();
        if asked.is_empty() {
            asked = MediaKind::ALL.to_vec();
        }
        self.choose(MediaSource::Files, asked, purpose).await
    }

    async fn read(&mut self, id: String) -> Result<Vec<u8>, MediaError> {
        self.allow()?;
        self.check_id(&id)?;
        let subject = self.gate.subject();
        match self
            .store
            .media_get(&subject.user, subject.app(), &id)
            .map_err(unavailable)?
        {
            Some((_, bytes)) => Ok(bytes),
            None => Err(self.refused(MediaError::NotFound(format!(
                "no file `{id}` of this user in this mini-app"
            )))),
        }
    }

    async fn delete(&mut self, id: String) -> Result<bool, MediaError> {
        self.allow()?;
        self.check_id(&id)?;
        let subject = self.gate.subject();
        self.store
            .media_delete(&subject.user, subject.app(), &id)
            .map_err(unavailable)
    }
}
