//! [`event_queue`]: the non-blocking conflating FIFO queue, for consumers that poll.

use std::fmt;

use super::{Events, NotifyError, Token};
use crate::core::token_queue::{self, TokenConsumer, TokenProducer};
use crate::core::wake_hook::WakeHook;

/// Makes a queue for tokens `0..max_tokens`: any number of [`Notifier`]s, one [`Poller`].
///
/// Memory is fixed at creation: about 9 bytes per token (a ring of token indices, 8 bytes a
/// slot, sized to the next power of two, plus one byte of pending flags per token).
///
/// # Panics
///
/// If `max_tokens` is 0, or above 2<sup>31</sup> (2<sup>27</sup> on 32-bit targets), or if its
/// memory cannot be allocated; the message names the limit or the capacity asked for, and the
/// panic points at the caller's line.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use std::sync::Arc;
/// use conflux::notify::{event_queue, Events, Token};
///
/// // The data lives in the user's storage; the queue only says which slot changed.
/// let prices: Arc<Vec<AtomicU64>> = Arc::new((0..4).map(|_| AtomicU64::new(0)).collect());
/// let (notifier, poller) = event_queue(4);
///
/// let writer = {
///     let prices = Arc::clone(&prices);
///     std::thread::spawn(move || {
///         for price in 1..=100 {
///             prices[2].store(price, Ordering::Relaxed);
///             notifier.notify(Token::new(2)).unwrap(); // conflates while pending
///         }
///     })
/// };
/// writer.join().unwrap();
///
/// let mut events = Events::with_capacity(4);
/// poller.poll(&mut events);
/// assert_eq!(events.as_slice(), &[Token::new(2)]); // once, however often it was notified
/// assert_eq!(prices[2].load(Ordering::Relaxed), 100); // and the newest value is visible
/// ```
#[track_caller]
pub fn event_queue(max_tokens: usize) -> (Notifier, Poller) {
    let (producer, consumer) = token_queue::token_queue(max_tokens);
    (Notifier { producer }, Poller { consumer })
}

/// Like [`event_queue`], for an event loop that sleeps in its own primitive (epoll, mio,
/// io_uring, a GUI loop): a notify can wake it by calling `wake`, once per [`Poller::arm`].
///
/// Before it sleeps, the loop calls [`arm`](Poller::arm). `false` means tokens are pending:
/// poll instead of sleeping. `true` means the first notify that makes a token pending
/// afterwards calls `wake` exactly once (after publishing the token); no notify calls it again
/// until the loop arms again. A loop that arms before every sleep never sleeps through a
/// notify, and while it is busy (not armed) notifies cost what [`event_queue`]'s cost: no
/// system call, no extra atomic operation. Dropping the last [`Notifier`] also wakes an armed
/// loop, once, so it can see [`Poller::is_disconnected`].
///
/// `wake` runs on the notifying thread, inside [`Notifier::notify`] (or inside the last
/// `Notifier`'s drop): keep it short and non-blocking, like `mio::Waker::wake` or an
/// `eventfd` write. If it panics, the panic unwinds out of that `notify`; the token stays
/// pending (the next poll delivers it and the next `arm` returns `false`), only that one
/// wake-up is lost. A panic from the last `Notifier`'s drop while already unwinding aborts, as
/// any panicking destructor does.
///
/// # Panics
///
/// As [`event_queue`].
///
/// # Examples
///
/// A loop that sleeps on a condition variable, standing in for `epoll_wait`:
///
/// ```
/// use std::sync::{Arc, Condvar, Mutex};
/// use conflux::notify::{event_queue_with_waker, Events, Token};
///
/// let bell = Arc::new((Mutex::new(false), Condvar::new()));
/// let ring = Arc::clone(&bell);
/// let (notifier, poller) = event_queue_with_waker(64, move || {
///     *ring.0.lock().unwrap() = true;
///     ring.1.notify_one();
/// });
///
/// let producer = std::thread::spawn(move || {
///     for i in 0..10 {
///         notifier.notify(Token::new(i)).unwrap();
///     }
/// });
///
/// let mut events = Events::with_capacity(64);
/// let mut seen = 0;
/// while seen < 10 {
///     poller.poll(&mut events);
///     seen += events.len();
///     if events.is_empty() && poller.arm() {
///         // Armed with nothing pending: sleep until the hook rings.
///         let mut rung = bell.0.lock().unwrap();
///         while !*rung {
///             rung = bell.1.wait(rung).unwrap();
///         }
///         *rung = false;
///     }
/// }
/// producer.join().unwrap();
/// ```
#[track_caller]
pub fn event_queue_with_waker(
    max_tokens: usize,
    wake: impl Fn() + Send + Sync + 'static,
) -> (Notifier, Poller) {
    let (producer, consumer) =
        token_queue::token_queue_with_hook(max_tokens, Some(WakeHook::new(wake)));
    (Notifier { producer }, Poller { consumer })
}

