//! [`event_channel`]: the conflating FIFO queue with blocking and async receives.
//!
//! Same queue as [`event_queue`](super::event_queue), plus the wait/wake core: a receiver that
//! finds nothing spins briefly, then announces that it sleeps and parks (or returns `Pending`);
//! a notify wakes it only when it announced, which costs a notify nothing while the receiver
//! is awake.
//!
//! **Closing intake** ([`Receiver::close`]) keeps what is pending for the receiver. The
//! receiver raises `closed`, then RMWs the tail word and remembers the position it read: the
//! end. Every notify reads `closed` after its own claim (a tail-word RMW) and answers `Closed`
//! if it is set. The tail word's single modification order decides each racing notify: a claim
//! before the close's RMW is below the end and is delivered; a claim after it reads the close's
//! release sequence, so its load of `closed` sees the flag and it answers `Closed` (its token
//! lies at or beyond the end, and is never delivered). Receives stop at the end, then report
//! disconnection. A notify whose claim came first but whose load came after the close answers
//! `Closed` although its token is delivered (say it woke the receiver, which took the token and
//! closed while the notify was still returning from the wake-up); and a notify conflated into a token whose own
//! first notify is still between its pending bit and its claim answers `Ok` even if that claim
//! lands after the close (the token is then not delivered): both are races with the close
//! itself, so either answer is one of its orders, and the second needs three threads to meet
//! within a few instructions.

use std::fmt;
use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::{Events, NotifyError, RecvError, RecvTimeoutError, Token, TryRecvError};
use crate::core::close_signal::CloseSignal;
use crate::core::token_queue::{self, Received, TokenConsumer, TokenProducer};
use crate::core::wait::adaptive::WaitState;
use crate::core::wait::waiter::{self, Waiter, POSITION_MASK};
use crate::core::wait::{self, Receive};
use crate::sync::{Arc, AtomicBool, AtomicUsize, Ordering};
use crate::WaitStrategy;

/// What a channel's senders and receiver share beside the token queue: whether the receiver
/// closed intake, and the senders awaiting that (or the receiver's drop).
struct Lifecycle {
    /// Raised by `Receiver::close`; never lowered. Not by the drop, which closes the token
    /// queue itself: a notify that races the drop after its token was delivered answers `Ok`.
    closed: AtomicBool,
    /// Senders awaiting `closed()`.
    signal: CloseSignal,
}

/// Makes a channel for tokens `0..max_tokens`: any number of [`Sender`]s, one [`Receiver`]
/// that can block, time out, or `.await`.
///
/// # Panics
///
/// Like [`event_queue`](super::event_queue): if `max_tokens` is 0 or above the limit.
///
/// # Examples
///
/// ```
/// use conflux::notify::{event_channel, Events, Token};
///
/// let (sender, receiver) = event_channel(64);
/// let io = std::thread::spawn(move || {
///     for conn in [3, 9, 3] {
///         sender.notify(Token::new(conn)).unwrap();
///     }
///     // dropping the last sender disconnects the channel
/// });
///
/// let mut events = Events::with_capacity(64);
/// let mut seen = Vec::new();
/// while receiver.recv(&mut events).is_ok() {
///     seen.extend(events.iter().map(Token::index));
/// }
/// io.join().unwrap();
/// seen.dedup();
/// assert!(seen == [3, 9] || seen == [3, 9, 3]);
/// ```
#[track_caller]
pub fn event_channel(max_tokens: usize) -> (Sender, Receiver) {
    let (producer, consumer) = token_queue::token_queue(max_tokens);
    let lifecycle = Arc::new(Lifecycle {
        closed: AtomicBool::new(false),
        signal: CloseSignal::new(),
    });
    (
        Sender {
            producer,
            lifecycle: Arc::clone(&lifecycle),
        },
        Receiver {
            consumer,
            wait: WaitState::new(),
            stream_slot: Events::default(),
            lifecycle: WakeClosedOnDrop(lifecycle),
            end: None,
            terminated: false,
        },
    )
}

