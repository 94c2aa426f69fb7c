//! The state one mailbox's senders and receiver share, and every protocol on it.
//!
//! ```text
//!  enqueue(m) ─▶ overflow_active? ──no──▶ ready.push ──ok──▶ Ok
//!                      │ yes                  │ full
//!                      ▼                      ▼
//!               lock ─▶ closed? ─▶ Closed    lock ─▶ overflow empty? ─▶ ready.push (stale full) ─▶ Ok
//!                      │                            │ no, or still full
//!                      ▼                            ▼
//!               overflow_active = true; Policy::handle ─▶ Backoff / Rejected; wake an announced receiver
//!
//!  receive ─▶ ready.pop ─▶ overflow_active? ─▶ lock (try_lock while ready still has some);
//!                                              Overflow::drain into ready (front to back);
//!                                              overflow empty? ─▶ overflow_active = false
//! ```
//!
//! * **No overtaking.** While overflow retains anything, `overflow_active` sends every enqueue
//!   to the slow path, where it queues behind the retained messages; a sender sees its own
//!   spill, so its messages stay in order. Only the receiver clears the flag, under the lock,
//!   when overflow is empty.
//! * **No stale-full spill.** The slow path retries `ready` under the lock when overflow is
//!   empty, so a stale "full" never puts a message into overflow while `ready` has room.
//! * **Never stranded.** After each message taken the receiver refills `ready` if the lock is
//!   free (a sender holding it is spilling; the next take retries), and whenever `ready` is
//!   empty it waits for the lock and refills before answering; a receiver about to sleep re-checks `overflow_active` after its
//!   announcement, and a spilling sender RMWs the tail word after setting the flag and wakes
//!   what that RMW shows announced (the same single-modification-order argument as the wait
//!   core's).
//! * **Close.** The receiver's drop marks the slow state closed, then closes the ring (a CLOSED
//!   bit in the tail word stops new claims) and drops every message claimed before, then the
//!   overflow: each message exactly once.
//! * **Disconnect.** The last sender stores `disconnected` (Release) after all its enqueues;
//!   a receiver that finds nothing and then sees the flag looks once more (ready and overflow)
//!   before reporting the end.
//! * **Panicking policies.** The policy runs with only the lock held; a panic unwinds through
//!   the guard (the poisoned lock is recovered: the overflow is whatever the policy left, which
//!   it keeps valid as any Rust value is across a panic) and a drop guard still wakes an
//!   announced receiver. The message was moved into the policy, which dropped or kept it once.

use std::task::{Context, Poll};
use std::time::Instant;

use crossbeam_utils::CachePadded;

use super::mode::Mode;
use super::{Overflow, RecvTimeoutError, Stats, TryRecvError};
use crate::core::ready_queue::{PushError, ReadyHead, ReadyQueue};
use crate::core::waiter::{Announce, Waiter, CLOSED, DISCONNECTED};
use crate::sync::{self, AtomicBool, AtomicUsize, Mutex, MutexGuard, Ordering};

/// What an enqueue did; each flavour turns it into its own feedback type.
pub(crate) enum Outcome {
    Ready,
    Handled,
    Rejected,
    Closed,
}

/// What the lock protects.
struct SlowState<O> {
    overflow: O,
    closed: bool,
    stats: Stats,
}

pub(crate) struct Shared<T, M: Mode<T>> {
    ready: ReadyQueue<T>,
    /// Overflow may retain messages: enqueues must take the slow path. Read by every enqueue,
    /// written rarely, so it has a line of its own.
    overflow_active: CachePadded<AtomicBool>,
    /// Every sender is gone (read by a receiver that found nothing).
    disconnected: AtomicBool,
    senders: CachePadded<AtomicUsize>,
    waiter: Waiter,
    slow: Mutex<SlowState<M::Overflow>>,
}

impl<T, M: Mode<T>> Shared<T, M> {
    pub(crate) fn new(capacity: usize) -> (Shared<T, M>, ReadyHead) {
        let (ready, head) = ReadyQueue::new(capacity);
        let shared = Shared {
            ready,
            overflow_active: CachePadded::new(AtomicBool::new(false)),
            disconnected: AtomicBool::new(false),
            senders: CachePadded::new(AtomicUsize::new(1)),
            waiter: Waiter::new(),
            slow: Mutex::new(SlowState {
                overflow: M::Overflow::default(),
                closed: false,
                stats: Stats::default(),
            }),
        };
        (shared, head)
    }

