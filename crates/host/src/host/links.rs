//! Opening a mini-app at a page from a link ([`crate::link`]): a QR code on a
//! clinic's wall, a link shared in a chat, a message's link.

use super::Host;
use crate::error::Result;
use crate::link::{Link, LinkBase};
use crate::session::Session;
use crate::store::Outcome;
use plaza_world::pages::Page;

impl Host {
    /// The operator's `https` form of links
    /// ([`HostConfig::link_base`](crate::HostConfig::link_base)), if any.
    pub fn link_base(&self) -> Option<&LinkBase> {
        self.inner.link_base.as_ref()
    }

    /// Parses a link in either form ([`Link::parse`], with this host's
    /// `https` base): [`Error::MalformedLink`] says what is wrong.
    pub fn parse_link(&self, link: &str) -> Result<Link> {
        Ok(Link::parse(link, self.link_base())?)
    }

    /// Where a link leads for `user`, for a client that launches the
    /// mini-app itself (the server's client API): the link parsed, its
    /// mini-app installed. Audited as `link.open` (allowed with the page, or
    /// denied with why). [`Error::MalformedLink`] for a malformed link,
    /// [`Error::NotInstalled`] naming the app id for a mini-app that is not
    /// installed.
    pub fn link_target(&self, user: &str, link: &str) -> Result<Link> {
        super::check_user(user)?;
        let parsed = match self.parse_link(link) {
            Ok(l) => l,
            Err(e) => {
                self.inner
                    .audit_host(user, "", "link.open", Outcome::Denied, &e.to_string());
                return Err(e);
            }
        };
        self.installed_target(user, parsed)
    }

    /// That the mini-app of `parsed` is installed, audited as `link.open`
    /// as [`Host::link_target`].
    fn installed_target(&self, user: &str, parsed: Link) -> Result<Link> {
        if let Err(e) = self.session(user, &parsed.app_id) {
            self.inner.audit_host(
                user,
                &parsed.app_id,
                "link.open",
                Outcome::Denied,
                &format!("{parsed}: {e}"),
            );
            return Err(e);
        }
        self.inner.audit_host(
            user,
            &parsed.app_id,
            "link.open",
            Outcome::Allowed,
            &format!("opened {}", parsed.target()),
        );
        Ok(parsed)
    }

    /// Opens a link for `user`: `plaza://APP-ID/PATH?QUERY`, or its `https`
    /// form under [`Host::link_base`]. The user's session of the mini-app
    /// (started now, or the one already running) is launched at the link's
    /// page, the query in the launch event, with the user's locale as last
    /// set. Returns the session and the page it shows; errors as
    /// [`Host::link_target`].
    pub async fn open_link(&self, user: &str, link: &str) -> Result<(Session, Page)> {
        let link = self.link_target(user, link)?;
        self.open_at(user, &link).await
    }

    /// [`Host::open_link`] for a user whose locale is `locale` (a BCP 47
    /// tag, empty when unknown), as [`Session::launch_in`].
    pub async fn open_link_in(
        &self,
        user: &str,
        link: &str,
        locale: &str,
    ) -> Result<(Session, Page)> {
        let link = self.link_target(user, link)?;
        let session = self.session(user, &link.app_id)?;
        let page = session.launch_in(&link.target(), locale).await?;
        Ok((session, page))
    }

    /// Opens the Plaza link the user chose to open while `from`'s last event
    /// was handled (a code its mini-app scanned with `plaza:host/scan`, the
    /// user accepting the host's offer to open it), if any: as
    /// [`Host::open_link`], audited `link.open`, with the user's locale as
    /// `from` last had it. Returns the link, the session it opened and the
    /// page to show instead of the event's. Embedding apps call it after
    /// each tap and form; `Ok(None)` when there is nothing to open.
    pub async fn follow_link(&self, from: &Session) -> Result<Option<(Link, Session, Page)>> {
        let Some(link) = from.take_link().await else {
            return Ok(None);
        };
        let link = self.installed_target(from.user(), link)?;
        let session = self.session(from.user(), &link.app_id)?;
        let page = if session.app_id() == from.app_id() {
            session.launch(&link.target()).await?
        } else {
            session
                .launch_in(&link.target(), &from.locale().await)
                .await?
        };
        Ok(Some((link, session, page)))
    }

    /// Launches the user's session of the link's mini-app at its page.
    pub(crate) async fn open_at(&self, user: &str, link: &Link) -> Result<(Session, Page)> {
        let session = self.session(user, &link.app_id)?;
        let page = session.launch(&link.target()).await?;
        Ok((session, page))
    }
}
