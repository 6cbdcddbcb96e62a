//! `plaza:host/scan`: codes the user scans for the mini-app with the
//! embedding app's scanner.
//!
//! Asking is allowed only while the user's tap or form is handled, and goes
//! through the embedding app's prompter: the user points the camera at a
//! code, or closes the scanner. When the text is a Plaza link to an
//! installed mini-app, the host offers the user to open it; an accepted
//! link opens once the event's page is done ([`crate::Host::follow_link`]).
//! The mini-app gets the text either way. Every scan is audited (`scan`):
//! the kind and length of what was read (never the text), the scanner
//! closed, a refusal, and the user's answer to an offer.

use crate::gate::{DenialCause, SessionGate};
use crate::link::{Link, LinkBase};
use crate::manifest::{Capability, Manifest};
use crate::scan::{
    CodeKind, LinkOffer, MAX_PURPOSE_CHARS, MAX_SCAN_TEXT_BYTES, ScanAnswer, ScanPrompt,
};
use crate::store::{Outcome, Store};
use plaza_world::scan::{CodeKind as WitKind, Host, ScanError, Scanned};
use wasmtime::component::HasData;

/// What the scan capability sees of a session: its way through the gate,
/// the store (which mini-apps are installed) and the operator's `https`
/// form of links.
pub(crate) struct ScanView<'a> {
    pub(crate) gate: &'a mut SessionGate,
    pub(crate) store: &'a dyn Store,
    pub(crate) link_base: Option<&'a LinkBase>,
}

/// Links `plaza:host/scan` to a session's [`ScanView`].
pub(crate) struct Scan;

impl HasData for Scan {
    type Data<'a> = ScanView<'a>;
}

fn to_wit(kind: CodeKind) -> WitKind {
    match kind {
        CodeKind::Qr => WitKind::Qr,
        CodeKind::Barcode => WitKind::Barcode,
    }
}

fn from_wit(kind: WitKind) -> CodeKind {
    match kind {
        WitKind::Qr => CodeKind::Qr,
        WitKind::Barcode => CodeKind::Barcode,
    }
}

fn words(kind: CodeKind) -> &'static str {
    match kind {
        CodeKind::Qr => "a QR code",
        CodeKind::Barcode => "a barcode",
    }
}

impl ScanView<'_> {
    /// Audits a refusal (once per event for the same reason) and gives the
    /// error back.
    fn refused(&mut self, error: ScanError) -> ScanError {
        let detail = match &error {
            ScanError::Cancelled => "the user closed the scanner without scanning".to_string(),
            ScanError::Denied(m) | ScanError::Unavailable(m) => m.clone(),
        };
        self.gate.refuse_once_per_event("scan", &detail);
        error
    }

    /// The offer to open `text`, if it is a Plaza link to an installed
    /// mini-app.
    fn offer_for(&self, text: &str) -> Option<(Link, LinkOffer)> {
        let link = Link::parse(text, self.link_base).ok()?;
        let record = match self.store.package_info(&link.app_id) {
            Ok(Some(r)) => r,
            Ok(None) => return None,
            Err(e) => {
                tracing::error!("scan: looking up the scanned link's mini-app: {e}");
                return None;
            }
        };
        let target_app_name = Manifest::parse(&link.app_id, &record.manifest)
            .map(|m| m.app.name)
            .unwrap_or_else(|_| link.app_id.clone());
        let subject = self.gate.subject();
        let offer = LinkOffer {
            user: subject.user.clone(),
            app_id: subject.app().to_string(),
            app_name: subject.manifest.app.name.clone(),
            link: link.to_string(),
            target_app_id: link.app_id.clone(),
            target_app_name,
            target: link.target(),
        };
        Some((link, offer))
    }

    /// Offers the user to open a scanned Plaza link; the answer is audited
    /// and an accepted link noted for after the event.
    async fn offer(&mut self, link: Link, offer: LinkOffer) {
        let answer = self.gate.offer_link(&offer).await;
        let place = format!("{} {}", offer.target_app_id, offer.target);
        match answer {
            Some(true) => {
                let detail = format!("the user chose to open the scanned link to {place}");
                if let Err(d) = self.gate.audit_use("scan", Outcome::Allowed, &detail) {
                    // Without its audit entry the link does not open.
                    tracing::error!("scan: {}", d.reason);
                    return;
                }
                self.gate.accept_link(link);
            }
            Some(false) => self.gate.refuse_once_per_event(
                "scan",
                &format!("the user did not open the scanned link to {place}"),
            ),
            None => self.gate.refuse_once_per_event(
                "scan",
                &format!(
                    "the user did not answer the offer to open the scanned link to {place} in time"
                ),
            ),
        }
    }
}

impl Host for ScanView<'_> {
    async fn scan_code(
        &mut self,
        purpose: String,
        kinds: Vec<WitKind>,
    ) -> Result<Scanned, ScanError> {
        self.gate
            .check(Capability::Scan)
            .map_err(|d| match d.cause {
                DenialCause::Refused => ScanError::Denied(d.reason),
                DenialCause::StoreFailed => ScanError::Unavailable(d.reason),
            })?;
        if let Err(d) = self.gate.require_gesture("scan", "a scan") {
            return Err(ScanError::Denied(d.reason));
        }
        let purpose = purpose.trim().to_string();
        let chars = purpose.chars().count();
        if chars == 0 || chars > MAX_PURPOSE_CHARS || purpose.chars().any(char::is_control) {
            return Err(self.refused(ScanError::Denied(format!(
                "the purpose shown to the user must be one line of 1 to {MAX_PURPOSE_CHARS} characters"
            ))));
        }
        let mut asked: Vec<CodeKind> = kinds.into_iter().map(from_wit).collect();
        asked.sort();
        asked.dedup();
        if asked.is_empty() {
            asked = CodeKind::ALL.to_vec();
        }
        let subject = self.gate.subject();
        let prompt = ScanPrompt {
            user: subject.user.clone(),
            app_id: subject.app().to_string(),
            app_name: subject.manifest.app.name.clone(),
            publisher_name: subject.publisher_name.clone(),
            purpose,
            kinds: asked.clone(),
        };
        let (text, kind) = match self.gate.scan_code(&prompt).await {
            Some(ScanAnswer::Code { text, kind }) => (text, kind),
            Some(ScanAnswer::Cancel) => return Err(self.refused(ScanError::Cancelled)),
            None => {
                self.gate.refuse_once_per_event(
                    "scan",
                    "the user did not scan in time: the scanner was closed",
                );
                return Err(ScanError::Cancelled);
            }
        };
        if text.len() > MAX_SCAN_TEXT_BYTES {
            return Err(self.refused(ScanError::Unavailable(format!(
                "the scanner read {} bytes; a scan gives at most {MAX_SCAN_TEXT_BYTES}",
                text.len()
            ))));
        }
        if !asked.contains(&kind) {
            let wanted: Vec<&str> = asked.iter().map(|k| words(*k)).collect();
            return Err(self.refused(ScanError::Unavailable(format!(
                "the scanner read {}; {} was asked for",
                words(kind),
                wanted.join(" or ")
            ))));
        }
        if let Err(d) = self.gate.audit_use(
            "scan",
            Outcome::Allowed,
            &format!(
                "the user scanned {} ({} bytes of text)",
                words(kind),
                text.len()
            ),
        ) {
            // Without its audit entry the text is not given.
            return Err(ScanError::Unavailable(d.reason));
        }
        if let Some((link, offer)) = self.offer_for(&text) {
            self.offer(link, offer).await;
        }
        Ok(Scanned {
            text,
            kind: to_wit(kind),
        })
    }
}
