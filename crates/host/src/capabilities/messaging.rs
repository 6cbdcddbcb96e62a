//! `plaza:host/messaging`: subscription messages, broadcasts to followers and
//! replies in a conversation, each landing in the user's inbox.
//!
//! Rules (WeChat's): a one-time acceptance allows one message of its template;
//! long-term acceptances only for the categories the policy allows; at most
//! [`crate::HostConfig::broadcasts_per_month`] broadcasts per follower per
//! calendar month (host time zone); a reply only while the user's last
//! message is less than 48 hours old; every call that sends or asks counts
//! against a per-mini-app rate limit; subscription requests only while handling a tap or
//! a form (a user's gesture).

use crate::clock::civil_date;
use crate::manifest::{Capability, MessageTemplate};
use crate::prompt::{OfferedTemplate, SubscriptionAnswer as Answer, SubscriptionPrompt};
use crate::session::SessionState;
use crate::store::{Outcome, SendResult, Sender};
use plaza_world::messaging::{BroadcastResult, Host, SubscriptionAnswer, SubscriptionResult};
use plaza_world::types::{Error as WitError, FieldValue};

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

impl SessionState {
    fn audit_message(&self, what: &str, outcome: Outcome, detail: &str) -> Result<(), WitError> {
        self.services
            .gate
            .audit(&self.subject, what, outcome, detail)
            .map_err(WitError::from)
    }

    fn sender(&self) -> Sender {
        Sender {
            app_id: self.subject.app().to_string(),
            app_name: self.subject.manifest.app.name.clone(),
            publisher_name: self.subject.publisher_name.clone(),
        }
    }

    fn month(&self) -> String {
        let (y, m, _) = civil_date(
            self.services.clock.now_ms(),
            self.services.utc_offset_minutes,
        );
        format!("{y:04}-{m:02}")
    }

    fn template(&self, id: &str) -> Option<&MessageTemplate> {
        self.subject
            .manifest
            .capabilities
            .messaging
            .as_ref()
            .and_then(|m| m.templates.iter().find(|t| t.id == id))
    }

    /// Counts one sending call against the mini-app's per-minute limit.
    fn take_rate(&self, what: &str) -> Result<(), WitError> {
        let limit = self.services.messaging_per_minute;
        let minute = self.services.clock.now_ms().div_euclid(60_000);
        let mut rates = self
            .services
            .message_rates
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let entry = rates
            .entry(self.subject.app().to_string())
            .or_insert((minute, 0));
        if entry.0 != minute {
            *entry = (minute, 0);
        }
        if entry.1 >= limit {
            drop(rates);
            self.audit_message(
                what,
                Outcome::Denied,
                &format!("over the rate limit of {limit} a minute"),
            )?;
            return Err(WitError::LimitExceeded(format!(
                "this mini-app sent {limit} messages this minute, its limit; nothing was sent. Try again in a minute"
            )));
        }
        entry.1 += 1;
        Ok(())
    }
}