    pub(crate) fn capacity(&self) -> usize {
        self.ready.capacity()
    }

    /// The fast path: one load of `overflow_active` and a lock-free push.
    #[inline]
    pub(crate) fn enqueue(&self, message: T) -> Outcome {
        // Relaxed: the flag only routes; the lock orders the overflow itself, and a sender
        // sees its own spill by program order.
        if !self.overflow_active.load(Ordering::Relaxed) {
            match self.ready.push(message, &self.waiter) {
                Ok(()) => return Outcome::Ready,
                Err(PushError::Closed(message)) => {
                    drop(message);
                    return Outcome::Closed;
                }
                Err(PushError::Full(message)) => return self.enqueue_slow(message),
            }
        }
        self.enqueue_slow(message)
    }

    #[cold]
    fn enqueue_slow(&self, message: T) -> Outcome {
        let mut slow = sync::lock(&self.slow);
        if slow.closed {
            drop(slow);
            drop(message);
            return Outcome::Closed;
        }
        let message = if slow.overflow.is_empty() {
            // Nothing retained to overtake: `ready` may have room after all (stale "full").
            match self.ready.push(message, &self.waiter) {
                Ok(()) => return Outcome::Ready,
                Err(PushError::Closed(message)) => {
                    drop(slow);
                    drop(message);
                    return Outcome::Closed;
                }
                Err(PushError::Full(message)) => message,
            }
        } else {
            message
        };
        // Relaxed: read under the lock by senders; the receiver's unlocked reads are ordered
        // by the tail-word RMW in `WakeAnnounced` (see the module docs).
        self.overflow_active.store(true, Ordering::Relaxed);
        // Declared after the lock guard, so a panicking policy drops it first: the wake-up
        // happens whatever the policy does.
        let wake = WakeAnnounced(self);
        let accepted = M::handle(&mut slow.overflow, message);
        let outcome = if accepted {
            slow.stats.backoff += 1;
            Outcome::Handled
        } else {
            slow.stats.rejected += 1;
            Outcome::Rejected
        };
        // Unlock before waking, so the woken receiver finds the lock free.
        drop(slow);
        drop(wake);
        outcome
    }

    /// Takes the next message: from `ready`, refilling it from overflow as room appears.
    #[inline]
    pub(crate) fn take(&self, head: &ReadyHead) -> Option<T> {
        let message = self.ready.pop(head);
        // Relaxed: the lock orders the overflow; see `enqueue`.
        if self.overflow_active.load(Ordering::Relaxed) {
            match message {
                // Something to deliver already: refill (SPEC: after each message taken) if the
                // lock is free. A sender holding it is spilling right now; rather than stall
                // behind it, leave the refill to the next take.
                Some(_) => {
                    if let Some(slow) = sync::try_lock(&self.slow) {
                        self.refill(slow);
                    }
                }
                // Nothing in `ready`: overflow must not be stranded, so wait for the lock.
                None => {
                    self.refill(sync::lock(&self.slow));
                    return self.ready.pop(head);
                }
            }
        }
        message
    }

    #[cold]
    fn refill(&self, mut slow: MutexGuard<'_, SlowState<M::Overflow>>) {
        slow.overflow
            .drain(|message| match self.ready.push(message, &self.waiter) {
                Ok(()) => None,
                Err(PushError::Full(message) | PushError::Closed(message)) => Some(message),
            });
        if slow.overflow.is_empty() {
            // Relaxed: under the lock, which senders take before spilling again.
            self.overflow_active.store(false, Ordering::Relaxed);
        }
    }

    pub(crate) fn try_recv(&self, head: &ReadyHead) -> Result<T, TryRecvError> {
        if let Some(message) = self.take(head) {
            return Ok(message);
        }
        // Acquire: pairs with the last sender's Release; everything it enqueued is visible.
        if !self.disconnected.load(Ordering::Acquire) {
            return Err(TryRecvError::Empty);
        }
        // Disconnected after we looked: look once more before reporting the end.
        self.take(head).ok_or(TryRecvError::Disconnected)
    }

