//! How long a blocking receive spins before it parks, learnt from the waits it has seen.
//!
//! # The trade-off
//!
//! A receiver that finds nothing can spin (poll again and again) or park (sleep in the kernel
//! until a producer unparks it). Parking costs one wake-up per wait: a futex wake, an IPI and a
//! reschedule, 5-50 us on the virtual machines we measure on; worse, in a request/reply pair
//! the peer's reply then waits for that wake-up too, so both threads fall into paying it on
//! every hop. Spinning costs CPU time, and when the host is oversubscribed it costs the
//! partner's latency as well: a spinning thread holds the core that the thread it waits for
//! needs, and the scheduler, which sees a CPU-bound thread, lets it keep the core for a whole
//! time slice (milliseconds).
//!
//! # What the best do, and what we take from them
//!
//! * **Linux's adaptive mutex** (`mutex_optimistic_spin`) spins only while the lock owner is
//!   running on another CPU: spinning pays off only if the thread that will end the wait is
//!   making progress. A receiver cannot see whether its producer runs, but it can see whether
//!   *it* keeps running: a clock read between two short bursts of polls that jumped by far more
//!   than the burst takes means the thread was descheduled, the surest sign that the host is
//!   oversubscribed. Then we stop that spin at once, park, and count the spin as wasted.
//! * **Go's runtime** spins (`sync_runtime_canSpin`) only on a multi-core machine with idle
//!   processors and only a few rounds, and otherwise parks; it yields rather than spins when the
//!   spin would steal from runnable work. We take the rule "do not spin when there is other
//!   runnable work", detected through descheduling, and "one CPU: never spin".
//! * **parking_lot** (`SpinWait`) spins a few exponentially growing rounds, then yields, then
//!   parks; its `WordLock`/`RawMutex` keep no history. **crossbeam's `Backoff`** is the same
//!   shape (`snooze`: pause 2^step, then `yield_now`, then "park now"). Both bound the spin by a
//!   count, not by what it achieves. We keep a history instead, as glibc's adaptive mutex does
//!   (`__spins` is an average of how long past acquisitions spun): a wait that would have been
//!   caught by a spin of `t` argues for a budget of about `2t`; a wait that outlasted the
//!   longest budget argues for spinning less.
//! * **Yielding** hands the core to *any* runnable thread, usually a CPU-bound competitor for a
//!   whole time slice, and the scheduler keeps charging the yielder as CPU-bound; measured here
//!   (BENCHMARKS.md) it made loaded round trips worse than both spinning and parking. A parked
//!   thread, by contrast, is credited as a sleeper and preempts a CPU hog when it is woken. So
//!   the adaptive wait never yields: it spins (while that pays) or parks.
//!
//! # The policy
//!
//! Per receiver (plain `Cell`s: only the receiving thread reads or writes them):
//!
//! ```text
//!   budget  0 or in [2 us, 50 us], starts at 20 us
//!   each wait that went past its first poll ends with an observation: how long it took,
//!   and whether the thread was descheduled while it spun
//!     descheduled          -> the spin stops at once and counts as wasted (below): a host
//!                             that keeps descheduling the spinner decays to parking at once
//!     spun, paid off       -> budget = max(2 * budget, 2 * took), capped at 50 us
//!     spun, parked anyway  -> budget / 2, 0 below 2 us (the partner was slow, or not
//!                             running, or waiting for this very core: idle receivers and
//!                             oversubscribed hosts decay to parking at once, geometrically)
//!     no spin, took <= 200 us -> a probe: budget = min(2 * took, 50 us), since parking cost a
//!                             wake-up or two that a spin would have saved (a request/reply
//!                             pair that fell into parking on every hop climbs out of it);
//!                             probes whose spins all failed are spaced 1, 2, 4 ... 1024
//!                             waits apart, reset by any spin that pays off
//! ```
//!
//! An idle receiver therefore spins at most 50 us once, then ever less, and burns nothing while
//! parked; a receiver woken after sleeping pays one wake-up. The budget is checked by the
//! clock every few polls, and the polls themselves are separated by a single pause hint: the
//! gap between a producer's publish and the spinner seeing it is one poll, not a burst of
//! pauses (one `pause` is ~40 cycles on older Intel cores, ~140 on Skylake and later).
//!
//! # Catching up with a stream
//!
//! A receiver fed by a producer that sends as fast as it can (a stream) is usually the faster
//! of the two: it takes a backlog, catches up, and its next receive finds nothing. Polling its
//! own slot again at once, one pause apart, then makes it meet the producer on the very cache
//! line the producer is writing, and every poll takes that line away from it: on the Intel KVM
//! guest the producer then delivers one message per ~33 ns, the receiver finding nothing at
//! every tenth receive (crossbeam-channel's receiver, slower per message, stays behind its
//! producer and never meets it: ~25 ns). So a receive that finds nothing right after receives
//! that found their message at once (a backlog just drained) first watches the slot
//! [`RUN_AHEAD`] positions on (half the capacity if less; a mailbox reports it, the notify
//! queue has no runs and skips this) until a producer publishes there, then waits as planned:
//! the producer writes the lines in between undisturbed and the receiver takes the run without
//! meeting it. How long this waits is set by the producer's own progress (it ends when the run
//! is out), not by a host's clock or the length of its `pause`.
//!
//! The look is bounded by what the receiver just saw: at most 8 polls per message of the run
//! it drained, and [`RUN_AHEAD_POLLS`] in all. A dense stream drains long runs and gets the
//! whole look; a burst-and-gap producer, whose receiver catches up after a message or three,
//! makes its next message wait at most a few dozen polls for a run that is not coming (with a
//! flat 64-poll bound, bursts of 4 every 0.5 us had their median latency go 0.2 -> 0.65 us; with
//! this bound they keep 0.2 us, and the stream gets 24-25 ns instead of the flat bound's 20).
//! A request/reply exchange never looks ahead (each of its receives waits); a stream that
//! ended pays the bounded look once.
//!
//! Under loom the budget is always 0 (loom explores announce/park, and cannot model time);
//! `SpinOnly` still spins, yielding to the model checker between polls.

