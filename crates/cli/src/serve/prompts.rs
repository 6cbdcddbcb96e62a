//! The host's questions as dialogs in the browser.
//!
//! [`WebPrompter`] is the simulator's [`Prompter`]: a consent, payment or
//! subscription question becomes a pending dialog that the page polls for,
//! and the event that asked waits (holding no thread) until the user answers
//! it in the browser, or until the prompt timeout. A payment times out where
//! the host says (`HostConfig::payment_timeout`, the same timeout); consent
//! and subscription questions, which the host leaves to the embedding app,
//! time out here: consent is dismissed (not remembered) and the templates
//! are refused. A question whose event was given up is taken off the page.
//!
//! Each question belongs to the simulated user it was asked of: the page
//! shows, and may answer, only the questions of the user it simulates.

use plaza_host::ledger::format_money;
use plaza_host::prompt::{
    BoxFuture, ConsentAnswer, ConsentRequest, PaymentAnswer, PaymentPrompt, Prompter,
    SubscriptionAnswer, SubscriptionPrompt,
};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;

/// An answer from the browser.
#[derive(Debug)]
pub enum Answer {
    /// To a consent question.
    Consent(ConsentAnswer),
    /// To a payment confirmation.
    Payment(PaymentAnswer),
    /// To a subscription request, one per template.
    Subscription(Vec<SubscriptionAnswer>),
}

struct Pending {
    id: u64,
    /// The user asked.
    user: String,
    dialog: Value,
    reply: oneshot::Sender<Answer>,
}

#[derive(Default)]
struct Queue {
    next_id: u64,
    pending: Vec<Pending>,
    /// Questions given up (timed out), with the user asked, newest last,
    /// for the page to say so.
    expired: Vec<(String, Value)>,
}

/// The simulator's prompter; cheap to clone.
#[derive(Clone)]
pub struct WebPrompter {
    queue: Arc<Mutex<Queue>>,
    timeout: Duration,
}

/// Why an answer was not taken.
#[derive(Debug, PartialEq, Eq)]
pub enum AnswerError {
    /// No such question is pending (answered, or given up).
    NotPending(u64),
    /// The question was asked of another user.
    OtherUser {
        /// The question.
        id: u64,
        /// The user it was asked of.
        asked: String,
        /// The user who tried to answer it.
        answering: String,
    },
    /// The answer does not fit the question.
    Mismatch(String),
}

impl std::fmt::Display for AnswerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AnswerError::NotPending(id) => write!(
                f,
                "question {id} is not pending any more (answered already, or it timed out)"
            ),
            AnswerError::OtherUser {
                id,
                asked,
                answering,
            } => write!(
                f,
                "question {id} was asked of {asked}, not {answering}: switch to {asked} to answer it"
            ),
            AnswerError::Mismatch(m) => f.write_str(m),
        }
    }
}

/// Takes a pending question off the queue when the asking future ends,
/// however it ends (answered, timed out, or dropped by the host).
struct Guard {
    queue: Arc<Mutex<Queue>>,
    id: u64,
    answered: bool,
}

impl Drop for Guard {
    fn drop(&mut self) {
        let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(i) = q.pending.iter().position(|p| p.id == self.id) {
            let p = q.pending.remove(i);
            if !self.answered {
                let mut dialog = p.dialog;
                dialog["expired"] = json!(true);
                // The user's last five.
                let theirs: Vec<usize> = (0..q.expired.len())
                    .filter(|&j| q.expired[j].0 == p.user)
                    .collect();
                if theirs.len() >= 5 {
                    q.expired.remove(theirs[0]);
                }
                q.expired.push((p.user, dialog));
            }
        }
    }
}

