//! [`OverflowLock`]: the overflow's mutex, and what its release owes the others.
//!
//! ```text
//!   holder                              on release (after the unlock, never under it)
//!   ──────                              ─────────────────────────────────────────────
//!   a sender whose spill raised     ──▶ RMW the tail word: wake the receiver if it
//!     `overflow_active`                 announced a sleep (it may be sleeping for this)
//!   a sender that pushed into ready ──▶ wake the receiver if the claim saw it announced
//!   any holder but the receiver     ──▶ swap `receiver_wants_lock`: wake the receiver if
//!     (spills, `len`, `stats`)          it found the lock held and asked to be told
//!   the receiver emptying overflow  ──▶ wake every sender waiting for room (a `send`
//!                                       waits while overflow retains messages)
//! ```
//!
//! A receive never waits on the mutex itself (an async one must not block its executor, a
//! try or timed one must answer in time). Finding it held, the receiver sets
//! `receiver_wants_lock` with a swap, then tries the lock once more; every holder but the
//! receiver swaps the flag back after unlocking. The two swaps meet in the flag's single
//! modification order: either the holder's comes second and sees the request, or it comes
//! first and the receiver's swap acquires it, with the unlock before it, so the second try
//! finds the lock free (or held by a later holder, whose own swap comes later still).
//! A holder that only reads (`len`, `stats`) therefore wakes nobody unless the receiver
//! waits for this very lock.

use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::panic::{self, AssertUnwindSafe};

use super::{Shared, SlowState};
use crate::mailbox::mode::Mode;
use crate::sync::{self, MutexGuard, Ordering};

/// Who holds the lock: the receiver never owes itself a wake-up.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Holder {
    Sender,
    Receiver,
}

/// What a holder published under the lock that a sleeping receiver may wait for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Published {
    Nothing,
    /// A push into `ready` whose claim returned this tail word (it may carry an announcement).
    Claimed(usize),
    /// A spill that raised `overflow_active`: the release RMWs the tail word.
    Spilled,
}

pub(crate) struct OverflowLock<'a, T, M: Mode<T>> {
    guard: ManuallyDrop<MutexGuard<'a, SlowState<M::Overflow>>>,
    shared: &'a Shared<T, M>,
    holder: Holder,
    /// What the holder published that a receiver asleep on the tail word may wait for.
    published: Published,
    /// The receiver emptied the overflow: senders waiting for it may send now.
    emptied: bool,
}

impl<'a, T, M: Mode<T>> OverflowLock<'a, T, M> {
    /// Waits for the lock (senders, and the receiver's own depth reads and close).
    pub(crate) fn lock(shared: &'a Shared<T, M>, holder: Holder) -> Self {
        Self::new(sync::lock(&shared.overflow.slow), shared, holder)
    }

    /// Takes the lock if it is free (the receiver's refills).
    pub(crate) fn try_lock(shared: &'a Shared<T, M>) -> Option<Self> {
        sync::try_lock(&shared.overflow.slow)
            .map(|guard| Self::new(guard, shared, Holder::Receiver))
    }

    fn new(
        guard: MutexGuard<'a, SlowState<M::Overflow>>,
        shared: &'a Shared<T, M>,
        holder: Holder,
    ) -> Self {
        OverflowLock {
            guard: ManuallyDrop::new(guard),
            shared,
            holder,
            published: Published::Nothing,
            emptied: false,
        }
    }

    /// A push under the lock returned `seen`: the release wakes the receiver if it carried an
    /// announcement.
    pub(crate) fn wake_if_announced(&mut self, seen: usize) {
        self.published = Published::Claimed(seen);
    }

    /// A spill raised `overflow_active`: the release RMWs the tail word and wakes a receiver
    /// that announced a sleep.
    pub(crate) fn mark_spilled(&mut self) {
        self.published = Published::Spilled;
    }

    /// The release must wake senders waiting for the overflow to empty.
    pub(crate) fn mark_emptied(&mut self) {
        self.emptied = true;
    }
}

impl<T, M: Mode<T>> Deref for OverflowLock<'_, T, M> {
    type Target = SlowState<M::Overflow>;

    fn deref(&self) -> &Self::Target {
        &self.guard
    }
}

impl<T, M: Mode<T>> DerefMut for OverflowLock<'_, T, M> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.guard
    }
}

impl<T, M: Mode<T>> Drop for OverflowLock<'_, T, M> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: the guard is dropped exactly once, here, and not used afterwards.
        unsafe { ManuallyDrop::drop(&mut self.guard) };
        // The receiver's refills, the most frequent holder, usually owe nobody anything.
        if self.published != Published::Nothing || self.emptied || self.holder == Holder::Sender {
            self.release();
        }
    }
}

impl<T, M: Mode<T>> OverflowLock<'_, T, M> {
    /// What the release owes, decided by RMWs after the unlock; wakers run last.
    fn release(&self) {
        let shared = self.shared;
        let tail = shared.ready.tail();
        let mut wake_receiver = match self.published {
            Published::Nothing => false,
            Published::Claimed(seen) => shared.waiter.claim_announcement(tail, seen),
            Published::Spilled => {
                // AcqRel: Release publishes the unlock and what was done under the lock (the
                // overflow flag, the spill) to an announcement that reads this RMW; Acquire
                // receives the announcement's registration before we wake it.
                let seen = tail.fetch_add(0, Ordering::AcqRel);
                shared.waiter.claim_announcement(tail, seen)
            }
        };
        // AcqRel: Release publishes the unlock to the receiver's swap that reads this one (its
        // second try then finds the lock free); Acquire receives its registration.
        if self.holder == Holder::Sender
            && shared
                .overflow
                .receiver_wants_lock
                .swap(false, Ordering::AcqRel)
        {
            wake_receiver = true;
        }
        if wake_receiver || self.emptied {
            wake_after_release(shared, wake_receiver, self.emptied);
        }
    }
}

/// Runs the wake-ups a release owes. A waker that panics while a policy's panic unwinds
/// through the lock must not abort the process: its panic is dropped, the policy's continues.
#[cold]
fn wake_after_release<T, M: Mode<T>>(shared: &Shared<T, M>, receiver: bool, emptied: bool) {
    let wake = || {
        if receiver {
            shared.waiter.wake();
        }
        if emptied {
            shared.ready.wake_everyone_waiting_for_room();
        }
    };
    if std::thread::panicking() {
        let _ = panic::catch_unwind(AssertUnwindSafe(wake));
    } else {
        wake();
    }
}
