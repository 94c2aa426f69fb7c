//! [`LocalNotify`]: the same conflating FIFO rules inside one thread, with no atomics.

use std::collections::VecDeque;
use std::fmt;

use super::{Events, NotifyError, Token};

/// A single-threaded "dirty set" with FIFO order: mark tokens, then poll them, each once,
/// oldest first. The same rules as [`event_queue`](super::event_queue) (conflation, FIFO by
/// first mark, re-arming, `poll_limit` in O(delivered)) with `&mut self` and plain memory, for
/// bookkeeping inside the event loop itself.
///
/// # Examples
///
/// ```
/// use conflux::notify::{Events, LocalNotify, Token};
///
/// let mut dirty = LocalNotify::with_capacity(16);
/// let mut events = Events::with_capacity(16);
/// dirty.mark(Token::new(9))?;
/// dirty.mark(Token::new(4))?;
/// dirty.mark(Token::new(9))?; // already pending: conflated
/// dirty.poll(&mut events);
/// assert_eq!(events.as_slice(), &[Token::new(9), Token::new(4)]);
/// # Ok::<(), conflux::notify::NotifyError>(())
/// ```
pub struct LocalNotify {
    capacity: usize,
    pending: Vec<u64>,
    order: VecDeque<u32>,
}

impl LocalNotify {
    /// Makes an empty set for tokens `0..capacity`; it never allocates again.
    ///
    /// # Panics
    ///
    /// If `capacity` is 0 or above the limit of [`event_queue`](super::event_queue).
    ///
    /// ```
    /// let dirty = conflux::notify::LocalNotify::with_capacity(128);
    /// assert_eq!(dirty.capacity(), 128);
    /// ```
    #[track_caller]
    pub fn with_capacity(capacity: usize) -> LocalNotify {
        let max = crate::core::token_queue::MAX_CAPACITY;
        assert!(
            capacity > 0,
            "the capacity of a notify queue must be non-zero"
        );
        assert!(
            capacity <= max,
            "a notify queue holds at most {max} tokens, {capacity} were asked for"
        );
        let what = "a LocalNotify";
        let mut order = VecDeque::new();
        if order.try_reserve_exact(capacity).is_err() {
            panic!("cannot allocate {what} for {capacity} tokens");
        }
        LocalNotify {
            capacity,
            pending: crate::core::alloc::boxed_slice(what, capacity.div_ceil(64), |_| 0).into(),
            order,
        }
    }

    /// Makes `token` pending unless it already is.
    ///
    /// # Errors
    ///
    /// [`NotifyError::OutOfRange`] if `token.index() >= capacity()`; nothing changes.
    ///
    /// ```
    /// use conflux::notify::{LocalNotify, NotifyError, Token};
    ///
    /// let mut dirty = LocalNotify::with_capacity(2);
    /// dirty.mark(Token::new(1))?;
    /// assert!(matches!(dirty.mark(Token::new(2)), Err(NotifyError::OutOfRange { .. })));
    /// # Ok::<(), NotifyError>(())
    /// ```
    #[inline]
    pub fn mark(&mut self, token: Token) -> Result<(), NotifyError> {
        let index = token.index();
        if index >= self.capacity {
            return Err(NotifyError::OutOfRange {
                token,
                capacity: self.capacity,
            });
        }
        let (word, bit) = (index / 64, 1u64 << (index % 64));
        if self.pending[word] & bit == 0 {
            self.pending[word] |= bit;
            self.order.push_back(index as u32);
        }
        Ok(())
    }

    /// Whether `token` is pending (out-of-range tokens never are).
    ///
    /// ```
    /// use conflux::notify::{LocalNotify, Token};
    ///
    /// let mut dirty = LocalNotify::with_capacity(4);
    /// dirty.mark(Token::new(3))?;
    /// assert!(dirty.is_marked(Token::new(3)));
    /// assert!(!dirty.is_marked(Token::new(2)));
    /// # Ok::<(), conflux::notify::NotifyError>(())
    /// ```
    pub fn is_marked(&self, token: Token) -> bool {
        let index = token.index();
        index < self.capacity && self.pending[index / 64] & (1 << (index % 64)) != 0
    }

    /// How many tokens are pending.
    ///
    /// ```
    /// use conflux::notify::{LocalNotify, Token};
    ///
    /// let mut dirty = LocalNotify::with_capacity(4);
    /// dirty.mark(Token::new(0))?;
    /// dirty.mark(Token::new(0))?;
    /// assert_eq!(dirty.len(), 1);
    /// # Ok::<(), conflux::notify::NotifyError>(())
    /// ```
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether no token is pending.
    ///
    /// ```
    /// assert!(conflux::notify::LocalNotify::with_capacity(1).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The number of tokens: valid tokens are `0..capacity()`.
    ///
    /// ```
    /// assert_eq!(conflux::notify::LocalNotify::with_capacity(9).capacity(), 9);
    /// ```
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Clears `events`, then fills it with every pending token, oldest first. Tokens a partial
    /// [`Events::drain`] left are kept in front instead of cleared (see [`Events`]).
    ///
    /// ```
    /// use conflux::notify::{Events, LocalNotify, Token};
    ///
    /// let mut dirty = LocalNotify::with_capacity(4);
    /// let mut events = Events::with_capacity(4);
    /// dirty.mark(Token::new(2))?;
    /// dirty.poll(&mut events);
    /// assert_eq!(events.as_slice(), &[Token::new(2)]);
    /// assert!(dirty.is_empty());
    /// # Ok::<(), conflux::notify::NotifyError>(())
    /// ```
    pub fn poll(&mut self, events: &mut Events) {
        self.poll_limit(events, usize::MAX);
    }

    /// Like [`poll`](LocalNotify::poll), delivering at most `limit` tokens, the oldest.
    ///
    /// ```
    /// use conflux::notify::{Events, LocalNotify, Token};
    ///
    /// let mut dirty = LocalNotify::with_capacity(4);
    /// let mut events = Events::with_capacity(4);
    /// for i in 0..4 {
    ///     dirty.mark(Token::new(i))?;
    /// }
    /// dirty.poll_limit(&mut events, 3);
    /// assert_eq!(events.len(), 3);
    /// assert_eq!(dirty.len(), 1);
    /// # Ok::<(), conflux::notify::NotifyError>(())
    /// ```
    pub fn poll_limit(&mut self, events: &mut Events, limit: usize) {
        let limit = events.start_poll(limit);
        let take = limit.min(self.order.len());
        for index in self.order.drain(..take) {
            let index = index as usize;
            self.pending[index / 64] &= !(1 << (index % 64));
            events.push(Token::new(index));
        }
    }
}

impl fmt::Debug for LocalNotify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalNotify")
            .field("capacity", &self.capacity)
            .field("pending", &self.order)
            .finish()
    }
}
