//! Identity, payment and messaging have their full signatures and answer
//! `unavailable` (data the guest shows, not a trap) until they land.

use crate::support::*;
use plaza_host::store::{AuditQuery, Outcome};
use plaza_test_programs::FUTURE_CAPS;

#[tokio::test]
async fn unavailable_capabilities_answer_with_a_variant_the_guest_can_show() {
    let t = host();
    install(&t, &FUTURE_CAPS).await;
    let s = t.host.session("alice", "test.plaza.future-caps").unwrap();
    let page = s.launch("/").await.unwrap();
    let v = field(&page, "messaging.reply").unwrap_or_else(|| panic!("{}", text(&page)));
    assert!(v.starts_with("unavailable:"), "messaging.reply: {v}");
    // Identity has landed: the openid call answers.
    assert_eq!(field(&page, "identity.openid").as_deref(), Some("ok"));
    // It passed the gate first (declared, allowed by policy).
    let audit = t.host.audit(&AuditQuery::default()).unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.capability == "messaging" && e.outcome == Outcome::Allowed),
        "messaging not audited: {audit:?}"
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
