//! [`Senders`]: counting a queue's producer handles, and ending the stream when the last goes.
//!
//! ```text
//!   clone ──▶ count + 1                 upgrade (weak handle) ──▶ count + 1 unless it is 0
//!   drop  ──▶ count - 1 ──▶ the last? ──▶ disconnected = true     (the consumer reads this
//!                                          tail |= DISCONNECTED    flag off the producers' line)
//!                                          wake the consumer if that RMW shows it announced
//! ```
//!
//! Both primitives count their senders this way; each keeps its own wake-up (the notify queue
//! may wake through the user's hook instead of a parked thread), so [`Senders::remove`] hands
//! back what the tail RMW saw instead of waking itself.

use crossbeam_utils::CachePadded;

use super::wait::waiter::DISCONNECTED;
use crate::sync::{AtomicBool, AtomicUsize, Ordering};

pub(crate) struct Senders {
    /// Live sender handles; every clone and drop RMWs it, so it has a line of its own.
    count: CachePadded<AtomicUsize>,
    /// Every sender is gone. Read by a consumer that found nothing, which must not spin on
    /// the producers' hot tail line to learn it.
    disconnected: AtomicBool,
}

impl Senders {
    /// One sender: the handle the constructor returns.
    pub(crate) fn new() -> Senders {
        Senders {
            count: CachePadded::new(AtomicUsize::new(1)),
            disconnected: AtomicBool::new(false),
        }
    }

    /// A clone of a live sender.
    pub(crate) fn add(&self) {
        // Relaxed: a new handle comes from a live one, which keeps the count above zero (the
        // argument of `Arc::clone`).
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one more sender if at least one is still counted (a weak handle's upgrade):
    /// never revives a count that reached zero, since the last drop already ended the stream.
    pub(crate) fn add_if_any(&self) -> bool {
        // Relaxed: only the count decides, and every RMW of it (this CAS included) continues
        // the release sequence that the last sender's AcqRel decrement acquires.
        let mut count = self.count.load(Ordering::Relaxed);
        loop {
            if count == 0 {
                return false;
            }
            // Relaxed on both outcomes: as the load; a failure retries with what it read.
            match self.count.compare_exchange_weak(
                count,
                count + 1,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(now) => count = now,
            }
        }
    }

    /// A sender's drop. The last one publishes the end: `disconnected`, then DISCONNECTED in
    /// `tail` (for a consumer about to sleep: its announcement sees the bit and looks again,
    /// or this RMW sees the announcement). Returns what that RMW saw, for the caller to wake
    /// an announced consumer; `None` if other senders remain.
    pub(crate) fn remove(&self, tail: &AtomicUsize) -> Option<usize> {
        // AcqRel: the last sender must see every other sender's work before publishing the end.
        if self.count.fetch_sub(1, Ordering::AcqRel) != 1 {
            return None;
        }
        // Release: a consumer that sees the flag sees everything every sender published.
        self.disconnected.store(true, Ordering::Release);
        // AcqRel: Release orders the flag before the bit; Acquire receives an announcement's
        // registration before the caller wakes it.
        Some(tail.fetch_or(DISCONNECTED, Ordering::AcqRel))
    }

    /// Whether every sender is gone (what they sent may still be queued).
    #[inline]
    pub(crate) fn all_gone(&self) -> bool {
        // Acquire: pairs with the last sender's Release; everything sent is visible.
        self.disconnected.load(Ordering::Acquire)
    }
}
