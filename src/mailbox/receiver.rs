//! [`Receiver`] (and [`UnreliableReceiver`]): the one consuming handle.

use std::fmt;
use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::mode::{self, Mode};
use super::shared::Shared;
use super::{RecvTimeoutError, Stats, TryRecvError};
use crate::core::ready_queue::ReadyHead;
use crate::core::wait::adaptive::WaitState;
use crate::sync::Arc;
use crate::WaitStrategy;

/// Receives a mailbox's messages: `.await`, as a `Stream`, blocking, with a timeout, or without
/// waiting. One per mailbox: `Send` (when `T: Send`), neither `Clone` nor `Sync`.
///
/// It takes from `ready` first and, after each message, moves retained overflow into `ready`
/// front to back, so senders return to the fast path as soon as there is room. Dropping it
/// closes the mailbox: later enqueues answer `Closed`, and everything buffered is dropped at
/// once, each message exactly once. If a message's destructor panics there, the other messages
/// are still dropped, then the first panic continues from the drop.
///
/// ```
/// use std::num::NonZeroUsize;
/// use conflux::mailbox::{self, policies::Spill};
///
/// let (sender, mut receiver) = mailbox::new::<Spill<u32>>(NonZeroUsize::new(16).unwrap());
/// std::thread::spawn(move || {
///     for i in 0..100 {
///         let _ = sender.enqueue(Spill(i));
///     }
/// });
/// let mut expected = 0;
/// while let Some(Spill(i)) = receiver.recv_blocking() {
///     assert_eq!(i, expected); // one sender: its order is kept, across ready and overflow
///     expected += 1;
/// }
/// assert_eq!(expected, 100);
/// ```
pub struct Receiver<T, M: Mode<T> = mode::ReliableMode> {
    shared: Arc<Shared<T, M>>,
    head: ReadyHead,
    wait: WaitState,
    /// The `Stream` returned `None` (for `FusedStream::is_terminated`).
    terminated: bool,
}

/// The receiver of a mailbox whose policy may reject messages (from
/// [`mailbox::new_unreliable`](super::new_unreliable)).
pub type UnreliableReceiver<T> = Receiver<T, mode::UnreliableMode>;

impl<T, M: Mode<T>> Receiver<T, M> {
    pub(crate) fn new(shared: Arc<Shared<T, M>>, head: ReadyHead) -> Receiver<T, M> {
        Receiver {
            shared,
            head,
            wait: WaitState::new(),
            terminated: false,
        }
    }