/// Marks tokens ready and wakes a waiting [`Receiver`]. Clone it for every producer; it is
/// `Send + Sync`. When the last one is dropped the channel is disconnected.
///
/// # Examples
///
/// ```
/// use conflux::notify::{event_channel, Token};
///
/// let (sender, receiver) = event_channel(4);
/// let second = sender.clone();
/// sender.notify(Token::new(0))?;
/// second.notify(Token::new(1))?;
/// # drop(receiver);
/// # Ok::<(), conflux::notify::NotifyError>(())
/// ```
#[derive(Clone)]
pub struct Sender {
    producer: TokenProducer,
    lifecycle: Arc<Lifecycle>,
}

impl Sender {
    /// Makes `token` pending unless it already is, and wakes the receiver if it sleeps.
    ///
    /// Same rules as [`Notifier::notify`](super::Notifier::notify); while the receiver is
    /// awake it costs exactly as much.
    ///
    /// # Errors
    ///
    /// [`NotifyError::OutOfRange`] for `token.index() >= capacity()`,
    /// [`NotifyError::Closed`] once the [`Receiver`] is gone or has called
    /// [`close`](Receiver::close).
    ///
    /// ```
    /// use conflux::notify::{event_channel, NotifyError, Token};
    ///
    /// let (sender, receiver) = event_channel(4);
    /// sender.notify(Token::new(3))?;
    /// drop(receiver);
    /// assert_eq!(sender.notify(Token::new(3)), Err(NotifyError::Closed { token: Token::new(3) }));
    /// # Ok::<(), NotifyError>(())
    /// ```
    #[inline]
    pub fn notify(&self, token: Token) -> Result<(), NotifyError> {
        self.producer.notify(token).map_err(NotifyError::from)?;
        self.refuse_if_closed(token)
    }

    /// After a notify the queue accepted: `Closed` if the receiver closed intake meanwhile.
    #[inline]
    fn refuse_if_closed(&self, token: Token) -> Result<(), NotifyError> {
        // Relaxed: read after this notify's claim, an acquiring RMW of the tail word; a claim
        // that comes after `Receiver::close`'s RMW in that word's order reads its release
        // sequence, so the flag raised before that RMW is visible here (see the module docs).
        if self.lifecycle.closed.load(Ordering::Relaxed) {
            return Err(NotifyError::Closed { token });
        }
        Ok(())
    }

    /// Notifies every token of `tokens`, in order, with one queue claim per up to 64 newly
    /// pending ones and at most one wake-up of the receiver per claim; the same rules and
    /// errors as [`Notifier::notify_many`](super::Notifier::notify_many).
    ///
    /// ```
    /// use conflux::notify::{event_channel, Events, Token};
    ///
    /// let (sender, receiver) = event_channel(4);
    /// sender.notify_many(&[Token::new(2), Token::new(0)])?;
    /// let mut events = Events::with_capacity(4);
    /// receiver.recv(&mut events).unwrap();
    /// assert_eq!(events.as_slice(), &[Token::new(2), Token::new(0)]);
    /// # Ok::<(), conflux::notify::NotifyError>(())
    /// ```
    #[inline]
    pub fn notify_many(&self, tokens: &[Token]) -> Result<(), NotifyError> {
        self.producer
            .notify_many(tokens)
            .map_err(NotifyError::from)?;
        match tokens.first() {
            Some(&first) => self.refuse_if_closed(first),
            None => Ok(()),
        }
    }

    /// The number of tokens: valid tokens are `0..capacity()`.
    ///
    /// ```
    /// let (sender, _receiver) = conflux::notify::event_channel(32);
    /// assert_eq!(sender.capacity(), 32);
    /// ```
    pub fn capacity(&self) -> usize {
        self.producer.capacity()
    }