use std::cell::Cell;
use std::time::{Duration, Instant};

use crate::sync;
use crate::wait_strategy::WaitStrategy;

/// The longest adaptive spin. Longer than the slowest wake-up we measured (~25 us per hop on
/// the Intel KVM guest), so a request/reply pair whose peer answers at once stays awake, and
/// short enough that an idle receiver wastes at most this much once.
const MAX_BUDGET: Duration = Duration::from_micros(50);
/// Below this a halved budget becomes 0: a spin that short rarely catches anything.
const MIN_BUDGET: Duration = Duration::from_micros(2);
/// The most waits between two probes that came to nothing.
const MAX_PROBE_SPACING: u32 = 1024;
/// Where a new receiver starts: a little more than one wake-up.
const START_BUDGET: Duration = Duration::from_micros(20);
/// Polls between two clock reads. A poll plus one pause is 20-60 ns, so the clock (~20 ns via
/// the vDSO) is read every 0.3-1 us, often enough to keep the budget and to notice a preemption.
const POLLS_PER_CLOCK_READ: u32 = 16;
/// A gap between two clock reads this long means the thread did not run in between (16 polls
/// take about a microsecond; timer interrupts and VM exits take a few).
const DESCHEDULED_GAP: Duration = Duration::from_micros(30);
/// A wait with no spin that took at most this long makes the next wait spin (twice as long,
/// capped at `MAX_BUDGET`): parking cost it one or two wake-ups that a spin would have saved.
/// Above the longest wake-up pair we measured (~45 us per round trip of two parked threads).
const PROBE_LIMIT: Duration = Duration::from_micros(200);

/// The farthest a caught-up receiver looks ahead (see "Catching up with a stream"): four
/// cache lines of 16-byte slots (more of larger ones). Measured on the Intel guest, with an
/// unbounded look: 8 -> 24.6 ns per message, 16 -> 20.6, 32 -> 19.0.
const RUN_AHEAD: usize = 16;
/// Polls of the slot ahead allowed per receive of the run just drained: a receiver that took
/// `n` messages at once looks ahead for at most `8 n` polls.
const POLLS_PER_RUN_ITEM: u32 = 8;
/// The most polls of the slot ahead before the receiver polls its own slot again: a few
/// hundred ns to a microsecond and a half, more than a producer that streams takes to publish
/// 16 messages, and what a stream that just ended costs its receiver once.
const RUN_AHEAD_POLLS: u32 = 64;

/// A receiver that caught up with a stream (it found its message at once `run` times in a
/// row, then nothing) lets the producer run ahead: polls `run_ahead(RUN_AHEAD)` (one pause
/// apart) until it says that item is published, at most `8 run` and [`RUN_AHEAD_POLLS`]
/// times. A `run` of 0 (the last receive waited too) does nothing.
pub(crate) fn let_the_stream_run_ahead(run: u32, run_ahead: &impl Fn(usize) -> bool) {
    // loom cannot model time, and this loop only adds states to explore.
    if cfg!(loom) {
        return;
    }
    let polls = run.saturating_mul(POLLS_PER_RUN_ITEM).min(RUN_AHEAD_POLLS);
    for _ in 0..polls {
        if run_ahead(RUN_AHEAD) {
            return;
        }
        sync::retry_hint();
    }
}

