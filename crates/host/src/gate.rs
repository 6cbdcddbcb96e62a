//! The gate: the one place that decides whether a mini-app may use a
//! capability for a user now, and the one place that writes the audit log.
//!
//! A request passes when all of these agree:
//! 1. the manifest declares the capability (and, for a consent scope, the scope
//!    with its purpose);
//! 2. the host's [`Policy`] allows it for the publisher's category (and, for
//!    `real-name` and `insurance-card`, the publisher is verified);
//! 3. the user consented, where the scope needs consent: asked through the
//!    [`Prompter`] at the first use, the answer remembered (a refusal too).
//!
//! The rules beyond those three are the gate's too: which categories settle
//! medical insurance in real time, which may keep long-term subscriptions,
//! and that a subscription is asked for only from a user's gesture. And the
//! gate is the only one that asks the user anything (consent, a payment's
//! confirmation, subscriptions), giving up the event's busy lane first.
//!
//! A session reaches the gate through its [`SessionGate`], which knows who is
//! asking and what the session and the event have already had audited;
//! capability code holds that and nothing else of the gate, so it cannot read
//! the policy or write the audit log except through it. The host writes its
//! own entries (installs, the user's settings, backends' calls) with
//! [`Gate::audit`] and an [`Actor`], the one way an entry is written.
//!
//! Denials are always audited, each distinct denial once per event (a hot
//! loop of refused calls writes one entry, not one per call); an allowed
//! capability without consent is audited at its first use in a session (so a
//! hot loop of storage reads does not flood the log), and each decision on a
//! consent scope once per event.
//!
//! If the audit log cannot be written the request is denied: no unrecorded
//! access. What a session or an event remembers as written (an allowance
//! above all) is remembered only once the entry is written, so the next call
//! after a failed write is decided and written again.

use crate::clock::Clock;
use crate::lanes::HeldLane;
use crate::manifest::{Capability, Manifest, Origin, Scope};
use crate::policy::Policy;
use crate::prompt::{
    ConsentAnswer, ConsentRequest, PaymentAnswer, PaymentPrompt, Prompter, SubscriptionAnswer,
    SubscriptionPrompt,
};
use crate::store::{
    AuditEntry, AuditStore, ConsentRecord, ConsentStore, Outcome, PublisherStore, Store,
};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

/// The session id in audit entries of what the host's own settings and its
/// server-side API did.
pub const HOST_SESSION: &str = "host";

/// Who is asking: a session of a mini-app for a user.
#[derive(Debug, Clone)]
pub(crate) struct Subject {
    /// The user.
    pub(crate) user: String,
    /// The session id.
    pub(crate) session: String,
    /// The mini-app's manifest.
    pub(crate) manifest: Arc<Manifest>,
    /// Whether the host has verified the publisher.
    pub(crate) publisher_verified: bool,
    /// The publisher's name as the host knows it.
    pub(crate) publisher_name: String,
    /// The generation of the app id ([`AppIdRecord`](crate::store::AppIdRecord)):
    /// openids and payments are the generation's own.
    pub(crate) generation: u32,
    /// The origins the session may call: the manifest's, with those it
    /// names by setting resolved when the session started.
    pub(crate) origins: Arc<[Origin]>,
}

impl Subject {
    /// The mini-app id.
    pub(crate) fn app(&self) -> &str {
        &self.manifest.app.id
    }

    /// Who the audit log names for this session.
    pub(crate) fn actor(&self) -> Actor<'_> {
        Actor {
            user: &self.user,
            app: self.app(),
            session: &self.session,
        }
    }
}

/// Whom an audit entry is about: a user (empty for none), a mini-app, and
/// the session that acted ([`HOST_SESSION`] for the host itself, empty for
/// an install).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Actor<'a> {
    pub(crate) user: &'a str,
    pub(crate) app: &'a str,
    pub(crate) session: &'a str,
}

impl<'a> Actor<'a> {
    /// The host acting for `user` in `app` (the user's settings, a backend's
    /// call).
    pub(crate) fn host(user: &'a str, app: &'a str) -> Actor<'a> {
        Actor {
            user,
            app,
            session: HOST_SESSION,
        }
    }

    /// The host's install of a package of `app`.
    pub(crate) fn install(app: &'a str) -> Actor<'a> {
        Actor {
            user: "",
            app,
            session: "",
        }
    }
}

/// Where an outbound request goes, as the gate sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestTarget<'a> {
    /// The method, such as `GET`.
    pub(crate) method: &'a str,
    /// `https` or `http` (anything else is denied).
    pub(crate) scheme: &'a str,
    /// The host in lower case; an IPv6 address in brackets.
    pub(crate) host: &'a str,
    /// The port (the scheme's default when the URL names none).
    pub(crate) port: u16,
}

impl RequestTarget<'_> {
    /// `scheme://host:port`, as audited and named in denials.
    pub(crate) fn origin_text(&self) -> String {
        format!("{}://{}:{}", self.scheme, self.host, self.port)
    }
}

/// Whether a request to `target` is to one of `origins` by the network's
/// rules: https, or plain HTTP and IP addresses only to loopback in developer
/// mode, to an origin that matches ([`Origin::matches`]). Returns the origin
/// matched. Mini-apps' requests pass it in [`Gate::check_request`], the
/// host's payment notifications before they are sent.
pub(crate) fn origin_rule(
    origins: &[Origin],
    target: &RequestTarget<'_>,
    developer_mode: bool,
) -> Result<Origin, Denial> {
    let origin = target.origin_text();
    let denied = |why: String| Err(Denial::refused(why));
    if target.scheme != "https" && target.scheme != "http" {
        return denied(format!(
            "`{origin}`: only https is allowed (http only to loopback in developer mode)"
        ));
    }
    let loopback = crate::manifest::is_loopback_host(target.host);
    let ip = crate::manifest::parse_ip(target.host).is_some();
    if target.scheme == "http" || ip {
        let what = if target.scheme == "http" {
            "plain HTTP"
        } else {
            "an IP address"
        };
        if !loopback {
            return denied(format!(
                "`{origin}`: {what} is allowed only to loopback hosts, and only in developer mode; use https and the server's DNS name"
            ));
        }
        if !developer_mode {
            return denied(format!(
                "`{origin}`: {what} is allowed only in developer mode, and this host runs in production mode; use https and the server's DNS name"
            ));
        }
    }
    match origins
        .iter()
        .find(|o| o.matches(target.scheme, target.host, target.port))
    {
        Some(o) => Ok(o.clone()),
        None => {
            let declared: Vec<String> = origins.iter().map(|o| o.to_string()).collect();
            denied(format!(
                "the origin `{origin}` is not one the manifest declares ({}): add it to [capabilities.network] origins",
                declared.join(", ")
            ))
        }
    }
}

/// Why the gate did not let a call through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DenialCause {
    /// A decision: the manifest, the host's policy or the user said no. The
    /// guest gets `denied`, and the refusal is audited.
    Refused,
    /// No decision: the store failed while the gate read or wrote what the
    /// decision rests on (the user's consent, the publisher registry, the
    /// audit log). The guest gets `unavailable` and may try again; nothing
    /// is counted as a denial, and no refusal is remembered.
    StoreFailed,
}

