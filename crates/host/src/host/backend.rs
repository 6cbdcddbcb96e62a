//! The publisher API: what a mini-app's own back-end (a hospital's, a
//! bank's server) does through the host, without a user's session.
//!
//! The back-end proves who it is with its app secret and gets an access
//! token ([`Host::access_token`], two hours); [`Host::publisher_api`] turns
//! the token into a [`Publisher`] handle scoped to that one mini-app (and
//! its app id's generation, so a token of a released id's old owner reaches
//! nothing). Every call counts against the mini-app's rate limit
//! ([`HostConfig::backend_calls_per_minute`](crate::HostConfig::backend_calls_per_minute))
//! and is audited as `backend.<call>`.
//!
//! Users are named by the openid the mini-app knows them by: the host
//! remembers the openids it gave out (at each launch of the mini-app, each
//! login exchange), and an openid the mini-app was never given (another
//! mini-app's: they do not correlate) is [`Error::NotFound`].
//!
//! ```no_run
//! # async fn demo(host: plaza_host::Host, secret: &str, openid: &str) -> plaza_host::Result<()> {
//! let token = host.access_token("cn.hz.maternity", secret)?;
//! let backend = host.publisher_api(&token.access_token)?;
//! let fields = vec![("date".to_string(), "2026-12-03 09:00".to_string())];
//! backend.send_message(openid, "appointment-reminder", &fields, Some("/appointment?id=7"))?;
//! # Ok(()) }
//! ```

use super::Host;
use crate::capabilities::identity::openid;
use crate::capabilities::messaging::{
    MAX_TEXT_CHARS, MAX_TITLE_CHARS, NewBroadcast, REPLY_WINDOW_MS, check_text, month_at,
    run_broadcast, template_body,
};
use crate::error::{Error, Result};
use crate::gate::Actor;
use crate::hex;
use crate::ledger::{LineItem, Receipt};
use crate::link::Link;
use crate::manifest::Manifest;
use crate::services::notify::refund_notification;
use crate::session::Session;
use crate::store::{
    BroadcastCount, Outcome, PaymentRecord, RefundCommand, RefundNotice, RefundRecord,
    RefundResult, SendResult, Sender,
};
use plaza_world::pages::Page;
use plaza_world::types::Error as WitError;

/// How long an access token works: two hours (WeChat's `access_token`).
pub const ACCESS_TOKEN_TTL_MS: i64 = 2 * 60 * 60 * 1000;
/// The longest link a message may carry, in bytes.
pub const MAX_LINK_BYTES: usize = crate::link::MAX_TARGET_BYTES;

/// An access token for a mini-app's back-end.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AccessToken {
    /// The token, to pass to [`Host::publisher_api`] (over HTTP, as the
    /// bearer token of `/v1/publisher`).
    pub access_token: String,
    /// Seconds it works for.
    pub expires_in: u64,
}

/// A payment as the mini-app's back-end sees it: who paid (by openid), the
/// signed receipt, the bill and its refunds.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PublisherPayment {
    /// The mini-app's order id.
    pub order_id: String,
    /// The payer's openid in the mini-app; `None` for a payment made before
    /// the payer erased the mini-app's data (to the mini-app the payer is a
    /// new user since, and the old payment is not joined to the new openid).
    pub openid: Option<String>,
    /// The amount, minor units.
    pub amount: u64,
    /// The currency.
    pub currency: String,
    /// What it was for.
    pub description: String,
    /// The bill.
    pub items: Vec<LineItem>,
    /// Refunded so far, minor units.
    pub refunded: u64,
    /// The refunds, oldest first.
    pub refunds: Vec<RefundRecord>,
    /// The receipt the host signed (verify it with [`Host::public_key`]).
    pub receipt: Receipt,
}

/// Where a message leads: its mini-app, and the page's path and query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkTarget {
    /// The mini-app.
    pub app_id: String,
    /// The page's path (`/` for the home).
    pub path: String,
    /// The query parameters, decoded, in order.
    pub query: Vec<(String, String)>,
    /// The link as the message carries it, if any.
    pub link: Option<String>,
}

