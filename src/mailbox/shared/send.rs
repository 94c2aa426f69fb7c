//! Sends that wait for room: `send`, `send_blocking`, `send_timeout`, `try_send` on [`Shared`].
//!
//! ```text
//!   try: nothing retained and `ready` has room? ──yes──▶ push ──▶ Ok
//!              │ no (full, or overflow retains messages)
//!              ▼
//!   closed? ──▶ hand the message back
//!   spin briefly (blocking sends), trying again
//!   enter the ready queue's wait list (announced in the published head) ─▶ try again
//!   sleep (park, or Pending) until woken ─▶ try again; lost the room to a newcomer?
//!   enter again, first in line
//! ```
//!
//! A send never hands its message to the policy: while overflow retains messages it waits, so
//! it never overtakes retained work and one sender's messages stay in order whether it mixes
//! `send` and `enqueue` or not. Who wakes a waiting send: the receiver, through the ready
//! queue, once per slot it frees (first come, first served); the receiver's release of the
//! overflow lock once it emptied the overflow (everyone: each tries again); closing (everyone:
//! each gets its message back). A waiter that leaves the list after being woken passes the
//! wake-up on, whether it sent (it may have used an earlier slot than the one it was woken
//! for) or gave up (a timeout, a dropped future), so the room it stood for is never lost.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use super::Shared;
use crate::core::ready_queue::PushError;
use crate::core::wait::wait_list::{Ticket, Turn};
use crate::mailbox::mode::Mode;
use crate::mailbox::{SendError, SendTimeoutError, TrySendError};
use crate::sync::{thread, Ordering};

impl<T, M: Mode<T>> Shared<T, M> {
    /// One attempt: into `ready` if overflow retains nothing and `ready` has room.
    #[inline]
    pub(crate) fn try_send(&self, message: T) -> Result<(), TrySendError<T>> {
        // Acquire: as in `enqueue` (a cleared flag comes with the refill's claims).
        if self.overflow_active.load(Ordering::Acquire) {
            return Err(if self.ready.is_closed() {
                TrySendError::Closed(message)
            } else {
                TrySendError::Full(message)
            });
        }
        match self.ready.push(message) {
            Ok(seen) => {
                self.waiter.wake_if_announced(self.ready.tail(), seen);
                Ok(())
            }
            Err(PushError::Full(message)) => Err(TrySendError::Full(message)),
            Err(PushError::Closed(message)) => Err(TrySendError::Closed(message)),
        }
    }

    /// `send_blocking` (no deadline) and `send_timeout`.
    pub(crate) fn send_blocking(
        &self,
        message: T,
        deadline: Option<Instant>,
    ) -> Result<(), SendTimeoutError<T>> {
        let mut message = message;
        let mut turn = Turn::Last;
        loop {
            message = match self.try_send_spinning(message) {
                Ok(()) => return Ok(()),
                Err(TrySendError::Closed(message)) => {
                    return Err(SendTimeoutError::Closed(message))
                }
                Err(TrySendError::Full(message)) => message,
            };
            let ticket = self.ready.wait_for_room_as_thread(turn);
            message = match self.try_send(message) {
                Ok(()) => {
                    self.ready.stop_waiting_for_room(ticket);
                    return Ok(());
                }
                Err(TrySendError::Closed(message)) => {
                    self.ready.stop_waiting_for_room(ticket);
                    return Err(SendTimeoutError::Closed(message));
                }
                Err(TrySendError::Full(message)) => message,
            };
            while self.ready.is_waiting_for_room(ticket) {
                match deadline {
                    None => thread::park(),
                    Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                        Some(left) if !left.is_zero() => thread::park_timeout(left),
                        _ => {
                            self.ready.stop_waiting_for_room(ticket);
                            return self.try_send(message).map_err(|error| match error {
                                TrySendError::Full(message) => SendTimeoutError::Timeout(message),
                                TrySendError::Closed(message) => SendTimeoutError::Closed(message),
                            });
                        }
                    },
                }
            }
            // Woken: a slot was freed (or overflow emptied, or the mailbox closed). If a sender
            // that did not wait takes the room first, this one waits again, first in line.
            turn = Turn::First;
        }
    }

    /// Tries, then spins and yields a little trying again: room usually appears within a few
    /// receives, and a sender that parks at once falls into a park/unpark per message with a
    /// receiver that frees one slot at a time. (loom explores the wait list instead.)
    fn try_send_spinning(&self, message: T) -> Result<(), TrySendError<T>> {
        #[cfg(not(loom))]
        {
            let mut message = message;
            let backoff = crossbeam_utils::Backoff::new();
            loop {
                message = match self.try_send(message) {
                    Err(TrySendError::Full(message)) if !backoff.is_completed() => message,
                    done => return done,
                };
                backoff.snooze();
            }
        }
        #[cfg(loom)]
        self.try_send(message)
    }

    /// The future behind `Sender::send`.
    pub(crate) fn send(&self, message: T) -> SendFuture<'_, T, M> {
        SendFuture {
            shared: self,
            message: Some(message),
            ticket: None,
        }
    }
}

/// Waits for room in `ready`, then sends. Cancel-safe: dropping it before it completed drops
/// the message and passes on a wake-up it got.
pub(crate) struct SendFuture<'a, T, M: Mode<T>> {
    shared: &'a Shared<T, M>,
    message: Option<T>,
    /// Our entry in the wait for room, once we entered it.
    ticket: Option<Ticket>,
}

// The message is never pinned: it is moved in and out of the `Option` by value.
impl<T, M: Mode<T>> Unpin for SendFuture<'_, T, M> {}

impl<T, M: Mode<T>> SendFuture<'_, T, M> {
    /// Ends the wait (if it began) now that the send is over, one way or the other.
    fn finish(&mut self) {
        if let Some(ticket) = self.ticket.take() {
            self.shared.ready.stop_waiting_for_room(ticket);
        }
    }

    /// One attempt; `Err` hands the message back when there is no room yet.
    fn attempt(&mut self, message: T) -> Result<Poll<Result<(), SendError<T>>>, T> {
        match self.shared.try_send(message) {
            Ok(()) => {
                self.finish();
                Ok(Poll::Ready(Ok(())))
            }
            Err(TrySendError::Closed(message)) => {
                self.finish();
                Ok(Poll::Ready(Err(SendError(message))))
            }
            Err(TrySendError::Full(message)) => Err(message),
        }
    }
}

impl<T, M: Mode<T>> Future for SendFuture<'_, T, M> {
    type Output = Result<(), SendError<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let message = this
            .message
            .take()
            .expect("a send future polled after it completed");
        let message = match this.attempt(message) {
            Ok(done) => return done,
            Err(message) => message,
        };
        // A ticket that is no longer waiting was woken, and the room went to a newcomer:
        // enter again first in line. A ticket still waiting only has its waker refreshed.
        let turn = if this.ticket.is_some() {
            Turn::First
        } else {
            Turn::Last
        };
        this.ticket = Some(
            this.shared
                .ready
                .wait_for_room_as_task(this.ticket, cx.waker(), turn),
        );
        match this.attempt(message) {
            Ok(done) => done,
            Err(message) => {
                this.message = Some(message);
                Poll::Pending
            }
        }
    }
}

impl<T, M: Mode<T>> Drop for SendFuture<'_, T, M> {
    fn drop(&mut self) {
        // Not completed (a lost `select!` branch): a wake-up we got goes to the next waiter.
        self.finish();
    }
}
