//! How long a blocking receive spins before it parks: a fixed plan for the fixed
//! [`WaitStrategy`]s, and for `Adaptive` a budget learnt from the waits this receiver saw.
//!
//! Parking costs a wake-up per wait (5-50 us on the virtual machines we measure on, paid by
//! both sides of a request/reply pair on every hop); spinning costs CPU, and on an
//! oversubscribed host the partner's latency too (the spinner holds the core the partner
//! needs). So the adaptive wait spins only while spinning pays, keeps a history as glibc's
//! adaptive mutex does, and stops a spin at once when the thread turns out to be descheduled
//! (the surest sign of an oversubscribed host, as Linux's `mutex_optimistic_spin` reasons):
//!
//! ```text
//!   budget  0 or in [2 us, 50 us], starts at 20 us
//!   each wait that went past its first poll ends with an observation:
//!     descheduled          -> the spin stopped at once; counts as wasted (below)
//!     caught by the spin   -> budget = max(2 * budget, 2 * took), capped at 50 us
//!     parked anyway        -> budget / 2, 0 below 2 us
//!     no spin, took <= 200 us -> a probe: budget = min(2 * took, 50 us); probes that came to
//!                             nothing are spaced 1, 2, 4 ... 1024 waits apart
//!   one CPU: never spin
//! ```
//!
//! It never yields: a yield hands the core to any runnable thread, usually a CPU-bound one,
//! for a whole time slice. The state is the receiver's own (`Cell`s, touched only by the
//! receiving thread), so the wait/wake protocol and its loom models do not see it; under loom
//! bounded spins are skipped (loom cannot model time). BENCHMARKS.md ("Waiting") has the
//! measurements and the variants that were tried and dropped.

use std::cell::Cell;
use std::time::Duration;

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
/// A wait with no spin that took at most this long makes the next wait spin (twice as long,
/// capped at `MAX_BUDGET`): parking cost it one or two wake-ups that a spin would have saved.
/// Above the longest wake-up pair we measured (~45 us per round trip of two parked threads).
const PROBE_LIMIT: Duration = Duration::from_micros(200);

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

/// How long a wait spins after its first poll, before it parks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SpinPlan {
    /// Park at once.
    Never,
    /// Spin at most this long, then park.
    For(Duration),
    /// Spin until done (or the deadline); never park.
    UntilDone,
}

/// What a wait will do after its first poll.
pub(crate) struct Plan {
    pub(crate) spin: SpinPlan,
    /// Whether this wait learns from its outcome (adaptive only).
    pub(crate) learn: bool,
}

/// How a wait that went past its first poll ended, for [`WaitState::observe`].
pub(crate) struct Observation {
    /// How long it waited.
    pub(crate) took: Duration,
    /// Whether a spin found the thread descheduled.
    pub(crate) descheduled: bool,
    /// What got the result.
    pub(crate) caught_by: CaughtBy,
}

