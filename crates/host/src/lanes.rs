//! The busy lanes: how events that run past their grace share the CPU.
//!
//! An event shorter than its grace ([`SandboxLimits::yield_after`]) runs to
//! its end. A longer one runs one epoch tick at a time, and before each tick
//! waits for one of [`SandboxLimits::busy_lanes`] lanes. Waiting events are
//! parked off the executor's run queue, so however many guests loop, the
//! worker threads beyond the lanes keep serving short events. A free lane
//! goes to the waiting event that has used the fewest ticks (then the
//! earliest): a well-behaved event that happens to need a few ticks goes
//! before guests that have been looping for many.
//!
//! [`SandboxLimits::yield_after`]: crate::sandbox::SandboxLimits::yield_after
//! [`SandboxLimits::busy_lanes`]: crate::sandbox::SandboxLimits::busy_lanes

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Poll;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// The lanes of one host.
#[derive(Debug)]
pub(crate) struct BusyLanes {
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    free: usize,
    next_seq: u64,
    waiting: BinaryHeap<Waiter>,
}

#[derive(Debug)]
struct Waiter {
    /// Lowest ticks first, then the earliest.
    order: Reverse<(u64, u64)>,
    grant: oneshot::Sender<Lane>,
}

impl PartialEq for Waiter {
    fn eq(&self, other: &Self) -> bool {
        self.order == other.order
    }
}
impl Eq for Waiter {}
impl PartialOrd for Waiter {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Waiter {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.order.cmp(&other.order)
    }
}

/// A lane held; dropping it hands it to the next waiting event.
#[derive(Debug)]
pub(crate) struct Lane {
    lanes: Option<Arc<BusyLanes>>,
}

impl Lane {
    fn of(lanes: &Arc<BusyLanes>) -> Lane {
        Lane {
            lanes: Some(lanes.clone()),
        }
    }
}