/// What one spin saw.
pub(crate) struct Spun<R> {
    /// The attempt's result, if it succeeded while spinning.
    pub(crate) result: Option<R>,
    /// Whether a clock gap showed that the thread was descheduled while spinning.
    pub(crate) descheduled: bool,
    /// When the spin first read the clock (`None`: it ended within its first burst of polls,
    /// before reading it), and how long it had spun by its last clock read.
    pub(crate) started: Option<Instant>,
    pub(crate) took: Duration,
}

/// Spins on `attempt` (one pause hint between polls) for at most `budget` (without limit for
/// `None`) and never past `deadline`, until it succeeds or, when `give_up_if_descheduled`, the
/// thread turns out to be descheduled.
///
/// The first burst of polls runs before any clock read: a spin that pays off at once (the
/// common case in a request/reply pair) then costs no clock read at all, where a read of the
/// clock costs as much as a dozen polls on a virtual machine. The budget counts from the end
/// of that burst.
pub(crate) fn spin<R>(
    attempt: &mut impl FnMut() -> Option<R>,
    budget: Option<Duration>,
    deadline: Option<Instant>,
    give_up_if_descheduled: bool,
) -> Spun<R> {
    for _ in 0..POLLS_PER_CLOCK_READ {
        if let Some(result) = attempt() {
            return Spun {
                result: Some(result),
                descheduled: false,
                started: None,
                took: Duration::ZERO,
            };
        }
        sync::retry_hint();
    }
    let start = Instant::now();
    // A budget too long to add to the clock (`Spin(Duration::MAX)`) is no limit.
    let spin_end = budget.and_then(|budget| start.checked_add(budget));
    let stop = match (spin_end, deadline) {
        (Some(end), Some(deadline)) => Some(deadline.min(end)),
        (end, deadline) => end.or(deadline),
    };
    let mut last = start;
    let mut descheduled = false;
    let ended = |result: Option<R>, last: Instant, descheduled: bool| Spun {
        result,
        descheduled,
        started: Some(start),
        took: last.saturating_duration_since(start),
    };
    if stop.is_some_and(|stop| last >= stop) {
        return ended(None, last, descheduled);
    }
    loop {
        for _ in 0..POLLS_PER_CLOCK_READ {
            if let Some(result) = attempt() {
                return ended(Some(result), last, descheduled);
            }
            sync::retry_hint();
        }
        let now = Instant::now();
        if now.saturating_duration_since(last) >= DESCHEDULED_GAP {
            descheduled = true;
            if give_up_if_descheduled {
                return ended(None, now, descheduled);
            }
        }
        if stop.is_some_and(|stop| now >= stop) {
            return ended(None, now, descheduled);
        }
        last = now;
    }
}

/// A receiver's wait strategy and, for [`WaitStrategy::Adaptive`], what it learnt.
///
/// Owned by the receiver and only touched by the thread that receives, hence `Cell`s: this is
/// not shared state, and the wait/wake protocol (and its loom models) does not see it.
#[derive(Debug)]
pub(crate) struct WaitState {
    strategy: Cell<WaitStrategy>,
    /// The adaptive spin budget.
    budget: Cell<Duration>,
    /// Waits without a spin still to go before the next probe.
    probe_in: Cell<u32>,
    /// What `probe_in` is set to when a probe's spins all came to nothing.
    probe_every: Cell<u32>,
    /// How many receives in a row found their message at their first poll (a backlog): a
    /// receive that then finds nothing has caught up with a stream.
    found_at_once: Cell<u32>,
}

/// What a wait will do after its first poll.
pub(crate) struct Plan {
    /// Spin at most this long (`None`: without limit, never park).
    pub(crate) spin: Option<Duration>,
    /// Whether this wait learns from its outcome (adaptive only).
    pub(crate) learn: bool,
}

impl WaitState {
    pub(crate) fn new() -> WaitState {
        WaitState {
            strategy: Cell::new(WaitStrategy::Adaptive),
            budget: Cell::new(START_BUDGET),
            probe_in: Cell::new(0),
            probe_every: Cell::new(1),
            found_at_once: Cell::new(0),
        }
    }

