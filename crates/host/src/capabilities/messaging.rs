//! `plaza:host/messaging`: subscription messages, broadcasts to followers and
//! replies in a conversation, each landing in the user's inbox.
//!
//! Rules (WeChat's): a one-time acceptance allows one message of its template;
//! long-term acceptances only where the gate allows them (the policy's
//! categories); at most
//! [`crate::HostConfig::broadcasts_per_month`] broadcasts per follower per
//! calendar month (host time zone), followers over it skipped without a row
//! each, delivered on a blocking thread; a reply only while the user's last
//! message is less than 48 hours old; every call that sends or asks counts
//! against a rate limit: sends, replies and subscription requests per (user,
//! mini-app), so that one user's flood does not throttle the mini-app for
//! every other user, broadcasts per mini-app; subscription requests only
//! while handling a tap or a form (the gate's gesture rule).

use crate::clock::{Clock, IdSource, civil_date};
use crate::gate::SessionGate;
use crate::manifest::{Capability, MessageTemplate};
use crate::prompt::{OfferedTemplate, SubscriptionAnswer as Answer, SubscriptionPrompt};
use crate::services::MessagingSettings;
use crate::store::{MessagingStore, Outcome, SendResult, Sender};
use plaza_world::messaging::{BroadcastResult, Host, SubscriptionAnswer, SubscriptionResult};
use plaza_world::types::{Error as WitError, FieldValue};
use std::sync::Arc;
use wasmtime::component::HasData;

/// How long after the user's last message the mini-app may reply.
pub const REPLY_WINDOW_MS: i64 = 48 * 60 * 60 * 1000;
/// The longest message text (a broadcast's or a reply's), in characters.
pub const MAX_TEXT_CHARS: usize = 2000;
/// The longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 64;
/// The longest template field value, in characters.
pub const MAX_FIELD_CHARS: usize = 200;
/// The most templates one subscription request may ask for.
pub const MAX_TEMPLATES_PER_REQUEST: usize = 5;

fn store_failed(e: crate::store::StoreError) -> WitError {
    tracing::error!("messaging: {e}");
    WitError::Unavailable(
        "the host's message store failed; nothing was sent. Try again later".into(),
    )
}

/// What the messaging capability sees of a session: its way through the
/// gate, the message store, and its settings.
pub(crate) struct MessagingView<'a> {
    pub(crate) gate: &'a mut SessionGate,
    pub(crate) store: &'a dyn MessagingStore,
    /// The store and the id source again, owned, for a broadcast's delivery
    /// on a blocking thread.
    pub(crate) deliverer: (Arc<dyn MessagingStore>, Arc<dyn IdSource>),
    pub(crate) settings: &'a MessagingSettings,
    pub(crate) clock: &'a dyn Clock,
    pub(crate) ids: &'a dyn IdSource,
    pub(crate) utc_offset_minutes: i32,
}

/// Links `plaza:host/messaging` to a session's [`MessagingView`].
pub(crate) struct Messaging;

impl HasData for Messaging {
    type Data<'a> = MessagingView<'a>;
}

