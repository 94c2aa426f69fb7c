//! Ready-made building blocks for [`Policy`] and [`UnreliablePolicy`] implementations.
//!
//! Each function handles one message arriving at a `VecDeque` overflow; call it from your
//! `handle`, choosing per message kind. [`Spill`] is a ready-to-use message wrapper for
//! "keep everything".
//!
//! | building block | what the overflow keeps |
//! |---|---|
//! | [`spill`] | everything, in order |
//! | [`drop_newest`] | what it had; the newcomer is dropped |
//! | [`drop_oldest`] | the newest `max` messages, **of every kind** |
//! | [`drop_oldest_where`] | the newest `max` messages of the newcomer's kind; other kinds untouched |
//! | [`replace`] | one message per key: a newcomer replaces the retained one that matches, in place |
//! | [`merge`] | a newcomer folded into a retained message that accepts it |
//! | [`capped`] | everything up to `max` retained messages **of every kind**; beyond that the newcomer is refused (`false`) |
//! | [`capped_where`] | up to `max` retained messages of the newcomer's kind; beyond that the newcomer is refused (`false`); other kinds never count |
//!
//! **What the sender sees.** In a [`Policy`] every handled message is answered
//! [`Feedback::Backoff`](crate::Feedback::Backoff), also when a building block dropped it
//! ([`drop_newest`]'s newcomer, [`drop_oldest`]'s evicted, a refusal of [`capped`] whose
//! result the policy ignores). To tell the sender, return the refusal from an
//! [`UnreliablePolicy`]: the enqueue answers [`Unreliable::Rejected`](crate::Unreliable::Rejected)
//! and [`Stats::rejected`](crate::mailbox::Stats::rejected) counts it.
//!
//! **Only retained overflow is ever evicted; `ready` never is.** A policy runs only for a
//! message that could not go straight to `ready`, and it sees only the overflow: messages
//! already in `ready` (up to the mailbox's capacity) are delivered whatever the policy does.
//! So `drop_oldest(.., max)` bounds what overflow retains, not how stale the next received
//! message can be.
//!
//! **Mixing kinds.** [`drop_oldest`] and [`capped`] count every retained message, whatever its
//! kind: in a message type whose `Tick`s use `drop_oldest(.., 2)` and whose `Request`s spill,
//! a burst of ticks evicts retained *requests*. When one message type mixes policies, use
//! [`drop_oldest_where`] and [`capped_where`], which count and evict only the messages for
//! which `same_kind` holds:
//!
//! ```
//! use std::collections::VecDeque;
//! use conflux::mailbox::{policies, Policy};
//!
//! enum Msg {
//!     Request(u32), // every one must be handled: spill
//!     Tick(u32),    // only the newest 2 ticks are worth keeping
//! }
//! fn is_tick(m: &Msg) -> bool {
//!     matches!(m, Msg::Tick(_))
//! }
//!
//! impl Policy for Msg {
//!     type Overflow = VecDeque<Msg>;
//!     fn handle(overflow: &mut VecDeque<Msg>, msg: Msg) {
//!         match msg {
//!             Msg::Request(_) => policies::spill(overflow, msg),
//!             Msg::Tick(_) => policies::drop_oldest_where(overflow, msg, 2, is_tick),
//!         }
//!     }
//! }
//!
//! let mut overflow = VecDeque::new();
//! Msg::handle(&mut overflow, Msg::Request(1));
//! for t in 0..5 {
//!     Msg::handle(&mut overflow, Msg::Tick(t));
//! }
//! Msg::handle(&mut overflow, Msg::Request(2));
//! let kept: Vec<_> = overflow
//!     .iter()
//!     .map(|m| match m { Msg::Request(r) => format!("r{r}"), Msg::Tick(t) => format!("t{t}") })
//!     .collect();
//! assert_eq!(kept, ["r1", "t3", "t4", "r2"]); // both requests kept, the 2 newest ticks
//! ```
//!
//! **Freshest data only?** If only the newest value matters and a backlog is never wanted
//! (quotes, positions, progress), a mailbox is the wrong tool: keep the data in your own
//! storage (a slot per key) and tell the consumer *which* key changed with a conflating
//! [`conflux::notify`](crate::notify) queue. Each poll then reads the newest value, never a
//! stale one that was waiting in `ready`.