    /// Whether the [`Receiver`] has been dropped or has called [`close`](Receiver::close):
    /// every notify now answers [`NotifyError::Closed`].
    ///
    /// ```
    /// let (sender, receiver) = conflux::notify::event_channel(1);
    /// drop(receiver);
    /// assert!(sender.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        // Acquire: a `true` answer is final and orders after the close or drop.
        self.producer.is_closed() || self.lifecycle.closed.load(Ordering::Acquire)
    }

    /// Completes once the [`Receiver`] is dropped or has called [`close`](Receiver::close):
    /// from then on every notify answers [`NotifyError::Closed`]. At once if that already
    /// happened. Cancel-safe, on any executor; any number of senders may wait.
    ///
    /// ```
    /// use conflux::notify::{event_channel, NotifyError, Token};
    ///
    /// # let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).build().unwrap();
    /// # rt.block_on(async {
    /// let (sender, mut receiver) = event_channel(4);
    /// let watcher = tokio::spawn(async move {
    ///     sender.closed().await;
    ///     sender.notify(Token::new(1))
    /// });
    /// receiver.close();
    /// assert_eq!(watcher.await.unwrap(), Err(NotifyError::Closed { token: Token::new(1) }));
    /// # });
    /// ```
    pub async fn closed(&self) {
        self.lifecycle.signal.wait().await;
    }
}

impl fmt::Debug for Sender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("capacity", &self.capacity())
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// Receives tokens: without waiting, blocking, with a timeout or deadline, or `.await`ing.
/// One per channel: `Send`, neither `Clone` nor `Sync`.
///
/// Every receive clears `events`, then fills it; `Ok(())` means it holds at least one token.
/// A `limit` of 0 is taken as 1, since a receive that succeeds delivers something. Tokens a
/// partial [`Events::drain`] left are kept in front and count toward `limit` (see [`Events`]);
/// a receive that finds such tokens returns `Ok` at once.
/// When every [`Sender`] is gone, receives first deliver what is still pending, then fail
/// with the disconnected error.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use conflux::notify::{event_channel, Events, RecvTimeoutError, Token};
///
/// let (sender, receiver) = event_channel(8);
/// let mut events = Events::with_capacity(8);
/// sender.notify(Token::new(4))?;
/// receiver.recv_timeout(&mut events, Duration::from_secs(1)).unwrap();
/// assert_eq!(events.as_slice(), &[Token::new(4)]);
///
/// let nothing = receiver.recv_timeout(&mut events, Duration::from_millis(5));
/// assert_eq!(nothing, Err(RecvTimeoutError::Timeout));
/// # Ok::<(), conflux::notify::NotifyError>(())
/// ```
pub struct Receiver {
    /// Declared before `lifecycle`: fields drop in order, so the token queue is closed before
    /// the senders awaiting `closed()` are woken, and a woken sender finds the channel closed.
    consumer: TokenConsumer,
    wait: WaitState,
    /// The one-token buffer behind the `Stream` impl: always empty between two `poll_next`s,
    /// so a stream never holds tokens back from the other receives. Allocated (one token) by
    /// the first `poll_next` that delivers.
    stream_slot: Events,
    lifecycle: WakeClosedOnDrop,
    /// Set by `close`: the position after the last one claimed before it. Receives deliver
    /// up to it, then report disconnection.
    end: Option<usize>,
    /// The `Stream` returned `None` (for `FusedStream::is_terminated`).
    terminated: bool,
}

impl Receiver {
    /// Delivers every pending token without waiting.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if nothing is pending, [`TryRecvError::Disconnected`] if
    /// nothing is pending and every sender is gone.
    ///
    /// ```
    /// use conflux::notify::{event_channel, Events, Token, TryRecvError};
    ///
    /// let (sender, receiver) = event_channel(4);
    /// let mut events = Events::with_capacity(4);
    /// assert_eq!(receiver.try_recv(&mut events), Err(TryRecvError::Empty));
    /// sender.notify(Token::new(2))?;
    /// assert_eq!(receiver.try_recv(&mut events), Ok(()));
    /// # Ok::<(), conflux::notify::NotifyError>(())
    /// ```
    pub fn try_recv(&self, events: &mut Events) -> Result<(), TryRecvError> {
        self.try_recv_limit(events, usize::MAX)
    }

