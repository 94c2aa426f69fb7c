//! [`WaitList`]: any number of waiters (threads or tasks), woken first come, first served.
//!
//! ```text
//!   a waiter (a sender waiting for room)          the party that makes room (the receiver)
//!   ────────────────────────────────────          ─────────────────────────────────────────
//!   lock; push (ticket, thread or waker)          lock; take the first n entries;
//!     at the back, or at the front if it was        `still_waiting` runs if entries remain;
//!     woken before and lost its turn;               unlock
//!   `announce` runs under the lock; unlock        wake each taken entry (outside the lock)
//!   re-check the condition, then sleep
//!   ...
//!   woken: its entry is gone; not woken yet: it withdraws its entry
//! ```
//!
//! The list itself says nothing about *when* to wake: the owner keeps an announcement bit in
//! a word the waking side read-modify-writes anyway (see `ReadyQueue`'s published head), sets
//! it in `announce` and re-sets it in `still_waiting`, both under this list's lock, so "the
//! list is not empty" and "the bit is set" cannot drift apart. An entry is woken at most once,
//! and a waiter can tell whether it was (its entry is gone), so a waiter that gives up after
//! being woken passes the wake-up on instead of losing it.

use std::collections::VecDeque;
use std::fmt;
use std::task::Waker;

use super::waiter::WakeTarget;
use crate::sync::{self, thread, Mutex};

/// Where a waiter's entry goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Turn {
    /// Behind everyone already waiting: a newcomer.
    Last,
    /// Ahead of everyone: a waiter that was woken but found the room taken by someone who did
    /// not wait. It keeps its turn, so nobody starves behind newcomers.
    First,
}

/// A waiter's place in the list, handed back to [`WaitList::withdraw`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Ticket(u64);

pub(crate) struct WaitList {
    entries: Mutex<Entries>,
}

struct Entries {
    waiting: VecDeque<(Ticket, WakeTarget)>,
    next_ticket: u64,
}

impl WaitList {
    pub(crate) fn new() -> WaitList {
        WaitList {
            entries: Mutex::new(Entries {
                waiting: VecDeque::new(),
                next_ticket: 0,
            }),
        }
    }

    /// Enters the calling thread; `announce` runs under the lock, after the entry is in.
    pub(crate) fn enter_thread(&self, turn: Turn, announce: impl FnOnce()) -> Ticket {
        self.enter(WakeTarget::Thread(thread::current()), turn, announce)
    }

    /// Enters a task, or, if `ticket` is still waiting, only refreshes its waker (a future
    /// polled again before it was woken). `announce` runs under the lock either way.
    pub(crate) fn enter_task(
        &self,
        ticket: Option<Ticket>,
        waker: &Waker,
        turn: Turn,
        announce: impl FnOnce(),
    ) -> Ticket {
        if let Some(ticket) = ticket {
            let mut entries = sync::lock(&self.entries);
            if let Some((_, WakeTarget::Task(registered))) = entries
                .waiting
                .iter_mut()
                .find(|(entry, _)| *entry == ticket)
            {
                if !registered.will_wake(waker) {
                    registered.clone_from(waker);
                }
                announce();
                return ticket;
            }
        }
        self.enter(WakeTarget::Task(waker.clone()), turn, announce)
    }

    fn enter(&self, target: WakeTarget, turn: Turn, announce: impl FnOnce()) -> Ticket {
        let mut entries = sync::lock(&self.entries);
        let ticket = Ticket(entries.next_ticket);
        entries.next_ticket = entries.next_ticket.wrapping_add(1);
        match turn {
            Turn::Last => entries.waiting.push_back((ticket, target)),
            Turn::First => entries.waiting.push_front((ticket, target)),
        }
        announce();
        ticket
    }

    /// Whether `ticket` still waits (has been neither woken nor withdrawn).
    pub(crate) fn contains(&self, ticket: Ticket) -> bool {
        sync::lock(&self.entries)
            .waiting
            .iter()
            .any(|(entry, _)| *entry == ticket)
    }

    /// Takes `ticket`'s entry out if it is still there. `false`: it was woken already (and
    /// the caller, if it gives up now, owes the next waiter that wake-up: see
    /// [`wake_first`](Self::wake_first)).
    pub(crate) fn withdraw(&self, ticket: Ticket) -> bool {
        let removed = {
            let mut entries = sync::lock(&self.entries);
            let at = entries
                .waiting
                .iter()
                .position(|(entry, _)| *entry == ticket);
            at.and_then(|at| entries.waiting.remove(at))
        };
        // Dropped outside the lock: a waker's drop is user code.
        removed.is_some()
    }

