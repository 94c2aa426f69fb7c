//! The state one mailbox's senders and receiver share, and every protocol on it.
//!
//! ```text
//!  enqueue(m) ─▶ overflow_active? ──no──▶ ready.push ──ok──▶ Ok
//!                      │ yes                  │ full
//!                      ▼                      ▼
//!               lock ─▶ closed? ─▶ Closed    lock ─▶ overflow empty? ─▶ ready.push (stale full) ─▶ Ok
//!                      │                            │ no, or still full
//!                      ▼                            ▼
//!               Policy::handle ─▶ overflow retains something? overflow_active = true
//!               ─▶ Backoff / Rejected; the release wakes an announced receiver
//!
//!  receive ─▶ ready.pop ─▶ overflow_active? ─▶ try_lock (held by a sender: skip the next
//!                                              31 refills; ready empty: Empty / Pending /
//!                                              sleep until the holder's release, or wait
//!                                              for it in an untimed recv_blocking);
//!                                              Overflow::drain into ready (front to back);
//!                                              overflow empty? ─▶ overflow_active = false
//! ```
//!
//! * **No overtaking.** While overflow retains anything, `overflow_active` sends every enqueue
//!   (and every `send`, which then waits) to the slow path, where it queues behind the retained
//!   messages; a sender sees its own spill, so its messages stay in order. The flag is raised
//!   by the spill that leaves overflow non-empty and cleared under the lock once overflow
//!   retains nothing: by the receiver after a refill, or by a sender whose policy dropped or
//!   refused its message.
//! * **No stale-full spill.** The slow path retries `ready` under the lock when overflow is
//!   empty, so a stale "full" never puts a message into overflow while `ready` has room.
//! * **Never stranded.** After each message taken the receiver refills `ready` if the lock is
//!   free (a sender holding it is spilling: the refill waits for a later take, 31 takes later
//!   under contention), and whenever `ready` is empty it refills before answering, or, if a
//!   sender holds the lock, asks that sender's release to wake it. A receiver about to sleep
//!   re-checks `overflow_active` after its announcement, and the spill that raised the flag
//!   RMWs the tail word afterwards and wakes what that RMW shows announced (the same
//!   single-modification-order argument as the wait layer's).
//! * **Close.** The receiver's drop marks the slow state closed, then closes the ring (a CLOSED
//!   bit in the tail word stops new claims) and drops every message claimed before, then the
//!   overflow: each message exactly once.
//! * **Disconnect.** The last sender stores `disconnected` (Release) after all its enqueues;
//!   a receiver that finds nothing and then sees the flag looks once more (ready and overflow)
//!   before reporting the end.
//! * **Panicking policies.** The policy runs with only the lock held; its panic is caught just
//!   long enough to bring `overflow_active` in line with what it left, then unwinds through
//!   the guard (the poisoned lock is recovered: the overflow is whatever the policy left, which
//!   it keeps valid as any Rust value is across a panic), and the guard's release still wakes
//!   whoever it owes a wake-up. The message was moved into the policy, which dropped or kept it
//!   once.
//! * **No try, timed or async receive waits for the overflow lock, and no waker runs under
//!   it** (an untimed `recv_blocking` may block its thread on it). Every holder goes
//!   through [`OverflowLock`], whose release unlocks *first* and then wakes: a receiver that
//!   announced a sleep if the holder spilled, a receiver that asked for the lock if the holder
//!   was not the receiver itself, senders waiting for room if the receiver emptied the
//!   overflow (`shared/overflow_lock.rs` has the protocol). A receive that finds `ready` empty
//!   and the lock held asks to be told and sleeps (or returns `Pending`, or answers `Empty`);
//!   a holder that only reads depth or stats wakes nobody else.
//! * **Waiting senders** (`shared/send.rs`): `send` and its blocking forms put a message into
//!   `ready` only, never into the policy, and wait while `ready` is full or overflow retains
//!   messages; the ready queue wakes them as it frees slots, the receiver's release of the
//!   lock when it empties the overflow.
//! * **Closing intake.** `Receiver::close` marks the slow state closed and sets CLOSED in the
//!   tail word, like the drop, but keeps everything: receives drain `ready` up to the last
//!   position claimed before CLOSED, then take retained overflow directly (the ring accepts no
//!   more claims), then report disconnection. Senders awaiting `closed()` are woken.
//! * **Batches** (`shared/batch.rs`): `limit` single takes in a row with the work shared;
//!   same order, same `ready` / overflow split afterwards, same lock rules (an async batch
//!   never waits for the lock).
//! * **Destructors that panic.** Closing drops every message under `catch_unwind`, so one
//!   message's panicking `Drop` does not strand the others; the first panic is re-raised once
//!   all are dropped.

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};
use std::task::{Context, Poll};
use std::time::Instant;