    /// Like [`try_recv`](Receiver::try_recv), delivering at most `limit` tokens, the oldest.
    ///
    /// ```
    /// use conflux::notify::{event_channel, Events, Token};
    ///
    /// let (sender, receiver) = event_channel(4);
    /// let mut events = Events::with_capacity(4);
    /// for i in 0..4 {
    ///     sender.notify(Token::new(i))?;
    /// }
    /// receiver.try_recv_limit(&mut events, 3).unwrap();
    /// assert_eq!(events.len(), 3);
    /// # Ok::<(), conflux::notify::NotifyError>(())
    /// ```
    pub fn try_recv_limit(&self, events: &mut Events, limit: usize) -> Result<(), TryRecvError> {
        match self.receive_once(events, limit.max(1)) {
            Some(Received::Tokens) => Ok(()),
            Some(Received::Ended) => Err(TryRecvError::Disconnected),
            None => Err(TryRecvError::Empty),
        }
    }

    /// Waits until at least one token is pending, then delivers every pending token.
    ///
    /// Waits in three phases: a poll, a spin whose length the receiver's
    /// [`WaitStrategy`] decides (by default learnt from past waits: up to 50 microseconds
    /// while spinning pays off, none while the thread is being descheduled or waits turn out
    /// long), then the thread parks (an idle receiver burns no CPU) until a notify or the last
    /// sender's drop wakes it.
    ///
    /// # Errors
    ///
    /// [`RecvError`] once nothing is pending and every sender is gone.
    ///
    /// ```
    /// use conflux::notify::{event_channel, Events, Token};
    ///
    /// let (sender, receiver) = event_channel(4);
    /// std::thread::spawn(move || sender.notify(Token::new(1)).unwrap());
    /// let mut events = Events::with_capacity(4);
    /// receiver.recv(&mut events).unwrap();
    /// assert_eq!(events.as_slice(), &[Token::new(1)]);
    /// ```
    pub fn recv(&self, events: &mut Events) -> Result<(), RecvError> {
        self.recv_limit(events, usize::MAX)
    }

    /// Like [`recv`](Receiver::recv), delivering at most `limit` tokens, the oldest.
    ///
    /// ```
    /// use conflux::notify::{event_channel, Events, Token};
    ///
    /// let (sender, receiver) = event_channel(4);
    /// sender.notify(Token::new(0))?;
    /// sender.notify(Token::new(1))?;
    /// let mut events = Events::with_capacity(4);
    /// receiver.recv_limit(&mut events, 1).unwrap();
    /// assert_eq!(events.as_slice(), &[Token::new(0)]);
    /// # Ok::<(), conflux::notify::NotifyError>(())
    /// ```
    pub fn recv_limit(&self, events: &mut Events, limit: usize) -> Result<(), RecvError> {
        match self.block(events, limit, None) {
            Some(Received::Tokens) => Ok(()),
            _ => Err(RecvError),
        }
    }

    /// Like [`recv`](Receiver::recv), giving up after `timeout`.
    ///
    /// # Errors
    ///
    /// [`RecvTimeoutError::Timeout`] when the time ran out with nothing pending (never
    /// earlier), [`RecvTimeoutError::Disconnected`] when nothing is pending and every sender
    /// is gone.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use conflux::notify::{event_channel, Events, RecvTimeoutError};
    ///
    /// let (_sender, receiver) = event_channel(4);
    /// let start = Instant::now();
    /// let result = receiver.recv_timeout(&mut Events::with_capacity(4), Duration::from_millis(20));
    /// assert_eq!(result, Err(RecvTimeoutError::Timeout));
    /// assert!(start.elapsed() >= Duration::from_millis(20));
    /// ```
    pub fn recv_timeout(
        &self,
        events: &mut Events,
        timeout: Duration,
    ) -> Result<(), RecvTimeoutError> {
        self.recv_timeout_limit(events, usize::MAX, timeout)
    }

