//! The wait/wake protocol: how a single consumer goes to sleep without losing a wake-up, and how
//! producers wake it without paying for it on their fast path.
//!
//! ```text
//!   consumer                                   producer
//!   ────────                                   ────────
//!   poll: empty                                claims a position (fetch_add / CAS) ─┐
//!   register(thread or task waker)             publishes the item                  │ the value
//!   announce: tail.fetch_or(SLEEPING) ──┐      if the fetch_add saw SLEEPING: ◀────┘ it returned
//!     saw new positions or DISCONNECTED?│        tail.fetch_and(!SLEEPING); the one
//!       withdraw and poll again         │        that cleared the bit wakes the target
//!     else park / return Pending        │
//!                                       └── one modification order on the tail word
//! ```
//!
//! The announcement lives in the low bits of the queue's **tail word**, the word every producer
//! already read-modify-writes to claim a position (the token queue's `fetch_add`, the ready
//! queue's CAS). Work that does not claim a position (a mailbox spill into overflow) is made
//! visible the same way: the producer RMWs the tail word after it, and the consumer checks for
//! it after announcing. Both sides therefore meet in the single
//! modification order of one atomic: either the producer's claim comes first, and the consumer's
//! `fetch_or` sees the new position and does not sleep, or the announcement comes first, and the
//! producer's claim returns it and wakes the consumer. No Dekker fence is needed, acquire/release
//! suffices (so loom checks it exactly), and a producer whose consumer is awake pays nothing at
//! all: the bit test is on a value its claim returned anyway.

use std::task::Waker;

use crate::sync::{self, thread, AtomicUsize, Mutex, Ordering};

/// Tail-word bit: the consumer announced that it is about to sleep.
pub(crate) const SLEEPING: usize = 0b01;
/// Tail-word bit: every producer handle is gone.
pub(crate) const DISCONNECTED: usize = 0b10;
/// Tail-word bit: the consumer is gone; producers must not claim positions any more (used by
/// queues whose consumer drains what was claimed before it left).
pub(crate) const CLOSED: usize = 0b100;
/// Positions live above the flag bits.
pub(crate) const POSITION_SHIFT: u32 = 3;
/// What a producer adds to the tail word to claim one position.
pub(crate) const ONE_POSITION: usize = 1 << POSITION_SHIFT;
/// Positions wrap within the bits above the flags.
pub(crate) const POSITION_MASK: usize = usize::MAX >> POSITION_SHIFT;

/// The position part of a tail word.
#[inline]
pub(crate) fn position_of(tail_word: usize) -> usize {
    tail_word >> POSITION_SHIFT
}

/// What a sleeping thread or task is woken through.
pub(crate) enum WakeTarget {
    Thread(thread::Thread),
    Task(Waker),
}

impl WakeTarget {
    pub(crate) fn wake(self) {
        match self {
            WakeTarget::Thread(thread) => thread.unpark(),
            WakeTarget::Task(waker) => waker.wake(),
        }
    }
}

/// Where a single consumer leaves the means to wake it.
///
/// Only touched on the slow path (a consumer about to sleep, a producer that saw it announce),
/// so a plain mutex is the simplest correct choice; it is never held while user code runs.
pub(crate) struct Waiter {
    target: Mutex<Option<WakeTarget>>,
}

/// The answer to an announcement.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Announce {
    /// Nothing new was claimed and no disconnection happened: sleeping is safe, a producer
    /// will wake the registered target.
    Sleep,
    /// Something changed since the consumer last looked: it must poll again.
    Retry,
}

impl Waiter {
    pub(crate) fn new() -> Waiter {
        Waiter {
            target: Mutex::new(None),
        }
    }

    /// Registers the calling thread as the one to unpark.
    pub(crate) fn register_current_thread(&self) {
        let previous = sync::lock(&self.target).replace(WakeTarget::Thread(thread::current()));
        drop(previous);
    }