/// What ended a wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CaughtBy {
    Spin,
    Park,
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
        let (spin, learn) = match self.strategy.get() {
            WaitStrategy::SpinOnly => (SpinPlan::UntilDone, false),
            // loom cannot model time: bounded spins are skipped there.
            _ if cfg!(loom) => (SpinPlan::Never, false),
            WaitStrategy::Park => (SpinPlan::Never, false),
            WaitStrategy::Spin(budget) => (SpinPlan::For(budget), false),
            WaitStrategy::Adaptive if !multi_core() || self.budget.get().is_zero() => {
                (SpinPlan::Never, true)
            }
            WaitStrategy::Adaptive => (SpinPlan::For(self.budget.get()), true),
        };
        let spin = match spin {
            SpinPlan::For(budget) if budget.is_zero() => SpinPlan::Never,
            spin => spin,
        };
        Plan { spin, learn }
    }

    /// Learns from a finished wait.
    pub(crate) fn observe(&self, wait: Observation) {
        let budget = self.budget.get();
        if wait.descheduled {
            // A wasted spin, no more: KVM guests lose their vCPU now and then on a quiet host
            // too, and holding the budget at 0 for a while after one made quiet round trips
            // park for whole holds.
            self.spun_for_nothing(budget);
            return;
        }
        if budget.is_zero() {
            // No spin ran. A wait short enough that a spin could have caught it earns a probe.
            if self.probe_in.get() > 0 {
                self.probe_in.set(self.probe_in.get() - 1);
            } else if wait.took <= PROBE_LIMIT {
                self.budget.set((wait.took * 2).min(MAX_BUDGET));
            }
        } else if wait.caught_by == CaughtBy::Spin {
            // Doubling quickly undoes the halvings a few wasted spins caused.
            self.budget
                .set((budget * 2).max(wait.took * 2).min(MAX_BUDGET));
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

    fn seen(took: Duration, descheduled: bool, caught_by: CaughtBy) -> Observation {
        Observation {
            took,
            descheduled,
            caught_by,
        }
    }

    #[test]
    fn paid_off_spins_grow_the_budget_and_wasted_ones_halve_it() {
        let state = WaitState::new();
        state.observe(seen(Duration::from_micros(1_000), false, CaughtBy::Park));
        assert_eq!(state.budget.get(), START_BUDGET / 2);
        state.observe(seen(Duration::from_micros(1), false, CaughtBy::Spin));
        assert_eq!(state.budget.get(), START_BUDGET);
        state.observe(seen(Duration::from_micros(30), false, CaughtBy::Spin));
        assert_eq!(state.budget.get(), MAX_BUDGET);
        for _ in 0..5 {
            state.observe(seen(Duration::from_micros(1_000), false, CaughtBy::Park));
        }
        assert_eq!(state.budget.get(), Duration::ZERO);
        // With no spin, a long wait leaves it at 0 (an idle receiver stays parked)...
        state.observe(seen(Duration::from_micros(5_000), false, CaughtBy::Park));
        assert_eq!(state.budget.get(), Duration::ZERO);
        // ...and after one skipped wait, a wait a spin could have caught probes with one.
        state.observe(seen(Duration::from_micros(40), false, CaughtBy::Park));
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
                state.observe(seen(Duration::from_micros(30), false, CaughtBy::Park));
                waits += 1;
            }
            while !state.budget.get().is_zero() {
                state.observe(seen(Duration::from_micros(100), false, CaughtBy::Park));
            }
            parked_waits_per_cycle.push(waits);
        }
        assert_eq!(parked_waits_per_cycle, [0, 2, 3, 5]); // the first cycle starts spinning
                                                          // A spin that pays resets the spacing.
        state.budget.set(START_BUDGET);
        state.observe(seen(Duration::from_micros(1), false, CaughtBy::Spin));
        assert_eq!(state.probe_every.get(), 1);
    }

    #[test]
    fn a_descheduling_counts_as_a_wasted_spin() {
        let state = WaitState::new();
        state.observe(seen(Duration::from_micros(5), true, CaughtBy::Park));
        assert_eq!(state.budget.get(), START_BUDGET / 2);
        state.observe(seen(Duration::from_micros(5), true, CaughtBy::Park));
        state.observe(seen(Duration::from_micros(5), true, CaughtBy::Park));
        assert_eq!(state.budget.get(), START_BUDGET / 8);
        // Below the minimum: park at once, the next probe spaced out.
        state.observe(seen(Duration::from_micros(5), true, CaughtBy::Park));
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
    fn fixed_strategies_do_not_learn() {
        let state = WaitState::new();
        state.set_strategy(WaitStrategy::Park);
        assert_eq!(state.plan().spin, SpinPlan::Never);
        state.set_strategy(WaitStrategy::SpinOnly);
        assert_eq!(state.plan().spin, SpinPlan::UntilDone);
        let budget = Duration::from_micros(7);
        state.set_strategy(WaitStrategy::Spin(budget));
        let plan = state.plan();
        assert_eq!((plan.spin, plan.learn), (SpinPlan::For(budget), false));
    }
}