impl MessagingView<'_> {
    fn allow(&mut self) -> Result<(), WitError> {
        self.gate
            .check(Capability::Messaging)
            .map_err(WitError::from)
    }

    /// Audits a use (every one) or a refusal (each distinct one once per
    /// event).
    fn audit_message(
        &mut self,
        what: &str,
        outcome: Outcome,
        detail: &str,
    ) -> Result<(), WitError> {
        self.gate
            .audit_use(what, outcome, detail)
            .map_err(WitError::from)
    }

    fn sender(&self) -> Sender {
        let subject = self.gate.subject();
        Sender {
            app_id: subject.app().to_string(),
            app_name: subject.manifest.app.name.clone(),
            publisher_name: subject.publisher_name.clone(),
            link: None,
        }
    }

    fn month(&self) -> String {
        month_at(self.clock.now_ms(), self.utc_offset_minutes)
    }

    fn template(&self, id: &str) -> Option<&MessageTemplate> {
        self.gate
            .subject()
            .manifest
            .capabilities
            .messaging
            .as_ref()
            .and_then(|m| m.templates.iter().find(|t| t.id == id))
    }

    /// Counts one sending call against its per-minute limit: a broadcast
    /// (`per_user` false) against the mini-app's, a call for one user (a
    /// send, a reply, a subscription request) against that user's with the
    /// mini-app, so that one user cannot use up the others' allowance.
    fn take_rate(&mut self, what: &str, per_user: bool) -> Result<(), WitError> {
        let limit = self.settings.per_minute;
        let minute = self.clock.now_ms().div_euclid(60_000);
        let subject = self.gate.subject();
        let key = if per_user {
            format!("{}\u{0}{}", subject.app(), subject.user)
        } else {
            subject.app().to_string()
        };
        if !self
            .store
            .take_rate(&key, minute, limit)
            .map_err(store_failed)?
        {
            self.audit_message(
                what,
                Outcome::Denied,
                &format!("over the rate limit of {limit} a minute"),
            )?;
            return Err(WitError::LimitExceeded(format!(
                "{} {limit} messages this minute, the limit; nothing was sent. Try again in a minute",
                if per_user {
                    "this mini-app sent this user"
                } else {
                    "this mini-app broadcast"
                }
            )));
        }
        Ok(())
    }
}

/// The calendar month (host time zone) the broadcast quota counts in:
/// `YYYY-MM`.
pub(crate) fn month_at(now_ms: i64, utc_offset_minutes: i32) -> String {
    let (y, m, _) = civil_date(now_ms, utc_offset_minutes);
    format!("{y:04}-{m:02}")
}

/// A subscription message's body: the template's fields as `name: value`
/// lines, in the template's order. Every field of the template must be
/// given, no other, each 1 to [`MAX_FIELD_CHARS`] characters.
pub(crate) fn template_body(
    t: &MessageTemplate,
    fields: &[(String, String)],
) -> Result<String, WitError> {
    for (name, value) in fields {
        if !t.fields.contains(name) {
            return Err(WitError::InvalidArgument(format!(
                "template `{}` has no field `{}`; its fields are: {}",
                t.id,
                name.chars().take(64).collect::<String>(),
                t.fields.join(", ")
            )));
        }
        check_text(&format!("field `{name}`"), value, MAX_FIELD_CHARS)?;
    }
    let mut body = Vec::new();
    for name in &t.fields {
        let Some((_, value)) = fields.iter().find(|(n, _)| n == name) else {
            return Err(WitError::InvalidArgument(format!(
                "template `{}` needs the field `{name}`",
                t.id
            )));
        };
        body.push(format!("{name}: {value}"));
    }
    Ok(body.join("\n"))
}

/// What a broadcast needs besides its sender: the store and ids to deliver
/// it with, its title and text, the month and quota it counts against, when.
pub(crate) struct NewBroadcast {
    pub(crate) store: Arc<dyn MessagingStore>,
    pub(crate) ids: Arc<dyn IdSource>,
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) text: String,
    pub(crate) month: String,
    pub(crate) quota: u32,
    pub(crate) at_ms: i64,
}

/// Records a broadcast and delivers it to the followers under the quota.
/// Recording and delivering block on the disk, a write per few followers:
/// on a blocking thread, so the async workers keep running other users'
/// events meanwhile.
pub(crate) async fn run_broadcast(
    b: NewBroadcast,
    sender: Sender,
) -> Result<crate::store::BroadcastCount, WitError> {
    tokio::task::spawn_blocking(move || {
        b.store.start_broadcast(
            &b.id, &sender, &b.title, &b.text, &b.month, b.quota, b.at_ms,
        )?;
        b.store
            .deliver_broadcast(&b.id, &mut || b.ids.next_id("msg-"))
    })
    .await
    .map_err(|e| {
        tracing::error!("messaging: a broadcast's delivery failed: {e}");
        WitError::Unavailable("the host could not deliver the broadcast; try again later".into())
    })?
    .map_err(store_failed)
}

