//! [`Sender`] (and [`UnreliableSender`]): the enqueuing handles.

use std::fmt;
use std::time::{Duration, Instant};

use super::mode::{self, Mode};
use super::shared::{Outcome, Shared};
use super::{
    Feedback, Policy, SendError, SendTimeoutError, Stats, TrySendError, Unreliable,
    UnreliablePolicy, WeakSender,
};
use crate::sync::Arc;

/// Enqueues messages into a mailbox; never blocks. Clone it for every producer: it is `Send +
/// Sync` when `T: Send`. When the last one is dropped the receiver drains what is buffered and
/// then sees the end.
///
/// `Sender<T>` is the reliable flavour (from [`mailbox::new`](super::new));
/// [`UnreliableSender<T>`] is `Sender<T, mode::UnreliableMode>`.
///
/// ```
/// use std::num::NonZeroUsize;
/// use conflux::mailbox::{self, policies::Spill, Feedback};
///
/// let (sender, mut receiver) = mailbox::new::<Spill<u64>>(NonZeroUsize::new(8).unwrap());
/// let workers: Vec<_> = (0..4)
///     .map(|i| {
///         let sender = sender.clone();
///         std::thread::spawn(move || sender.enqueue(Spill(i)))
///     })
///     .collect();
/// for worker in workers {
///     assert_eq!(worker.join().unwrap(), Feedback::Ok);
/// }
/// assert_eq!(receiver.len(), 4);
/// ```
pub struct Sender<T, M: Mode<T> = mode::ReliableMode> {
    shared: Arc<Shared<T, M>>,
}

/// The sender of a mailbox whose policy may reject messages (from
/// [`mailbox::new_unreliable`](super::new_unreliable)).
pub type UnreliableSender<T> = Sender<T, mode::UnreliableMode>;

impl<T, M: Mode<T>> Sender<T, M> {
    pub(crate) fn new(shared: Arc<Shared<T, M>>) -> Sender<T, M> {
        Sender { shared }
    }