use std::cell::Cell;
use std::collections::VecDeque;

use super::{Policy, UnreliablePolicy};

/// What the building blocks below discarded, for [`Stats::dropped`](super::Stats::dropped).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Discarded {
    /// Messages dropped without a say of the policy's caller: `drop_newest`'s newcomer,
    /// `drop_oldest(_where)`'s evictions.
    pub(crate) dropped: u64,
    /// Newcomers `capped(_where)` refused (and dropped); the policy may report one as its
    /// rejection.
    pub(crate) refused: u64,
}

thread_local! {
    /// The building blocks only see the overflow, not the mailbox: they count here, on the
    /// thread that runs them, and the mailbox collects the count around its policy call
    /// ([`counting_discards`]), under its overflow lock. Outside a mailbox the count is
    /// never collected, and never attributed to one.
    static DISCARDED: Cell<Discarded> = const {
        Cell::new(Discarded { dropped: 0, refused: 0 })
    };
}

fn note_dropped(count: usize) {
    if count > 0 {
        DISCARDED.with(|discarded| {
            let mut now = discarded.get();
            now.dropped += count as u64;
            discarded.set(now);
        });
    }
}

fn note_refused() {
    DISCARDED.with(|discarded| {
        let mut now = discarded.get();
        now.refused += 1;
        discarded.set(now);
    });
}

/// Runs `policy` and returns what the building blocks it called discarded meanwhile. Saves and
/// restores the thread's count around it, so a policy that (against the advice) enqueues into
/// another mailbox is counted apart from that mailbox's own policy.
pub(crate) fn counting_discards<R>(policy: impl FnOnce() -> R) -> (R, Discarded) {
    let outer = DISCARDED.with(|discarded| discarded.replace(Discarded::default()));
    let result = policy();
    let mine = DISCARDED.with(|discarded| discarded.replace(outer));
    (result, mine)
}

/// Keeps every message: the overflow grows as needed.
///
/// ```
/// use std::collections::VecDeque;
/// use conflux::mailbox::policies;
///
/// let mut overflow = VecDeque::new();
/// policies::spill(&mut overflow, 1);
/// policies::spill(&mut overflow, 2);
/// assert_eq!(overflow, [1, 2]);
/// ```
pub fn spill<T>(overflow: &mut VecDeque<T>, message: T) {
    overflow.push_back(message);
}

/// Keeps what is retained and drops the newcomer. The sender's enqueue still answers
/// [`Feedback::Backoff`](crate::Feedback::Backoff); for a refusal the sender sees, use
/// [`capped`] in an [`UnreliablePolicy`] (with `max` the overflow's bound).
///
/// ```
/// use std::collections::VecDeque;
/// use conflux::mailbox::policies;
///
/// let mut overflow = VecDeque::from([1]);
/// policies::drop_newest(&mut overflow, 2);
/// assert_eq!(overflow, [1]);
/// ```
pub fn drop_newest<T>(overflow: &mut VecDeque<T>, message: T) {
    let _ = overflow;
    note_dropped(1);
    drop(message);
}

/// Keeps the newest `max` retained messages: the newcomer goes to the back and the oldest are
/// dropped. With `max == 0` nothing is kept.
///
/// It counts and evicts **every kind** of retained message: in a message type that mixes
/// policies, use [`drop_oldest_where`] instead, or one kind evicts another (a request evicted
/// by a burst of ticks). Only retained overflow is evicted, never `ready`: a message already
/// in `ready` is delivered. For "freshest data only", see the [module docs](self).
///
/// ```
/// use std::collections::VecDeque;
/// use conflux::mailbox::policies;
///
/// let mut overflow = VecDeque::from([1, 2]);
/// policies::drop_oldest(&mut overflow, 3, 2);
/// assert_eq!(overflow, [2, 3]);
/// ```
pub fn drop_oldest<T>(overflow: &mut VecDeque<T>, message: T, max: usize) {
    overflow.push_back(message);
    note_dropped(overflow.len().saturating_sub(max));
    while overflow.len() > max {
        overflow.pop_front();
    }
}