    /// Like [`recv_timeout`](Receiver::recv_timeout), delivering at most `limit` tokens.
    ///
    /// ```
    /// use std::time::Duration;
    /// use conflux::notify::{event_channel, Events, Token};
    ///
    /// let (sender, receiver) = event_channel(4);
    /// sender.notify(Token::new(2))?;
    /// sender.notify(Token::new(3))?;
    /// let mut events = Events::with_capacity(4);
    /// receiver.recv_timeout_limit(&mut events, 1, Duration::from_secs(1)).unwrap();
    /// assert_eq!(events.as_slice(), &[Token::new(2)]);
    /// # Ok::<(), conflux::notify::NotifyError>(())
    /// ```
    pub fn recv_timeout_limit(
        &self,
        events: &mut Events,
        limit: usize,
        timeout: Duration,
    ) -> Result<(), RecvTimeoutError> {
        match Instant::now().checked_add(timeout) {
            Some(deadline) => self.recv_deadline_limit(events, limit, deadline),
            // A timeout too far in the future to represent is no timeout at all.
            None => Ok(self.recv_limit(events, limit)?),
        }
    }

    /// Like [`recv`](Receiver::recv), giving up at `deadline`.
    ///
    /// # Errors
    ///
    /// As [`recv_timeout`](Receiver::recv_timeout).
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use conflux::notify::{event_channel, Events, Token};
    ///
    /// let (sender, receiver) = event_channel(4);
    /// sender.notify(Token::new(1))?;
    /// let deadline = Instant::now() + Duration::from_secs(1);
    /// receiver.recv_deadline(&mut Events::with_capacity(4), deadline).unwrap();
    /// # Ok::<(), conflux::notify::NotifyError>(())
    /// ```
    pub fn recv_deadline(
        &self,
        events: &mut Events,
        deadline: Instant,
    ) -> Result<(), RecvTimeoutError> {
        self.recv_deadline_limit(events, usize::MAX, deadline)
    }

    fn recv_deadline_limit(
        &self,
        events: &mut Events,
        limit: usize,
        deadline: Instant,
    ) -> Result<(), RecvTimeoutError> {
        match self.block(events, limit, Some(deadline)) {
            Some(Received::Tokens) => Ok(()),
            Some(Received::Ended) => Err(RecvTimeoutError::Disconnected),
            None => Err(RecvTimeoutError::Timeout),
        }
    }

    /// Waits without blocking the thread, for async code on any executor; resolves like
    /// [`recv_limit`](Receiver::recv_limit).
    ///
    /// Cancel-safe: `events` is only filled when the future resolves, so dropping it early
    /// loses nothing; the tokens stay pending for the next receive.
    ///
    /// It takes `&mut self`, so the future is `Send` (it runs inside `tokio::spawn` on a
    /// multi-thread runtime) and exactly one task can wait on the receiver at a time: two tasks
    /// sharing one receiver would otherwise fight over its single waker slot.
    ///
    /// ```
    /// use conflux::notify::{event_channel, Events, Token};
    ///
    /// # let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).build().unwrap();
    /// # rt.block_on(async {
    /// let (sender, mut receiver) = event_channel(16);
    /// let task = tokio::spawn(async move {
    ///     let mut events = Events::with_capacity(16);
    ///     receiver.recv_async(&mut events, 16).await.unwrap();
    ///     events.as_slice().to_vec()
    /// });
    /// sender.notify(Token::new(8)).unwrap();
    /// assert_eq!(task.await.unwrap(), [Token::new(8)]);
    /// # });
    /// ```
    ///
    /// A shared receiver cannot wait:
    ///
    /// ```compile_fail
    /// # use conflux::notify::{event_channel, Events};
    /// let (_sender, receiver) = event_channel(4);
    /// let shared = &receiver;
    /// let mut events = Events::with_capacity(4);
    /// let _ = shared.recv_async(&mut events, 4); // needs `&mut Receiver`
    /// ```
    pub async fn recv_async(&mut self, events: &mut Events, limit: usize) -> Result<(), RecvError> {
        poll_fn(|cx| self.poll_recv(cx, events, limit)).await
    }