/// A day's money of a mini-app, for its reconciliation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DayStatement {
    /// The day, `YYYY-MM-DD` (host time zone).
    pub day: String,
    /// The payments made that day, oldest first, each with all its refunds.
    pub payments: Vec<PublisherPayment>,
    /// The refunds made that day, oldest first (of any day's payments).
    pub refunds: Vec<RefundRecord>,
}

/// A mini-app's back-end, signed in with an access token: every call is
/// scoped to that mini-app (and its app id's generation), rate limited, and
/// audited as `backend.<call>`. Get one with [`Host::publisher_api`].
#[derive(Debug, Clone)]
pub struct Publisher {
    host: Host,
    app_id: String,
    generation: u32,
}

impl Host {
    /// Exchanges a mini-app's app secret for an access token of its
    /// back-end, good for two hours ([`ACCESS_TOKEN_TTL_MS`]). Audited as
    /// `backend.token`; a wrong secret is [`Error::WrongAppSecret`], a
    /// mini-app never installed [`Error::NotInstalled`]. Resetting the
    /// secret or releasing the app id ends every token issued before.
    pub fn access_token(&self, app_id: &str, app_secret: &str) -> Result<AccessToken> {
        let s = &self.inner.services;
        self.take_backend_call(app_id, "backend.token")?;
        let secret_hash = self.check_app_secret(app_id, app_secret, "backend.token")?;
        let generation = self.app_id_generation(app_id)?;
        let expires = s.clock.now_ms() + ACCESS_TOKEN_TTL_MS;
        let nonce = hex::encode(&crate::keys::random_32()?[..12]);
        let mac = token_mac(self, app_id, generation, expires, &nonce, &secret_hash);
        self.inner.audit_host(
            "",
            app_id,
            "backend.token",
            Outcome::Allowed,
            "issued an access token for two hours",
        );
        Ok(AccessToken {
            access_token: format!("{expires}.{generation}.{nonce}.{mac}.{app_id}"),
            expires_in: (ACCESS_TOKEN_TTL_MS / 1000) as u64,
        })
    }

    /// The back-end of the mini-app `access_token` was issued to:
    /// [`Error::InvalidAccessToken`] for a token the host did not issue (or
    /// issued under a secret since reset, or before the app id was
    /// released), [`Error::AccessTokenExpired`] after two hours.
    pub fn publisher_api(&self, access_token: &str) -> Result<Publisher> {
        let mut parts = access_token.splitn(5, '.');
        let (Some(expires), Some(generation), Some(nonce), Some(mac), Some(app_id)) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(Error::InvalidAccessToken);
        };
        let (Ok(expires), Ok(generation)) = (expires.parse::<i64>(), generation.parse::<u32>())
        else {
            return Err(Error::InvalidAccessToken);
        };
        let s = &self.inner.services;
        let Some(secret_hash) = s.store.app_secret(app_id)? else {
            return Err(Error::InvalidAccessToken);
        };
        let expected = token_mac(self, app_id, generation, expires, nonce, &secret_hash);
        if !same_text(&expected, mac) || self.app_id_generation(app_id)? != generation {
            return Err(Error::InvalidAccessToken);
        }
        if s.clock.now_ms() >= expires {
            return Err(Error::AccessTokenExpired {
                app: app_id.to_string(),
                expired_at_ms: expires,
            });
        }
        Ok(Publisher {
            host: self.clone(),
            app_id: app_id.to_string(),
            generation,
        })
    }

    /// Counts one publisher-API call of `app_id`'s back-end against its
    /// rate limit; over it, audited and [`Error::BackendRateLimited`].
    fn take_backend_call(&self, app_id: &str, call: &str) -> Result<()> {
        let s = &self.inner.services;
        let limit = s.backend_calls_per_minute;
        let minute = s.clock.now_ms().div_euclid(60_000);
        if s.store
            .take_rate(&backend_rate_key(app_id), minute, limit)?
        {
            return Ok(());
        }
        self.inner.audit_host(
            "",
            app_id,
            call,
            Outcome::Denied,
            &format!("over the back-end's rate limit of {limit} calls a minute"),
        );
        Err(Error::BackendRateLimited {
            app: app_id.to_string(),
            limit,
        })
    }

    /// Opens a message of the user's inbox: marks it read and launches its
    /// mini-app at the page the message links to (its home when it carries
    /// no link). [`Error::NotFound`] if the user has no such message.
    pub async fn open_message(&self, user: &str, message_id: &str) -> Result<(Session, Page)> {
        let target = self.message_target(user, message_id)?;
        let link = Link::in_app(&target.app_id, target.link.as_deref().unwrap_or("/"))?;
        self.open_at(user, &link).await
    }

    /// Where a message of the user's inbox leads, for a client that launches
    /// the mini-app itself (the server's client API); marks it read.
    /// [`Error::NotFound`] if the user has no such message.
    pub fn message_target(&self, user: &str, message_id: &str) -> Result<LinkTarget> {
        let Some(message) = self.inner.services.store.inbox_message(user, message_id)? else {
            return Err(Error::NotFound(format!(
                "no message `{}` in {user}'s inbox",
                message_id.chars().take(64).collect::<String>()
            )));
        };
        self.mark_read(user, message_id)?;
        let link = Link::in_app(&message.app_id, message.link.as_deref().unwrap_or("/"))?;
        Ok(LinkTarget {
            query: link.query_pairs(),
            app_id: link.app_id,
            path: link.path,
            link: message.link,
        })
    }

    /// Remembers the openid `user` has in `app_id` now, so the mini-app's
    /// back-end can address the user by it; returns it.
    pub(crate) fn remember_openid(&self, user: &str, app_id: &str) -> Result<String> {
        crate::capabilities::identity::remember_openid(&self.inner.services, user, app_id)
    }
}

