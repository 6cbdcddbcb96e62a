//! The embedding guide (`docs/embedding.md`) run for real: a host opened with
//! a prompter that hands questions to a UI task over a channel (the guide's
//! `UiPrompter`), a payment the "UI" confirms after reading the payee, the
//! page that comes back, and `Host::shutdown` ending the live session with
//! its `hide` event recorded. The guide's blocks are compiled as doc tests;
//! this test checks that what they describe happens.

use plaza_host::package::Package;
use plaza_host::prompt::{
    BoxFuture, ConsentAnswer, ConsentRequest, PaymentAnswer, PaymentPrompt, Prompter,
    SubscriptionAnswer, SubscriptionPrompt,
};
use plaza_host::store::{AuditQuery, Outcome};
use plaza_host::{Block, Host, HostConfig, Page};
use plaza_test_programs::CASHIER;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// A question for the app's UI, with where to send the answer.
enum Question {
    Consent(ConsentRequest, oneshot::Sender<ConsentAnswer>),
    Payment(PaymentPrompt, oneshot::Sender<PaymentAnswer>),
    Subscription(SubscriptionPrompt, oneshot::Sender<Vec<SubscriptionAnswer>>),
}

struct UiPrompter {
    ui: mpsc::Sender<Question>,
}

impl Prompter for UiPrompter {
    fn ask_consent<'a>(&'a self, request: &'a ConsentRequest) -> BoxFuture<'a, ConsentAnswer> {
        Box::pin(async move {
            let (answer, reply) = oneshot::channel();
            if self
                .ui
                .send(Question::Consent(request.clone(), answer))
                .await
                .is_err()
            {
                return ConsentAnswer::Dismiss;
            }
            reply.await.unwrap_or(ConsentAnswer::Dismiss)
        })
    }

    fn confirm_payment<'a>(&'a self, prompt: &'a PaymentPrompt) -> BoxFuture<'a, PaymentAnswer> {
        Box::pin(async move {
            let (answer, reply) = oneshot::channel();
            if self
                .ui
                .send(Question::Payment(prompt.clone(), answer))
                .await
                .is_err()
            {
                return PaymentAnswer::Cancel;
            }
            reply.await.unwrap_or(PaymentAnswer::Cancel)
        })
    }

    fn ask_subscription<'a>(
        &'a self,
        prompt: &'a SubscriptionPrompt,
    ) -> BoxFuture<'a, Vec<SubscriptionAnswer>> {
        Box::pin(async move {
            let (answer, reply) = oneshot::channel();
            if self
                .ui
                .send(Question::Subscription(prompt.clone(), answer))
                .await
                .is_err()
            {
                return vec![SubscriptionAnswer::Reject; prompt.templates.len()];
            }
            reply.await.unwrap_or_default()
        })
    }
}

fn field(page: &Page, label: &str) -> Option<String> {
    page.blocks.iter().find_map(|b| match b {
        Block::Field(f) if f.label == label => Some(f.value.clone()),
        _ => None,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guide_runs_a_payment_through_the_apps_own_ui_and_shuts_down() {
    let dir = tempfile::tempdir().unwrap();
    let (ui, mut questions) = mpsc::channel(4);
    let config = HostConfig::default()
        .cache_dir(Some(dir.path().join("cache")))
        .prompter(Arc::new(UiPrompter { ui }))
        .utc_offset_minutes(8 * 60)
        .developer_mode(true); // the fixture is unsigned
    let host = Host::open(&dir.path().join("plaza.db"), config).unwrap();
    let package = Package::new(&CASHIER.manifest_text(), CASHIER.component_bytes()).unwrap();
    let report = host.install(package).await.unwrap();
    host.top_up("alice", 10_000, "CNY").unwrap();

    // The app's UI: shows each payment and confirms it.
    let shown = tokio::spawn(async move {
        let mut seen = Vec::new();
        while let Some(q) = questions.recv().await {
            match q {
                Question::Payment(p, answer) => {
                    seen.push(format!("{} {} to {}", p.amount, p.currency, p.payee));
                    let _ = answer.send(PaymentAnswer::Confirm);
                }
                Question::Consent(request, answer) => {
                    seen.push(format!("consent {}", request.scope));
                    let _ = answer.send(ConsentAnswer::Deny);
                }
                Question::Subscription(p, answer) => {
                    let _ = answer.send(vec![SubscriptionAnswer::Reject; p.templates.len()]);
                }
            }
        }
        seen
    });

    let session = host.session("alice", &report.app_id).unwrap();
    // The launch names the payment; the user's tap on `pay` makes it.
    session.launch("/pay?order=o-1&amount=2500").await.unwrap();
    let page = session.tap("pay").await.unwrap();
    assert_eq!(field(&page, "outcome").as_deref(), Some("paid"), "{page:?}");
    assert_eq!(host.wallet_balance("alice").unwrap(), 7_500);
    assert_eq!(host.live_sessions().await, 1);

    // Shutdown ends the live session, with its `hide` event, and says so in
    // the audit log.
    assert_eq!(host.shutdown().await, 1);
    assert_eq!(host.live_sessions().await, 0);
    let ended = host
        .audit(&AuditQuery {
            user: Some("alice".into()),
            app: Some(report.app_id.clone()),
            limit: 0,
        })
        .unwrap()
        .into_iter()
        .any(|e| {
            e.capability == "session.ended"
                && e.outcome == Outcome::Allowed
                && e.detail.contains("host shut down")
        });
    assert!(ended, "no session.ended entry after shutdown");
    assert_eq!(host.shutdown().await, 0, "nothing left to end");

    // The handle still works: the next event starts a new session.
    let page = session.launch("/query?order=o-1").await.unwrap();
    assert_eq!(field(&page, "outcome").as_deref(), Some("found"));
    host.shutdown().await;
    drop(session);
    drop(host);
    // With the last handle gone, the prompter and its channel go too: the UI
    // task ends.
    let seen = tokio::time::timeout(std::time::Duration::from_secs(10), shown)
        .await
        .expect("the host let go of the prompter")
        .unwrap();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(seen[0].starts_with("2500 CNY to "), "{seen:?}");
}
