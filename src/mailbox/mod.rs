//! A bounded message queue with caller-managed overflow.
//!
//! Messages go into a bounded lock-free `ready` queue. When it is full, the message type's
//! [`Policy`] decides what the overflow keeps (spill, replace, merge, drop, or reject for an
//! [`UnreliablePolicy`]), so `enqueue` never blocks and memory stays under the caller's
//! control; the [`Feedback`] says which happened. Senders that would rather wait for room
//! use [`Sender::send`]`.await` or [`Sender::send_blocking`] (backpressure): they never hand
//! the message to the policy.
//!
//! ```text
//!  senders (any threads)                                       the receiver
//!  ─────────────────────                                       ────────────
//!  enqueue(m) ──▶ nothing retained? ──▶ ready (lock-free, bounded) ──▶ recv / try_recv /
//!                      │ no, or ready full                      ▲      recv_blocking / Stream
//!                      ▼                                        │
//!            overflow lock: Policy::handle(overflow, m)         │ after each message taken:
//!            spill / replace / merge / drop / reject ──────────┘ refill ready, front to back
//!            ──▶ Feedback::Backoff (or Unreliable::Rejected)
//!  send(m) ──▶ nothing retained and room in ready? push : wait in line until the receiver
//!              frees a slot (or empties the overflow); closed: the message comes back
//! ```
//!
//! * **Fast path**: while overflow retains nothing, one load and a lock-free push; the
//!   receiver is woken only if it announced that it sleeps (no read-modify-write for it).
//! * **Order**: one sender's messages arrive in its order, across `ready` and overflow (unless
//!   its own policy replaces or reorders retained ones); senders interleave.
//! * **Close**: dropping the [`Receiver`] drops everything buffered, each message exactly once
//!   (also when a message's destructor panics), and later enqueues answer [`Feedback::Closed`].
//!   [`Receiver::close`] stops intake the same way but keeps what was accepted for the receiver;
//!   [`Sender::closed`] completes after either.
//! * **Receives never wait for a sender's policy** (but an untimed `recv_blocking` may): a
//!   receive that finds only a sender holding the overflow lock returns `Pending`, answers
//!   `Empty`, or sleeps until the sender lets go or its deadline passes. Reading depth or stats
//!   wakes no receiver.
//! * **Disconnect**: when every [`Sender`] is gone, the receiver gets everything buffered, then
//!   `None` / [`TryRecvError::Disconnected`]. A [`WeakSender`] does not count: it upgrades to a
//!   `Sender` only while one still exists.
//!
//! ```
//! use std::collections::VecDeque;
//! use std::num::NonZeroUsize;
//! use conflux::mailbox::{self, policies, Feedback, Policy};
//!
//! enum Msg {
//!     Request(u32),             // must all be handled: spill
//!     State { key: u8, v: u32 }, // only the newest per key matters: replace
//! }
//!
//! impl Policy for Msg {
//!     type Overflow = VecDeque<Msg>;
//!     fn handle(overflow: &mut VecDeque<Msg>, msg: Msg) {
//!         match msg {
//!             Msg::Request(_) => policies::spill(overflow, msg),
//!             Msg::State { .. } => policies::replace(overflow, msg, |old, new| {
//!                 matches!((old, new), (Msg::State { key: a, .. }, Msg::State { key: b, .. }) if a == b)
//!             }),
//!         }
//!     }
//! }
//!
//! let (sender, mut receiver) = mailbox::new::<Msg>(NonZeroUsize::new(1).unwrap());
//! assert_eq!(sender.enqueue(Msg::Request(1)), Feedback::Ok);
//! assert_eq!(sender.enqueue(Msg::State { key: 0, v: 1 }), Feedback::Backoff);
//! assert_eq!(sender.enqueue(Msg::State { key: 0, v: 2 }), Feedback::Backoff); // replaces v: 1
//! assert_eq!(receiver.len(), 2);
//! assert!(matches!(receiver.try_recv(), Ok(Msg::Request(1))));
//! assert!(matches!(receiver.try_recv(), Ok(Msg::State { key: 0, v: 2 })));
//! ```

mod error;
mod feedback;
pub mod mode;
pub mod policies;
mod policy;
mod receiver;
mod sender;
mod shared;
mod stats;
mod weak_sender;

use std::num::NonZeroUsize;

pub use error::{RecvTimeoutError, SendError, SendTimeoutError, TryRecvError, TrySendError};
pub use feedback::{Feedback, Unreliable};
pub use policy::{Overflow, Policy, UnreliablePolicy};
pub use receiver::{Receiver, UnreliableReceiver};
pub use sender::{Sender, UnreliableSender};
pub use stats::Stats;
pub use weak_sender::{WeakSender, WeakUnreliableSender};

use crate::sync::Arc;

/// Makes a mailbox whose `ready` queue holds `capacity` messages; `T`'s [`Policy`] handles
/// the rest.
///
/// # Panics
///
/// If `capacity` is beyond what the queue can represent (above 2<sup>59</sup> on 64-bit
/// targets, 2<sup>27</sup> on 32-bit ones), or if its memory cannot be allocated; the message
/// names the limit or the capacity asked for, and the panic points at the caller's line.
///
/// ```
/// use std::num::NonZeroUsize;
/// use conflux::mailbox::{self, policies::Spill, Feedback};
///
/// let (sender, mut receiver) = mailbox::new::<Spill<u8>>(NonZeroUsize::new(2).unwrap());
/// assert_eq!(sender.enqueue(Spill(1)), Feedback::Ok);
/// assert_eq!(receiver.try_recv(), Ok(Spill(1)));
/// ```
#[track_caller]
pub fn new<T: Policy>(capacity: NonZeroUsize) -> (Sender<T>, Receiver<T>) {
    let (shared, head) = shared::Shared::new(capacity.get());
    let shared = Arc::new(shared);
    (
        Sender::new(Arc::clone(&shared)),
        Receiver::new(shared, head),
    )
}

/// Makes a mailbox whose message type's [`UnreliablePolicy`] may reject messages that cannot
/// go straight to `ready`.
///
/// # Panics
///
/// As [`new`].
///
/// ```
/// use std::num::NonZeroUsize;
/// use conflux::mailbox::{self, policies::Spill, Feedback};
/// use conflux::Unreliable;
///
/// let (sender, _receiver) = mailbox::new_unreliable::<Spill<u8>>(NonZeroUsize::new(1).unwrap());
/// assert_eq!(sender.enqueue(Spill(1)), Unreliable::Outcome(Feedback::Ok));
/// ```
#[track_caller]
pub fn new_unreliable<T: UnreliablePolicy>(
    capacity: NonZeroUsize,
) -> (UnreliableSender<T>, UnreliableReceiver<T>) {
    let (shared, head) = shared::Shared::new(capacity.get());
    let shared = Arc::new(shared);
    (
        Sender::new(Arc::clone(&shared)),
        Receiver::new(shared, head),
    )
}
