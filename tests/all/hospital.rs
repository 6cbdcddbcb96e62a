//! The hospital sample, page by page: departments, a doctor, a time slot, the
//! patient's details, the confirmation; the booking listed after a relaunch;
//! a cancellation that frees the slot.

use crate::support::*;
use plaza_host::{Block, Error, Navigation, Page};
use plaza_test_programs::HOSPITAL;

const APP: &str = "cn.hz.maternity";

fn items(page: &Page) -> Vec<(String, Option<String>)> {
    page.blocks
        .iter()
        .filter_map(|b| match b {
            Block::Item(i) => Some((i.title.clone(), i.action.clone())),
            _ => None,
        })
        .collect()
}

fn slot_actions(page: &Page) -> Vec<String> {
    items(page)
        .into_iter()
        .filter_map(|(_, a)| a.filter(|a| a.starts_with("slot:")))
        .collect()
}

#[tokio::test]
async fn booking_flow_page_by_page() {
    let t = host();
    let report = install(&t, &HOSPITAL).await;
    assert_eq!(report.app_id, APP);
    let s = t.host.session("li-na", APP).unwrap();

    // Home: the departments.
    let home = s.launch("/").await.unwrap();
    assert_eq!(home.title, "Hangzhou Maternity Hospital");
    let depts: Vec<String> = items(&home).into_iter().map(|(t, _)| t).collect();
    assert!(depts.contains(&"Obstetrics".to_string()), "{}", text(&home));
    assert!(plaza_host::page::offered_actions(&home).contains(&"dept:obstetrics".to_string()));

    // A department: its doctors.
    let dept = s.tap("dept:obstetrics").await.unwrap();
    assert_eq!(dept.title, "Obstetrics");
    assert_eq!(dept.navigation, Navigation::Push);
    assert!(
        items(&dept)
            .iter()
            .any(|(_, a)| a.as_deref() == Some("doctor:chen-li")),
        "{}",
        text(&dept)
    );

    // A doctor: fee and free times over the next three days.
    let doctor = s.tap("doctor:chen-li").await.unwrap();
    assert_eq!(doctor.title, "Dr. Chen Li");
    assert_eq!(field(&doctor, "Fee").as_deref(), Some("CNY 50.00"));
    let slots = slot_actions(&doctor);
    assert_eq!(slots.len(), 12, "4 a day for 3 days:\n{}", text(&doctor));
    // The test clock says 2026-11-21 09:00 in Hangzhou: tomorrow is the 22nd.
    assert_eq!(slots[0], "slot:chen-li:20261122-0830");
    let first_title = items(&doctor)
        .into_iter()
        .find(|(_, a)| a.as_deref() == Some(slots[0].as_str()))
        .unwrap()
        .0;
    assert_eq!(first_title, "Sun 22 Nov 08:30");

    // The slot: confirm with the patient's details.
    let confirm = s.tap(&slots[0]).await.unwrap();
    assert_eq!(confirm.title, "Confirm booking");
    assert_eq!(field(&confirm, "Doctor").as_deref(), Some("Dr. Chen Li"));
    // Required fields are enforced before the mini-app sees the form.
    let err = s.submit("patient", &[("name", "Li Na")]).await.unwrap_err();
    assert!(
        matches!(&err, Error::FieldRefused { field, reason, .. } if field == "phone" && reason == "is required"),
        "{err}"
    );
    assert!(err.to_string().contains("`phone`"), "{err}");
    let done = s
        .submit("patient", &[("name", "Li Na"), ("phone", "13800138000")])
        .await
        .unwrap();
    assert_eq!(done.title, "Booking confirmed");
    assert_eq!(done.navigation, Navigation::Replace);
    assert_eq!(field(&done, "Booking number").as_deref(), Some("B0001"));
    assert!(notices(&done).contains(&"Your booking number is B0001.".to_string()));

    // Back goes to the doctor's page as it was (the host keeps the stack).
    let back = s.back().await.unwrap();
    assert_eq!(back.title, "Dr. Chen Li");

    // A relaunch in a new session lists the booking (it is in storage), and
    // the doctor's page no longer offers the booked slot.
    s.close().await;
    let s = t.host.session("li-na", APP).unwrap();
    s.launch("/").await.unwrap();
    let list = s.tap("bookings").await.unwrap();
    assert_eq!(list.title, "My bookings");
    assert_eq!(
        items(&list),
        vec![(
            "B0001 · Dr. Chen Li".to_string(),
            Some("booking:B0001".to_string())
        )]
    );
    s.launch("/").await.unwrap();
    s.tap("dept:obstetrics").await.unwrap();
    let doctor = s.tap("doctor:chen-li").await.unwrap();
    assert!(
        !slot_actions(&doctor).contains(&slots[0]),
        "{}",
        text(&doctor)
    );

    // Another patient has bookings of her own only: the sample keeps them in
    // each patient's storage (a schedule shared between patients needs the
    // hospital's backend, through the network capability).
    let other = t.host.session("wang-fang", APP).unwrap();
    other.launch("/").await.unwrap();
    let list = other.tap("bookings").await.unwrap();
    assert!(
        text(&list).contains("You have no bookings yet."),
        "{}",
        text(&list)
    );

    // Cancel: the booking goes, the slot comes back.
    let list = s.launch("/bookings").await.unwrap();
    assert_eq!(list.title, "My bookings");
    let detail = s.tap("booking:B0001").await.unwrap();
    assert_eq!(detail.title, "Booking B0001");
    let cancelled = s.tap("cancel:B0001").await.unwrap();
    assert_eq!(cancelled.title, "Booking cancelled");
    let list = s.launch("/bookings").await.unwrap();
    assert!(
        text(&list).contains("You have no bookings yet."),
        "{}",
        text(&list)
    );
    s.launch("/").await.unwrap();
    s.tap("dept:obstetrics").await.unwrap();
    let doctor = s.tap("doctor:chen-li").await.unwrap();
    assert!(
        slot_actions(&doctor).contains(&slots[0]),
        "{}",
        text(&doctor)
    );
}

