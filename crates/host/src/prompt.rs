//! Questions the host asks the user through the embedding app's own UI.
//!
//! The embedding app implements [`Prompter`]; the host calls it at the point of
//! use (a consent scope the first time a mini-app reads it; later issues add
//! payment confirmation and subscription prompts). Calls are async: a
//! mini-app waiting for the user's tap holds no thread.

use crate::manifest::Scope;
pub use crate::media::{MediaAnswer, MediaKind, MediaPrompt, MediaSource};
pub use crate::scan::{CodeKind, LinkOffer, ScanAnswer, ScanPrompt};
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

/// A boxed future, as the prompt trait returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A consent question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentRequest {
    /// The user asked.
    pub user: String,
    /// The mini-app asking.
    pub app_id: String,
    /// The mini-app's name.
    pub app_name: String,
    /// The publisher's name as the host knows it.
    pub publisher_name: String,
    /// Whether the host has verified the publisher.
    pub publisher_verified: bool,
    /// The scope asked for.
    pub scope: Scope,
    /// Why, in the manifest's words.
    pub purpose: String,
}

/// The user's answer to a consent question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentAnswer {
    /// Allow, and remember it.
    Allow,
    /// Refuse, and remember it: the mini-app is denied without asking again
    /// until the user changes it in the host's settings.
    Deny,
    /// Closed the question without answering: denied this time, asked again
    /// next time.
    Dismiss,
}

/// A payment for the user to confirm. The payee is the publisher's name as
/// the host knows it: the mini-app cannot choose or disguise it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentPrompt {
    /// The user asked.
    pub user: String,
    /// The mini-app asking.
    pub app_id: String,
    /// The mini-app's name.
    pub app_name: String,
    /// Who is paid: the publisher's verified name.
    pub payee: String,
    /// Whether the host has verified the publisher.
    pub payee_verified: bool,
    /// The mini-app's order id.
    pub order_id: String,
    /// The total, minor units.
    pub amount: u64,
    /// The currency.
    pub currency: String,
    /// What the mini-app says it is for.
    pub description: String,
    /// The bill.
    pub items: Vec<crate::ledger::LineItem>,
    /// What insurance would pay, as quoted now.
    pub insurance_part: u64,
    /// What the wallet would pay, as quoted now.
    pub wallet_part: u64,
    /// The wallet's balance now.
    pub wallet_balance: u64,
}

/// The user's answer to a payment confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentAnswer {
    /// Pay.
    Confirm,
    /// Do not pay.
    Decline,
    /// Closed the confirmation without answering.
    Cancel,
}

/// A template offered in a subscription request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferedTemplate {
    /// The template id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// The fields its messages carry.
    pub fields: Vec<String>,
    /// Whether the user may accept it for any number of messages (else one
    /// message per acceptance).
    pub long_term: bool,
}

/// A request to accept message templates, asked from a user's tap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionPrompt {
    /// The user asked.
    pub user: String,
    /// The mini-app asking.
    pub app_id: String,
    /// Its name.
    pub app_name: String,
    /// The publisher's name as the host knows it.
    pub publisher_name: String,
    /// The templates, in the order asked.
    pub templates: Vec<OfferedTemplate>,
}

/// The user's answer for one template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionAnswer {
    /// Accept one message.
    AcceptOnce,
    /// Accept any number of messages (only where offered; otherwise counts as
    /// one).
    AcceptLongTerm,
    /// Refuse.
    Reject,
}

