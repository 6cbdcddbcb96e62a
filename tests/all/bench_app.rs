//! The benchmark suite's guest (`plaza-bench` measures it): the pages and
//! the storage it promises, so the figures measure the work they say.

use crate::support::{field, host, install};
use plaza_test_programs::BENCH_APP;

#[tokio::test]
async fn work_reads_and_writes_storage_and_answers_twenty_blocks() {
    let t = host();
    install(&t, &BENCH_APP).await;
    let s = t.host.session("alice", "test.plaza.bench-app").unwrap();
    let page = s.launch("/").await.unwrap();
    assert_eq!(page.title, "Bench");
    assert_eq!(
        plaza_host::page::offered_actions(&page),
        vec!["work", "calls:0", "calls:1000"]
    );
    for n in 1..=3 {
        let page = s.tap("work").await.unwrap();
        assert_eq!(page.blocks.len(), 20);
        assert_eq!(
            field(&page, "Counter").as_deref(),
            Some(n.to_string().as_str())
        );
    }
    // The counter is the user's stored data: a new session sees it.
    s.close().await;
    s.launch("/").await.unwrap();
    assert_eq!(
        field(&s.tap("work").await.unwrap(), "Counter").as_deref(),
        Some("4")
    );
}

#[tokio::test]
async fn calls_makes_that_many_clock_calls() {
    let t = host();
    install(&t, &BENCH_APP).await;
    let s = t.host.session("alice", "test.plaza.bench-app").unwrap();
    s.launch("/").await.unwrap();
    let page = s.tap("calls:1000").await.unwrap();
    assert_eq!(field(&page, "Calls").as_deref(), Some("1000"));
    // The test clock stands still: the sum is 1000 times its time.
    let sum: i64 = field(&page, "Sum").unwrap().parse().unwrap();
    assert_eq!(sum, 1000 * crate::support::START_MS);
    let page = s.tap("calls:0").await.unwrap();
    assert_eq!(field(&page, "Sum").as_deref(), Some("0"));
}