impl WebPrompter {
    /// A prompter whose questions wait `timeout` for the user.
    pub fn new(timeout: Duration) -> WebPrompter {
        WebPrompter {
            queue: Arc::new(Mutex::new(Queue::default())),
            timeout,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The questions waiting for `user`, oldest first, as the page shows
    /// them.
    pub fn pending(&self, user: &str) -> Vec<Value> {
        self.lock()
            .pending
            .iter()
            .filter(|p| p.user == user)
            .map(|p| p.dialog.clone())
            .collect()
    }

    /// `user`'s last questions that timed out, newest last.
    pub fn expired(&self, user: &str) -> Vec<Value> {
        self.lock()
            .expired
            .iter()
            .filter(|(u, _)| u == user)
            .map(|(_, d)| d.clone())
            .collect()
    }

    /// Answers question `id` as `user`, who must be the user it was asked
    /// of.
    pub fn answer(&self, user: &str, id: u64, answer: Answer) -> Result<(), AnswerError> {
        let mut q = self.lock();
        let Some(i) = q.pending.iter().position(|p| p.id == id) else {
            return Err(AnswerError::NotPending(id));
        };
        if q.pending[i].user != user {
            return Err(AnswerError::OtherUser {
                id,
                asked: q.pending[i].user.clone(),
                answering: user.to_string(),
            });
        }
        let kind = q.pending[i].dialog["kind"].as_str().unwrap_or_default();
        let fits = matches!(
            (kind, &answer),
            ("consent", Answer::Consent(_))
                | ("payment", Answer::Payment(_))
                | ("subscription", Answer::Subscription(_))
        );
        if !fits {
            return Err(AnswerError::Mismatch(format!(
                "question {id} is a {kind} question; the answer is for another kind"
            )));
        }
        let p = q.pending.remove(i);
        // The asker may have given up a moment ago; then nothing waits.
        let _ = p.reply.send(answer);
        Ok(())
    }

    /// Puts a question to `user` on the page and waits for its answer
    /// (`None`: timed out, when `timeout` is set).
    async fn ask(
        &self,
        user: &str,
        mut dialog: Value,
        timeout: Option<Duration>,
    ) -> Option<Answer> {
        let (tx, rx) = oneshot::channel();
        let id = {
            let mut q = self.lock();
            q.next_id += 1;
            let id = q.next_id;
            dialog["id"] = json!(id);
            dialog["timeout_s"] = json!(self.timeout.as_secs());
            q.pending.push(Pending {
                id,
                user: user.to_string(),
                dialog,
                reply: tx,
            });
            id
        };
        let mut guard = Guard {
            queue: self.queue.clone(),
            id,
            answered: false,
        };
        let answer = match timeout {
            Some(t) => tokio::time::timeout(t, rx).await.ok().and_then(Result::ok),
            None => rx.await.ok(),
        };
        guard.answered = answer.is_some();
        answer
    }
}

fn money(amount: u64, currency: &str) -> String {
    format_money(amount as i64, currency)
}

impl Prompter for WebPrompter {
    fn ask_consent<'a>(&'a self, r: &'a ConsentRequest) -> BoxFuture<'a, ConsentAnswer> {
        let dialog = json!({
            "kind": "consent",
            "user": r.user,
            "app_id": r.app_id,
            "app_name": r.app_name,
            "publisher_name": r.publisher_name,
            "publisher_verified": r.publisher_verified,
            "scope": r.scope.to_string(),
            "purpose": r.purpose,
        });
        Box::pin(async move {
            match self.ask(&r.user, dialog, Some(self.timeout)).await {
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
                    "total": money(i.unit_price.saturating_mul(i.quantity as u64), &p.currency),
                    "insurance_eligible": i.insurance_eligible,
                })
            })
            .collect();
        let dialog = json!({
            "kind": "payment",
            "user": p.user,
            "app_id": p.app_id,
            "app_name": p.app_name,
            "payee": p.payee,
            "payee_verified": p.payee_verified,
            "order_id": p.order_id,
            "amount": money(p.amount, &p.currency),
            "description": p.description,
            "items": items,
            "insurance_part": money(p.insurance_part, &p.currency),
            "wallet_part": money(p.wallet_part, &p.currency),
            "wallet_balance": money(p.wallet_balance, &p.currency),
        });
        // The host gives up after its payment timeout (the same one) and
        // drops this future; the guard then takes the dialog away.
        Box::pin(async move {
            match self.ask(&p.user, dialog, None).await {
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
        let dialog = json!({
            "kind": "subscription",
            "user": p.user,
            "app_id": p.app_id,
            "app_name": p.app_name,
            "publisher_name": p.publisher_name,
            "templates": templates,
        });
        let n = p.templates.len();
        Box::pin(async move {
            match self.ask(&p.user, dialog, Some(self.timeout)).await {
                Some(Answer::Subscription(a)) => a,
                _ => vec![SubscriptionAnswer::Reject; n],
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plaza_host::manifest::Scope;

    fn consent() -> ConsentRequest {
        ConsentRequest {
            user: "li-na".into(),
            app_id: "cn.hz.maternity".into(),
            app_name: "Maternity".into(),
            publisher_name: "Hangzhou Maternity Hospital".into(),
            publisher_verified: true,
            scope: Scope::RealName,
            purpose: "To register you".into(),
        }
    }

    #[tokio::test]
    async fn a_question_waits_for_the_answer_from_the_page() {
        let p = WebPrompter::new(Duration::from_secs(60));
        let r = consent();
        let asking = p.ask_consent(&r);
        let answering = async {
            // The question shows up on the page, then the user answers it.
            loop {
                // Another user neither sees nor answers it.
                assert!(p.pending("wang-wei").is_empty());
                if let Some(d) = p.pending("li-na").first() {
                    assert_eq!(d["publisher_name"], "Hangzhou Maternity Hospital");
                    assert_eq!(d["purpose"], "To register you");
                    let id = d["id"].as_u64().unwrap();
                    assert!(matches!(
                        p.answer("li-na", id, Answer::Payment(PaymentAnswer::Confirm)),
                        Err(AnswerError::Mismatch(_))
                    ));
                    assert!(matches!(
                        p.answer("wang-wei", id, Answer::Consent(ConsentAnswer::Allow)),
                        Err(AnswerError::OtherUser { .. })
                    ));
                    p.answer("li-na", id, Answer::Consent(ConsentAnswer::Allow))
                        .unwrap();
                    assert_eq!(
                        p.answer("li-na", id, Answer::Consent(ConsentAnswer::Allow)),
                        Err(AnswerError::NotPending(id))
                    );
                    break;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        };
        let (answer, ()) = tokio::join!(asking, answering);
        assert_eq!(answer, ConsentAnswer::Allow);
        assert!(p.pending("li-na").is_empty());
        assert!(p.expired("li-na").is_empty());
    }

    #[tokio::test]
    async fn an_unanswered_consent_is_dismissed_after_the_timeout_and_leaves_the_page() {
        let p = WebPrompter::new(Duration::from_millis(50));
        let r = consent();
        assert_eq!(p.ask_consent(&r).await, ConsentAnswer::Dismiss);
        assert!(p.pending("li-na").is_empty());
        assert_eq!(p.expired("li-na").len(), 1);
        assert_eq!(p.expired("li-na")[0]["expired"], true);
        assert!(p.expired("wang-wei").is_empty());
    }
}