    /// The poll behind [`recv_async`](Receiver::recv_async), for hand-written futures:
    /// `Pending` registers `cx`'s waker, which the next notify (or the last sender's drop)
    /// wakes.
    ///
    /// ```
    /// use std::task::{Context, Poll, Waker};
    /// use conflux::notify::{event_channel, Events, Token};
    ///
    /// let (sender, mut receiver) = event_channel(4);
    /// let mut events = Events::with_capacity(4);
    /// let mut cx = Context::from_waker(Waker::noop());
    /// assert!(receiver.poll_recv(&mut cx, &mut events, 4).is_pending());
    /// sender.notify(Token::new(0)).unwrap();
    /// assert_eq!(receiver.poll_recv(&mut cx, &mut events, 4), Poll::Ready(Ok(())));
    /// ```
    pub fn poll_recv(
        &mut self,
        cx: &mut Context<'_>,
        events: &mut Events,
        limit: usize,
    ) -> Poll<Result<(), RecvError>> {
        let mut receiving = self.receiving(events, limit);
        wait::poll(&mut receiving, cx).map(|delivered| match delivered {
            Received::Tokens => Ok(()),
            Received::Ended => Err(RecvError),
        })
    }

    /// The number of tokens: valid tokens are `0..capacity()`.
    ///
    /// ```
    /// let (_sender, receiver) = conflux::notify::event_channel(16);
    /// assert_eq!(receiver.capacity(), 16);
    /// ```
    pub fn capacity(&self) -> usize {
        self.consumer.capacity()
    }

    /// Whether no token can become pending any more: every [`Sender`] has been dropped, or
    /// this receiver called [`close`](Receiver::close). Pending tokens can still be received.
    ///
    /// ```
    /// let (sender, receiver) = conflux::notify::event_channel(1);
    /// drop(sender);
    /// assert!(receiver.is_disconnected());
    /// ```
    pub fn is_disconnected(&self) -> bool {
        self.end.is_some() || self.consumer.is_disconnected()
    }

    /// Stops intake and keeps what is pending for this receiver.
    ///
    /// Every later notify answers [`NotifyError::Closed`] and
    /// [`Sender::is_closed`] turns true; senders awaiting [`Sender::closed`] wake up. Tokens
    /// pending before the close are still delivered, oldest first; once they are, receives
    /// report disconnection ([`RecvError`], [`TryRecvError::Disconnected`], the stream's
    /// end). A notify racing the close answers `Closed`, or `Ok` and its token is delivered
    /// (rarely `Closed` with the token delivered all the same, see the module docs). Calling
    /// it again does nothing.
    ///
    /// ```
    /// use conflux::notify::{event_channel, Events, NotifyError, Token, TryRecvError};
    ///
    /// let (sender, mut receiver) = event_channel(4);
    /// sender.notify(Token::new(2))?;
    /// receiver.close();
    /// assert_eq!(sender.notify(Token::new(3)), Err(NotifyError::Closed { token: Token::new(3) }));
    /// assert!(sender.is_closed());
    /// let mut events = Events::with_capacity(4);
    /// assert_eq!(receiver.try_recv(&mut events), Ok(()));
    /// assert_eq!(events.as_slice(), &[Token::new(2)]);
    /// assert_eq!(receiver.try_recv(&mut events), Err(TryRecvError::Disconnected));
    /// # Ok::<(), NotifyError>(())
    /// ```
    pub fn close(&mut self) {
        if self.end.is_some() {
            return;
        }
        // Relaxed: published by the RMW below (Release), which every later claim acquires.
        self.lifecycle.closed.store(true, Ordering::Relaxed);
        let (_, tail) = self.consumer.waiter();
        // Release: hands the flag to every claim after this RMW in the tail word's order (the
        // claims acquire). Only the position is read, no data. Adding 0 claims nothing and
        // touches no bit.
        let seen = tail.fetch_add(0, Ordering::Release);
        self.end = Some(waiter::position_of(seen));
        self.lifecycle.signal.close();
    }