fn check_text(what: &str, text: &str, max: usize) -> Result<(), WitError> {
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

impl Host for SessionState {
    async fn subscribe(
        &mut self,
        template_ids: Vec<String>,
    ) -> Result<Vec<SubscriptionResult>, WitError> {
        self.allow(Capability::Messaging)?;
        if !self.gesture {
            self.audit_message(
                "messaging.subscribe",
                Outcome::Denied,
                "asked outside a user's tap",
            )?;
            return Err(WitError::Denied(
                "a subscription can be asked for only while handling the user's tap or form".into(),
            ));
        }
        if template_ids.is_empty() || template_ids.len() > MAX_TEMPLATES_PER_REQUEST {
            return Err(WitError::InvalidArgument(format!(
                "ask for 1 to {MAX_TEMPLATES_PER_REQUEST} templates at a time"
            )));
        }
        let category = self.subject.manifest.publisher.category;
        let long_term_allowed = self
            .services
            .gate
            .policy()
            .long_term_subscription_categories
            .contains(&category);
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
                long_term: t.long_term && long_term_allowed,
            });
        }
        // Asking counts against the rate limit too: a mini-app cannot flood the
        // user with questions.
        self.take_rate("messaging.subscribe")?;
        let prompt = SubscriptionPrompt {
            user: self.subject.user.clone(),
            app_id: self.subject.app().to_string(),
            app_name: self.subject.manifest.app.name.clone(),
            publisher_name: self.subject.publisher_name.clone(),
            templates: offered.clone(),
        };
        let services = self.services.clone();
        self.release_lane();
        let answers = services.prompter.ask_subscription(&prompt).await;
        let mut results = Vec::new();
        for (i, t) in offered.iter().enumerate() {
            let answer = match answers.get(i).copied().unwrap_or(Answer::Reject) {
                Answer::AcceptLongTerm if t.long_term => SubscriptionAnswer::AcceptedLongTerm,
                Answer::AcceptLongTerm | Answer::AcceptOnce => SubscriptionAnswer::AcceptedOnce,
                Answer::Reject => SubscriptionAnswer::Rejected,
            };
            if answer != SubscriptionAnswer::Rejected {
                services
                    .store
                    .accept_template(
                        &self.subject.user,
                        self.subject.app(),
                        &t.id,
                        answer == SubscriptionAnswer::AcceptedLongTerm,
                        services.clock.now_ms(),
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
        self.allow(Capability::Messaging)?;
        let Some(t) = self.template(&template_id).cloned() else {
            return Err(WitError::InvalidArgument(format!(
                "the manifest declares no template `{}`",
                template_id.chars().take(64).collect::<String>()
            )));
        };
        for f in &fields {
            if !t.fields.contains(&f.name) {
                return Err(WitError::InvalidArgument(format!(
                    "template `{}` has no field `{}`; its fields are: {}",
                    t.id,
                    f.name.chars().take(64).collect::<String>(),
                    t.fields.join(", ")
                )));
            }
            check_text(&format!("field `{}`", f.name), &f.value, MAX_FIELD_CHARS)?;
        }
        let mut body = Vec::new();
        for name in &t.fields {
            let Some(f) = fields.iter().find(|f| &f.name == name) else {
                return Err(WitError::InvalidArgument(format!(
                    "template `{}` needs the field `{name}`",
                    t.id
                )));
            };
            body.push(format!("{name}: {}", f.value));
        }
        self.take_rate("messaging.send")?;
        let services = self.services.clone();
        let id = services.ids.next_id("msg-");
        let result = services
            .store
            .send_subscription(
                &id,
                &self.subject.user,
                &self.sender(),
                &t.id,
                &t.title,
                &body.join("\n"),
                &self.month(),
                services.clock.now_ms(),
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
        self.allow(Capability::Messaging)?;
        check_text("title", &title, MAX_TITLE_CHARS)?;
        check_text("text", &text, MAX_TEXT_CHARS)?;
        self.take_rate("messaging.broadcast")?;
        let services = self.services.clone();
        let id = services.ids.next_id("bc-");
        let month = self.month();
        services
            .store
            .start_broadcast(
                &id,
                &self.sender(),
                &title,
                &text,
                &month,
                services.broadcasts_per_month,
                services.clock.now_ms(),
            )
            .map_err(store_failed)?;
        let ids = services.ids.clone();
        let count = services
            .store
            .deliver_broadcast(&id, &mut || ids.next_id("msg-"))
            .map_err(store_failed)?;
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
                    count.skipped, services.broadcasts_per_month
                ),
            )?;
        }
        Ok(BroadcastResult {
            delivered: count.delivered,
            skipped: count.skipped,
        })
    }

    async fn reply(&mut self, text: String) -> Result<String, WitError> {
        self.allow(Capability::Messaging)?;
        check_text("reply", &text, MAX_TEXT_CHARS)?;
        let services = self.services.clone();
        let now = services.clock.now_ms();
        let last = services
            .store
            .last_user_message_at(&self.subject.user, self.subject.app())
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
        self.take_rate("messaging.reply")?;
        let id = services.ids.next_id("msg-");
        let title = format!("Reply from {}", self.subject.manifest.app.name);
        services
            .store
            .deliver_message(
                &id,
                &self.subject.user,
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