/// Marks tokens ready. Clone it for every producer thread; it is `Send + Sync`.
///
/// Dropping the last `Notifier` makes [`Poller::is_disconnected`] true.
///
/// # Examples
///
/// ```
/// use conflux::notify::{event_queue, Token};
///
/// let (notifier, _poller) = event_queue(8);
/// let handles: Vec<_> = (0..4)
///     .map(|i| {
///         let notifier = notifier.clone();
///         std::thread::spawn(move || notifier.notify(Token::new(i)).unwrap())
///     })
///     .collect();
/// handles.into_iter().for_each(|h| h.join().unwrap());
/// ```
#[derive(Clone)]
pub struct Notifier {
    producer: TokenProducer,
}

impl Notifier {
    /// Makes `token` pending, unless it already is (then this notify is conflated into the
    /// pending delivery, which also publishes the caller's writes).
    ///
    /// Everything the calling thread wrote before `notify` returned is visible to the consumer
    /// once a poll has delivered `token`. Lock-free; never allocates, never blocks.
    ///
    /// # Errors
    ///
    /// [`NotifyError::OutOfRange`] if `token.index() >= capacity()` (in every build profile),
    /// [`NotifyError::Closed`] once the [`Poller`] is gone. Nothing changes in either case.
    ///
    /// # Examples
    ///
    /// ```
    /// use conflux::notify::{event_queue, Events, NotifyError, Token};
    ///
    /// let (notifier, poller) = event_queue(2);
    /// notifier.notify(Token::new(1))?;
    /// notifier.notify(Token::new(1))?; // conflated
    /// assert!(matches!(notifier.notify(Token::new(2)), Err(NotifyError::OutOfRange { .. })));
    ///
    /// let mut events = Events::with_capacity(2);
    /// poller.poll(&mut events);
    /// assert_eq!(events.len(), 1);
    /// # Ok::<(), NotifyError>(())
    /// ```
    #[inline]
    pub fn notify(&self, token: Token) -> Result<(), NotifyError> {
        self.producer.notify(token).map_err(NotifyError::from)
    }

