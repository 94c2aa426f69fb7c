//! [`Stats`]: counters kept on the slow path.

/// Counters of a mailbox, kept under the overflow lock so the fast path never touches them.
///
/// ```
/// use std::num::NonZeroUsize;
/// use conflux::mailbox::{self, policies::Spill};
///
/// let (sender, _receiver) = mailbox::new::<Spill<u8>>(NonZeroUsize::new(1).unwrap());
/// let _ = sender.enqueue(Spill(1));
/// let _ = sender.enqueue(Spill(2)); // ready full: Backoff
/// assert_eq!(sender.stats().backoff, 1);
/// assert_eq!(sender.stats().rejected, 0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Enqueues answered with `Backoff`: the message was handed to the policy (which may have
    /// retained, merged, replaced or dropped it).
    pub backoff: u64,
    /// Enqueues an [`UnreliablePolicy`](crate::mailbox::UnreliablePolicy) rejected.
    pub rejected: u64,
}
