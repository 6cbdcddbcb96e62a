//! The host's questions as prompts that travel to the phone and back.
//!
//! [`PromptHub`] is the server's [`Prompter`]: a consent, payment or
//! subscription question becomes a pending prompt with an unguessable id,
//! owned by the user it asks; the mini-app's host call waits on it without
//! holding a thread, until the user's phone answers it
//! (`POST /v1/prompts/{id}`) or the host gives up (its payment and prompt
//! timeouts drop the waiting future: the payment is `timed-out`, consent
//! dismissed, templates rejected). The session the question belongs to is
//! woken ([`crate::sessions`]), so the request waiting on the event answers
//! with the prompt at once.
//!
//! A prompt is answered at most once: a second answer, or one after the
//! timeout, is refused (`409`) and moves nothing. While the server shuts
//! down, every question is declined at once.

use crate::sessions::SessionTable;
use plaza_host::ledger::format_money;
use plaza_host::prompt::{
    BoxFuture, CodeKind, ConsentAnswer, ConsentRequest, LinkOffer, MediaAnswer, MediaPrompt,
    PaymentAnswer, PaymentPrompt, Prompter, ScanAnswer, ScanPrompt, SubscriptionAnswer,
    SubscriptionPrompt,
};
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;

/// How many closed prompts are remembered (to answer a late or second
/// answer with 409 rather than 404).
const CLOSED_KEPT: usize = 100_000;

/// What a prompt asks about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A payment to confirm.
    Payment,
    /// A consent scope.
    Consent,
    /// Message templates to accept.
    Subscription,
    /// A photo or file to choose (answered by uploading it).
    Media,
    /// A code to scan.
    Scan,
    /// An offer to open a Plaza link a scan read.
    Link,
}

impl Kind {
    /// Its name in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Payment => "payment",
            Kind::Consent => "consent",
            Kind::Subscription => "subscription",
            Kind::Media => "media",
            Kind::Scan => "scan",
            Kind::Link => "link",
        }
    }

    /// The answers it takes.
    pub fn answers(self) -> &'static str {
        match self {
            Kind::Payment => "confirm, decline or dismiss",
            Kind::Consent => "allow, deny or dismiss",
            Kind::Subscription => {
                "accept, accept-long-term or reject (or a list, one per template)"
            }
            Kind::Media => "the file's bytes uploaded to the prompt's `upload` URL, or cancel",
            Kind::Scan => {
                "{\"text\": the code's text, \"kind\": \"qr\" (the default) or \"barcode\"}, or cancel"
            }
            Kind::Link => "open or stay",
        }
    }
}

/// A user's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// To a consent question.
    Consent(ConsentAnswer),
    /// To a payment confirmation.
    Payment(PaymentAnswer),
    /// To a subscription request, one per template (one for all).
    Subscription(Vec<SubscriptionAnswer>),
    /// To a photo or file prompt: the file, or cancelled.
    Media(MediaAnswer),
    /// To a scan: the code, or cancelled.
    Scan(ScanAnswer),
    /// To an offer to open a scanned link: whether to open it.
    Link(bool),
}

