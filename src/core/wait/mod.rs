//! Waiting, in one place: the protocols that let a receive (or a sender waiting for room) sleep
//! without losing a wake-up, the two receive loops built on them, and the heuristics that
//! decide how long a blocking receive spins first.
//!
//! ```text
//!   protocols (shared state, loom-checked)      heuristics (the receiver's own Cells)
//!   ──────────────────────────────────────      ─────────────────────────────────────
//!   waiter.rs     one consumer: announce in     adaptive.rs   the spin plan: fixed, or a
//!                 the tail word, park/Pending,                budget learnt per receiver
//!                 woken by the producer whose   spin.rs       the spin itself
//!                 claim saw the announcement    look_ahead.rs a receiver that caught up with
//!   wait_list.rs  many waiters (senders                       a stream lets it run ahead
//!                 waiting for room), in turn
//!
//!   receive loops (this file), each written once for every queue:
//!     block: attempt ─▶ look ahead ─▶ spin (as planned) ─▶ announce ─▶ park ─▶ attempt ...
//!     poll:  attempt ─▶ register the task ─▶ announce ─▶ Pending, or attempt again
//! ```
//!
//! A queue takes part by implementing [`Receive`]: what a loop needs to see of it (one
//! attempt, its tail word and head for the announcement, work the tail word cannot show).

pub(crate) mod adaptive;
mod look_ahead;
mod spin;
pub(crate) mod wait_list;
pub(crate) mod waiter;

use std::task::{Context, Poll};
use std::time::Instant;

use adaptive::{CaughtBy, Observation, SpinPlan, WaitState};
use spin::OnDescheduling;
use waiter::{Announce, Waiter};

use crate::sync::{self, thread, AtomicUsize};

/// What a receive loop needs to see of the queue it waits on. Only the consumer implements
/// and calls it.
pub(crate) trait Receive {
    /// What a successful attempt gives: a message, tokens, or "the end".
    type Output;

    /// One attempt that never waits: `Some` once there is a result (data, or the end of the
    /// stream), `None` while there is nothing yet.
    fn attempt(&mut self) -> Option<Self::Output>;

    /// Where the consumer registers and announces.
    fn waiter(&self) -> &Waiter;

    /// The word producers claim positions on, which carries the announcement.
    fn tail(&self) -> &AtomicUsize;

    /// The consumer's position, in the tail word's encoding: an announcement that finds the
    /// tail elsewhere has missed a claim.
    fn head(&self) -> usize;

    /// Checked right after an announcement: work that the tail word does not show and that
    /// the consumer must take now instead of sleeping. A producer that makes such work RMWs
    /// the tail word afterwards and wakes what that RMW shows announced.
    fn hidden_work(&self) -> bool {
        false
    }

    /// Whether the producers published the item `distance` past the head (a caught-up
    /// receiver looks there first; see `look_ahead`). A queue without runs says yes.
    fn published_ahead(&self, _distance: usize) -> bool {
        true
    }
}

/// The blocking receive: a fast attempt, the look-ahead, a spin as `state` plans it, then
/// park until woken or until `deadline`. `None` only when `deadline` passed with nothing,
/// after one last attempt. Tells `state` how the wait went, so the next one spins as long as
/// pays.
#[inline]
pub(crate) fn block<Q: Receive>(
    queue: &mut Q,
    state: &WaitState,
    deadline: Option<Instant>,
) -> Option<Q::Output> {
    if let Some(result) = queue.attempt() {
        state.found_at_once();
        return Some(result);
    }
    block_after_first_attempt(queue, state, deadline)
}

#[inline(never)]
fn block_after_first_attempt<Q: Receive>(
    queue: &mut Q,
    state: &WaitState,
    deadline: Option<Instant>,
) -> Option<Q::Output> {
    let plan = state.plan();
    let run = state.take_caught_up();
    let mut descheduled = false;
    // When the wait began, as far as it matters: the spin reads the clock lazily.
    let mut started = None;
    if plan.spin != SpinPlan::Never {
        look_ahead::let_the_stream_run_ahead(run, |distance| queue.published_ahead(distance));
        let on_descheduling = if plan.learn {
            OnDescheduling::GiveUp
        } else {
            OnDescheduling::KeepSpinning
        };
        let spun = spin::spin(
            &mut || queue.attempt(),
            plan.spin,
            deadline,
            on_descheduling,
        );
        descheduled = spun.descheduled;
        if let Some(result) = spun.result {
            if plan.learn {
                state.observe(Observation {
                    took: spun.took,
                    descheduled,
                    caught_by: CaughtBy::Spin,
                });
            }
            return Some(result);
        }
        if plan.spin == SpinPlan::UntilDone {
            // Spun until the deadline: one last attempt, as below.
            return queue.attempt();
        }
        started = spun.started;
    }
    let start = started.unwrap_or_else(Instant::now);
    let result = park(queue, deadline);
    if plan.learn {
        state.observe(Observation {
            took: start.elapsed(),
            descheduled,
            caught_by: CaughtBy::Park,
        });
    }
    result
}

/// Announce, park, attempt, until an attempt succeeds or `deadline` passes.
fn park<Q: Receive>(queue: &mut Q, deadline: Option<Instant>) -> Option<Q::Output> {
    loop {
        let timeout = match deadline {
            None => None,
            Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => Some(left),
                _ => return queue.attempt(),
            },
        };
        queue.waiter().register_current_thread();
        if announce(queue) == Announce::Retry {
            // A producer is between claiming and publishing, or just disconnected: let it
            // finish rather than burn the core it may need.
            thread::yield_now();
        } else {
            match timeout {
                None => thread::park(),
                Some(left) => thread::park_timeout(left),
            }
            queue.waiter().withdraw(queue.tail());
        }
        if let Some(result) = queue.attempt() {
            return Some(result);
        }
    }
}

/// The async receive: attempt; register the task; announce; `Pending`, or attempt again.
#[inline]
pub(crate) fn poll<Q: Receive>(queue: &mut Q, cx: &mut Context<'_>) -> Poll<Q::Output> {
    if let Some(result) = queue.attempt() {
        return Poll::Ready(result);
    }
    queue.waiter().register_task(cx.waker());
    if announce(queue) == Announce::Sleep {
        return Poll::Pending;
    }
    match queue.attempt() {
        Some(result) => Poll::Ready(result),
        None => {
            // A producer is between claiming and publishing: let the executor come back.
            sync::retry_hint();
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

fn announce<Q: Receive>(queue: &Q) -> Announce {
    queue
        .waiter()
        .announce(queue.tail(), queue.head(), || queue.hidden_work())
}