#[tokio::test]
async fn an_action_the_page_does_not_offer_is_refused_with_the_offered_ones() {
    let t = host();
    install(&t, &HOSPITAL).await;
    let s = t.host.session("li-na", APP).unwrap();
    s.launch("/").await.unwrap();
    let err = s.tap("doctor:chen-li").await.unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with("the page does not offer the action `doctor:chen-li`; it offers: "),
        "{msg}"
    );
    assert!(
        msg.contains("dept:obstetrics") && msg.contains("bookings"),
        "{msg}"
    );
    // The session goes on.
    assert_eq!(s.tap("dept:obstetrics").await.unwrap().title, "Obstetrics");
}

#[tokio::test]
async fn deposit_bill_with_insurance_history_and_refund_on_cancel() {
    use plaza_host::prompt::{PaymentAnswer, ScriptedPayment};
    let t = host();
    // Insurance settles only for a verified publisher in the registry.
    let key = register_publisher(&t, &HOSPITAL, true);
    t.host
        .install(signed_package(&HOSPITAL, &HOSPITAL.manifest_text(), &key))
        .await
        .unwrap();
    t.prompter
        .answer_payments(ScriptedPayment::Answer(PaymentAnswer::Confirm));
    t.host.top_up("li-na", 100_000, "CNY").unwrap();
    // 70 % of eligible items, up to 3,000.00 a year.
    t.host
        .bind_insurance_card(
            "li-na",
            "3301-0001",
            "Li Na",
            "Hangzhou basic medical insurance",
            7_000,
            300_000,
        )
        .unwrap();
    let s = t.host.session("li-na", APP).unwrap();
    s.launch("/").await.unwrap();
    s.tap("dept:obstetrics").await.unwrap();
    s.tap("doctor:chen-li").await.unwrap();
    s.tap("earliest:chen-li").await.unwrap();
    let done = s
        .submit("patient", &[("name", "Li Na"), ("phone", "13800138000")])
        .await
        .unwrap();
    assert_eq!(done.title, "Booking confirmed", "{}", text(&done));

    // The deposit: the doctor's fee, from the wallet, to the hospital.
    let deposit = s.tap("deposit:B0001").await.unwrap();
    assert_eq!(deposit.title, "Deposit", "{}", text(&deposit));
    assert_eq!(field(&deposit, "Paid by you").as_deref(), Some("CNY 50.00"));
    assert_eq!(
        field(&deposit, "Paid by insurance").as_deref(),
        Some("CNY 0.00")
    );
    assert_eq!(t.host.wallet_balance("li-na").unwrap(), 95_000);
    let prompt = &t.prompter.payment_prompts()[0];
    assert_eq!(prompt.payee, field(&deposit, "Payee").unwrap());
    assert_eq!(prompt.amount, 5_000);

    // The bill: consultation 50.00 and ultrasound 120.00 are eligible (70 %
    // = 119.00 from insurance), the booklet 5.00 is not: the patient pays 56.00.
    let detail = s.tap("booking:B0001").await.unwrap();
    assert_eq!(field(&detail, "Deposit").as_deref(), Some("paid"));
    let bill = s.tap("bill:B0001").await.unwrap();
    assert_eq!(bill.title, "Consultation bill", "{}", text(&bill));
    assert_eq!(
        field(&bill, "Paid by insurance").as_deref(),
        Some("CNY 119.00")
    );
    assert_eq!(field(&bill, "Paid by you").as_deref(), Some("CNY 56.00"));
    assert_eq!(t.host.wallet_balance("li-na").unwrap(), 95_000 - 5_600);
    assert_eq!(
        t.host.insurance("li-na").unwrap().unwrap().1,
        300_000 - 11_900
    );

    // Paying the bill again is the same order: no second charge.
    s.tap("booking:B0001").await.unwrap();
    let again = s.tap("bill:B0001").await.unwrap();
    assert_eq!(field(&again, "Transaction"), field(&bill, "Transaction"));
    assert_eq!(t.host.wallet_balance("li-na").unwrap(), 95_000 - 5_600);

    s.launch("/").await.unwrap();
    let history = s.tap("payments").await.unwrap();
    assert_eq!(history.title, "Payment history");
    let lines = text(&history);
    assert!(
        lines.contains("CNY 175.00") && lines.contains("CNY 50.00"),
        "{lines}"
    );

    // Cancelling refunds the deposit (the bill stays paid).
    s.launch("/bookings").await.unwrap();
    s.tap("booking:B0001").await.unwrap();
    let cancelled = s.tap("cancel:B0001").await.unwrap();
    assert!(
        notices(&cancelled)
            .contains(&"Your deposit of CNY 50.00 was refunded to your wallet.".to_string()),
        "{}",
        text(&cancelled)
    );
    assert_eq!(t.host.wallet_balance("li-na").unwrap(), 100_000 - 5_600);
    let report = t.host.verify_ledger().unwrap();
    assert!(report.is_clean(), "{:?}", report.problems);
    assert_eq!(report.payments, 2);
    assert_eq!(report.refunds, 1);
}

