//! [`OverflowLock`]: the overflow's mutex, and what its release owes the others.
//!
//! ```text
//!   holder                              on release (after the unlock, never under it)
//!   ──────                              ─────────────────────────────────────────────
//!   a sender spilling (policy ran)  ──▶ RMW the tail word: wake the receiver if it
//!     or pushing into `ready`           announced a sleep (it may be sleeping for this)
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

pub(crate) struct OverflowLock<'a, T, M: Mode<T>> {
    guard: ManuallyDrop<MutexGuard<'a, SlowState<M::Overflow>>>,
    shared: &'a Shared<T, M>,
    holder: Holder,
    /// Something a sleeping receiver may wait for was published under the lock (a spill, or
    /// a push into `ready` whose claim may have seen its announcement).
    published: bool,
    /// The receiver emptied the overflow: senders waiting for it may send now.
    emptied: bool,
}

impl<'a, T, M: Mode<T>> OverflowLock<'a, T, M> {
    /// Waits for the lock (senders, and the receiver's own depth reads and close).
    pub(crate) fn lock(shared: &'a Shared<T, M>, holder: Holder) -> Self {
        Self::new(sync::lock(&shared.slow), shared, holder)
    }

    /// Takes the lock if it is free (the receiver's refills).
    pub(crate) fn try_lock(shared: &'a Shared<T, M>) -> Option<Self> {
        sync::try_lock(&shared.slow).map(|guard| Self::new(guard, shared, Holder::Receiver))
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
            published: false,
            emptied: false,
        }
    }

    /// The release must wake a receiver that announced a sleep.
    pub(crate) fn mark_published(&mut self) {
        self.published = true;
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
        if self.published || self.emptied || self.holder == Holder::Sender {
            self.release();
        }
    }
}

impl<T, M: Mode<T>> OverflowLock<'_, T, M> {
    /// What the release owes, decided by RMWs after the unlock; wakers run last.
    fn release(&self) {
        let shared = self.shared;
        let mut wake_receiver = false;
        if self.published {
            let tail = shared.ready.tail();
            // AcqRel: Release publishes the unlock and what was done under the lock (the
            // overflow flag, the spill) to an announcement that reads this RMW; Acquire
            // receives the announcement's registration before we wake it.
            let seen = tail.fetch_add(0, Ordering::AcqRel);
            wake_receiver = shared.waiter.claim_announcement(tail, seen);
        }
        // AcqRel: Release publishes the unlock to the receiver's swap that reads this one (its
        // second try then finds the lock free); Acquire receives its registration.
        if self.holder == Holder::Sender && shared.receiver_wants_lock.swap(false, Ordering::AcqRel)
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