    /// Waits for the next message without blocking the thread; `None` once every sender is
    /// gone and nothing is buffered. Works on any executor. Cancel-safe: dropping the future
    /// loses no message.
    ///
    /// ```
    /// use std::num::NonZeroUsize;
    /// use conflux::mailbox::{self, policies::Spill};
    ///
    /// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// # rt.block_on(async {
    /// let (sender, mut receiver) = mailbox::new::<Spill<&str>>(NonZeroUsize::new(4).unwrap());
    /// let _ = sender.enqueue(Spill("hello"));
    /// drop(sender);
    /// assert_eq!(receiver.recv().await, Some(Spill("hello")));
    /// assert_eq!(receiver.recv().await, None);
    /// # });
    /// ```
    pub async fn recv(&mut self) -> Option<T> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// The poll behind [`recv`](Receiver::recv): `Pending` registers `cx`'s waker, which the
    /// next enqueue (or the last sender's drop) wakes.
    ///
    /// Never waits for the overflow lock: if `ready` is empty while a sender's policy runs
    /// under it, this returns `Pending`, and that sender wakes the task once it lets go.
    ///
    /// ```
    /// use std::num::NonZeroUsize;
    /// use std::task::{Context, Poll, Waker};
    /// use conflux::mailbox::{self, policies::Spill};
    ///
    /// let (sender, mut receiver) = mailbox::new::<Spill<u8>>(NonZeroUsize::new(2).unwrap());
    /// let mut cx = Context::from_waker(Waker::noop());
    /// assert!(receiver.poll_recv(&mut cx).is_pending());
    /// let _ = sender.enqueue(Spill(7));
    /// assert_eq!(receiver.poll_recv(&mut cx), Poll::Ready(Some(Spill(7))));
    /// ```
    #[inline]
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.shared.poll_recv(&self.head, cx)
    }

    /// Takes the next message if one is buffered, without waiting.
    ///
    /// To busy-poll (a consumer thread that owns a core), prefer
    /// [`recv_blocking`](Receiver::recv_blocking) with
    /// [`WaitStrategy::SpinOnly`](crate::WaitStrategy::SpinOnly) over a loop around
    /// `try_recv`. Both spin, but a receive that waits can let a streaming producer run a few
    /// cache lines ahead before it looks again, and `try_recv` cannot: it must answer `Empty`
    /// or a message at once. A `try_recv` loop that catches up polls the very line the
    /// producer is writing. On our Intel test host a `try_recv` loop took 37-40 ns per
    /// message where a `SpinOnly` receive took 16.6-17.1 (the runner's "spinning consumer" and
    /// "busy-polling consumer" rows).
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if nothing is buffered, [`TryRecvError::Disconnected`] if
    /// nothing is buffered and every sender is gone.
    ///
    /// ```
    /// use std::num::NonZeroUsize;
    /// use conflux::mailbox::{self, policies::Spill, TryRecvError};
    ///
    /// let (sender, mut receiver) = mailbox::new::<Spill<u8>>(NonZeroUsize::new(2).unwrap());
    /// assert_eq!(receiver.try_recv(), Err(TryRecvError::Empty));
    /// let _ = sender.enqueue(Spill(1));
    /// assert_eq!(receiver.try_recv(), Ok(Spill(1)));
    /// ```
    #[inline]
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.shared.try_recv(&self.head)
    }

    /// Blocks the thread until a message arrives (`Some`) or every sender is gone and nothing
    /// is buffered (`None`). Waits like the notify channel: a spin that the receiver's
    /// [`WaitStrategy`] decides (by default learnt from past waits), then parks; an idle
    /// receiver burns no CPU.
    ///
    /// ```
    /// use std::num::NonZeroUsize;
    /// use conflux::mailbox::{self, policies::Spill};
    ///
    /// let (sender, mut receiver) = mailbox::new::<Spill<u8>>(NonZeroUsize::new(2).unwrap());
    /// std::thread::spawn(move || {
    ///     let _ = sender.enqueue(Spill(5));
    /// });
    /// assert_eq!(receiver.recv_blocking(), Some(Spill(5)));
    /// assert_eq!(receiver.recv_blocking(), None);
    /// ```
    #[inline]
    pub fn recv_blocking(&mut self) -> Option<T> {
        self.shared.recv_blocking(&self.head, &self.wait, None).ok()
    }

    /// Like [`recv_blocking`](Receiver::recv_blocking), giving up after `timeout`.
    ///
    /// # Errors
    ///
    /// [`RecvTimeoutError::Timeout`] when the time ran out with nothing buffered (never
    /// earlier), [`RecvTimeoutError::Disconnected`] when nothing is buffered and every sender
    /// is gone.
    ///
    /// ```
    /// use std::num::NonZeroUsize;
    /// use std::time::Duration;
    /// use conflux::mailbox::{self, policies::Spill, RecvTimeoutError};
    ///
    /// let (sender, mut receiver) = mailbox::new::<Spill<u8>>(NonZeroUsize::new(2).unwrap());
    /// let waited = receiver.recv_timeout(Duration::from_millis(5));
    /// assert_eq!(waited, Err(RecvTimeoutError::Timeout));
    /// let _ = sender.enqueue(Spill(1));
    /// assert_eq!(receiver.recv_timeout(Duration::from_secs(1)), Ok(Spill(1)));
    /// ```
    pub fn recv_timeout(&mut self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        let deadline = Instant::now().checked_add(timeout);
        self.shared.recv_blocking(&self.head, &self.wait, deadline)
    }

    /// Like [`recv_blocking`](Receiver::recv_blocking), giving up at `deadline`.
    ///
    /// # Errors
    ///
    /// [`RecvTimeoutError::Timeout`] once `deadline` has passed with nothing buffered (never
    /// earlier; a deadline already past still takes a buffered message),
    /// [`RecvTimeoutError::Disconnected`] when nothing is buffered and no message can arrive.
    ///
    /// ```
    /// use std::num::NonZeroUsize;
    /// use std::time::{Duration, Instant};
    /// use conflux::mailbox::{self, policies::Spill, RecvTimeoutError};
    ///
    /// let (sender, mut receiver) = mailbox::new::<Spill<u8>>(NonZeroUsize::new(2).unwrap());
    /// let soon = Instant::now() + Duration::from_millis(5);
    /// assert_eq!(receiver.recv_deadline(soon), Err(RecvTimeoutError::Timeout));
    /// let _ = sender.enqueue(Spill(1));
    /// assert_eq!(receiver.recv_deadline(soon), Ok(Spill(1))); // past, but one was buffered
    /// drop(sender);
    /// assert_eq!(receiver.recv_deadline(soon), Err(RecvTimeoutError::Disconnected));
    /// ```
    pub fn recv_deadline(&mut self, deadline: Instant) -> Result<T, RecvTimeoutError> {
        self.shared
            .recv_blocking(&self.head, &self.wait, Some(deadline))
    }

    /// Waits for at least one message, then appends up to `limit` of them to `buffer`, oldest
    /// first (the order single receives would give), and returns how many. `0` means no
    /// message will ever come: every sender is gone (or [`close`](Receiver::close) was
    /// called) and nothing is buffered; `limit == 0` also returns `0`, at once. `buffer` is
    /// only appended to, so a reused one should be cleared by the caller.
    ///
    /// Works on any executor and never waits for the overflow lock (as
    /// [`recv`](Receiver::recv)). Cancel-safe: messages go straight into `buffer`, so dropping
    /// the future loses none.
    ///
    /// ```
    /// use std::num::NonZeroUsize;
    /// use conflux::mailbox::{self, policies::Spill};
    ///
    /// # let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
    /// # rt.block_on(async {
    /// let (sender, mut receiver) = mailbox::new::<Spill<u32>>(NonZeroUsize::new(4).unwrap());
    /// let actor = tokio::spawn(async move {
    ///     let mut batch = Vec::with_capacity(16);
    ///     let mut seen = Vec::new();
    ///     while receiver.recv_many(&mut batch, 16).await > 0 {
    ///         seen.extend(batch.drain(..).map(|Spill(i)| i));
    ///     }
    ///     seen
    /// });
    /// for i in 0..10 {
    ///     let _ = sender.enqueue(Spill(i)); // the 5th onwards may spill: still delivered in order
    /// }
    /// drop(sender);
    /// assert_eq!(actor.await.unwrap(), (0..10).collect::<Vec<_>>());
    /// # });
    /// ```
    pub async fn recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
        poll_fn(|cx| self.poll_recv_many(cx, buffer, limit)).await
    }

    /// The poll behind [`recv_many`](Receiver::recv_many): `Ready(n)` as it resolves,
    /// `Pending` registering `cx`'s waker as [`poll_recv`](Receiver::poll_recv) does.
    ///
    /// ```
    /// use std::num::NonZeroUsize;
    /// use std::task::{Context, Poll, Waker};
    /// use conflux::mailbox::{self, policies::Spill};
    ///
    /// let (sender, mut receiver) = mailbox::new::<Spill<u8>>(NonZeroUsize::new(4).unwrap());
    /// let mut cx = Context::from_waker(Waker::noop());
    /// let mut batch = Vec::new();
    /// assert!(receiver.poll_recv_many(&mut cx, &mut batch, 8).is_pending());
    /// let _ = sender.enqueue(Spill(1));
    /// let _ = sender.enqueue(Spill(2));
    /// assert_eq!(receiver.poll_recv_many(&mut cx, &mut batch, 8), Poll::Ready(2));
    /// assert_eq!(batch, [Spill(1), Spill(2)]);
    /// ```
    pub fn poll_recv_many(
        &mut self,
        cx: &mut Context<'_>,
        buffer: &mut Vec<T>,
        limit: usize,
    ) -> Poll<usize> {
        self.shared.poll_recv_many(&self.head, cx, buffer, limit)
    }

    /// Appends up to `limit` buffered messages to `buffer`, oldest first, without waiting for
    /// a message; returns how many (at least one). Cheaper per message than
    /// [`try_recv`](Receiver::try_recv) in a loop: `ready`'s published run is taken in one
    /// pass, and the refill from overflow done once after it.
    ///
    /// `limit == 0` is `Ok(0)` (the only `Ok(0)`), without looking at the mailbox.
    ///
    /// # Errors
    ///
    /// As [`try_recv`](Receiver::try_recv), when nothing was taken:
    /// [`TryRecvError::Empty`], or [`TryRecvError::Disconnected`] once no message can arrive
    /// and nothing is buffered.
    ///
    /// ```
    /// use std::num::NonZeroUsize;
    /// use conflux::mailbox::{self, policies::Spill, TryRecvError};
    ///
    /// let (sender, mut receiver) = mailbox::new::<Spill<u8>>(NonZeroUsize::new(2).unwrap());
    /// for i in 0..5 {
    ///     let _ = sender.enqueue(Spill(i)); // 2 in ready, 3 retained in overflow
    /// }
    /// let mut batch = Vec::new();
    /// assert_eq!(receiver.try_recv_many(&mut batch, 4), Ok(4));
    /// assert_eq!(receiver.try_recv_many(&mut batch, 4), Ok(1));
    /// assert_eq!(batch, [Spill(0), Spill(1), Spill(2), Spill(3), Spill(4)]);
    /// assert_eq!(receiver.try_recv_many(&mut batch, 4), Err(TryRecvError::Empty));
    /// drop(sender);
    /// assert_eq!(receiver.try_recv_many(&mut batch, 4), Err(TryRecvError::Disconnected));
    /// ```
    pub fn try_recv_many(
        &mut self,
        buffer: &mut Vec<T>,
        limit: usize,
    ) -> Result<usize, TryRecvError> {
        self.shared.try_recv_many(&self.head, buffer, limit)
    }

    /// An iterator over the messages buffered now: each `next` is a
    /// [`try_recv`](Receiver::try_recv), and the iterator ends at the first that finds nothing
    /// (empty or disconnected alike). Messages enqueued while it runs are taken too, so a
    /// sender faster than the loop body can keep it going. After disconnection it yields what
    /// is left, then ends; on a drained, disconnected mailbox it yields nothing.
    ///
    /// ```
    /// use std::num::NonZeroUsize;
    /// use conflux::mailbox::{self, policies::Spill};
    ///
    /// let (sender, mut receiver) = mailbox::new::<Spill<u8>>(NonZeroUsize::new(2).unwrap());
    /// for i in 0..4 {
    ///     let _ = sender.enqueue(Spill(i));
    /// }
    /// let now: Vec<u8> = receiver.try_iter().map(|Spill(i)| i).collect();
    /// assert_eq!(now, [0, 1, 2, 3]);
    /// assert_eq!(receiver.try_iter().count(), 0);
    /// ```
    pub fn try_iter(&mut self) -> impl Iterator<Item = T> + '_ {
        std::iter::from_fn(move || self.try_recv().ok())
    }

    /// Whether no message can arrive any more: every sender is gone, or this receiver called
    /// [`close`](Receiver::close). Messages may still be buffered (receives deliver them, then
    /// report disconnection). Reads no line the senders write.
    ///
    /// ```
    /// use std::num::NonZeroUsize;
    /// use conflux::mailbox::{self, policies::Spill};
    ///
    /// let (sender, mut receiver) = mailbox::new::<Spill<u8>>(NonZeroUsize::new(2).unwrap());
    /// let _ = sender.enqueue(Spill(1));
    /// assert!(!receiver.is_disconnected());
    /// drop(sender);
    /// assert!(receiver.is_disconnected());
    /// assert_eq!(receiver.try_recv(), Ok(Spill(1))); // still delivered
    /// ```
    pub fn is_disconnected(&self) -> bool {
        self.shared.is_disconnected(&self.head)
    }

    /// How many messages are buffered, `ready` plus retained overflow: a snapshot (takes the
    /// overflow lock briefly).
    ///
    /// ```
    /// use std::num::NonZeroUsize;
    /// use conflux::mailbox::{self, policies::Spill};
    ///
    /// let (sender, receiver) = mailbox::new::<Spill<u8>>(NonZeroUsize::new(1).unwrap());
    /// let _ = sender.enqueue(Spill(1));
    /// let _ = sender.enqueue(Spill(2)); // retained in overflow
    /// assert_eq!(receiver.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.shared.len(&self.head)
    }

    /// Whether nothing is buffered (a snapshot).
    ///
    /// ```
    /// use std::num::NonZeroUsize;
    /// use conflux::mailbox::{self, policies::Spill};
    ///
    /// let (_sender, receiver) = mailbox::new::<Spill<u8>>(NonZeroUsize::new(1).unwrap());
    /// assert!(receiver.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The ready queue's capacity.
    ///
    /// ```
    /// use std::num::NonZeroUsize;
    /// use conflux::mailbox::{self, policies::Spill};
    ///
    /// let (_sender, receiver) = mailbox::new::<Spill<u8>>(NonZeroUsize::new(32).unwrap());
    /// assert_eq!(receiver.capacity(), 32);
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
    /// let (sender, receiver) = mailbox::new::<Spill<u8>>(NonZeroUsize::new(1).unwrap());
    /// let _ = sender.enqueue(Spill(1));
    /// let _ = sender.enqueue(Spill(2));
    /// assert_eq!(receiver.stats().backoff, 1);
    /// ```
    pub fn stats(&self) -> Stats {
        self.shared.stats()
    }

    /// Stops intake and keeps everything already accepted for this receiver.
    ///
    /// Every later `enqueue` answers `Closed` (the message is dropped) and
    /// [`Sender::is_closed`](super::Sender::is_closed) turns true; senders awaiting
    /// [`Sender::closed`](super::Sender::closed) wake up. Messages accepted before the close, in
    /// `ready` and retained in overflow, are still delivered in order; once they are drained,
    /// receives report disconnection (`None`, [`TryRecvError::Disconnected`]). Calling it again
    /// does nothing. Dropping the receiver instead drops what is buffered.
    ///
    /// ```
    /// use std::num::NonZeroUsize;
    /// use conflux::mailbox::{self, policies::Spill, Feedback, TryRecvError};
    ///
    /// let (sender, mut receiver) = mailbox::new::<Spill<u8>>(NonZeroUsize::new(1).unwrap());
    /// assert_eq!(sender.enqueue(Spill(1)), Feedback::Ok);
    /// assert_eq!(sender.enqueue(Spill(2)), Feedback::Backoff); // retained in overflow
    /// receiver.close();
    /// assert_eq!(sender.enqueue(Spill(3)), Feedback::Closed);
    /// assert!(sender.is_closed());
    /// assert_eq!(receiver.try_recv(), Ok(Spill(1)));
    /// assert_eq!(receiver.try_recv(), Ok(Spill(2)));
    /// assert_eq!(receiver.try_recv(), Err(TryRecvError::Disconnected));
    /// ```
    pub fn close(&mut self) {
        self.shared.close_intake(&self.head);
    }
}

