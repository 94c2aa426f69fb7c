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
//! | [`drop_oldest`] | the newest `max` messages |
//! | [`replace`] | one message per key: a newcomer replaces the retained one that matches, in place |
//! | [`merge`] | a newcomer folded into a retained message that accepts it |
//! | [`capped`] | everything up to `max`; beyond that the newcomer is refused (`false`) |

use std::collections::VecDeque;

use super::{Policy, UnreliablePolicy};

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

/// Keeps what is retained and drops the newcomer.
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
    drop(message);
}

/// Keeps the newest `max` messages: the newcomer goes to the back and the oldest are dropped.
/// With `max == 0` nothing is kept.
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
    while overflow.len() > max {
        overflow.pop_front();
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