/// A denial: its cause, and the reason the guest and the audit log get.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Denial {
    pub(crate) cause: DenialCause,
    pub(crate) reason: String,
}

impl Denial {
    /// A refusal ([`DenialCause::Refused`]) for `reason`.
    pub(crate) fn refused(reason: impl Into<String>) -> Denial {
        Denial {
            cause: DenialCause::Refused,
            reason: reason.into(),
        }
    }

    /// The store failed while the gate tried to `what` ("read the user's
    /// consent"): [`DenialCause::StoreFailed`].
    pub(crate) fn store_failed(what: &str, error: &crate::store::StoreError) -> Denial {
        Denial {
            cause: DenialCause::StoreFailed,
            reason: format!("the host could not {what}: {error}; try again later"),
        }
    }

    /// Whether no decision was made because the store failed.
    pub(crate) fn store_failure(&self) -> bool {
        self.cause == DenialCause::StoreFailed
    }
}

impl std::fmt::Display for Denial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

/// What a session has already had audited as allowed.
#[derive(Debug, Default)]
pub(crate) struct AuditMemo {
    /// Capabilities allowed in this session, with the policy generation
    /// that allowed them: while the policy is the same, the decision is.
    allowed: HashMap<Capability, u64>,
    used: HashSet<String>,
}

impl AuditMemo {
    /// Writes the entry for `what` with `write` at its first use in the
    /// session; notes the use only once the entry is written, so a failed
    /// write is tried again at the next use.
    fn write_first_use(
        &mut self,
        what: &str,
        write: impl FnOnce() -> Result<(), Denial>,
    ) -> Result<(), Denial> {
        if self.used.contains(what) {
            return Ok(());
        }
        write()?;
        self.used.insert(what.to_string());
        Ok(())
    }
}

/// What one event has asked the user and written to the audit log, so that
/// a mini-app repeating a call in a loop asks once and writes one entry, not
/// thousands (each an fsync'd write).
#[derive(Debug, Default)]
pub(crate) struct EventMemo {
    asked: HashSet<Scope>,
    /// The entries written, shared with the session's [`Auditor`]s (a
    /// request refused in a loop writes one entry too).
    written: Written,
    /// Whether the event has asked the user to pay (one prompt an event).
    payment_asked: bool,
    /// The orders the user declined or cancelled in this event.
    declined_orders: HashSet<String>,
}

/// The entries an event has written: what, whether allowed, detail.
#[derive(Debug, Default, Clone)]
pub(crate) struct Written(Arc<Mutex<HashSet<(String, bool, String)>>>);

impl Written {
    fn entries(&self) -> std::sync::MutexGuard<'_, HashSet<(String, bool, String)>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes an entry with `write` unless the event has written the same
    /// one (what, outcome and detail); notes it only once it is written, so
    /// a failed write is tried again at the next call.
    fn write_once(
        &self,
        what: &str,
        outcome: Outcome,
        detail: &str,
        write: impl FnOnce() -> Result<(), Denial>,
    ) -> Result<(), Denial> {
        let entry = (
            what.to_string(),
            outcome == Outcome::Allowed,
            detail.to_string(),
        );
        if self.entries().contains(&entry) {
            return Ok(());
        }
        write()?;
        self.entries().insert(entry);
        Ok(())
    }
}

impl EventMemo {
    /// [`Written::write_once`] for this event.
    fn write_once(
        &mut self,
        what: &str,
        outcome: Outcome,
        detail: &str,
        write: impl FnOnce() -> Result<(), Denial>,
    ) -> Result<(), Denial> {
        self.written.write_once(what, outcome, detail, write)
    }

    /// A memo for the next event: nothing asked or written yet (the
    /// written entries cleared in place, for the auditors that share them).
    fn next(&mut self) {
        let written = self.written.clone();
        written.entries().clear();
        *self = EventMemo {
            written,
            ..EventMemo::default()
        };
    }
}

/// The gate.
pub(crate) struct Gate {
    policy: RwLock<Arc<Policy>>,
    /// Counts policy replacements, so sessions know when to decide again.
    generation: AtomicU64,
    audit_log: Arc<dyn AuditStore>,
    consents: Arc<dyn ConsentStore>,
    /// The registry of publishers, read again before insurance is settled.
    registry: Arc<dyn PublisherStore>,
    clock: Arc<dyn Clock>,
    prompter: Arc<dyn Prompter>,
    /// How long a consent or subscription question waits for the user.
    prompt_timeout: Duration,
    /// Denied decisions on sessions' host calls since the host opened, by
    /// the audit entry's capability name ([`Gate::denial_counts`]).
    denials: Mutex<BTreeMap<String, u64>>,
}

impl std::fmt::Debug for Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gate").finish_non_exhaustive()
    }
}

impl Gate {
    /// A gate over a policy, a store (for consent and audit), a clock and the
    /// embedding app's prompter.
    pub(crate) fn new(
        policy: Policy,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        prompter: Arc<dyn Prompter>,
    ) -> Gate {
        Gate {
            policy: RwLock::new(Arc::new(policy)),
            generation: AtomicU64::new(0),
            audit_log: store.clone(),
            consents: store.clone(),
            registry: store,
            clock,
            prompter,
            prompt_timeout: Duration::from_secs(120),
            denials: Mutex::new(BTreeMap::new()),
        }
    }

    /// Sets how long a consent or subscription question waits for the user
    /// before the safe answer is taken.
    pub(crate) fn with_prompt_timeout(mut self, prompt_timeout: Duration) -> Gate {
        self.prompt_timeout = prompt_timeout;
        self
    }

    /// Counts a denied decision on a session's host call under the audit
    /// entry's capability name `what`. Every decision counts, also those
    /// whose entry is written once per event or session (a refused call in
    /// a loop counts each time, though it writes one entry).
    fn count_denial(&self, what: &str) {
        let mut denials = self.denials.lock().unwrap_or_else(|p| p.into_inner());
        match denials.get_mut(what) {
            Some(n) => *n += 1,
            None => {
                denials.insert(what.to_string(), 1);
            }
        }
    }

