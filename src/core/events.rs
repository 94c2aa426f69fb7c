//! [`Events`]: the reusable buffer that polls and receives fill.

use std::fmt;

use super::token::Token;

/// A reusable buffer of delivered tokens, oldest first.
///
/// Allocate it once, outside the event loop, and hand it to every poll: each poll **clears
/// the buffer, then fills it**, and never allocates while [`capacity`](Events::capacity) is at
/// least the number of tokens it delivers.
///
/// **A partial [`drain`](Events::drain) is carried over.** Delivered tokens are no longer
/// pending, so a poll that cleared tokens a loop had not handled yet would lose them for good.
/// When a `drain` stops early (a budget spent, a `break`), the tokens it left stay in the buffer
/// and the next poll keeps them in front, oldest first, and appends what it delivers behind
/// them. A poll's `limit` counts the carried tokens: `poll_limit(events, 32)` leaves at most 32
/// tokens in the buffer, so a budgeted loop stays within its budget and a buffer sized to the
/// limit never allocates. A buffer read with [`iter`](Events::iter) or
/// [`as_slice`](Events::as_slice), or drained to the end, is replaced by the next poll (the mio
/// convention); [`clear`](Events::clear) discards carried tokens on purpose.
///
/// # Examples
///
/// ```
/// use conflux::notify::{event_queue, Events, Token};
///
/// let (notifier, poller) = event_queue(16);
/// let mut events = Events::with_capacity(16);
///
/// notifier.notify(Token::new(3))?;
/// notifier.notify(Token::new(1))?;
/// poller.poll(&mut events);
/// assert_eq!(events.as_slice(), &[Token::new(3), Token::new(1)]);
/// # Ok::<(), conflux::notify::NotifyError>(())
/// ```
#[derive(Default, Clone)]
pub struct Events {
    tokens: Vec<Token>,
    /// A `drain` stopped early: the next poll keeps `tokens` instead of clearing them.
    carry_over: bool,
}

impl Events {
    /// Makes an empty buffer with room for `capacity` tokens.
    ///
    /// Size it to the queue's capacity (or to the `limit` you poll with) and filling it never
    /// allocates.
    ///
    /// ```
    /// use conflux::notify::Events;
    ///
    /// let events = Events::with_capacity(1024);
    /// assert!(events.capacity() >= 1024);
    /// assert!(events.is_empty());
    /// ```
    ///
    /// # Panics
    ///
    /// If the memory for `capacity` tokens cannot be allocated; the message names `capacity`.
    #[track_caller]
    pub fn with_capacity(capacity: usize) -> Events {
        Events {
            tokens: crate::core::alloc::vec_with_capacity("an events buffer", capacity),
            carry_over: false,
        }
    }

    /// How many tokens the buffer holds.
    ///
    /// ```
    /// use conflux::notify::{event_queue, Events, Token};
    ///
    /// let (notifier, poller) = event_queue(4);
    /// let mut events = Events::with_capacity(4);
    /// notifier.notify(Token::new(0))?;
    /// poller.poll(&mut events);
    /// assert_eq!(events.len(), 1);
    /// # Ok::<(), conflux::notify::NotifyError>(())
    /// ```
    #[inline]
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Whether the buffer holds no token.
    ///
    /// ```
    /// use conflux::notify::Events;
    ///
    /// assert!(Events::default().is_empty());
    /// ```
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// How many tokens the buffer can hold without allocating.
    ///
    /// ```
    /// use conflux::notify::Events;
    ///
    /// assert!(Events::with_capacity(64).capacity() >= 64);
    /// ```
    #[inline]
    pub fn capacity(&self) -> usize {
        self.tokens.capacity()
    }

    /// Removes every token, keeping the allocation. Tokens a partial
    /// [`drain`](Events::drain) left are discarded too: they will not be delivered again.
    ///
    /// ```
    /// use conflux::notify::{event_queue, Events, Token};
    ///
    /// let (notifier, poller) = event_queue(4);
    /// let mut events = Events::with_capacity(4);
    /// notifier.notify(Token::new(2))?;
    /// poller.poll(&mut events);
    /// events.clear();
    /// assert!(events.is_empty());
    /// # Ok::<(), conflux::notify::NotifyError>(())
    /// ```
    #[inline]
    pub fn clear(&mut self) {
        self.tokens.clear();
        self.carry_over = false;
    }