/// The MAC of an access token: a keyed hash of what the token says, and of
/// the app secret's hash, so a new secret ends the old tokens.
fn token_mac(
    host: &Host,
    app_id: &str,
    generation: u32,
    expires: i64,
    nonce: &str,
    secret_hash: &str,
) -> String {
    host.inner.services.keys.pseudonym(&[
        "access-token",
        app_id,
        &generation.to_string(),
        &expires.to_string(),
        nonce,
        secret_hash,
    ])
}

/// The key of a mini-app's publisher-API calls in the store's rate windows
/// ([`crate::store::MessagingStore::take_rate`]). It starts with a NUL, which
/// no app id does, so it never meets the messaging limits' keys (which
/// start with the app id).
fn backend_rate_key(app_id: &str) -> String {
    format!("\u{0}backend\u{0}{app_id}")
}

/// Compares two texts in time that does not depend on where they differ.
fn same_text(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A link inside a mini-app: a path starting with `/`, an optional
/// `?query`, at most [`MAX_LINK_BYTES`], of visible ASCII characters.
/// The same rules as the page of a `plaza://` link ([`Link::in_app`]).
pub(crate) fn check_link(link: &str) -> Result<()> {
    crate::link::check_target(link).map_err(|problem| {
        Error::InvalidRequest(format!(
            "a link is a page path inside the mini-app with an optional query, such as `/appointment?id=7`: it starts with `/`, has no spaces, `#` or `..`, and is at most {MAX_LINK_BYTES} bytes; `{}`: {problem}",
            link.chars().take(80).collect::<String>()
        ))
    })?;
    Ok(())
}

/// The host's error for a messaging rule the back-end's call broke.
fn refused(e: WitError) -> Error {
    match e {
        WitError::Denied(m) => Error::Refused(m),
        WitError::NotFound(m) => Error::NotFound(m),
        WitError::InvalidArgument(m) | WitError::LimitExceeded(m) => Error::InvalidRequest(m),
        WitError::Unavailable(m) => Error::Internal {
            message: m,
            source: None,
        },
    }
}

impl Publisher {
    /// The mini-app this back-end is.
    pub fn app_id(&self) -> &str {
        &self.app_id
    }

    /// Starts a call: counts it against the rate limit.
    fn call(&self, name: &str) -> Result<()> {
        self.host.take_backend_call(&self.app_id, name)
    }

    fn audit(&self, user: &str, call: &str, outcome: Outcome, detail: &str) {
        self.host
            .inner
            .audit_host(user, &self.app_id, call, outcome, detail);
    }

    /// The installed package's manifest, if the mini-app is installed.
    fn installed_manifest(&self) -> Result<Option<Manifest>> {
        let s = &self.host.inner.services;
        s.store
            .package_info(&self.app_id)?
            .map(|record| {
                Manifest::parse(&format!("{} (installed)", self.app_id), &record.manifest)
            })
            .transpose()
    }

    /// The installed package's manifest, and the sender its messages show.
    fn sender(&self, link: Option<&str>) -> Result<(Manifest, Sender)> {
        let s = &self.host.inner.services;
        let Some(record) = s.store.package_info(&self.app_id)? else {
            return Err(Error::NotInstalled {
                app: self.app_id.clone(),
            });
        };
        let manifest = Manifest::parse(&format!("{} (installed)", self.app_id), &record.manifest)?;
        let (_, publisher_name) =
            crate::trust::publisher_as_shown(&*s.store, &manifest, record.signature.is_some())?;
        if let Some(link) = link {
            check_link(link)?;
        }
        let sender = Sender {
            app_id: self.app_id.clone(),
            app_name: manifest.app.name.clone(),
            publisher_name,
            link: link.map(str::to_string),
        };
        Ok((manifest, sender))
    }

    /// The user an openid of this mini-app stands for; [`Error::NotFound`]
    /// for an openid it was never given (another mini-app's, or one from
    /// before the user erased its data).
    fn user_of(&self, call: &str, id: &str) -> Result<String> {
        let s = &self.host.inner.services;
        let found = s
            .store
            .openid_user(&self.app_id, self.generation, id)?
            .filter(|user| {
                // Still the user's openid: not from before an erasure.
                s.store
                    .identity_epoch(user, &self.app_id)
                    .is_ok_and(|epoch| {
                        openid(&s.keys, user, &self.app_id, self.generation, epoch) == id
                    })
            });
        found.ok_or_else(|| {
            self.audit(
                "",
                call,
                Outcome::Denied,
                "an openid this mini-app was never given",
            );
            Error::NotFound(format!(
                "no user has the openid `{}` in {}",
                id.chars().take(80).collect::<String>(),
                self.app_id
            ))
        })
    }

    /// The server-side half of login: the user's openid and unionid for a
    /// login code the mini-app got from `login` (single use, five minutes,
    /// this mini-app's only). Audited as `backend.login`.
    pub fn exchange_login_code(&self, code: &str) -> Result<crate::capabilities::LoginExchange> {
        self.call("backend.login")?;
        self.host
            .take_login_code(&self.app_id, code, "backend.login")
    }

    /// Sends a subscription message by openid: consumes one of the user's
    /// one-time acceptances of `template` (or uses a long-term one), in one
    /// transaction, so two racing calls never use one acceptance twice.
    /// `fields` are the template's, as the manifest declares them; `link` a
    /// page of the mini-app the message opens (`/path?query`). Returns the
    /// message id. [`Error::Refused`] without an acceptance left.
    pub fn send_message(
        &self,
        openid: &str,
        template: &str,
        fields: &[(String, String)],
        link: Option<&str>,
    ) -> Result<String> {
        const CALL: &str = "backend.messages";
        self.call(CALL)?;
        let user = self.user_of(CALL, openid)?;
        let (manifest, sender) = self.sender(link)?;
        let Some(t) = manifest
            .capabilities
            .messaging
            .as_ref()
            .and_then(|m| m.templates.iter().find(|t| t.id == template))
        else {
            return Err(Error::InvalidRequest(format!(
                "the manifest declares no template `{}`",
                template.chars().take(64).collect::<String>()
            )));
        };
        let body = template_body(t, fields).map_err(refused)?;
        let s = &self.host.inner.services;
        let now = s.clock.now_ms();
        let id = s.ids.next_id("msg-");
        let result = s.store.send_subscription(
            &id,
            &user,
            &sender,
            &t.id,
            &t.title,
            &body,
            &month_at(now, s.utc_offset_minutes),
            now,
        )?;
        match result {
            SendResult::Sent(id) => {
                self.audit(
                    &user,
                    CALL,
                    Outcome::Allowed,
                    &format!("sent `{}` ({id})", t.id),
                );
                Ok(id)
            }
            SendResult::NoSubscription => {
                self.audit(
                    &user,
                    CALL,
                    Outcome::Denied,
                    &format!("no remaining subscription to `{}`", t.id),
                );
                Err(Error::Refused(format!(
                    "the user has no remaining acceptance of `{}`: the mini-app asks with `subscribe` from a tap",
                    t.id
                )))
            }
        }
    }

    /// Broadcasts to the mini-app's followers: each follower gets at most
    /// the monthly quota of broadcasts from it (those over it are skipped
    /// and counted). `link` as for [`Publisher::send_message`].
    pub async fn broadcast(
        &self,
        title: &str,
        text: &str,
        link: Option<&str>,
    ) -> Result<BroadcastCount> {
        const CALL: &str = "backend.broadcasts";
        self.call(CALL)?;
        check_text("title", title, MAX_TITLE_CHARS).map_err(refused)?;
        check_text("text", text, MAX_TEXT_CHARS).map_err(refused)?;
        let (_, sender) = self.sender(link)?;
        let s = &self.host.inner.services;
        let now = s.clock.now_ms();
        let id = s.ids.next_id("bc-");
        let broadcast = NewBroadcast {
            store: s.store.clone(),
            ids: s.ids.clone(),
            id: id.clone(),
            title: title.to_string(),
            text: text.to_string(),
            month: month_at(now, s.utc_offset_minutes),
            quota: s.messaging.broadcasts_per_month,
            at_ms: now,
        };
        let count = run_broadcast(broadcast, sender).await.map_err(refused)?;
        self.audit(
            "",
            CALL,
            Outcome::Allowed,
            &format!(
                "broadcast {id}: delivered to {}, skipped {} over the monthly quota",
                count.delivered, count.skipped
            ),
        );
        Ok(count)
    }

    /// Replies to a user in the conversation, by openid: only within 48
    /// hours of the user's last message to the mini-app
    /// ([`REPLY_WINDOW_MS`]; else [`Error::Refused`]). Returns the message
    /// id.
    pub fn reply(&self, openid: &str, text: &str, link: Option<&str>) -> Result<String> {
        const CALL: &str = "backend.replies";
        self.call(CALL)?;
        check_text("reply", text, MAX_TEXT_CHARS).map_err(refused)?;
        let user = self.user_of(CALL, openid)?;
        let (manifest, sender) = self.sender(link)?;
        let s = &self.host.inner.services;
        let now = s.clock.now_ms();
        let last = s.store.last_user_message_at(&user, &self.app_id)?;
        if last.is_none_or(|t| now - t >= REPLY_WINDOW_MS) {
            self.audit(
                &user,
                CALL,
                Outcome::Denied,
                "outside the 48-hour reply window",
            );
            return Err(Error::Refused(
                "a reply is allowed only within 48 hours of the user's last message".into(),
            ));
        }
        let id = s.ids.next_id("msg-");
        s.store.deliver_message(
            &id,
            &user,
            &sender,
            "conversation",
            &format!("Reply from {}", manifest.app.name),
            text,
            &month_at(now, s.utc_offset_minutes),
            now,
        )?;
        self.audit(&user, CALL, Outcome::Allowed, &format!("replied ({id})"));
        Ok(id)
    }

    /// The payment of an order, with its refunds; [`Error::NotFound`] if
    /// the mini-app was not paid for it.
    pub fn payment(&self, order_id: &str) -> Result<PublisherPayment> {
        const CALL: &str = "backend.payments";
        self.call(CALL)?;
        let s = &self.host.inner.services;
        let Some(p) = s.store.payment(&self.app_id, self.generation, order_id)? else {
            return Err(Error::NotFound(format!(
                "{} has no payment with order id `{}`",
                self.app_id,
                order_id.chars().take(80).collect::<String>()
            )));
        };
        self.audit(
            &p.user,
            CALL,
            Outcome::Allowed,
            &format!("queried order {order_id}"),
        );
        self.payment_seen(p)
    }

    /// The openid of a payment's payer, remembered for the back-end to
    /// address the payer by; `None` for a payment made before the payer
    /// erased the mini-app's data.
    fn payer_openid(&self, p: &PaymentRecord) -> Result<Option<String>> {
        let s = &self.host.inner.services;
        let erased_at = s.store.erased_at_ms(&p.user, &self.app_id)?;
        if erased_at.is_some_and(|at| p.receipt.paid_at_ms <= at) {
            return Ok(None);
        }
        Ok(Some(crate::capabilities::identity::remember_openid(
            s,
            &p.user,
            &self.app_id,
        )?))
    }

    /// A payment as the back-end sees it.
    fn payment_seen(&self, p: PaymentRecord) -> Result<PublisherPayment> {
        let s = &self.host.inner.services;
        let openid = self.payer_openid(&p)?;
        let refunds = s
            .store
            .refunds_of(&self.app_id, self.generation, &p.receipt.order_id)?;
        Ok(PublisherPayment {
            order_id: p.receipt.order_id.clone(),
            openid,
            amount: p.receipt.amount,
            currency: p.receipt.currency.clone(),
            description: p.description,
            items: p.items,
            refunded: p.refunded,
            refunds,
            receipt: p.receipt,
        })
    }

    /// Sets one of the mini-app's own declared settings (a secret when the
    /// manifest declares it so): its next session reads the new value, as
    /// when the operator sets it ([`Host::set_setting`]). Audited as
    /// `backend.settings` and `config.set`, by name, never the value.
    pub fn set_setting(&self, name: &str, value: &str) -> Result<()> {
        const CALL: &str = "backend.settings";
        self.call(CALL)?;
        self.host.set_setting(&self.app_id, name, value, false)?;
        self.audit("", CALL, Outcome::Allowed, &format!("set `{name}`"));
        Ok(())
    }

    /// Removes the value set for one of the mini-app's settings: the next
    /// session reads the manifest's default, or `not-found`. Returns whether
    /// a value was set. Audited as `backend.settings`.
    pub fn unset_setting(&self, name: &str) -> Result<bool> {
        const CALL: &str = "backend.settings";
        self.call(CALL)?;
        let removed = self.host.unset_setting(&self.app_id, name)?;
        self.audit("", CALL, Outcome::Allowed, &format!("unset `{name}`"));
        Ok(removed)
    }

    /// A day's payments and refunds (`day` is `YYYY-MM-DD` in the host's
    /// time zone), for the publisher's reconciliation.
    pub fn statement(&self, day: &str) -> Result<DayStatement> {
        const CALL: &str = "backend.statement";
        self.call(CALL)?;
        let s = &self.host.inner.services;
        let Some(start) = crate::clock::day_start_ms(day, s.utc_offset_minutes) else {
            return Err(Error::InvalidRequest(format!(
                "`{}` is not a day: write it YYYY-MM-DD",
                day.chars().take(32).collect::<String>()
            )));
        };
        let end = start + 24 * 60 * 60 * 1000;
        let payments = s
            .store
            .payments_between(&self.app_id, self.generation, start, end)?
            .into_iter()
            .map(|p| self.payment_seen(p))
            .collect::<Result<Vec<_>>>()?;
        let refunds = s
            .store
            .refunds_between(&self.app_id, self.generation, start, end)?;
        self.audit(
            "",
            CALL,
            Outcome::Allowed,
            &format!(
                "the statement of {day}: {} payments, {} refunds",
                payments.len(),
                refunds.len()
            ),
        );
        Ok(DayStatement {
            day: day.to_string(),
            payments,
            refunds,
        })
    }

    /// Refunds part or all of an order's payment to the payer, each part
    /// back where it came from, under the same rules and limits as a
    /// refund from the mini-app's session. `refund_id` (1 to 64 letters,
    /// digits or `-_.:`) makes it idempotent: a refund retried with the
    /// same id (after a timeout, a crash) returns the first refund and
    /// moves nothing; the same id for another order or amount is
    /// [`Error::Refused`].
    pub fn refund(
        &self,
        order_id: &str,
        refund_id: &str,
        amount: u64,
        reason: &str,
    ) -> Result<RefundRecord> {
        const CALL: &str = "backend.refunds";
        self.call(CALL)?;
        crate::ledger::check_order_id(order_id).map_err(|e| Error::InvalidRequest(e.0))?;
        crate::ledger::check_refund_id(refund_id).map_err(|e| Error::InvalidRequest(e.0))?;
        if reason.chars().count() > 256 {
            return Err(Error::InvalidRequest(
                "the reason must be at most 256 characters".into(),
            ));
        }
        let s = &self.host.inner.services;
        let Some(p) = s.store.payment(&self.app_id, self.generation, order_id)? else {
            return Err(Error::NotFound(format!(
                "{} has no payment with order id `{order_id}`",
                self.app_id
            )));
        };
        let cmd = RefundCommand {
            tx_id: s.ids.next_id("tx-"),
            app_id: self.app_id.clone(),
            generation: self.generation,
            user: p.user.clone(),
            order_id: order_id.to_string(),
            amount,
            reason: reason.to_string(),
            at_ms: s.clock.now_ms(),
            refund_id: Some(refund_id.to_string()),
        };
        // The notification to the back-end, if it takes them: the payer by
        // openid, unless the payment is from before the payer erased the
        // mini-app's data.
        let manifest = self.installed_manifest()?;
        let notify = manifest
            .as_ref()
            .and_then(|m| m.capabilities.payment.as_ref())
            .and_then(|p| p.notify.as_ref());
        let openid = match notify {
            Some(_) => self.payer_openid(&p)?,
            None => None,
        };
        let currency = p.receipt.currency.clone();
        let ids = &s.ids;
        let notice = notify.map(|url| {
            move |r: &RefundRecord| {
                refund_notification(ids.next_id("ntf-"), url, r, &currency, openid.clone())
            }
        });
        let gate = &s.gate;
        let (app, user) = (self.app_id.as_str(), p.user.as_str());
        let entry = |r: &RefundRecord| {
            gate.entry(
                Actor::host(user, app),
                CALL,
                Outcome::Allowed,
                &format!(
                    "refunded {} of order {} in {} (wallet {}, insurance {}), refund id {refund_id}",
                    r.amount, r.order_id, r.tx_id, r.wallet_part, r.insurance_part
                ),
            )
        };
        let result = s.store.refund_audited(
            &cmd,
            Some(&entry),
            notice.as_ref().map(|f| f as RefundNotice<'_>),
        )?;
        match result {
            RefundResult::Refunded(r) => {
                if notice.is_some() {
                    s.payment.notifications_due.notify_one();
                }
                if let Some(hook) = &self.host.inner.after_refund_commit {
                    hook(&r);
                }
                Ok(r)
            }
            RefundResult::Repeated(r) => {
                self.audit(
                    user,
                    CALL,
                    Outcome::Allowed,
                    &format!(
                        "refund id {refund_id} retried: returned its refund {}",
                        r.tx_id
                    ),
                );
                Ok(r)
            }
            RefundResult::RefundIdConflict(first) => {
                self.audit(
                    user,
                    CALL,
                    Outcome::Denied,
                    &format!("refund id {refund_id} was used for another refund"),
                );
                Err(Error::Refused(format!(
                    "the refund id `{refund_id}` was used for a refund of {} of order `{}`: use a new refund id for a new refund",
                    first.amount, first.order_id
                )))
            }
            RefundResult::NotFound => Err(Error::NotFound(format!(
                "{} has no payment with order id `{order_id}`",
                self.app_id
            ))),
            RefundResult::TooMuch { refundable } => {
                self.audit(
                    user,
                    CALL,
                    Outcome::Denied,
                    &format!(
                        "refund of {amount} for order {order_id} over the {refundable} refundable"
                    ),
                );
                Err(Error::InvalidRequest(format!(
                    "order `{order_id}` has {refundable} left to refund; a refund must be 1 to {refundable}"
                )))
            }
        }
    }
}
