//! Messaging through a real guest: subscriptions (one-time and long-term),
//! the monthly broadcast quota across a month boundary, the 48-hour reply
//! window, the inbox, and the limits.

use crate::support::*;
use plaza_host::prompt::SubscriptionAnswer;
use plaza_host::{Host, Page};
use plaza_test_programs::MESSAGING_PROBE;
use std::time::Duration;

const APP: &str = "test.plaza.city-services";

async fn city() -> TestHost {
    let t = host();
    install(&t, &MESSAGING_PROBE).await;
    t
}

async fn launch(t: &TestHost, user: &str, path: &str) -> Page {
    t.host
        .session(user, APP)
        .unwrap()
        .launch(path)
        .await
        .unwrap()
}

fn outcome(page: &Page) -> String {
    field(page, "outcome").unwrap_or_else(|| panic!("no outcome:\n{}", text(page)))
}

fn inbox_titles(host: &Host, user: &str) -> Vec<String> {
    host.inbox(user, false, 100)
        .unwrap()
        .into_iter()
        .map(|m| m.title)
        .collect()
}

#[tokio::test]
async fn a_one_time_acceptance_allows_exactly_one_message() {
    let t = city().await;
    t.prompter
        .answer_subscriptions(SubscriptionAnswer::AcceptOnce);
    let s = t.host.session("ann", APP).unwrap();
    s.launch("/").await.unwrap();
    let page = s.tap("subscribe:bill-due").await.unwrap();
    assert_eq!(
        field(&page, "subscription bill-due").as_deref(),
        Some("accepted-once")
    );
    let p = &t.prompter.subscription_prompts()[0];
    assert_eq!(
        (p.templates[0].title.as_str(), p.templates[0].long_term),
        ("Water bill due", false)
    );

    let send = "/send?template=bill-due&account=W-1&amount=CNY%2042.00";
    let first = launch(&t, "ann", send).await;
    assert!(
        outcome(&first).starts_with("ok msg-"),
        "{}",
        outcome(&first)
    );
    let second = launch(&t, "ann", send).await;
    let o = outcome(&second);
    assert!(
        o.starts_with("error denied:") && o.contains("no remaining subscription"),
        "{o}"
    );

    let inbox = t.host.inbox("ann", false, 10).unwrap();
    assert_eq!(inbox.len(), 1);
    let m = &inbox[0];
    assert_eq!(
        (m.kind.as_str(), m.title.as_str()),
        ("subscription", "Water bill due")
    );
    assert_eq!(m.body, "account: W-1\namount: CNY 42.00");
    assert_eq!(
        (m.app_id.as_str(), m.publisher_name.is_empty(), m.read),
        (APP, false, false)
    );
    assert_eq!(m.sent_at_ms, START_MS);
    // Another user's inbox stays empty; marking read is per user.
    assert!(t.host.inbox("bob", false, 10).unwrap().is_empty());
    assert!(!t.host.mark_read("bob", &m.id).unwrap());
    assert!(t.host.mark_read("ann", &m.id).unwrap());
    assert!(t.host.inbox("ann", true, 10).unwrap().is_empty());
}

#[tokio::test]
async fn missing_or_unknown_fields_are_invalid_and_a_refusal_allows_nothing() {
    let t = city().await;
    let s = t.host.session("ann", APP).unwrap();
    s.launch("/").await.unwrap();
    let page = s.tap("subscribe:bill-due").await.unwrap();
    assert_eq!(
        field(&page, "subscription bill-due").as_deref(),
        Some("rejected")
    );
    let o = outcome(&launch(&t, "ann", "/send?template=bill-due&account=W-1&amount=1").await);
    assert!(o.starts_with("error denied:"), "{o}");
    t.prompter
        .answer_subscriptions(SubscriptionAnswer::AcceptOnce);
    s.tap("subscribe:bill-due").await.unwrap();
    let o = outcome(&launch(&t, "ann", "/send?template=bill-due&account=W-1").await);
    assert!(
        o.starts_with("error invalid-argument:") && o.contains("`amount`"),
        "{o}"
    );
    let o = outcome(
        &launch(
            &t,
            "ann",
            "/send?template=bill-due&account=W-1&amount=1&colour=red",
        )
        .await,
    );
    assert!(
        o.starts_with("error invalid-argument:") && o.contains("`colour`"),
        "{o}"
    );
    let o = outcome(&launch(&t, "ann", "/send?template=lottery&x=1").await);
    assert!(o.starts_with("error invalid-argument:"), "{o}");
    // The acceptance is still there for a correct message.
    let o = outcome(&launch(&t, "ann", "/send?template=bill-due&account=W-1&amount=1").await);
    assert!(o.starts_with("ok "), "{o}");
}

