//! A guest calling identity, payment and messaging gets the host's errors as
//! data it can show (a WIT variant), never a trap; the gate and the policy
//! decide first.

use crate::support::*;
use plaza_host::store::{AuditQuery, Outcome};
use plaza_test_programs::FUTURE_CAPS;

#[tokio::test]
async fn host_errors_are_data_the_guest_can_show() {
    let t = host();
    install(&t, &FUTURE_CAPS).await;
    let s = t.host.session("alice", "test.plaza.future-caps").unwrap();
    let page = s.launch("/").await.unwrap();
    assert_eq!(
        field(&page, "identity.openid").as_deref(),
        Some("ok"),
        "{}",
        text(&page)
    );
    // A launch is not the user's tap: the payment is refused, as data,
    // without asking.
    let v = field(&page, "payment.request").unwrap();
    assert!(
        v.starts_with("denied:") && v.contains("tap"),
        "payment.request: {v}"
    );
    assert!(t.prompter.payment_prompts().is_empty());
    // Nobody wrote to it: a reply is refused, as data.
    let v = field(&page, "messaging.reply").unwrap();
    assert!(
        v.starts_with("denied:") && v.contains("48 hours"),
        "messaging.reply: {v}"
    );
    // The session goes on.
    assert_eq!(s.launch("/").await.unwrap().title, page.title);
    let audit = t.host.audit(&AuditQuery::default()).unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.capability == "messaging.reply" && e.outcome == Outcome::Denied)
    );
}

#[tokio::test]
async fn a_policy_that_denies_payment_to_the_category_yields_denied() {
    let t = host();
    install(&t, &FUTURE_CAPS).await;
    let mut policy = plaza_host::policy::Policy::default();
    let category = plaza_host::manifest::Manifest::parse("m", &FUTURE_CAPS.manifest_text())
        .unwrap()
        .publisher
        .category;
    policy.deny_capability(category, plaza_host::manifest::Capability::Payment);
    t.host.set_policy(policy);
    let s = t.host.session("alice", "test.plaza.future-caps").unwrap();
    let page = s.launch("/").await.unwrap();
    let v = field(&page, "payment.request").unwrap();
    assert!(v.starts_with("denied:") && v.contains("policy"), "{v}");
    let audit = t.host.audit(&AuditQuery::default()).unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.capability == "payment" && e.outcome == Outcome::Denied)
    );
}