impl Answer {
    /// Reads an answer for a prompt of `kind`: a word, or for a subscription
    /// a list of words, one per template.
    pub fn parse(kind: Kind, value: &Value) -> Result<Answer, String> {
        let word = |v: &Value| v.as_str().map(str::to_string).unwrap_or_default();
        let template = |w: &str| match w {
            "accept" => Ok(SubscriptionAnswer::AcceptOnce),
            "accept-long-term" => Ok(SubscriptionAnswer::AcceptLongTerm),
            "reject" => Ok(SubscriptionAnswer::Reject),
            other => Err(other.to_string()),
        };
        let answer = match (kind, value) {
            (Kind::Payment, Value::String(w)) => match w.as_str() {
                "confirm" => Some(Answer::Payment(PaymentAnswer::Confirm)),
                "decline" => Some(Answer::Payment(PaymentAnswer::Decline)),
                "dismiss" => Some(Answer::Payment(PaymentAnswer::Cancel)),
                _ => None,
            },
            (Kind::Consent, Value::String(w)) => match w.as_str() {
                "allow" => Some(Answer::Consent(ConsentAnswer::Allow)),
                "deny" => Some(Answer::Consent(ConsentAnswer::Deny)),
                "dismiss" => Some(Answer::Consent(ConsentAnswer::Dismiss)),
                _ => None,
            },
            (Kind::Subscription, Value::String(w)) => {
                template(w).ok().map(|a| Answer::Subscription(vec![a]))
            }
            (Kind::Media, Value::String(w)) if w == "cancel" || w == "dismiss" => {
                Some(Answer::Media(MediaAnswer::Cancel))
            }
            (Kind::Scan, Value::String(w)) if w == "cancel" || w == "dismiss" => {
                Some(Answer::Scan(ScanAnswer::Cancel))
            }
            (Kind::Scan, Value::Object(o)) => {
                let kind = match o.get("kind") {
                    None => Some(CodeKind::Qr),
                    Some(Value::String(k)) => CodeKind::parse(k),
                    Some(_) => None,
                };
                let text = o.get("text").and_then(Value::as_str);
                let known = o.keys().all(|k| k == "text" || k == "kind");
                match (text, kind) {
                    (Some(text), Some(kind)) if known && !text.is_empty() => {
                        Some(Answer::Scan(ScanAnswer::Code {
                            text: text.to_string(),
                            kind,
                        }))
                    }
                    _ => None,
                }
            }
            (Kind::Link, Value::String(w)) => match w.as_str() {
                "open" => Some(Answer::Link(true)),
                "stay" | "dismiss" => Some(Answer::Link(false)),
                _ => None,
            },
            (Kind::Subscription, Value::Array(list)) => list
                .iter()
                .map(|v| template(&word(v)))
                .collect::<Result<Vec<_>, _>>()
                .ok()
                .map(Answer::Subscription),
            _ => None,
        };
        answer.ok_or_else(|| {
            format!(
                "{value} is no answer to a {} prompt: {}",
                kind.name(),
                kind.answers()
            )
        })
    }
}

struct Pending {
    user: String,
    app_id: String,
    kind: Kind,
    view: Value,
    reply: oneshot::Sender<Answer>,
}

/// How a prompt closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    /// The user answered it.
    Answered,
    /// The host stopped waiting (timeout, or the server shut down).
    TimedOut,
}

#[derive(Default)]
struct State {
    pending: HashMap<String, Pending>,
    /// Oldest first per arrival.
    order: Vec<String>,
    closed: HashMap<String, (String, Closed)>,
    closed_order: VecDeque<String>,
}

impl State {
    fn close(&mut self, id: &str, how: Closed) -> Option<Pending> {
        let p = self.pending.remove(id)?;
        self.order.retain(|o| o != id);
        self.closed.insert(id.to_string(), (p.user.clone(), how));
        self.closed_order.push_back(id.to_string());
        while self.closed_order.len() > CLOSED_KEPT {
            if let Some(old) = self.closed_order.pop_front() {
                self.closed.remove(&old);
            }
        }
        Some(p)
    }
}

/// Why an answer was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    /// No prompt of this user has this id.
    #[error("no prompt {0} of yours")]
    NotFound(String),
    /// It was answered before.
    #[error("prompt {0} was answered already; nothing was changed")]
    AlreadyAnswered(String),
    /// The host stopped waiting for it.
    #[error("prompt {0} timed out before the answer; nothing was changed")]
    TimedOut(String),
    /// The answer does not fit the prompt.
    #[error("{0}")]
    Mismatch(String),
}

/// Counters of the prompts, for `/metrics`.
#[derive(Debug, Default)]
pub struct PromptCounts {
    /// Raised, by kind (payment, consent, subscription).
    pub raised: [AtomicU64; 3],
    /// Answered by the user.
    pub answered: AtomicU64,
    /// Closed without an answer.
    pub timed_out: AtomicU64,
    /// Payments confirmed by the user.
    pub payments_confirmed: AtomicU64,
    /// Photo and file prompts raised.
    pub media_raised: AtomicU64,
    /// Scans raised.
    pub scan_raised: AtomicU64,
    /// Offers to open a scanned link raised.
    pub link_raised: AtomicU64,
}

/// The server's prompter; cheap to clone.
#[derive(Clone)]
pub struct PromptHub {
    state: Arc<Mutex<State>>,
    sessions: Arc<SessionTable>,
    timeout: Duration,
    closing: Arc<AtomicBool>,
    /// Counters for `/metrics`.
    pub counts: Arc<PromptCounts>,
}

/// Closes a pending prompt as timed out when the waiting future ends
/// without an answer, however it ends.
struct Guard<'a> {
    hub: &'a PromptHub,
    id: String,
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        let closed = self.hub.lock().close(&self.id, Closed::TimedOut);
        if let Some(p) = closed {
            self.hub.counts.timed_out.fetch_add(1, Ordering::Relaxed);
            self.hub.sessions.wake(&p.user, &p.app_id);
        }
    }
}