/// Books `slot` (`YYYYMMDD-HHMM`) with Dr. Chen Li for `user`; the
/// confirmation page.
async fn book_chen_li(t: &TestHost, user: &str, slot: &str) -> Page {
    let s = t.host.session(user, APP).unwrap();
    s.launch("/").await.unwrap();
    s.tap("dept:obstetrics").await.unwrap();
    s.tap("doctor:chen-li").await.unwrap();
    let confirm = s.tap(&format!("slot:chen-li:{slot}")).await.unwrap();
    assert_eq!(confirm.title, "Confirm booking", "{}", text(&confirm));
    let done = s
        .submit("patient", &[("name", user), ("phone", "13800138000")])
        .await
        .unwrap();
    assert_eq!(done.title, "Booking confirmed", "{}", text(&done));
    done
}

#[tokio::test]
async fn reminders_accepted_while_booking_doctor_ready_and_the_doctor_chat() {
    use plaza_host::prompt::SubscriptionAnswer;
    let t = host_with_offices();
    t.install_sample(&HOSPITAL).await;
    t.prompter
        .answer_subscriptions(SubscriptionAnswer::AcceptLongTerm);
    let s = t.host.session("li-na", APP).unwrap();
    s.launch("/").await.unwrap();
    s.tap("dept:obstetrics").await.unwrap();
    s.tap("doctor:chen-li").await.unwrap();
    s.tap("earliest:chen-li").await.unwrap();
    let done = s
        .submit("patient", &[("name", "Li Na"), ("phone", "13800138000")])
        .await
        .unwrap();
    let n = notices(&done).join(" | ");
    assert!(
        n.contains("You will be reminded the day before.")
            && n.contains("told when the doctor is ready"),
        "{n}"
    );
    // Both templates were offered; "doctor is ready" long-term (a medical
    // publisher), the reminder once.
    let offered = &t.prompter.subscription_prompts()[0].templates;
    assert_eq!(
        offered
            .iter()
            .map(|o| (o.id.as_str(), o.long_term))
            .collect::<Vec<_>>(),
        vec![("appointment-reminder", false), ("doctor-ready", true)]
    );
    // No reminder at booking: the back office sends it.
    assert!(t.host.inbox("li-na", false, 10).unwrap().is_empty());

    s.launch("/bookings").await.unwrap();
    s.tap("booking:B0001").await.unwrap();
    let arrived = s.tap("arrived:B0001").await.unwrap();
    assert!(
        notices(&arrived)[0].contains("Dr. Chen Li is ready"),
        "{}",
        text(&arrived)
    );
    assert_eq!(
        t.host.inbox("li-na", true, 10).unwrap()[0].body,
        "doctor: Dr. Chen Li\nroom: 203"
    );

    // The doctor chat: the patient writes, the hospital answers in the page
    // and in the inbox.
    s.launch("/").await.unwrap();
    let chat = s.tap("chat").await.unwrap();
    assert!(text(&chat).contains("No messages yet."), "{}", text(&chat));
    let chat = s.chat("Is it safe to fly at 30 weeks?").await.unwrap();
    assert_eq!(chat.title, "Ask a doctor");
    assert_eq!(
        field(&chat, "You").as_deref(),
        Some("Is it safe to fly at 30 weeks?")
    );
    assert!(
        field(&chat, "Hospital").unwrap().contains("within a day"),
        "{}",
        text(&chat)
    );
    let inbox = t.host.inbox("li-na", false, 10).unwrap();
    assert_eq!(inbox[0].kind, "conversation");
    assert_eq!(inbox.len(), 2);
}

