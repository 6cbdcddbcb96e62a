//! `plaza:host/payment`: payments from the user's wallet to the mini-app's
//! publisher, confirmed by the user, settled in one SQLite transaction, with
//! real-time medical-insurance settlement where the policy allows it.
//!
//! Every call is audited (payments are rare and each one matters): the
//! request, the prompt, the user's answer and the outcome.

use crate::clock::civil_date;
use crate::ledger::{self, Invalid, LineItem, insurance_split};
use crate::manifest::Capability;
use crate::prompt::{PaymentAnswer, PaymentPrompt};
use crate::session::SessionState;
use crate::store::{
    InsuranceTerms, Outcome, PayCommand, PayResult, PaymentRecord, RefundResult, wallet_account,
};
use plaza_world::payment::{
    self as wit, HistoryPage, Host, InsufficientFunds, PaymentOutcome, PaymentRequest,
    RefundReceipt,
};
use plaza_world::types::Error as WitError;

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

fn to_wit_record(p: &PaymentRecord) -> wit::PaymentRecord {
    wit::PaymentRecord {
        receipt: to_wit_receipt(&p.receipt),
        refunded: p.refunded,
    }
}

impl SessionState {
    fn audit_payment(&self, what: &str, outcome: Outcome, detail: &str) -> Result<(), WitError> {
        self.services
            .gate
            .audit(&self.subject, what, outcome, detail)
            .map_err(WitError::from)
    }

    /// The insurance terms this payment may settle under: the publisher's
    /// category must be one the policy settles insurance for, and the user
    /// must have a card bound.
    fn insurance_terms(&self) -> Result<Option<InsuranceTerms>, WitError> {
        let category = self.subject.manifest.publisher.category;
        if !self
            .services
            .gate
            .policy()
            .insurance_payment_categories
            .contains(&category)
        {
            return Ok(None);
        }
        let Some(card) = self
            .services
            .store
            .insurance_card(&self.subject.user)
            .map_err(store_failed)?
        else {
            return Ok(None);
        };
        let (year, _, _) = civil_date(
            self.services.clock.now_ms(),
            self.services.utc_offset_minutes,
        );
        Ok(Some(InsuranceTerms {
            coverage_bp: card.coverage_bp,
            annual_cap: card.annual_cap,
            year,
        }))
    }
}