/// The embedding app's UI for questions to the user.
pub trait Prompter: Send + Sync + 'static {
    /// Asks the user whether a mini-app may read a consent scope.
    fn ask_consent<'a>(&'a self, request: &'a ConsentRequest) -> BoxFuture<'a, ConsentAnswer>;

    /// Asks the user to confirm a payment. The host gives up waiting after
    /// its payment timeout (the guest then gets `timed-out`). The default
    /// cancels: a host without a UI pays nothing.
    fn confirm_payment<'a>(&'a self, _prompt: &'a PaymentPrompt) -> BoxFuture<'a, PaymentAnswer> {
        Box::pin(async { PaymentAnswer::Cancel })
    }

    /// Asks the user to accept message templates; one answer per template,
    /// in order (missing answers count as refusals). The default refuses all.
    fn ask_subscription<'a>(
        &'a self,
        prompt: &'a SubscriptionPrompt,
    ) -> BoxFuture<'a, Vec<SubscriptionAnswer>> {
        let n = prompt.templates.len();
        Box::pin(async move { vec![SubscriptionAnswer::Reject; n] })
    }

    /// Asks the user to choose or take a photo, or pick a file
    /// ([`MediaPrompt`]); the user's choice is the consent. The default
    /// cancels: a host without a UI takes nothing.
    fn choose_media<'a>(&'a self, _prompt: &'a MediaPrompt) -> BoxFuture<'a, MediaAnswer> {
        Box::pin(async { MediaAnswer::Cancel })
    }

    /// Asks the user to scan a code ([`ScanPrompt`]) with the embedding
    /// app's scanner. The default cancels: a host without a camera reads
    /// nothing.
    fn scan_code<'a>(&'a self, _prompt: &'a ScanPrompt) -> BoxFuture<'a, ScanAnswer> {
        Box::pin(async { ScanAnswer::Cancel })
    }

    /// Offers the user to open a Plaza link a scan read ([`LinkOffer`]):
    /// `true` opens it once the event's page is done. The default declines:
    /// nothing opens without the user.
    fn offer_link<'a>(&'a self, _offer: &'a LinkOffer) -> BoxFuture<'a, bool> {
        Box::pin(async { false })
    }
}

/// A prompter for hosts with no user at hand: every question is dismissed, so
/// nothing is granted and nothing is remembered.
#[derive(Debug, Default, Clone, Copy)]
pub struct DismissAll;

impl Prompter for DismissAll {
    fn ask_consent<'a>(&'a self, _request: &'a ConsentRequest) -> BoxFuture<'a, ConsentAnswer> {
        Box::pin(async { ConsentAnswer::Dismiss })
    }
}

/// A prompter that answers from a script and records every question: for
/// tests and headless runs.
#[derive(Debug, Default)]
pub struct ScriptedPrompter {
    consent: Mutex<Vec<(Scope, ConsentAnswer)>>,
    asked: Mutex<Vec<ConsentRequest>>,
    payment: Mutex<Option<ScriptedPayment>>,
    payments_asked: Mutex<Vec<PaymentPrompt>>,
    subscription: Mutex<Option<SubscriptionAnswer>>,
    subscriptions_asked: Mutex<Vec<SubscriptionPrompt>>,
    media: Mutex<std::collections::VecDeque<MediaAnswer>>,
    media_asked: Mutex<Vec<MediaPrompt>>,
    scans: Mutex<std::collections::VecDeque<ScanAnswer>>,
    scans_asked: Mutex<Vec<ScanPrompt>>,
    link_offers: Mutex<std::collections::VecDeque<bool>>,
    links_offered: Mutex<Vec<LinkOffer>>,
}

/// How a [`ScriptedPrompter`] answers payment confirmations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptedPayment {
    /// Answer at once.
    Answer(PaymentAnswer),
    /// Never answer (to test the host's timeout).
    Never,
}

impl ScriptedPrompter {
    /// A prompter that dismisses everything until told otherwise.
    pub fn new() -> ScriptedPrompter {
        ScriptedPrompter::default()
    }

    /// Answers every question about `scope` with `answer`.
    pub fn answer_consent(&self, scope: Scope, answer: ConsentAnswer) {
        let mut c = self.consent.lock().unwrap_or_else(|p| p.into_inner());
        c.retain(|(s, _)| *s != scope);
        c.push((scope, answer));
    }

