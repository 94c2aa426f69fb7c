//! Batch receives on [`Shared`]: `limit` single takes in a row with the work shared.
//!
//! `ready`'s published run is taken in one pass ([`ReadyQueue::pop_many`]), and the refill that
//! each single take does after its message is done once after the run; when `ready` runs dry
//! mid-batch with overflow active, the batch refills under the lock and keeps popping, and
//! hands the oldest retained message over directly when `ready` takes none (closed, or a claim
//! still being written), exactly as a single take's `refill_then_take`. So delivery order, and
//! what stays in `ready` and in overflow afterwards, are what the single takes would leave: a
//! policy sees the same overflow (`tests/mailbox_model.rs` checks this against a model).
//!
//! The lock rules are the single takes' too: no batch waits for the overflow lock. A held lock
//! ends a non-empty batch, and an empty one answers [`Contended`]: `Empty` for a try, and for
//! an async batch `Pending` through the same register / announce / re-check as `poll_recv`
//! (`Shared::poll_with`).
//!
//! [`ReadyQueue::pop_many`]: crate::core::ready_queue::ReadyQueue::pop_many

use std::task::{Context, Poll};

use super::{Contended, OverflowLock, Shared};
use crate::core::ready_queue::ReadyHead;
use crate::mailbox::mode::Mode;
use crate::mailbox::TryRecvError;
use crate::sync::Ordering;

impl<T, M: Mode<T>> Shared<T, M> {
    /// Takes up to `limit` messages into `buffer`, oldest first: what `limit` single takes in a
    /// row would give, with `ready`'s published run taken in one pass and the refill that each
    /// single take does after its message done once after the run (the same messages end up
    /// in `ready` and in overflow, so a policy sees what it would have seen).
    ///
    /// Never waits for the overflow lock: a held lock ends the batch, or is `Err(Contended)`
    /// when the batch is empty (as [`take_without_waiting`]).
    ///
    /// [`take_without_waiting`]: Self::take_without_waiting
    pub(crate) fn take_many(
        &self,
        head: &ReadyHead,
        buffer: &mut Vec<T>,
        limit: usize,
    ) -> Result<usize, Contended> {
        let mut taken = 0;
        loop {
            taken += self.ready.pop_many(head, buffer, limit - taken);
            // Relaxed: the lock orders the overflow; see `enqueue`.
            if !self.overflow_active.load(Ordering::Relaxed) {
                return Ok(taken);
            }
            if taken == limit {
                self.refill_if_free();
                return Ok(taken);
            }
            // `ready` has nothing published while overflow may retain messages: what a single
            // take does with an empty `ready` (a held lock ends a non-empty batch).
            let mut slow = match OverflowLock::try_lock(self) {
                Some(slow) => slow,
                None if taken > 0 => return Ok(taken),
                None => return Err(Contended),
            };
            // The single takes that found `ready` refilled after each message would now pop
            // the refilled messages (and refill after each): refill, and go on popping.
            self.refill(&mut slow);
            let got = self.ready.pop_many(head, buffer, limit - taken);
            if got == 0 {
                // As in `refill_then_take`: `ready` took nothing, the oldest retained is next.
                match self.take_retained(&mut slow) {
                    Some(message) => {
                        drop(slow);
                        buffer.push(message);
                        taken += 1;
                    }
                    None => return Ok(taken),
                }
            } else {
                taken += got;
            }
        }
    }

    /// Up to `limit` messages into `buffer`: `Ok(n >= 1)`, or, when nothing was taken,
    /// `Empty` / `Disconnected` as [`try_recv`](Self::try_recv) answers (one more look after
    /// seeing the end). `limit == 0` is `Ok(0)` at once. A contended lock is `Empty`.
    #[inline]
    pub(crate) fn try_recv_many(
        &self,
        head: &ReadyHead,
        buffer: &mut Vec<T>,
        limit: usize,
    ) -> Result<usize, TryRecvError> {
        if limit == 0 {
            return Ok(0);
        }
        match self.take_many(head, buffer, limit) {
            Ok(0) => {}
            Ok(taken) => return Ok(taken),
            Err(Contended) => return Err(TryRecvError::Empty),
        }
        if !self.intake_ended(head) {
            return Err(TryRecvError::Empty);
        }
        match self.take_many(head, buffer, limit) {
            Ok(0) => Err(TryRecvError::Disconnected),
            Ok(taken) => Ok(taken),
            Err(Contended) => Err(TryRecvError::Empty),
        }
    }

    /// The poll behind `recv_many`: `Ready(0)` once intake has ended and nothing is left, or
    /// at once for `limit == 0`.
    pub(crate) fn poll_recv_many(
        &self,
        head: &ReadyHead,
        cx: &mut Context<'_>,
        buffer: &mut Vec<T>,
        limit: usize,
    ) -> Poll<usize> {
        if limit == 0 {
            return Poll::Ready(0);
        }
        self.poll_with(head, cx, || self.try_recv_many(head, buffer, limit))
            .map(|taken| taken.unwrap_or(0))
    }
}
