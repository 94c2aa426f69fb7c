//! Cross-thread hand-off primitives for event loops and actors.
//!
//! * [`notify`]: readiness notification with **conflation** and **FIFO delivery**. Producers
//!   say "token N has something new"; the consumer learns which tokens fired, each at most
//!   once per poll, oldest first. The data stays in your own storage.
//! * [`mailbox`]: a **bounded message queue with caller-managed overflow**. A lock-free bounded
//!   `ready` queue; when it is full, the message type's [`Policy`](mailbox::Policy) decides
//!   what the overflow keeps, and `enqueue` answers [`Feedback`] without ever blocking.
//!
//! # Design
//!
//! ```text
//!                conflux::notify                           conflux::mailbox
//!   Token, Events, event_queue, event_channel,    Feedback, Policy, Overflow, policies,
//!   event_queue_with_waker, LocalNotify           new, new_unreliable, Sender (enqueue,
//!                     │                           send), WeakSender, Receiver
//!                     │                                         │
//!   core::token_queue: pending bits + FIFO       core::ready_queue: bounded MPSC ring
//!   ring of u32 token indices                    with per-slot stamps (+ the mailbox's
//!                     │                          overflow lock, in mailbox::shared)
//!                     └──────────────┬──────────────────────────┘
//!   core::wait: the one consumer's sleep announcement in each queue's tail word (thread
//!               parking or an async Waker), senders waiting for room in a wait list,
//!               the blocking and async receive loops, the spin heuristics
//!   core::senders: sender handles and the end of the stream; core::close_signal: closed()
//!   core::wake_hook: the announcement bit as "armed", for a loop that sleeps in epoll/mio
//!               and is woken by a user callback once per arm
//!                                    │
//!   sync: std types, or loom's under --cfg loom
//! ```
//!
//! Every shared-memory protocol is described where it is implemented, with the reason for
//! each memory ordering next to it, and is model-checked by the loom tests in `tests/`.
//!
//! # Example
//!
//! ```
//! use conflux::notify::{event_queue, Events, Token};
//!
//! let (notifier, poller) = event_queue(1024);
//! let mut events = Events::with_capacity(1024);
//!
//! notifier.notify(Token::new(17))?;
//! notifier.notify(Token::new(3))?;
//! notifier.notify(Token::new(17))?; // conflated: still pending
//!
//! poller.poll(&mut events);
//! assert_eq!(events.as_slice(), &[Token::new(17), Token::new(3)]);
//! # Ok::<(), conflux::notify::NotifyError>(())
//! ```

#![deny(missing_docs)]
#![warn(missing_debug_implementations, rust_2018_idioms)]

mod core;
pub mod mailbox;
pub mod notify;
mod sync;
mod wait_strategy;

pub use mailbox::{Feedback, Unreliable};
pub use wait_strategy::WaitStrategy;

/// The README's examples, compiled and run as doctests so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