#[tokio::test]
async fn subscriptions_are_asked_only_from_a_tap() {
    let t = city().await;
    t.prompter
        .answer_subscriptions(SubscriptionAnswer::AcceptOnce);
    let o = outcome(&launch(&t, "ann", "/subscribe-on-launch").await);
    assert!(o.starts_with("error denied:") && o.contains("tap"), "{o}");
    assert!(t.prompter.subscription_prompts().is_empty());
}

#[tokio::test]
async fn long_term_subscriptions_only_for_the_allowed_categories() {
    let t = city().await;
    let shop = manifest_replacing(
        &MESSAGING_PROBE,
        "category = \"government\"",
        "category = \"commerce\"",
    )
    .replace(APP, "test.plaza.shop-messages");
    t.host
        .install(package_with_manifest(&MESSAGING_PROBE, &shop))
        .await
        .unwrap();
    t.prompter
        .answer_subscriptions(SubscriptionAnswer::AcceptLongTerm);

    let gov = t.host.session("ann", APP).unwrap();
    gov.launch("/").await.unwrap();
    let page = gov.tap("subscribe:both").await.unwrap();
    assert_eq!(
        field(&page, "subscription fine-notice").as_deref(),
        Some("accepted-long-term")
    );
    // The template not marked long-term is accepted once only.
    assert_eq!(
        field(&page, "subscription bill-due").as_deref(),
        Some("accepted-once")
    );
    for _ in 0..3 {
        let o = outcome(
            &launch(
                &t,
                "ann",
                "/send?template=fine-notice&plate=ZJ-A1&amount=200",
            )
            .await,
        );
        assert!(o.starts_with("ok "), "{o}");
    }

    let shop = t.host.session("ann", "test.plaza.shop-messages").unwrap();
    shop.launch("/").await.unwrap();
    let page = shop.tap("subscribe:fine-notice").await.unwrap();
    assert_eq!(
        field(&page, "subscription fine-notice").as_deref(),
        Some("accepted-once")
    );
    assert!(
        !t.prompter.subscription_prompts()[1].templates[0].long_term,
        "not even offered"
    );
    let send = "/send?template=fine-notice&plate=ZJ-A1&amount=200";
    assert!(outcome(&shop.launch(send).await.unwrap()).starts_with("ok "));
    assert!(outcome(&shop.launch(send).await.unwrap()).starts_with("error denied:"));
}

#[tokio::test]
async fn followers_get_at_most_four_broadcasts_a_calendar_month() {
    let t = city().await;
    for u in ["ann", "bob"] {
        t.host.follow(u, APP, true).unwrap();
    }
    // Not a follower: gets nothing.
    let broadcast =
        |n: u32| format!("/broadcast?title=Notice%20{n}&text=Water%20off%20on%20Monday");
    for n in 1..=4 {
        let page = launch(&t, "staff", &broadcast(n)).await;
        assert_eq!(
            field(&page, "delivered").as_deref(),
            Some("2"),
            "{}",
            text(&page)
        );
    }
    // Carl follows late: he still has his quota this month.
    t.host.follow("carl", APP, true).unwrap();
    let fifth = launch(&t, "staff", &broadcast(5)).await;
    assert_eq!(
        (
            field(&fifth, "delivered").as_deref(),
            field(&fifth, "skipped").as_deref()
        ),
        (Some("1"), Some("2"))
    );
    assert_eq!(inbox_titles(&t.host, "ann").len(), 4);
    assert_eq!(inbox_titles(&t.host, "carl"), vec!["Notice 5"]);
    assert!(inbox_titles(&t.host, "staff").is_empty());

    // 2026-11-30 23:59 in China is still November ...
    t.clock.set(1_796_054_340_000);
    let late = launch(&t, "staff", &broadcast(6)).await;
    assert_eq!(
        field(&late, "skipped").as_deref(),
        Some("2"),
        "{}",
        text(&late)
    );
    // ... two minutes later it is December in China (still November in UTC).
    t.clock.advance(Duration::from_secs(120));
    let december = launch(&t, "staff", &broadcast(7)).await;
    assert_eq!(
        field(&december, "delivered").as_deref(),
        Some("3"),
        "{}",
        text(&december)
    );
    assert_eq!(inbox_titles(&t.host, "ann")[0], "Notice 7");

    // Unfollowing stops them.
    t.host.follow("bob", APP, false).unwrap();
    let after = launch(&t, "staff", &broadcast(8)).await;
    assert_eq!(field(&after, "delivered").as_deref(), Some("2"));
    let audit = t.host.audit(&Default::default()).unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.capability == "messaging.broadcast" && e.detail.contains("skipped 2"))
    );
}

