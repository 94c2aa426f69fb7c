//! The spin: poll a receive attempt, one pause apart, for a budget, noticing when the thread
//! is descheduled (a clock gap far longer than a burst of polls takes).
//!
//! The first burst of polls runs before any clock read: a spin that pays off at once (the
//! common case in a request/reply pair) then costs no clock read at all, where a read of the
//! clock costs as much as a dozen polls on a virtual machine.

use std::time::{Duration, Instant};

use super::adaptive::SpinPlan;
use crate::sync;

/// Polls between two clock reads. A poll plus one pause is 20-60 ns, so the clock (~20 ns via
/// the vDSO) is read every 0.3-1 us, often enough to keep the budget and to notice a preemption.
const POLLS_PER_CLOCK_READ: u32 = 16;
/// A gap between two clock reads this long means the thread did not run in between (16 polls
/// take about a microsecond; timer interrupts and VM exits take a few).
const DESCHEDULED_GAP: Duration = Duration::from_micros(30);

/// Whether a spin that finds the thread descheduled stops at once (an adaptive wait: a host
/// with more runnable threads than cores) or goes on (a fixed budget the user chose).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OnDescheduling {
    GiveUp,
    KeepSpinning,
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

/// Spins on `attempt` as `plan` says (a budget, or until it succeeds), never past `deadline`,
/// until it succeeds or, with [`OnDescheduling::GiveUp`], the thread turns out to be
/// descheduled. The budget counts from the end of the first burst of polls.
pub(crate) fn spin<R>(
    attempt: &mut impl FnMut() -> Option<R>,
    plan: SpinPlan,
    deadline: Option<Instant>,
    on_descheduling: OnDescheduling,
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
    let spin_end = match plan {
        SpinPlan::Never => Some(start),
        // A budget too long to add to the clock (`Spin(Duration::MAX)`) is no limit.
        SpinPlan::For(budget) => start.checked_add(budget),
        SpinPlan::UntilDone => None,
    };
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
            if on_descheduling == OnDescheduling::GiveUp {
                return ended(None, now, descheduled);
            }
        }
        if stop.is_some_and(|stop| now >= stop) {
            return ended(None, now, descheduled);
        }
        last = now;
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

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
            SpinPlan::UntilDone,
            None,
            OnDescheduling::GiveUp,
        );
        assert!(spun.descheduled && spun.result.is_none());
    }
}