    /// The questions asked so far.
    pub fn consent_questions(&self) -> Vec<ConsentRequest> {
        self.asked.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Answers every payment confirmation this way (until told otherwise);
    /// without a script payments are cancelled.
    pub fn answer_payments(&self, how: ScriptedPayment) {
        *self.payment.lock().unwrap_or_else(|p| p.into_inner()) = Some(how);
    }

    /// Answers every template of every subscription request this way; without
    /// a script, templates are refused.
    pub fn answer_subscriptions(&self, answer: SubscriptionAnswer) {
        *self.subscription.lock().unwrap_or_else(|p| p.into_inner()) = Some(answer);
    }

    /// The subscription requests asked so far.
    pub fn subscription_prompts(&self) -> Vec<SubscriptionPrompt> {
        self.subscriptions_asked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Answers the next media prompt with `answer` (answers queue, one per
    /// prompt; without one the prompt is cancelled).
    pub fn answer_media(&self, answer: MediaAnswer) {
        self.media
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push_back(answer);
    }

    /// Answers the next scan prompt with `answer` (answers queue, one per
    /// prompt; without one the scanner is closed).
    pub fn answer_scan(&self, answer: ScanAnswer) {
        self.scans
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push_back(answer);
    }

    /// The scan prompts asked so far.
    pub fn scan_prompts(&self) -> Vec<ScanPrompt> {
        self.scans_asked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Answers the next offer to open a scanned link: `true` opens it
    /// (answers queue, one per offer; without one the offer is declined).
    pub fn answer_link_offer(&self, open: bool) {
        self.link_offers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push_back(open);
    }

    /// The offers to open a scanned link made so far.
    pub fn link_offers(&self) -> Vec<LinkOffer> {
        self.links_offered
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The media prompts asked so far.
    pub fn media_prompts(&self) -> Vec<MediaPrompt> {
        self.media_asked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The payment confirmations asked so far.
    pub fn payment_prompts(&self) -> Vec<PaymentPrompt> {
        self.payments_asked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl Prompter for ScriptedPrompter {
    fn ask_consent<'a>(&'a self, request: &'a ConsentRequest) -> BoxFuture<'a, ConsentAnswer> {
        self.asked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(request.clone());
        let answer = self
            .consent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .find(|(s, _)| *s == request.scope)
            .map(|(_, a)| *a)
            .unwrap_or(ConsentAnswer::Dismiss);
        Box::pin(async move { answer })
    }

    fn confirm_payment<'a>(&'a self, prompt: &'a PaymentPrompt) -> BoxFuture<'a, PaymentAnswer> {
        self.payments_asked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(prompt.clone());
        let how = *self.payment.lock().unwrap_or_else(|p| p.into_inner());
        Box::pin(async move {
            match how {
                Some(ScriptedPayment::Answer(a)) => a,
                Some(ScriptedPayment::Never) => std::future::pending().await,
                None => PaymentAnswer::Cancel,
            }
        })
    }

    fn ask_subscription<'a>(
        &'a self,
        prompt: &'a SubscriptionPrompt,
    ) -> BoxFuture<'a, Vec<SubscriptionAnswer>> {
        self.subscriptions_asked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(prompt.clone());
        let answer = self
            .subscription
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .unwrap_or(SubscriptionAnswer::Reject);
        let n = prompt.templates.len();
        Box::pin(async move { vec![answer; n] })
    }

    fn choose_media<'a>(&'a self, prompt: &'a MediaPrompt) -> BoxFuture<'a, MediaAnswer> {
        self.media_asked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(prompt.clone());
        let answer = self
            .media
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop_front()
            .unwrap_or(MediaAnswer::Cancel);
        Box::pin(async move { answer })
    }

    fn scan_code<'a>(&'a self, prompt: &'a ScanPrompt) -> BoxFuture<'a, ScanAnswer> {
        self.scans_asked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(prompt.clone());
        let answer = self
            .scans
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop_front()
            .unwrap_or(ScanAnswer::Cancel);
        Box::pin(async move { answer })
    }

    fn offer_link<'a>(&'a self, offer: &'a LinkOffer) -> BoxFuture<'a, bool> {
        self.links_offered
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(offer.clone());
        let open = self
            .link_offers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop_front()
            .unwrap_or(false);
        Box::pin(async move { open })
    }
}