impl Host for SessionState {
    async fn request(&mut self, request: PaymentRequest) -> Result<PaymentOutcome, WitError> {
        self.allow(Capability::Payment)?;
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
        let services = self.services.clone();
        let user = self.subject.user.clone();
        let app = self.subject.app().to_string();

        // A retried request returns the first receipt without asking again.
        if let Some(existing) = services.store.payment(&app, &order).map_err(store_failed)? {
            return self.repeated_order(&existing, &user, request.amount, &request.currency);
        }

        let insurance = self.insurance_terms()?;
        let insurance_part = match insurance {
            Some(t) => {
                let used = services
                    .store
                    .insurance_used(&user, t.year)
                    .map_err(store_failed)?;
                insurance_split(&items, t.coverage_bp, t.annual_cap.saturating_sub(used))
            }
            None => 0,
        };
        let wallet_balance = services
            .store
            .balance(&wallet_account(&user))
            .map_err(store_failed)?
            .max(0) as u64;
        let prompt = PaymentPrompt {
            user: user.clone(),
            app_id: app.clone(),
            app_name: self.subject.manifest.app.name.clone(),
            payee: self.subject.publisher_name.clone(),
            payee_verified: self.subject.publisher_verified,
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
        self.release_lane();
        let answer = tokio::time::timeout(
            services.payment_timeout,
            services.prompter.confirm_payment(&prompt),
        )
        .await;
        let refused = |what: &str| format!("the user {what} paying {money} for order {order}");
        match answer {
            Err(_) => {
                self.audit_payment(
                    "payment.request",
                    Outcome::Denied,
                    &refused("did not answer in time about"),
                )?;
                return Ok(PaymentOutcome::TimedOut);
            }
            Ok(PaymentAnswer::Decline) => {
                self.audit_payment("payment.request", Outcome::Denied, &refused("declined"))?;
                return Ok(PaymentOutcome::Declined);
            }
            Ok(PaymentAnswer::Cancel) => {
                self.audit_payment("payment.request", Outcome::Denied, &refused("cancelled"))?;
                return Ok(PaymentOutcome::Cancelled);
            }
            Ok(PaymentAnswer::Confirm) => {}
        }
        let cmd = PayCommand {
            tx_id: services.ids.next_id("tx-"),
            app_id: app.clone(),
            publisher_id: self.subject.manifest.publisher.id.clone(),
            payee: prompt.payee.clone(),
            user: user.clone(),
            order_id: order.clone(),
            amount: request.amount,
            currency: request.currency.clone(),
            description: request.description.clone(),
            items,
            at_ms: services.clock.now_ms(),
            insurance,
        };
        let keys = &services.keys;
        let result = services
            .store
            .pay(&cmd, &|message| keys.sign(message))
            .map_err(store_failed)?;
        match result {
            PayResult::Paid(p) => {
                self.audit_payment(
                    "payment.request",
                    Outcome::Allowed,
                    &format!(
                        "paid {money} for order {order} in {} (wallet {}, insurance {})",
                        p.receipt.transaction_id,
                        ledger::format_money(p.receipt.wallet_part as i64, &p.receipt.currency),
                        ledger::format_money(p.receipt.insurance_part as i64, &p.receipt.currency)
                    ),
                )?;
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
                Ok(PaymentOutcome::InsufficientFunds(InsufficientFunds {
                    needed,
                    available,
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
        self.allow(Capability::Payment)?;
        if let Err(Invalid(m)) = ledger::check_order_id(&order_id) {
            return Err(WitError::InvalidArgument(m));
        }
        if reason.chars().count() > 256 {
            return Err(WitError::InvalidArgument(
                "the reason must be at most 256 characters".into(),
            ));
        }
        let services = self.services.clone();
        let user = self.subject.user.clone();
        let app = self.subject.app().to_string();
        let result = services
            .store
            .refund(&crate::store::RefundCommand {
                tx_id: services.ids.next_id("tx-"),
                app_id: app,
                user,
                order_id: order_id.clone(),
                amount,
                reason,
                at_ms: services.clock.now_ms(),
            })
            .map_err(store_failed)?;
        match result {
            RefundResult::Refunded(r) => {
                self.audit_payment(
                    "payment.refund",
                    Outcome::Allowed,
                    &format!(
                        "refunded {amount} of order {order_id} in {} (wallet {}, insurance {})",
                        r.tx_id, r.wallet_part, r.insurance_part
                    ),
                )?;
                Ok(RefundReceipt {
                    transaction_id: r.tx_id,
                    order_id: r.order_id,
                    amount: r.amount,
                    wallet_part: r.wallet_part,
                    insurance_part: r.insurance_part,
                    refunded_at_ms: r.at_ms,
                })
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
        }
    }

    async fn query(&mut self, order_id: String) -> Result<wit::PaymentRecord, WitError> {
        self.allow(Capability::Payment)?;
        if let Err(Invalid(m)) = ledger::check_order_id(&order_id) {
            return Err(WitError::InvalidArgument(m));
        }
        let found = self
            .services
            .store
            .payment(self.subject.app(), &order_id)
            .map_err(store_failed)?
            .filter(|p| p.user == self.subject.user);
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
        self.allow(Capability::Payment)?;
        if limit == 0 || limit > MAX_HISTORY_PAGE {
            return Err(WitError::InvalidArgument(format!(
                "limit must be 1 to {MAX_HISTORY_PAGE}"
            )));
        }
        let before = match &cursor {
            None => None,
            Some(c) => Some(c.parse::<i64>().map_err(|_| {
                WitError::InvalidArgument(format!("`{c}` is not a cursor this host gave out"))
            })?),
        };
        let mut page = self
            .services
            .store
            .payments(
                self.subject.app(),
                &self.subject.user,
                before,
                limit as usize + 1,
            )
            .map_err(store_failed)?;
        let more = page.len() > limit as usize;
        page.truncate(limit as usize);
        Ok(HistoryPage {
            next_cursor: if more {
                page.last().map(|p| p.seq.to_string())
            } else {
                None
            },
            payments: page.iter().map(to_wit_record).collect(),
        })
    }
}

impl SessionState {
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