    /// Whether the receiver has been dropped (every enqueue now answers `Closed`).
    ///
    /// ```
    /// use std::num::NonZeroUsize;
    /// use conflux::mailbox::{self, policies::Spill};
    ///
    /// let (sender, receiver) = mailbox::new::<Spill<u8>>(NonZeroUsize::new(1).unwrap());
    /// assert!(!sender.is_closed());
    /// drop(receiver);
    /// assert!(sender.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.shared.is_closed()
    }

    /// The ready queue's capacity (overflow is on top, as the policy decides).
    ///
    /// ```
    /// use std::num::NonZeroUsize;
    /// use conflux::mailbox::{self, policies::Spill};
    ///
    /// let (sender, _receiver) = mailbox::new::<Spill<u8>>(NonZeroUsize::new(64).unwrap());
    /// assert_eq!(sender.capacity(), 64);
    /// ```
    pub fn capacity(&self) -> usize {
        self.shared.capacity()
    }

    /// The mailbox's counters (takes the overflow lock briefly).
    ///
    /// ```
    /// use std::num::NonZeroUsize;
    /// use conflux::mailbox::{self, policies::Spill};
    ///
    /// let (sender, _receiver) = mailbox::new::<Spill<u8>>(NonZeroUsize::new(1).unwrap());
    /// assert_eq!(sender.stats().backoff, 0);
    /// ```
    pub fn stats(&self) -> Stats {
        self.shared.stats_for_sender()
    }

    /// How many messages are queued, `ready` plus retained overflow, as a sender sees them: a
    /// snapshot, from the position the receiver last published and the overflow under its
    /// lock (taken briefly, as [`stats`](Sender::stats) does). An overflow type that cannot
    /// count counts 1 while it retains anything (see [`Overflow::len`](super::Overflow::len)).
    /// Positions claimed by senders still writing them count.
    ///
    /// ```
    /// use std::num::NonZeroUsize;
    /// use conflux::mailbox::{self, policies::Spill};
    ///
    /// let (sender, mut receiver) = mailbox::new::<Spill<u8>>(NonZeroUsize::new(2).unwrap());
    /// for i in 0..3 {
    ///     let _ = sender.enqueue(Spill(i)); // the third is retained in overflow
    /// }
    /// assert_eq!(sender.len(), 3);
    /// let _ = receiver.try_recv();
    /// assert_eq!(sender.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.shared.len_for_sender()
    }

    /// Whether nothing is queued (a snapshot, as [`len`](Sender::len)).
    ///
    /// ```
    /// use std::num::NonZeroUsize;
    /// use conflux::mailbox::{self, policies::Spill};
    ///
    /// let (sender, mut receiver) = mailbox::new::<Spill<u8>>(NonZeroUsize::new(2).unwrap());
    /// assert!(sender.is_empty());
    /// let _ = sender.enqueue(Spill(1));
    /// assert!(!sender.is_empty());
    /// let _ = receiver.try_recv();
    /// assert!(sender.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `self` and `other` enqueue into the same mailbox.
    ///
    /// ```
    /// use std::num::NonZeroUsize;
    /// use conflux::mailbox::{self, policies::Spill};
    ///
    /// let (a, _receiver) = mailbox::new::<Spill<u8>>(NonZeroUsize::new(2).unwrap());
    /// let (b, _other) = mailbox::new::<Spill<u8>>(NonZeroUsize::new(2).unwrap());
    /// assert!(a.same_channel(&a.clone()));
    /// assert!(!a.same_channel(&b));
    /// ```
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// Completes once the receiver is dropped or has called
    /// [`Receiver::close`](super::Receiver::close): from then on every enqueue answers `Closed`.
    /// At once if that already happened. Cancel-safe, on any executor; any number of senders
    /// may wait.
    ///
    /// ```
    /// use std::num::NonZeroUsize;
    /// use conflux::mailbox::{self, policies::Spill};
    ///
    /// # let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).build().unwrap();
    /// # rt.block_on(async {
    /// let (sender, receiver) = mailbox::new::<Spill<u8>>(NonZeroUsize::new(4).unwrap());
    /// let watcher = tokio::spawn(async move {
    ///     sender.closed().await;
    ///     sender.is_closed()
    /// });
    /// drop(receiver);
    /// assert!(watcher.await.unwrap());
    /// # });
    /// ```
    pub async fn closed(&self) {
        self.shared.close_signal().wait().await;
    }

    /// A [`WeakSender`] for this mailbox: it does not count as a sender (the receiver sees
    /// disconnection once every `Sender` is gone) and [`upgrade`](WeakSender::upgrade)s back
    /// to a `Sender` while one still exists. From an [`UnreliableSender`] it is a
    /// [`WeakUnreliableSender`](super::WeakUnreliableSender).
    ///
    /// ```
    /// use std::num::NonZeroUsize;
    /// use conflux::mailbox::{self, policies::Spill, TryRecvError};
    ///
    /// let (sender, mut receiver) = mailbox::new::<Spill<u8>>(NonZeroUsize::new(1).unwrap());
    /// let weak = sender.downgrade();
    /// drop(sender);
    /// assert_eq!(receiver.try_recv(), Err(TryRecvError::Disconnected));
    /// assert!(weak.upgrade().is_none());
    /// ```
    pub fn downgrade(&self) -> WeakSender<T, M> {
        WeakSender::new(Arc::clone(&self.shared))
    }
}

/// Backpressure: sends that wait for room in `ready` instead of handing the message to the
/// policy.
impl<T, M: Mode<T>> Sender<T, M> {
    /// Sends `message`, waiting (without blocking the thread) while `ready` is full or
    /// overflow retains messages; the message goes into `ready` and never to the policy.
    ///
    /// This is the send to `.await` when a full mailbox should slow the sender down (tokio's
    /// `Sender::send`). It never overtakes messages retained in overflow, so one sender's
    /// messages arrive in order whether it mixes `send` and [`enqueue`](Sender::enqueue) or
    /// not. Waiting senders are woken first come, first served, one per slot the receiver
    /// frees. Works on any executor.
    ///
    /// Cancel-safe in the sense that matters: dropping the future (a lost `select!` branch)
    /// drops the message unsent and passes any wake-up it had received to the next waiter.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the message if the receiver is gone or closed the mailbox, also
    /// while this send was waiting.
    ///
    /// ```
    /// use std::num::NonZeroUsize;
    /// use conflux::mailbox::{self, policies::Spill};
    ///
    /// # let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
    /// # rt.block_on(async {
    /// let (sender, mut receiver) = mailbox::new::<Spill<u32>>(NonZeroUsize::new(2).unwrap());
    /// let producer = tokio::spawn(async move {
    ///     for i in 0..100 {
    ///         sender.send(Spill(i)).await.unwrap(); // waits while the mailbox is full
    ///     }
    /// });
    /// for i in 0..100 {
    ///     assert_eq!(receiver.recv().await, Some(Spill(i)));
    /// }
    /// producer.await.unwrap();
    /// # });
    /// ```
    pub async fn send(&self, message: T) -> Result<(), SendError<T>> {
        self.shared.send(message).await
    }