use crossbeam_utils::CachePadded;

mod batch;
mod overflow_lock;
mod send;

use overflow_lock::{Holder, OverflowLock};

use super::mode::Mode;
use super::{Overflow, RecvTimeoutError, Stats, TryRecvError};
use crate::core::close_signal::CloseSignal;
use crate::core::ready_queue::{PushError, ReadyHead, ReadyQueue};
use crate::core::senders::Senders;
use crate::core::wait::adaptive::WaitState;
use crate::core::wait::waiter::Waiter;
use crate::core::wait::{self, Receive};
use crate::sync::{self, AtomicBool, AtomicUsize, Mutex, Ordering};

/// What an enqueue did; each flavour turns it into its own feedback type.
pub(crate) enum Outcome {
    Ready,
    Handled,
    Rejected,
    Closed,
}

/// What the lock protects.
pub(crate) struct SlowState<O> {
    pub(crate) overflow: O,
    closed: bool,
    pub(crate) stats: Stats,
}

/// Takes that skip their refill attempt after one found the overflow lock held.
const REFILL_BACKOFF: u32 = 31;

/// A receive found `ready` empty while a sender holds the overflow lock (its policy may be
/// running): the receive must not wait for it.
pub(crate) struct Contended;

/// The overflow's mutex with the flag every sender-side release swaps right after unlocking:
/// side by side (`repr(C)`, the flag first), so the swap hits the line the unlock just took.
#[repr(C)]
pub(crate) struct Locked<S> {
    /// The receiver found the lock held and waits for its release (see `OverflowLock`).
    receiver_wants_lock: AtomicBool,
    slow: Mutex<S>,
}

pub(crate) struct Shared<T, M: Mode<T>> {
    ready: ReadyQueue<T>,
    /// Overflow may retain messages: enqueues must take the slow path. Read by every enqueue,
    /// written rarely, so it has a line of its own.
    overflow_active: CachePadded<AtomicBool>,
    senders: Senders,
    waiter: Waiter,
    /// The overflow lock and the receiver's request for it, on a line of their own.
    overflow: CachePadded<Locked<SlowState<M::Overflow>>>,
    /// Senders awaiting `closed()`.
    close_signal: CloseSignal,
}

impl<T, M: Mode<T>> Shared<T, M> {
    #[track_caller]
    pub(crate) fn new(capacity: usize) -> (Shared<T, M>, ReadyHead) {
        let (ready, head) = ReadyQueue::new(capacity);
        let shared = Shared {
            ready,
            overflow_active: CachePadded::new(AtomicBool::new(false)),
            senders: Senders::new(),
            waiter: Waiter::new(),
            overflow: CachePadded::new(Locked {
                receiver_wants_lock: AtomicBool::new(false),
                slow: Mutex::new(SlowState {
                    overflow: M::Overflow::default(),
                    closed: false,
                    stats: Stats::default(),
                }),
            }),
            close_signal: CloseSignal::new(),
        };
        (shared, head)
    }

    pub(crate) fn capacity(&self) -> usize {
        self.ready.capacity()
    }