impl<T, M: Mode<T>> futures_core::Stream for Receiver<T, M> {
    type Item = T;

    /// Same as [`Receiver::poll_recv`]: ends once every sender is gone (or
    /// [`close`](Receiver::close) was called) and nothing is buffered, and keeps returning
    /// `None` after that.
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut();
        let next = this.poll_recv(cx);
        if let Poll::Ready(None) = next {
            this.terminated = true;
        }
        next
    }
}

/// The stream is fused: once it has returned `None`, [`is_terminated`] is true (and polling
/// it again keeps returning `None`), so it can sit in a `futures::select!` loop.
///
/// [`is_terminated`]: futures_core::FusedStream::is_terminated
///
/// ```
/// use std::num::NonZeroUsize;
/// use std::pin::Pin;
/// use futures_core::{FusedStream, Stream};
/// use conflux::mailbox::{self, policies::Spill};
///
/// // `StreamExt::next` from futures or tokio-stream does the same.
/// async fn next<S: Stream + Unpin>(stream: &mut S) -> Option<S::Item> {
///     std::future::poll_fn(|cx| Pin::new(&mut *stream).poll_next(cx)).await
/// }
///
/// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// # rt.block_on(async {
/// let (sender, mut receiver) = mailbox::new::<Spill<u8>>(NonZeroUsize::new(2).unwrap());
/// let _ = sender.enqueue(Spill(1));
/// drop(sender);
/// assert_eq!(next(&mut receiver).await, Some(Spill(1)));
/// assert_eq!(next(&mut receiver).await, None);
/// assert!(receiver.is_terminated());
/// # });
/// ```
impl<T, M: Mode<T>> futures_core::FusedStream for Receiver<T, M> {
    fn is_terminated(&self) -> bool {
        self.terminated
    }
}

