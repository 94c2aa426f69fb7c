//! [`Feedback`] and [`Unreliable`]: what an enqueue tells its caller.

/// What happened to an enqueued message.
///
/// ```
/// use std::collections::VecDeque;
/// use std::num::NonZeroUsize;
/// use conflux::mailbox::{self, Feedback, Policy};
///
/// struct Job(u32);
/// impl Policy for Job {
///     type Overflow = VecDeque<Job>;
///     fn handle(overflow: &mut VecDeque<Job>, job: Job) {
///         overflow.push_back(job); // keep everything
///     }
/// }
///
/// let (sender, receiver) = mailbox::new::<Job>(NonZeroUsize::new(1).unwrap());
/// assert_eq!(sender.enqueue(Job(1)), Feedback::Ok);
/// assert_eq!(sender.enqueue(Job(2)), Feedback::Backoff); // ready full: handed to the policy
/// drop(receiver);
/// assert_eq!(sender.enqueue(Job(3)), Feedback::Closed);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Feedback {
    /// Accepted into the ready queue.
    Ok,
    /// `ready` was full, or overflow already held messages (which a newcomer must not
    /// overtake): the message was **handed to the message type's policy**, which may have
    /// retained it, merged it into a retained message, let it replace an older one, or
    /// dropped it ([`policies::drop_newest`] drops every such newcomer, and
    /// [`policies::drop_oldest`] may evict it later). A hint to slow down, not a promise of
    /// delivery: `Backoff` says only that the policy ran.
    ///
    /// To slow down rather than hand messages to the policy, send the next ones with
    /// [`Sender::send`](crate::mailbox::Sender::send)`.await` (or
    /// [`send_blocking`](crate::mailbox::Sender::send_blocking)): it waits for room in `ready`
    /// and never overtakes what the policy retained.
    ///
    /// A sender that must know when its message is refused uses an
    /// [`UnreliablePolicy`](crate::mailbox::UnreliablePolicy): a policy that returns `false`
    /// makes the enqueue answer [`Unreliable::Rejected`], counted in
    /// [`Stats::rejected`](crate::mailbox::Stats::rejected).
    ///
    /// [`policies::drop_newest`]: crate::mailbox::policies::drop_newest
    /// [`policies::drop_oldest`]: crate::mailbox::policies::drop_oldest
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
    /// let (sender, mut receiver) = mailbox::new::<Tick>(NonZeroUsize::new(1).unwrap());
    /// assert_eq!(sender.enqueue(Tick(1)), Feedback::Ok);
    /// assert_eq!(sender.enqueue(Tick(2)), Feedback::Backoff); // handed over, and dropped
    /// assert!(matches!(receiver.try_recv(), Ok(Tick(1))));
    /// assert!(receiver.try_recv().is_err()); // Tick(2) is gone
    /// ```
    Backoff,
    /// The receiver is gone; the message was dropped.
    Closed,
}

impl Feedback {
    /// Whether the mailbox took the message (`Ok` or `Backoff`). For `Backoff` that means the
    /// policy got it, not that it will be delivered: the policy may have dropped it (see
    /// [`Feedback::Backoff`]).
    ///
    /// ```
    /// use conflux::mailbox::Feedback;
    ///
    /// assert!(Feedback::Ok.accepted());
    /// assert!(Feedback::Backoff.accepted());
    /// assert!(!Feedback::Closed.accepted());
    /// ```
    pub const fn accepted(self) -> bool {
        matches!(self, Feedback::Ok | Feedback::Backoff)
    }
}

/// The outcome of an operation that may also be refused (an [`UnreliablePolicy`] returning
/// `false`). Where a reliable mailbox answers `Backoff` whatever its policy did, this one
/// tells a refusal apart: `Rejected` means the message was dropped.
///
/// [`UnreliablePolicy`]: crate::mailbox::UnreliablePolicy
///
/// ```
/// use conflux::{Feedback, Unreliable};
///
/// let sent = Unreliable::new(Feedback::Ok);
/// assert_eq!(sent.outcome(), Some(Feedback::Ok));
/// assert!(sent.accepted());
/// let refused = Unreliable::<Feedback>::rejected();
/// assert!(refused.is_rejected() && !refused.accepted());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unreliable<T> {
    /// The operation ran and had this outcome.
    Outcome(T),
    /// The operation was refused; the message was dropped.
    Rejected,
}

impl<T> Unreliable<T> {
    /// Wraps an outcome.
    ///
    /// ```
    /// assert_eq!(conflux::Unreliable::new(3).outcome(), Some(3));
    /// ```
    pub const fn new(outcome: T) -> Self {
        Unreliable::Outcome(outcome)
    }

    /// The refused result.
    ///
    /// ```
    /// assert!(conflux::Unreliable::<()>::rejected().is_rejected());
    /// ```
    pub const fn rejected() -> Self {
        Unreliable::Rejected
    }

    /// Whether the operation was refused.
    ///
    /// ```
    /// assert!(!conflux::Unreliable::new(()).is_rejected());
    /// ```
    pub const fn is_rejected(&self) -> bool {
        matches!(self, Unreliable::Rejected)
    }

    /// The outcome, unless refused.
    ///
    /// ```
    /// assert_eq!(conflux::Unreliable::<u8>::rejected().outcome(), None);
    /// ```
    pub fn outcome(self) -> Option<T> {
        match self {
            Unreliable::Outcome(outcome) => Some(outcome),
            Unreliable::Rejected => None,
        }
    }
}

impl Unreliable<Feedback> {
    /// Whether the mailbox took the message: `Outcome(Ok | Backoff)`.
    ///
    /// ```
    /// use conflux::{Feedback, Unreliable};
    ///
    /// assert!(Unreliable::new(Feedback::Backoff).accepted());
    /// assert!(!Unreliable::new(Feedback::Closed).accepted());
    /// assert!(!Unreliable::<Feedback>::rejected().accepted());
    /// ```
    pub const fn accepted(self) -> bool {
        match self {
            Unreliable::Outcome(feedback) => feedback.accepted(),
            Unreliable::Rejected => false,
        }
    }
}