    /// The fast path: one load of `overflow_active` and a lock-free push.
    #[inline]
    pub(crate) fn enqueue(&self, message: T) -> Outcome {
        // Acquire: pairs with the receiver's Release when it clears the flag, so the claims of
        // its refill come before ours in the tail word (a message that was retained is not
        // overtaken). Setting the flag is ordered by the lock, and a sender sees its own spill
        // by program order.
        if !self.overflow_active.load(Ordering::Acquire) {
            match self.ready.push(message) {
                Ok(seen) => {
                    self.waiter.wake_if_announced(self.ready.tail(), seen);
                    return Outcome::Ready;
                }
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
        let mut slow = OverflowLock::lock(self, Holder::Sender);
        if slow.closed {
            drop(slow);
            drop(message);
            return Outcome::Closed;
        }
        let message = if slow.overflow.is_empty() {
            // Nothing retained to overtake: `ready` may have room after all (stale "full").
            // A receiver this claim should wake is woken by the guard, after the unlock.
            match self.ready.push(message) {
                Ok(seen) => {
                    slow.wake_if_announced(seen);
                    return Outcome::Ready;
                }
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
        // The policy's panic is caught only to bring the flag in line with what it left, then
        // continues to the sender (the guard still unlocks and wakes on the way out).
        let (handled, discarded) = super::policies::counting_discards(|| {
            panic::catch_unwind(AssertUnwindSafe(|| M::handle(&mut slow.overflow, message)))
        });
        self.flag_what_is_retained(&mut slow);
        let accepted = handled.unwrap_or_else(|payload| panic::resume_unwind(payload));
        // A refusal the policy returned is its rejection, counted once, as `rejected`.
        let refused = if accepted {
            discarded.refused
        } else {
            discarded.refused.saturating_sub(1)
        };
        slow.stats.dropped += discarded.dropped + refused;
        if accepted {
            slow.stats.backoff += 1;
            Outcome::Handled
        } else {
            slow.stats.rejected += 1;
            Outcome::Rejected
        }
    }

    /// After a policy ran: `overflow_active` says whether overflow retains anything. Raised
    /// after the policy, not before: while the lock is held no other sender can spill, and a
    /// fast-path sender racing a spill may come first anyway (senders interleave). So a policy
    /// that drops or refuses its message (the overflow stays empty) writes no flag at all, and
    /// a sender refused over and over costs the others nothing.
    fn flag_what_is_retained(&self, slow: &mut OverflowLock<'_, T, M>) {
        // Relaxed: read under the lock by senders; the receiver's unlocked reads are ordered
        // by the tail-word RMW of the guard's release (see the module docs). Only stored when
        // it changes: every write of the flag is made under this lock, so the load sees the
        // latest, and a store of `true` over `true` would take the line from the receiver,
        // which reads it on every take (one more line moved per spilled message).
        let active = self.overflow_active.load(Ordering::Relaxed);
        if slow.overflow.is_empty() {
            if active {
                self.clear_if_emptied(slow);
            }
        } else if !active {
            // Relaxed: as the load; the lock and the tail-word RMW order it.
            self.overflow_active.store(true, Ordering::Relaxed);
            // Only a spill that raises the flag owes a receiver about to sleep the tail-word
            // RMW: one that announced after the RMW of the spill that raised it sees the flag
            // (and looks at the overflow instead of sleeping), one before was woken by it.
            slow.mark_spilled();
        }
    }

    /// Takes the next message without ever waiting for the overflow lock: `Err(Contended)`
    /// when `ready` is empty, overflow may retain messages, and a sender holds the lock.
    #[inline]
    pub(crate) fn take_without_waiting(&self, head: &ReadyHead) -> Result<Option<T>, Contended> {
        let message = self.ready.pop(head);
        // Relaxed: the lock orders the overflow; see `enqueue`.
        if !self.overflow_active.load(Ordering::Relaxed) {
            return Ok(message);
        }
        self.take_beside_overflow(message, head)
    }

    /// Out of line, so that the receive above stays small enough to be inlined into its callers
    /// (callgrind: 9 fewer instructions per receive from a full `ready`).
    #[inline(never)]
    fn take_beside_overflow(
        &self,
        message: Option<T>,
        head: &ReadyHead,
    ) -> Result<Option<T>, Contended> {
        match message {
            Some(message) => {
                self.refill_if_free(head);
                Ok(Some(message))
            }
            None => match OverflowLock::try_lock(self) {
                Some(mut slow) => Ok(self.refill_then_take(&mut slow, head)),
                None => Err(Contended),
            },
        }
    }

    /// Refill after each message taken, while the lock is free. A sender holding it is
    /// spilling right now: rather than stall behind it, leave the refill to a later take, and
    /// with senders contending for the lock, to the one [`REFILL_BACKOFF`] takes on. Every
    /// failed try costs the receiver, the one thread that drains, a trip of the lock's cache
    /// line through every spilling sender's core (with 4 spilling producer threads, refilling
    /// one message per take spent most of the receiver's time on that line). A `ready` found
    /// empty still refills at once (`refill_then_take`), so nothing is stranded, and with
    /// the lock uncontended every take refills, as before.
    #[inline]
    fn refill_if_free(&self, head: &ReadyHead) {
        if head.skip_refill() {
            return;
        }
        match OverflowLock::try_lock(self) {
            Some(mut slow) => self.refill(&mut slow),
            None => head.skip_refills(REFILL_BACKOFF),
        }
    }

    /// Moves retained overflow into `ready`, front to back, as far as there is room.
    fn refill(&self, slow: &mut OverflowLock<'_, T, M>) {
        slow.overflow
            .drain(|message| match self.ready.push(message) {
                // The receiver itself is the only one a claim could wake: nothing to do.
                Ok(_) => None,
                Err(PushError::Full(message) | PushError::Closed(message)) => Some(message),
            });
        self.clear_if_emptied(slow);
    }

    /// Clears `overflow_active` once overflow retains nothing; the lock's release then wakes
    /// senders waiting for it.
    fn clear_if_emptied(&self, slow: &mut OverflowLock<'_, T, M>) {
        if slow.overflow.is_empty() {
            // Release: pairs with the Acquire of a sender's fast path, so the claims of the
            // refill before it come first in the tail word. Under the lock, which senders take
            // before spilling again.
            self.overflow_active.store(false, Ordering::Release);
            slow.mark_emptied();
        }
    }

    /// With `ready` found empty: refills it, then takes the oldest message. Once intake is
    /// closed `ready` takes no more claims, and the oldest retained message is handed over
    /// directly.
    #[cold]
    fn refill_then_take(&self, slow: &mut OverflowLock<'_, T, M>, head: &ReadyHead) -> Option<T> {
        self.refill(slow);
        if let Some(message) = self.ready.pop(head) {
            return Some(message);
        }
        self.take_retained(slow)
    }

    /// With `ready` empty after a refill that it took nothing of: it is closed
    /// (`Receiver::close`), or every slot is claimed by a sender still writing it. Either way
    /// the oldest retained message is next in its own sender's order: hand it over directly.
    fn take_retained(&self, slow: &mut OverflowLock<'_, T, M>) -> Option<T> {
        let mut first = None;
        slow.overflow.drain(|message| match first {
            None => {
                first = Some(message);
                None
            }
            Some(_) => Some(message),
        });
        self.clear_if_emptied(slow);
        first
    }

    /// Whether no message can arrive any more: every sender is gone, or intake was closed
    /// and every position claimed before that has been taken. Reads no producer-written line
    /// but the read-mostly `disconnected` flag.
    #[inline]
    fn intake_ended(&self, head: &ReadyHead) -> bool {
        self.senders.all_gone() || self.ready.drained_after_close(head)
    }

    /// What a receive answers when a take found nothing: `Empty`, or, if intake has ended,
    /// one more look (the end may have come after the take) and then `Disconnected`.
    #[inline]
    fn nothing_taken(&self, head: &ReadyHead) -> Result<T, TryRecvError> {
        if !self.intake_ended(head) {
            return Err(TryRecvError::Empty);
        }
        match self.take_without_waiting(head) {
            Ok(Some(message)) => Ok(message),
            Ok(None) => Err(TryRecvError::Disconnected),
            Err(Contended) => Err(TryRecvError::Empty),
        }
    }

    /// Takes the next message, never waiting: a lock held by a sender is `Empty` for now.
    #[inline]
    pub(crate) fn try_recv(&self, head: &ReadyHead) -> Result<T, TryRecvError> {
        match self.take_without_waiting(head) {
            Ok(Some(message)) => Ok(message),
            Ok(None) => self.nothing_taken(head),
            Err(Contended) => Err(TryRecvError::Empty),
        }
    }

    /// [`try_recv`](Self::try_recv) for a receive that may block its thread without a deadline
    /// (`recv_blocking`): a lock held by a sender is waited for, so that a stream of spilling
    /// senders cannot keep the receiver away from the overflow.
    #[inline]
    fn try_recv_or_wait_for_lock(&self, head: &ReadyHead) -> Result<T, TryRecvError> {
        match self.take_without_waiting(head) {
            Ok(Some(message)) => Ok(message),
            Ok(None) => self.nothing_taken(head),
            Err(Contended) => match self.take_waiting_for_the_lock(head) {
                Some(message) => Ok(message),
                None => self.nothing_taken(head),
            },
        }
    }

    #[cold]
    fn take_waiting_for_the_lock(&self, head: &ReadyHead) -> Option<T> {
        self.refill_then_take(&mut OverflowLock::lock(self, Holder::Receiver), head)
    }

    pub(crate) fn poll_recv(&self, head: &ReadyHead, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.poll_with(head, cx, || self.try_recv(head))
    }

    /// The async receive around `attempt` (which never waits for the overflow lock), through
    /// the wait layer's one async loop. `Ready(None)` is the end.
    #[inline]
    fn poll_with<R>(
        &self,
        head: &ReadyHead,
        cx: &mut Context<'_>,
        mut attempt: impl FnMut() -> Result<R, TryRecvError>,
    ) -> Poll<Option<R>> {
        let attempt = move || match attempt() {
            Ok(received) => Some(Some(received)),
            Err(TryRecvError::Disconnected) => Some(None),
            Err(TryRecvError::Empty) => None,
        };
        wait::poll(&mut self.receiving(head, attempt), cx)
    }

    /// This mailbox as the wait layer sees it, around one kind of receive attempt.
    fn receiving<'a, R, F: FnMut() -> Option<R>>(
        &'a self,
        head: &'a ReadyHead,
        attempt: F,
    ) -> Receiving<'a, T, M, F> {
        Receiving {
            shared: self,
            head,
            attempt,
        }
    }

    /// After a receive's announcement: whether overflow may retain messages that the receive
    /// can take now. If a sender holds the lock, the receive asks it for a wake-up on release
    /// and sleeps; see `OverflowLock`. Only the receiver calls this.
    fn overflow_needs_a_look(&self) -> bool {
        // Relaxed: after the announcement RMW, which acquires every earlier release RMW of
        // the tail word (a spill's), and with it the flag before it.
        if !self.overflow_active.load(Ordering::Relaxed) {
            return false;
        }
        // AcqRel: meets the holder's swap after its unlock in this flag's modification order
        // (Acquire: a release before it is visible to the try below; Release: orders the
        // registration before the request).
        self.overflow
            .receiver_wants_lock
            .swap(true, Ordering::AcqRel);
        if sync::try_lock(&self.overflow.slow).is_some() {
            // Relaxed: withdraws the request; a holder that swapped it meanwhile only wakes
            // us once more than needed.
            self.overflow
                .receiver_wants_lock
                .store(false, Ordering::Relaxed);
            true
        } else {
            false
        }
    }

    pub(crate) fn recv_blocking(
        &self,
        head: &ReadyHead,
        wait: &WaitState,
        deadline: Option<Instant>,
    ) -> Result<T, RecvTimeoutError> {
        let attempt = || {
            let received = match deadline {
                None => self.try_recv_or_wait_for_lock(head),
                Some(_) => self.try_recv(head),
            };
            match received {
                Ok(message) => Some(Ok(message)),
                Err(TryRecvError::Disconnected) => Some(Err(RecvTimeoutError::Disconnected)),
                Err(TryRecvError::Empty) => None,
            }
        };
        wait::block(&mut self.receiving(head, attempt), wait, deadline)
            .unwrap_or(Err(RecvTimeoutError::Timeout))
    }

    /// `Receiver::len`. Waits for the lock (a depth read is not a receive); wakes nobody.
    pub(crate) fn len(&self, head: &ReadyHead) -> usize {
        let retained = OverflowLock::lock(self, Holder::Receiver).overflow.len();
        self.ready.len(head) + retained
    }

    /// `Sender::len`: the head the receiver last published, and the overflow, both read under
    /// the lock. Reading `ready` under the lock too means a refill (which moves messages under
    /// it) is never half seen: a moved message is counted once, in overflow or in `ready`.
    pub(crate) fn len_for_sender(&self) -> usize {
        let slow = OverflowLock::lock(self, Holder::Sender);
        slow.overflow.len() + self.ready.len_for_producers()
    }

    /// `Receiver::stats`: wakes nobody.
    pub(crate) fn stats(&self) -> Stats {
        OverflowLock::lock(self, Holder::Receiver).stats
    }

    /// `Sender::stats`: wakes the receiver only if it waits for this lock.
    pub(crate) fn stats_for_sender(&self) -> Stats {
        OverflowLock::lock(self, Holder::Sender).stats
    }

    /// No message can arrive any more: every sender is gone, or the receiver closed intake.
    /// Messages may still be buffered.
    pub(crate) fn is_disconnected(&self, head: &ReadyHead) -> bool {
        self.senders.all_gone() || self.ready.intake_closed(head)
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.ready.is_closed()
    }

    /// `Receiver::close`: refuse every later enqueue, keep everything accepted for the
    /// receiver, wake senders awaiting `closed()` (all of them, even if a waker panics; the
    /// first such panic continues from here, with intake already closed).
    pub(crate) fn close_intake(&self, head: &ReadyHead) {
        sync::lock(&self.overflow.slow).closed = true;
        self.ready.close(head);
        if let Some(payload) = self.wake_everyone_at_close() {
            panic::resume_unwind(payload);
        }
    }

    /// Wakes senders awaiting `closed()` and senders waiting for room, all of them even if a
    /// waker panics; hands back the first panic.
    fn wake_everyone_at_close(&self) -> Option<Box<dyn Any + Send>> {
        let mut first_panic = self.close_signal.close_catching();
        let woken = panic::catch_unwind(AssertUnwindSafe(|| {
            self.ready.wake_everyone_waiting_for_room();
        }));
        if let Err(payload) = woken {
            first_panic.get_or_insert(payload);
        }
        first_panic
    }

    /// The receiver's drop: refuse everything from now on, then drop everything buffered,
    /// each message exactly once even if some destructors panic (the first panic is re-raised
    /// after the last message is dropped).
    ///
    /// The mailbox is closed (slow state, then ring) before any user code runs: a waker, the
    /// overflow's `Default` (which taking the overflow calls), a destructor. So whatever of
    /// that panics, senders see `Closed` from then on and `closed()` completes. If the
    /// overflow's `Default` panics, the retained messages stay where they are and are dropped
    /// with the mailbox's memory, once, when the last sender goes.
    pub(crate) fn drop_receiver(&self, head: &ReadyHead) {
        sync::lock(&self.overflow.slow).closed = true;
        self.ready.close(head);
        let mut first_panic = self.wake_everyone_at_close();
        // Outside the lock: a message's destructor may do anything.
        self.ready
            .close_and_drain(head, |message| drop_catching(message, &mut first_panic));
        let retained = {
            let mut slow = sync::lock(&self.overflow.slow);
            // Caught inside the critical section: the guard is not unwound through.
            panic::catch_unwind(AssertUnwindSafe(|| std::mem::take(&mut slow.overflow)))
        };
        match retained {
            Ok(mut retained) => {
                retained.drain(|message| {
                    drop_catching(message, &mut first_panic);
                    None
                });
                drop_catching(retained, &mut first_panic);
            }
            Err(payload) => {
                first_panic.get_or_insert(payload);
            }
        }
        if let Some(payload) = first_panic {
            panic::resume_unwind(payload);
        }
    }

    pub(crate) fn close_signal(&self) -> &CloseSignal {
        &self.close_signal
    }

    pub(crate) fn add_sender(&self) {
        self.senders.add();
    }

    /// A weak sender's upgrade: `false` once the last sender is gone.
    pub(crate) fn add_sender_if_any(&self) -> bool {
        self.senders.add_if_any()
    }

    pub(crate) fn remove_sender(&self) {
        if let Some(seen) = self.senders.remove(self.ready.tail()) {
            self.waiter.wake_if_announced(self.ready.tail(), seen);
        }
    }
}

/// A mailbox receive as the wait layer sees it: one kind of attempt (a single or a batch
/// receive), the ready queue's tail and head, the overflow as the work the tail cannot show.
struct Receiving<'a, T, M: Mode<T>, F> {
    shared: &'a Shared<T, M>,
    head: &'a ReadyHead,
    attempt: F,
}

impl<T, M: Mode<T>, R, F: FnMut() -> Option<R>> Receive for Receiving<'_, T, M, F> {
    type Output = R;

    #[inline]
    fn attempt(&mut self) -> Option<R> {
        (self.attempt)()
    }

    fn waiter(&self) -> &Waiter {
        &self.shared.waiter
    }

    fn tail(&self) -> &AtomicUsize {
        self.shared.ready.tail()
    }

    fn head(&self) -> usize {
        self.shared.ready.head_position(self.head)
    }

    fn hidden_work(&self) -> bool {
        self.shared.overflow_needs_a_look()
    }

    fn published_ahead(&self, distance: usize) -> bool {
        self.shared.ready.run_published_ahead(self.head, distance)
    }
}

/// Drops `value`, catching a panic of its destructor: the first payload is kept for
/// re-raising once everything else is dropped.
fn drop_catching<V>(value: V, first_panic: &mut Option<Box<dyn Any + Send>>) {
    if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(move || drop(value))) {
        first_panic.get_or_insert(payload);
    }
}