pub(crate) fn check_text(what: &str, text: &str, max: usize) -> Result<(), WitError> {
    if text.trim().is_empty() {
        return Err(WitError::InvalidArgument(format!(
            "the {what} must not be empty"
        )));
    }
    let n = text.chars().count();
    if n > max {
        return Err(WitError::LimitExceeded(format!(
            "the {what} is {n} characters; the most is {max}. Nothing was sent"
        )));
    }
    Ok(())
}

impl Host for MessagingView<'_> {
    async fn subscribe(
        &mut self,
        template_ids: Vec<String>,
    ) -> Result<Vec<SubscriptionResult>, WitError> {
        self.allow()?;
        self.gate
            .require_gesture("messaging.subscribe", "a subscription")?;
        if template_ids.is_empty() || template_ids.len() > MAX_TEMPLATES_PER_REQUEST {
            return Err(WitError::InvalidArgument(format!(
                "ask for 1 to {MAX_TEMPLATES_PER_REQUEST} templates at a time"
            )));
        }
        let mut offered = Vec::new();
        for id in &template_ids {
            let Some(t) = self.template(id) else {
                return Err(WitError::InvalidArgument(format!(
                    "the manifest declares no template `{}`",
                    id.chars().take(64).collect::<String>()
                )));
            };
            if offered.iter().any(|o: &OfferedTemplate| o.id == t.id) {
                return Err(WitError::InvalidArgument(format!(
                    "template `{id}` is asked for twice"
                )));
            }
            offered.push(OfferedTemplate {
                id: t.id.clone(),
                title: t.title.clone(),
                fields: t.fields.clone(),
                long_term: t.long_term,
            });
        }
        // Long-term only where the gate allows it for the publisher.
        if offered.iter().any(|t| t.long_term)
            && !self
                .gate
                .keeps_long_term_subscriptions()
                .map_err(WitError::from)?
        {
            for t in &mut offered {
                t.long_term = false;
            }
        }
        // Asking counts against the rate limit too: a mini-app cannot flood the
        // user with questions.
        self.take_rate("messaging.subscribe", true)?;
        let subject = self.gate.subject().clone();
        let prompt = SubscriptionPrompt {
            user: subject.user.clone(),
            app_id: subject.app().to_string(),
            app_name: subject.manifest.app.name.clone(),
            publisher_name: subject.publisher_name.clone(),
            templates: offered.clone(),
        };
        let answers = self.gate.ask_subscription(&prompt).await;
        let mut results = Vec::new();
        for (i, t) in offered.iter().enumerate() {
            let answer = match answers.get(i).copied().unwrap_or(Answer::Reject) {
                Answer::AcceptLongTerm if t.long_term => SubscriptionAnswer::AcceptedLongTerm,
                Answer::AcceptLongTerm | Answer::AcceptOnce => SubscriptionAnswer::AcceptedOnce,
                Answer::Reject => SubscriptionAnswer::Rejected,
            };
            if answer != SubscriptionAnswer::Rejected {
                self.store
                    .accept_template(
                        &subject.user,
                        subject.app(),
                        &t.id,
                        answer == SubscriptionAnswer::AcceptedLongTerm,
                        self.clock.now_ms(),
                    )
                    .map_err(store_failed)?;
            }
            let word = match answer {
                SubscriptionAnswer::AcceptedOnce => "accepted once",
                SubscriptionAnswer::AcceptedLongTerm => "accepted long-term",
                SubscriptionAnswer::Rejected => "rejected",
            };
            self.audit_message(
                &format!("messaging.subscribe.{}", t.id),
                if answer == SubscriptionAnswer::Rejected {
                    Outcome::Denied
                } else {
                    Outcome::Allowed
                },
                &format!("the user {word} the template `{}`", t.title),
            )?;
            results.push(SubscriptionResult {
                template_id: t.id.clone(),
                answer,
            });
        }
        Ok(results)
    }

    async fn send(
        &mut self,
        template_id: String,
        fields: Vec<FieldValue>,
    ) -> Result<String, WitError> {
        self.allow()?;
        let Some(t) = self.template(&template_id).cloned() else {
            return Err(WitError::InvalidArgument(format!(
                "the manifest declares no template `{}`",
                template_id.chars().take(64).collect::<String>()
            )));
        };
        let fields: Vec<(String, String)> = fields.into_iter().map(|f| (f.name, f.value)).collect();
        let body = template_body(&t, &fields)?;
        self.take_rate("messaging.send", true)?;
        let id = self.ids.next_id("msg-");
        let result = self
            .store
            .send_subscription(
                &id,
                &self.gate.subject().user,
                &self.sender(),
                &t.id,
                &t.title,
                &body,
                &self.month(),
                self.clock.now_ms(),
            )
            .map_err(store_failed)?;
        match result {
            SendResult::Sent(id) => {
                self.audit_message(
                    "messaging.send",
                    Outcome::Allowed,
                    &format!("sent `{}` ({id})", t.id),
                )?;
                Ok(id)
            }
            SendResult::NoSubscription => {
                self.audit_message(
                    "messaging.send",
                    Outcome::Denied,
                    &format!("no remaining subscription to `{}`", t.id),
                )?;
                Err(WitError::Denied(format!(
                    "the user has no remaining subscription to `{}`: ask with `subscribe` from a tap",
                    t.id
                )))
            }
        }
    }

    async fn broadcast(
        &mut self,
        title: String,
        text: String,
    ) -> Result<BroadcastResult, WitError> {
        self.allow()?;
        check_text("title", &title, MAX_TITLE_CHARS)?;
        check_text("text", &text, MAX_TEXT_CHARS)?;
        self.take_rate("messaging.broadcast", false)?;
        let id = self.ids.next_id("bc-");
        let (store, ids) = self.deliverer.clone();
        let broadcast = NewBroadcast {
            store,
            ids,
            id: id.clone(),
            title,
            text,
            month: self.month(),
            quota: self.settings.broadcasts_per_month,
            at_ms: self.clock.now_ms(),
        };
        let count = run_broadcast(broadcast, self.sender()).await?;
        self.audit_message(
            "messaging.broadcast",
            Outcome::Allowed,
            &format!(
                "broadcast {id}: delivered to {}, skipped {} over the monthly quota",
                count.delivered, count.skipped
            ),
        )?;
        if count.skipped > 0 {
            self.audit_message(
                "messaging.broadcast",
                Outcome::Denied,
                &format!(
                    "broadcast {id}: not delivered to {} followers who had their {} broadcasts from this account this month",
                    count.skipped, self.settings.broadcasts_per_month
                ),
            )?;
        }
        Ok(BroadcastResult {
            delivered: count.delivered,
            skipped: count.skipped,
        })
    }

    async fn reply(&mut self, text: String) -> Result<String, WitError> {
        self.allow()?;
        check_text("reply", &text, MAX_TEXT_CHARS)?;
        let now = self.clock.now_ms();
        let subject = self.gate.subject();
        let last = self
            .store
            .last_user_message_at(&subject.user, subject.app())
            .map_err(store_failed)?;
        match last {
            Some(t) if now - t < REPLY_WINDOW_MS => {}
            _ => {
                self.audit_message(
                    "messaging.reply",
                    Outcome::Denied,
                    "outside the 48-hour reply window",
                )?;
                return Err(WitError::Denied(
                    "a reply is allowed only within 48 hours of the user's last message".into(),
                ));
            }
        }
        self.take_rate("messaging.reply", true)?;
        let id = self.ids.next_id("msg-");
        let subject = self.gate.subject();
        let title = format!("Reply from {}", subject.manifest.app.name);
        self.store
            .deliver_message(
                &id,
                &subject.user,
                &self.sender(),
                "conversation",
                &title,
                &text,
                &self.month(),
                now,
            )
            .map_err(store_failed)?;
        self.audit_message(
            "messaging.reply",
            Outcome::Allowed,
            &format!("replied ({id})"),
        )?;
        Ok(id)
    }
}