    /// Denied decisions on sessions' host calls since the host opened, by
    /// capability name ([`Gate::count_denial`]).
    pub(crate) fn denial_counts(&self) -> BTreeMap<String, u64> {
        self.denials
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The policy in force.
    fn policy(&self) -> Arc<Policy> {
        self.policy
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Replaces the policy; live sessions follow it from their next call.
    pub(crate) fn set_policy(&self, policy: Policy) {
        *self.policy.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(policy);
        self.generation.fetch_add(1, Ordering::Release);
    }

    /// Decides whether `subject` may use `capability` (a capability without
    /// consent scopes: storage, log, clock, the pseudonymous ids, ...).
    ///
    /// An allowance is audited at the session's first use and cached in
    /// `memo` once its entry is written (a failed write denies the call and
    /// caches nothing); a denial is audited once per event (`event`).
    pub(crate) fn check(
        &self,
        subject: &Subject,
        memo: &mut AuditMemo,
        event: &mut EventMemo,
        capability: Capability,
    ) -> Result<(), Denial> {
        // The manifest is the session's for its life; only the policy can
        // change a decision, and it counts its changes.
        let generation = self.generation.load(Ordering::Acquire);
        if memo.allowed.get(&capability) == Some(&generation) {
            return Ok(());
        }
        let what = capability.as_str();
        match self.capability_rule(subject, capability) {
            Err(denial) => {
                memo.allowed.remove(&capability);
                self.count_denial(what);
                event.write_once(what, Outcome::Denied, &denial.reason, || {
                    self.audit(subject.actor(), what, Outcome::Denied, &denial.reason)
                })?;
                Err(denial)
            }
            Ok(()) => {
                // Allowed under an earlier policy too: audited already.
                if !memo.allowed.contains_key(&capability) {
                    self.audit(
                        subject.actor(),
                        what,
                        Outcome::Allowed,
                        "declared and allowed by policy (first use in this session)",
                    )?;
                }
                memo.allowed.insert(capability, generation);
                Ok(())
            }
        }
    }

    /// Decides whether `subject` may read the consent scope `scope`, asking the
    /// user if the user has not answered before.
    #[cfg(test)]
    async fn check_scope(&self, subject: &Subject, scope: Scope) -> Result<(), Denial> {
        self.check_scope_in_event(subject, &mut EventMemo::default(), scope, &|| {})
            .await
    }

    /// [`check_scope`](Self::check_scope) within one event of a session:
    /// `memo` holds what the event already asked and audited. A question the
    /// user closed without answering is not asked again until the user's
    /// next action, and a repeated decision is audited once per event, so a
    /// mini-app calling in a loop can neither bury the user under prompts
    /// nor flood the audit log. `before_waiting` runs before the user is
    /// asked.
    async fn check_scope_in_event(
        &self,
        subject: &Subject,
        memo: &mut EventMemo,
        scope: Scope,
        before_waiting: &(dyn Fn() + Sync),
    ) -> Result<(), Denial> {
        let what = format!("identity.{scope}");
        let decision = self
            .scope_decision(subject, &mut memo.asked, scope, before_waiting)
            .await;
        // Nothing was decided: nothing to audit or count (the store that
        // failed would likely fail the entry too).
        if let Err(d) = &decision
            && d.store_failure()
        {
            return Err(d.clone());
        }
        let (outcome, detail) = match &decision {
            Ok(detail) => (Outcome::Allowed, detail.as_str()),
            Err(denial) => {
                self.count_denial(&what);
                (Outcome::Denied, denial.reason.as_str())
            }
        };
        memo.write_once(&what, outcome, detail, || {
            self.audit(subject.actor(), &what, outcome, detail)
        })?;
        decision.map(|_| ())
    }

    async fn scope_decision(
        &self,
        subject: &Subject,
        asked: &mut HashSet<Scope>,
        scope: Scope,
        before_waiting: &(dyn Fn() + Sync),
    ) -> Result<String, Denial> {
        self.capability_rule(subject, Capability::Identity)?;
        let Some(purpose) = subject.manifest.scope_purpose(scope) else {
            return Err(Denial::refused(format!(
                "the manifest does not declare the scope `{scope}`: add it to [capabilities.identity] scopes with the purpose shown to the user"
            )));
        };
        let policy = self.policy();
        if !policy.allows_scope(
            subject.manifest.publisher.category,
            subject.publisher_verified,
            scope,
        ) {
            let why = if subject.publisher_verified {
                format!(
                    "the host's policy does not give `{scope}` to {} publishers",
                    subject.manifest.publisher.category
                )
            } else {
                format!(
                    "`{scope}` is given only to verified publishers in the categories the host's policy allows; {} is not verified",
                    subject.publisher_name
                )
            };
            return Err(Denial::refused(why));
        }
        let app = subject.app();
        let remembered = self
            .consents
            .get_consent(&subject.user, app, scope.as_str())
            .map_err(|e| Denial::store_failed("read the user's consent", &e))?;
        match remembered {
            Some(r) if r.granted => return Ok("the user consented earlier".to_string()),
            Some(_) => {
                return Err(Denial::refused(format!(
                    "the user refused `{scope}` earlier; the user can change this in the host's settings"
                )));
            }
            None => {}
        }
        if !asked.insert(scope) {
            return Err(Denial::refused(format!(
                "the user closed the consent question for `{scope}` during this event; it is asked again after the user's next action"
            )));
        }
        let request = ConsentRequest {
            user: subject.user.clone(),
            app_id: app.to_string(),
            app_name: subject.manifest.app.name.clone(),
            publisher_name: subject.publisher_name.clone(),
            publisher_verified: subject.publisher_verified,
            scope,
            purpose: purpose.to_string(),
        };
        self.audit(
            subject.actor(),
            &format!("consent.prompt.{scope}"),
            Outcome::Allowed,
            &format!("asked the user: {purpose}"),
        )?;
        before_waiting();
        let answer =
            match tokio::time::timeout(self.prompt_timeout, self.prompter.ask_consent(&request))
                .await
            {
                Ok(answer) => answer,
                // No answer in time: as if the user closed the question.
                Err(_) => {
                    self.audit(
                        subject.actor(),
                        &format!("consent.prompt.{scope}"),
                        Outcome::Denied,
                        &format!(
                            "the user did not answer within {} ms: dismissed",
                            self.prompt_timeout.as_millis()
                        ),
                    )?;
                    ConsentAnswer::Dismiss
                }
            };
        let remember = |granted: bool| {
            self.consents
                .put_consent(&ConsentRecord {
                    user: subject.user.clone(),
                    app: app.to_string(),
                    scope: scope.as_str().to_string(),
                    granted,
                    decided_at_ms: self.clock.now_ms(),
                })
                .map_err(|e| Denial::store_failed("record the user's answer", &e))
        };
        match answer {
            ConsentAnswer::Allow => {
                remember(true)?;
                Ok("the user consented just now".to_string())
            }
            ConsentAnswer::Deny => {
                remember(false)?;
                Err(Denial::refused(format!("the user refused `{scope}`")))
            }
            ConsentAnswer::Dismiss => Err(Denial::refused(format!(
                "the user closed the consent question for `{scope}` without answering"
            ))),
        }
    }

    /// Decides whether `subject` may send a request to
    /// `scheme://host:port` (host in lower case, an IPv6 address in
    /// brackets), and writes the decision to the audit log (capability
    /// `network`: the method and the origin, never the path or a body):
    /// every allowed request, each distinct refusal once per event
    /// (`written`).
    ///
    /// A request passes when the manifest declares the network and lists an
    /// origin that matches, the policy allows the network for the publisher's
    /// category, and, for plain HTTP or an IP address, the host is in
    /// developer mode and the host is loopback. Returns the origin matched.
    pub(crate) fn check_request(
        &self,
        subject: &Subject,
        target: &RequestTarget<'_>,
        developer_mode: bool,
        written: &Written,
    ) -> Result<Origin, Denial> {
        let decision = self.request_rule(subject, target, developer_mode);
        let what = format!("{} {}", target.method, target.origin_text());
        let network = Capability::Network.as_str();
        match &decision {
            Ok(origin) => self.audit(
                subject.actor(),
                network,
                Outcome::Allowed,
                &format!("{what}: allowed (declared origin {origin})"),
            )?,
            Err(denial) => {
                self.count_denial(network);
                let detail = format!("{what}: {denial}");
                written.write_once(network, Outcome::Denied, &detail, || {
                    self.audit(subject.actor(), network, Outcome::Denied, &detail)
                })?
            }
        }
        decision
    }

    fn request_rule(
        &self,
        subject: &Subject,
        target: &RequestTarget<'_>,
        developer_mode: bool,
    ) -> Result<Origin, Denial> {
        self.capability_rule(subject, Capability::Network)?;
        origin_rule(&subject.origins, target, developer_mode)
    }

    /// The item kinds medical insurance may cover in a payment of
    /// `subject`: the policy's for the publisher, when the policy settles
    /// insurance for its category and the publisher is verified and still
    /// verified in the registry (read now, so a publisher removed or no
    /// longer verified during a session settles no more insurance).
    fn insurance_items(&self, subject: &Subject) -> Result<BTreeSet<String>, Denial> {
        let category = subject.manifest.publisher.category;
        let policy = self.policy();
        if !policy.insurance_payment_categories.contains(&category) {
            return Err(Denial::refused(format!(
                "the host's policy does not settle medical insurance for {category} publishers: the wallet pays the whole amount"
            )));
        }
        let publisher = &subject.manifest.publisher.id;
        let registered = self
            .registry
            .get_publisher(publisher)
            .map_err(|e| Denial::store_failed("read its publisher registry", &e))?;
        let verified_now = registered.is_some_and(|p| p.verified && p.category == category);
        if !subject.publisher_verified || !verified_now {
            return Err(Denial::refused(format!(
                "medical insurance is settled only for verified publishers in the host's registry, and {} ({publisher}) is not one: the wallet pays the whole amount",
                subject.publisher_name
            )));
        }
        let items = policy.insurance_items(category, publisher);
        if items.is_empty() {
            return Err(Denial::refused(format!(
                "the host's policy lets medical insurance cover no item of {} ({publisher}): the wallet pays the whole amount",
                subject.publisher_name
            )));
        }
        Ok(items)
    }

    /// Whether the policy lets the publisher's category keep long-term
    /// subscriptions.
    fn keeps_long_term_subscriptions(&self, subject: &Subject) -> Result<(), Denial> {
        let category = subject.manifest.publisher.category;
        if self
            .policy()
            .long_term_subscription_categories
            .contains(&category)
        {
            Ok(())
        } else {
            Err(Denial::refused(format!(
                "the host's policy keeps long-term subscriptions only for public services; {category} publishers get one message per acceptance"
            )))
        }
    }

    fn capability_rule(&self, subject: &Subject, capability: Capability) -> Result<(), Denial> {
        if !subject.manifest.declares(capability) {
            return Err(Denial::refused(format!(
                "the manifest does not declare `{capability}`: add {} to plaza.toml",
                capability.declaration()
            )));
        }
        let category = subject.manifest.publisher.category;
        if !self.policy().allows_capability(category, capability) {
            return Err(Denial::refused(format!(
                "the host's policy does not allow `{capability}` for {category} publishers"
            )));
        }
        Ok(())
    }

    /// Appends an entry to the audit log: the one way an entry is written
    /// on its own. (A payment's or refund's entry, made by [`Gate::entry`],
    /// is written by the ledger in the money's own transaction.)
    pub(crate) fn audit(
        &self,
        who: Actor<'_>,
        capability: &str,
        outcome: Outcome,
        detail: &str,
    ) -> Result<(), Denial> {
        self.audit_log
            .append_audit(&self.entry(who, capability, outcome, detail))
            .map_err(|e| Denial::store_failed("write its audit log", &e))
    }

    /// The audit entry for `who` now, for a store to append together with
    /// the change it records (a payment and its entry commit together).
    pub(crate) fn entry(
        &self,
        who: Actor<'_>,
        capability: &str,
        outcome: Outcome,
        detail: &str,
    ) -> AuditEntry {
        AuditEntry {
            at_ms: self.clock.now_ms(),
            user: who.user.to_string(),
            app: who.app.to_string(),
            session: who.session.to_string(),
            capability: capability.to_string(),
            outcome,
            detail: detail.to_string(),
        }
    }
}

/// One session's way through the gate: who is asking, what the session and
/// the event being handled have had audited, and whether that event is a
/// user's gesture. Every capability's view holds it; it is all they have of
/// the gate.
pub(crate) struct SessionGate {
    gate: Arc<Gate>,
    subject: Subject,
    memo: AuditMemo,
    event: EventMemo,
    /// Whether the event being handled is a user's gesture (a tap or a form).
    gesture: bool,
    /// The busy lane the event holds, given up before the user is asked.
    lane: Arc<HeldLane>,
    /// The Plaza link the user chose to open in the event being handled (a
    /// scanned code), opened once its page is done.
    accepted_link: Option<crate::link::Link>,
}

impl SessionGate {
    /// The gate for a new session.
    pub(crate) fn new(gate: Arc<Gate>, subject: Subject, lane: Arc<HeldLane>) -> SessionGate {
        SessionGate {
            gate,
            subject,
            memo: AuditMemo::default(),
            event: EventMemo::default(),
            gesture: false,
            lane,
            accepted_link: None,
        }
    }

    /// Starts an event: what the last one asked and audited is forgotten.
    pub(crate) fn start_event(&mut self, gesture: bool) {
        self.event.next();
        self.gesture = gesture;
        self.accepted_link = None;
    }

    /// Notes that the user chose to open `link` (a scanned code) once the
    /// event's page is done; a later choice in the event replaces it.
    pub(crate) fn accept_link(&mut self, link: crate::link::Link) {
        self.accepted_link = Some(link);
    }

    /// The link the user chose to open in the event, taken once.
    pub(crate) fn take_accepted_link(&mut self) -> Option<crate::link::Link> {
        self.accepted_link.take()
    }

    /// Who is asking.
    pub(crate) fn subject(&self) -> &Subject {
        &self.subject
    }

    /// An owned handle for work that outlives a host call (a request's
    /// body, still arriving).
    pub(crate) fn auditor(&self) -> Auditor {
        Auditor {
            gate: self.gate.clone(),
            subject: self.subject.clone(),
            written: self.event.written.clone(),
        }
    }

    /// Whether the session may use `capability` now (the manifest and the
    /// policy); audited at the first use and at each distinct denial once
    /// per event.
    pub(crate) fn check(&mut self, capability: Capability) -> Result<(), Denial> {
        self.gate
            .check(&self.subject, &mut self.memo, &mut self.event, capability)
    }

    /// Whether the session may read the consent scope `scope`, asking the
    /// user if the user has not answered before.
    pub(crate) async fn check_scope(&mut self, scope: Scope) -> Result<(), Denial> {
        let lane = self.lane.clone();
        let checked = self
            .gate
            .check_scope_in_event(&self.subject, &mut self.event, scope, &|| {
                lane.start_user_wait()
            })
            .await;
        lane.end_user_wait();
        checked
    }

    /// That the event being handled is a user's tap or form: some calls
    /// (`what`, such as `messaging.subscribe`, asking for `asked`, such as
    /// "a subscription") may be made only then. A refusal is audited.
    /// Audited once per event (a loop of refused calls writes one entry).
    pub(crate) fn require_gesture(&mut self, what: &str, asked: &str) -> Result<(), Denial> {
        if self.gesture {
            return Ok(());
        }
        self.refuse_once_per_event(what, "asked outside a user's tap");
        Err(Denial::refused(format!(
            "{asked} can be asked for only while handling the user's tap or form"
        )))
    }

    /// The item kinds medical insurance may cover in a payment of this
    /// session now (`None`: none, the wallet pays all); the decision is
    /// audited (`payment.insurance`) once per session and outcome.
    pub(crate) fn insurance_items(&mut self) -> Result<Option<BTreeSet<String>>, Denial> {
        let decision = self.gate.insurance_items(&self.subject);
        // The registry could not be read: no decision, and no payment
        // without the insurance it may be owed.
        if let Err(d) = &decision
            && d.store_failure()
        {
            return Err(d.clone());
        }
        let audited = decision.as_ref().map(|_| ()).map_err(Clone::clone);
        self.audit_decision_once(
            "payment.insurance",
            &audited,
            "the host's policy settles medical insurance in real time for this verified publisher's allowed items",
        )?;
        Ok(decision.ok())
    }

    /// Whether the mini-app may keep long-term subscriptions; the decision
    /// is audited (`messaging.long-term`) once per session and outcome.
    pub(crate) fn keeps_long_term_subscriptions(&mut self) -> Result<bool, Denial> {
        let decision = self.gate.keeps_long_term_subscriptions(&self.subject);
        self.audit_decision_once(
            "messaging.long-term",
            &decision,
            "the host's policy lets this publisher's category keep long-term subscriptions",
        )?;
        Ok(decision.is_ok())
    }

    fn audit_decision_once(
        &mut self,
        what: &str,
        decision: &Result<(), Denial>,
        allowed: &str,
    ) -> Result<(), Denial> {
        let (outcome, detail) = match decision {
            Ok(()) => (Outcome::Allowed, allowed),
            Err(d) => {
                self.gate.count_denial(what);
                (Outcome::Denied, d.reason.as_str())
            }
        };
        let (gate, subject) = (&self.gate, &self.subject);
        self.memo
            .write_first_use(&format!("{what}:{}", outcome.as_str()), || {
                gate.audit(subject.actor(), what, outcome, detail)
            })
    }

    /// Notes that the event asks the user to pay: false if it has asked
    /// before (at most one payment prompt per event).
    pub(crate) fn take_payment_prompt(&mut self) -> bool {
        !std::mem::replace(&mut self.event.payment_asked, true)
    }

    /// Notes that the user declined (or cancelled) paying `order` in this
    /// event, or tells whether they did: a declined order is not asked again
    /// in the event.
    pub(crate) fn declined_in_event(&mut self, order: &str, note: bool) -> bool {
        if note {
            self.event.declined_orders.insert(order.to_string());
        }
        self.event.declined_orders.contains(order)
    }

    /// Asks the user to confirm a payment, waiting at most `timeout` (then
    /// `None`).
    pub(crate) async fn confirm_payment(
        &self,
        prompt: &PaymentPrompt,
        timeout: Duration,
    ) -> Option<PaymentAnswer> {
        self.lane.start_user_wait();
        let answer = tokio::time::timeout(timeout, self.gate.prompter.confirm_payment(prompt))
            .await
            .ok();
        self.lane.end_user_wait();
        answer
    }

    /// Asks the user which of the offered templates to accept.
    pub(crate) async fn ask_subscription(
        &self,
        prompt: &SubscriptionPrompt,
    ) -> Vec<SubscriptionAnswer> {
        self.lane.start_user_wait();
        let timeout = self.gate.prompt_timeout;
        let answers = tokio::time::timeout(timeout, self.gate.prompter.ask_subscription(prompt))
            .await
            .ok();
        self.lane.end_user_wait();
        answers.unwrap_or_else(|| {
            // No answer in time: every template is rejected (each audited by
            // the caller).
            let detail = format!(
                "the user did not answer within {} ms: every template rejected",
                timeout.as_millis()
            );
            if let Err(e) = self.audit("messaging.subscribe", Outcome::Denied, &detail) {
                tracing::error!("audit of a subscription prompt: {}", e.reason);
            }
            Vec::new()
        })
    }

    /// Asks the user to choose a photo or file; `None` if the user does
    /// not answer within the prompt timeout.
    pub(crate) async fn choose_media(
        &self,
        prompt: &crate::media::MediaPrompt,
    ) -> Option<crate::media::MediaAnswer> {
        self.lane.start_user_wait();
        let answer = tokio::time::timeout(
            self.gate.prompt_timeout,
            self.gate.prompter.choose_media(prompt),
        )
        .await
        .ok();
        self.lane.end_user_wait();
        answer
    }

    /// Asks the user to scan a code; `None` if the user does not answer
    /// within the prompt timeout.
    pub(crate) async fn scan_code(
        &self,
        prompt: &crate::scan::ScanPrompt,
    ) -> Option<crate::scan::ScanAnswer> {
        self.lane.start_user_wait();
        let answer = tokio::time::timeout(
            self.gate.prompt_timeout,
            self.gate.prompter.scan_code(prompt),
        )
        .await
        .ok();
        self.lane.end_user_wait();
        answer
    }

    /// Offers the user to open a scanned link; `None` if the user does not
    /// answer within the prompt timeout.
    pub(crate) async fn offer_link(&self, offer: &crate::scan::LinkOffer) -> Option<bool> {
        self.lane.start_user_wait();
        let answer = tokio::time::timeout(
            self.gate.prompt_timeout,
            self.gate.prompter.offer_link(offer),
        )
        .await
        .ok();
        self.lane.end_user_wait();
        answer
    }

    /// Appends an entry for this session to the audit log.
    /// A denial counts in [`Gate::denial_counts`].
    pub(crate) fn audit(&self, what: &str, outcome: Outcome, detail: &str) -> Result<(), Denial> {
        if outcome == Outcome::Denied {
            self.gate.count_denial(what);
        }
        self.gate.audit(self.subject.actor(), what, outcome, detail)
    }

    /// An entry for this session, for the ledger to append in the same
    /// transaction as the payment or refund it records.
    pub(crate) fn entry(&self, what: &str, outcome: Outcome, detail: &str) -> AuditEntry {
        self.gate.entry(self.subject.actor(), what, outcome, detail)
    }

    /// Audits a decision on something the session does that is audited at
    /// every use (a message, a subscription): each allowed use, and each
    /// distinct refusal once per event (a refused call in a loop writes one
    /// entry).
    pub(crate) fn audit_use(
        &mut self,
        what: &str,
        outcome: Outcome,
        detail: &str,
    ) -> Result<(), Denial> {
        if outcome == Outcome::Allowed {
            return self.audit(what, outcome, detail);
        }
        self.gate.count_denial(what);
        let (gate, subject) = (&self.gate, &self.subject);
        self.event.write_once(what, outcome, detail, || {
            gate.audit(subject.actor(), what, outcome, detail)
        })
    }

    /// Audits an allowed use once per session (a pseudonymous id, say); a
    /// use whose entry could not be written is audited again at the next.
    pub(crate) fn audit_first_use(&mut self, what: &str, detail: &str) -> Result<(), Denial> {
        let (gate, subject) = (&self.gate, &self.subject);
        self.memo.write_first_use(what, || {
            gate.audit(subject.actor(), what, Outcome::Allowed, detail)
        })
    }

    /// Audits a refusal once per event (the same refusal repeated in a loop
    /// writes one entry); a failure to write is logged, the refusal stands,
    /// and the next one tries to write it again.
    pub(crate) fn refuse_once_per_event(&mut self, what: &str, detail: &str) {
        if let Err(e) = self.audit_use(what, Outcome::Denied, detail) {
            tracing::error!("{e}");
        }
    }
}

/// An owned handle on the gate for one session, for work that outlives a
/// host call (an outbound request and its body).
#[derive(Clone)]
pub(crate) struct Auditor {
    gate: Arc<Gate>,
    subject: Subject,
    /// What the session's current event has written.
    written: Written,
}

impl Auditor {
    /// Who is asking.
    pub(crate) fn subject(&self) -> &Subject {
        &self.subject
    }

    /// Whether the session may send this request ([`Gate::check_request`]).
    pub(crate) fn check_request(
        &self,
        target: &RequestTarget<'_>,
        developer_mode: bool,
    ) -> Result<Origin, Denial> {
        self.gate
            .check_request(&self.subject, target, developer_mode, &self.written)
    }

    /// Audits a refusal once per event of the session (the same refusal
    /// repeated in a loop writes one entry); a failure to write is logged,
    /// the refusal stands.
    pub(crate) fn refuse_once_per_event(&self, what: &str, detail: &str) {
        self.gate.count_denial(what);
        if let Err(e) = self.written.write_once(what, Outcome::Denied, detail, || {
            self.gate
                .audit(self.subject.actor(), what, Outcome::Denied, detail)
        }) {
            tracing::error!("{e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::manifest::Category;
    use crate::prompt::ScriptedPrompter;
    use crate::store::{AuditQuery, AuditStore, ConsentStore, PublisherStore, SqliteStore};

    fn manifest(category: &str, caps: &str) -> Arc<Manifest> {
        Arc::new(
            Manifest::parse(
                "plaza.toml",
                &format!(
                    "[app]\nid = \"cn.test.app\"\nname = \"App\"\nversion = \"1.0.0\"\n\
                     [publisher]\nid = \"cn.test\"\nname = \"Test Pub\"\ncategory = \"{category}\"\n{caps}"
                ),
            )
            .unwrap(),
        )
    }

    struct Fixture {
        gate: Gate,
        store: Arc<SqliteStore>,
        prompter: Arc<ScriptedPrompter>,
    }

    fn fixture() -> Fixture {
        let store = Arc::new(SqliteStore::open_in_memory().unwrap());
        let prompter = Arc::new(ScriptedPrompter::new());
        let gate = Gate::new(
            Policy::default(),
            store.clone(),
            Arc::new(ManualClock::new(1_000)),
            prompter.clone(),
        );
        Fixture {
            gate,
            store,
            prompter,
        }
    }

    fn subject(m: Arc<Manifest>, verified: bool) -> Subject {
        Subject {
            user: "alice".into(),
            session: "s-1".into(),
            publisher_verified: verified,
            publisher_name: "Test Pub".into(),
            generation: 0,
            origins: m.origins().into(),
            manifest: m,
        }
    }

    /// [`Gate::check`] of storage, in an event of its own.
    fn check_storage(gate: &Gate, s: &Subject, memo: &mut AuditMemo) -> Result<(), Denial> {
        gate.check(s, memo, &mut EventMemo::default(), Capability::Storage)
    }

    fn audit(store: &SqliteStore) -> Vec<(String, Outcome)> {
        store
            .audit_entries(&AuditQuery::default())
            .unwrap()
            .into_iter()
            .map(|e| (e.capability, e.outcome))
            .collect()
    }

    #[test]
    fn undeclared_capability_is_denied_and_audited() {
        let f = fixture();
        let s = subject(manifest("other", "[capabilities.log]"), false);
        let mut memo = AuditMemo::default();
        let d = check_storage(&f.gate, &s, &mut memo).unwrap_err();
        assert!(d.reason.contains("[capabilities.storage]"), "{d}");
        assert_eq!(audit(&f.store), vec![("storage".into(), Outcome::Denied)]);
    }

    #[test]
    fn a_new_policy_takes_effect_in_a_session_that_was_allowed_before() {
        let f = fixture();
        let s = subject(manifest("other", "[capabilities.storage]"), false);
        let mut memo = AuditMemo::default();
        check_storage(&f.gate, &s, &mut memo).unwrap();
        let mut policy = Policy::default();
        policy.deny_capability(Category::Other, Capability::Storage);
        f.gate.set_policy(policy);
        let d = check_storage(&f.gate, &s, &mut memo).unwrap_err();
        assert!(d.reason.contains("policy"), "{d}");
        f.gate.set_policy(Policy::default());
        check_storage(&f.gate, &s, &mut memo).unwrap();
        assert_eq!(
            audit(&f.store),
            vec![
                ("storage".into(), Outcome::Allowed),
                ("storage".into(), Outcome::Denied),
                ("storage".into(), Outcome::Allowed)
            ]
        );
    }

    #[test]
    fn allowed_capability_is_audited_once_per_session() {
        let f = fixture();
        let s = subject(manifest("other", "[capabilities.storage]"), false);
        let mut memo = AuditMemo::default();
        for _ in 0..3 {
            check_storage(&f.gate, &s, &mut memo).unwrap();
        }
        assert_eq!(audit(&f.store), vec![("storage".into(), Outcome::Allowed)]);
        // A new session audits its own first use.
        check_storage(&f.gate, &s, &mut AuditMemo::default()).unwrap();
        assert_eq!(audit(&f.store).len(), 2);
    }

    #[test]
    fn policy_can_take_a_capability_away_from_a_category() {
        let f = fixture();
        let s = subject(manifest("commerce", "[capabilities.storage]"), false);
        let mut policy = Policy::default();
        policy.deny_capability(Category::Commerce, Capability::Storage);
        f.gate.set_policy(policy);
        let d = check_storage(&f.gate, &s, &mut AuditMemo::default()).unwrap_err();
        assert!(d.reason.contains("commerce"), "{d}");
    }

    #[tokio::test]
    async fn consent_is_asked_once_and_remembered_both_ways() {
        let f = fixture();
        let m = manifest(
            "medical",
            "[capabilities.identity]\nscopes = { phone = \"To call you\", profile = \"To greet you\" }",
        );
        let s = subject(m, true);
        f.prompter
            .answer_consent(Scope::Phone, ConsentAnswer::Allow);
        f.prompter
            .answer_consent(Scope::Profile, ConsentAnswer::Deny);
        f.gate.check_scope(&s, Scope::Phone).await.unwrap();
        f.gate.check_scope(&s, Scope::Phone).await.unwrap();
        assert!(f.gate.check_scope(&s, Scope::Profile).await.is_err());
        let d = f.gate.check_scope(&s, Scope::Profile).await.unwrap_err();
        assert!(d.reason.contains("refused"), "{d}");
        let asked: Vec<Scope> = f
            .prompter
            .consent_questions()
            .iter()
            .map(|q| q.scope)
            .collect();
        assert_eq!(asked, vec![Scope::Phone, Scope::Profile]);
        assert_eq!(f.prompter.consent_questions()[0].purpose, "To call you");
        // Revoking makes the next use ask again.
        assert!(
            f.store
                .revoke_consent("alice", "cn.test.app", "phone")
                .unwrap()
        );
        f.gate.check_scope(&s, Scope::Phone).await.unwrap();
        assert_eq!(f.prompter.consent_questions().len(), 3);
    }

    #[tokio::test]
    async fn dismissed_consent_is_not_remembered() {
        let f = fixture();
        let s = subject(
            manifest(
                "other",
                "[capabilities.identity]\nscopes = { location = \"Nearest clinic\" }",
            ),
            false,
        );
        assert!(f.gate.check_scope(&s, Scope::Location).await.is_err());
        assert!(f.gate.check_scope(&s, Scope::Location).await.is_err());
        assert_eq!(f.prompter.consent_questions().len(), 2);
    }

    #[tokio::test]
    async fn sensitive_scopes_need_a_verified_publisher_of_an_allowed_category() {
        let f = fixture();
        f.prompter
            .answer_consent(Scope::RealName, ConsentAnswer::Allow);
        let caps = "[capabilities.identity]\nscopes = { real-name = \"To register you\" }";
        let shop = subject(manifest("commerce", caps), true);
        let d = f
            .gate
            .check_scope(&shop, Scope::RealName)
            .await
            .unwrap_err();
        assert!(d.reason.contains("commerce"), "{d}");
        let unverified = subject(manifest("medical", caps), false);
        let d = f
            .gate
            .check_scope(&unverified, Scope::RealName)
            .await
            .unwrap_err();
        assert!(d.reason.contains("not verified"), "{d}");
        // Neither was prompted.
        assert!(f.prompter.consent_questions().is_empty());
        let hospital = subject(manifest("medical", caps), true);
        f.gate
            .check_scope(&hospital, Scope::RealName)
            .await
            .unwrap();
        assert_eq!(f.prompter.consent_questions().len(), 1);
    }

    fn target<'a>(scheme: &'a str, host: &'a str, port: u16) -> RequestTarget<'a> {
        RequestTarget {
            method: "GET",
            scheme,
            host,
            port,
        }
    }

    #[test]
    fn requests_pass_only_to_declared_origins_and_every_decision_is_audited() {
        let f = fixture();
        let s = subject(
            manifest(
                "government",
                "[capabilities.network]\norigins = [\"https://*.hz.gov.cn\", \"http://localhost:8080\"]",
            ),
            true,
        );
        let ok = f
            .gate
            .check_request(
                &s,
                &target("https", "fines.hz.gov.cn", 443),
                false,
                &Written::default(),
            )
            .unwrap();
        assert_eq!(ok.to_string(), "https://*.hz.gov.cn");
        for (t, dev, why) in [
            (
                target("https", "hz.gov.cn", 443),
                false,
                "not one the manifest declares",
            ),
            (
                target("https", "fines.hz.gov.cn", 8443),
                false,
                "not one the manifest declares",
            ),
            (
                target("https", "evil-hz.gov.cn", 443),
                false,
                "not one the manifest declares",
            ),
            (
                target("http", "localhost", 8080),
                false,
                "only in developer mode",
            ),
            (
                target("http", "127.0.0.1", 8080),
                true,
                "not one the manifest declares",
            ),
            (
                target("http", "fines.hz.gov.cn", 80),
                true,
                "only to loopback hosts",
            ),
            (target("ftp", "fines.hz.gov.cn", 21), true, "only https"),
        ] {
            let d = f
                .gate
                .check_request(&s, &t, dev, &Written::default())
                .unwrap_err();
            assert!(d.reason.contains(why), "{t:?}: {d}");
            assert!(d.reason.contains(&format!("`{}`", t.origin_text())), "{d}");
        }
        f.gate
            .check_request(
                &s,
                &target("http", "localhost", 8080),
                true,
                &Written::default(),
            )
            .unwrap();
        let audit = audit(&f.store);
        assert_eq!(audit.len(), 9);
        assert!(audit.iter().all(|(c, _)| c == "network"));
        let outcomes: Vec<Outcome> = audit.into_iter().map(|(_, o)| o).collect();
        assert_eq!(outcomes[0], Outcome::Allowed);
        assert!(outcomes[1..8].iter().all(|o| *o == Outcome::Denied));
        assert_eq!(outcomes[8], Outcome::Allowed);
    }

    #[test]
    fn the_network_needs_the_manifest_and_the_policy() {
        let f = fixture();
        let s = subject(manifest("commerce", "[capabilities.log]"), false);
        let d = f
            .gate
            .check_request(
                &s,
                &target("https", "shop.example.cn", 443),
                false,
                &Written::default(),
            )
            .unwrap_err();
        assert!(d.reason.contains("[capabilities.network]"), "{d}");
        let s = subject(
            manifest(
                "commerce",
                "[capabilities.network]\norigins = [\"https://shop.example.cn\"]",
            ),
            false,
        );
        let mut policy = Policy::default();
        policy.deny_capability(Category::Commerce, Capability::Network);
        f.gate.set_policy(policy);
        let d = f
            .gate
            .check_request(
                &s,
                &target("https", "shop.example.cn", 443),
                false,
                &Written::default(),
            )
            .unwrap_err();
        assert!(d.reason.contains("policy"), "{d}");
    }

    #[tokio::test]
    async fn undeclared_scope_is_denied_without_prompt() {
        let f = fixture();
        let s = subject(manifest("medical", "[capabilities.identity]"), true);
        let d = f.gate.check_scope(&s, Scope::Phone).await.unwrap_err();
        assert!(d.reason.contains("does not declare the scope"), "{d}");
        assert!(f.prompter.consent_questions().is_empty());
    }

    /// An audit log whose writes fail while `failing` is set.
    struct FlakyAudit {
        inner: Arc<SqliteStore>,
        failing: std::sync::atomic::AtomicBool,
    }

    impl AuditStore for FlakyAudit {
        fn append_audit(&self, entry: &AuditEntry) -> crate::store::StoreResult<()> {
            if self.failing.load(Ordering::SeqCst) {
                return Err(crate::store::StoreError::Database {
                    operation: "appending to the audit log",
                    message: "disk I/O error (injected)".into(),
                });
            }
            self.inner.append_audit(entry)
        }

        fn audit_entries(
            &self,
            query: &crate::store::AuditQuery,
        ) -> crate::store::StoreResult<Vec<AuditEntry>> {
            self.inner.audit_entries(query)
        }
    }

    #[test]
    fn an_allowance_whose_entry_failed_is_not_cached() {
        let f = fixture();
        let flaky = Arc::new(FlakyAudit {
            inner: f.store.clone(),
            failing: true.into(),
        });
        let gate = Gate {
            audit_log: flaky.clone(),
            ..f.gate
        };
        let s = subject(manifest("other", "[capabilities.storage]"), false);
        let mut memo = AuditMemo::default();
        let mut event = EventMemo::default();
        let d = gate
            .check(&s, &mut memo, &mut event, Capability::Storage)
            .unwrap_err();
        assert!(d.reason.contains("audit log"), "{d}");
        assert!(audit(&f.store).is_empty());
        // The log works again: the next call is decided and written, not
        // waved through on an allowance nobody recorded.
        flaky.failing.store(false, Ordering::SeqCst);
        gate.check(&s, &mut memo, &mut event, Capability::Storage)
            .unwrap();
        assert_eq!(audit(&f.store), vec![("storage".into(), Outcome::Allowed)]);
    }

    /// A consent store and publisher registry whose reads and writes fail
    /// while `failing` is set, as a store whose database went away.
    struct FlakyStore {
        inner: Arc<SqliteStore>,
        failing: std::sync::atomic::AtomicBool,
    }

    impl FlakyStore {
        fn check(&self, operation: &'static str) -> crate::store::StoreResult<()> {
            if self.failing.load(Ordering::SeqCst) {
                return Err(crate::store::StoreError::Database {
                    operation,
                    message: "no connection to PostgreSQL (injected)".into(),
                });
            }
            Ok(())
        }
    }

    impl ConsentStore for FlakyStore {
        fn get_consent(
            &self,
            user: &str,
            app: &str,
            scope: &str,
        ) -> crate::store::StoreResult<Option<ConsentRecord>> {
            self.check("read a consent")?;
            self.inner.get_consent(user, app, scope)
        }
        fn put_consent(&self, record: &ConsentRecord) -> crate::store::StoreResult<()> {
            self.check("write a consent")?;
            self.inner.put_consent(record)
        }
        fn list_consents(&self, user: &str) -> crate::store::StoreResult<Vec<ConsentRecord>> {
            self.inner.list_consents(user)
        }
        fn revoke_consent(
            &self,
            user: &str,
            app: &str,
            scope: &str,
        ) -> crate::store::StoreResult<bool> {
            self.inner.revoke_consent(user, app, scope)
        }
        fn reset_consents(&self, app: &str, scope: Option<&str>) -> crate::store::StoreResult<u64> {
            self.inner.reset_consents(app, scope)
        }
    }

    impl PublisherStore for FlakyStore {
        fn put_publisher(
            &self,
            record: &crate::store::PublisherRecord,
        ) -> crate::store::StoreResult<()> {
            self.inner.put_publisher(record)
        }
        fn get_publisher(
            &self,
            id: &str,
        ) -> crate::store::StoreResult<Option<crate::store::PublisherRecord>> {
            self.check("read a publisher")?;
            self.inner.get_publisher(id)
        }
        fn list_publishers(&self) -> crate::store::StoreResult<Vec<crate::store::PublisherRecord>> {
            self.inner.list_publishers()
        }
        fn delete_publisher(&self, id: &str) -> crate::store::StoreResult<bool> {
            self.inner.delete_publisher(id)
        }
    }

    /// A consent the store cannot read is no decision: `unavailable` for the
    /// guest, no question to the user, no refusal audited or counted or
    /// remembered; once the store answers, the user is asked as usual.
    #[tokio::test]
    async fn a_consent_the_store_cannot_read_is_unavailable_not_refused() {
        let f = fixture();
        let flaky = Arc::new(FlakyStore {
            inner: f.store.clone(),
            failing: true.into(),
        });
        let gate = Gate {
            consents: flaky.clone(),
            ..f.gate
        };
        let s = subject(
            manifest(
                "medical",
                "[capabilities.identity]\nscopes = { phone = \"To call you\" }",
            ),
            true,
        );
        f.prompter
            .answer_consent(Scope::Phone, ConsentAnswer::Allow);
        let d = gate.check_scope(&s, Scope::Phone).await.unwrap_err();
        assert_eq!(d.cause, DenialCause::StoreFailed, "{d}");
        assert!(
            d.reason.contains("could not read the user's consent"),
            "{d}"
        );
        assert!(matches!(
            plaza_world::types::Error::from(d.clone()),
            plaza_world::types::Error::Unavailable(r) if r == d.reason
        ));
        assert!(f.prompter.consent_questions().is_empty());
        assert!(gate.denial_counts().is_empty());
        assert!(audit(&f.store).is_empty());
        flaky.failing.store(false, Ordering::SeqCst);
        gate.check_scope(&s, Scope::Phone).await.unwrap();
        assert_eq!(f.prompter.consent_questions().len(), 1);
    }

    /// A publisher registry the store cannot read settles no payment
    /// without insurance: the decision is `unavailable`, not "the wallet
    /// pays the whole amount".
    #[test]
    fn insurance_the_registry_cannot_confirm_is_unavailable_not_refused() {
        let f = fixture();
        let flaky = Arc::new(FlakyStore {
            inner: f.store.clone(),
            failing: true.into(),
        });
        f.store
            .put_publisher(&crate::store::PublisherRecord {
                id: "cn.test".into(),
                name: "Test Pub".into(),
                category: Category::Medical,
                verified: true,
                public_key: "01".repeat(32),
                added_at_ms: 0,
            })
            .unwrap();
        let gate = Gate {
            registry: flaky.clone(),
            ..f.gate
        };
        let s = subject(manifest("medical", "[capabilities.payment]"), true);
        let d = gate.insurance_items(&s).unwrap_err();
        assert_eq!(d.cause, DenialCause::StoreFailed, "{d}");
        assert!(d.reason.contains("publisher registry"), "{d}");
        flaky.failing.store(false, Ordering::SeqCst);
        assert!(!gate.insurance_items(&s).unwrap().is_empty());
    }

    /// An audit log that cannot be written denies the call as
    /// `unavailable`: nothing was decided on the record.
    #[test]
    fn an_audit_log_that_cannot_be_written_makes_the_call_unavailable() {
        let f = fixture();
        let flaky = Arc::new(FlakyAudit {
            inner: f.store.clone(),
            failing: true.into(),
        });
        let gate = Gate {
            audit_log: flaky,
            ..f.gate
        };
        let s = subject(manifest("other", "[capabilities.storage]"), false);
        let d = check_storage(&gate, &s, &mut AuditMemo::default()).unwrap_err();
        assert_eq!(d.cause, DenialCause::StoreFailed, "{d}");
        assert!(matches!(
            plaza_world::types::Error::from(d),
            plaza_world::types::Error::Unavailable(_)
        ));
    }

    #[test]
    fn a_repeated_denial_is_written_once_per_event() {
        let f = fixture();
        let s = subject(manifest("other", "[capabilities.log]"), false);
        let mut memo = AuditMemo::default();
        for _event in 0..2 {
            let mut event = EventMemo::default();
            for _ in 0..50 {
                f.gate
                    .check(&s, &mut memo, &mut event, Capability::Storage)
                    .unwrap_err();
            }
        }
        assert_eq!(
            audit(&f.store),
            vec![
                ("storage".into(), Outcome::Denied),
                ("storage".into(), Outcome::Denied)
            ]
        );
    }
}