    /// A receive found its message at its first poll.
    #[inline]
    pub(crate) fn found_at_once(&self) {
        self.found_at_once
            .set(self.found_at_once.get().saturating_add(1));
    }

    /// How many receives in a row before this one (which found nothing at its first poll)
    /// found their message at once: the run this one caught up with. Resets the count.
    #[inline]
    pub(crate) fn take_caught_up(&self) -> u32 {
        self.found_at_once.replace(0)
    }

    pub(crate) fn strategy(&self) -> WaitStrategy {
        self.strategy.get()
    }

    pub(crate) fn set_strategy(&self, strategy: WaitStrategy) {
        self.strategy.set(strategy);
    }

    /// Decides how the next wait spins.
    pub(crate) fn plan(&self) -> Plan {
        match self.strategy.get() {
            WaitStrategy::SpinOnly => Plan {
                spin: None,
                learn: false,
            },
            // loom cannot model time: bounded spins are skipped there.
            _ if cfg!(loom) => Plan {
                spin: Some(Duration::ZERO),
                learn: false,
            },
            WaitStrategy::Park => Plan {
                spin: Some(Duration::ZERO),
                learn: false,
            },
            WaitStrategy::Spin(budget) => Plan {
                spin: Some(budget),
                learn: false,
            },
            WaitStrategy::Adaptive => Plan {
                spin: Some(if !multi_core() {
                    Duration::ZERO
                } else {
                    self.budget.get()
                }),
                learn: true,
            },
        }
    }

    /// Learns from a finished wait that took `took`: whether its spin was descheduled, and
    /// whether the spin (rather than a park) got the result.
    pub(crate) fn observe(&self, took: Duration, descheduled: bool, spun: bool) {
        let budget = self.budget.get();
        if descheduled {
            // Descheduled mid-spin: the host has more runnable threads than cores (or the
            // hypervisor took the vCPU). A wasted spin, no more: an earlier version stopped
            // spinning for 10-320 ms after one, and on a KVM guest, whose vCPUs are taken
            // away now and then on a quiet host too, that made quiet round trips park for
            // whole holds (2-4x slower, BENCHMARKS.md "Waiting").
            self.spun_for_nothing(budget);
            return;
        }
        if budget.is_zero() {
            // No spin ran. A wait short enough that a spin could have caught it (parking cost
            // it a wake-up or two) earns a probe: a spin of twice its length. Probes that came
            // to nothing are spaced out exponentially (1, 2, 4 ... 1024 waits apart), so a
            // host where spins never pay stops paying for probes.
            if self.probe_in.get() > 0 {
                self.probe_in.set(self.probe_in.get() - 1);
            } else if took <= PROBE_LIMIT {
                self.budget.set((took * 2).min(MAX_BUDGET));
            }
        } else if spun {
            // The spin paid off: double the budget (and keep at least twice what this wait
            // took), so that a run of paid-off spins quickly undoes the halvings a few
            // wasted ones caused (a producer descheduled now and then). Probes start short
            // again.
            self.budget.set((budget * 2).max(took * 2).min(MAX_BUDGET));
            self.probe_every.set(1);
        } else {
            self.spun_for_nothing(budget);
        }
    }

    /// The whole budget was spun for nothing: the partner was slow, not running, or waiting
    /// for this very core. Spin half as long next time; below the minimum, park at once and
    /// probe again only after a while.
    fn spun_for_nothing(&self, budget: Duration) {
        if budget / 2 >= MIN_BUDGET {
            self.budget.set(budget / 2);
        } else {
            self.budget.set(Duration::ZERO);
            let every = self.probe_every.get();
            self.probe_in.set(every);
            self.probe_every.set((every * 2).min(MAX_PROBE_SPACING));
        }
    }
}

