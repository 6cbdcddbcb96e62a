//! `plaza:host/payment`: payments from the user's wallet to the mini-app's
//! publisher, confirmed by the user, settled in one SQLite transaction, with
//! real-time medical-insurance settlement where the policy allows it.
//!
//! Every call is audited (payments are rare and each one matters): the
//! request, the prompt, the user's answer and the outcome.
//!
//! Which items insurance covers is the host's decision, not the mini-app's:
//! an item is settled with insurance only when the mini-app marks it
//! eligible *and* the gate finds the publisher verified (in the registry, at
//! the moment of paying) in a category the policy settles insurance for,
//! *and* the policy allows the item's kind for that publisher
//! ([`Policy::insurance_items`](crate::policy::Policy::insurance_items)).
//! Any other item is paid from the wallet; the user's prompt, the receipt
//! and the stored bill show the host's decision.
//!
//! A payment's and a refund's audit entry is written by the ledger in the
//! money's own transaction: a payment that committed is reported as paid,
//! and one whose entry could not be written did not happen. A mini-app is
//! not told the wallet's balance (`insufficient-funds` carries 0 as
//! `available`), and its history pages by the transaction id of the last
//! payment it was shown, not by a host-wide sequence.
//!
//! No prompt storms: the user is asked to pay only while the host delivers
//! the user's tap or form (the gate's gesture rule), at most once per event,
//! and an order the user declined or cancelled is not asked again in that
//! event (the mini-app gets `declined` at once). A request for an order paid
//! before returns its receipt without asking, from any event.

use crate::clock::{Clock, IdSource, civil_date};
use crate::gate::SessionGate;
use crate::keys::HostKeys;
use crate::ledger::{self, Invalid, LineItem, insurance_split};
use crate::manifest::Capability;
use crate::manifest::NotifyUrl;
use crate::policy::item_kind;
use crate::prompt::{PaymentAnswer, PaymentPrompt};
use crate::services::PaymentSettings;
use crate::services::notify::{payment_notification, refund_notification};
use crate::store::{
    InsuranceTerms, LedgerStore, NotificationRecord, Outcome, PayCommand, PayResult, PaymentNotice,
    PaymentRecord, PrivacyStore, RefundCommand, RefundNotice, RefundRecord, RefundResult,
    wallet_account,
};
use plaza_world::payment::{
    self as wit, HistoryPage, Host, InsufficientFunds, PaymentOutcome, PaymentRequest,
    RefundReceipt,
};
use plaza_world::types::Error as WitError;
use std::collections::BTreeSet;
use wasmtime::component::HasData;

/// The most payments one `history` call returns.
pub const MAX_HISTORY_PAGE: u32 = 100;

fn store_failed(e: crate::store::StoreError) -> WitError {
    tracing::error!("payment: {e}");
    WitError::Unavailable("the host's ledger failed; nothing was paid. Try again later".into())
}

fn to_wit_receipt(r: &ledger::Receipt) -> wit::Receipt {
    wit::Receipt {
        transaction_id: r.transaction_id.clone(),
        order_id: r.order_id.clone(),
        amount: r.amount,
        currency: r.currency.clone(),
        wallet_part: r.wallet_part,
        insurance_part: r.insurance_part,
        payee: r.payee.clone(),
        paid_at_ms: r.paid_at_ms,
        signature: r.signature.clone(),
    }
}

fn to_wit_refund(r: RefundRecord) -> RefundReceipt {
    RefundReceipt {
        transaction_id: r.tx_id,
        order_id: r.order_id,
        amount: r.amount,
        wallet_part: r.wallet_part,
        insurance_part: r.insurance_part,
        refunded_at_ms: r.at_ms,
    }
}

fn to_wit_record(p: &PaymentRecord) -> wit::PaymentRecord {
    wit::PaymentRecord {
        receipt: to_wit_receipt(&p.receipt),
        refunded: p.refunded,
    }
}