    /// The tokens, oldest first.
    ///
    /// ```
    /// use conflux::notify::{LocalNotify, Events, Token};
    ///
    /// let mut dirty = LocalNotify::with_capacity(8);
    /// let mut events = Events::with_capacity(8);
    /// dirty.mark(Token::new(5))?;
    /// dirty.poll(&mut events);
    /// assert_eq!(events.as_slice(), &[Token::new(5)]);
    /// # Ok::<(), conflux::notify::NotifyError>(())
    /// ```
    #[inline]
    pub fn as_slice(&self) -> &[Token] {
        &self.tokens
    }

    /// Iterates over the tokens, oldest first, leaving them in the buffer.
    ///
    /// ```
    /// use conflux::notify::{event_queue, Events, Token};
    ///
    /// let (notifier, poller) = event_queue(8);
    /// let mut events = Events::with_capacity(8);
    /// for i in [4, 2, 6] {
    ///     notifier.notify(Token::new(i))?;
    /// }
    /// poller.poll(&mut events);
    /// let order: Vec<usize> = events.iter().map(Token::index).collect();
    /// assert_eq!(order, [4, 2, 6]);
    /// # Ok::<(), conflux::notify::NotifyError>(())
    /// ```
    #[inline]
    pub fn iter(&self) -> impl Iterator<Item = Token> + '_ {
        self.tokens.iter().copied()
    }

    /// Takes the tokens out, oldest first.
    ///
    /// Only the tokens the iterator actually yielded are removed: stopping early (a budget
    /// spent, an error) keeps the rest, still oldest first, and the next poll carries them over
    /// in front of the tokens it delivers, so nothing is lost.
    ///
    /// ```
    /// use conflux::notify::{event_queue, Events, Token};
    ///
    /// let (notifier, poller) = event_queue(8);
    /// let mut events = Events::with_capacity(8);
    /// for i in 0..4 {
    ///     notifier.notify(Token::new(i))?;
    /// }
    /// poller.poll(&mut events);
    ///
    /// let first_two: Vec<Token> = events.drain().take(2).collect();
    /// assert_eq!(first_two, [Token::new(0), Token::new(1)]);
    /// assert_eq!(events.as_slice(), &[Token::new(2), Token::new(3)]);
    ///
    /// // The next poll keeps the two left behind in front of what it delivers.
    /// notifier.notify(Token::new(7))?;
    /// poller.poll(&mut events);
    /// assert_eq!(events.as_slice(), &[Token::new(2), Token::new(3), Token::new(7)]);
    /// # Ok::<(), conflux::notify::NotifyError>(())
    /// ```
    pub fn drain(&mut self) -> impl Iterator<Item = Token> + '_ {
        Drain {
            events: self,
            taken: 0,
        }
    }

    /// How many tokens a partial drain left for the next poll to keep (they count toward its
    /// limit); 0 if the next poll starts empty.
    #[inline]
    pub(crate) fn carried_over(&self) -> usize {
        if self.carry_over {
            self.tokens.len()
        } else {
            0
        }
    }

    /// Appends one token; used by the queues while they fill the buffer.
    #[inline]
    pub(crate) fn push(&mut self, token: Token) {
        self.tokens.push(token);
    }

    /// Starts a poll that may deliver up to `limit` tokens: keeps what a partial drain left (in
    /// front) or clears the buffer, and returns how many tokens the poll may still add so that
    /// the buffer ends with at most `limit`.
    #[inline]
    pub(crate) fn start_poll(&mut self, limit: usize) -> usize {
        if self.carry_over {
            self.carry_over = false;
            limit.saturating_sub(self.tokens.len())
        } else {
            self.tokens.clear();
            limit
        }
    }
}

impl<'a> IntoIterator for &'a Events {
    type Item = Token;
    type IntoIter = std::iter::Copied<std::slice::Iter<'a, Token>>;

