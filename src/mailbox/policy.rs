//! [`Overflow`], [`Policy`], [`UnreliablePolicy`]: the message type decides what overflow means.

use std::collections::VecDeque;

/// Where a mailbox retains the messages its policy kept while `ready` was full.
///
/// The receiver moves retained messages into `ready` as room appears, through
/// [`drain`](Overflow::drain), front to back.
///
/// ```
/// use std::collections::VecDeque;
/// use conflux::mailbox::Overflow;
///
/// let mut retained: VecDeque<u32> = VecDeque::from([1, 2, 3]);
/// let mut ready = Vec::new();
/// // Room for two: the third is handed back and stays retained.
/// // (`VecDeque` has an inherent `drain` too: name the trait's.)
/// Overflow::drain(&mut retained, |m| if ready.len() < 2 { ready.push(m); None } else { Some(m) });
/// assert_eq!(ready, [1, 2]);
/// assert_eq!(retained, [3]);
/// assert!(!Overflow::is_empty(&retained));
/// ```
pub trait Overflow<T>: Default {
    /// Whether nothing is retained.
    fn is_empty(&self) -> bool;
    /// Hands retained messages to `push`, in delivery order, until `push` gives one back;
    /// the message given back and everything after it stay retained.
    fn drain<F: FnMut(T) -> Option<T>>(&mut self, push: F);
    /// How many messages are retained, for [`Receiver::len`](crate::mailbox::Receiver::len).
    /// The default says 1 when anything is retained; implement it when you can count.
    fn len(&self) -> usize {
        usize::from(!self.is_empty())
    }
}

impl<T> Overflow<T> for VecDeque<T> {
    fn is_empty(&self) -> bool {
        VecDeque::is_empty(self)
    }

    fn len(&self) -> usize {
        VecDeque::len(self)
    }

    fn drain<F: FnMut(T) -> Option<T>>(&mut self, mut push: F) {
        while let Some(message) = self.pop_front() {
            if let Some(back) = push(message) {
                self.push_front(back);
                return;
            }
        }
    }
}

/// What a message type does with a message that cannot go straight to `ready`.
///
/// `handle` runs under the mailbox's overflow lock, so it should be quick. It must handle the
/// message: retain it, coalesce it with retained work, replace older work, or deliberately
/// drop it. The ready-made building blocks in [`policies`](crate::mailbox::policies) cover the
/// common cases.
///
/// **The sender is not told which.** Every message a `Policy` handles is answered
/// [`Feedback::Backoff`](crate::Feedback::Backoff), whether it was retained or dropped. When a
/// sender must know that its message was refused, implement [`UnreliablePolicy`] instead: its
/// `false` answers [`Unreliable::Rejected`](crate::Unreliable::Rejected) and is counted in
/// [`Stats::rejected`](crate::mailbox::Stats::rejected).
///
/// **Do not enqueue into the same mailbox from `handle`**: the overflow lock is not re-entrant,
/// so that call would deadlock (or panic, depending on the platform's mutex). A policy that
/// panics is safe: the panic reaches the sender, the message is dropped once, and the mailbox
/// stays usable.
///
/// ```
/// use std::collections::VecDeque;
/// use conflux::mailbox::Policy;
///
/// /// Price updates: only the newest per instrument matters.
/// struct Price { instrument: u32, price: u64 }
///
/// impl Policy for Price {
///     type Overflow = VecDeque<Price>;
///     fn handle(overflow: &mut VecDeque<Price>, update: Price) {
///         match overflow.iter_mut().find(|p| p.instrument == update.instrument) {
///             Some(retained) => *retained = update,
///             None => overflow.push_back(update),
///         }
///     }
/// }
/// ```
pub trait Policy: Sized {
    /// Where retained messages wait.
    type Overflow: Overflow<Self>;
    /// Called, under the overflow lock, when `message` cannot go straight to `ready`.
    fn handle(overflow: &mut Self::Overflow, message: Self);
}

/// Like [`Policy`], but may refuse a message; the sender then gets
/// [`Unreliable::Rejected`](crate::Unreliable::Rejected) and the message is dropped.
///
/// ```
/// use std::collections::VecDeque;
/// use conflux::mailbox::UnreliablePolicy;
///
/// /// Best-effort hints: never more than 8 waiting, newcomers refused beyond that.
/// struct Hint(u32);
///
/// impl UnreliablePolicy for Hint {
///     type Overflow = VecDeque<Hint>;
///     fn handle(overflow: &mut VecDeque<Hint>, hint: Hint) -> bool {
///         if overflow.len() >= 8 {
///             return false;
///         }
///         overflow.push_back(hint);
///         true
///     }
/// }
/// ```
pub trait UnreliablePolicy: Sized {
    /// Where retained messages wait.
    type Overflow: Overflow<Self>;
    /// Like [`Policy::handle`], but returns `false` to reject the message (it was not
    /// retained, merged or otherwise acted on).
    fn handle(overflow: &mut Self::Overflow, message: Self) -> bool;
}