    /// Sends `message`, blocking the thread while `ready` is full or overflow retains
    /// messages (a short spin first, then it parks); never hands it to the policy. As
    /// [`send`](Sender::send), for threads.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the message if the receiver is gone or closed the mailbox.
    ///
    /// ```
    /// use std::num::NonZeroUsize;
    /// use conflux::mailbox::{self, policies::Spill};
    ///
    /// let (sender, mut receiver) = mailbox::new::<Spill<u32>>(NonZeroUsize::new(4).unwrap());
    /// let producer = std::thread::spawn(move || {
    ///     for i in 0..1000 {
    ///         sender.send_blocking(Spill(i)).unwrap();
    ///     }
    /// });
    /// for i in 0..1000 {
    ///     assert_eq!(receiver.recv_blocking(), Some(Spill(i)));
    /// }
    /// producer.join().unwrap();
    /// ```
    pub fn send_blocking(&self, message: T) -> Result<(), SendError<T>> {
        self.shared
            .send_blocking(message, None)
            .map_err(|error| SendError(error.into_inner()))
    }

    /// [`send_blocking`](Sender::send_blocking) that gives up after `timeout`.
    ///
    /// # Errors
    ///
    /// [`SendTimeoutError::Timeout`] with the message if no room appeared in time,
    /// [`SendTimeoutError::Closed`] if the receiver is gone or closed the mailbox.
    ///
    /// ```
    /// use std::{num::NonZeroUsize, time::Duration};
    /// use conflux::mailbox::{self, policies::Spill, SendTimeoutError};
    ///
    /// let (sender, mut receiver) = mailbox::new::<Spill<u8>>(NonZeroUsize::new(1).unwrap());
    /// assert_eq!(sender.send_timeout(Spill(1), Duration::from_millis(5)), Ok(()));
    /// assert_eq!(
    ///     sender.send_timeout(Spill(2), Duration::from_millis(5)),
    ///     Err(SendTimeoutError::Timeout(Spill(2)))
    /// );
    /// assert_eq!(receiver.try_recv(), Ok(Spill(1)));
    /// assert_eq!(sender.send_timeout(Spill(3), Duration::from_millis(5)), Ok(()));
    /// ```
    pub fn send_timeout(&self, message: T, timeout: Duration) -> Result<(), SendTimeoutError<T>> {
        // A deadline beyond what `Instant` can represent is no deadline.
        let deadline = Instant::now().checked_add(timeout);
        self.shared.send_blocking(message, deadline)
    }

    /// Sends `message` if `ready` has room and overflow retains nothing; never waits and
    /// never hands it to the policy.
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] with the message if `ready` is full or overflow retains
    /// messages, [`TrySendError::Closed`] if the receiver is gone or closed the mailbox.
    ///
    /// ```
    /// use std::num::NonZeroUsize;
    /// use conflux::mailbox::{self, policies::Spill, Feedback, TrySendError};
    ///
    /// let (sender, mut receiver) = mailbox::new::<Spill<u8>>(NonZeroUsize::new(1).unwrap());
    /// assert_eq!(sender.try_send(Spill(1)), Ok(()));
    /// assert_eq!(sender.enqueue(Spill(2)), Feedback::Backoff); // retained by the policy
    /// assert_eq!(receiver.try_recv(), Ok(Spill(1))); // and moved into ready
    /// assert_eq!(sender.try_send(Spill(3)), Err(TrySendError::Full(Spill(3))));
    /// ```
    #[inline]
    pub fn try_send(&self, message: T) -> Result<(), TrySendError<T>> {
        self.shared.try_send(message)
    }
}

