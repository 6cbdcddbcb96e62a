//! The patient attacker (issue 16, findings 1 and 2): a mini-app that
//! sleeps, waits on a slow back-end or never answers, beside bystanders who
//! keep being answered. Order and outcomes only: the latency figures are the
//! `bad_neighbours` benchmark's. Timeouts here are hang guards, not speed
//! assertions.

use crate::support::*;
use plaza_test_programs::MISBEHAVE;
use std::time::Duration;

const MISBEHAVE_APP: &str = "test.plaza.misbehave";

/// Fails only a hung test, never a slow one.
const HANG_GUARD: Duration = Duration::from_secs(30);

async fn guarded<F: std::future::Future>(what: &str, f: F) -> F::Output {
    tokio::time::timeout(HANG_GUARD, f)
        .await
        .unwrap_or_else(|_| panic!("{what} hung for {HANG_GUARD:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sleeper_past_its_grace_does_not_hold_the_busy_lane() {
    let t = host_with(|mut c| {
        c.limits.busy_lanes = 1;
        c
    });
    install(&t, &MISBEHAVE).await;

    // Mallory spins past her grace (so her event takes the one busy lane),
    // then sleeps 25 s in a blocking WASI call.
    let mallory = t.host.session("mallory", MISBEHAVE_APP).unwrap();
    let sleeping =
        tokio::spawn(async move { mallory.launch("/spin-then-sleep?spin=60&sleep=25000").await });
    // Setup only: let her reach her sleep.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(!sleeping.is_finished(), "{:?}", sleeping.await);

    // Carol, the yardstick, sleeps 10 s within her grace: she never needs a
    // lane. Bob's event is busy (60 ms of spinning, past the grace): it
    // needs one, and must get it while Mallory sleeps, before Carol wakes.
    let carol = t.host.session("carol", MISBEHAVE_APP).unwrap();
    let yardstick = tokio::spawn(async move { carol.launch("/sleep?ms=10000").await });
    let bob = t.host.session("bob", MISBEHAVE_APP).unwrap();
    let page = guarded(
        "bob's busy event",
        bob.launch("/spin-then-sleep?spin=60&sleep=0"),
    )
    .await
    .unwrap();
    assert_eq!(page.title, "Misbehave");
    assert!(
        !yardstick.is_finished() && !sleeping.is_finished(),
        "bob's event waited for mallory's sleep to end: a sleeping event held the busy lane"
    );
    sleeping.abort();
    yardstick.abort();
}