    /// Registers `waker` as the one to wake, keeping the registered one if it wakes the same task.
    ///
    /// One slot, replaced by each registration: every receive that registers takes `&mut self`,
    /// so only one task can be waiting on a receiver at a time (a future moved to another task
    /// registers its new waker at its next poll). The displaced waker is deliberately *not*
    /// woken: executors and combinators may hand a fresh waker to every poll of the same task
    /// (loom's `block_on` does; `will_wake` is then false), and waking the displaced one would
    /// make each poll wake itself again, a busy loop.
    pub(crate) fn register_task(&self, waker: &Waker) {
        let mut target = sync::lock(&self.target);
        if let Some(WakeTarget::Task(registered)) = target.as_ref() {
            if registered.will_wake(waker) {
                return;
            }
        }
        let previous = target.replace(WakeTarget::Task(waker.clone()));
        drop(target);
        drop(previous);
    }

    /// Announces in `tail` that the consumer is about to sleep; it has consumed everything up to
    /// position `head`, and `hidden_work` (checked after the announcement) says whether there
    /// is work the tail word cannot show. Register a target first.
    pub(crate) fn announce(
        &self,
        tail: &AtomicUsize,
        head: usize,
        hidden_work: impl Fn() -> bool,
    ) -> Announce {
        // AcqRel: Acquire makes every item claimed before this RMW, a DISCONNECTED set before
        // it, and whatever a producer did before its own later-read tail RMW, visible to the
        // re-checks; Release orders the registration before the bit.
        let seen = tail.fetch_or(SLEEPING, Ordering::AcqRel);
        if position_of(seen) != head || seen & DISCONNECTED != 0 || hidden_work() {
            self.withdraw(tail);
            Announce::Retry
        } else {
            Announce::Sleep
        }
    }

    /// Takes an announcement back (the consumer is awake again).
    pub(crate) fn withdraw(&self, tail: &AtomicUsize) {
        // Relaxed: clearing the bit only spares producers a needless wake; it publishes nothing.
        tail.fetch_and(!SLEEPING, Ordering::Relaxed);
    }

    /// Called by a producer with the tail word its claim (or disconnect) returned, after it
    /// published what it claimed. Wakes the consumer if that word carried an announcement.
    #[inline]
    pub(crate) fn wake_if_announced(&self, tail: &AtomicUsize, seen: usize) {
        if seen & SLEEPING != 0 {
            self.wake_announced(tail);
        }
    }

    #[cold]
    pub(crate) fn wake_announced(&self, tail: &AtomicUsize) {
        if self.claim_announcement(tail, SLEEPING) {
            self.wake();
        }
    }

    /// Whether `seen` (a tail word the caller's RMW returned) carried an announcement that
    /// this caller now owns the wake-up for; the caller then calls [`wake`](Self::wake),
    /// when it is free to run a waker.
    #[inline]
    pub(crate) fn claim_announcement(&self, tail: &AtomicUsize, seen: usize) -> bool {
        // AcqRel: Acquire pairs with the announcement's Release so the registration is visible.
        // Only the producer that actually clears the bit wakes: one sleep, one wake-up.
        seen & SLEEPING != 0 && tail.fetch_and(!SLEEPING, Ordering::AcqRel) & SLEEPING != 0
    }

    /// Wakes whatever is registered, outside the lock (a waker may run user code).
    pub(crate) fn wake(&self) {
        let target = sync::lock(&self.target).take();
        if let Some(target) = target {
            target.wake();
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize as StdAtomicUsize;
    use std::sync::Arc as StdArc;
    use std::task::Wake;

    struct CountingWaker(StdAtomicUsize);

    impl Wake for CountingWaker {
        fn wake(self: StdArc<Self>) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }

    fn counting_waker() -> (StdArc<CountingWaker>, Waker) {
        let counter = StdArc::new(CountingWaker(StdAtomicUsize::new(0)));
        (StdArc::clone(&counter), Waker::from(counter))
    }

    fn wakes(counter: &CountingWaker) -> usize {
        counter.0.load(std::sync::atomic::Ordering::Relaxed)
    }

    #[test]
    fn the_latest_registration_is_woken_and_reregistering_wakes_nobody() {
        let waiter = Waiter::new();
        let (first_count, first) = counting_waker();
        let (second_count, second) = counting_waker();
        waiter.register_task(&first);
        waiter.register_task(&first.clone());
        waiter.register_task(&second); // a fresh waker for the same wait replaces the slot
        assert_eq!((wakes(&first_count), wakes(&second_count)), (0, 0));
        waiter.wake();
        assert_eq!((wakes(&first_count), wakes(&second_count)), (0, 1));
        waiter.wake(); // taken: a second wake finds nothing
        assert_eq!(wakes(&second_count), 1);
    }
}