/// Keeps at most `max` retained messages of one kind, the newcomer included, evicting only
/// the oldest of that kind: the newcomer goes to the back, then the oldest retained messages
/// for which `same_kind` holds are dropped until at most `max` of them remain. Messages for
/// which `same_kind` is false are never touched, and keep their order.
///
/// * `max == 0`: no message of the kind is kept; the newcomer (and any retained message of
///   its kind) is dropped.
/// * `same_kind` should hold for the newcomer (it describes the newcomer's kind). If it does
///   not, the newcomer is kept at the back like [`spill`] and counts toward nothing, and the
///   retained messages for which `same_kind` holds are still trimmed to `max` (a no-op when
///   only this function added them). A predicate that does not match the newcomer never
///   loses the newcomer.
///
/// Only retained overflow is evicted, never `ready`. Cost: O(overflow length), at most two
/// calls of `same_kind` per retained message. Every evicted message is dropped exactly once,
/// before the function returns.
///
/// ```
/// use std::collections::VecDeque;
/// use conflux::mailbox::policies;
///
/// // Negative numbers are "ticks" (keep the newest 2), the rest "requests" (never evicted).
/// let is_tick = |m: &i32| *m < 0;
/// let mut overflow = VecDeque::from([1, -1, 2, -2]);
/// policies::drop_oldest_where(&mut overflow, -3, 2, is_tick);
/// assert_eq!(overflow, [1, 2, -2, -3]); // -1 evicted; the requests kept, in order
/// policies::drop_oldest_where(&mut overflow, -4, 0, is_tick);
/// assert_eq!(overflow, [1, 2]); // max 0: no tick kept, the newcomer included
/// ```
pub fn drop_oldest_where<T>(
    overflow: &mut VecDeque<T>,
    message: T,
    max: usize,
    same_kind: impl Fn(&T) -> bool,
) {
    overflow.push_back(message);
    let of_kind = overflow
        .iter()
        .filter(|retained| same_kind(retained))
        .count();
    let mut excess = of_kind.saturating_sub(max);
    if excess == 0 {
        return;
    }
    note_dropped(excess);
    // Front to back, so the first `excess` matches are the oldest of the kind.
    overflow.retain(|retained| {
        if excess > 0 && same_kind(retained) {
            excess -= 1;
            false
        } else {
            true
        }
    });
}

/// A hard cap per kind: refuses the newcomer (returns `false` and drops it) only when `max`
/// retained messages for which `same_kind` holds exist already; otherwise keeps it at the back
/// and returns `true`. Messages of other kinds never count, and nothing retained is evicted.
///
/// * `max == 0`: every newcomer of the kind is refused.
/// * `same_kind` should hold for the newcomer (it describes the newcomer's kind). If it does
///   not, the newcomer is not subject to this cap: it is kept and the result is `true`.
///
/// Return the result from an [`UnreliablePolicy`] to report the refusal (counted in
/// [`Stats::rejected`](crate::mailbox::Stats::rejected)), or ignore it in a [`Policy`] to drop
/// silently. `ready` does not count; only retained overflow does. Cost: O(overflow length).
///
/// ```
/// use std::collections::VecDeque;
/// use conflux::mailbox::policies;
///
/// // Odd numbers are "hints" (at most 1 retained), even ones "requests" (not counted).
/// let is_hint = |m: &u32| m % 2 == 1;
/// let mut overflow = VecDeque::from([2, 4, 6]);
/// assert!(policies::capped_where(&mut overflow, 1, 1, is_hint)); // no hint retained yet
/// assert!(!policies::capped_where(&mut overflow, 3, 1, is_hint)); // refused: 1 hint retained
/// assert_eq!(overflow, [2, 4, 6, 1]);
/// ```
pub fn capped_where<T>(
    overflow: &mut VecDeque<T>,
    message: T,
    max: usize,
    same_kind: impl Fn(&T) -> bool,
) -> bool {
    let full = same_kind(&message)
        && overflow
            .iter()
            .filter(|retained| same_kind(retained))
            .take(max)
            .count()
            == max;
    if full {
        note_refused();
        drop(message);
        false
    } else {
        overflow.push_back(message);
        true
    }
}