#[tokio::test]
async fn the_back_office_reminds_the_day_before_the_appointment_not_at_booking() {
    use plaza_host::prompt::SubscriptionAnswer;
    let t = host_with_offices();
    t.install_sample(&HOSPITAL).await;
    t.prompter
        .answer_subscriptions(SubscriptionAnswer::AcceptOnce);
    // Booked on Sat 21 Nov at 09:00 for Tue 24 Nov 08:30.
    let done = book_chen_li(&t, "li-na", "20261124-0830").await;
    assert!(
        notices(&done).join(" ").contains("reminded the day before"),
        "{}",
        text(&done)
    );
    // Wang Fang books the same day but declines the reminder.
    t.prompter.answer_subscriptions(SubscriptionAnswer::Reject);
    book_chen_li(&t, "wang-fang", "20261124-0900").await;

    // At booking, and on the 22nd, no reminder.
    let report = t.run("hospital", "send-reminders", &[]);
    assert!(report.done.is_empty(), "{report}");
    assert!(t.host.inbox("li-na", false, 10).unwrap().is_empty());
    t.clock.advance(std::time::Duration::from_secs(24 * 3600));
    assert!(t.run("hospital", "send-reminders", &[]).done.is_empty());
    assert!(t.host.inbox("li-na", false, 10).unwrap().is_empty());

    // Mon 23 Nov 00:30, the day before: the reminder, once.
    t.clock
        .advance(std::time::Duration::from_secs(15 * 3600 + 30 * 60));
    let report = t.run("hospital", "send-reminders", &[]);
    assert_eq!(report.done.len(), 1, "{report}");
    // Wang Fang declined: skipped, never asked again.
    assert_eq!(report.skipped.len(), 1, "{report}");
    assert!(report.skipped[0].contains("B0001"), "{report}");
    let inbox = t.host.inbox("li-na", false, 10).unwrap();
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].title, "Appointment reminder");
    assert_eq!(
        inbox[0].body,
        "doctor: Dr. Chen Li\ntime: tomorrow, Tue 24 Nov 08:30"
    );
    assert_eq!(inbox[0].link.as_deref(), Some("/booking/B0001"));
    assert!(t.host.inbox("wang-fang", false, 10).unwrap().is_empty());
    let again = t.run("hospital", "send-reminders", &[]);
    assert!(again.done.is_empty() && again.skipped.is_empty(), "{again}");
    assert_eq!(t.host.inbox("li-na", false, 10).unwrap().len(), 1);

    // The reminder opens the booking.
    let (_, page) = t.host.open_message("li-na", &inbox[0].id).await.unwrap();
    assert_eq!(page.title, "Booking B0001", "{}", text(&page));
    assert_eq!(field(&page, "Time").as_deref(), Some("Tue 24 Nov 08:30"));
}

#[tokio::test]
async fn a_cancelled_booking_gets_no_reminder() {
    use plaza_host::prompt::SubscriptionAnswer;
    let t = host_with_offices();
    t.install_sample(&HOSPITAL).await;
    t.prompter
        .answer_subscriptions(SubscriptionAnswer::AcceptOnce);
    book_chen_li(&t, "li-na", "20261122-1000").await;
    let s = t.host.session("li-na", APP).unwrap();
    s.launch("/booking/B0001").await.unwrap();
    let cancelled = s.tap("cancel:B0001").await.unwrap();
    assert_eq!(cancelled.title, "Booking cancelled");
    let report = t.run("hospital", "send-reminders", &[]);
    assert!(
        report.done.is_empty() && report.skipped.is_empty(),
        "{report}"
    );
    assert!(t.host.inbox("li-na", false, 10).unwrap().is_empty());
}