impl PromptHub {
    /// A hub whose prompts say they wait `timeout` (the host's timeouts,
    /// set to the same, do the waiting), waking sessions of `sessions`.
    pub fn new(sessions: Arc<SessionTable>, timeout: Duration) -> PromptHub {
        PromptHub {
            state: Arc::new(Mutex::new(State::default())),
            sessions,
            timeout,
            closing: Arc::new(AtomicBool::new(false)),
            counts: Arc::new(PromptCounts::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The oldest prompt waiting in the session of `user` in `app_id`.
    pub fn pending_in(&self, user: &str, app_id: &str) -> Option<Value> {
        let s = self.lock();
        s.order
            .iter()
            .filter_map(|id| s.pending.get(id))
            .find(|p| p.user == user && p.app_id == app_id)
            .map(|p| p.view.clone())
    }

    /// Every prompt waiting for `user`, oldest first.
    pub fn pending_for(&self, user: &str) -> Vec<Value> {
        let s = self.lock();
        s.order
            .iter()
            .filter_map(|id| s.pending.get(id))
            .filter(|p| p.user == user)
            .map(|p| p.view.clone())
            .collect()
    }

    /// How many prompts wait.
    pub fn waiting(&self) -> usize {
        self.lock().pending.len()
    }

    /// The app a prompt of `user` belongs to, if the prompt is theirs.
    pub fn app_of(&self, user: &str, id: &str) -> Option<String> {
        let s = self.lock();
        s.pending
            .get(id)
            .filter(|p| p.user == user)
            .map(|p| p.app_id.clone())
    }

    /// `user` answers prompt `id`; answers the app it belonged to.
    pub fn answer(&self, user: &str, id: &str, answer: &Value) -> Result<String, AnswerError> {
        self.answer_with(user, id, |kind| Answer::parse(kind, answer))
    }

    /// `user` answers the media prompt `id` with a file (its name and
    /// bytes); answers the app it belonged to.
    pub fn answer_upload(
        &self,
        user: &str,
        id: &str,
        name: String,
        bytes: Vec<u8>,
    ) -> Result<String, AnswerError> {
        self.answer_with(user, id, |kind| match kind {
            Kind::Media => Ok(Answer::Media(MediaAnswer::File { name, bytes })),
            other => Err(format!(
                "prompt {id} is a {} prompt, answered with {}: not with a file",
                other.name(),
                other.answers()
            )),
        })
    }

    fn answer_with(
        &self,
        user: &str,
        id: &str,
        answer: impl FnOnce(Kind) -> Result<Answer, String>,
    ) -> Result<String, AnswerError> {
        let mut s = self.lock();
        let Some(p) = s.pending.get(id).filter(|p| p.user == user) else {
            return Err(match s.closed.get(id) {
                Some((owner, Closed::Answered)) if owner == user => {
                    AnswerError::AlreadyAnswered(id.to_string())
                }
                Some((owner, Closed::TimedOut)) if owner == user => {
                    AnswerError::TimedOut(id.to_string())
                }
                _ => AnswerError::NotFound(id.to_string()),
            });
        };
        let parsed = answer(p.kind).map_err(AnswerError::Mismatch)?;
        let Some(p) = s.close(id, Closed::Answered) else {
            return Err(AnswerError::NotFound(id.to_string()));
        };
        drop(s);
        let confirmed = parsed == Answer::Payment(PaymentAnswer::Confirm);
        if p.reply.send(parsed).is_err() {
            // The host gave up at this very moment: nothing was paid.
            self.lock()
                .closed
                .insert(id.to_string(), (user.to_string(), Closed::TimedOut));
            return Err(AnswerError::TimedOut(id.to_string()));
        }
        self.counts.answered.fetch_add(1, Ordering::Relaxed);
        if confirmed {
            self.counts
                .payments_confirmed
                .fetch_add(1, Ordering::Relaxed);
        }
        Ok(p.app_id)
    }

    /// Declines every waiting prompt and every later one (the server is
    /// stopping): payments are not made, consent is not given.
    pub fn close_all(&self) {
        self.closing.store(true, Ordering::SeqCst);
        let ids: Vec<String> = self.lock().order.clone();
        for id in ids {
            let closed = self.lock().close(&id, Closed::TimedOut);
            if let Some(p) = closed {
                // Dropping the reply ends the wait with the safe answer.
                drop(p.reply);
                self.sessions.wake(&p.user, &p.app_id);
            }
        }
    }

    /// Raises a prompt and waits for its answer (`None`: no answer).
    async fn ask(&self, user: &str, app_id: &str, kind: Kind, mut view: Value) -> Option<Answer> {
        if self.closing.load(Ordering::SeqCst) {
            return None;
        }
        let id = match plaza_host::keys::random_32() {
            Ok(bytes) => format!("p-{}", plaza_host::hex::encode(&bytes[..16])),
            Err(e) => {
                tracing::error!(error = %e, "no random prompt id: the question is declined");
                return None;
            }
        };
        view["id"] = json!(id);
        view["kind"] = json!(kind.name());
        view["timeout_ms"] = json!(self.timeout.as_millis() as u64);
        if kind == Kind::Media {
            view["upload"] = json!(format!("/v1/prompts/{id}/file"));
        }
        let (tx, rx) = oneshot::channel();
        {
            let mut s = self.lock();
            s.pending.insert(
                id.clone(),
                Pending {
                    user: user.to_string(),
                    app_id: app_id.to_string(),
                    kind,
                    view,
                    reply: tx,
                },
            );
            s.order.push(id.clone());
        }
        match kind {
            Kind::Payment => self.counts.raised[0].fetch_add(1, Ordering::Relaxed),
            Kind::Consent => self.counts.raised[1].fetch_add(1, Ordering::Relaxed),
            Kind::Subscription => self.counts.raised[2].fetch_add(1, Ordering::Relaxed),
            Kind::Media => self.counts.media_raised.fetch_add(1, Ordering::Relaxed),
            Kind::Scan => self.counts.scan_raised.fetch_add(1, Ordering::Relaxed),
            Kind::Link => self.counts.link_raised.fetch_add(1, Ordering::Relaxed),
        };
        let _guard = Guard { hub: self, id };
        self.sessions.wake(user, app_id);
        rx.await.ok()
    }
}

fn money(amount: u64, currency: &str) -> String {
    format_money(amount as i64, currency)
}

impl Prompter for PromptHub {
    fn ask_consent<'a>(&'a self, r: &'a ConsentRequest) -> BoxFuture<'a, ConsentAnswer> {
        let view = json!({
            "app_id": r.app_id,
            "app_name": r.app_name,
            "publisher_name": r.publisher_name,
            "publisher_verified": r.publisher_verified,
            "scope": r.scope.to_string(),
            "purpose": r.purpose,
        });
        Box::pin(async move {
            match self.ask(&r.user, &r.app_id, Kind::Consent, view).await {
                Some(Answer::Consent(a)) => a,
                _ => ConsentAnswer::Dismiss,
            }
        })
    }

    fn confirm_payment<'a>(&'a self, p: &'a PaymentPrompt) -> BoxFuture<'a, PaymentAnswer> {
        let items: Vec<Value> = p
            .items
            .iter()
            .map(|i| {
                json!({
                    "name": i.name,
                    "quantity": i.quantity,
                    "unit_price": money(i.unit_price, &p.currency),
                    "total": money(i.unit_price.saturating_mul(u64::from(i.quantity)), &p.currency),
                    "insurance_eligible": i.insurance_eligible,
                })
            })
            .collect();
        let view = json!({
            "app_id": p.app_id,
            "app_name": p.app_name,
            "payee": p.payee,
            "payee_verified": p.payee_verified,
            "order_id": p.order_id,
            "amount": money(p.amount, &p.currency),
            "amount_minor": p.amount,
            "currency": p.currency,
            "description": p.description,
            "items": items,
            "insurance_part": money(p.insurance_part, &p.currency),
            "wallet_part": money(p.wallet_part, &p.currency),
            "wallet_balance": money(p.wallet_balance, &p.currency),
        });
        Box::pin(async move {
            match self.ask(&p.user, &p.app_id, Kind::Payment, view).await {
                Some(Answer::Payment(a)) => a,
                _ => PaymentAnswer::Cancel,
            }
        })
    }

    fn ask_subscription<'a>(
        &'a self,
        p: &'a SubscriptionPrompt,
    ) -> BoxFuture<'a, Vec<SubscriptionAnswer>> {
        let templates: Vec<Value> = p
            .templates
            .iter()
            .map(|t| json!({"id": t.id, "title": t.title, "fields": t.fields, "long_term": t.long_term}))
            .collect();
        let view = json!({
            "app_id": p.app_id,
            "app_name": p.app_name,
            "publisher_name": p.publisher_name,
            "templates": templates,
        });
        let n = p.templates.len();
        Box::pin(async move {
            match self.ask(&p.user, &p.app_id, Kind::Subscription, view).await {
                // One answer stands for every template.
                Some(Answer::Subscription(a)) if a.len() == 1 => vec![a[0]; n],
                Some(Answer::Subscription(a)) => a,
                _ => vec![SubscriptionAnswer::Reject; n],
            }
        })
    }

    fn choose_media<'a>(&'a self, p: &'a MediaPrompt) -> BoxFuture<'a, MediaAnswer> {
        let kinds: Vec<&str> = p.kinds.iter().map(|k| k.as_str()).collect();
        let view = json!({
            "app_id": p.app_id,
            "app_name": p.app_name,
            "publisher_name": p.publisher_name,
            "purpose": p.purpose,
            "source": p.source.as_str(),
            "kinds": kinds,
            "accept": p.accept(),
            "max_bytes": p.max_bytes,
        });
        Box::pin(async move {
            match self.ask(&p.user, &p.app_id, Kind::Media, view).await {
                Some(Answer::Media(a)) => a,
                _ => MediaAnswer::Cancel,
            }
        })
    }

    fn scan_code<'a>(&'a self, p: &'a ScanPrompt) -> BoxFuture<'a, ScanAnswer> {
        let kinds: Vec<&str> = p.kinds.iter().map(|k| k.as_str()).collect();
        let view = json!({
            "app_id": p.app_id,
            "app_name": p.app_name,
            "publisher_name": p.publisher_name,
            "purpose": p.purpose,
            "kinds": kinds,
        });
        Box::pin(async move {
            match self.ask(&p.user, &p.app_id, Kind::Scan, view).await {
                Some(Answer::Scan(a)) => a,
                _ => ScanAnswer::Cancel,
            }
        })
    }

    fn offer_link<'a>(&'a self, o: &'a LinkOffer) -> BoxFuture<'a, bool> {
        let view = json!({
            "app_id": o.app_id,
            "app_name": o.app_name,
            "link": o.link,
            "target_app_id": o.target_app_id,
            "target_app_name": o.target_app_name,
            "target": o.target,
        });
        Box::pin(async move {
            matches!(
                self.ask(&o.user, &o.app_id, Kind::Link, view).await,
                Some(Answer::Link(true))
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plaza_host::manifest::Scope;

    fn consent(user: &str) -> ConsentRequest {
        ConsentRequest {
            user: user.into(),
            app_id: "cn.hz.maternity".into(),
            app_name: "Maternity".into(),
            publisher_name: "Hangzhou Maternity Hospital".into(),
            publisher_verified: true,
            scope: Scope::RealName,
            purpose: "To register you".into(),
        }
    }

    #[tokio::test]
    async fn a_prompt_is_answered_once_by_its_user_only() {
        let hub = PromptHub::new(Arc::new(SessionTable::default()), Duration::from_secs(60));
        let r = consent("a:li");
        let asking = hub.ask_consent(&r);
        let answering = async {
            let view = loop {
                if let Some(v) = hub.pending_in("a:li", "cn.hz.maternity") {
                    break v;
                }
                tokio::task::yield_now().await;
            };
            let id = view["id"].as_str().unwrap().to_string();
            assert_eq!(view["kind"], "consent");
            assert_eq!(
                hub.answer("b:li", &id, &json!("allow")),
                Err(AnswerError::NotFound(id.clone()))
            );
            assert!(matches!(
                hub.answer("a:li", &id, &json!("confirm")),
                Err(AnswerError::Mismatch(_))
            ));
            hub.answer("a:li", &id, &json!("allow")).unwrap();
            assert_eq!(
                hub.answer("a:li", &id, &json!("allow")),
                Err(AnswerError::AlreadyAnswered(id.clone()))
            );
        };
        let (answer, ()) = tokio::join!(asking, answering);
        assert_eq!(answer, ConsentAnswer::Allow);
        assert_eq!(hub.waiting(), 0);
    }

    #[tokio::test]
    async fn a_prompt_whose_wait_ended_is_timed_out() {
        let hub = PromptHub::new(Arc::new(SessionTable::default()), Duration::from_secs(60));
        let r = consent("a:li");
        let answer = tokio::time::timeout(Duration::from_millis(20), hub.ask_consent(&r)).await;
        assert!(answer.is_err());
        assert_eq!(hub.waiting(), 0);
        let id = hub.lock().closed_order[0].clone();
        assert_eq!(
            hub.answer("a:li", &id, &json!("allow")),
            Err(AnswerError::TimedOut(id.clone()))
        );
    }
}