    pub(crate) fn poll_recv(&self, head: &ReadyHead, cx: &mut Context<'_>) -> Poll<Option<T>> {
        match self.try_recv(head) {
            Ok(message) => return Poll::Ready(Some(message)),
            Err(TryRecvError::Disconnected) => return Poll::Ready(None),
            Err(TryRecvError::Empty) => {}
        }
        self.waiter.register_task(cx.waker());
        let position = self.ready.head_position(head);
        if self
            .waiter
            .announce(self.ready.tail(), position, || self.hidden_work())
            == Announce::Sleep
        {
            return Poll::Pending;
        }
        match self.try_recv(head) {
            Ok(message) => Poll::Ready(Some(message)),
            Err(TryRecvError::Disconnected) => Poll::Ready(None),
            Err(TryRecvError::Empty) => {
                // A sender is between claiming and publishing: let the executor come back.
                sync::retry_hint();
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        }
    }

    pub(crate) fn recv_blocking(
        &self,
        head: &ReadyHead,
        deadline: Option<Instant>,
    ) -> Result<T, RecvTimeoutError> {
        let attempt = || match self.try_recv(head) {
            Ok(message) => Some(Ok(message)),
            Err(TryRecvError::Disconnected) => Some(Err(RecvTimeoutError::Disconnected)),
            Err(TryRecvError::Empty) => None,
        };
        self.waiter
            .block_until(
                self.ready.tail(),
                deadline,
                attempt,
                || self.ready.head_position(head),
                || self.hidden_work(),
            )
            .unwrap_or(Err(RecvTimeoutError::Timeout))
    }

    /// Work a sleeping receiver must not miss that the tail word does not show.
    fn hidden_work(&self) -> bool {
        // Relaxed: called after the announcement RMW, which acquires the spilling sender's
        // later RMW of the tail word (see `WakeAnnounced`).
        self.overflow_active.load(Ordering::Relaxed)
    }

    pub(crate) fn len(&self, head: &ReadyHead) -> usize {
        let retained = sync::lock(&self.slow).overflow.len();
        self.ready.len(head) + retained
    }

    pub(crate) fn stats(&self) -> Stats {
        sync::lock(&self.slow).stats
    }

    pub(crate) fn is_closed(&self) -> bool {
        // Acquire: a true answer orders after the receiver's drop.
        self.ready.tail().load(Ordering::Acquire) & CLOSED != 0
    }

    /// The receiver's drop: refuse everything from now on, then drop everything buffered.
    pub(crate) fn close(&self, head: &ReadyHead) {
        let retained = {
            let mut slow = sync::lock(&self.slow);
            slow.closed = true;
            std::mem::take(&mut slow.overflow)
        };
        self.ready.close_and_drain(head);
        // Outside the lock: a message's destructor may do anything.
        drop(retained);
    }

    pub(crate) fn add_sender(&self) {
        // Relaxed: a new handle comes from a live one (the argument of `Arc::clone`).
        self.senders.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn remove_sender(&self) {
        // AcqRel: the last sender must see the others' enqueues before publishing the end.
        if self.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            // Release: a receiver that sees the flag sees every enqueue.
            self.disconnected.store(true, Ordering::Release);
            // AcqRel: orders the flag before the bit; acquires an announcement to wake.
            let seen = self.ready.tail().fetch_or(DISCONNECTED, Ordering::AcqRel);
            self.waiter.wake_if_announced(self.ready.tail(), seen);
        }
    }
}

/// After a spill (or a panicking policy), wakes a receiver that announced it sleeps: the RMW
/// either sees its announcement, or its announcement sees this RMW and with it the flag.
struct WakeAnnounced<'a, T, M: Mode<T>>(&'a Shared<T, M>);

impl<T, M: Mode<T>> Drop for WakeAnnounced<'_, T, M> {
    fn drop(&mut self) {
        let tail = self.0.ready.tail();
        // AcqRel: Release publishes `overflow_active` to an announcement that reads this RMW;
        // Acquire receives the announcement's registration.
        let seen = tail.fetch_add(0, Ordering::AcqRel);
        self.0.waiter.wake_if_announced(tail, seen);
    }
}