    /// Notifies every token of `tokens`, in order, as `notify` would one by one, but claims
    /// queue positions for all the newly pending ones together (one atomic claim per up to 64
    /// of them) and wakes the consumer (or calls the wake hook) at most once per claim.
    ///
    /// Tokens already pending are conflated as usual (and their writes published); a token
    /// that appears twice is pending at its second occurrence, so it is delivered once.
    ///
    /// # Errors
    ///
    /// Stops at the first token that is out of range ([`NotifyError::OutOfRange`]) or finds
    /// the queue closed ([`NotifyError::Closed`]) and returns that error: the tokens before it
    /// were notified, the ones from it on were not.
    ///
    /// ```
    /// use conflux::notify::{event_queue, Events, NotifyError, Token};
    ///
    /// let (notifier, poller) = event_queue(8);
    /// notifier.notify_many(&[Token::new(3), Token::new(1), Token::new(3)])?;
    /// let bad = notifier.notify_many(&[Token::new(5), Token::new(9), Token::new(6)]);
    /// assert_eq!(bad, Err(NotifyError::OutOfRange { token: Token::new(9), capacity: 8 }));
    ///
    /// let mut events = Events::with_capacity(8);
    /// poller.poll(&mut events);
    /// assert_eq!(events.as_slice(), &[Token::new(3), Token::new(1), Token::new(5)]);
    /// # Ok::<(), NotifyError>(())
    /// ```
    #[inline]
    pub fn notify_many(&self, tokens: &[Token]) -> Result<(), NotifyError> {
        self.producer.notify_many(tokens).map_err(NotifyError::from)
    }

    /// The number of tokens: valid tokens are `0..capacity()`.
    ///
    /// ```
    /// let (notifier, _poller) = conflux::notify::event_queue(100);
    /// assert_eq!(notifier.capacity(), 100);
    /// ```
    pub fn capacity(&self) -> usize {
        self.producer.capacity()
    }

    /// Whether the [`Poller`] has been dropped (then every notify fails with `Closed`).
    ///
    /// ```
    /// let (notifier, poller) = conflux::notify::event_queue(1);
    /// assert!(!notifier.is_closed());
    /// drop(poller);
    /// assert!(notifier.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.producer.is_closed()
    }
}

impl fmt::Debug for Notifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notifier")
            .field("capacity", &self.capacity())
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// Learns which tokens fired, each once per poll, oldest first. Exactly one exists per queue:
/// it is `Send` but neither `Clone` nor `Sync`.
///
/// Dropping it closes the queue: later notifies return [`NotifyError::Closed`].
///
/// # Examples
///
/// ```
/// use conflux::notify::{event_queue, Events, Token};
///
/// let (notifier, poller) = event_queue(1024);
/// let mut events = Events::with_capacity(1024);
/// notifier.notify(Token::new(7))?;
///
/// poller.poll(&mut events);
/// for token in &events {
///     assert_eq!(token.index(), 7); // look up slot 7 in your own storage
/// }
/// # Ok::<(), conflux::notify::NotifyError>(())
/// ```
pub struct Poller {
    consumer: TokenConsumer,
}

impl Poller {
    /// Clears `events`, then fills it with every pending token, oldest first. Tokens a partial
    /// [`Events::drain`] left are kept in front instead of cleared (see [`Events`]).
    ///
    /// Each delivered token stops being pending: a later notify makes it pending again.
    /// Never blocks; an empty queue costs one load.
    ///
    /// ```
    /// use conflux::notify::{event_queue, Events, Token};
    ///
    /// let (notifier, poller) = event_queue(8);
    /// let mut events = Events::with_capacity(8);
    /// notifier.notify(Token::new(5))?;
    /// poller.poll(&mut events);
    /// assert_eq!(events.as_slice(), &[Token::new(5)]);
    /// notifier.notify(Token::new(5))?; // re-armed
    /// poller.poll(&mut events);
    /// assert_eq!(events.as_slice(), &[Token::new(5)]);
    /// # Ok::<(), conflux::notify::NotifyError>(())
    /// ```
    #[inline]
    pub fn poll(&self, events: &mut Events) {
        self.consumer.poll(events, usize::MAX);
    }