impl<T: Policy> Sender<T, mode::ReliableMode> {
    /// Enqueues `message` without ever blocking or waiting for the receiver.
    ///
    /// While nothing is retained in overflow, the message goes into `ready` (lock-free) and the
    /// answer is [`Feedback::Ok`]. When `ready` is full, or overflow already retains messages
    /// (which the newcomer must not overtake), `T`'s [`Policy`] handles it under the overflow
    /// lock and the answer is [`Feedback::Backoff`]: a hint to slow down, whatever the policy
    /// did with the message (it may have dropped it; see [`Feedback::Backoff`]). Once the
    /// receiver is gone the message is dropped and the answer is [`Feedback::Closed`]. To wait
    /// for room instead, use [`send`](Sender::send) or [`send_blocking`](Sender::send_blocking).
    ///
    /// # Panics
    ///
    /// If `T`'s policy panics; the panic propagates here, and the mailbox stays usable.
    ///
    /// ```
    /// use std::num::NonZeroUsize;
    /// use conflux::mailbox::{self, policies::Spill, Feedback};
    ///
    /// let (sender, mut receiver) = mailbox::new::<Spill<&str>>(NonZeroUsize::new(1).unwrap());
    /// assert_eq!(sender.enqueue(Spill("a")), Feedback::Ok);
    /// assert_eq!(sender.enqueue(Spill("b")), Feedback::Backoff);
    /// assert_eq!(receiver.try_recv().unwrap(), Spill("a"));
    /// assert_eq!(receiver.try_recv().unwrap(), Spill("b"));
    /// ```
    #[must_use = "Backoff asks the caller to slow down, and Closed means the message was dropped"]
    #[inline]
    pub fn enqueue(&self, message: T) -> Feedback {
        match self.shared.enqueue(message) {
            Outcome::Ready => Feedback::Ok,
            Outcome::Handled | Outcome::Rejected => Feedback::Backoff,
            Outcome::Closed => Feedback::Closed,
        }
    }
}

impl<T: UnreliablePolicy> Sender<T, mode::UnreliableMode> {
    /// Like [`Sender::enqueue`], but the policy may refuse the message: the answer is then
    /// [`Unreliable::Rejected`] and the message was dropped.
    ///
    /// ```
    /// use std::collections::VecDeque;
    /// use std::num::NonZeroUsize;
    /// use conflux::mailbox::{self, policies, Feedback, UnreliablePolicy};
    /// use conflux::Unreliable;
    ///
    /// struct Hint(u8);
    /// impl UnreliablePolicy for Hint {
    ///     type Overflow = VecDeque<Hint>;
    ///     fn handle(overflow: &mut VecDeque<Hint>, hint: Hint) -> bool {
    ///         policies::capped(overflow, hint, 1)
    ///     }
    /// }
    ///
    /// let (sender, _receiver) = mailbox::new_unreliable::<Hint>(NonZeroUsize::new(1).unwrap());
    /// assert_eq!(sender.enqueue(Hint(1)), Unreliable::Outcome(Feedback::Ok));
    /// assert_eq!(sender.enqueue(Hint(2)), Unreliable::Outcome(Feedback::Backoff));
    /// assert_eq!(sender.enqueue(Hint(3)), Unreliable::Rejected);
    /// assert_eq!(sender.stats().rejected, 1);
    /// ```
    #[must_use = "Rejected and Closed mean the message was dropped"]
    #[inline]
    pub fn enqueue(&self, message: T) -> Unreliable<Feedback> {
        match self.shared.enqueue(message) {
            Outcome::Ready => Unreliable::Outcome(Feedback::Ok),
            Outcome::Handled => Unreliable::Outcome(Feedback::Backoff),
            Outcome::Rejected => Unreliable::Rejected,
            Outcome::Closed => Unreliable::Outcome(Feedback::Closed),
        }
    }
}

impl<T, M: Mode<T>> Clone for Sender<T, M> {
    fn clone(&self) -> Self {
        self.shared.add_sender();
        Sender {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T, M: Mode<T>> Drop for Sender<T, M> {
    fn drop(&mut self) {
        self.shared.remove_sender();
    }
}

impl<T, M: Mode<T>> fmt::Debug for Sender<T, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("capacity", &self.capacity())
            .field("closed", &self.is_closed())
            .finish_non_exhaustive()
    }
}