    /// Same as [`Events::iter`].
    ///
    /// ```
    /// use conflux::notify::{event_queue, Events, Token};
    ///
    /// let (notifier, poller) = event_queue(2);
    /// let mut events = Events::with_capacity(2);
    /// notifier.notify(Token::new(1))?;
    /// poller.poll(&mut events);
    /// for token in &events {
    ///     assert_eq!(token, Token::new(1));
    /// }
    /// # Ok::<(), conflux::notify::NotifyError>(())
    /// ```
    fn into_iter(self) -> Self::IntoIter {
        self.tokens.iter().copied()
    }
}

impl fmt::Debug for Events {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.tokens.iter()).finish()
    }
}

/// The iterator behind [`Events::drain`]: removes on drop exactly the tokens it yielded.
struct Drain<'a> {
    events: &'a mut Events,
    taken: usize,
}

impl Iterator for Drain<'_> {
    type Item = Token;

    #[inline]
    fn next(&mut self) -> Option<Token> {
        let token = self.events.tokens.get(self.taken).copied()?;
        self.taken += 1;
        Some(token)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.events.tokens.len() - self.taken;
        (left, Some(left))
    }
}

impl Drop for Drain<'_> {
    fn drop(&mut self) {
        if self.taken == self.events.tokens.len() {
            self.events.tokens.clear();
            self.events.carry_over = false;
        } else {
            self.events.tokens.drain(..self.taken);
            self.events.carry_over = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(indices: &[usize]) -> Events {
        let mut events = Events::with_capacity(indices.len());
        for &index in indices {
            events.push(Token::new(index));
        }
        events
    }

    #[test]
    fn drain_to_the_end_empties_the_buffer_and_keeps_its_allocation() {
        let mut events = filled(&[1, 2, 3]);
        let capacity = events.capacity();
        let all: Vec<usize> = events.drain().map(Token::index).collect();
        assert_eq!(all, [1, 2, 3]);
        assert!(events.is_empty());
        assert_eq!(events.capacity(), capacity);
    }

    #[test]
    fn drain_stopped_early_keeps_the_rest_in_order() {
        let mut events = filled(&[1, 2, 3, 4]);
        assert_eq!(events.drain().next(), Some(Token::new(1)));
        assert_eq!(
            events.as_slice(),
            &[Token::new(2), Token::new(3), Token::new(4)]
        );
        let mut drain = events.drain();
        assert_eq!(drain.size_hint(), (3, Some(3)));
        drain.next();
        drain.next();
        drop(drain);
        assert_eq!(events.as_slice(), &[Token::new(4)]);
    }

    #[test]
    fn a_drain_never_advanced_removes_nothing() {
        let mut events = filled(&[9]);
        drop(events.drain());
        assert_eq!(events.len(), 1);
    }

    #[test]
    fn a_poll_after_a_partial_drain_keeps_the_rest_and_counts_it_in_the_limit() {
        let mut events = filled(&[1, 2, 3, 4]);
        assert_eq!(events.drain().take(1).count(), 1);
        assert_eq!(events.start_poll(usize::MAX), usize::MAX - 3);
        assert_eq!(events.len(), 3, "carried over, not cleared");
        // Carried once: the poll after it replaces the buffer again (nobody drained it).
        assert_eq!(events.start_poll(2), 2);
        assert!(events.is_empty());
        // A limit smaller than what was carried delivers nothing new and drops nothing.
        let mut events = filled(&[5, 6, 7]);
        drop(events.drain());
        assert_eq!(events.start_poll(2), 0);
        assert_eq!(events.len(), 3);
        // A drain to the end, or an explicit clear, carries nothing.
        let mut events = filled(&[8]);
        events.drain().for_each(drop);
        assert_eq!(events.start_poll(1), 1);
        let mut events = filled(&[9, 10]);
        drop(events.drain());
        events.clear();
        assert_eq!(events.start_poll(1), 1);
    }

    #[test]
    fn debug_lists_the_tokens() {
        assert_eq!(format!("{:?}", filled(&[5])), "[Token(5)]");
    }
}