/// Whether spinning can help at all: on one CPU the producer cannot run while we spin.
fn multi_core() -> bool {
    use std::sync::OnceLock;
    static MULTI_CORE: OnceLock<bool> = OnceLock::new();
    *MULTI_CORE.get_or_init(|| std::thread::available_parallelism().map_or(true, |n| n.get() > 1))
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn paid_off_spins_grow_the_budget_and_wasted_ones_halve_it() {
        let state = WaitState::new();
        state.observe(Duration::from_micros(1_000), false, false);
        assert_eq!(state.budget.get(), START_BUDGET / 2);
        state.observe(Duration::from_micros(1), false, true);
        assert_eq!(state.budget.get(), START_BUDGET);
        state.observe(Duration::from_micros(30), false, true);
        assert_eq!(state.budget.get(), MAX_BUDGET);
        for _ in 0..5 {
            state.observe(Duration::from_micros(1_000), false, false);
        }
        assert_eq!(state.budget.get(), Duration::ZERO);
        // With no spin, a long wait leaves it at 0 (an idle receiver stays parked)...
        state.observe(Duration::from_micros(5_000), false, false);
        assert_eq!(state.budget.get(), Duration::ZERO);
        // ...and after one skipped wait, a wait a spin could have caught probes with one.
        state.observe(Duration::from_micros(40), false, false);
        assert_eq!(state.budget.get(), MAX_BUDGET);
    }

    #[test]
    fn probes_that_come_to_nothing_are_spaced_out() {
        let state = WaitState::new();
        let mut parked_waits_per_cycle = Vec::new();
        for _ in 0..4 {
            // Spins never pay; each parked wait takes 30 us (a probe's trigger).
            let mut waits = 0;
            while state.budget.get().is_zero() {
                state.observe(Duration::from_micros(30), false, false);
                waits += 1;
            }
            while !state.budget.get().is_zero() {
                state.observe(Duration::from_micros(100), false, false);
            }
            parked_waits_per_cycle.push(waits);
        }
        assert_eq!(parked_waits_per_cycle, [0, 2, 3, 5]); // the first cycle starts spinning
                                                          // A spin that pays resets the spacing.
        state.budget.set(START_BUDGET);
        state.observe(Duration::from_micros(1), false, true);
        assert_eq!(state.probe_every.get(), 1);
    }

    #[test]
    fn a_descheduling_counts_as_a_wasted_spin() {
        let state = WaitState::new();
        state.observe(Duration::from_micros(5), true, false);
        assert_eq!(state.budget.get(), START_BUDGET / 2);
        state.observe(Duration::from_micros(5), true, false);
        state.observe(Duration::from_micros(5), true, false);
        assert_eq!(state.budget.get(), START_BUDGET / 8);
        // Below the minimum: park at once, the next probe spaced out.
        state.observe(Duration::from_micros(5), true, false);
        assert_eq!(state.budget.get(), Duration::ZERO);
        assert_eq!(state.probe_in.get(), 1);
    }

    #[test]
    fn a_wait_after_receives_that_found_their_message_at_once_caught_up_with_their_run() {
        let state = WaitState::new();
        assert_eq!(state.take_caught_up(), 0); // a new receiver has seen no backlog
        for _ in 0..5 {
            state.found_at_once();
        }
        assert_eq!(state.take_caught_up(), 5);
        assert_eq!(state.take_caught_up(), 0); // once: the next wait follows a wait
    }

    #[test]
    fn the_look_ahead_is_bounded_by_the_run_it_follows() {
        let polls = |run: u32, published_at: usize| {
            let asked = Cell::new(0);
            let_the_stream_run_ahead(run, &|distance| {
                assert_eq!(distance, RUN_AHEAD);
                asked.set(asked.get() + 1);
                asked.get() == published_at
            });
            asked.get()
        };
        assert_eq!(polls(0, 1), 0); // the last receive waited too: no look ahead
        assert_eq!(polls(100, 3), 3); // ends once published
                                      // Never published (a burst's end, a stream that ended): bounded by the run.
        assert_eq!(polls(1, usize::MAX), POLLS_PER_RUN_ITEM as usize);
        assert_eq!(polls(3, usize::MAX), 3 * POLLS_PER_RUN_ITEM as usize);
        assert_eq!(polls(u32::MAX, usize::MAX), RUN_AHEAD_POLLS as usize);
    }

    #[test]
    fn fixed_strategies_do_not_learn() {
        let state = WaitState::new();
        state.set_strategy(WaitStrategy::Park);
        assert_eq!(state.plan().spin, Some(Duration::ZERO));
        state.set_strategy(WaitStrategy::SpinOnly);
        assert_eq!(state.plan().spin, None);
        let budget = Duration::from_micros(7);
        state.set_strategy(WaitStrategy::Spin(budget));
        let plan = state.plan();
        assert_eq!((plan.spin, plan.learn), (Some(budget), false));
    }

    #[test]
    fn a_spin_reports_a_clock_gap_as_a_descheduling() {
        let mut polls = 0;
        let spun = spin(
            &mut || {
                polls += 1;
                if polls == 3 {
                    std::thread::sleep(Duration::from_millis(2));
                }
                None::<()>
            },
            None,
            None,
            true,
        );
        assert!(spun.descheduled && spun.result.is_none());
    }
}