/// What the payment capability sees of a session: its way through the gate,
/// the ledger, the host's receipt key, and its settings.
pub(crate) struct PaymentView<'a> {
    pub(crate) gate: &'a mut SessionGate,
    pub(crate) ledger: &'a dyn LedgerStore,
    pub(crate) epochs: &'a dyn PrivacyStore,
    pub(crate) keys: &'a HostKeys,
    pub(crate) settings: &'a PaymentSettings,
    pub(crate) clock: &'a dyn Clock,
    pub(crate) ids: &'a dyn IdSource,
    pub(crate) utc_offset_minutes: i32,
}

/// Links `plaza:host/payment` to a session's [`PaymentView`].
pub(crate) struct Payment;

impl HasData for Payment {
    type Data<'a> = PaymentView<'a>;
}

impl PaymentView<'_> {
    fn allow(&mut self) -> Result<(), WitError> {
        self.gate.check(Capability::Payment).map_err(WitError::from)
    }

    fn audit_payment(&self, what: &str, outcome: Outcome, detail: &str) -> Result<(), WitError> {
        self.gate
            .audit(what, outcome, detail)
            .map_err(WitError::from)
    }

    /// The insurance terms this payment may settle under, and the item
    /// kinds insurance may cover: the gate must let the publisher settle
    /// insurance (verified, in the registry, in a category and with item
    /// kinds the policy allows), and the user must have a card bound.
    fn insurance_terms(&mut self) -> Result<Option<(InsuranceTerms, BTreeSet<String>)>, WitError> {
        let Some(kinds) = self.gate.insurance_items().map_err(WitError::from)? else {
            return Ok(None);
        };
        let Some(card) = self
            .ledger
            .insurance_card(&self.gate.subject().user)
            .map_err(store_failed)?
        else {
            return Ok(None);
        };
        let (year, _, _) = civil_date(self.clock.now_ms(), self.utc_offset_minutes);
        let terms = InsuranceTerms {
            coverage_bp: card.coverage_bp,
            annual_cap: card.annual_cap,
            year,
        };
        Ok(Some((terms, kinds)))
    }
}

/// The bill as the host settles it: an item stays insurance-eligible only if
/// the mini-app marked it so and its kind is one insurance may cover
/// (`covered`; `None`: insurance covers nothing). The mini-app's flag can
/// only narrow what the host allows.
fn settled_items(items: &[LineItem], covered: Option<&BTreeSet<String>>) -> Vec<LineItem> {
    items
        .iter()
        .map(|i| LineItem {
            insurance_eligible: i.insurance_eligible
                && covered.is_some_and(|kinds| kinds.contains(&item_kind(&i.name))),
            ..i.clone()
        })
        .collect()
}

/// The audit detail of a payment that moved money.
fn paid_detail(p: &PaymentRecord) -> String {
    let r = &p.receipt;
    format!(
        "paid {} for order {} in {} (wallet {}, insurance {})",
        ledger::format_money(r.amount as i64, &r.currency),
        r.order_id,
        r.transaction_id,
        ledger::format_money(r.wallet_part as i64, &r.currency),
        ledger::format_money(r.insurance_part as i64, &r.currency)
    )
}

/// The audit detail of a refund that moved money.
fn refunded_detail(r: &RefundRecord) -> String {
    format!(
        "refunded {} of order {} in {} (wallet {}, insurance {})",
        r.amount, r.order_id, r.tx_id, r.wallet_part, r.insurance_part
    )
}

