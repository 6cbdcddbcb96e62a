//! A commerce publisher asking for a customer's real name is denied without
//! the customer being asked, even when the host verified the publisher; the
//! scopes commerce may use still go through consent.

use crate::support::*;
use plaza_host::manifest::Scope;
use plaza_host::prompt::ConsentAnswer;
use plaza_host::store::{AuditQuery, Outcome, RealNameRecord, UserProfile};
use plaza_test_programs::SHOP;

#[tokio::test]
async fn real_name_is_denied_to_a_shop_without_a_prompt() {
    let t = host();
    let key = register_publisher(&t, &SHOP, true);
    t.host
        .install(signed_package(&SHOP, &SHOP.manifest_text(), &key))
        .await
        .unwrap();
    t.host
        .set_user_profile(
            "li-na",
            UserProfile {
                phone: Some("13800138000".into()),
                real_name: Some(RealNameRecord {
                    name: "Li Na".into(),
                    id_number: "330106199001010022".into(),
                    verified: true,
                }),
                ..UserProfile::default()
            },
        )
        .unwrap();
    // Even a user who would say yes is not asked.
    t.prompter
        .answer_consent(Scope::RealName, ConsentAnswer::Allow);
    t.prompter
        .answer_consent(Scope::Phone, ConsentAnswer::Allow);
    let s = t.host.session("li-na", "test.plaza.shop").unwrap();
    let page = s.launch("/").await.unwrap();
    let v = field(&page, "real-name").unwrap();
    assert!(
        v.starts_with("denied:") && v.contains("does not give `real-name` to commerce publishers"),
        "{v}"
    );
    assert!(t.prompter.consent_questions().is_empty());
    // Phone is a scope a shop may ask for: the customer is asked.
    let page = s.tap("phone").await.unwrap();
    assert_eq!(field(&page, "phone").as_deref(), Some("13800138000"));
    let asked: Vec<Scope> = t
        .prompter
        .consent_questions()
        .iter()
        .map(|q| q.scope)
        .collect();
    assert_eq!(asked, vec![Scope::Phone]);
    let denied = t
        .host
        .audit(&AuditQuery::default())
        .unwrap()
        .into_iter()
        .filter(|e| e.capability == "identity.real-name" && e.outcome == Outcome::Denied)
        .count();
    assert_eq!(denied, 2, "each attempt is audited");
}