    /// Like [`poll`](Poller::poll), but delivers at most `limit` tokens, the oldest; the rest
    /// stay pending, in order, for later polls. Costs O(delivered), never O(capacity).
    /// A `limit` of 0 only clears `events`. Tokens a partial [`Events::drain`] left count
    /// toward `limit`: `events` ends with at most `limit` tokens.
    ///
    /// ```
    /// use conflux::notify::{event_queue, Events, Token};
    ///
    /// let (notifier, poller) = event_queue(8);
    /// let mut events = Events::with_capacity(8);
    /// for i in 0..5 {
    ///     notifier.notify(Token::new(i))?;
    /// }
    /// poller.poll_limit(&mut events, 2);
    /// assert_eq!(events.as_slice(), &[Token::new(0), Token::new(1)]);
    /// poller.poll(&mut events);
    /// assert_eq!(events.len(), 3);
    /// # Ok::<(), conflux::notify::NotifyError>(())
    /// ```
    #[inline]
    pub fn poll_limit(&self, events: &mut Events, limit: usize) {
        self.consumer.poll(events, limit);
    }

    /// Call before the loop sleeps: `false` if tokens are pending (poll instead of sleeping);
    /// `true` if none is, and then the first notify that makes a token pending calls the
    /// queue's `wake` hook, once (see [`event_queue_with_waker`]).
    ///
    /// "Pending" includes tokens a notify has claimed a place for but not finished publishing:
    /// a poll right after a `false` can come back empty while a producer is between those two
    /// steps, and `arm` keeps answering `false` until it is done, so re-poll rather than sleep.
    /// Tokens already delivered into an [`Events`] (a partial drain's leftovers) are the
    /// caller's, not the queue's: handle them before arming.
    ///
    /// The arm lasts until a notify (or the last [`Notifier`]'s drop) uses it: a loop that armed
    /// and then woke for another reason gets one extra `wake` from the next notify, and arming
    /// again while armed is `true` and changes nothing. Without a hook ([`event_queue`]), `arm`
    /// still answers whether tokens are pending and nothing is called. Costs one load when
    /// tokens are pending, one compare-exchange otherwise.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// use conflux::notify::{event_queue_with_waker, Events, Token};
    ///
    /// let wakes = Arc::new(AtomicUsize::new(0));
    /// let counter = Arc::clone(&wakes);
    /// let (notifier, poller) = event_queue_with_waker(8, move || {
    ///     counter.fetch_add(1, Ordering::Relaxed);
    /// });
    ///
    /// notifier.notify(Token::new(1))?; // not armed: no wake
    /// assert!(!poller.arm()); // token 1 is pending: poll, do not sleep
    /// let mut events = Events::with_capacity(8);
    /// poller.poll(&mut events);
    ///
    /// assert!(poller.arm()); // nothing pending: safe to sleep
    /// notifier.notify(Token::new(2))?; // wakes
    /// notifier.notify(Token::new(3))?; // already woken: no second wake
    /// assert_eq!(wakes.load(Ordering::Relaxed), 1);
    /// # Ok::<(), conflux::notify::NotifyError>(())
    /// ```
    pub fn arm(&self) -> bool {
        self.consumer.arm()
    }

    /// The number of tokens: valid tokens are `0..capacity()`.
    ///
    /// ```
    /// let (_notifier, poller) = conflux::notify::event_queue(64);
    /// assert_eq!(poller.capacity(), 64);
    /// ```
    pub fn capacity(&self) -> usize {
        self.consumer.capacity()
    }

    /// Whether every [`Notifier`] has been dropped. Tokens they made pending can still be
    /// polled.
    ///
    /// ```
    /// use conflux::notify::{event_queue, Events, Token};
    ///
    /// let (notifier, poller) = event_queue(4);
    /// notifier.notify(Token::new(1))?;
    /// drop(notifier);
    /// assert!(poller.is_disconnected());
    /// let mut events = Events::with_capacity(4);
    /// poller.poll(&mut events);
    /// assert_eq!(events.len(), 1);
    /// # Ok::<(), conflux::notify::NotifyError>(())
    /// ```
    pub fn is_disconnected(&self) -> bool {
        self.consumer.is_disconnected()
    }
}

impl fmt::Debug for Poller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Poller")
            .field("capacity", &self.capacity())
            .field("disconnected", &self.is_disconnected())
            .finish()
    }
}
