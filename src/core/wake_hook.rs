//! The event-loop wake hook: how a notify wakes a loop that sleeps in its own primitive (epoll,
//! mio, io_uring, a GUI loop) at most once per sleep, without costing a busy loop anything.
//!
//! ```text
//!   event loop (the one consumer)                 producers (any threads)
//!   ─────────────────────────────                 ───────────────────────
//!   poll until empty                              notify(t): pending bit new?
//!   arm():                                          tail.fetch_add(ONE_POSITION) ─┐ returns
//!     w = tail.load                                 ring[p] = t (published)       │ the word it
//!     loop {                                        ARMED in the word? ◀──────────┘ replaced
//!       position(w) != head? ─▶ false: poll         no: done (the busy loop's case:
//!       CAS(w ─▶ w | ARMED) ─┐                          no extra instruction, no syscall)
//!     }                      │                      yes: tail.fetch_and(!ARMED);
//!     true: sleep in epoll   │                           the one that cleared it calls wake()
//!                            └──── one modification order on the tail word ────┘
//! ```
//!
//! **Where the state lives.** "Armed" is the waiter's SLEEPING bit in the queue's **tail
//! word**, the word every notify that makes a token pending already read-modify-writes to claim
//! a ring position. So claiming a position and learning "the loop is armed" is one RMW: a notify
//! while the loop is busy pays exactly what a plain `event_queue` notify pays (the bit test is on
//! the value the `fetch_add` returned anyway), and a conflated notify never touches the tail.
//!
//! **Why nothing is slept through.** `arm` sets the bit with a compare-exchange that also
//! checks, in the same atomic step, that no position beyond the loop's `head` has been claimed.
//! Every claim and the arm are RMWs of one word, so they are totally ordered:
//!
//! * a claim ordered before the arm makes the CAS see `position != head`: `arm` returns `false`
//!   (a token is pending, or is being published right now) and the loop polls instead;
//! * a claim ordered after the arm returns a word with ARMED set, and that notify wakes the
//!   loop after it published its token.
//!
//! A token whose pending bit is set but whose position is not claimed yet is the second case.
//! A claimed but not yet written position is the first: the loop's poll may find it empty for
//! a moment (the producer is between two instructions) and `arm` keeps answering `false` until
//! it is published, so a loop that re-polls on `false` spins for that moment, never sleeps.
//!
//! **Why at most once per arm.** Every producer whose claim saw ARMED races to clear it with a
//! `fetch_and`; only the one whose `fetch_and` returned the bit set calls `wake`. The bit is set
//! again only by the next `arm`. `arm` never sets it while tokens are pending, so a `false`
//! answer leaves nothing behind that could call `wake` later.
//!
//! **The last producer's drop** sets DISCONNECTED with a tail RMW too and wakes an armed loop the
//! same way (once), so a loop that arms before every sleep also learns of the disconnection: it
//! checks `is_disconnected` after an `arm` that returned `true`, before it sleeps (a drop ordered
//! before the arm set its flag before the tail RMW the arm's CAS read; one ordered after it
//! wakes the loop).
//!
//! **A panicking `wake`.** The token was published and ARMED cleared before `wake` runs, so the
//! panic unwinds through the caller's `notify` (which then does not return) with the queue
//! consistent: the token is pending and the next poll delivers it, the next `arm` returns
//! `false` because of it. Only that one wake-up is lost to the panic; nothing is retried.
//!
//! | operation | ordering | why |
//! |---|---|---|
//! | `arm`'s first load | Relaxed | only the CAS's expected value; the CAS re-reads on failure |
//! | `arm`'s CAS, success | AcqRel | Release: the loop's writes before it sleeps are visible to the `wake` the CAS enables; Acquire: a disconnection ordered before the arm is visible to the loop's `is_disconnected` check after it |
//! | `arm`'s CAS, failure | Relaxed | the loop looks again, or polls, and the poll's Acquire slot reads carry the tokens' data |
//! | the claim's `fetch_add` | AcqRel | unchanged from the plain queue (slot reuse); also acquires `arm`'s Release |
//! | the waker's `fetch_and(!ARMED)` | Acquire | reads `arm`'s Release (through the tail's release sequence) before calling `wake` |

use super::wait::waiter::{position_of, SLEEPING};
use crate::sync::{AtomicUsize, Ordering};

/// Tail-word bit: the loop armed the hook. The waiter's SLEEPING bit: a queue either has a
/// hook (its consumer sleeps elsewhere) or parks/awaits through its [`Waiter`](super::wait::waiter::Waiter),
/// never both.
pub(crate) const ARMED: usize = SLEEPING;

/// The user's wake callback, called by the notify that ends an armed sleep.
pub(crate) struct WakeHook {
    wake: Box<dyn Fn() + Send + Sync>,
}

impl WakeHook {
    pub(crate) fn new(wake: impl Fn() + Send + Sync + 'static) -> WakeHook {
        WakeHook {
            wake: Box::new(wake),
        }
    }
}

/// Arms the hook in `tail` unless a position beyond `head` (the consumer's next read) is
/// claimed; returns whether it armed (or already was armed). Consumer only.
pub(crate) fn arm(tail: &AtomicUsize, head: usize) -> bool {
    // Relaxed: only the expected value of the CAS below, which re-reads on failure.
    let mut word = tail.load(Ordering::Relaxed);
    loop {
        if position_of(word) != head {
            return false;
        }
        if word & ARMED != 0 {
            return true;
        }
        // AcqRel on success, Relaxed on failure: see the table in the module docs.
        match tail.compare_exchange_weak(word, word | ARMED, Ordering::AcqRel, Ordering::Relaxed) {
            Ok(_) => return true,
            Err(now) => word = now,
        }
    }
}

/// Called by a producer whose tail RMW returned a word with [`ARMED`] set, after it published
/// what it claimed: clears the bit and, if this call cleared it, calls `hook`.
#[cold]
pub(crate) fn wake_armed(tail: &AtomicUsize, hook: &WakeHook) {
    // Acquire: pairs with `arm`'s Release. Only the producer that clears the bit wakes the
    // loop: one arm, one wake.
    if tail.fetch_and(!ARMED, Ordering::Acquire) & ARMED != 0 {
        (hook.wake)();
    }
}