    /// One receive attempt, as `TokenConsumer::try_receive`, that after `close` delivers
    /// only positions below the end and then reports disconnection.
    #[inline]
    fn receive_once(&self, events: &mut Events, limit: usize) -> Option<Received> {
        let Some(end) = self.end else {
            return self.consumer.try_receive(events, limit);
        };
        let below_end = end.wrapping_sub(self.consumer.head()) & POSITION_MASK;
        // Tokens a partial drain left count toward the limit: allow them on top.
        let limit = limit.min(events.carried_over().saturating_add(below_end));
        self.consumer.poll(events, limit);
        if !events.is_empty() {
            Some(Received::Tokens)
        } else if self.consumer.head() == end {
            Some(Received::Ended)
        } else {
            // A notify that claimed a position before the close is still writing it.
            None
        }
    }

    /// The blocking receive, through the wait layer's one blocking loop; `None`: timed out.
    fn block(
        &self,
        events: &mut Events,
        limit: usize,
        deadline: Option<Instant>,
    ) -> Option<Received> {
        wait::block(&mut self.receiving(events, limit), &self.wait, deadline)
    }

    fn receiving<'a>(&'a self, events: &'a mut Events, limit: usize) -> Receiving<'a> {
        Receiving {
            receiver: self,
            events,
            limit: limit.max(1),
        }
    }
}

/// The event channel's receive as the wait layer sees it. Tokens are conflated and few: no
/// run to look ahead for, and nothing the tail word does not show.
struct Receiving<'a> {
    receiver: &'a Receiver,
    events: &'a mut Events,
    limit: usize,
}

impl Receive for Receiving<'_> {
    type Output = Received;

    #[inline]
    fn attempt(&mut self) -> Option<Received> {
        self.receiver.receive_once(self.events, self.limit)
    }

    fn waiter(&self) -> &Waiter {
        self.receiver.consumer.waiter().0
    }

    fn tail(&self) -> &AtomicUsize {
        self.receiver.consumer.waiter().1
    }

    fn head(&self) -> usize {
        self.receiver.consumer.head()
    }
}