impl BusyLanes {
    /// `count` lanes (at least one).
    pub(crate) fn new(count: usize) -> Arc<BusyLanes> {
        Arc::new(BusyLanes {
            state: Mutex::new(State {
                free: count.max(1),
                next_seq: 0,
                waiting: BinaryHeap::new(),
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits for a lane for an event that has used `ticks` epoch ticks.
    pub(crate) async fn acquire(self: Arc<Self>, ticks: u64) -> Lane {
        let receiver = {
            let mut state = self.lock();
            if state.free > 0 && state.waiting.is_empty() {
                state.free -= 1;
                return Lane::of(&self);
            }
            let (grant, receiver) = oneshot::channel();
            let seq = state.next_seq;
            state.next_seq += 1;
            state.waiting.push(Waiter {
                order: Reverse((ticks, seq)),
                grant,
            });
            receiver
        };
        match receiver.await {
            Ok(lane) => lane,
            // Only if the lanes were dropped: nothing left to share.
            Err(_) => Lane::of(&self),
        }
    }

    /// Hands a released lane to the next waiter still waiting, or frees it.
    fn release(self: &Arc<Self>) {
        let mut state = self.lock();
        while let Some(waiter) = state.waiting.pop() {
            match waiter.grant.send(Lane::of(self)) {
                Ok(()) => return,
                // The waiter is gone (its session ended): disarm the lane
                // (dropping it armed would re-enter `release` under the
                // lock) and try the next waiter.
                Err(mut lane) => {
                    lane.lanes = None;
                }
            }
        }
        state.free += 1;
    }

    /// Lanes free now (for tests).
    #[cfg(test)]
    fn free(&self) -> usize {
        self.lock().free
    }
}

impl Drop for Lane {
    fn drop(&mut self) {
        if let Some(lanes) = self.lanes.take() {
            lanes.release();
        }
    }
}

/// The lane one session's event holds, if any: taken at each epoch tick past
/// the event's grace, given back at the next tick, at the end of the event,
/// before the host waits on the user, and whenever a host call waits
/// ([`run_releasing_while_waiting`]). It also keeps the time the event
/// waited on the user, which its wall-clock cap does not count.
#[derive(Debug, Default)]
pub(crate) struct HeldLane {
    lane: Mutex<Option<Lane>>,
    /// Epoch ticks the event had used when it last took a lane.
    ticks: AtomicU64,
    user_wait: Mutex<UserWait>,
}

/// The time one event waited on the user.
#[derive(Debug, Default)]
struct UserWait {
    since: Option<Instant>,
    total: Duration,
}

impl HeldLane {
    fn slot(&self) -> MutexGuard<'_, Option<Lane>> {
        self.lane.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Holds `lane` (for the event's next slice), taken after `ticks` ticks.
    pub(crate) fn hold(&self, lane: Lane, ticks: u64) {
        self.ticks.store(ticks, Ordering::Relaxed);
        *self.slot() = Some(lane);
    }

    /// Gives the lane back, if one is held: the next busy event may run.
    pub(crate) fn release(&self) {
        self.give_back();
    }

    /// The host starts waiting on the user (a prompt): the lane is given
    /// back and the wait is not counted against the wall-clock cap.
    pub(crate) fn start_user_wait(&self) {
        self.release();
        let mut wait = self.user_wait.lock().unwrap_or_else(|p| p.into_inner());
        wait.since.get_or_insert_with(Instant::now);
    }

    /// The user answered (or the prompt timed out).
    pub(crate) fn end_user_wait(&self) {
        let mut wait = self.user_wait.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(since) = wait.since.take() {
            wait.total += since.elapsed();
        }
    }

    /// A new event: no wait on the user yet.
    pub(crate) fn reset_user_wait(&self) {
        *self.user_wait.lock().unwrap_or_else(|p| p.into_inner()) = UserWait::default();
    }

    /// How long the event has waited on the user, and whether it waits now.
    pub(crate) fn user_wait(&self) -> (Duration, bool) {
        let wait = self.user_wait.lock().unwrap_or_else(|p| p.into_inner());
        let now = wait.since.map(|s| s.elapsed()).unwrap_or_default();
        (wait.total + now, wait.since.is_some())
    }

    /// Gives the lane back; returns whether one was held.
    fn give_back(&self) -> bool {
        self.slot().take().is_some()
    }
}

/// Runs an event's call into the guest so that it never holds a busy lane
/// while it waits: whenever the call is pending (a host call blocks on a
/// sleep, a `poll`, the network; not the epoch yields, which give their lane
/// back themselves) the lane it held is given back at once, and before the
/// guest runs on after the wait it takes a lane again (a guest past its
/// grace cannot run outside the lanes by sleeping now and then). An event
/// that held no lane (within its grace) is not slowed at all.
pub(crate) async fn run_releasing_while_waiting<F: Future>(
    held: &HeldLane,
    lanes: &Arc<BusyLanes>,
    call: F,
) -> F::Output {
    let mut call = std::pin::pin!(call);
    let mut waited = false;
    let mut relane: Option<Pin<Box<dyn Future<Output = Lane> + Send>>> = None;
    std::future::poll_fn(move |cx| {
        if std::mem::take(&mut waited) {
            let ticks = held.ticks.load(Ordering::Relaxed);
            relane = Some(Box::pin(lanes.clone().acquire(ticks)));
        }
        if let Some(acquire) = relane.as_mut() {
            let Poll::Ready(lane) = acquire.as_mut().poll(cx) else {
                return Poll::Pending;
            };
            relane = None;
            held.hold(lane, held.ticks.load(Ordering::Relaxed));
        }
        match call.as_mut().poll(cx) {
            Poll::Ready(out) => Poll::Ready(out),
            Poll::Pending => {
                waited = held.give_back();
                Poll::Pending
            }
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_freed_lane_goes_to_the_waiter_with_the_fewest_ticks() {
        let lanes = BusyLanes::new(1);
        let held = lanes.clone().acquire(0).await;
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for ticks in [50, 3, 80, 3] {
            let (lanes, order) = (lanes.clone(), order.clone());
            tasks.push(tokio::spawn(async move {
                let _lane = lanes.acquire(ticks).await;
                order.lock().unwrap().push(ticks);
            }));
            // Queue them in this order.
            tokio::task::yield_now().await;
        }
        while lanes.lock().waiting.len() < 4 {
            tokio::task::yield_now().await;
        }
        drop(held);
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), [3, 3, 50, 80]);
        assert_eq!(lanes.free(), 1);
    }

    #[tokio::test]
    async fn a_waiter_that_gave_up_does_not_keep_the_lane() {
        let lanes = BusyLanes::new(1);
        let held = lanes.clone().acquire(0).await;
        let gone = tokio::spawn(lanes.clone().acquire(1));
        while lanes.lock().waiting.is_empty() {
            tokio::task::yield_now().await;
        }
        gone.abort();
        let _ = gone.await;
        drop(held);
        assert_eq!(lanes.free(), 1);
        let _again = lanes.clone().acquire(0).await;
        assert_eq!(lanes.free(), 0);
    }
}
