//! Readiness notification with conflation and FIFO delivery.
//!
//! Producers (I/O threads, feed handlers) write data into the user's own storage and
//! `notify(token)`; the consumer polls and learns *which* tokens fired, each at most once per
//! poll, in the order they became pending.
//!
//! ```text
//!   I/O thread ──┐  write slot[t], notify(t)                              ┌──────────────┐
//!   I/O thread ──┼──────────────────────────▶ pending bits + FIFO ring ──▶│ poll(events) │
//!   I/O thread ──┘  (already pending? conflated:       (one entry per      │ for t in ... │
//!                    no queue traffic)                  pending token)     │ read slot[t] │
//!                                                                          └──────────────┘
//! ```
//!
//! * [`event_queue`]: [`Notifier`] + [`Poller`], non-blocking, for a loop that polls anyway.
//! * [`event_queue_with_waker`]: the same, for a loop that sleeps in its own primitive (epoll,
//!   mio, io_uring): it [`arm`](Poller::arm)s before sleeping, and the first notify afterwards
//!   calls your `wake` hook once (e.g. `mio::Waker::wake`); a busy loop's notifies cost nothing
//!   extra.
//! * [`event_channel`]: [`Sender`] + [`Receiver`], which can also block, time out or
//!   `.await`, and reports when every sender is gone; the receiver can
//!   [`close`](Receiver::close) intake and keep what is pending, and senders can await
//!   [`closed`](Sender::closed).
//! * [`LocalNotify`]: the same rules inside one thread, with no atomics.
//!
//! # Guarantees
//!
//! * **Conflation**: a token notified any number of times between two polls is delivered once.
//! * **FIFO**: tokens are delivered in the order they became pending (their first notify since
//!   their last delivery); one thread's notifies keep that thread's order.
//! * **No loss**: a notify that returned `Ok(())` is delivered by a later poll.
//! * **Your data is visible**: everything a producer wrote before `notify(t)` returned is
//!   visible to the consumer once a poll has delivered `t`, also when that notify was conflated
//!   into a delivery that was already pending. "Latest value in a slot + notify" is safe with
//!   plain atomics or locks around the slot.
//! * **Budgets**: `poll_limit(events, n)` delivers the `n` oldest and costs O(delivered).
//! * **Bad input is an error, not a panic**: out-of-range tokens and closed queues return
//!   [`NotifyError`].

mod error;
mod event_channel;
mod event_queue;
mod local;

pub use crate::core::events::Events;
pub use crate::core::token::Token;
pub use error::{NotifyError, RecvError, RecvTimeoutError, TryRecvError};
pub use event_channel::{event_channel, Receiver, Sender};
pub use event_queue::{event_queue, event_queue_with_waker, Notifier, Poller};
pub use local::LocalNotify;