/// The receiver as a stream of tokens: conflated, oldest first, one token per item; it ends
/// (`None`) once every [`Sender`] is gone and everything pending was delivered.
///
/// **No token is held back.** Each `poll_next` takes exactly one token from the queue and
/// returns it, so between items the stream buffers nothing: mixing the stream with
/// [`try_recv`](Receiver::try_recv) or any other receive neither loses, duplicates nor
/// reorders a token. The price is that each item clears its own pending bit (one RMW per token,
/// where a batched receive shares one per flag word); when throughput matters more than the
/// `Stream` interface, use [`recv_async`](Receiver::recv_async) with a budget.
///
/// Like [`recv_async`](Receiver::recv_async), polling needs `&mut` (here `Pin<&mut Self>`;
/// the receiver is `Unpin`), so the stream can move into `tokio::spawn` on a multi-thread
/// runtime. After the end, it keeps returning `None`.
///
/// ```
/// use std::pin::Pin;
/// use futures_core::Stream;
/// use conflux::notify::{event_channel, Token};
///
/// # let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
/// # rt.block_on(async {
/// let (sender, mut receiver) = event_channel(8);
/// let consumer = tokio::spawn(async move {
///     let mut seen = Vec::new();
///     // `StreamExt::next` from futures or tokio-stream does the same.
///     while let Some(token) =
///         std::future::poll_fn(|cx| Pin::new(&mut receiver).poll_next(cx)).await
///     {
///         seen.push(token.index());
///     }
///     seen
/// });
/// for i in [5, 1, 5] {
///     sender.notify(Token::new(i)).unwrap();
/// }
/// drop(sender); // the stream ends once 5 and 1 (and perhaps 5 again) are delivered
/// let seen = consumer.await.unwrap();
/// assert!(seen == [5, 1] || seen == [5, 1, 5]);
/// # });
/// ```
impl futures_core::Stream for Receiver {
    type Item = Token;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Token>> {
        let this = self.get_mut();
        // The common case, a token waiting: one slot read and one clear, no buffer. After
        // `close`, only below the end.
        if this.end != Some(this.consumer.head()) {
            if let Some(token) = this.consumer.take_one() {
                return Poll::Ready(Some(token));
            }
        }
        // Otherwise the full receive: disconnection, waker registration, the re-check.
        let mut slot = std::mem::take(&mut this.stream_slot);
        let result = match this.poll_recv(cx, &mut slot, 1) {
            // `Ok` with a limit of 1: exactly one token.
            Poll::Ready(Ok(())) => Poll::Ready(slot.as_slice().first().copied()),
            Poll::Ready(Err(RecvError)) => {
                this.terminated = true;
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        };
        slot.clear();
        this.stream_slot = slot;
        result
    }
}

/// The stream is fused: once it has returned `None` (every sender gone, or
/// [`close`](Receiver::close) called, and everything pending delivered), [`is_terminated`] is
/// true, so it can sit in a `futures::select!` loop.
///
/// [`is_terminated`]: futures_core::FusedStream::is_terminated
///
/// ```
/// use std::pin::Pin;
/// use futures_core::{FusedStream, Stream};
/// use conflux::notify::{event_channel, Token};
///
/// // `StreamExt::next` from futures or tokio-stream does the same.
/// async fn next<S: Stream + Unpin>(stream: &mut S) -> Option<S::Item> {
///     std::future::poll_fn(|cx| Pin::new(&mut *stream).poll_next(cx)).await
/// }
///
/// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// # rt.block_on(async {
/// let (sender, mut receiver) = event_channel(4);
/// sender.notify(Token::new(1)).unwrap();
/// receiver.close();
/// assert_eq!(next(&mut receiver).await, Some(Token::new(1)));
/// assert_eq!(next(&mut receiver).await, None);
/// assert!(receiver.is_terminated());
/// # });
/// ```
impl futures_core::FusedStream for Receiver {
    fn is_terminated(&self) -> bool {
        self.terminated
    }
}

/// The receiver's share of the lifecycle; its drop (after the token queue's, see
/// `Receiver::consumer`) wakes the senders awaiting `closed()`.
struct WakeClosedOnDrop(Arc<Lifecycle>);

impl std::ops::Deref for WakeClosedOnDrop {
    type Target = Lifecycle;

    fn deref(&self) -> &Lifecycle {
        &self.0
    }
}

impl Drop for WakeClosedOnDrop {
    fn drop(&mut self) {
        self.0.signal.close();
    }
}

impl fmt::Debug for Receiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("capacity", &self.capacity())
            .field("disconnected", &self.is_disconnected())
            .finish()
    }
}

/// The wait strategy knob (see [`WaitStrategy`]).
impl Receiver {
    /// How this receiver's blocking receives wait: [`WaitStrategy::Adaptive`] unless set.
    ///
    /// ```
    /// use conflux::WaitStrategy;
    ///
    /// let (_sender, receiver) = conflux::notify::event_channel(4);
    /// assert_eq!(receiver.wait_strategy(), WaitStrategy::Adaptive);
    /// ```
    pub fn wait_strategy(&self) -> WaitStrategy {
        self.wait.strategy()
    }

    /// Sets how this receiver's blocking receives wait; see [`WaitStrategy`] for when to
    /// choose which. Async receives never spin, whatever the strategy.
    ///
    /// ```
    /// use std::time::Duration;
    /// use conflux::notify::{event_channel, Events, RecvTimeoutError};
    /// use conflux::WaitStrategy;
    ///
    /// let (_sender, mut receiver) = event_channel(4);
    /// receiver.set_wait_strategy(WaitStrategy::Spin(Duration::from_micros(5)));
    /// let mut events = Events::with_capacity(4);
    /// let waited = receiver.recv_timeout(&mut events, Duration::from_millis(1));
    /// assert_eq!(waited, Err(RecvTimeoutError::Timeout));
    /// ```
    pub fn set_wait_strategy(&mut self, strategy: WaitStrategy) {
        self.wait.set_strategy(strategy);
    }
}