impl Host for PaymentView<'_> {
    async fn request(&mut self, request: PaymentRequest) -> Result<PaymentOutcome, WitError> {
        self.allow()?;
        let items: Vec<LineItem> = request
            .items
            .iter()
            .map(|i| LineItem {
                name: i.name.clone(),
                quantity: i.quantity,
                unit_price: i.unit_price,
                insurance_eligible: i.insurance_eligible,
            })
            .collect();
        let order = request.order_id.clone();
        if let Err(Invalid(message)) = ledger::check_request(
            &order,
            request.amount,
            &request.currency,
            &request.description,
            &items,
        ) {
            self.audit_payment(
                "payment.request",
                Outcome::Denied,
                &format!("invalid request: {message}"),
            )?;
            return Err(WitError::InvalidArgument(message));
        }
        let subject = self.gate.subject().clone();
        let user = subject.user.clone();
        let app = subject.app().to_string();

        // A retried request returns the first receipt without asking again.
        if let Some(existing) = self
            .ledger
            .payment(&app, subject.generation, &order)
            .map_err(store_failed)?
        {
            return self.repeated_order(&existing, &user, request.amount, &request.currency);
        }

        // No prompt storms: asked only from a gesture, once per event, and
        // never again for an order declined in the event.
        self.gate.require_gesture("payment.request", "a payment")?;
        if self.gate.declined_in_event(&order, false) {
            self.gate.refuse_once_per_event(
                "payment.request",
                &format!("order {order} was declined in this event: not asked again"),
            );
            return Ok(PaymentOutcome::Declined);
        }
        if !self.gate.take_payment_prompt() {
            self.gate.refuse_once_per_event(
                "payment.request",
                "a second payment prompt in one event: refused without asking",
            );
            return Err(WitError::LimitExceeded(
                "the user is asked to pay at most once per tap or form; nothing was asked. Offer the next payment on a new page".into(),
            ));
        }

        let insurance = self.insurance_terms()?;
        let items = settled_items(&items, insurance.as_ref().map(|(_, kinds)| kinds));
        let insurance = insurance.map(|(terms, _)| terms);
        let insurance_part = match insurance {
            Some(t) => {
                let used = self
                    .ledger
                    .insurance_used(&user, t.year)
                    .map_err(store_failed)?;
                insurance_split(&items, t.coverage_bp, t.annual_cap.saturating_sub(used))
            }
            None => 0,
        };
        let wallet_balance = self
            .ledger
            .balance(&wallet_account(&user))
            .map_err(store_failed)?
            .max(0) as u64;
        let prompt = PaymentPrompt {
            user: user.clone(),
            app_id: app.clone(),
            app_name: subject.manifest.app.name.clone(),
            payee: subject.publisher_name.clone(),
            payee_verified: subject.publisher_verified,
            order_id: order.clone(),
            amount: request.amount,
            currency: request.currency.clone(),
            description: request.description.clone(),
            items: items.clone(),
            insurance_part,
            wallet_part: request.amount - insurance_part,
            wallet_balance,
        };
        let money = ledger::format_money(request.amount as i64, &request.currency);
        self.audit_payment(
            "payment.prompt",
            Outcome::Allowed,
            &format!(
                "asked the user to pay {money} to {} for order {order}",
                prompt.payee
            ),
        )?;
        let answer = self
            .gate
            .confirm_payment(&prompt, self.settings.confirmation_timeout)
            .await;
        let refused = |what: &str| format!("the user {what} paying {money} for order {order}");
        match answer {
            None => {
                self.audit_payment(
                    "payment.request",
                    Outcome::Denied,
                    &refused("did not answer in time about"),
                )?;
                return Ok(PaymentOutcome::TimedOut);
            }
            Some(PaymentAnswer::Decline) => {
                self.gate.declined_in_event(&order, true);
                self.audit_payment("payment.request", Outcome::Denied, &refused("declined"))?;
                return Ok(PaymentOutcome::Declined);
            }
            Some(PaymentAnswer::Cancel) => {
                self.gate.declined_in_event(&order, true);
                self.audit_payment("payment.request", Outcome::Denied, &refused("cancelled"))?;
                return Ok(PaymentOutcome::Cancelled);
            }
            Some(PaymentAnswer::Confirm) => {}
        }
        let cmd = PayCommand {
            tx_id: self.ids.next_id("tx-"),
            app_id: app.clone(),
            generation: subject.generation,
            publisher_id: subject.manifest.publisher.id.clone(),
            payee: prompt.payee.clone(),
            user: user.clone(),
            order_id: order.clone(),
            amount: request.amount,
            currency: request.currency.clone(),
            description: request.description.clone(),
            items,
            at_ms: self.clock.now_ms(),
            insurance,
        };
        let keys = self.keys;
        let gate = &*self.gate;
        // The entry commits with the payment: once the ledger answers
        // `Paid`, nothing is left to fail.
        let entry =
            |p: &PaymentRecord| gate.entry("payment.request", Outcome::Allowed, &paid_detail(p));
        // So does the notification to the mini-app's back-end, if it takes
        // them: the payer by the openid the mini-app knows.
        let notify = self.notify_url();
        let openid = match notify {
            Some(_) => Some(self.openid()?),
            None => None,
        };
        let ids = self.ids;
        let notice = notify.map(|url| {
            move |p: &PaymentRecord| {
                payment_notification(ids.next_id("ntf-"), url, p, openid.clone())
            }
        });
        let result = self
            .ledger
            .pay_audited(
                &cmd,
                &|message| keys.sign(message),
                Some(&entry),
                notice.as_ref().map(|f| f as PaymentNotice<'_>),
            )
            .map_err(store_failed)?;
        match result {
            PayResult::Paid(p) => {
                if notify.is_some() {
                    self.settings.notifications_due.notify_one();
                }
                Ok(PaymentOutcome::Paid(to_wit_receipt(&p.receipt)))
            }
            PayResult::AlreadyPaid(p) | PayResult::Conflict(p) => {
                // Paid meanwhile by a concurrent request for the same order.
                self.repeated_order(&p, &user, request.amount, &request.currency)
            }
            PayResult::InsufficientFunds { needed, available } => {
                self.audit_payment(
                    "payment.request",
                    Outcome::Denied,
                    &format!("insufficient funds for order {order}: needed {needed}, available {available}"),
                )?;
                // The mini-app learns what its bill needs from the wallet,
                // never what the wallet holds.
                Ok(PaymentOutcome::InsufficientFunds(InsufficientFunds {
                    needed,
                    available: 0,
                }))
            }
        }
    }

    async fn refund(
        &mut self,
        order_id: String,
        amount: u64,
        reason: String,
    ) -> Result<RefundReceipt, WitError> {
        self.refund_as(order_id, None, amount, reason)
    }

    async fn query(&mut self, order_id: String) -> Result<wit::PaymentRecord, WitError> {
        self.allow()?;
        if let Err(Invalid(m)) = ledger::check_order_id(&order_id) {
            return Err(WitError::InvalidArgument(m));
        }
        let erased_at = self.erased_at()?;
        let subject = self.gate.subject();
        let found = self
            .ledger
            .payment(subject.app(), subject.generation, &order_id)
            .map_err(store_failed)?
            .filter(|p| p.user == subject.user && !paid_before(p, erased_at));
        match found {
            Some(p) => Ok(to_wit_record(&p)),
            None => Err(WitError::NotFound(format!(
                "this mini-app has no payment with order id `{order_id}` from this user"
            ))),
        }
    }

    async fn history(
        &mut self,
        cursor: Option<String>,
        limit: u32,
    ) -> Result<HistoryPage, WitError> {
        self.allow()?;
        if limit == 0 || limit > MAX_HISTORY_PAGE {
            return Err(WitError::InvalidArgument(format!(
                "limit must be 1 to {MAX_HISTORY_PAGE}"
            )));
        }
        let subject = self.gate.subject();
        let erased_at = self.erased_at()?;
        let invalid_cursor = |c: &str| {
            WitError::InvalidArgument(format!(
                "`{}` is not a cursor this host gave out",
                c.chars().take(80).collect::<String>()
            ))
        };
        // After an erasure, a transaction id of the user's earlier payments
        // is no cursor either: an empty page instead of `invalid-argument`
        // would tell the mini-app the new user is the one who paid it.
        if let (Some(c), Some(_)) = (cursor.as_deref(), erased_at) {
            let visible = self
                .ledger
                .payment_by_transaction(subject.app(), subject.generation, &subject.user, c)
                .map_err(store_failed)?
                .is_some_and(|p| !paid_before(&p, erased_at));
            if !visible {
                return Err(invalid_cursor(c));
            }
        }
        let page = self
            .ledger
            .payments(
                subject.app(),
                subject.generation,
                &subject.user,
                cursor.as_deref(),
                limit as usize + 1,
            )
            .map_err(store_failed)?;
        let Some(mut page) = page else {
            return Err(invalid_cursor(cursor.as_deref().unwrap_or_default()));
        };
        // A user who erased the mini-app's data is a new user to it: what
        // they paid before stays in the ledger, out of its sight (and, being
        // older, ends the history).
        let fetched = page.len();
        page.retain(|p| !paid_before(p, erased_at));
        let more = page.len() > limit as usize && page.len() == fetched;
        page.truncate(limit as usize);
        Ok(HistoryPage {
            // The transaction id of the page's last payment: the mini-app
            // has it from the receipt already, and it counts nothing.
            next_cursor: if more {
                page.last().map(|p| p.receipt.transaction_id.clone())
            } else {
                None
            },
            payments: page.iter().map(to_wit_record).collect(),
        })
    }
}

