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
    /// Messages the ready-made building blocks of [`policies`](crate::mailbox::policies)
    /// discarded in this mailbox's policy: [`drop_newest`]'s newcomers, the retained messages
    /// [`drop_oldest`] and [`drop_oldest_where`] evicted, and newcomers [`capped`] and
    /// [`capped_where`] refused, unless the policy returned that refusal as its rejection
    /// (then it is counted in `rejected`, once). A hand-written policy's own drops are not
    /// seen: count them yourself, or reject through an
    /// [`UnreliablePolicy`](crate::mailbox::UnreliablePolicy).
    ///
    /// [`drop_newest`]: crate::mailbox::policies::drop_newest
    /// [`drop_oldest`]: crate::mailbox::policies::drop_oldest
    /// [`drop_oldest_where`]: crate::mailbox::policies::drop_oldest_where
    /// [`capped`]: crate::mailbox::policies::capped
    /// [`capped_where`]: crate::mailbox::policies::capped_where
    ///
    /// ```
    /// use std::collections::VecDeque;
    /// use std::num::NonZeroUsize;
    /// use conflux::mailbox::{self, policies, Feedback, Policy};
    ///
    /// struct Tick(u32);
    /// impl Policy for Tick {
    ///     type Overflow = VecDeque<Tick>;
    ///     fn handle(overflow: &mut VecDeque<Tick>, tick: Tick) {
    ///         policies::drop_newest(overflow, tick);
    ///     }
    /// }
    ///
    /// let (sender, _receiver) = mailbox::new::<Tick>(NonZeroUsize::new(1).unwrap());
    /// assert_eq!(sender.enqueue(Tick(1)), Feedback::Ok);
    /// assert_eq!(sender.enqueue(Tick(2)), Feedback::Backoff);
    /// let stats = sender.stats();
    /// assert_eq!((stats.backoff, stats.rejected, stats.dropped), (1, 0, 1));
    /// ```
    pub dropped: u64,
}
