//! The hospital's first-appointment registration: with its publisher
//! verified and the patient's consent, the booking form is filled with the
//! patient's verified real name, asked once; refused, the patient types it.

use crate::support::*;
use plaza_host::Page;
use plaza_host::manifest::Scope;
use plaza_host::prompt::ConsentAnswer;
use plaza_test_programs::HOSPITAL;

const APP: &str = "cn.hz.maternity";

async fn confirm_page(t: &TestHost) -> (plaza_host::Session, Page) {
    let s = t.host.session("li-na", APP).unwrap();
    s.launch("/").await.unwrap();
    s.tap("dept:obstetrics").await.unwrap();
    s.tap("doctor:chen-li").await.unwrap();
    let page = s.tap("earliest:chen-li").await.unwrap();
    assert_eq!(page.title, "Confirm booking");
    (s, page)
}

#[tokio::test]
async fn the_first_booking_registers_the_verified_real_name() {
    let t = verified_with_real_name(&HOSPITAL, "li-na", ConsentAnswer::Allow).await;
    let (s, page) = confirm_page(&t).await;
    assert_eq!(input_value(&page, "name"), "Li Na");
    assert!(
        notices(&page)
            .contains(&"Registered as Li Na, the name verified by your host app.".to_string()),
        "{}",
        text(&page)
    );
    let q = &t.prompter.consent_questions()[0];
    assert_eq!(q.scope, Scope::RealName);
    assert_eq!(q.publisher_name, "Hangzhou Maternity Hospital (registered)");
    assert!(q.publisher_verified);
    // The prefilled name is submitted with the phone.
    let done = s
        .submit("patient", &[("phone", "13800138000")])
        .await
        .unwrap();
    assert_eq!(done.title, "Booking confirmed");
    assert_eq!(field(&done, "Patient").as_deref(), Some("Li Na"));
    // The next booking uses the registration: no second question.
    let (_, page) = confirm_page(&t).await;
    assert_eq!(input_value(&page, "name"), "Li Na");
    assert_eq!(t.prompter.consent_questions().len(), 1);
}

#[tokio::test]
async fn refused_the_patient_types_the_name() {
    let t = verified_with_real_name(&HOSPITAL, "li-na", ConsentAnswer::Deny).await;
    let (s, page) = confirm_page(&t).await;
    assert_eq!(input_value(&page, "name"), "");
    assert!(
        notices(&page)
            .iter()
            .any(|n| n.starts_with("Please type the patient's name")
                && n.contains("the user refused `real-name`")),
        "{}",
        text(&page)
    );
    let done = s
        .submit("patient", &[("name", "Li Na"), ("phone", "13800138000")])
        .await
        .unwrap();
    assert_eq!(field(&done, "Patient").as_deref(), Some("Li Na"));
    // The refusal is remembered: the next booking does not ask again.
    confirm_page(&t).await;
    assert_eq!(t.prompter.consent_questions().len(), 1);
}