/// Whether `p` was paid before the user erased the mini-app's data (at
/// `erased_at`, if ever): to the mini-app the user is a new one, and such a
/// payment is another user's (not listed, not found, not refunded, not
/// returned for a repeated order), so probing old order ids cannot join the
/// new user to the old. The ledger keeps it.
fn paid_before(p: &PaymentRecord, erased_at: Option<i64>) -> bool {
    erased_at.is_some_and(|at| p.receipt.paid_at_ms <= at)
}

impl plaza_world::refunds::Host for PaymentView<'_> {
    async fn refund(
        &mut self,
        order_id: String,
        refund_id: String,
        amount: u64,
        reason: String,
    ) -> Result<RefundReceipt, WitError> {
        if let Err(Invalid(m)) = ledger::check_refund_id(&refund_id) {
            return Err(WitError::InvalidArgument(m));
        }
        self.refund_as(order_id, Some(refund_id), amount, reason)
    }
}

impl PaymentView<'_> {
    /// Refunds for `payment.refund` (no refund id) and `refunds.refund`: a
    /// retried refund id returns the first refund.
    fn refund_as(
        &mut self,
        order_id: String,
        refund_id: Option<String>,
        amount: u64,
        reason: String,
    ) -> Result<RefundReceipt, WitError> {
        self.allow()?;
        if let Err(Invalid(m)) = ledger::check_order_id(&order_id) {
            return Err(WitError::InvalidArgument(m));
        }
        if reason.chars().count() > 256 {
            return Err(WitError::InvalidArgument(
                "the reason must be at most 256 characters".into(),
            ));
        }
        let erased_at = self.erased_at()?;
        let subject = self.gate.subject();
        let hidden = erased_at.is_some()
            && self
                .ledger
                .payment(subject.app(), subject.generation, &order_id)
                .map_err(store_failed)?
                .is_some_and(|p| p.user == subject.user && paid_before(&p, erased_at));
        let result = if hidden {
            RefundResult::NotFound
        } else {
            let cmd = RefundCommand {
                tx_id: self.ids.next_id("tx-"),
                app_id: subject.app().to_string(),
                generation: subject.generation,
                user: subject.user.clone(),
                order_id: order_id.clone(),
                amount,
                reason,
                at_ms: self.clock.now_ms(),
                refund_id,
            };
            // The notification needs the payment's currency and the
            // payer's openid (the payment, if any, is this user's: no
            // other is refunded).
            let notify = self.notify_url();
            let about = match notify {
                Some(_) => self
                    .ledger
                    .payment(subject.app(), subject.generation, &order_id)
                    .map_err(store_failed)?
                    .map(|p| Ok::<_, WitError>((p.receipt.currency, self.openid()?)))
                    .transpose()?,
                None => None,
            };
            let ids = self.ids;
            let notice = notify.zip(about).map(|(url, (currency, openid))| {
                move |r: &RefundRecord| -> NotificationRecord {
                    refund_notification(
                        ids.next_id("ntf-"),
                        url,
                        r,
                        &currency,
                        Some(openid.clone()),
                    )
                }
            });
            let gate = &*self.gate;
            let entry = |r: &RefundRecord| {
                gate.entry("payment.refund", Outcome::Allowed, &refunded_detail(r))
            };
            let result = self
                .ledger
                .refund_audited(
                    &cmd,
                    Some(&entry),
                    notice.as_ref().map(|f| f as RefundNotice<'_>),
                )
                .map_err(store_failed)?;
            if notice.is_some() && matches!(result, RefundResult::Refunded(_)) {
                self.settings.notifications_due.notify_one();
            }
            result
        };
        match result {
            RefundResult::Refunded(r) => Ok(to_wit_refund(r)),
            RefundResult::Repeated(r) => {
                self.audit_payment(
                    "payment.refund",
                    Outcome::Allowed,
                    &format!(
                        "refund id {} retried: returned its refund {}",
                        r.refund_id.as_deref().unwrap_or_default(),
                        r.tx_id
                    ),
                )?;
                Ok(to_wit_refund(r))
            }
            RefundResult::NotFound => {
                self.audit_payment(
                    "payment.refund",
                    Outcome::Denied,
                    &format!("no payment of this mini-app for order {order_id} by this user"),
                )?;
                Err(WitError::NotFound(format!(
                    "this mini-app has no payment with order id `{order_id}` from this user"
                )))
            }
            RefundResult::TooMuch { refundable } => {
                self.audit_payment(
                    "payment.refund",
                    Outcome::Denied,
                    &format!(
                        "refund of {amount} for order {order_id} over the {refundable} refundable"
                    ),
                )?;
                Err(WitError::InvalidArgument(format!(
                    "order `{order_id}` has {refundable} left to refund; a refund must be 1 to {refundable}"
                )))
            }
            RefundResult::RefundIdConflict(first) => {
                self.audit_payment(
                    "payment.refund",
                    Outcome::Denied,
                    "the refund id was used for another refund",
                )?;
                Err(WitError::InvalidArgument(format!(
                    "the refund id was used for order `{}` ({} refunded); use a new refund id for a new refund",
                    first.order_id, first.amount
                )))
            }
        }
    }
    /// Where the mini-app's back-end takes payment notifications, if it
    /// declared it.
    fn notify_url(&self) -> Option<&NotifyUrl> {
        self.gate
            .subject()
            .manifest
            .capabilities
            .payment
            .as_ref()
            .and_then(|p| p.notify.as_ref())
    }

    /// The user's openid in the mini-app now (for its notifications).
    fn openid(&self) -> Result<String, WitError> {
        let subject = self.gate.subject();
        let epoch = self
            .epochs
            .identity_epoch(&subject.user, subject.app())
            .map_err(store_failed)?;
        Ok(crate::capabilities::identity::openid(
            self.keys,
            &subject.user,
            subject.app(),
            subject.generation,
            epoch,
        ))
    }

    fn erased_at(&self) -> Result<Option<i64>, WitError> {
        let subject = self.gate.subject();
        self.epochs
            .erased_at_ms(&subject.user, subject.app())
            .map_err(store_failed)
    }

    /// The answer to a request for an order id that was paid before.
    fn repeated_order(
        &self,
        existing: &PaymentRecord,
        user: &str,
        amount: u64,
        currency: &str,
    ) -> Result<PaymentOutcome, WitError> {
        let order = &existing.receipt.order_id;
        if existing.user == user
            && !paid_before(existing, self.erased_at()?)
            && existing.receipt.amount == amount
            && existing.receipt.currency == currency
        {
            self.audit_payment(
                "payment.request",
                Outcome::Allowed,
                &format!(
                    "order {order} was paid before: returned its receipt {}",
                    existing.receipt.transaction_id
                ),
            )?;
            return Ok(PaymentOutcome::Paid(to_wit_receipt(&existing.receipt)));
        }
        self.audit_payment(
            "payment.request",
            Outcome::Denied,
            &format!("order {order} was already paid with another amount, currency or user"),
        )?;
        Err(WitError::InvalidArgument(format!(
            "order id `{order}` was already paid with a different amount or currency (or by another user); use a new order id for a new payment"
        )))
    }
}