impl<T, M: Mode<T>> Drop for Receiver<T, M> {
    fn drop(&mut self) {
        self.shared.drop_receiver(&self.head);
    }
}

impl<T, M: Mode<T>> fmt::Debug for Receiver<T, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("capacity", &self.capacity())
            .finish_non_exhaustive()
    }
}

/// The wait strategy knob (see [`WaitStrategy`]).
impl<T, M: Mode<T>> Receiver<T, M> {
    /// How this receiver's blocking receives wait: [`WaitStrategy::Adaptive`] unless set.
    ///
    /// ```
    /// use std::num::NonZeroUsize;
    /// use conflux::mailbox::{self, policies::Spill};
    /// use conflux::WaitStrategy;
    ///
    /// let (_sender, receiver) = mailbox::new::<Spill<u8>>(NonZeroUsize::new(2).unwrap());
    /// assert_eq!(receiver.wait_strategy(), WaitStrategy::Adaptive);
    /// ```
    pub fn wait_strategy(&self) -> WaitStrategy {
        self.wait.strategy()
    }

    /// Sets how [`recv_blocking`](Receiver::recv_blocking) and
    /// [`recv_timeout`](Receiver::recv_timeout) wait; see [`WaitStrategy`] for when to choose
    /// which. Async receives never spin, whatever the strategy.
    ///
    /// ```
    /// use std::num::NonZeroUsize;
    /// use conflux::mailbox::{self, policies::Spill};
    /// use conflux::WaitStrategy;
    ///
    /// let (sender, mut receiver) = mailbox::new::<Spill<u8>>(NonZeroUsize::new(2).unwrap());
    /// receiver.set_wait_strategy(WaitStrategy::Park); // a rarely fed actor on a busy box
    /// std::thread::spawn(move || {
    ///     let _ = sender.enqueue(Spill(1));
    /// });
    /// assert_eq!(receiver.recv_blocking(), Some(Spill(1)));
    /// ```
    pub fn set_wait_strategy(&mut self, strategy: WaitStrategy) {
        self.wait.set_strategy(strategy);
    }
}