    /// Wakes the first `n` waiters, oldest first; `still_waiting` runs under the lock if
    /// entries remain afterwards. Wakers run after the lock is released (they may run user
    /// code, even re-enter the list). If one panics, the others are still woken and the first
    /// panic continues afterwards.
    pub(crate) fn wake_first(&self, n: usize, still_waiting: impl FnOnce()) {
        let taken: Vec<WakeTarget> = {
            let mut entries = sync::lock(&self.entries);
            let n = n.min(entries.waiting.len());
            let taken = entries
                .waiting
                .drain(..n)
                .map(|(_, target)| target)
                .collect();
            if !entries.waiting.is_empty() {
                still_waiting();
            }
            taken
        };
        wake_each(taken);
    }

    /// Wakes every waiter (the condition they wait for can no longer change, e.g. closed).
    pub(crate) fn wake_all(&self) {
        self.wake_first(usize::MAX, || {});
    }
}

/// Wakes every target; one waker's panic does not keep the others asleep.
fn wake_each(targets: Vec<WakeTarget>) {
    let mut first_panic = None;
    for target in targets {
        let woken = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| target.wake()));
        if let Err(payload) = woken {
            first_panic.get_or_insert(payload);
        }
    }
    if let Some(payload) = first_panic {
        std::panic::resume_unwind(payload);
    }
}

impl fmt::Debug for WaitList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitList")
            .field("waiting", &sync::lock(&self.entries).waiting.len())
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn counting() -> (Arc<Count>, Waker) {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        (Arc::clone(&count), Waker::from(count))
    }

    fn woken(count: &Count) -> usize {
        count.0.load(Ordering::Relaxed)
    }

    #[test]
    fn waiters_are_woken_in_turn_and_a_lost_turn_goes_first() {
        let list = WaitList::new();
        let (a_count, a) = counting();
        let (b_count, b) = counting();
        let (c_count, c) = counting();
        let _a = list.enter_task(None, &a, Turn::Last, || {});
        let _b = list.enter_task(None, &b, Turn::Last, || {});
        let mut remain = 0;
        list.wake_first(1, || remain += 1);
        assert_eq!((woken(&a_count), woken(&b_count), remain), (1, 0, 1));
        let _c = list.enter_task(None, &c, Turn::First, || {});
        list.wake_first(1, || {});
        assert_eq!((woken(&b_count), woken(&c_count)), (0, 1));
        list.wake_all();
        assert_eq!(woken(&b_count), 1);
    }

    #[test]
    fn a_withdrawn_entry_is_never_woken_and_withdraw_tells_whether_it_was() {
        let list = WaitList::new();
        let (a_count, a) = counting();
        let (b_count, b) = counting();
        let ticket_a = list.enter_task(None, &a, Turn::Last, || {});
        let ticket_b = list.enter_task(None, &b, Turn::Last, || {});
        assert!(list.withdraw(ticket_a));
        list.wake_first(1, || {});
        assert_eq!((woken(&a_count), woken(&b_count)), (0, 1));
        assert!(!list.withdraw(ticket_b), "b was woken: its entry is gone");
    }

    #[test]
    fn re_entering_a_waiting_ticket_refreshes_its_waker_in_place() {
        let list = WaitList::new();
        let (old_count, old) = counting();
        let (new_count, new) = counting();
        let ticket = list.enter_task(None, &old, Turn::Last, || {});
        assert_eq!(
            list.enter_task(Some(ticket), &new, Turn::Last, || {}),
            ticket
        );
        list.wake_all();
        assert_eq!((woken(&old_count), woken(&new_count)), (0, 1));
    }

    #[test]
    fn a_panicking_waker_does_not_keep_the_others_asleep() {
        struct Panics;
        impl Wake for Panics {
            fn wake(self: Arc<Self>) {
                panic!("a user's waker panicked");
            }
        }
        let list = WaitList::new();
        let (after_count, after) = counting();
        list.enter_task(None, &Waker::from(Arc::new(Panics)), Turn::Last, || {});
        list.enter_task(None, &after, Turn::Last, || {});
        let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| list.wake_all()));
        assert!(unwound.is_err());
        assert_eq!(woken(&after_count), 1);
    }
}