#[tokio::test]
async fn a_cancelled_clinic_refunds_every_deposit_once_even_when_run_twice() {
    use plaza_host::prompt::{PaymentAnswer, ScriptedPayment};
    let t = host_with_offices();
    t.install_sample(&HOSPITAL).await;
    t.prompter
        .answer_payments(ScriptedPayment::Answer(PaymentAnswer::Confirm));
    for user in ["li-na", "wang-fang", "zhou-min"] {
        t.host.top_up(user, 100_000, "CNY").unwrap();
    }
    // Two deposits paid for Dr. Chen Li's clinic of the 22nd, one booking
    // there unpaid, and one paid for the 23rd.
    let mut paid = Vec::new();
    for (user, slot, pay) in [
        ("li-na", "20261122-0830", true),
        ("wang-fang", "20261122-0900", true),
        ("zhou-min", "20261122-1000", false),
        ("zhou-min", "20261123-0830", true),
    ] {
        let done = book_chen_li(&t, user, slot).await;
        let number = field(&done, "Booking number").unwrap();
        if pay {
            let s = t.host.session(user, APP).unwrap();
            let deposit = s.tap(&format!("deposit:{number}")).await.unwrap();
            assert_eq!(
                field(&deposit, "Paid by you").as_deref(),
                Some("CNY 50.00"),
                "{}",
                text(&deposit)
            );
            paid.push(user);
        }
        // Order ids carry the time: a minute between patients.
        t.clock.advance(std::time::Duration::from_secs(60));
    }
    assert_eq!(t.host.wallet_balance("li-na").unwrap(), 95_000);
    assert_eq!(t.host.wallet_balance("zhou-min").unwrap(), 95_000);

    let with = [("doctor", "chen-li"), ("day", "2026-11-22")];
    let report = t.run("hospital", "cancel-clinic", &with);
    assert_eq!(report.done.len(), 2, "{report}");
    assert!(report.failed.is_empty(), "{report}");
    assert_eq!(report.skipped.len(), 1, "{report}");
    assert!(report.skipped[0].contains("not paid"), "{report}");
    assert_eq!(t.host.wallet_balance("li-na").unwrap(), 100_000);
    assert_eq!(t.host.wallet_balance("wang-fang").unwrap(), 100_000);
    // The 23rd's deposit stays paid.
    assert_eq!(t.host.wallet_balance("zhou-min").unwrap(), 95_000);

    // Run again (a retry after a timeout): nothing moves twice.
    let again = t.run("hospital", "cancel-clinic", &with);
    assert!(again.done.is_empty(), "{again}");
    assert!(
        again
            .skipped
            .iter()
            .filter(|l| l.contains("already refunded"))
            .count()
            == 2,
        "{again}"
    );
    assert_eq!(t.host.wallet_balance("li-na").unwrap(), 100_000);
    let report = t.host.verify_ledger().unwrap();
    assert!(report.is_clean(), "{:?}", report.problems);
    assert_eq!(report.payments, 3);
    assert_eq!(report.refunds, 2);

    // The cancelled clinic's bookings are due for a reminder today, but are
    // not even tried (the patients declined reminders: a tried one would be
    // skipped); the 23rd's is not due yet.
    let r = t.run("hospital", "send-reminders", &[]);
    assert!(r.done.is_empty() && r.skipped.is_empty(), "{r}");

    // A day that is not one, a doctor nobody booked: typed errors, no panic.
    let err = t
        .offices
        .run(
            "hospital",
            "cancel-clinic",
            &[
                ("doctor".to_string(), "chen-li".to_string()),
                ("day".to_string(), "22 Nov".to_string()),
            ]
            .into_iter()
            .collect(),
            0,
        )
        .unwrap_err();
    assert!(
        matches!(err, plaza_agency_backend::OfficeError::Invalid(_)),
        "{err}"
    );
    let none = t.run(
        "hospital",
        "cancel-clinic",
        &[("doctor", "nobody"), ("day", "2026-11-22")],
    );
    assert!(none.done.is_empty() && none.skipped.is_empty(), "{none}");
    assert!(
        t.offices
            .run("hospital", "dance", &Default::default(), 0)
            .is_err()
    );
}