/// Replaces, in place, the first retained message for which `same(retained, &newcomer)`
/// holds; otherwise keeps the newcomer at the back. One message per key, at the position the
/// key first had.
///
/// ```
/// use std::collections::VecDeque;
/// use conflux::mailbox::policies;
///
/// // (key, value) state updates: only the newest per key matters.
/// let mut overflow = VecDeque::from([("a", 1), ("b", 1)]);
/// policies::replace(&mut overflow, ("a", 2), |old, new| old.0 == new.0);
/// policies::replace(&mut overflow, ("c", 1), |old, new| old.0 == new.0);
/// assert_eq!(overflow, [("a", 2), ("b", 1), ("c", 1)]);
/// ```
pub fn replace<T>(overflow: &mut VecDeque<T>, message: T, same: impl Fn(&T, &T) -> bool) {
    match overflow
        .iter_mut()
        .find(|retained| same(retained, &message))
    {
        Some(retained) => *retained = message,
        None => overflow.push_back(message),
    }
}

/// Offers the newcomer to each retained message, front to back: `fold(retained, newcomer)`
/// absorbs it and returns `None`, or hands it back; if nobody absorbs it, it is kept at the
/// back.
///
/// ```
/// use std::collections::VecDeque;
/// use conflux::mailbox::policies;
///
/// // Byte counters for a connection: add up increments for the same connection.
/// let mut overflow = VecDeque::from([(7, 100)]);
/// let add = |retained: &mut (u32, u64), new: (u32, u64)| {
///     if retained.0 == new.0 { retained.1 += new.1; None } else { Some(new) }
/// };
/// policies::merge(&mut overflow, (7, 20), add);
/// policies::merge(&mut overflow, (8, 5), add);
/// assert_eq!(overflow, [(7, 120), (8, 5)]);
/// ```
pub fn merge<T>(
    overflow: &mut VecDeque<T>,
    message: T,
    mut fold: impl FnMut(&mut T, T) -> Option<T>,
) {
    let mut message = message;
    for retained in overflow.iter_mut() {
        match fold(retained, message) {
            None => return,
            Some(back) => message = back,
        }
    }
    overflow.push_back(message);
}

/// A hard cap on overflow length: keeps the newcomer if fewer than `max` are retained and
/// returns `true`; otherwise returns `false` and drops it. Return it from an
/// [`UnreliablePolicy`] to report the refusal, or ignore it in a [`Policy`] to drop silently.
///
/// It counts retained messages of **every kind**: in a message type that mixes policies, use
/// [`capped_where`] instead, or spilled messages of one kind make another kind refused. It
/// never evicts anything, and `ready` does not count (only retained overflow does).
///
/// ```
/// use std::collections::VecDeque;
/// use conflux::mailbox::policies;
///
/// let mut overflow = VecDeque::new();
/// assert!(policies::capped(&mut overflow, 'a', 1));
/// assert!(!policies::capped(&mut overflow, 'b', 1));
/// assert_eq!(overflow, ['a']);
/// ```
pub fn capped<T>(overflow: &mut VecDeque<T>, message: T, max: usize) -> bool {
    if overflow.len() < max {
        overflow.push_back(message);
        true
    } else {
        note_refused();
        false
    }
}

/// A message wrapper whose policy keeps everything ([`spill`]), for payloads that need no
/// policy of their own. As an [`UnreliablePolicy`] it never refuses.
///
/// ```
/// use std::num::NonZeroUsize;
/// use conflux::mailbox::{self, policies::Spill, Feedback};
///
/// let (sender, mut receiver) = mailbox::new::<Spill<String>>(NonZeroUsize::new(1).unwrap());
/// assert_eq!(sender.enqueue(Spill("first".into())), Feedback::Ok);
/// assert_eq!(sender.enqueue(Spill("second".into())), Feedback::Backoff);
/// assert_eq!(receiver.try_recv().unwrap().0, "first");
/// assert_eq!(receiver.try_recv().unwrap().0, "second");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spill<T>(pub T);

impl<T> Policy for Spill<T> {
    type Overflow = VecDeque<Spill<T>>;
    fn handle(overflow: &mut Self::Overflow, message: Self) {
        spill(overflow, message);
    }
}

impl<T> UnreliablePolicy for Spill<T> {
    type Overflow = VecDeque<Spill<T>>;
    fn handle(overflow: &mut Self::Overflow, message: Self) -> bool {
        spill(overflow, message);
        true
    }
}