#[tokio::test]
async fn replies_only_within_48_hours_of_the_users_last_message() {
    let t = city().await;
    let s = t.host.session("ann", APP).unwrap();
    s.launch("/").await.unwrap();
    let o = outcome(&s.tap("reply").await.unwrap());
    assert!(
        o.starts_with("error denied:") && o.contains("48 hours"),
        "{o}"
    );

    let page = s.chat("Where do I pay my fine?").await.unwrap();
    assert_eq!(
        field(&page, "received").as_deref(),
        Some("Where do I pay my fine?")
    );
    t.clock.advance(Duration::from_secs(47 * 3600));
    assert!(outcome(&s.tap("reply").await.unwrap()).starts_with("ok "));
    t.clock.advance(Duration::from_secs(3600));
    let o = outcome(&s.tap("reply").await.unwrap());
    assert!(o.starts_with("error denied:"), "{o}");
    // Writing again reopens the window.
    s.chat("Hello?").await.unwrap();
    assert!(outcome(&s.tap("reply").await.unwrap()).starts_with("ok "));
    let inbox = t.host.inbox("ann", false, 10).unwrap();
    assert_eq!(inbox.len(), 2);
    assert_eq!(inbox[0].body, "We got your message: Hello?");
    assert_eq!(
        inbox[1].body,
        "We got your message: Where do I pay my fine?"
    );
    assert_eq!(inbox[0].kind, "conversation");
}

#[tokio::test]
async fn a_message_written_while_closed_reaches_the_mini_app_at_its_next_launch() {
    let t = city().await;
    t.host
        .write_to_app("ann", APP, "Is the office open on Sunday?")
        .unwrap();
    let page = launch(&t, "ann", "/").await;
    assert_eq!(
        field(&page, "received").as_deref(),
        Some("Is the office open on Sunday?"),
        "{}",
        text(&page)
    );
    // Delivered once: the next launch does not repeat it.
    let again = launch(&t, "ann", "/").await;
    assert_eq!(field(&again, "received"), None);
}

#[tokio::test]
async fn messaging_limits_are_limit_exceeded() {
    let t = host_with(|mut c| {
        c.messaging_per_minute = 3;
        c
    });
    install(&t, &MESSAGING_PROBE).await;
    t.host.follow("ann", APP, true).unwrap();
    let long = "x".repeat(2001);
    let o = outcome(&launch(&t, "ann", &format!("/broadcast?title=T&text={long}")).await);
    assert!(
        o.starts_with("error limit-exceeded:") && o.contains("2000"),
        "{o}"
    );
    for n in 0..3 {
        let page = launch(&t, "ann", &format!("/broadcast?title=T{n}&text=x")).await;
        assert!(field(&page, "delivered").is_some(), "{}", text(&page));
    }
    let o = outcome(&launch(&t, "ann", "/broadcast?title=T4&text=x").await);
    assert!(
        o.starts_with("error limit-exceeded:") && o.contains("3 messages this minute"),
        "{o}"
    );
    // Asking the user to subscribe counts too, against the user's own
    // allowance: the fourth question is not asked.
    t.prompter
        .answer_subscriptions(SubscriptionAnswer::AcceptOnce);
    let s = t.host.session("ann", APP).unwrap();
    s.launch("/").await.unwrap();
    for _ in 0..3 {
        let page = s.tap("subscribe:bill-due").await.unwrap();
        assert!(
            field(&page, "subscription bill-due").is_some(),
            "{}",
            text(&page)
        );
    }
    let o = outcome(&s.tap("subscribe:bill-due").await.unwrap());
    assert!(o.starts_with("error limit-exceeded:"), "{o}");
    assert_eq!(t.prompter.subscription_prompts().len(), 3);
    t.clock.advance(Duration::from_secs(60));
    let page = launch(&t, "ann", "/broadcast?title=T5&text=x").await;
    assert!(field(&page, "delivered").is_some());
}
